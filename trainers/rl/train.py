"""`synth train --mode grpo` top to bottom: one recipe, on the trainer's model, checkpoint and log machinery.

    for each step:
        [--keep-pass: (re)filter the prompt pool with the current policy]
        prompts   = pool.batch(step)                          (deterministic in seed, pool, step)
        rollouts  = task.rollouts(engine, prompts, G)         (engine = the current policy's weights)
        items     = advantages.build_items(rollouts)          (group-relative, turn credit, masks)
        update    = --grpo-updates optimizer steps over the items (objective.grpo, packed rows)
        engine.sync(policy weights)
        log (train_log.jsonl), rollouts (OUT/rollouts/), checkpoint

Checkpoints are the trainer's (model + optimizer, step); everything else a step needs is a pure function
of (config, data, step, weights) or is on disk (the pool filter), so a resumed run continues exactly.
One device (rollouts and training share it); FSDP/torchrun is not wired for grpo.
"""

from __future__ import annotations

import math
import time
from functools import partial
from pathlib import Path

import numpy as np
import torch
from synth.trainers import checkpoint, data, loop, packing, progress
from synth.trainers import run as base
from synth.trainers.model import PackedLM, build_hf, load_tokenizer, matmul_params, pad_id
from synth.trainers.render import ChatRenderer
from synth.trainers.rl import advantages, engines, objective, selection, tasks
from synth.trainers.rl.options import parse_keep_pass

from synth.errors import UserError
from synth.options import RUNTIME


def _config_hash(cfg, kind: str | None) -> tuple[str, list[dict]]:
    from synth import manifest

    inputs = [{"path": str(p), "hash": manifest.input_hash(Path(p)), "kind": kind} for p in cfg.data]
    shaping = {k: v for k, v in vars(cfg).items() if k not in RUNTIME}
    return manifest.config_hash("train", "grpo", shaping, [i["hash"] for i in inputs]), inputs


def run_grpo(cfg, env, started, t0) -> dict:
    if env.world > 1:
        raise UserError("--mode grpo runs on one device (rollouts and training share it); drop torchrun")
    out = Path(cfg.out)
    tokenizer = load_tokenizer(base.resolve_tokenizer(cfg, out, env), cfg.chat_template)
    try:
        renderer = ChatRenderer(tokenizer, tokenizer.chat_template)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    loaded = tasks.load(cfg, renderer, tokenizer)
    digest, inputs = _config_hash(cfg, loaded.kind)
    base._check_resume(cfg, out, digest)
    (out / ".synth").mkdir(parents=True, exist_ok=True)
    if not loaded.prompts:
        base._write_rejects(env, out, loaded.rejects)
        raise UserError(f"no usable prompts ({len(loaded.rejects)} rejected); see {out}/rejects/")
    model = base.build_model(cfg, env, tokenizer)
    hf_cfg = model.hf.config
    job = loop.TrainJob(cfg=cfg, env=env, model=model, items=[], samples_of=lambda it: [it.sample],
                   norm_of=lambda it: float(it.trained), pad_id=pad_id(tokenizer), config_hash=digest,
                   objective=partial(objective.grpo, clip_eps=cfg.clip_eps, clip_eps_high=cfg.clip_eps_high,
                                     kl_beta=cfg.kl_beta, chunk=cfg.loss_chunk),
                   flops_per_token=6 * matmul_params(model.hf) + 12 * hf_cfg.num_hidden_layers * hf_cfg.hidden_size
                   * cfg.mfu_context)
    optimizer = loop.make_optimizer(job)
    found = checkpoint.latest(out) if cfg.resume else None
    start = checkpoint.load(found, model, optimizer)["step"] if found is not None else 0
    engine = make_engine(cfg, env, model, tokenizer, out)
    pool = selection.Pool(loaded.prompts, cfg.seed, cfg.prompts_per_step, out / ".synth" / "rl_pool")
    try:
        engine.sync(weights(model))
        ref = reference_model(cfg, env, tokenizer) if cfg.kl_beta > 0 else None
        summary = steps(job, optimizer, engine, loaded.task, pool, ref, start, out)
    finally:
        engine.close()
        loaded.task.close()
    rejects = loaded.rejects + pool.rejects()
    base._write_rejects(env, out, rejects)
    checkpoint.export_hf(env, model, tokenizer, out, cfg.save_dtype)
    prepared = data.Prepared(train=pool.active, rejects=rejects, records=loaded.records)
    return base._manifest(cfg, env, out, digest, inputs, prepared, summary, job, started, t0)


