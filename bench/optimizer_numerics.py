"""Numerics of the memory settings: fp32 master weights vs bf16 weights (stochastic rounding) vs pure bf16.

Same tiny Llama, same packed rows, same seed; only the weight precision and the rounding of the update differ:
- fp32: fp32 weights + torch AdamW (the reference; what `--master-weights fp32` does, on CPU without autocast);
- bf16_sr: bf16 weights, fp32 AdamW moments, update rounded stochastically (`--master-weights bf16`);
- bf16_nearest: bf16 weights and moments, torch AdamW rounding to nearest ("pure bf16", e.g. TRL with a bf16 model).
Data: documents whose next token is a fixed affine function of the current one (learnable, so the loss falls),
packed into rows with per-token loss. Reports the loss at the end (mean of the last 20 steps), its gap to fp32,
and the relative weight distance to the fp32 run; peak RSS.

    python bench/optimizer_numerics.py --steps 300        # CPU; 900 tiny-model steps in all
    python bench/optimizer_numerics.py --steps 300 --device cuda   # same on a GPU (the bf16_sr update compiled)
"""

from __future__ import annotations

import argparse
import resource

import numpy as np
import torch


def rows(n_rows: int, seq_len: int, vocab: int, seed: int):
    from synth.trainers.packing import build_row
    from synth.trainers.render import Sample

    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_rows):
        samples, used = [], 0
        while used < seq_len - 64:
            length = int(rng.integers(32, min(256, seq_len - used) + 1))
            a, b = int(rng.integers(1, 8)), int(rng.integers(0, vocab))
            ids = (b + a * np.arange(length) + rng.integers(0, 2, length)) % vocab  # noisy affine walk
            weights = np.ones(length, np.float32)
            weights[-1] = 0
            samples.append(Sample(ids.astype(np.int32), weights))
            used += length
        out.append(build_row(samples, seq_len, 0))
    return out


def train(setting: str, args) -> tuple[list[float], torch.Tensor]:
    from synth.trainers import loop, objectives
    from synth.trainers.config import load_model_config
    from synth.trainers.model import PackedLM, build_hf
    from synth.trainers.optim import StochasticAdamW

    cfg = load_model_config("tiny")
    dev = torch.device(args.device)
    hf = build_hf("sft", None, cfg, args.seed, dev)
    if setting != "fp32":
        hf.to(torch.bfloat16)
    model = PackedLM(hf, "sdpa", None)
    params = list(model.parameters())
    kw = {"lr": args.lr, "betas": (0.9, 0.95), "eps": 1e-8, "weight_decay": 0.0}
    opt = StochasticAdamW(params, seed=args.seed, **kw) if setting == "bf16_sr" else torch.optim.AdamW(params, **kw)
    data = rows(args.rows, args.seq_len, cfg["vocab_size"], args.seed)
    losses = []
    for step in range(args.steps):
        row = data[step % len(data)]
        batch = loop.batch_from_row(row, dev, [0], {})
        loss, _ = model(batch, objectives.sft, 1.0 / float((row.weights > 0).sum()))
        loss.backward()
        opt.step()
        opt.zero_grad(set_to_none=True)
        losses.append(float(loss.detach()))
    return losses, torch.cat([p.detach().float().flatten() for p in params]).cpu()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--rows", type=int, default=64)
    p.add_argument("--seq-len", type=int, default=512)
    p.add_argument("--lr", type=float, default=3e-4)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--device", default="cpu")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    results = {s: train(s, args) for s in ("fp32", "bf16_sr", "bf16_nearest")}
    ref_losses, ref_w = results["fp32"]
    print(f"{'setting':<14}{'first loss':>11}{'final loss':>11}{'vs fp32':>9}{'weight dist':>13}")
    for name, (losses, w) in results.items():
        final = float(np.mean(losses[-20:]))
        gap = final / float(np.mean(ref_losses[-20:])) - 1
        dist = float((w - ref_w).norm() / ref_w.norm())
        print(f"{name:<14}{losses[0]:>11.4f}{final:>11.4f}{100 * gap:>8.2f}%{dist:>13.2e}")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")


if __name__ == "__main__":
    main()
