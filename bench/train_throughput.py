"""SFT throughput on one GPU: synth's trainer vs TRL SFTTrainer (packing) vs transformers Trainer (pad to longest).

Same model and data for every trainer, in one run (each trainer in its own child process, so a crash or an
out-of-memory in one leaves the others measured and every one starts with an empty GPU):
- model: the Nanbeige4.1-3B shape (LlamaForCausalLM, hidden 2560, intermediate 10240, 32 layers, 20/4
  heads, vocab 166,144, untied), random init, bf16 full fine-tune;
- data: `--samples` random-token samples, lengths lognormal (median 1,500, sigma 0.8) clipped to
  [128, 8192], split into turns with per-turn loss flags (user/tool turns 0, assistant turns 1 with p=0.7);
  every trainer gets exactly these labels (TRL/Trainer as -100 masks).
Reported: real (non-pad) tokens/s over the timed steps, MFU on real tokens with
FLOPs/token = 6*N + 12*L*d*4096 (N: matmul parameters without the input embedding) over a 790 TFLOP/s
bf16 ceiling, the ratio to TRL, and peak GPU memory (torch.cuda.max_memory_allocated) and RSS.

    python bench/train_throughput.py --out bench_out            # all three, H200
    python bench/train_throughput.py --trainers ours --config tiny --device cpu --steps 3   # smoke test
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PEAK = 790e12
OURS_VARIANTS = {  # tried in order until one runs; the first is the default configuration
    "varlen": {"attention": "varlen", "compile": True, "ac": "none", "seq_len": 8192, "accum": 4},
    "varlen_ac8": {"attention": "varlen", "compile": True, "ac": "8", "seq_len": 8192, "accum": 4},
    "varlen_eager": {"attention": "varlen", "compile": False, "ac": "none", "seq_len": 8192, "accum": 4},
    "flex": {"attention": "flex", "compile": True, "ac": "none", "seq_len": 8192, "accum": 4},
    "sdpa_eager": {"attention": "sdpa", "compile": False, "ac": "full", "seq_len": 8192, "accum": 4},
}


def make_samples(n: int, vocab: int, seed: int, max_len: int = 8192):
    """Random-token samples with turn structure and per-turn loss flags (target weights as in render.Sample)."""
    import numpy as np
    from synth.trainers.render import Sample

    rng = np.random.default_rng(seed)
    lengths = np.clip(np.round(np.exp(np.log(1500) + 0.8 * rng.standard_normal(n))), 128, max_len).astype(int)
    out = []
    for length in lengths:
        ids = rng.integers(3, vocab, length).astype(np.int32)
        token_w = np.zeros(length, np.float32)
        pos, turn = int(rng.integers(32, 256)), 0  # system + user prompt: no loss
        while pos < length:
            span = int(rng.integers(40, 400))
            if turn % 2 == 0 and rng.random() < 0.7:  # assistant turn with loss 1
                token_w[pos:pos + span] = 1.0
            pos, turn = pos + span, turn + 1
        weights = np.zeros(length, np.float32)
        weights[:-1] = token_w[1:]
        out.append(Sample(ids, weights))
    return out


def flops_per_token(cfg: dict) -> tuple[float, float]:
    d, layers, inter, vocab = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["intermediate_size"], cfg["vocab_size"]
    hd = cfg.get("head_dim") or d // cfg["num_attention_heads"]
    attn = d * hd * (2 * cfg["num_attention_heads"] + 2 * cfg["num_key_value_heads"])
    n = layers * (attn + 3 * d * inter) + d * vocab
    return 6 * n + 12 * layers * d * 4096, n


def _finish(result: dict, tokens: int, seconds: float, cfg: dict, device: str) -> dict:
    import torch

    fpt, n = flops_per_token(cfg)
    rate = tokens / seconds if seconds > 0 else 0.0
    result.update(tokens=tokens, seconds=round(seconds, 3), tokens_per_s=round(rate, 1), matmul_params=n,
                  mfu=round(rate * fpt / PEAK, 4) if device == "cuda" else None,
                  peak_gpu_gib=round(torch.cuda.max_memory_allocated() / 2**30, 2) if device == "cuda" else None,
                  peak_rss_gib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2))
    return result


def run_ours(args, cfg: dict, samples) -> dict:
    from functools import partial

    import torch
    from synth.trainers import data, dist, loop, objectives
    from synth.trainers import model as M
    from synth.trainers.config import TrainConfig

    v = OURS_VARIANTS[args.variant]
    env = dist.setup(args.device)
    hf = M.build_hf("sft", None, cfg, args.seed, env.device)
    pm = M.PackedLM(hf, v["attention"] if args.device == "cuda" else "sdpa",
                    torch.bfloat16 if args.device == "cuda" else None)
    M.checkpoint_layers(pm, v["ac"])
    if v["compile"] and args.device == "cuda":
        M.compile_layers(pm)
    tc = TrainConfig(data=["bench"], out=tempfile.mkdtemp(), seq_len=v["seq_len"], grad_accum=v["accum"],
                     steps=args.warmup + args.steps, lr=1e-5, warmup=0, checkpoint_at_end=False, resume=False)
    job = loop.Job(cfg=tc, env=env, model=pm, objective=partial(objectives.sft, chunk=tc.loss_chunk), items=samples,
                   samples_of=data.samples_of, norm_of=data.norm_of, pad_id=0)
    hist = loop.train(job, Path(tc.out))["history"]
    timed = hist[args.warmup:]
    seconds = hist[-1]["elapsed_s"] - hist[args.warmup - 1]["elapsed_s"] if args.warmup else hist[-1]["elapsed_s"]
    result = {"trainer": "ours", "variant": args.variant, **v, "losses": [round(h["loss"], 4) for h in hist],
              "step_tokens_per_s": [round(h["tokens_per_s"]) for h in hist]}
    return _finish(result, sum(h["tokens"] for h in timed), seconds, cfg, args.device)


def _hf_model(cfg: dict, device: str):
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    values = {k: v for k, v in cfg.items() if k not in ("architectures", "torch_dtype", "dtype", "model_type")}
    config = AutoConfig.for_model(cfg["model_type"], **values)
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    with torch.device(device):
        return AutoModelForCausalLM.from_config(config, dtype=dtype, attn_implementation="sdpa")


def _pad_tokenizer():
    from tokenizers import Tokenizer, models
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.WordLevel({"<pad>": 0, "<eos>": 1, "<unk>": 2}, unk_token="<unk>"))
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>", unk_token="<unk>")


def _labels(sample) -> list[int]:
    """HF label convention: labels[t] = ids[t] when predicting token t carries loss, else -100."""
    ids = sample.ids.tolist()
    return [-100] + [ids[t + 1] if sample.weights[t] > 0 else -100 for t in range(len(ids) - 1)]


class _Clock:
    """Trainer callback + token counter: wall time and real tokens at the end of every optimizer step."""

    def __init__(self):
        self.tokens, self.marks = 0, []

    def count(self, inputs: dict) -> None:
        mask = inputs.get("attention_mask")
        self.tokens += int(mask.sum()) if mask is not None else int(inputs["input_ids"].numel())

    def callback(self):
        import torch
        from transformers import TrainerCallback

        clock = self

        class Cb(TrainerCallback):
            def on_step_end(self, args, state, control, **kw):
                if torch.cuda.is_available():
                    torch.cuda.synchronize()
                clock.marks.append((time.perf_counter(), clock.tokens))

        return Cb()


def _timed(trainer_cls, clock: _Clock):
    class Timed(trainer_cls):
        def training_step(self, model, inputs, *a, **kw):
            clock.count(inputs)
            return super().training_step(model, inputs, *a, **kw)

    return Timed


def _dataset(samples):
    """A datasets.Dataset of input_ids + labels; the fingerprint is given, so the table is never pickled
    for hashing (dill fails on pyarrow's MonthDayNano type under Python 3.12)."""
    import pyarrow as pa
    from datasets import Dataset
    from datasets.table import InMemoryTable

    table = pa.table({"input_ids": [s.ids.tolist() for s in samples], "labels": [_labels(s) for s in samples]})
    return Dataset(InMemoryTable(table), fingerprint=f"bench-{len(samples)}")


def run_trl(args, cfg: dict, samples) -> dict:
    from trl import SFTConfig, SFTTrainer

    clock = _Clock()
    ds = _dataset(samples)
    targs = SFTConfig(output_dir=tempfile.mkdtemp(), max_length=8192, packing=True, per_device_train_batch_size=1,
                      gradient_accumulation_steps=4, max_steps=args.warmup + args.steps, learning_rate=1e-5,
                      bf16=args.device == "cuda", gradient_checkpointing=args.trl_gc, logging_steps=1,
                      save_strategy="no", report_to=[], seed=args.seed, use_cpu=args.device == "cpu")
    trainer = _timed(SFTTrainer, clock)(model=_hf_model(cfg, args.device), args=targs, train_dataset=ds,
                                        processing_class=_pad_tokenizer(), callbacks=[clock.callback()])
    trainer.train()
    result = {"trainer": "trl", "version": __import__("trl").__version__, "packing": "bfd", "gradient_checkpointing": args.trl_gc}
    return _finish_marks(result, clock, args, cfg)


def run_hf(args, cfg: dict, samples) -> dict:
    import torch
    from transformers import Trainer, TrainingArguments

    clock = _Clock()
    ds = _dataset(samples)

    def collate(rows):  # pad to the longest sample of the batch
        n = max(len(r["input_ids"]) for r in rows)
        ids = torch.zeros(len(rows), n, dtype=torch.long)
        labels = torch.full((len(rows), n), -100, dtype=torch.long)
        mask = torch.zeros(len(rows), n, dtype=torch.long)
        for i, r in enumerate(rows):
            k = len(r["input_ids"])
            ids[i, :k], labels[i, :k], mask[i, :k] = torch.tensor(r["input_ids"]), torch.tensor(r["labels"]), 1
        return {"input_ids": ids, "labels": labels, "attention_mask": mask}

    targs = TrainingArguments(output_dir=tempfile.mkdtemp(), per_device_train_batch_size=args.hf_batch,
                              max_steps=args.warmup + args.steps, learning_rate=1e-5, bf16=args.device == "cuda",
                              gradient_checkpointing=True, logging_steps=1, save_strategy="no", report_to=[],
                              remove_unused_columns=False, seed=args.seed, use_cpu=args.device == "cpu")
    trainer = _timed(Trainer, clock)(model=_hf_model(cfg, args.device), args=targs, train_dataset=ds,
                                     data_collator=collate, callbacks=[clock.callback()])
    trainer.train()
    result = {"trainer": "transformers", "padding": "longest", "batch": args.hf_batch, "gradient_checkpointing": True}
    return _finish_marks(result, clock, args, cfg)


def _finish_marks(result: dict, clock: _Clock, args, cfg: dict) -> dict:
    start = clock.marks[args.warmup - 1] if args.warmup else (clock.marks[0][0], 0)
    end = clock.marks[-1]
    return _finish(result, end[1] - start[1], end[0] - start[0], cfg, args.device)


def child(args) -> None:
    from synth.trainers.config import load_model_config

    cfg = load_model_config(args.config)
    samples = make_samples(args.samples, cfg["vocab_size"], args.seed, 8192 if args.config != "tiny" else 512)
    runner = {"ours": run_ours, "trl": run_trl, "hf": run_hf}[args.child]
    result = runner(args, cfg, samples)
    result["real_tokens_in_data"] = int(sum(len(s) for s in samples))
    Path(args.result).write_text(json.dumps(result), encoding="utf-8")


def spawn(args, name: str, extra: list[str], out: Path) -> dict:
    result = out / f"{name}.json"
    cmd = [sys.executable, __file__, "--child", name.split(":")[0], "--result", str(result), "--config", args.config,
           "--samples", str(args.samples), "--steps", str(args.steps), "--warmup", str(args.warmup),
           "--device", args.device, "--seed", str(args.seed), "--hf-batch", str(args.hf_batch), *extra]
    env = {**os.environ, "PYTORCH_CUDA_ALLOC_CONF": "expandable_segments:True", "PYTHONUNBUFFERED": "1"}
    started = time.time()
    with open(out / f"{name.replace(':', '_')}.log", "w") as log:
        try:
            proc = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, timeout=args.child_timeout,
                                  check=False)
            code = proc.returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
    if code == 0 and result.exists():
        return json.loads(result.read_text())
    tail = (out / f"{name.replace(':', '_')}.log").read_text(errors="replace").strip().splitlines()[-3:]
    return {"trainer": name, "error": f"exit {code} after {time.time() - started:.0f}s: {' | '.join(tail)[-400:]}"}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="bench_out")
    p.add_argument("--trainers", default="ours,trl,hf")
    p.add_argument("--config", default="nanbeige4.1-3b")
    p.add_argument("--samples", type=int, default=3000)
    p.add_argument("--steps", type=int, default=8, help="timed optimizer steps")
    p.add_argument("--warmup", type=int, default=3, help="untimed first steps (compilation, allocator warm-up)")
    p.add_argument("--device", default="cuda")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--hf-batch", type=int, default=4)
    p.add_argument("--trl-gc", type=lambda s: s.lower() == "true", default=True)
    p.add_argument("--variants", default="varlen,varlen_ac8,flex,sdpa_eager", help="ours: try in order until one runs")
    p.add_argument("--all-variants", action="store_true", help="ours: measure every listed variant")
    p.add_argument("--child-timeout", type=int, default=420)
    p.add_argument("--child")
    p.add_argument("--variant", default="varlen")
    p.add_argument("--result")
    args = p.parse_args()
    if args.child:
        return child(args)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for name in args.trainers.split(","):
        if name == "ours":
            for variant in args.variants.split(","):
                results.append(spawn(args, f"ours:{variant}", ["--variant", variant], out))
                print(json.dumps(results[-1]), flush=True)
                if "error" not in results[-1] and not args.all_variants:
                    break
        else:
            extra = ["--trl-gc", str(args.trl_gc)] if name == "trl" else []
            results.append(spawn(args, name, extra, out))
            print(json.dumps(results[-1]), flush=True)
    (out / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    report(results)


def report(results: list[dict]) -> None:
    base = next((r["tokens_per_s"] for r in results if r.get("trainer") == "trl" and "tokens_per_s" in r), None)
    print(f"\n{'trainer':<28}{'real tok/s':>12}{'MFU':>8}{'vs TRL':>8}{'peak GPU GiB':>14}")
    for r in results:
        name = r["trainer"] + (f":{r['variant']}" if r.get("variant") else "")
        if "error" in r:
            print(f"{name:<28}  failed: {r['error'][:160]}")
            continue
        ratio = f"{r['tokens_per_s'] / base:.2f}x" if base else "-"
        mfu = f"{100 * r['mfu']:.1f}%" if r.get("mfu") is not None else "-"
        print(f"{name:<28}{r['tokens_per_s']:>12.0f}{mfu:>8}{ratio:>8}{r.get('peak_gpu_gib')!s:>14}")


if __name__ == "__main__":
    main()
