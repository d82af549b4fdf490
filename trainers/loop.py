"""The training loop shared by every mode: plan rows, accumulate, clip, step, log, evaluate, checkpoint.

The packing plan is computed identically on every rank (same data, same seed), so each step's global
normalizer and token count are known without communication; a rank takes every world-th row of a step.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch._dynamo
from synth.trainers import checkpoint, packing, progress
from synth.trainers.dist import Env, all_reduce_sum
from synth.trainers.model import Batch
from synth.trainers.render import Sample


@dataclass
class TrainJob:
    """Everything the loop needs; `samples_of(item)` lists an item's sequences in row order."""

    cfg: Any
    env: Env
    model: Any
    objective: Callable
    items: list
    samples_of: Callable[[Any], list[Sample]]
    norm_of: Callable[[Any], float]
    extra_of: Callable[[list[int], torch.device], dict] = lambda idx, dev: {}
    pad_id: int = 0
    flops_per_token: float = 0.0
    config_hash: str = ""
    eval_items: list = field(default_factory=list)
    eval_extra_of: Callable[[list[int], torch.device], dict] = lambda idx, dev: {}
    after_step: Callable[[int], None] | None = None  # called after each optimizer step (the bench's profiler)


def item_length(job: TrainJob, item: Any) -> int:
    return sum(len(s) for s in job.samples_of(item))


def make_batch(job: TrainJob, items: list, idx: list[int], extra_of: Callable) -> Batch:
    samples = [s for i in idx for s in job.samples_of(items[i])]
    row = packing.build_row(samples, job.cfg.seq_len, job.pad_id)
    cp = getattr(job.model, "cp", None)
    if cp is not None:  # context parallelism: this rank's token slice of the row
        from synth.trainers.context_parallel import slice_row

        row = slice_row(row, cp)
    return batch_from_row(row, job.env.device, list(idx), extra_of(idx, job.env.device))


def data_parallel(job: TrainJob) -> tuple[int, int]:
    """(this rank's data-parallel index, data-parallel size): ranks of one context-parallel group share rows."""
    cp = getattr(job.model, "cp", None)
    size = cp.size if cp is not None else 1
    return job.env.rank // size, job.env.world // size


def batch_from_row(row: packing.Row, dev: torch.device, idx: list[int], extra: dict) -> Batch:
    """Device tensors of one row; only positions with weight > 0 are kept for the loss head."""
    sel = np.flatnonzero(row.weights > 0)

    def put(x: np.ndarray) -> torch.Tensor:
        t = torch.from_numpy(np.ascontiguousarray(x))
        return t.pin_memory().to(dev, non_blocking=True) if dev.type == "cuda" else t

    cu = put(row.cu_seqlens)
    torch._dynamo.maybe_mark_dynamic(cu, 0)  # the segment count varies per row; nothing else does
    return Batch(
        input_ids=put(row.ids)[None], position_ids=put(row.positions)[None], cu_seqlens=cu,
        seq_ids=put(row.seq_ids), sel=put(sel.astype(np.int64)), sel_targets=put(row.targets[sel]),
        sel_weights=put(row.weights[sel]), sel_slot=put(row.seq_ids[sel].astype(np.int64)), last=put(row.last),
        n_samples=int(row.last.shape[0]), n_sel=int(sel.size), real_tokens=row.real_tokens, items=idx, extra=extra)


def schedule(cfg, step: int, total: int) -> float:
    """Linear warmup, then cosine from --lr down to --min-lr-ratio * --lr at the last step."""
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    span = max(1, total - cfg.warmup)
    progress = min(1.0, (step - cfg.warmup) / span)
    floor = cfg.lr * cfg.min_lr_ratio
    return floor + (cfg.lr - floor) * 0.5 * (1 + math.cos(math.pi * progress))


