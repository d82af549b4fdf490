"""`synth inspect DIR` in the terminal: rich tables of the statistics that synth.report.collect computed."""

from __future__ import annotations

from typing import Any

from rich import box
from rich.columns import Columns
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from synth.report import fmt
from synth.report.samples_term import render_sample

TOP = 12  # rows per count table; the rest is summed into one line


def render(report: dict[str, Any], console: Console, max_chars: int = 600) -> None:
    console.print(_header(report))
    for warning in report.get("warnings", []):
        console.print(f"[yellow]warning:[/yellow] {warning}")
    if report["rejects"]["total"]:
        console.print(_rejects(report["rejects"]))
    metrics = report.get("metrics", [])
    numeric = [m for m in metrics if m["type"] == "numeric"]
    if numeric:
        console.print(_numeric(numeric))
    tables = [_categorical(m) for m in metrics if m["type"] == "categorical"]
    tables += [_matrix(m) for m in metrics if m["type"] == "matrix"]
    if tables:
        console.print(Columns(tables, padding=(0, 2)))
    if report.get("training"):
        console.print(_training(report["training"]))
    stats = (report.get("manifest") or {}).get("stats")
    if stats:
        console.print(_stats(stats))
    for record in report.get("samples", []):
        console.print(render_sample(report["kind"], record, max_chars))
    for reject in report["rejects"].get("samples", []):
        console.print(_reject_sample(reject, max_chars))


def _header(report: dict) -> Panel:
    m = report.get("manifest") or {}
    counts = m.get("counts") or {}
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column()
    rows = [("kind", report["kind"]), ("command", m.get("command")), ("status", m.get("status")),
            ("records", fmt.number(report["records"])), ("input", fmt.number(counts.get("input"))),
            ("rejected", fmt.number(report["rejects"]["total"])),
            ("seconds", fmt.number((m.get("timings") or {}).get("seconds"))),
            ("tokens", ", ".join(f"{k}={fmt.number(v)}" for k, v in (m.get("tokens") or {}).items()) or None),
            ("config hash", (m.get("config_hash") or "")[:16] or None)]
    for key, value in rows:
        if value not in (None, "-", ""):
            grid.add_row(key, str(value))
    return Panel(grid, title=f"[bold]synth inspect[/bold] {report['target']}", border_style="cyan", expand=False)


def _rejects(rejects: dict) -> Table:
    table = Table(title=f"rejects by reason ({rejects['source']})", box=box.SIMPLE_HEAD, title_justify="left")
    for name, justify in (("reason", "left"), ("count", "right"), ("share", "right"), ("", "left")):
        table.add_column(name, justify=justify)
    total, by_reason = rejects["total"], rejects["by_reason"]
    top = max(by_reason.values(), default=0)
    for reason, count in by_reason.items():
        table.add_row(reason, fmt.number(count), fmt.share(count, total), Text(fmt.bar(count, top), style="red"))
    if len(rejects.get("by_step") or {}) > 1:
        table.caption = "by step: " + ", ".join(f"{k}={v}" for k, v in rejects["by_step"].items())
    return table


def _numeric(metrics: list[dict]) -> Table:
    table = Table(title="distributions", box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("metric")
    table.add_column("per", style="dim")
    for name in ("n", "mean", "min", "p50", "p90", "max"):
        table.add_column(name, justify="right")
    table.add_column("histogram (min → max)", no_wrap=True)
    for m in metrics:
        counts = [c for _, _, c in fmt.dense_bins(m["histogram"])]
        table.add_row(m["title"], m["per"], fmt.number(m["n"]), fmt.number(m["mean"]), fmt.number(m["min"]),
                      fmt.number(m["p50"]), fmt.number(m["p90"]), fmt.number(m["max"]),
                      Text(fmt.sparkline(counts, 24), style="cyan"))
    return table


def _categorical(m: dict) -> Table:
    table = Table(title=f"{m['title']} [dim](per {m['per']})[/dim]", box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("value")
    table.add_column("count", justify="right")
    table.add_column("share", justify="right")
    table.add_column("")
    items = list(m["counts"].items())
    top = max((c for _, c in items), default=0)
    for value, count in items[:TOP]:
        table.add_row(value, fmt.number(count), fmt.share(count, m["n"]), Text(fmt.bar(count, top, 16), style="green"))
    rest = sum(c for _, c in items[TOP:]) + m.get("other", 0)
    if rest:
        table.add_row(f"[dim]… {len(items) - TOP + (1 if m.get('other') else 0)} more[/dim]", fmt.number(rest),
                      fmt.share(rest, m["n"]), "")
    return table


def _matrix(m: dict) -> Table:
    table = Table(title=f"{m['title']} [dim](per {m['per']})[/dim]", box=box.SIMPLE_HEAD, title_justify="left")
    table.add_column("")
    for col in m["columns"][:TOP]:
        table.add_column(col, justify="right")
    for row, cells in m["rows"].items():
        table.add_row(row, *[fmt.number(cells.get(col, 0)) if cells.get(col) else "[dim]·[/dim]" for col in m["columns"][:TOP]])
    return table


def _training(training: dict) -> Table:
    table = Table(title="training curves (train_log.jsonl)", box=box.SIMPLE_HEAD, title_justify="left")
    for name, justify in (("curve", "left"), ("first", "right"), ("last", "right"), ("min", "right"),
                          ("max", "right"), ("over steps", "left")):
        table.add_column(name, justify=justify)
    summary = training["summary"]
    for name, points in training["curves"].items():
        s = summary.get(name, {})
        table.add_row(name, fmt.number(s.get("first")), fmt.number(s.get("last")), fmt.number(s.get("min")),
                      fmt.number(s.get("max")), Text(fmt.sparkline([v for _, v in points], 40), style="magenta"))
    notes = [f"steps={fmt.number(summary.get('steps'))}", f"elapsed={fmt.number(summary.get('elapsed_s'))}s"]
    if summary.get("steady_tokens_per_s"):
        notes.append(f"steady tokens/s={fmt.number(summary['steady_tokens_per_s'])}")
    if training.get("malformed_lines"):
        notes.append(f"[yellow]{training['malformed_lines']} malformed line(s) skipped[/yellow]")
    table.caption = "  ".join(notes)
    return table


def _stats(stats: dict) -> Table:
    table = Table(title="manifest stats", box=box.SIMPLE_HEAD, title_justify="left", show_header=False)
    table.add_column("key", style="bold")
    table.add_column("value")
    rows = fmt.flatten(stats)
    for key, value in rows[:40]:
        table.add_row(key, fmt.number(value) if isinstance(value, (int, float)) else fmt.clip(value, 100))
    if len(rows) > 40:
        table.add_row("[dim]…[/dim]", f"[dim]{len(rows) - 40} more (see manifest.json)[/dim]")
    return table


def _reject_sample(reject: dict, max_chars: int) -> Panel:
    body = [Text(f"{reject.get('reason')}  step: {reject.get('step')}", style="bold red")]
    if reject.get("detail"):
        body.append(Text(fmt.clip(reject["detail"], max_chars)))
    if reject.get("raw"):
        body.append(Text(fmt.clip(reject["raw"], max_chars), style="dim"))
    return Panel(Group(*body), title=f"reject {reject.get('id')}", border_style="red", expand=False)
