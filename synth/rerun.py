"""Re-running a command into an --out that already holds output: say what changed, or start again.

A re-run with the same resolved config resumes. A different one is refused with the flags that differ,
old -> new, so the user sees which flag to put back (or that an input file changed). `--force` means
"start this output again from scratch": the old folder is moved aside to `OUT.old-YYYYmmddTHHMMSS`
(nothing is deleted), never resumed under a manifest that would describe data it did not make.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from synth import manifest as mf
from synth.errors import ConfigChangedError

SHOWN = 6  # at most this many differences in the one-line message; the rest are counted


def _flag_names() -> dict[str, str]:
    """Parameter name -> the flag a user types (`fmt` -> `--format`), from the running click command."""
    try:  # typer >= 0.25 runs on its own copy of click, whose context click's globals do not see
        from typer._click.globals import get_current_context
    except ImportError:
        from click import get_current_context
    ctx = get_current_context(silent=True)  # None outside a command (the library API)
    params = ctx.command.params if ctx is not None else []
    return {p.name: max(p.opts, key=len) for p in params if p.opts and p.opts[0].startswith("-")}


def _flag(key: str, names: dict[str, str]) -> str:
    return names.get(key) or "--" + key.replace("_", "-")


def _value(value) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str) if not isinstance(value, str) else value
    return text if len(text) <= 40 else text[:37] + "..."


def config_changes(old: dict, new: dict) -> list[str]:
    """`--num 4 -> 6` for every key whose value differs (absent on one side reads as 'unset')."""
    changes, names = [], _flag_names()
    for key in sorted(set(old) | set(new)):
        before, after = old.get(key), new.get(key)
        if before != after:
            left = "unset" if key not in old else _value(before)
            right = "unset" if key not in new else _value(after)
            changes.append(f"{_flag(key, names)} {left} -> {right}")
    return changes


def input_changes(old: list[dict], new: list[dict]) -> list[str]:
    """Inputs whose content hash changed, or that were added / removed."""
    before = {i["path"]: i.get("hash") for i in old}
    after = {i["path"]: i.get("hash") for i in new}
    changes = [f"input {p} changed since the first run" for p in after if p in before and before[p] != after[p]]
    changes += [f"input {p} added" for p in after if p not in before]
    changes += [f"input {p} removed" for p in before if p not in after]
    return changes


def refuse_changed(out: Path, previous: dict, config: dict, inputs: list[dict], digest: str) -> ConfigChangedError:
    """The one-line error for a changed config: what differs, and the two ways forward."""
    changes = config_changes(previous.get("config") or {}, config) if "config" in previous else []
    if "inputs" in previous:
        changes += input_changes(previous["inputs"], inputs)
    if changes:
        what = "; ".join(changes[:SHOWN]) + (f"; and {len(changes) - SHOWN} more" if len(changes) > SHOWN else "")
    elif "config" in previous:  # same recorded flags and inputs: a secret, a record kind or synth's defaults
        what = f"the same flags and inputs, but config hash {previous.get('config_hash')} -> {digest}"
    else:  # state written before configs were recorded: only the hashes are known
        what = f"config hash {previous.get('config_hash')} -> {digest}"
    return ConfigChangedError(
        f"{out}: made with other settings ({what}); re-run with the old values to resume, "
        f"use --force to start again from scratch (the old output moves to {out.name}.old-*), or another --out")


def recorded(config: dict) -> dict:
    """The config as state.json stores it: secrets dropped, JSON values (so old and new compare equal)."""
    return json.loads(json.dumps(mf.jsonable(mf.redact(config)), default=str))


def state_fields(config: dict, inputs: list[dict]) -> dict:
    """What state.json keeps so a refused re-run can name what changed."""
    return {"config": recorded(config), "inputs": [{"path": i["path"], "hash": i["hash"]} for i in inputs]}


def start_afresh(out: Path) -> None:
    """--force: move the old output aside (after checking no process is writing it) and say where it went."""
    import sys

    from synth import state

    with state.writer_lock(out):  # refuses, naming the pid, while another run writes this --out
        pass
    moved = move_aside(out)
    print(f"--force: the previous output of {out} was moved to {moved}; starting from scratch", file=sys.stderr)


def move_aside(out: Path) -> Path:
    """Rename OUT to OUT.old-<UTC timestamp> (a suffix -2, -3... if that exists) and return the new path."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    target = out.with_name(f"{out.name}.old-{stamp}")
    n = 2
    while target.exists():
        target, n = out.with_name(f"{out.name}.old-{stamp}-{n}"), n + 1
    out.rename(target)
    return target
