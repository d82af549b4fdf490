"""Typed command options: one frozen dataclass per command, the single source of its configuration.

From an options class come, with nothing written twice:
  * the Typer signature of its command (`signature`): flag names, help, panels, bounds, defaults;
  * the keys of a `--config FILE` and of a `synth run` pipeline stage (both read the click parameters
    that the signature produces);
  * the config hash (`shaping`): every field except the runtime-only ones;
  * the Python API (`synth.api`): one function per command taking the same fields.

A field is declared with `flag(default, help, ...)`. Runtime-only fields (how a run goes, never what it
makes) are listed in ONE place, `RUNTIME` below; an options class (`@options`) whose runtime fields and
that registry disagree fails at import, and tests/core/test_options.py checks every command against it.
This module stays light (typer only): `synth --help` builds every signature.
"""

from __future__ import annotations

import inspect
import typing
from dataclasses import MISSING, Field, dataclass, field, fields
from pathlib import Path
from typing import Annotated, Any

import typer

from synth.errors import UserError

# The registry of runtime-only flags: left out of the config hash (synth.manifest), of the `synth run` cache
# key (synth.run.argv) and of the trainer's config hash (trainers/run.py). Name -> why it changes no output.
RUNTIME: dict[str, str] = {
    "out": "where the output goes, not what it holds",
    "executor": "where tasks run", "workers": "how many run at once", "shards": "how the output is split",
    "ray_address": "which cluster", "slurm_partition": "which queue", "slurm_time": "queue limit",
    "json_out": "how the summary prints", "force": "whether to start again", "report_to": "where metrics also go",
    "chunk_size": "the resume unit", "verify": "input checks", "deep": "input checks",
    "strict": "an empty input: error or warning",
    # teacher engine: how requests go (a cap raised to resume a capped run must not read as a config change)
    "max_concurrency": "requests in flight", "timeout": "per-request patience", "retries": "per-request patience",
    "retry_backoff": "per-request patience", "max_model_len": "engine memory",
    "gpu_memory_utilization": "engine memory", "engine_arg": "engine start-up",
    "dry_run": "projects, writes nothing", "pilot": "projects, writes nothing", "price": "budget",
    "max_tokens_total": "budget cap", "max_cost": "budget cap",
    "sandbox": "isolation backend (same verdicts)", "sandbox_workers": "sandboxed processes at once",
    # synth train (trainers/config.py TrainConfig)
    "resume": "whether to continue", "save_every": "checkpoint cadence", "log_every": "log cadence",
    "eval_every": "eval cadence", "device": "where it trains", "save_rollouts": "grpo: debug output",
}
ConfigFile = Annotated[Path | None, typer.Option("--config", help="TOML or YAML file; keys are flag names. Flags win.")]
# Old spellings still accepted on the command line and in config/pipeline files (hidden from --help).
ALIASES: dict[str, str] = {"tasks": "shards"}


def flag(default: Any = MISSING, help: str = "", *, cli: tuple[str, ...] | None = None, panel: str | None = None,
         runtime: bool = False, argument: bool = False, choices: tuple[str, ...] = (), **click: Any) -> Any:
    """A dataclass field that is also a command-line flag. `cli`: its names (default: derived by Typer from
    the field name, `--x/--no-x` for booleans); `click`: min, max, metavar, hidden, show_default."""
    meta = {"help": help, "cli": cli, "panel": panel, "runtime": runtime, "argument": argument, "click": click,
            "choices": choices}
    return field(default=default, metadata=meta)


def like(owner: type, name: str, default: Any = MISSING, **changes: Any) -> Any:
    """`owner`'s field `name` again, with another default (or help): a command's own default for a shared flag."""
    base = {f.name: f for f in fields(owner)}[name]
    meta = {**base.metadata, "click": dict(base.metadata["click"]), **changes}
    return field(default=base.default if default is MISSING else default, metadata=meta)


def options(cls: type) -> type:
    """Class decorator of an options class: a frozen keyword-only dataclass whose runtime-only fields are
    exactly the ones the registry names (a new runtime flag missing from RUNTIME fails at import)."""
    cls = dataclass(frozen=True, kw_only=True)(cls)
    for f in fields(cls):
        if bool(f.metadata.get("runtime")) != (f.name in RUNTIME):
            raise TypeError(f"{cls.__name__}.{f.name}: runtime=True exactly when synth.options.RUNTIME names it")
    return cls


