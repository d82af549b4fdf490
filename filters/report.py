"""What `synth filter` reports: kept/dropped counts by filter step and reason (manifest `stats` and a rich
table), plus the dedup stage's report (methods, index runs matched, ANN index used)."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from synth import state
from synth.dataset import REJECTS


def dropped(out: Path) -> Counter:
    """(step, reason) -> count over rejects/ (only two columns are read)."""
    counts: Counter = Counter()
    for path in sorted((Path(out) / REJECTS).glob("*")):
        if path.name.endswith(".parquet"):
            import pyarrow.parquet as pq

            table = pq.read_table(path, columns=["step", "reason"])
            counts.update(zip(table["step"].to_pylist(), table["reason"].to_pylist()))
        elif path.name.endswith(".jsonl"):
            import orjson

            with open(path, "rb") as fh:
                counts.update((r.get("step"), r.get("reason")) for r in map(orjson.loads, fh))
    return counts


def stats(out: Path, filters: list[str], methods: list[str], decontam: list[str]) -> dict:
    counts = dropped(out)
    by_step: dict[str, dict[str, int]] = {}
    for (step, reason), n in sorted(counts.items()):
        by_step.setdefault(step, {})[reason] = n
    kept = sum(m.get("output", 0) for m in state.all_markers(out))
    found = {"kept": kept, "dropped": sum(counts.values()), "dropped_by_step": by_step, "filters": filters,
             "dedup": methods, "decontam": [Path(p).name for p in decontam]}
    report = state.read_json(Path(out) / ".synth" / "stages" / "decide" / "report.json")
    if report:
        found["dedup_report"] = {k: report[k] for k in ("signed", "kept", "methods", "index_runs", "published")
                                 if k in report}
    return found


def print_table(found: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="synth filter: kept and dropped", show_lines=False)
    for column, justify in (("step", "left"), ("reason", "left"), ("records", "right")):
        table.add_column(column, justify=justify)
    table.add_row("[green]kept[/green]", "", str(found["kept"]))
    for step, reasons in found["dropped_by_step"].items():
        for reason, n in reasons.items():
            table.add_row(step, reason, str(n))
    table.add_row("[bold]total dropped[/bold]", "", f"[bold]{found['dropped']}[/bold]")
    Console().print(table)