def make_optimizer(job: TrainJob) -> torch.optim.Optimizer:
    params = [p for p in job.model.parameters() if p.requires_grad]
    decay = [p for p in params if p.ndim >= 2]
    rest = [p for p in params if p.ndim < 2]
    groups = [{"params": decay, "weight_decay": job.cfg.weight_decay}, {"params": rest, "weight_decay": 0.0}]
    cfg = job.cfg
    if getattr(cfg, "master_weights", "fp32") == "bf16" or getattr(cfg, "offload_optimizer", False):
        from synth.trainers.optim import StochasticAdamW

        return StochasticAdamW(groups, lr=cfg.lr, betas=tuple(cfg.betas), eps=1e-8, offload=cfg.offload_optimizer,
                               seed=cfg.seed)
    fused = job.env.device.type == "cuda"
    return torch.optim.AdamW(groups, lr=cfg.lr, betas=tuple(cfg.betas), eps=1e-8, fused=fused)


def plan(job: TrainJob) -> tuple[list[list[int]], list[list[int]]]:
    """(rows, steps): rows of item indices; each step lists its rows (all ranks)."""
    cfg = job.cfg
    lengths = [item_length(job, it) for it in job.items]
    per_step = cfg.grad_accum * data_parallel(job)[1]
    epochs = cfg.epochs
    rows = packing.plan_rows(lengths, cfg.seq_len, epochs, cfg.seed)
    if cfg.steps is not None:  # add passes until the requested steps fit
        while len(rows) < cfg.steps * per_step and rows:
            epochs += 1
            rows = packing.plan_rows(lengths, cfg.seq_len, epochs, cfg.seed)
    n_steps = len(rows) // per_step if cfg.steps is None else min(cfg.steps, len(rows) // per_step)
    return rows, [list(range(s * per_step, (s + 1) * per_step)) for s in range(n_steps)]


def _run_rows(job: TrainJob, items: list, rows: list[list[int]], norm: float, extra_of: Callable,
              backward: bool, filler: list[int] | None = None) -> dict[str, torch.Tensor]:
    """Forward (+ backward) over rows; an empty row re-runs `filler` with scale 0 to keep ranks in step."""
    stats: dict[str, torch.Tensor] = {}
    for idx in rows:
        scale = 1.0 / norm if idx else 0.0
        batch = make_batch(job, items, idx or filler, extra_of)
        loss, st = job.model(batch, job.objective, scale)
        if backward:
            # FSDP averages gradients over ranks, but each rank's loss is already a share of the global
            # normalizer: scale up so the reduced gradient is the sum (a world size of 1 leaves it as is).
            (loss * job.env.world).backward()
        for k, v in st.items():
            stats[k] = stats.get(k, 0.0) + v.detach().float()
    return stats


def evaluate(job: TrainJob) -> dict[str, float] | None:
    if not job.eval_items:
        return None
    env = job.env
    lengths = [item_length(job, it) for it in job.eval_items]
    rows = packing.first_fit_decreasing(np.asarray(lengths), np.arange(len(lengths)), job.cfg.seq_len)
    norm = sum(job.norm_of(job.eval_items[i]) for r in rows for i in r)
    dp_rank, dp = data_parallel(job)
    mine = rows[dp_rank::dp]
    mine += [[] for _ in range(math.ceil(len(rows) / dp) - len(mine))]  # same forward count on every rank
    was_training = job.model.training
    job.model.eval()
    with torch.no_grad():
        stats = _run_rows(job, job.eval_items, mine, norm, job.eval_extra_of, backward=False, filler=rows[0])
    job.model.train(was_training)
    return _reduce(env, stats)


def _reduce(env: Env, stats: dict[str, Any]) -> dict[str, float]:
    if not stats:
        return {}
    keys = sorted(stats)
    values = torch.stack([torch.as_tensor(stats[k], dtype=torch.float32, device=env.device) for k in keys])
    values = all_reduce_sum(env, values).tolist()
    return dict(zip(keys, values))