@options
class Options:
    """Base of every command's options: bounds checked and paths typed here, so the API matches the CLI."""

    def __post_init__(self) -> None:
        hints = typing.get_type_hints(type(self))
        for f in fields(self):
            value = _as_paths(getattr(self, f.name), hints[f.name])
            object.__setattr__(self, f.name, value)
            _check_bounds(f, value)
            _check_choices(f, value)

    def runtime_names(self) -> set[str]:
        return {f.name for f in fields(self) if f.metadata.get("runtime")}


def _as_paths(value: Any, hint: Any) -> Any:
    """str -> Path where the field is a Path (API callers pass strings, Typer passes Paths)."""
    is_list = typing.get_origin(hint) is list
    wants_path = hint is Path or (not is_list and Path in typing.get_args(hint))
    wants_paths = any(typing.get_origin(a) is list and typing.get_args(a) == (Path,)
                      for a in (hint, *typing.get_args(hint)))
    if wants_path and isinstance(value, str):
        return Path(value)
    if wants_paths and isinstance(value, (str, Path)):  # one input where a list is taken
        return [Path(value)]
    if wants_paths and isinstance(value, (list, tuple)):
        return [Path(v) if isinstance(v, str) else v for v in value]
    return value


def _check_bounds(f: Field, value: Any) -> None:
    click = f.metadata.get("click") or {}
    if value is None or isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    low, high = click.get("min"), click.get("max")
    if (low is not None and value < low) or (high is not None and value > high):
        shown = f"{low if low is not None else ''}..{high if high is not None else ''}"
        raise UserError(f"{_flag_name(f)}: {value} is not in the range {shown}")


def _check_choices(f: Field, value: Any) -> None:
    choices = f.metadata.get("choices")
    if choices and value is not None and value not in choices:
        allowed = " or ".join(choices) if len(choices) == 2 else "one of " + ", ".join(choices)
        raise UserError(f"{_flag_name(f)} must be {allowed}, got {value!r}")


def _flag_name(f: Field) -> str:
    cli = f.metadata.get("cli")
    return cli[0].split("/")[0] if cli else "--" + f.name.replace("_", "-")


def shaping(options: Options) -> dict[str, Any]:
    """What shapes the output: every field but the runtime-only ones (the resolved config that is hashed and
    recorded in the manifest). Paths as strings, as the manifests have always held them."""
    skip = options.runtime_names()
    return {f.name: _plain(getattr(options, f.name)) for f in fields(options) if f.name not in skip}


def _plain(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list) and any(isinstance(v, Path) for v in value):
        return [str(v) if isinstance(v, Path) else v for v in value]
    return value


def ordered_fields(cls: type) -> list[Field]:
    """Arguments first, then the command's own flags, then the shared ones (the order `--help` lists them)."""
    def declared_at(name: str) -> int:  # 0: the command's own class, then its groups in MRO order
        return next(i for i, c in enumerate(cls.__mro__) if name in inspect.get_annotations(c))

    return sorted(fields(cls), key=lambda f: (not f.metadata.get("argument"), f.name != "out", declared_at(f.name)))


def signature(cls: type) -> inspect.Signature:
    """The Typer signature of a command: `ctx`, `config`, every field of `cls`, hidden aliases."""
    hints = typing.get_type_hints(cls, include_extras=True)
    params = [inspect.Parameter("ctx", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=typer.Context)]
    for f in ordered_fields(cls):
        params.append(inspect.Parameter(f.name, inspect.Parameter.KEYWORD_ONLY, default=_default(f),
                                        annotation=Annotated[hints[f.name], _typer_info(f)]))
    params.append(inspect.Parameter("config", inspect.Parameter.KEYWORD_ONLY, default=None, annotation=ConfigFile))
    names = {f.name for f in fields(cls)}
    for old, new in ALIASES.items():
        if new in names and old not in names:
            params.append(_alias(old, new, hints[new]))
    return inspect.Signature(params)


def _default(f: Field) -> Any:
    if f.default is not MISSING:
        return f.default
    return f.default_factory() if f.default_factory is not MISSING else inspect.Parameter.empty


def _typer_info(f: Field):
    meta = f.metadata
    if meta.get("argument"):
        return typer.Argument(help=meta["help"], **meta["click"])
    extra = {"rich_help_panel": meta["panel"]} if meta.get("panel") else {}
    return typer.Option(*(meta.get("cli") or ()), help=meta["help"], **extra, **meta["click"])


