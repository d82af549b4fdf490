"""`synth inspect DIR [--html FILE]`: look at a dataset before spending GPU hours on it.

Terminal: counts, rejects by reason, the kind's distributions and a few sample records (a trajectory
turn by turn with its loss flags and labels). `--html FILE`: the same as one self-contained page with
SVG plots (and loss/throughput curves for a `synth train` output). `--json`: the statistics.
One streaming pass; memory does not depend on the number of records; same DIR + --seed, same report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from synth import schemas
from synth.cli_common import JsonOut, Seed, synth_command
from synth.errors import UserError


def register(app: typer.Typer) -> None:
    @app.command("inspect")
    @synth_command
    def inspect(
        ctx: typer.Context,
        target: Annotated[Path, typer.Argument(help="A synth dataset or `synth train` output directory, or JSONL/Parquet files.")],
        html: Annotated[Path | None, typer.Option("--html", help="Write one self-contained HTML report with plots here.")] = None,
        kind: Annotated[str | None, typer.Option(help="Record kind of plain files (default: the manifest's, else guessed).")] = None,
        samples: Annotated[int, typer.Option(min=0, help="Sample records to show (drawn uniformly, seeded).")] = 3,
        max_chars: Annotated[int, typer.Option(min=20, help="Clip long texts in samples to this many characters.")] = 600,
        seed: Seed = 0,
        json_out: JsonOut = False,
    ):
        """Counts, rejects by reason, distributions and sample records of a dataset (or --html FILE)."""
        if kind and kind not in (*schemas.kinds(), schemas.GENERIC):
            raise UserError(f"--kind must be one of {', '.join(schemas.kinds())} or generic, got {kind!r}")
        from synth.report.collect import collect

        report = collect(target, kind=kind, samples=samples, seed=seed)
        if html is not None:
            from synth.report.html import write_html

            write_html(report, html, max_chars=max_chars)
            report["html"] = str(html)
        if json_out:
            return report
        if html is not None:
            typer.echo(f"wrote {html} ({report['kind']}, {report['records']} records, "
                       f"{report['rejects']['total']} rejects)")
            return None
        from rich.console import Console

        from synth.report.terminal import render

        render(report, Console(), max_chars=max_chars)
        return None
