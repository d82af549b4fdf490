"""SFT throughput on one GPU: synth's trainer vs TRL SFTTrainer, its defaults and its best settings, same data, same run.

Each trainer runs in its own child process (a crash or an out-of-memory in one leaves the others measured, and
every one starts with an empty GPU):
- model: the Nanbeige4.1-3B shape (LlamaForCausalLM, hidden 2560, intermediate 10240, 32 layers, 20/4
  heads, vocab 166,144, untied), random init, full fine-tune;
- data: `--samples` random-token samples, lengths lognormal (median 1,500, sigma 0.8) clipped to
  [128, --seq-len] (`--long`: uniform in [L/4, L]), split into turns with per-turn loss flags (user/tool
  turns 0, assistant turns 1 with p=0.7); every trainer gets exactly these labels (TRL as -100 masks);
- synth variants (OURS_VARIANTS): `auto` lets `--memory auto` choose; TRL variants (TRL_VARIANTS): its
  defaults (`trl`) and its fastest settings: checkpointing off + flex_attention (`trl_best`), + Liger kernels
  (`trl_liger`), + torch_compile (`trl_compile`).
Reported per trainer: the median over >= 30 timed steps (after warm-up) of real (non-pad) tokens / step time,
its spread (min, p10, p90, max), the median step time, MFU = median tokens/s * (6*N + 12*L*d*S) / 790 TFLOP/s
(N: matmul parameters without the input embedding; S = 4096, or the mean document length with --long), the
ratio to the best TRL setting of the same run, peak GPU memory (max_memory_allocated) and peak RSS.

    python bench/train_throughput.py --out bench_out            # synth vs four TRL settings, ~9 min on an H100
    python bench/train_throughput.py --trainers ours --long --seq-len 131072 --accum 1 --samples 16 --steps 3
    python bench/train_throughput.py --trainers ours --config tiny --device cpu --steps 3 --seq-len 512   # smoke
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
OURS_VARIANTS = {  # tried in order until one runs; `memory` auto lets the trainer pick (trainers/memory.py)
    "auto": {"attention": "varlen", "compile": True, "memory": "auto"},
    "bf16_none": {"attention": "varlen", "compile": True, "memory": "fixed", "master": "bf16", "ac": "none"},
    "bf16_selective": {"attention": "varlen", "compile": True, "memory": "fixed", "master": "bf16", "ac": "selective"},
    "bf16_full": {"attention": "varlen", "compile": True, "memory": "fixed", "master": "bf16", "ac": "full"},
    "fp32_full": {"attention": "varlen", "compile": True, "memory": "fixed", "master": "fp32", "ac": "full"},
    "fp32_none": {"attention": "varlen", "compile": True, "memory": "fixed", "master": "fp32", "ac": "none"},
    "sdpa_eager": {"attention": "sdpa", "compile": False, "memory": "fixed", "master": "fp32", "ac": "full"},
}
TRL_VARIANTS = {  # TRL's defaults, and the fastest settings it offers (measured in the same run)
    "trl": {"gc": True, "attn": "sdpa", "compile": False, "liger": False},
    "trl_best": {"gc": False, "attn": "flex_attention", "compile": False, "liger": False},
    "trl_liger": {"gc": False, "attn": "flex_attention", "compile": False, "liger": True},
    "trl_compile": {"gc": False, "attn": "flex_attention", "compile": True, "liger": False},
}


def make_samples(n: int, vocab: int, seed: int, max_len: int = 8192, long: bool = False):
    """Random-token samples with turn structure and per-turn loss flags (target weights as in render.Sample).
    Lengths lognormal (median 1,500) clipped to [128, max_len]; `long`: uniform in [max_len/4, max_len]."""
    import numpy as np
    from synth.trainers.render import Sample

    rng = np.random.default_rng(seed)
    lengths = np.clip(np.round(np.exp(np.log(1500) + 0.8 * rng.standard_normal(n))), 128, max_len).astype(int)
    if long:
        lengths = rng.integers(max_len // 4, max_len + 1, n)
    out = []
    for length in lengths:
        ids = rng.integers(3, vocab, length).astype(np.int32)
        token_w = np.zeros(length, np.float32)
        pos, turn = min(int(rng.integers(32, 256)), length // 4), 0  # system + user prompt: no loss
        while pos < length:
            span = int(rng.integers(40, 400))
            if turn % 2 == 0 and rng.random() < 0.7:  # assistant turn with loss 1
                token_w[pos:pos + span] = 1.0
            pos, turn = pos + span, turn + 1
        weights = np.zeros(length, np.float32)
        weights[:-1] = token_w[1:]
        out.append(Sample(ids, weights))
    return out


def flops_per_token(cfg: dict, context: float = 4096) -> tuple[float, float]:
    """(6·N + 12·L·d·context, N): N = matmul parameters without the input embedding."""
    d, layers, inter, vocab = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["intermediate_size"], cfg["vocab_size"]
    hd = cfg.get("head_dim") or d // cfg["num_attention_heads"]
    attn = d * hd * (2 * cfg["num_attention_heads"] + 2 * cfg["num_key_value_heads"])
    n = layers * (attn + 3 * d * inter) + d * vocab
    return 6 * n + 12 * layers * d * context, n


def step_stats(marks: list[tuple[float, int]]) -> dict:
    """Median step time and tokens/s over the timed steps, with their spread (min, p10, p90, max)."""
    import numpy as np

    times = np.diff([m[0] for m in marks])
    rates = np.diff([m[1] for m in marks]) / times
    q = np.percentile(rates, [0, 10, 50, 90, 100])
    return {"timed_steps": int(times.size), "median_step_s": round(float(np.median(times)), 4),
            "median_tokens_per_s": round(float(q[2]), 1),
            "spread_tokens_per_s": {"min": round(float(q[0])), "p10": round(float(q[1])), "p90": round(float(q[3])),
                                    "max": round(float(q[4]))}}


def _finish(result: dict, marks: list[tuple[float, int]], cfg: dict, device: str, context: float = 4096) -> dict:
    import torch

    fpt, n = flops_per_token(cfg, context)
    stats = step_stats(marks)
    rate = stats["median_tokens_per_s"]
    tokens, seconds = marks[-1][1] - marks[0][1], marks[-1][0] - marks[0][0]
    result.update(tokens=tokens, seconds=round(seconds, 3), tokens_per_s=rate, matmul_params=n, **stats,
                  mean_tokens_per_s=round(tokens / seconds, 1), flops_per_token=fpt, attention_context=context,
                  mfu=round(rate * fpt / PEAK, 4) if device == "cuda" else None,
                  peak_gpu_gib=round(torch.cuda.max_memory_allocated() / 2**30, 2) if device == "cuda" else None,
                  peak_rss_gib=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2))
    return result


def run_ours(args, cfg: dict, samples) -> dict:
    from functools import partial

    from synth.trainers import data, dist, loop, memory, objectives
    from synth.trainers import model as M
    from synth.trainers.config import TrainConfig

    v = OURS_VARIANTS[args.variant]
    env = dist.setup(args.device)
    if args.cap_gib:  # plan and run inside an 80 GB card's memory on a larger card
        import torch

        torch.cuda.set_per_process_memory_fraction(args.cap_gib * 2**30 / torch.cuda.mem_get_info()[1])
    tc = TrainConfig(data=["bench"], out=tempfile.mkdtemp(), seq_len=args.seq_len, grad_accum=args.accum,
                     steps=args.warmup + args.steps, lr=1e-5, warmup=0, checkpoint_at_end=False, resume=False,
                     memory=v["memory"], master_weights=v.get("master", "fp32"),
                     activation_checkpointing=v.get("ac", "none"), loss_chunk=args.loss_chunk, seed=args.seed)
    plan = memory.resolve(tc, cfg, env.device)
    print("memory plan:", json.dumps(plan), flush=True)
    hf = M.build_hf("sft", None, cfg, args.seed, env.device)
    pm = M.PackedLM(hf, v["attention"] if args.device == "cuda" else "sdpa",
                    M.apply_precision(hf, "bf16" if args.device == "cuda" else "fp32", tc.master_weights))
    M.checkpoint_layers(pm, tc.activation_checkpointing)
    if v["compile"] and args.device == "cuda":
        M.compile_layers(pm)
    prof = Profile(args.warmup, Path(args.result).with_suffix(".profile.txt")) if args.profile else None
    job = loop.TrainJob(cfg=tc, env=env, model=pm, objective=partial(objectives.sft, chunk=tc.loss_chunk), items=samples,
                   samples_of=data.samples_of, norm_of=data.norm_of, pad_id=0, after_step=prof)
    hist = loop.train(job, Path(tc.out))["history"]
    if args.profile:  # optional diagnostics: a failure here is printed, never costs the measurement above
        try:
            print(json.dumps(optimizer_times(pm)), flush=True)
        except Exception as exc:  # noqa: BLE001
            print(f"optimizer timing failed: {exc!r}", flush=True)
    marks, total = [], 0
    for h in hist:
        total += h["tokens"]
        marks.append((h["elapsed_s"], total))
    result = {"trainer": "ours", "variant": args.variant, **v, "memory_plan": plan, "seq_len": args.seq_len,
              "accum": args.accum, "losses": [round(h["loss"], 4) for h in hist]}
    return _finish(result, marks[max(0, args.warmup - 1):], cfg, args.device, args.context)


class Profile:
    """torch.profiler over one optimizer step after warm-up (the step after `after`); writes the top kernels by
    GPU time and the time under each annotated region (optimizer step, loss, autograd nodes) to `path`."""

    def __init__(self, after: int, path: Path):
        self.after, self.path, self.prof = after, path, None

    def __call__(self, step: int) -> None:
        try:
            self._at(step)
        except Exception as exc:  # noqa: BLE001 (diagnostics only: the timed run goes on without a trace)
            print(f"profiler failed: {exc!r}", flush=True)
            self.prof = None

    def _at(self, step: int) -> None:
        import torch

        if step == self.after - 1:
            torch.cuda.synchronize()
            self.prof = torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU,
                                                           torch.profiler.ProfilerActivity.CUDA])
            self.prof.__enter__()
        elif step == self.after and self.prof is not None:
            torch.cuda.synchronize()
            self.prof.__exit__(None, None, None)
            table = self.prof.key_averages().table(sort_by="self_device_time_total", row_limit=40, max_name_column_width=90)
            regions = self.prof.key_averages().table(sort_by="device_time_total", row_limit=25, max_name_column_width=90)
            self.path.write_text(f"top kernels/ops by self GPU time\n{table}\n\nby total GPU time\n{regions}\n")
            print(table, flush=True)
            self.prof = None


def optimizer_times(model) -> dict:
    """Median seconds of one StochasticAdamW step over the model's parameters (random bf16 gradients), fused
    (compiled) vs eager, after one warm-up step each: the optimizer's share of a step, measured alone."""
    import statistics

    import torch
    from synth.trainers.optim import StochasticAdamW

    params = [p for p in model.parameters() if p.requires_grad]
    for p in params:
        p.grad = torch.randn_like(p) * 1e-3
    out = {}
    for fused in (True, False):
        opt = StochasticAdamW(params, lr=1e-6, fused=fused)
        times = []
        for _ in range(4):
            torch.cuda.synchronize()
            t = time.perf_counter()
            opt.step()
            torch.cuda.synchronize()
            times.append(time.perf_counter() - t)
        out["fused_s" if fused else "eager_s"] = round(statistics.median(times[1:]), 4)
        del opt
        torch.cuda.empty_cache()
    return {"optimizer_step": out, "params": sum(p.numel() for p in params)}