def _alias(old: str, new: str, hint: Any) -> inspect.Parameter:
    option = typer.Option(f"--{old}", hidden=True, help=f"Old spelling of --{new}.")
    return inspect.Parameter(old, inspect.Parameter.KEYWORD_ONLY, default=None,
                             annotation=Annotated[typing.get_args(hint)[0] if typing.get_args(hint) else hint, option])


def from_values(cls: type, values: dict[str, Any]) -> Options:
    """The options of one invocation from parsed flag values (aliases folded in, CLI-only keys dropped)."""
    names = {f.name for f in fields(cls)}
    values = dict(values)
    for old, new in ALIASES.items():
        if old not in names and old in values:
            old_value = values.pop(old)
            if values.get(new) is None:
                values[new] = old_value
    unknown = sorted(set(values) - names)
    if unknown:
        raise UserError(f"unknown option(s): {', '.join(unknown)}")
    return cls(**values)


def is_runtime_param(name: str, hidden: bool = False) -> bool:
    """A click parameter of a command that changes no output (for the `synth run` cache key)."""
    return name in RUNTIME or (hidden and name in ALIASES)


# -- the flags commands share (a command's options class inherits the groups it has) ---------------------
SEED_HELP = "Random seed; same inputs + seed give identical output."
OUT_HELP = "Output dataset directory (re-running resumes it)."


@options
class Common(Options):
    """Every command: the summary format and the manifest checks of its inputs."""

    json_out: bool = flag(False, "Print a machine-readable summary on stdout.", cli=("--json",), runtime=True)
    verify: bool = flag(True, "Check input datasets against their manifests (sizes, row counts; exit 2 on damage).",
                        cli=("--verify/--no-verify",), runtime=True)
    deep: bool = flag(False, "Also hash every input shard (reads all bytes).", cli=("--deep",), runtime=True)


@options
class Executors(Common):
    """Commands that run on an executor."""

    force: bool = flag(False, "Start --out again from scratch (the old one moves to OUT.old-*).", cli=("--force",),
                       runtime=True)
    executor: str = flag("local", "local | ray | slurm (datatrove executors).", cli=("--executor",), runtime=True)
    workers: int = flag(1, "Tasks run at the same time.", cli=("--workers",), min=1, runtime=True)
    ray_address: str | None = flag(None, "Ray cluster to join (default: start a local one).",
                                   cli=("--ray-address",), runtime=True)


@options
class RunOptions(Executors):
    """Commands that write one dataset directory through the engine (synth.engine.run_job)."""

    out: Path = flag(help=OUT_HELP, cli=("--out", "-o"), runtime=True)
    shards: int | None = flag(None, "Output shards / datatrove tasks (default: --workers; fixed by the first run).",
                              cli=("--shards",), min=1, runtime=True)
    slurm_partition: str | None = flag(None, "Slurm partition (with --executor slurm).", cli=("--slurm-partition",),
                                       runtime=True)
    slurm_time: str | None = flag(None, "Slurm time limit, e.g. 04:00:00.", cli=("--slurm-time",), runtime=True)


@options
class Formatted(Options):
    """Commands whose output shards may be parquet or jsonl."""

    fmt: str = flag("parquet", "Output shard format: parquet | jsonl.", cli=("--format",), choices=("parquet", "jsonl"))


@options
class Reporting(Options):
    report_to: str = flag("none", "Also send the metrics to none | tensorboard | wandb (comma list; needs the "
                          "package). OUT/metrics.jsonl is always written.", cli=("--report-to",), runtime=True)


@options
class Sandboxed(Options):
    sandbox: str | None = flag(None, "bwrap | unshare | rlimits (default: the strongest that works here).",
                               cli=("--sandbox",), runtime=True)
    sandbox_workers: int = flag(2, "Sandboxed processes per task at once.", cli=("--sandbox-workers",), min=1,
                                runtime=True)


def chunk_size(default: int, what: str) -> Any:
    """--chunk-size: records per commit, the resume unit (each command says what it counts)."""
    return flag(default, f"{what} per commit (the resume unit).", cli=("--chunk-size",), min=1, runtime=True)


def seed_flag(default: int = 0) -> Any:
    return flag(default, SEED_HELP, cli=("--seed",))