def weights(model: PackedLM):
    return ((k, v.detach()) for k, v in model.state_dict().items())


def eos_ids(tokenizer, hf) -> list[int]:
    found = {tokenizer.eos_token_id}
    for source in (hf.config, getattr(hf, "generation_config", None)):
        value = getattr(source, "eos_token_id", None) if source is not None else None
        found.update(value if isinstance(value, list) else [value])
    return sorted(i for i in found if isinstance(i, int))


def make_engine(cfg, env, model: PackedLM, tokenizer, out: Path):
    kind = engines.choose(cfg.rollout_engine)
    sampling = engines.Sampling(cfg.temperature, cfg.top_p)
    eos = eos_ids(tokenizer, model.hf)
    if kind == "hf":
        if cfg.constrain_calls:
            raise UserError("--constrain-calls needs the vllm rollout engine (vllm is not installed here)")
        return engines.HFEngine(model.hf, env.device, eos, pad_id(tokenizer), sampling)
    if not engines.vllm_available():
        raise UserError("--rollout-engine vllm: vllm is not installed here (use --rollout-engine hf)")
    model_dir = cfg.model
    if model_dir is None:  # random init: the engine starts from an export of the initial weights
        model_dir = str(out / ".synth" / "rollout_init")
        checkpoint.export_hf(env, model, tokenizer, Path(model_dir), cfg.precision)
    tokenizer_dir = model_dir if cfg.model is None else cfg.tokenizer or cfg.model  # the export holds one
    return engines.VllmEngine(model_dir, tokenizer_dir,
                              "float32" if cfg.precision == "fp32" else "bfloat16", cfg.seq_len,
                              cfg.rollout_memory, cfg.seed, eos, sampling, eager=env.device.type == "cpu")


def reference_model(cfg, env, tokenizer) -> PackedLM:
    """The frozen starting policy for the KL term (rebuilt from --model, or from the same seed)."""
    from synth.trainers import config as config_mod
    from synth.trainers.attention import resolve_backend

    model_cfg = config_mod.load_model_config(cfg.from_config) if cfg.from_config else None
    hf = build_hf("grpo", cfg.model, model_cfg, cfg.seed, env.device, len(tokenizer), pad_id(tokenizer))
    ref = PackedLM(hf, resolve_backend(cfg.attention, env.device), torch.bfloat16 if cfg.precision == "bf16" else None)
    return ref.eval().requires_grad_(False)


def total_steps(cfg, pool: selection.Pool, engine, task, keep) -> int:
    if keep is not None and not pool.load(0):
        pool.adopt(0, selection.filter_passes(task, engine, pool.all, keep, cfg.seed, 0), keep)
    if cfg.steps is not None:
        return cfg.steps
    return max(1, math.ceil(cfg.epochs * len(pool.active) / cfg.prompts_per_step))


