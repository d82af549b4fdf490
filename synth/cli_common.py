"""What every `synth` command shares: common flags, --config merging, exit codes, --json output.

A command is an options class (synth.options) and a `run(options) -> summary` function, registered with
`command(app, NAME, Options, run)`, which derives the Typer signature from the class and
  1. merges `--config FILE` (TOML or YAML; keys are flag names, dashes or underscores) into every
     parameter the user did not pass on the command line (flags win over the file),
  2. maps failures to exit codes: UserError -> its one line on stderr, exit 2; anything else -> one
     line plus where the details are, exit 1 (SYNTH_DEBUG=1 shows the traceback),
  3. prints the returned summary: a short human table, or one JSON object on stdout with --json.
synth.api runs the same `run` on the same options class, without the CLI.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from synth.errors import UserError
from synth.options import ConfigFile  # noqa: F401 - the --config flag (synth train declares it too)


def check_format(fmt: str) -> None:
    """--format of every command that writes a dataset: a plain string flag (so --config files set it
    like any other key), checked before any work starts."""
    if fmt not in ("parquet", "jsonl"):
        raise UserError(f"--format must be parquet or jsonl, got {fmt!r}")


def load_config_file(path: Path) -> dict:
    if not path.is_file():
        raise UserError(f"{path}: --config file not found")
    try:
        text = path.read_text(encoding="utf-8")  # invalid UTF-8 is one line too, like a syntax error
        if path.suffix.lower() == ".toml":
            import tomllib

            data = tomllib.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text) or {}
    except Exception as exc:  # tomllib/yaml raise their own types; the message names the line
        raise UserError(f"{path}: cannot parse config: {exc}".splitlines()[0]) from None
    if not isinstance(data, dict):
        raise UserError(f"{path}: config must be a mapping of flag names to values")
    return {str(k).replace("-", "_"): v for k, v in data.items()}


def _merge_config(ctx: typer.Context, kwargs: dict) -> dict:
    path = kwargs.get("config")
    if not path:
        return kwargs
    values = load_config_file(Path(path))
    params = {p.name: p for p in ctx.command.params}
    unknown = sorted(set(values) - set(params) - {"config"})
    if unknown:
        raise UserError(f"{path}: unknown key(s) for 'synth {ctx.command_path.split(' ', 1)[-1]}': {', '.join(unknown)}")
    merged = dict(kwargs)
    for name, value in values.items():
        source = ctx.get_parameter_source(name)
        if source is not None and source.name in ("COMMANDLINE", "ENVIRONMENT"):
            continue  # flags win
        try:
            merged[name] = params[name].process_value(ctx, value)
        except Exception as exc:  # click's BadParameter and friends
            raise UserError(f"{path}: key '{name}': {exc}") from None
    return merged


def runtime(opts):
    """Where and how to run, from a command's options (synth.options.RunOptions and the budget flags)."""
    from synth.engine import Runtime

    slurm_fields = {"partition": getattr(opts, "slurm_partition", None), "time": getattr(opts, "slurm_time", None)}
    pilot = int(getattr(opts, "pilot", 0) or 0)
    return Runtime(executor=opts.executor, workers=opts.workers, tasks=getattr(opts, "shards", None),
                   force=opts.force, progress=not opts.json_out, ray_address=opts.ray_address,
                   slurm={k: v for k, v in slurm_fields.items() if v},
                   dry_run=bool(getattr(opts, "dry_run", False)) or pilot > 0, pilot=pilot)


@contextmanager
def reading_policy(opts) -> Iterator[None]:
    """--verify/--deep and --kind of this invocation, for every reader (environment: workers are forked)."""
    from synth.dataset import PLAIN_KIND_ENV
    from synth.integrity import ENV

    values = {ENV: "deep" if opts.deep else ("fast" if opts.verify else "off"),
              PLAIN_KIND_ENV: "1" if getattr(opts, "kind", None) else None}
    saved = {k: os.environ.get(k) for k in values}
    try:
        for key, value in values.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
        yield
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)


def execute(run: Callable[[Any], Any], opts) -> Any:
    """One command on its options, as the CLI and synth.api both run it: the reading policy around `run`."""
    with reading_policy(opts):
        return run(opts)


def command(app: typer.Typer, name: str, cls: type, run: Callable[[Any], Any], **command_kw: Any) -> None:
    """Register `synth ... NAME`: its flags from the options class `cls`, its body `run(options) -> summary`.
    The API (synth.api) finds the same pair in COMMANDS."""
    from synth import options as opts_mod

    def cli(ctx: typer.Context, **values):
        def body():
            values.pop("config", None)
            return execute(run, opts_mod.from_values(cls, values))

        return guarded(ctx, values, body)

    cli.__signature__ = opts_mod.signature(cls)
    cli.__doc__ = run.__doc__
    COMMANDS[_path_of(app, name)] = (cls, run)
    app.command(name, **command_kw)(cli)


COMMANDS: dict[str, tuple[type, Callable]] = {}  # "generate responses" -> (options class, run)


def _path_of(app: typer.Typer, name: str) -> str:
    group = getattr(app, "_synth_group", None)
    return f"{group} {name}" if group else name


def guarded(ctx: typer.Context, kwargs: dict, body: Callable[[], Any]) -> None:
    """--config merged into `kwargs`, then `body()`; failures mapped to exit codes, the summary printed."""
    try:
        kwargs.update(_merge_config(ctx, kwargs))
        summary = body()
    except typer.Exit:
        raise
    except UserError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None
    except KeyboardInterrupt:
        typer.echo("interrupted: finished chunks are kept; re-run the same command to resume", err=True)
        raise typer.Exit(130) from None
    except (Exception, MemoryError) as exc:  # noqa: BLE001 - last line of defence: one line, exit 1
        from synth.resources import resource_message

        if os.environ.get("SYNTH_DEBUG"):
            traceback.print_exc()
        ran_out = resource_message(exc, kwargs.get("out"))
        typer.echo(f"error: {ran_out}" if ran_out else f"internal error: {type(exc).__name__}: {exc}".splitlines()[0],
                   err=True)
        raise typer.Exit(1) from None
    if summary is not None:
        emit(summary, kwargs.get("json_out", False))
    if isinstance(summary, dict) and summary.get("exit_code"):
        raise typer.Exit(summary["exit_code"])


def synth_command(fn: Callable[..., Any]) -> Callable[..., Any]:
    """For a command that declares its flags itself (`synth train`, generated from TrainConfig): the same
    --config merging, exit codes and summary printing as `command`."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        ctx = kwargs.get("ctx") or typer.get_current_context()
        return guarded(ctx, kwargs, lambda: fn(*args, **kwargs))

    return wrapper


def emit(summary: dict, as_json: bool) -> None:
    if as_json:
        sys.stdout.write(json.dumps(summary, ensure_ascii=False, default=str) + "\n")
        return
    from rich.console import Console
    from rich.table import Table

    table = Table(show_header=False, box=None, pad_edge=False)
    for key, value in summary.items():
        if key == "exit_code":
            continue
        if isinstance(value, dict):
            value = ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
        elif isinstance(value, list) and all(isinstance(v, str) for v in value):
            value = "\n".join(value) or "-"  # notes: one per line
        table.add_row(f"[bold]{key}[/bold]", str(value))
    Console().print(table)
