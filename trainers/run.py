"""`synth train` top to bottom: config -> data -> model -> loop -> HF export + manifest.

Run on one device as is, or on N GPUs with `torchrun --nproc-per-node N -m synth.trainers ...`
(FSDP2, one shard group over all ranks).
"""

from __future__ import annotations

import json
import math
import shutil
import sys
import time
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import torch
from synth.trainers import checkpoint, context_parallel, data, dist, loop, memory, objectives
from synth.trainers import config as config_mod
from synth.trainers.model import (
    PackedLM,
    apply_precision,
    build_hf,
    checkpoint_layers,
    compile_layers,
    load_tokenizer,
    matmul_params,
    pad_id,
    shard,
)
from synth.trainers.render import ChatRenderer

from synth.errors import ConfigChangedError, UserError
from synth.options import RUNTIME

# Left out of the config hash: the runtime-only flags of synth.options.RUNTIME. sft/dpo/rm runs keep
# save_rollouts (a grpo flag) in their hash, as they always had, so runs made before the registry still resume.
HASH_EXCLUDED = tuple(sorted(set(RUNTIME) - {"save_rollouts"}))


def _config_hash(cfg) -> tuple[str, list[dict]]:
    from synth import manifest

    inputs = [{"path": str(p), "hash": manifest.input_hash(Path(p)), "kind": data.KIND[cfg.mode]} for p in cfg.data]
    shaping = {k: v for k, v in config_mod.to_dict(cfg).items() if k not in HASH_EXCLUDED}
    return manifest.config_hash("train", cfg.mode, shaping, [i["hash"] for i in inputs]), inputs


def _check_resume(cfg, out: Path, digest: str) -> None:
    found = checkpoint.latest(out) if cfg.resume else None
    if found is None:
        return
    stored = json.loads((found / checkpoint.STATE).read_text(encoding="utf-8")).get("config_hash")
    if stored != digest and not cfg.force:
        raise ConfigChangedError(f"{out}: checkpoints were made with a different config; use --force to resume "
                                 "anyway or choose another --out")


def _objective(cfg, model_dtype_chunk: int):
    if cfg.mode == "sft":
        return partial(objectives.sft, chunk=model_dtype_chunk)
    if cfg.mode == "dpo":
        return partial(objectives.dpo, beta=cfg.dpo_beta, chunk=model_dtype_chunk)
    return objectives.reward


def _pair_extra(items: list, ref: torch.Tensor | None, use_margin: bool):
    margins = torch.tensor([it.margin if use_margin else 0.0 for it in items], dtype=torch.float32)

    def extra(idx: list[int], dev: torch.device) -> dict:
        out = {"margin": margins[idx].to(dev)}
        if ref is not None:
            out["ref"] = ref[idx].to(dev)
        return out

    return extra


def reference_logps(job: loop.TrainJob, items: list) -> torch.Tensor:
    """Sequence log-probs of the starting model for every pair -> [pairs, 2] (the frozen DPO reference)."""
    import numpy as np
    from synth.trainers.packing import first_fit_decreasing

    env = job.env
    table = torch.zeros(len(items), 2, dtype=torch.float32, device=env.device)
    lengths = np.asarray([loop.item_length(job, it) for it in items])
    rows = first_fit_decreasing(lengths, np.arange(len(items)), job.cfg.seq_len)
    mine = rows[env.rank::env.world]
    mine += [[] for _ in range(math.ceil(len(rows) / env.world) - len(mine))]
    seq_fn = partial(objectives.sequence_logps, chunk=job.cfg.loss_chunk)
    job.model.eval()
    with torch.no_grad():
        for idx in mine:
            batch = loop.make_batch(job, items, idx or rows[0], lambda i, d: {})
            seq = job.model(batch, lambda m, h, b, s: seq_fn(m, h, b), 1.0).float()
            if idx:
                table[idx] = seq.view(-1, 2)
    job.model.train()
    return dist.all_reduce_sum(env, table).cpu()