def _hf_model(cfg: dict, device: str, attn: str = "sdpa"):
    import torch
    from transformers import AutoConfig, AutoModelForCausalLM

    values = {k: v for k, v in cfg.items() if k not in ("architectures", "torch_dtype", "dtype", "model_type")}
    config = AutoConfig.for_model(cfg["model_type"], **values)
    dtype = torch.bfloat16 if device == "cuda" else torch.float32
    with torch.device(device):
        return AutoModelForCausalLM.from_config(config, dtype=dtype, attn_implementation=attn)


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

    v = TRL_VARIANTS[args.variant]
    clock = _Clock()
    ds = _dataset(samples)
    targs = SFTConfig(output_dir=tempfile.mkdtemp(), max_length=args.seq_len, packing=True,
                      per_device_train_batch_size=1, gradient_accumulation_steps=args.accum,
                      max_steps=args.warmup + args.steps, learning_rate=1e-5, bf16=args.device == "cuda",
                      gradient_checkpointing=v["gc"], torch_compile=v["compile"], use_liger_kernel=v["liger"],
                      logging_steps=1, save_strategy="no", report_to=[], seed=args.seed, use_cpu=args.device == "cpu")
    model = _hf_model(cfg, args.device, v["attn"] if args.device == "cuda" else "sdpa")
    trainer = _timed(SFTTrainer, clock)(model=model, args=targs, train_dataset=ds,
                                        processing_class=_pad_tokenizer(), callbacks=[clock.callback()])
    trainer.train()
    result = {"trainer": "trl", "variant": args.variant, "version": __import__("trl").__version__, "packing": "bfd", **v}
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
    return _finish(result, clock.marks[max(0, args.warmup - 1):], cfg, args.device, args.context)


