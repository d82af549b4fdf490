"""Records in, training items out: read, split held-out by id hash, render through the chat template.

Items: sft -> one `Sample` per rendered sequence; dpo/rm -> `Pair(chosen, rejected, margin)`. A record
that cannot be used becomes a reject with a stable reason (too_long, no_loss_tokens, chat_template_error,
chat_template_unsupported); bad input files stop the run with one line (synth.dataset's InputError).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from synth.trainers.render import ChatRenderer, RenderError, Sample

KIND = {"sft": "trajectory", "dpo": "preference_pair", "rm": "preference_pair"}


def read_records(paths: list[str | Path], kind: str) -> Iterator[tuple[str, int, dict]]:
    """(file, row, record) for every input record, schema-checked (the one place that touches synth.dataset)."""
    from synth.dataset import iter_rows

    for row in iter_rows(paths, kind):
        yield row.path, row.row, row.record


@dataclass
class Pair:
    chosen: Sample
    rejected: Sample
    margin: float = 0.0

    @property
    def samples(self) -> list[Sample]:
        return [self.chosen, self.rejected]


@dataclass
class Prepared:
    train: list = field(default_factory=list)
    eval: list = field(default_factory=list)
    rejects: list[dict] = field(default_factory=list)
    records: int = 0
    truncated: int = 0  # records with a sequence cut to --seq-len (--truncate); never silent


def is_eval(record_id: str, fraction: float) -> bool:
    """Stable held-out choice: the id's hash, independent of seed and input order."""
    if fraction <= 0:
        return False
    digest = hashlib.blake2b(record_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64 < fraction


def render_record(renderer: ChatRenderer, mode: str, record: dict, max_len: int, truncate: bool = False) -> list:
    if mode == "sft":
        return renderer.sft(record, max_len, truncate)
    tools = record.get("tools")
    chosen = renderer.response(record["prompt"], record["chosen"], tools, max_len)
    rejected = renderer.response(record["prompt"], record["rejected"], tools, max_len)
    if len(chosen) + len(rejected) > max_len:
        raise RenderError("too_long", f"chosen + rejected = {len(chosen) + len(rejected)} tokens > --seq-len {max_len}")
    return [Pair(chosen, rejected, float(record.get("margin") or 0.0))]


_worker: dict[str, Any] = {}
BATCH = 1024  # records in flight at once: memory holds the rendered tokens, never the whole input


def _init_worker(tokenizer_path: str, template: str | None) -> None:
    from synth.trainers.model import load_tokenizer

    _worker["renderer"] = ChatRenderer(load_tokenizer(tokenizer_path), template)


def _render_task(task: tuple) -> tuple:
    return _render_one(_worker["renderer"], *task)


def _render_one(renderer: ChatRenderer, mode: str, where: str, record: dict, max_len: int,
                truncate: bool = False) -> tuple:
    """(record id, where, items or None, (reason, detail) or None)."""
    rid = str(record.get("id"))
    try:
        return rid, where, render_record(renderer, mode, record, max_len, truncate), None
    except RenderError as err:
        return rid, where, None, (err.reason, err.detail)


def prepare(cfg: Any, renderer: ChatRenderer, tokenizer_path: str) -> Prepared:
    """Read every input, render it (in `cfg.workers` processes when > 1) and split train / eval."""
    prepared = Prepared()
    truncate = bool(getattr(cfg, "truncate", False))
    tasks = ((cfg.mode, f"{path}:{row}", rec, cfg.seq_len, truncate) for path, row, rec in read_records(cfg.data, KIND[cfg.mode]))
    pool = ProcessPoolExecutor(cfg.workers, initializer=_init_worker,
                               initargs=(tokenizer_path, renderer.template)) if cfg.workers > 1 else None
    try:
        while batch := list(islice(tasks, BATCH)):
            results = pool.map(_render_task, batch, chunksize=32) if pool else (
                _render_one(renderer, *task) for task in batch)
            for result in results:
                _collect(prepared, cfg.eval_fraction, *result)
    finally:
        if pool:
            pool.shutdown()
    return prepared


def _collect(prepared: Prepared, eval_fraction: float, rid: str, where: str, items: list | None,
             error: tuple[str, str] | None) -> None:
    prepared.records += 1
    if error:
        prepared.rejects.append({"id": rid, "reason": error[0], "detail": f"{where}: {error[1]}", "step": "train.render"})
    else:
        (prepared.eval if is_eval(rid, eval_fraction) else prepared.train).extend(items)
        prepared.truncated += any(getattr(it, "truncated", False) for it in items)


def samples_of(item: Any) -> list[Sample]:
    return item.samples if isinstance(item, Pair) else [item]


def norm_of(item: Any) -> float:
    """sft: supervised target positions; pairs: one pair."""
    return 1.0 if isinstance(item, Pair) else float((item.weights > 0).sum())