def build_model(cfg, env: dist.Env, tokenizer) -> PackedLM:
    from synth.trainers.attention import resolve_backend

    model_cfg = config_mod.load_model_config(cfg.from_config or cfg.model)
    model_cfg["vocab_size"] = max(model_cfg["vocab_size"], len(tokenizer))
    if cfg.precision == "bf16":  # fp32 training keeps fp32 master weights whatever --memory says
        cfg.memory_plan = memory.resolve(cfg, model_cfg, env.device, shards=env.world,
                                         tokens=cfg.seq_len // cfg.context_parallel)
        if env.main and cfg.memory_plan["mode"] == "auto":
            print(f"synth train: --memory auto chose {cfg.memory_plan['chosen']} (estimate "
                  f"{cfg.memory_plan['estimate_gib']} of {cfg.memory_plan['free_gib']} GiB free)", file=sys.stderr)
    hf = build_hf(cfg.mode, cfg.model, model_cfg if cfg.from_config else None, cfg.seed, env.device, len(tokenizer),
                  pad_id(tokenizer))
    backend = resolve_backend(cfg.attention, env.device)
    model = PackedLM(hf, backend, apply_precision(hf, cfg.precision, cfg.master_weights, env.world))
    checkpoint_layers(model, cfg.activation_checkpointing)
    model.cp = context_parallel.new_groups(env.world, env.rank, cfg.context_parallel)
    if cfg.compile if cfg.compile is not None else env.device.type == "cuda":
        compile_layers(model)
    if env.world > 1:
        shard(model, env.mesh, torch.bfloat16 if cfg.precision == "bf16" and cfg.master_weights == "fp32" else None)
    return model


def run_train(config: Any) -> dict:
    """Train as `config` (a TrainConfig or a dict of its fields) says; returns the manifest dict."""
    cfg = config if isinstance(config, config_mod.TrainConfig) else config_mod.from_dict(dict(config))
    config_mod.validate(cfg)
    started, t0 = datetime.now(UTC), time.perf_counter()
    env = dist.setup(cfg.device)
    try:
        return _run(cfg, env, started, t0)
    finally:
        dist.teardown(env)


def _run(cfg, env: dist.Env, started: datetime, t0: float) -> dict:
    if cfg.mode == "grpo":  # RL: its own step loop on the same model, checkpoint, log and manifest code
        from synth.trainers.rl.train import run_grpo

        return run_grpo(cfg, env, started, t0)
    out = Path(cfg.out)
    digest, inputs = _config_hash(cfg)
    _check_resume(cfg, out, digest)
    (out / ".synth").mkdir(parents=True, exist_ok=True)
    tok_path = resolve_tokenizer(cfg, out, env)
    tokenizer = load_tokenizer(tok_path, cfg.chat_template)
    try:
        renderer = ChatRenderer(tokenizer, tokenizer.chat_template)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    prepared = data.prepare(cfg, renderer, tok_path)
    if not prepared.train:
        raise UserError(f"no usable training records ({len(prepared.rejects)} rejected); see {out}/rejects/")
    if cfg.grad_accum is None:
        rows = env.world // cfg.context_parallel  # rows processed side by side
        cfg.grad_accum = max(1, math.ceil((cfg.batch_tokens or cfg.seq_len * rows) / (cfg.seq_len * rows)))
    model = build_model(cfg, env, tokenizer)
    job = loop.TrainJob(cfg=cfg, env=env, model=model, objective=_objective(cfg, cfg.loss_chunk), items=prepared.train,
                   samples_of=data.samples_of, norm_of=data.norm_of, pad_id=pad_id(tokenizer),
                   flops_per_token=6 * matmul_params(model.hf) + 12 * model.hf.config.num_hidden_layers
                   * model.hf.config.hidden_size * cfg.mfu_context, config_hash=digest, eval_items=prepared.eval)
    if cfg.mode != "sft":
        ref = reference_logps(job, prepared.train) if cfg.mode == "dpo" else None
        eval_ref = reference_logps(job, prepared.eval) if cfg.mode == "dpo" and prepared.eval else None
        job.extra_of = _pair_extra(prepared.train, ref, cfg.use_margin)
        job.eval_extra_of = _pair_extra(prepared.eval, eval_ref, cfg.use_margin)
    _write_rejects(env, out, prepared.rejects)
    summary = loop.train(job, out)
    checkpoint.export_hf(env, model, tokenizer, out, cfg.save_dtype)
    return _manifest(cfg, env, out, digest, inputs, prepared, summary, job, started, t0)


def resolve_tokenizer(cfg, out: Path, env: dist.Env) -> str:
    """--tokenizer, else --model; a random init (--from-config) without either gets a byte-level BPE trained on
    --data (trainers/tokenizer.py), kept in OUT/.synth/tokenizer so a resumed run reuses the same one."""
    if cfg.tokenizer or cfg.model:
        return cfg.tokenizer or cfg.model
    from synth.trainers.tokenizer import tokenizer_from_data

    built = out / ".synth" / "tokenizer"
    if env.main and not (built / "tokenizer.json").is_file():
        staging = out / ".synth" / "tokenizer.tmp"  # renamed into place: a killed build never looks finished
        tokenizer_from_data(cfg.data, staging, seed=cfg.seed)
        shutil.rmtree(built, ignore_errors=True)
        staging.replace(built)
    dist.barrier(env)
    return str(built)


def _write_rejects(env: dist.Env, out: Path, rejects: list[dict]) -> None:
    if env.main and rejects:
        (out / "rejects").mkdir(exist_ok=True)
        with open(out / "rejects" / "rejects.jsonl", "w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(r) + "\n" for r in rejects)


def _manifest(cfg, env, out, digest, inputs, prepared, summary, job, started, t0) -> dict:
    from collections import Counter

    from synth import manifest

    history = summary.pop("history")
    steady = [h for h in history[2:] if h.get("tokens_per_s")] or history
    reasons = Counter(r["reason"] for r in prepared.rejects)
    fields = {
        "synth_version": manifest.synth_version(), "command": "train", "kind": "model", "status": "complete",
        "config": manifest.redact(config_mod.to_dict(cfg)), "config_hash": digest, "inputs": inputs,
        "counts": {"input": prepared.records, "output": len(prepared.train) + len(prepared.eval),
                   "rejected": sum(reasons.values()), "rejected_by_reason": dict(sorted(reasons.items()))},
        "timings": {"started": started.isoformat(), "finished": datetime.now(UTC).isoformat(),
                    "seconds": round(time.perf_counter() - t0, 3)},
        "executor": {"type": "torchrun" if env.world > 1 else "local", "tasks": env.world, "workers": env.world},
        "versions": manifest.versions(),
        "files": sorted(p.name for p in out.iterdir() if p.is_file() and p.name != "manifest.json"),
        "stats": {**summary, "train_items": len(prepared.train), "eval_items": len(prepared.eval),
                  "final": history[-1] if history else None,
                  "tokens_per_s": sum(h["tokens_per_s"] for h in steady) / len(steady) if steady else None,
                  "attention": job.model.backend, "flops_per_token": job.flops_per_token,
                  "parameters": sum(p.numel() for p in job.model.hf.parameters()), "world_size": env.world,
                  "memory": getattr(cfg, "memory_plan", None), "truncated": prepared.truncated},
    }
    return manifest.write_manifest(out, fields) if env.main else fields