def steps(job: loop.TrainJob, optimizer, engine, task, pool: selection.Pool, ref, start: int, out: Path) -> dict:
    cfg, env = job.cfg, job.env
    keep = parse_keep_pass(cfg.keep_pass) if cfg.keep_pass else None
    total = total_steps(cfg, pool, engine, task, keep)
    pool.restore(start)
    log = progress.track(loop.Log.resumed(out, start, env.main), cfg, out, start, total, env.main)  # bar, metrics
    if keep is not None and start == 0:
        log.write(filter_record(pool))
    history, rows_total, began = [], 0, time.perf_counter()
    for step in range(start, total):
        tick = time.perf_counter()
        if keep is not None and step > 0 and cfg.refilter_every and step % cfg.refilter_every == 0:
            if not pool.load(step):
                pool.adopt(step, selection.filter_passes(task, engine, pool.all, keep, cfg.seed, step), keep)
            log.write(filter_record(pool))
        if not pool.active:
            raise UserError(f"--keep-pass {cfg.keep_pass} kept no prompt at step {step}; see {out}/rejects/")
        groups = task.rollouts(engine, pool.batch(step), cfg.group_size, ("rollout", cfg.seed, step))
        t_roll = time.perf_counter()
        items, traj_adv = advantages.build_items(groups, cfg.scale_rewards, cfg.turn_credit, cfg.mask_truncated,
                                                 keep_zero=cfg.kl_beta > 0)
        lr = loop.schedule(cfg, step, total)
        for group in optimizer.param_groups:
            group["lr"] = lr
        stats, n_rows = update(job, optimizer, items, ref)
        rows_total += n_rows
        t_train = time.perf_counter()
        engine.sync(weights(job.model))
        t_sync = time.perf_counter()
        record = step_record(job, step + 1, lr, groups, items, stats,
                             (tick, t_roll, t_train, t_sync), began)
        history.append(record)
        if (step + 1) % cfg.log_every == 0 or step + 1 == total:
            log.write(record)
        if cfg.save_rollouts and env.main:
            save_rollouts(out, step + 1, groups, traj_adv)
        if cfg.save_every and (step + 1) % cfg.save_every == 0 and step + 1 < total:
            checkpoint.save(env, out, step + 1, job.model, optimizer, job.config_hash)
    if start < total and cfg.checkpoint_at_end:
        checkpoint.save(env, out, total, job.model, optimizer, job.config_hash)
    log.close()
    return {"steps": total, "resumed_from": start, "rows": rows_total, "history": history, "eval": None}


def filter_record(pool: selection.Pool) -> dict:
    """A train_log line for a --keep-pass filter (a dict under one key: not drawn as a curve)."""
    reasons = [r["reason"] for r in pool.rejects()]
    return {"step": pool.since, "keep_pass": {"pool": len(pool.all), "kept": len(pool.active),
                                              "too_easy": reasons.count("too_easy"), "too_hard": reasons.count("too_hard")}}


def minibatches(items: list[advantages.Item], n: int) -> list[list[advantages.Item]]:
    """`n` minibatches of whole groups (a group's advantages were computed together)."""
    groups = sorted({it.group for it in items})
    share = [groups[i::n] for i in range(n)]
    return [b for b in ([it for it in items if it.group in set(part)] for part in share) if b]


