"""Pipeline files for `synth run`: parsing, `${...}` interpolation, the stage DAG.

    workdir: runs/deepsearch            # stage outputs + the run state; default runs/<file stem>
    vars: {num: 40, seed: 0}            # literal values for ${vars.NAME}
    stages:
      corpus:
        command: corpus build           # a `synth` command (sub-command words)
        args: [foldoc]                  # positional arguments
      generate:
        command: generate deepsearch
        flags:                          # the command's flag names, as in a --config file
          corpus: ${stages.corpus.out}  # a dependency on stage `corpus` (its --out)
          num: ${vars.num}              # a whole-value reference keeps the type (int here)
        after: [other]                  # ordering-only dependencies (optional)
        out: data/generated             # optional; default WORKDIR/NAME

The same keys in TOML: `[vars]`, `[stages.generate]`, `[stages.generate.flags]`. Relative paths are
relative to the pipeline file (the stages run there). Interpolation knows exactly two forms,
`${stages.NAME.out}` and `${vars.NAME}`; `$${` is a literal `${`. Nothing reads the environment and no
shell ever sees a value, so a pipeline means the same on every machine.

This module only parses and orders; `synth.run.argv` turns a stage into a command line and
`synth.commands.run` runs it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from synth.errors import UserError

NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_-]*$")
REF = re.compile(r"\$\$\{|\$\{([^}]*)\}")
STAGE_REF = re.compile(r"^stages\.([^.]+)\.out$")
VAR_REF = re.compile(r"^vars\.([A-Za-z0-9_-]+)$")
TOP_KEYS = {"workdir", "vars", "stages"}
STAGE_KEYS = {"command", "args", "flags", "out", "after"}


class PipelineError(UserError):
    """A bad pipeline file: one line naming the file, the stage and the key (exit 2)."""


@dataclass
class PipelineStage:
    name: str
    command: list[str]                 # sub-command words, e.g. ["generate", "deepsearch"]
    args: list[Any]                    # positional values, vars substituted, ${stages..} still symbolic
    flags: dict[str, Any]              # flag name as written -> value (same state as args)
    out: Path | None = None            # explicit out (absolute); None: decided by the runner
    after: list[str] = field(default_factory=list)
    needs: list[str] = field(default_factory=list)   # stages whose output a value references

    @property
    def deps(self) -> list[str]:
        return list(dict.fromkeys([*self.needs, *self.after]))

    @property
    def title(self) -> str:
        return "synth " + " ".join(self.command)


@dataclass
class Pipeline:
    path: Path                         # the pipeline file (absolute)
    base: Path                         # its folder: relative paths and the stages' working directory
    workdir: Path
    vars: dict[str, Any]
    stages: dict[str, PipelineStage]           # file order
    order: list[str]                   # dependency order (each stage after everything it needs)

    @property
    def state_path(self) -> Path:
        return self.workdir / ".synth-run.json"


def did_you_mean(word: str, choices) -> str:
    """' (did you mean 'x'?)' for the closest choice to a misspelt name, or '' when none is close."""
    import difflib

    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def load(path: Path, workdir: Path | None = None) -> Pipeline:
    """Parse, check and order a pipeline file; `workdir` (e.g. from --workdir) overrides the file's."""
    path = Path(path).resolve()
    data = _read(path)
    err = _reporter(path)
    unknown = sorted(set(data) - TOP_KEYS)
    if unknown:
        raise err(f"unknown top-level key(s) {', '.join(unknown)}{did_you_mean(unknown[0], TOP_KEYS)} "
                  f"(allowed: {', '.join(sorted(TOP_KEYS))})")
    variables = data.get("vars") or {}
    if not isinstance(variables, dict):
        raise err("'vars' must be a mapping of names to values")
    for name, value in variables.items():
        if "${" in repr(value):
            raise err(f"vars.{name}: vars are literal values; ${{...}} is not interpolated inside vars")
    raw_stages = data.get("stages")
    if not isinstance(raw_stages, dict) or not raw_stages:
        raise err("'stages' must be a non-empty mapping of stage names to stages")
    base = path.parent
    stages = {str(name): _stage(str(name), spec, variables, base, err) for name, spec in raw_stages.items()}
    for stage in stages.values():
        for dep in stage.deps:
            if dep not in stages:
                where = "after" if dep in stage.after and dep not in stage.needs else f"${{stages.{dep}.out}}"
                raise err(f"stage '{stage.name}': unknown stage '{dep}' in {where}{did_you_mean(dep, stages)} "
                          f"(stages: {', '.join(stages)})")
    chosen = Path(workdir).resolve() if workdir else _path(base, data.get("workdir") or f"runs/{path.stem}",
                                                              variables, err, "workdir")
    return Pipeline(path=path, base=base, workdir=chosen, vars=variables, stages=stages, order=_order(stages, err))


