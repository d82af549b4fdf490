"""A pipeline stage as a `synth` command line, checked against the real command before anything runs.

The command's own Typer/click definition is the schema: flag keys match its flag names (`chunk-size`,
`--chunk-size`, or the parameter name `chunk_size`, as in a --config file), arguments may be given by
name or as `args:`, and the finished argv is parsed by the command's own parser (types, choices,
required arguments) so that a typo in stage five fails in the first second, not after four hours.

Rendering rules: a list repeats a multi-valued flag (`--data A --data B`) and is joined with commas for a
single-valued one (`dedup: [exact, minhash]` -> `--dedup exact,minhash`); `true` gives the bare flag,
`false` its `--no-` form or nothing; `null` leaves the flag out. Path-typed values become absolute paths,
so the printed command can be pasted anywhere.

A command that this install does not have yet renders generically (`key` -> `--key`) for --dry-run;
running it is refused up front.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synth.errors import UserError
from synth.options import ALIASES, is_runtime_param
from synth.options import RUNTIME as RUNTIME_FLAGS
from synth.run.file import Pipeline, PipelineError, PipelineStage, did_you_mean, resolve

# Flags that choose how a command runs, not what it makes: the registry synth.options.RUNTIME (with the old
# spellings of its flags) without `out`, which the cache key holds symbolically. Changing them never
# invalidates the cache; the budget flags are among them: raising the cap of a capped stage must resume it.
RUNTIME = (set(RUNTIME_FLAGS) | set(ALIASES)) - {"out"}


@dataclass
class Plan:
    """One stage, ready to run: `synth ARGV...` in `cwd`, writing `out` (None: the command has no --out)."""

    stage: PipelineStage
    argv: list[str]
    out: Path | None
    available: bool                            # the command exists in this install
    spec: dict = field(default_factory=dict)   # what the cache key hashes (paths symbolic, no runtime flags)
    values: list[str] = field(default_factory=list)  # every string value, resolved (input candidates)

    @property
    def shell(self) -> str:
        import shlex

        return shlex.join(["synth", *self.argv])


# The click command tree of `synth`, handed over by synth.cli when it has registered every command: the
# interface sits above `synth run`, which must not import it back (tests/core/test_import_cycles.py).
COMMAND_TREE: list = []


def root_command():
    """The click command tree of `synth` (built from the same Typer app the CLI runs)."""
    if not COMMAND_TREE:
        raise RuntimeError("synth.run needs the command tree: import synth.cli (or synth.api) first")
    return COMMAND_TREE[0]()


def find(words: list[str]):
    node = root_command()
    for word in words:
        commands = getattr(node, "commands", None)
        if not commands or word not in commands:
            return None
        node = commands[word]
    return None if getattr(node, "commands", None) else node


def available_commands() -> list[str]:
    found: list[str] = []

    def walk(node, prefix: list[str]) -> None:
        for name, sub in sorted(getattr(node, "commands", {}).items()):
            if getattr(sub, "commands", None):
                walk(sub, [*prefix, name])
            elif name != "run":
                found.append(" ".join([*prefix, name]))

    walk(root_command(), [])
    return found


def has_out(stage: PipelineStage) -> bool:
    command = find(stage.command)
    return command is None or any(p.name == "out" for p in command.params)


def outputs(pipeline: Pipeline) -> dict[str, Path | None]:
    """Every stage's --out (explicit, else WORKDIR/NAME; None for commands without one), checked apart."""
    outs = {name: (s.out or pipeline.workdir / name) if has_out(s) else None for name, s in pipeline.stages.items()}
    seen: dict[str, Path] = {}
    for name, out in outs.items():
        if out is None:
            continue
        if pipeline.workdir.is_relative_to(out) or pipeline.path.is_relative_to(out):
            raise PipelineError(f"{pipeline.path}: stage '{name}': out {out} would hold the pipeline or its workdir")
        for other, taken in seen.items():
            if out.is_relative_to(taken) or taken.is_relative_to(out):
                raise PipelineError(f"{pipeline.path}: stages '{other}' and '{name}' write into the same folder ({out})")
        seen[name] = out
    return outs


def plan(pipeline: Pipeline, stage: PipelineStage, outs: dict[str, Path | None]) -> Plan:
    """Resolve references and render the command line of one stage (outs: every stage's output path)."""
    def err(msg: str) -> PipelineError:
        return PipelineError(f"{pipeline.path}: stage '{stage.name}': {msg}")

    if stage.command == ["run"]:
        raise err("a stage cannot run 'synth run'")
    command = find(stage.command)
    out = outs.get(stage.name)
    if command is None:
        argv, spec = _generic(stage, outs, out, err)
    else:
        argv, spec = _known(pipeline, stage, command, outs, out, err)
    symbolic = [*spec["args"], *spec["flags"].values()]
    values = [v for v in resolve(flatten_values(symbolic), outs, err) if isinstance(v, str)]
    return Plan(stage=stage, argv=[*stage.command, *argv], out=out, available=command is not None, spec=spec,
                values=values)