def update(job: loop.TrainJob, optimizer, items: list[advantages.Item], ref) -> tuple[dict, int]:
    cfg = job.cfg
    if not items:
        return {"skipped": 1.0}, 0
    if cfg.grpo_updates > 1:  # behaviour log-probs: the policy that sampled the batch, before any update
        fill_logps(job, job.model, items, "old")
    if ref is not None:
        fill_logps(job, ref, items, "ref")
    totals: dict[str, float] = {}
    n_rows = 0
    for batch in minibatches(items, cfg.grpo_updates):
        rows = _rows(job, batch)
        n_rows += len(rows)
        norm = float(sum(it.trained for it in batch))
        stats = loop._run_rows(job, batch, rows, norm, extra_of(batch), backward=True)
        stats["grad_norm"] = loop._clip(job.model, cfg.max_grad_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        for k, v in stats.items():
            totals[k] = totals.get(k, 0.0) + float(v) / cfg.grpo_updates
    return totals, n_rows


def _rows(job: loop.TrainJob, items: list) -> list[list[int]]:
    lengths = np.asarray([len(it.sample) for it in items])
    return packing.first_fit_decreasing(lengths, np.arange(len(items)), job.cfg.seq_len)


def extra_of(items: list[advantages.Item]):
    """Per-token tensors of a row's trained positions, in the row's order (samples in order, positions up)."""
    def pick(it, name):
        return getattr(it, name)[it.sample.weights > 0]

    def extra(idx: list[int], dev: torch.device) -> dict:
        out = {"adv": torch.from_numpy(np.concatenate([pick(items[i], "adv") for i in idx])).to(dev)}
        for name in ("old", "ref"):
            if items[idx[0]].__dict__[name] is not None:
                out[name] = torch.from_numpy(np.concatenate([getattr(items[i], name) for i in idx])).to(dev)
        return out

    return extra


@torch.no_grad()
def fill_logps(job: loop.TrainJob, model: PackedLM, items: list[advantages.Item], name: str) -> None:
    """items[i].<name> = log-probs of item i's trained tokens under `model` (no grad)."""
    was = model.training
    model.eval()
    for idx in _rows(job, items):
        batch = loop.make_batch(job, items, idx, lambda i, d: {})
        lp = model(batch, lambda m, h, b, s: objective.token_logps(m, h, b, job.cfg.loss_chunk), 1.0)
        lp, slot = lp.float().cpu().numpy(), batch.sel_slot.cpu().numpy()
        for j, i in enumerate(idx):
            setattr(items[i], name, lp[slot == j].astype(np.float32))
    model.train(was)


def _mean(values: list[float]) -> float | None:
    return float(np.mean(values)) if values else None


def step_record(job: loop.TrainJob, step: int, lr: float, groups, items, stats: dict, marks: tuple, began: float) -> dict:
    tick, t_roll, t_train, t_sync = marks
    rollouts = [r for g in groups for r in g]
    valid = [r for r in rollouts if r.valid]
    tokens = int(sum(len(it.sample) for it in items))
    generated = sum(r.generated for r in rollouts)
    rate = tokens / max(t_train - t_roll, 1e-9)
    record = {"step": step, "lr": lr, "tokens": tokens, "tokens_per_s": rate, "mfu": loop.mfu(job, rate),
              "elapsed_s": round(t_sync - began, 3), "loss": stats.get("loss"),
              "reward": _mean([float(r.reward["total"]) for r in valid]),
              "pass_rate": _mean([float(r.passed) for r in valid])}
    parts = sorted({k for r in valid for k, v in r.reward.items() if k != "total" and isinstance(v, (int, float))})
    record.update({f"reward_{k}": _mean([float(r.reward[k]) for r in valid if k in r.reward]) for k in parts})
    record.update(completion_len=_mean([r.generated for r in rollouts]), truncated=_mean([float(r.truncated) for r in rollouts]),
                  grad_norm=stats.get("grad_norm"), clip_frac=stats.get("clip_frac"), kl=stats.get("kl"),
                  rollout_s=round(t_roll - tick, 3), train_s=round(t_train - t_roll, 3), sync_s=round(t_sync - t_train, 3),
                  rollout_tokens_per_s=generated / max(t_roll - tick, 1e-9), trained_tokens=int(sum(it.trained for it in items)),
                  groups={"total": len(groups), "trained": len({it.group for it in items}),
                          "invalid_rollouts": len(rollouts) - len(valid)})
    return {k: v for k, v in record.items() if v is not None or k in ("loss", "mfu")}


def save_rollouts(out: Path, step: int, groups, traj_adv) -> None:
    folder = out / "rollouts"
    folder.mkdir(exist_ok=True)
    lines = [tasks.dump(r, step, a) for g, adv in zip(groups, traj_adv) for r, a in zip(g, adv)]
    tmp = folder / f"step_{step:08d}.jsonl.tmp"
    tmp.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    tmp.replace(folder / f"step_{step:08d}.jsonl")
