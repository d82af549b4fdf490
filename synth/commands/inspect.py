"""`synth inspect DIR [--html FILE]`: look at a dataset before spending GPU hours on it.

Terminal: counts, rejects by reason, the kind's distributions and a few sample records (a trajectory
turn by turn with its loss flags and labels). `--html FILE`: the same as one self-contained page with
SVG plots (and loss/throughput curves for a `synth train` output). `--json`: the statistics.
One streaming pass; memory does not depend on the number of records; same DIR + --seed, same report.
"""

from __future__ import annotations

from pathlib import Path

import typer

from synth import schemas
from synth.cli_common import command
from synth.errors import UserError
from synth.options import Common, flag, options, seed_flag


@options
class InspectOptions(Common):
    target: Path = flag(help="A synth dataset or `synth train` output directory, or JSONL/Parquet files.",
                        argument=True)
    html: Path | None = flag(None, "Write one self-contained HTML report with plots here.", cli=("--html",))
    kind: str | None = flag(None, "Record kind of plain files (default: the manifest's, else guessed).")
    samples: int = flag(3, "Sample records to show (drawn uniformly, seeded).", min=0)
    max_chars: int = flag(600, "Clip long texts in samples to this many characters.", min=20)
    seed: int = seed_flag()


def run(opts: InspectOptions) -> dict | None:
    """Counts, rejects by reason, distributions and sample records of a dataset (or --html FILE)."""
    kind, html = opts.kind, opts.html
    if kind and kind not in (*schemas.kinds(), schemas.GENERIC):
        raise UserError(f"--kind must be one of {', '.join(schemas.kinds())} or generic, got {kind!r}")
    from synth.report.collect import collect

    report = collect(opts.target, kind=kind, samples=opts.samples, seed=opts.seed)
    if html is not None:
        from synth.report.html import write_html

        write_html(report, html, max_chars=opts.max_chars)
        report["html"] = str(html)
    if opts.json_out:
        return report
    if html is not None:
        typer.echo(f"wrote {html} ({report['kind']}, {report['records']} records, "
                   f"{report['rejects']['total']} rejects)")
        return None
    from rich.console import Console

    from synth.report.terminal import render

    render(report, Console(), max_chars=opts.max_chars)
    return None


def register(app: typer.Typer) -> None:
    command(app, "inspect", InspectOptions, run)