def _read(path: Path) -> dict:
    if not path.is_file():
        raise PipelineError(f"{path}: pipeline file not found")
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() == ".toml":
            import tomllib

            data = tomllib.loads(text)
        else:
            import yaml

            data = yaml.safe_load(text)
    except Exception as exc:  # noqa: BLE001 - yaml/tomllib errors name the line; keep it on one line
        raise PipelineError(f"{path}: cannot parse: {' '.join(str(exc).split())}") from None
    if not isinstance(data, dict):
        raise PipelineError(f"{path}: a pipeline file is a mapping with 'stages' (and optional 'workdir', 'vars')")
    return data


def _reporter(path: Path):
    return lambda message: PipelineError(f"{path}: {message}")


def _stage(name: str, spec: Any, variables: dict, base: Path, err) -> PipelineStage:
    if not NAME.match(name):
        raise err(f"stage name {name!r}: use letters, digits, '_' and '-' (it appears in ${{stages.NAME.out}})")
    if not isinstance(spec, dict):
        raise err(f"stage '{name}': must be a mapping with 'command' (and 'args', 'flags', 'out', 'after')")
    unknown = sorted(set(spec) - STAGE_KEYS)
    if unknown:
        raise err(f"stage '{name}': unknown key(s) {', '.join(unknown)}{did_you_mean(unknown[0], STAGE_KEYS)} "
                  f"(allowed: {', '.join(sorted(STAGE_KEYS))})")
    command = spec.get("command")
    words = command.split() if isinstance(command, str) else []
    words = words[1:] if words[:1] == ["synth"] else words
    if not words:
        raise err(f"stage '{name}': 'command' must name a synth command, e.g. 'import' or 'generate code'")
    where = f"stage '{name}'"
    args = spec.get("args", [])
    args = args if isinstance(args, list) else [args]
    flags = spec.get("flags") or {}
    if not isinstance(flags, dict):
        raise err(f"{where}: 'flags' must be a mapping of flag names to values")
    needs: list[str] = []
    args = flatten([_value(v, variables, needs, err, f"{where}, args[{i}]") for i, v in enumerate(args)])
    flags = {str(k): _flag_value(v, variables, needs, err, f"{where}, flag '{k}'") for k, v in flags.items()}
    out = spec.get("out")
    for key in [k for k in flags if k.lstrip("-") == "out"]:
        if out is not None:
            raise err(f"{where}: give the output either as 'out' or as flags.out, not both")
        out = flags.pop(key)
    after = spec.get("after", [])
    after = [str(a) for a in (after if isinstance(after, list) else [after])]
    return PipelineStage(name=name, command=words, args=args, flags=flags, after=after, needs=list(dict.fromkeys(needs)),
                 out=None if out is None else _path(base, out, variables, err, f"{where}, out"))


def _flag_value(value: Any, variables: dict, needs: list[str], err, where: str) -> Any:
    if isinstance(value, dict):
        raise err(f"{where}: a flag value is a string, number, boolean or list, not a mapping")
    if isinstance(value, list):
        return flatten([_value(v, variables, needs, err, where) for v in value])
    return _value(value, variables, needs, err, where)


def flatten(values: list) -> list:
    """A list var referenced inside a list adds its items (flags take flat lists)."""
    flat: list = []
    for value in values:
        flat.extend(value if isinstance(value, list) else [value])
    return flat


