"""One GRPO step's breakdown (rollout vs training vs weight sync) for the Nanbeige4.1-3B shape, random weights.

Runs the real `synth train --mode grpo` step loop (trainers/rl/train.py `steps`) on prompts of random words
with a reward that varies from completion to completion, so every group has a signal (random weights never
emit the end token, so truncated completions are trained here: --mask-truncated false). The H200 image has no
vLLM, so rollouts use the transformers engine (HF generate on a bf16 copy of the policy, synced each step);
on a machine with vLLM pass --engine vllm. Baseline in the same process: the trainer's SFT objective on the
identical packed rows of one rollout batch (same model, optimizer and masks), so the ratio isolates what
the GRPO loss costs over SFT. Reports per step: rollout s (generation + reward), train s, sync s,
generated tokens/s, trained tokens/s, MFU, peak GPU memory (torch.cuda.max_memory_allocated) and RSS.

    python bench/rl_step.py                                         # H200: 3B shape, 16 prompts x 8, 512 new tokens
    python bench/rl_step.py --config tiny --device cpu --prompts 4 --group 4 --new-tokens 16 --prompt-len 32
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m.role }} {{ m.content }}<|im_end|>{% endfor %}"
            "{% if add_generation_prompt %}<|im_start|>assistant{% endif %}")


def reward(record: dict, completion: str) -> float:
    """Share of even-numbered words: varies across completions of random weights (every group has a signal)."""
    words = completion.split()
    return sum(int(w[1:]) % 2 == 0 for w in words if w[1:].isdigit()) / max(1, len(words))


def tokenizer(folder: Path, vocab: int) -> Path:
    """A word-level fast tokenizer with exactly `vocab` entries and a ChatML-like template."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<pad>", "<unk>", "<|im_start|>", "<|im_end|>", "user", "assistant", "system"]
    table = {t: i for i, t in enumerate(specials)}
    table.update({f"w{i}": i for i in range(len(specials), vocab)})
    tok = Tokenizer(models.WordLevel(table, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="<pad>", unk_token="<unk>", eos_token="<|im_end|>",
                                   additional_special_tokens=["<|im_start|>"])
    fast.chat_template = TEMPLATE
    fast.save_pretrained(folder)
    return folder


def prompts(path: Path, n: int, length: int, vocab: int, seed: int) -> Path:
    rng = random.Random(seed)
    rows = [{"id": f"p{i}", "prompt": " ".join(f"w{rng.randrange(8, vocab)}" for _ in range(length))} for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def build(args, folder: Path, out: Path):
    """Config, job, optimizer, engine, task and pool exactly as run_grpo makes them (minus the HF export)."""
    from synth.trainers import dist, loop
    from synth.trainers import run as base
    from synth.trainers.config import TrainConfig, load_model_config, validate
    from synth.trainers.model import load_tokenizer, matmul_params, pad_id
    from synth.trainers.render import ChatRenderer
    from synth.trainers.rl import objective, selection, tasks
    from synth.trainers.rl.train import make_engine

    vocab = load_model_config(args.config)["vocab_size"]
    tok_dir = tokenizer(folder / "tok", vocab)
    folder.mkdir(parents=True, exist_ok=True)
    data = prompts(folder / "prompts.jsonl", args.prompts * args.steps, args.prompt_len, vocab, args.seed)
    cfg = TrainConfig(data=[str(data)], out=str(out), mode="grpo", task="prompts", from_config=args.config,
                      tokenizer=str(tok_dir), reward="rl_step:reward", seq_len=args.seq_len,
                      max_new_tokens=args.new_tokens, group_size=args.group, prompts_per_step=args.prompts,
                      steps=args.steps, lr=1e-6, rollout_engine=args.engine, compile=args.compile,
                      device=args.device, precision="bf16" if args.device == "cuda" else "fp32",
                      save_rollouts=False, checkpoint_at_end=False, resume=False, seed=args.seed,
                      mask_truncated=False)  # random weights never stop: train the cut completions anyway
    validate(cfg)
    env = dist.setup(cfg.device)
    tok = load_tokenizer(str(tok_dir))
    loaded = tasks.load(cfg, ChatRenderer(tok, tok.chat_template), tok)
    model = base.build_model(cfg, env, tok)
    hf_cfg = model.hf.config
    job = loop.TrainJob(cfg=cfg, env=env, model=model, items=[], samples_of=lambda it: [it.sample],
                   norm_of=lambda it: float(it.trained), pad_id=pad_id(tok),
                   objective=partial(objective.grpo, chunk=cfg.loss_chunk),
                   flops_per_token=6 * matmul_params(model.hf) + 12 * hf_cfg.num_hidden_layers * hf_cfg.hidden_size * 4096)
    optimizer = loop.make_optimizer(job)
    Path(cfg.out).mkdir(parents=True, exist_ok=True)
    engine = make_engine(cfg, env, model, tok, Path(cfg.out))
    pool = selection.Pool(loaded.prompts, cfg.seed, cfg.prompts_per_step, Path(cfg.out) / ".synth" / "rl_pool")
    return cfg, env, job, optimizer, engine, loaded.task, pool


def timed_update(job, optimizer, items, objective_fn, device: str) -> float:
    import torch
    from synth.trainers.rl.train import update

    job.objective = objective_fn
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    update(job, optimizer, items, None)
    if device == "cuda":
        torch.cuda.synchronize()
    return time.perf_counter() - start


def baseline(job, optimizer, engine, task, pool, args) -> dict:
    """GRPO vs SFT objective on the same rows of one fresh rollout batch (2 repeats each, alternating)."""
    from synth.trainers import objectives
    from synth.trainers.rl import advantages, objective

    groups = task.rollouts(engine, pool.batch(0), args.group, ("bench", args.seed))
    items, _ = advantages.build_items(groups, True, 0.0, False)
    grpo_fn = partial(objective.grpo, chunk=job.cfg.loss_chunk)
    sft_fn = partial(objectives.sft, chunk=job.cfg.loss_chunk)
    times = {"grpo": [], "sft": []}
    for _ in range(2):
        times["grpo"].append(timed_update(job, optimizer, items, grpo_fn, args.device))
        times["sft"].append(timed_update(job, optimizer, items, sft_fn, args.device))
    tokens = sum(len(it.sample) for it in items)
    best = {k: min(v) for k, v in times.items()}
    return {"rows_tokens": tokens, "grpo_update_s": round(best["grpo"], 3), "sft_update_s": round(best["sft"], 3),
            "grpo_over_sft": round(best["grpo"] / best["sft"], 3),
            "grpo_tokens_per_s": round(tokens / best["grpo"], 1), "sft_tokens_per_s": round(tokens / best["sft"], 1)}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", default="nanbeige4.1-3b")
    p.add_argument("--device", default="cuda")
    p.add_argument("--engine", default="hf")
    p.add_argument("--prompts", type=int, default=16)
    p.add_argument("--group", type=int, default=8)
    p.add_argument("--prompt-len", type=int, default=256)
    p.add_argument("--new-tokens", type=int, default=512)
    p.add_argument("--seq-len", type=int, default=8192)
    p.add_argument("--steps", type=int, default=3, help="GRPO steps (the first includes warm-up)")
    p.add_argument("--compile", type=lambda s: s.lower() == "true", default=False)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", default=None, help="write results.json here")
    args = p.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))  # the reward is `rl_step:reward`
    import torch
    from synth.trainers.rl.train import steps

    with tempfile.TemporaryDirectory() as tmp:
        # with --out, the run's train_log.jsonl lands in OUT/run (kept even if the bench is killed)
        cfg, _env, job, optimizer, engine, task, pool = build(args, Path(tmp), Path(args.out or tmp) / "run")
        started = time.perf_counter()
        summary = steps(job, optimizer, engine, task, pool, None, 0, Path(cfg.out))
        wall = time.perf_counter() - started
        base = baseline(job, optimizer, engine, task, pool, args)
    keys = ("step", "rollout_s", "train_s", "sync_s", "reward", "completion_len", "tokens", "trained_tokens",
            "rollout_tokens_per_s", "tokens_per_s", "mfu", "loss", "grad_norm")
    history = [{k: h.get(k) for k in keys} for h in summary["history"]]
    result = {"config": args.config, "engine": args.engine, "compile": args.compile, "prompts": args.prompts,
              "group": args.group, "prompt_len": args.prompt_len, "new_tokens": args.new_tokens, "wall_s": round(wall, 1),
              "steps": history, "baseline": base,
              "peak_gpu_gib": round(torch.cuda.max_memory_allocated() / 2**30, 2) if args.device == "cuda" else None,
              "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2)}
    print(json.dumps(result, indent=1))
    for h in history:
        total = h["rollout_s"] + h["train_s"] + h["sync_s"]
        print(f"step {h['step']}: rollout {h['rollout_s']:.2f}s ({100 * h['rollout_s'] / total:.0f}%), train "
              f"{h['train_s']:.2f}s, sync {h['sync_s']:.3f}s; generated {h['rollout_tokens_per_s']:.0f} tok/s, "
              f"trained {h['tokens_per_s']:.0f} tok/s")
    print(f"GRPO update / SFT update on the same rows: {base['grpo_over_sft']:.2f}x")
    if args.out:
        (Path(args.out) / "results.json").write_text(json.dumps(result, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
