"""Typed command options (synth/options.py): one registry of runtime-only flags that every consumer uses,
one name one meaning for the shared flags, the API's checks equal to the CLI's."""

from __future__ import annotations

import typing
from dataclasses import MISSING, fields
from pathlib import Path

import pytest
from synth.trainers.config import TrainConfig

from synth.cli_common import COMMANDS
from synth.errors import UserError
from synth.options import RUNTIME, Options, flag, options, shaping
from tests.run.test_argv import _plans


def _classes() -> dict[str, type]:
    from synth import cli  # noqa: F401 - registers every command

    return {name: cls for name, (cls, _run) in COMMANDS.items()}


def test_every_command_has_an_options_class():
    import typer.main

    from synth.cli import app

    def leaves(group, path=()):
        for name, sub in getattr(group, "commands", {}).items():
            yield from leaves(sub, (*path, name)) if hasattr(sub, "commands") else [" ".join((*path, name))]

    assert set(leaves(typer.main.get_command(app))) - set(_classes()) == {"train"}  # train: TrainConfig


def test_runtime_fields_are_exactly_the_registered_ones():
    for name, cls in _classes().items():
        marked = {f.name for f in fields(cls) if f.metadata.get("runtime")}
        assert marked == {f.name for f in fields(cls)} & set(RUNTIME), name
        assert not marked & set(shaping(_defaults(cls))), name


def test_every_registered_name_is_a_flag_somewhere():
    names = {f.name for cls in _classes().values() for f in fields(cls)} | {f.name for f in fields(TrainConfig)}
    assert set(RUNTIME) <= names, sorted(set(RUNTIME) - names)


def test_a_runtime_flag_missing_from_the_registry_fails_at_import():
    with pytest.raises(TypeError, match="RUNTIME"):
        @options
        class Knob(Options):
            new_knob: int = flag(1, "how hard to try", runtime=True)
    with pytest.raises(TypeError, match="RUNTIME"):
        @options
        class Unmarked(Options):
            timeout: float = flag(1.0, "seconds")  # registered as runtime-only, but not marked here


def test_shards_means_output_shards_everywhere_and_tasks_is_never_a_count():
    for name, cls in _classes().items():
        hints = typing.get_type_hints(cls)
        if "tasks" in hints:
            assert hints["tasks"] == list[Path], f"{name}: --tasks names input tasks"
        if "shards" in hints:
            assert hints["shards"] == int | None, name


def test_the_synth_run_cache_key_ignores_every_runtime_flag(tmp_path):
    base = {"command": "generate responses", "args": ["in.jsonl"], "flags": {"teacher": "openai:http://h/v1",
                                                                           "model": "m", "seed": 3}}
    runtime = {"timeout": 5, "retries": 1, "max_concurrency": 2, "shards": 2, "chunk_size": 7, "verify": False,
               "deep": True, "max_tokens_total": 100, "workers": 2}
    plans = _plans(tmp_path, {"a": base, "b": {**base, "flags": {**base["flags"], **runtime}}})
    assert plans["a"].spec["flags"] == plans["b"].spec["flags"] == {"model": "m", "seed": 3,
                                                                    "teacher": "openai:http://h/v1"}
    shaped = _plans(tmp_path, {"c": {**base, "flags": {**base["flags"], "top_p": 0.5}}})["c"]
    assert shaped.spec["flags"]["top_p"] == 0.5  # a sampling flag shapes the output: part of the key


def test_the_old_tasks_spelling_still_sets_the_shards(tmp_path):
    plans = _plans(tmp_path, {"a": {"command": "import", "args": ["x.jsonl"], "flags": {"tasks": 3}}})
    assert "--tasks" in plans["a"].argv and "tasks" not in plans["a"].spec["flags"]
    from synth.options import from_values

    cls = _classes()["import"]
    assert from_values(cls, {"inputs": ["x"], "out": "o", "tasks": 3}).shards == 3
    assert from_values(cls, {"inputs": ["x"], "out": "o", "tasks": 3, "shards": 5}).shards == 5  # the new one wins


def test_options_check_bounds_and_choices_and_type_paths_like_the_cli():
    cls = _classes()["import"]
    opts = cls(inputs="x.jsonl", out="o")
    assert opts.inputs == [Path("x.jsonl")] and opts.out == Path("o")
    with pytest.raises(UserError, match="--workers: 0 is not in the range 1.."):
        cls(inputs=["x"], out="o", workers=0)
    with pytest.raises(UserError, match="--format must be parquet or jsonl, got 'csv'"):
        cls(inputs=["x"], out="o", fmt="csv")


def _defaults(cls: type):
    """An instance with the defaults, required fields filled with a placeholder."""
    required = [f for f in fields(cls) if f.default is MISSING and f.default_factory is MISSING]
    return cls(**{f.name: ["x"] if "list" in str(f.type) else "x" for f in required})