def _generic(stage: PipelineStage, outs: dict, out: Path | None, err) -> tuple[list[str], dict]:
    argv = [_text(v) for v in resolve(stage.args, outs, err)]
    flags = {}
    for key, value in stage.flags.items():
        name = key.lstrip("-").replace("_", "-")
        flags[name.replace("-", "_")] = value
        argv += _render(f"--{name}", resolve(value, outs, err), multiple=True, flag_no=None)
    if out is not None:
        argv += ["--out", str(out)]
    return argv, _spec(stage, stage.args, {k: v for k, v in flags.items() if k not in RUNTIME})


def _known(pipeline: Pipeline, stage: PipelineStage, command, outs: dict, out: Path | None, err) -> tuple[list[str], dict]:
    by_key = {}
    for param in command.params:
        for key in [param.name, *(o.lstrip("-") for o in param.opts)]:
            by_key[key.replace("-", "_")] = param
    positional = list(stage.args)
    named_args: dict[str, Any] = {}
    options: list[str] = []
    spec_flags: dict[str, Any] = {}
    for key, value in stage.flags.items():
        param = by_key.get(key.lstrip("-").replace("-", "_"))
        if param is None:
            names = sorted(_flag_name(p) for p in command.params if p.name != "out")
            hint = did_you_mean(key.lstrip("-").replace("_", "-"), [n.lstrip("-") for n in names])
            raise err(f"'{stage.title}' has no flag '{key}'{hint} (flags: {', '.join(names)})")
        if _is_argument(param):
            named_args[param.name] = value
            continue
        if not is_runtime_param(param.name, hidden=bool(getattr(param, "hidden", False))) or param.name == "out":
            spec_flags[param.name] = value
        resolved = resolve(value, outs, err)
        if _is_path(param):
            resolved = _absolute(pipeline.base, resolved)
        options += _render(param.opts[0], resolved, multiple=param.multiple,
                           flag_no=param.secondary_opts[0] if param.secondary_opts else None,
                           is_flag=bool(getattr(param, "is_flag", False)))
    if named_args and positional:
        raise err("give positional arguments either as 'args' or by name in 'flags', not both")
    for param in command.params:
        if _is_argument(param) and param.name in named_args:
            value = named_args[param.name]
            positional += value if isinstance(value, list) else [value]
    args = [_text(v) for v in resolve(positional, outs, err)]
    argv = [*args, *options, *(["--out", str(out)] if out is not None else [])]
    _check(command, stage, argv, err)
    return argv, _spec(stage, positional, spec_flags)


def _check(command, stage: PipelineStage, argv: list[str], err) -> None:
    """Parse the argv with the command's own parser: unknown flags, bad types, missing arguments."""
    try:
        command.make_context(stage.title, list(argv), resilient_parsing=False)
    except Exception as exc:  # noqa: BLE001 - click's UsageError family; Exit for eager flags like --help
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        raise err(f"'{stage.title}': {' '.join(str(message).split())}") from None


def _spec(stage: PipelineStage, positional: list, flags: dict) -> dict:
    """What shapes the stage's output, with ${stages.X.out} kept symbolic (a moved workdir stays cached)."""
    return {"command": stage.command, "args": positional, "flags": dict(sorted(flags.items()))}


def flatten_values(values: list) -> list:
    return [item for value in values for item in (value if isinstance(value, list) else [value])]


def _render(opt: str, value: Any, multiple: bool, flag_no: str | None, is_flag: bool = False) -> list[str]:
    if value is None:
        return []
    if isinstance(value, bool) and (is_flag or flag_no or not multiple):
        if is_flag or flag_no:
            return [opt] if value else ([flag_no] if flag_no else [])
        return [opt, "true" if value else "false"]
    if isinstance(value, bool):  # generic rendering of an unknown command
        return [opt] if value else []
    if isinstance(value, list):
        if multiple:
            return [part for item in value for part in (opt, _text(item))]
        return [opt, ",".join(_text(item) for item in value)]
    return [opt, _text(value)]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _flag_name(param) -> str:
    return param.name if _is_argument(param) else param.opts[0].lstrip("-")


def _is_argument(param) -> bool:
    return not any(o.startswith("-") for o in param.opts)


def _is_path(param) -> bool:
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)

    def walk(tp) -> bool:
        return tp is Path or (isinstance(tp, type) and issubclass(tp, Path)) or any(walk(a) for a in typing.get_args(tp))

    return walk(annotation)


def _absolute(base: Path, value: Any) -> Any:
    if isinstance(value, list):
        return [_absolute(base, v) for v in value]
    if isinstance(value, str) and value and "://" not in value:
        return str((base / value).resolve())
    return value


def require_available(path: Path, plans: list[Plan]) -> None:
    """Every stage names a command of this install (checked on --dry-run too: a typo fails before any run)."""
    missing = [p for p in plans if not p.available]
    if missing:
        first, known = missing[0], available_commands()
        hint = did_you_mean(first.stage.title, [f"synth {c}" for c in known])
        raise UserError(f"{path}: stage '{first.stage.name}': '{first.stage.title}' is not a synth command{hint} "
                        f"(commands: {', '.join(known)})")
