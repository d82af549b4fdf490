"""The Python API: one function per `synth` command, for notebooks and orchestrators (Airflow, Prefect, Dagster).

    from synth import api

    imported = api.import_records(["prompts.jsonl"], out="runs/imported", kind="generic")
    kept = api.filter_records([imported.path], out="runs/filtered", dedup="exact,minhash")
    kept.path, kept.manifest["counts"]

Each function takes the fields of its command's options class (synth.options; the same names, defaults and
checks as the flags: `--chunk-size` is `chunk_size`, `--format` is `fmt`, `--json` is `json_out`) and runs the
command's own `run` exactly as the CLI does (synth.cli_common.execute): same resume, caching, locks and config
hash, so an API run and a CLI run of one configuration write the same directory and each resumes the other.
Errors the CLI reports with exit 2 are raised as `UserError`. A command that writes a dataset returns a
`Dataset` (path, manifest, summary); the others (validate, inspect, run, serve tools, teacher fetch) return
their summary. `options_of(name)` gives the options class, `call(options)` runs a ready instance.
"""

from __future__ import annotations

import inspect as _inspect
from dataclasses import MISSING, dataclass, fields
from pathlib import Path
from typing import Any

from synth import cli as _cli  # noqa: F401 - registers every command (typer only: light)
from synth.cli_common import COMMANDS, execute
from synth.errors import UserError

__all__ = ["Dataset", "UserError", "call", "options_of", "train"]
RENAMED = {"import": "import_records", "filter": "filter_records", "run": "run_pipeline"}


@dataclass(frozen=True)
class Dataset:
    """What a dataset command made: its directory, its manifest (counts, config, hash) and the run summary."""

    path: Path
    manifest: dict
    summary: dict


def options_of(command: str) -> type:
    """The options class of `synth COMMAND` (e.g. "generate responses")."""
    if command not in COMMANDS:
        raise UserError(f"no command {command!r}; known: {', '.join(sorted(COMMANDS))}")
    return COMMANDS[command][0]


def call(options: Any) -> Any:
    """Run one command on a ready options instance; see the module doc for what comes back."""
    from synth.dataset import read_manifest

    run = next((fn for cls, fn in COMMANDS.values() if type(options) is cls), None)
    if run is None:
        raise UserError(f"{type(options).__name__} is not the options class of a synth command")
    summary = execute(run, options)
    out = getattr(options, "out", None)
    manifest = read_manifest(Path(out)) if out is not None and Path(out).is_dir() else None
    if manifest is None or not isinstance(summary, dict):
        return summary
    return Dataset(path=Path(out), manifest=manifest, summary=summary)


def _function(command: str, cls: type):
    def function(*args: Any, **values: Any) -> Any:
        positional = [f.name for f in fields(cls) if f.metadata.get("argument")]
        values.update(zip(positional, args))
        try:
            options = cls(**values)
        except TypeError as exc:  # an unknown or missing keyword: the API's "bad flag"
            raise UserError(f"{command}: {exc}") from None
        return call(options)

    def parameter(f) -> _inspect.Parameter:
        kind = _inspect.Parameter.POSITIONAL_OR_KEYWORD if f.metadata.get("argument") else _inspect.Parameter.KEYWORD_ONLY
        default = _inspect.Parameter.empty if f.default is MISSING else f.default
        return _inspect.Parameter(f.name, kind, annotation=f.type, default=default)

    params = sorted(map(parameter, fields(cls)), key=lambda p: (p.kind, p.default is not _inspect.Parameter.empty))
    function.__signature__ = _inspect.Signature(params, return_annotation=Dataset)
    function.__wrapped_options__ = cls
    function.__name__ = function.__qualname__ = RENAMED.get(command, command.replace(" ", "_"))
    function.__doc__ = f"`synth {command}`: {_inspect.getdoc(COMMANDS[command][1]) or ''}"
    return function


def train(**values: Any) -> Dataset:
    """`synth train`: the fields of synth.trainers.config.TrainConfig (data, out, mode, model, ...)."""
    from synth.dataset import read_manifest
    from synth.trainers import run_train
    from synth.trainers.config import from_dict

    manifest = run_train(from_dict({k: (str(v) if isinstance(v, Path) else v) for k, v in values.items()}))
    return Dataset(path=Path(values["out"]), manifest=read_manifest(Path(values["out"])) or manifest, summary=manifest)


for _name, (_cls, _run) in sorted(COMMANDS.items()):
    _fn = _function(_name, _cls)
    globals()[_fn.__name__] = _fn
    __all__.append(_fn.__name__)