def child(args) -> None:
    from synth.trainers.config import load_model_config

    cfg = load_model_config(args.config)
    samples = make_samples(args.samples, cfg["vocab_size"], args.seed, args.seq_len, args.long)
    runner = {"ours": run_ours, "trl": run_trl, "hf": run_hf}[args.child.split("_")[0]]
    if args.long:  # MFU's attention term at the mean document length (issue 26)
        args.context = sum(len(s) for s in samples) / len(samples)
    result = runner(args, cfg, samples)
    result["real_tokens_in_data"] = int(sum(len(s) for s in samples))
    Path(args.result).write_text(json.dumps(result), encoding="utf-8")


def spawn(args, name: str, variant: str, out: Path, seconds: float) -> dict:
    tag = f"{name}_{variant}_{args.seq_len}"
    result = out / f"{tag}.json"
    cmd = [sys.executable, __file__, "--child", name, "--variant", variant, "--result", str(result), "--config",
           args.config, "--samples", str(args.samples), "--steps", str(args.steps), "--warmup", str(args.warmup),
           "--device", args.device, "--seed", str(args.seed), "--hf-batch", str(args.hf_batch), "--seq-len",
           str(args.seq_len), "--accum", str(args.accum), "--loss-chunk", str(args.loss_chunk)]
    cmd += ["--long"] if args.long else []
    cmd += ["--cap-gib", str(args.cap_gib)] if args.cap_gib else []
    cmd += ["--profile"] if args.profile and name == "ours" else []
    env = {**os.environ, "PYTORCH_CUDA_ALLOC_CONF": "expandable_segments:True", "PYTHONUNBUFFERED": "1"}
    started = time.time()
    with open(out / f"{tag}.log", "w") as log:
        try:
            code = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, timeout=seconds,
                                  check=False).returncode
        except subprocess.TimeoutExpired:
            code = "timeout"
    if code == 0 and result.exists():
        return json.loads(result.read_text())
    tail = (out / f"{tag}.log").read_text(errors="replace").strip().splitlines()[-3:]
    return {"trainer": name, "variant": variant, "seq_len": args.seq_len,
            "error": f"exit {code} after {time.time() - started:.0f}s: {' | '.join(tail)[-400:]}"}