def _value(value: Any, variables: dict, needs: list[str], err, where: str) -> Any:
    """Substitute ${vars.X}; check and record ${stages.X.out} (left in place until outputs are known)."""
    if not isinstance(value, str):
        if isinstance(value, (dict, list)):
            raise err(f"{where}: nested lists and mappings are not flag values")
        return value
    whole = REF.fullmatch(value)
    if whole and whole.group(1) is not None and VAR_REF.match(whole.group(1).strip()):
        return _var(whole.group(1).strip(), variables, err, where)  # whole value: keeps int/bool/list

    def substitute(match: re.Match) -> str:
        ref = match.group(1)
        if ref is None:
            return match.group(0)  # `$${`: unescaped in resolve(), after stage references are filled in
        ref = ref.strip()
        stage = STAGE_REF.match(ref)
        if stage:
            needs.append(stage.group(1))
            return f"${{{ref}}}"
        found = _var(ref, variables, err, where)
        if isinstance(found, (list, dict)):
            raise err(f"{where}: ${{{ref}}} is a list; a list var must be the whole value")
        return str(found)

    return REF.sub(substitute, value)


def _var(ref: str, variables: dict, err, where: str) -> Any:
    match = VAR_REF.match(ref)
    if not match:
        raise err(f"{where}: unknown reference ${{{ref}}}; only ${{stages.NAME.out}} and ${{vars.NAME}} exist "
                  "(no environment variables, no shell)")
    if match.group(1) not in variables:
        known = ", ".join(variables) or "none defined"
        raise err(f"{where}: unknown var '{match.group(1)}' in ${{{ref}}}{did_you_mean(match.group(1), variables)} "
                  f"(vars: {known})")
    return variables[match.group(1)]


def _path(base: Path, value: Any, variables: dict, err, where: str) -> Path:
    needs: list[str] = []
    text = _value(value, variables, needs, err, where) if isinstance(value, str) else value
    if needs or not isinstance(text, str) or not text:
        raise err(f"{where}: must be a path (vars allowed, not ${{stages...}})")
    return (base / text.replace("$${", "${")).resolve()


def resolve(value: Any, outs: dict[str, Path | None], err=None) -> Any:
    """Fill in `${stages.X.out}` with X's output path and unescape `$${` (for values of `PipelineStage`)."""
    if isinstance(value, list):
        return [resolve(v, outs, err) for v in value]
    if not isinstance(value, str):
        return value

    def substitute(match: re.Match) -> str:
        if match.group(1) is None:
            return "${"
        name = STAGE_REF.match(match.group(1)).group(1)
        if outs.get(name) is None:
            raise (err or PipelineError)(f"${{stages.{name}.out}}: stage '{name}' has no --out (its command writes none)")
        return str(outs[name])

    return REF.sub(substitute, value)


def _order(stages: dict[str, PipelineStage], err) -> list[str]:
    """Depth-first topological order, stable in file order; a cycle is reported as a path."""
    order: list[str] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == 2:
            return
        if state.get(name) == 1:
            cycle = path[path.index(name):] + [name]
            raise err(f"dependency cycle: {' -> '.join(cycle)}")
        state[name] = 1
        for dep in stages[name].deps:
            visit(dep, path + [name])
        state[name] = 2
        order.append(name)

    for name in stages:
        visit(name, [])
    return order


def downstream(pipeline: Pipeline, start: str) -> set[str]:
    """`start` and every stage that (transitively) depends on it."""
    found = {start}
    for name in pipeline.order:  # dependency order: a stage's deps are classified before it
        if any(dep in found for dep in pipeline.stages[name].deps):
            found.add(name)
    return found


def select(pipeline: Pipeline, only: list[str], start: str | None) -> set[str]:
    """The stages to consider this run: all, `--only` ones, or `--from` one and its downstream."""
    for name in [*only, *([start] if start else [])]:
        if name not in pipeline.stages:
            raise PipelineError(f"{pipeline.path}: no stage '{name}'{did_you_mean(name, pipeline.stages)} "
                                f"(stages: {', '.join(pipeline.stages)})")
    if only and start:
        raise PipelineError("use --only or --from, not both")
    if only:
        return set(only)
    return downstream(pipeline, start) if start else set(pipeline.stages)