class Log:
    def __init__(self, path: Path, enabled: bool, keep_bytes: int | None = None):
        if enabled and keep_bytes is not None and path.is_file() and path.stat().st_size > keep_bytes:
            # A killed run logged steps after its last checkpoint; this run does them again and logs them.
            with open(path, "r+b") as fh:
                fh.truncate(keep_bytes)
        # open for the whole run (a line per logged step, flushed): not a with-block by design
        self.fh = open(path, "a", encoding="utf-8") if enabled else None  # noqa: SIM115

    @classmethod
    def resumed(cls, out: Path, start: int, enabled: bool) -> Log:
        """OUT/train_log.jsonl cut back to what the checkpoint of step `start` had logged (all of it at 0)."""
        return cls(Path(out) / checkpoint.LOG, enabled, checkpoint.log_bytes(out, start) if enabled else None)

    def write(self, record: dict) -> None:
        if self.fh:
            self.fh.write(json.dumps(record) + "\n")
            self.fh.flush()

    def close(self) -> None:
        if self.fh:
            self.fh.close()


def train(job: TrainJob, out: Path) -> dict[str, Any]:
    cfg, env = job.cfg, job.env
    rows, steps = plan(job)
    if not steps:
        raise ValueError("not enough data for one optimizer step; lower --grad-accum or --batch-tokens")
    optimizer = make_optimizer(job)
    start = 0
    found = checkpoint.latest(out) if cfg.resume else None
    if found is not None:
        start = checkpoint.load(found, job.model, optimizer)["step"]
    log = progress.track(Log.resumed(out, start, env.main), cfg, out, start, len(steps), env.main)  # bar, metrics.jsonl
    lengths = [item_length(job, it) for it in job.items]
    history: list[dict] = []
    job.model.train()
    began = mark = time.perf_counter()
    mark_tokens = tokens = 0
    for step in range(start, len(steps)):
        lr = schedule(cfg, step, len(steps))
        for group in optimizer.param_groups:
            group["lr"] = lr
        step_rows = [rows[r] for r in steps[step]]
        norm = sum(job.norm_of(job.items[i]) for r in step_rows for i in r)
        dp_rank, dp = data_parallel(job)
        stats = _run_rows(job, job.items, step_rows[dp_rank::dp], norm, job.extra_of, backward=True)
        grad_norm = _clip(job.model, cfg.max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if job.after_step is not None:
            job.after_step(step)
        step_tokens = sum(lengths[i] for r in step_rows for i in r)
        tokens += step_tokens
        last = step + 1 == len(steps)
        if (step + 1) % cfg.log_every == 0 or last:
            reduced = _reduce(env, {**stats, "grad_norm": grad_norm / env.world})
            now = time.perf_counter()
            rate = (tokens - mark_tokens) / max(now - mark, 1e-9)
            record = {"step": step + 1, "lr": lr, "tokens": step_tokens, "tokens_per_s": rate,
                      "mfu": mfu(job, rate), "elapsed_s": round(now - began, 3), **reduced}
            mark, mark_tokens = now, tokens
            history.append(record)
            log.write(record)
        if cfg.eval_every and (step + 1) % cfg.eval_every == 0 and not last:
            log.write({"step": step + 1, "eval": evaluate(job)})
        if cfg.save_every and (step + 1) % cfg.save_every == 0 and not last:
            checkpoint.save(env, out, step + 1, job.model, optimizer, job.config_hash)
    final_eval = evaluate(job)
    if final_eval is not None:
        log.write({"step": len(steps), "eval": final_eval})
    if start < len(steps) and cfg.checkpoint_at_end:
        checkpoint.save(env, out, len(steps), job.model, optimizer, job.config_hash)
    log.close()
    return {"steps": len(steps), "resumed_from": start, "rows": len(rows), "history": history, "eval": final_eval}


def _clip(model, max_norm: float) -> torch.Tensor:
    params = [p for p in model.parameters() if p.grad is not None]
    norm = torch.nn.utils.clip_grad_norm_(params, max_norm if max_norm > 0 else float("inf"), foreach=True)
    if hasattr(norm, "full_tensor"):
        norm = norm.full_tensor()
    return norm.detach().float()


def mfu(job: TrainJob, tokens_per_s: float) -> float | None:
    if job.env.device.type != "cuda" or not job.flops_per_token:
        return None
    return tokens_per_s * job.flops_per_token / (job.cfg.peak_tflops * 1e12 * job.env.world)