def matmul_ceiling() -> dict:
    """Measured bf16 matrix-product rate on this card (median of 20, CUDA events, after warm-up), for the 8k-row
    MLP shape of the 3B model ([16384, 2560] x [2560, 10240]) and a square 8192 product: the practical ceiling
    that bounds any trainer's MFU on this card, beside the nominal 790 TFLOP/s."""
    import torch
    from triton.testing import do_bench

    out = {"device": torch.cuda.get_device_name()}
    for name, (m, k, n) in {"mlp_16384x2560x10240": (16384, 2560, 10240), "square_8192": (8192, 8192, 8192)}.items():
        a = torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
        b = torch.randn(k, n, device="cuda", dtype=torch.bfloat16)
        ms = do_bench(lambda a=a, b=b: a @ b, warmup=100, rep=400, return_mode="median")
        out[name + "_tflops"] = round(2 * m * k * n / ms / 1e9, 1)
    return out


def plan_runs(args) -> list[tuple[str, str]]:
    """(trainer, variant) in run order: ours tries its variants until one runs (or all with --all-variants)."""
    runs = []
    for name in args.trainers.split(","):
        if name == "ours":
            runs += [("ours", v) for v in args.variants.split(",")]
        else:
            runs.append(("trl" if name.startswith("trl") else name, name))
    return runs


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out", default="bench_out")
    p.add_argument("--trainers", default="ours,trl_best,trl_liger,trl_compile,trl")
    p.add_argument("--config", default="nanbeige4.1-3b")
    p.add_argument("--samples", type=int, default=3000)
    p.add_argument("--steps", type=int, default=30, help="timed optimizer steps")
    p.add_argument("--warmup", type=int, default=4, help="untimed first steps (compilation, allocator warm-up)")
    p.add_argument("--seq-len", type=int, default=8192, help="packed row length (TRL: max_length)")
    p.add_argument("--accum", type=int, default=2, help="rows per optimizer step")
    p.add_argument("--loss-chunk", type=int, default=4096)
    p.add_argument("--long", action="store_true", help="documents of seq_len/4..seq_len tokens (long-context table)")
    p.add_argument("--context", type=float, default=4096, help="attention context in FLOPs/token (--long: mean length)")
    p.add_argument("--profile", action="store_true", help="ours: torch profiler over the first timed step, and the "
                   "optimizer step timed alone (fused vs eager); trace summary beside the result json")
    p.add_argument("--ceiling", action="store_true", help="first measure the card's bf16 matmul rate")
    p.add_argument("--cap-gib", type=float, default=0, help="ours: cap this process's GPU memory (GiB), e.g. 78.7 to "
                   "plan and run as on an H100 80GB when the run gets an H200")
    p.add_argument("--device", default="cuda")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--hf-batch", type=int, default=4)
    p.add_argument("--variants", default="auto,fp32_full", help="ours: try in order until one runs")
    p.add_argument("--all-variants", action="store_true", help="ours: measure every listed variant")
    p.add_argument("--budget", type=int, default=540, help="seconds for all children together")
    p.add_argument("--child")
    p.add_argument("--variant", default="auto")
    p.add_argument("--result")
    args = p.parse_args()
    if args.child:
        return child(args)
    if args.ceiling:
        print(json.dumps(matmul_ceiling()), flush=True)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    results, deadline, ours_ok = [], time.time() + args.budget, False
    for name, variant in plan_runs(args):
        if name == "ours" and ours_ok and not args.all_variants:
            continue
        left = deadline - time.time()
        if left < 30:
            results.append({"trainer": name, "variant": variant, "error": "not run: bench budget spent"})
            continue
        results.append(spawn(args, name, variant, out, left))
        ours_ok |= name == "ours" and "error" not in results[-1]
        print(json.dumps({k: v for k, v in results[-1].items() if k != "losses"}), flush=True)
    (out / "results.json").write_text(json.dumps(results, indent=1), encoding="utf-8")
    report(results)


def report(results: list[dict]) -> None:
    trl = [r["tokens_per_s"] for r in results if r.get("trainer") == "trl" and "tokens_per_s" in r]
    base = max(trl) if trl else None
    print(f"\n{'trainer':<22}{'median tok/s':>13}{'p10-p90':>16}{'step s':>8}{'MFU':>7}{'vs best TRL':>12}"
          f"{'peak GiB':>10}")
    for r in results:
        name = r["trainer"] + (f":{r['variant']}" if r.get("variant") else "")
        if "error" in r:
            print(f"{name:<22}  failed: {r['error'][:160]}")
            continue
        sp = r["spread_tokens_per_s"]
        ratio = f"{r['tokens_per_s'] / base:.2f}x" if base else "-"
        mfu = f"{100 * r['mfu']:.1f}%" if r.get("mfu") is not None else "-"
        print(f"{name:<22}{r['tokens_per_s']:>13.0f}{sp['p10']:>8}-{sp['p90']:<7}{r['median_step_s']:>8.3f}{mfu:>7}"
              f"{ratio:>12}{r.get('peak_gpu_gib')!s:>10}")


if __name__ == "__main__":
    main()
