"""Aggregate eval_result records: the numbers a user reads first (manifest `stats`, stdout, the e2e table).

Accuracy is the mean over items of `score` (= passed samples / samples), i.e. pass@1 estimated from every
sample, so `--samples 4` gives a less noisy pass@1, not a pass@4. `pass_at_k` (an item passes when any sample
did) is reported beside it when items have more than one sample. Breakdowns group items by a field (tier,
hops, topology, complexity class) and report the same numbers per group.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path


class _Group:
    """Running sums for one group of items (constant memory whatever the number of records)."""

    def __init__(self) -> None:
        self.items = self.samples = self.measured = self.any_pass = 0
        self.score = 0.0
        self.sums: Counter = Counter()   # per-sample metric sums (tool_calls, turns, format, ...)

    def add(self, record: dict, metrics: tuple[str, ...]) -> None:
        samples = record.get("samples") or []
        self.items += 1
        self.samples += len(samples)
        self.score += float(record.get("score") or 0.0)
        self.any_pass += int((record.get("passed") or 0) > 0)
        for sample in samples:
            if sample.get("error"):  # the model was never asked (an outage): it has no tool calls or reward
                continue
            self.measured += 1
            for key in metrics:
                self.sums[key] += float(sample.get(key) or 0)

    def report(self, metrics: tuple[str, ...], multi: bool) -> dict:
        out = {"items": self.items, "accuracy": _round(self.score / self.items) if self.items else None}
        if multi:
            out["pass_at_k"] = _round(self.any_pass / self.items) if self.items else None
        for key in metrics:
            out[f"mean_{key}"] = _round(self.sums[key] / self.measured) if self.measured else None
        return out


def _round(value: float) -> float:
    return round(value, 4)


def _key(value) -> str:
    return "none" if value is None else str(value)


def summarize(records: Iterable[dict], suite: str) -> dict:
    """Overall numbers, sample stops/errors, item failures and per-group breakdowns."""
    metrics = ("tool_calls", "turns") if suite == "deepsearch" else ("format", "correctness", "time", "total")
    groups = ("tier", "hops", "topology") if suite == "deepsearch" else ("category",)
    overall, by = _Group(), {g: defaultdict(_Group) for g in groups}
    stops, failures, errors, most = Counter(), Counter(), Counter(), 0
    for record in records:
        overall.add(record, metrics)
        for g in groups:
            by[g][_key(record.get(g))].add(record, metrics)
        failures[record.get("failure") or "passed"] += 1
        samples = record.get("samples") or []
        most = max(most, len(samples))
        for sample in samples:
            if sample.get("stop"):
                stops[sample["stop"]] += 1
            if sample.get("error"):
                errors[sample["error"]] += 1
    multi = most > 1
    out = overall.report(metrics, multi)
    out["samples"] = overall.samples
    if suite == "code":
        out["pass_at_1"] = out["accuracy"]
    out["failures"] = dict(sorted(failures.items()))
    if stops:
        out["stops"] = dict(sorted(stops.items()))
    if errors:
        out["sample_errors"] = dict(sorted(errors.items()))
    names = {"tier": "by_tier", "hops": "by_hops", "topology": "by_topology", "category": "by_class"}
    for g in groups:
        out[names[g]] = {k: v.report(metrics, multi) for k, v in sorted(by[g].items(), key=lambda kv: _order(kv[0]))}
    return out


def _order(key: str):
    return (0, int(key), "") if key.isdigit() else (1, 0, key)


def deepsearch_stats(out: Path) -> dict:
    """Manifest statistics of `synth eval deepsearch` (streamed over the written records)."""
    from synth.pipelines.labels.apply import iter_output

    return summarize(iter_output(out, "eval_result"), "deepsearch")


def code_stats(out: Path) -> dict:
    """Manifest statistics of `synth eval code`."""
    from synth.pipelines.labels.apply import iter_output

    return summarize(iter_output(out, "eval_result"), "code")


def human(stats: dict) -> dict:
    """The stats flattened for the one-line-per-key table `synth` prints without --json."""
    flat = {}
    for key, value in stats.items():
        if key.startswith("by_") and isinstance(value, dict):
            flat[key] = "; ".join(f"{k}: {_cell(v)}" for k, v in value.items()) or "-"
        else:
            flat[key] = value
    return flat


def _cell(group: dict) -> str:
    acc = group.get("accuracy")
    extra = ", ".join(f"{k.removeprefix('mean_')} {v}" for k, v in group.items()
                      if k.startswith("mean_") and k in ("mean_tool_calls", "mean_turns", "mean_time") and v is not None)
    return f"{acc} of {group['items']}" + (f" ({extra})" if extra else "")
