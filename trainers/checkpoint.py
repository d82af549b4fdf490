"""Resumable checkpoints (torch.distributed.checkpoint, sharded under FSDP2) and the final HF export.

A checkpoint is `OUT/checkpoints/step_NNNNNNNN/` with the model + optimizer state and `state.json`
(step, config hash), written last: a folder without it is an interrupted save and is ignored. The data
order is a pure function of (data, seed), so the step number is all the loop needs to continue exactly.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import torch
from synth.trainers.dist import Env, barrier

STATE = "state.json"
LOG = "train_log.jsonl"


def folder(out: Path) -> Path:
    return Path(out) / "checkpoints"


def latest(out: Path) -> Path | None:
    done = sorted(p for p in folder(out).glob("step_*") if (p / STATE).is_file())
    return done[-1] if done else None


def log_bytes(out: Path, start: int) -> int | None:
    """How much of the training log belongs to the steps before `start` (None: unknown, keep it all)."""
    if start == 0:
        return 0
    found = latest(out)
    state = json.loads((found / STATE).read_text(encoding="utf-8")) if found else {}
    return state.get("log_bytes") if state.get("step") == start else None


def save(env: Env, out: Path, step: int, model, optimizer, config_hash: str) -> Path:
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict

    path = folder(out) / f"step_{step:08d}"
    msd, osd = get_state_dict(model, optimizer)
    dcp.save({"model": msd, "optim": osd}, checkpoint_id=str(path))
    barrier(env)
    if env.main:
        # The training log's length goes with the checkpoint: a run killed after it cuts the log back to
        # this length on resume, so the steps it redoes are not logged twice (see loop.Log).
        log = Path(out) / LOG
        state = {"step": step, "config_hash": config_hash, "log_bytes": log.stat().st_size if log.is_file() else 0}
        tmp = path / f".{STATE}.tmp"  # write-then-rename: a kill mid-write must not leave a half state.json
        tmp.write_text(json.dumps(state), encoding="utf-8")
        os.replace(tmp, path / STATE)
        for old in folder(out).glob("step_*"):  # keep only the newest complete checkpoint
            if old != path:
                shutil.rmtree(old, ignore_errors=True)
    barrier(env)
    return path


def load(path: Path, model, optimizer) -> dict:
    import torch.distributed.checkpoint as dcp
    from torch.distributed.checkpoint.state_dict import get_state_dict, set_state_dict

    msd, osd = get_state_dict(model, optimizer)
    state = {"model": msd, "optim": osd}
    dcp.load(state, checkpoint_id=str(path))
    set_state_dict(model, optimizer, model_state_dict=state["model"], optim_state_dict=state["optim"])
    return json.loads((path / STATE).read_text(encoding="utf-8"))


def full_state_dict(env: Env, model) -> dict[str, torch.Tensor]:
    """Unsharded fp32 weights on CPU (rank 0 gets them; others an empty dict under FSDP)."""
    from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

    if env.world > 1:
        opts = StateDictOptions(full_state_dict=True, cpu_offload=True)
        return get_model_state_dict(model, options=opts)
    return {k: v.detach().cpu() for k, v in model.state_dict().items()}


def export_hf(env: Env, model, tokenizer, out: Path, dtype: str) -> None:
    """Write an HF model directory that transformers and vLLM load (weights, config, tokenizer, generation)."""
    from transformers import GenerationConfig

    state = full_state_dict(env, model)
    if not env.main:
        return
    torch_dtype = torch.bfloat16 if dtype == "bf16" else torch.float32
    state = {k: v.to(torch_dtype).contiguous() for k, v in state.items()}
    hf = model.hf
    attn = hf.config._attn_implementation
    hf.config._attn_implementation = "sdpa"  # loaders pick their own kernel; never persist ours
    hf.config.dtype = torch_dtype
    hf.config.use_cache = True
    hf.save_pretrained(out, state_dict=state, safe_serialization=True)
    # save_pretrained writes the dtype of the in-memory model (fp32 master weights), not of `state`: state the
    # dtype the safetensors hold, so transformers loads a bf16 export as bf16.
    hf.config.dtype = torch_dtype
    hf.config.save_pretrained(out)
    hf.config._attn_implementation = attn
    tokenizer.save_pretrained(out)
    eos = [i for i in {tokenizer.eos_token_id, hf.config.eos_token_id} if isinstance(i, int)]
    GenerationConfig(bos_token_id=hf.config.bos_token_id, eos_token_id=sorted(eos) or None,
                     pad_token_id=hf.config.pad_token_id).save_pretrained(out)
