"""What every `synth` command shares: common flags, --config merging, exit codes, --json output.

A command is a plain Typer function decorated with `@synth_command`. The decorator
  1. merges `--config FILE` (TOML or YAML; keys are flag names, dashes or underscores) into every
     parameter the user did not pass on the command line (flags win over the file),
  2. maps failures to exit codes: UserError -> its one line on stderr, exit 2; anything else -> one
     line plus where the details are, exit 1 (SYNTH_DEBUG=1 shows the traceback),
  3. prints the returned summary: a short human table, or one JSON object on stdout with --json.
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

# -- common options (use these aliases so every command spells its flags the same way) ----------------
Out = Annotated[Path, typer.Option("--out", "-o", help="Output dataset directory (re-running resumes it).")]
ConfigFile = Annotated[Path | None, typer.Option("--config", help="TOML or YAML file; keys are flag names. Flags win.")]
Executor = Annotated[str, typer.Option("--executor", help="local | ray | slurm (datatrove executors).")]
Workers = Annotated[int, typer.Option("--workers", min=1, help="Tasks run at the same time.")]
Tasks = Annotated[int | None, typer.Option("--tasks", min=1, help="Output shards / datatrove tasks (default: --workers; fixed by the first run).")]
JsonOut = Annotated[bool, typer.Option("--json", help="Print a machine-readable summary on stdout.")]
Force = Annotated[bool, typer.Option("--force", help="Start --out again from scratch (the old one moves to OUT.old-*).")]
Seed = Annotated[int, typer.Option("--seed", help="Random seed; same inputs + seed give identical output.")]
RayAddress = Annotated[str | None, typer.Option("--ray-address", help="Ray cluster to join (default: start a local one).")]
SlurmPartition = Annotated[str | None, typer.Option("--slurm-partition", help="Slurm partition (with --executor slurm).")]
SlurmTime = Annotated[str | None, typer.Option("--slurm-time", help="Slurm time limit, e.g. 04:00:00.")]
Format = Annotated[str, typer.Option("--format", help="Output shard format: parquet | jsonl.")]
ReportTo = Annotated[str, typer.Option("--report-to", help="Also send the metrics to none | tensorboard | wandb "
                                       "(comma list; needs the package). OUT/metrics.jsonl is always written.")]

# Parameters that choose *how* to run, not *what* comes out: never part of the config hash.
RUNTIME_PARAMS = {"ctx", "out", "config", "executor", "workers", "tasks", "json_out", "force", "ray_address",
                  "slurm_partition", "slurm_time", "dry_run", "chunk_size", "report_to"}


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


def shaping_config(kwargs: dict, *extra_runtime: str) -> dict:
    """The parameters that shape the output (the resolved config that is hashed and recorded), with the
    engine flags `@synth_command` injected into a teacher command."""
    from synth.teachers.flags import engine_flags

    kwargs = {**kwargs, **engine_flags(kwargs)}
    skip = RUNTIME_PARAMS | set(extra_runtime)
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in kwargs.items() if k not in skip}


def runtime(kwargs: dict):
    from synth.engine import Runtime
    from synth.teachers.flags import budget_flags

    slurm = {k: v for k, v in {"partition": kwargs.get("slurm_partition"), "time": kwargs.get("slurm_time")}.items() if v}
    budget = budget_flags(kwargs)  # --dry-run / --pilot of teacher commands (injected by synth_command)
    pilot = int(budget.get("pilot") or 0)
    return Runtime(executor=kwargs.get("executor", "local"), workers=kwargs.get("workers", 1),
                   tasks=kwargs.get("tasks"), force=kwargs.get("force", False),
                   progress=not kwargs.get("json_out", False), ray_address=kwargs.get("ray_address"), slurm=slurm,
                   dry_run=bool(budget.get("dry_run")) or pilot > 0, pilot=pilot)


# Every command checks the synth datasets it reads against their manifests (synth.integrity).
VERIFY_FLAGS = {
    "verify": (Annotated[bool, typer.Option("--verify/--no-verify", help="Check input datasets against their "
                                            "manifests (sizes, row counts; exit 2 on damage).")], True),
    "deep": (Annotated[bool, typer.Option("--deep", help="Also hash every input shard (reads all bytes).")], False),
}


def _inject_verify_flags(fn: Callable, injected: tuple | None) -> tuple | None:
    import inspect

    try:
        signature, annotations = injected or (inspect.signature(fn, eval_str=True), {})
    except (NameError, TypeError):  # annotations Typer itself will complain about
        return injected
    extra = {n: f for n, f in VERIFY_FLAGS.items() if n not in signature.parameters}
    added = [inspect.Parameter(n, inspect.Parameter.KEYWORD_ONLY, default=d, annotation=a) for n, (a, d) in extra.items()]
    return (signature.replace(parameters=[*signature.parameters.values(), *added]),
            {**annotations, **{n: a for n, (a, _) in extra.items()}})


@contextmanager
def reading_policy(kwargs: dict, injected: dict) -> Iterator[None]:
    """--verify/--deep and --kind of this invocation, for every reader (environment: workers are forked)."""
    from synth.dataset import PLAIN_KIND_ENV
    from synth.integrity import ENV

    verify, deep = kwargs.get("verify", injected.get("verify", True)), kwargs.get("deep", injected.get("deep", False))
    values = {ENV: "deep" if deep else ("fast" if verify else "off"),
              PLAIN_KIND_ENV: "1" if kwargs.get("kind") else None}
    saved = {k: os.environ.get(k) for k in values}
    try:
        for key, value in values.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
        yield
    finally:
        for key, value in saved.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)


def synth_command(fn: Callable[..., Any]) -> Callable[..., Any]:
    from synth.teachers.flags import inject_teacher_flags, teacher_invocation

    # Teacher commands (a `teacher` parameter) get the engine flags (--top-p, --max-concurrency, --timeout,
    # ...) and the budget flags (--dry-run, --pilot, --price, --max-tokens-total, --max-cost) without
    # declaring them: see synth.teachers.flags. Every command gets --verify/--no-verify and --deep.
    teacher_extra = tuple((inject_teacher_flags(fn) or ({}, {}))[1])
    injected = _inject_verify_flags(fn, inject_teacher_flags(fn))
    extra = tuple(injected[1]) if injected else ()

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        ctx = kwargs.get("ctx") or typer.get_current_context()
        try:
            kwargs = _merge_config(ctx, kwargs)
            popped = {k: kwargs.pop(k) for k in extra if k in kwargs}
            with teacher_invocation({k: v for k, v in popped.items() if k in teacher_extra}), \
                    reading_policy(kwargs, popped):
                summary = fn(*args, **kwargs)
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

    if injected:
        wrapper.__signature__ = injected[0]
        wrapper.__annotations__ = {**getattr(fn, "__annotations__", {}), **injected[1]}  # a copy: fn keeps its own
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
