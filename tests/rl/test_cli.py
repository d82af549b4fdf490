"""`synth train --mode grpo` flags: generated from TrainConfig; bad values exit 2 with one line."""

from __future__ import annotations

from typer.testing import CliRunner

from synth.cli import app


def test_grpo_flags_are_listed():
    result = CliRunner().invoke(app, ["train", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    for flag in ("--group-size", "--keep-pass", "--stage", "--rollout-engine", "--turn-credit", "--kl-beta",
                 "--clip-eps-high", "--reward", "--max-turns", "--mask-truncated"):
        assert flag in result.output, flag


def test_bad_grpo_options_exit_2_with_one_line(tmp_path):
    data = tmp_path / "p.jsonl"
    data.write_text('{"id": "a", "prompt": "hi"}\n')
    base = ["train", "--mode", "grpo", "--data", str(data), "--out", str(tmp_path / "o"), "--model", str(tmp_path)]
    for extra, words in ((["--keep-pass", "5/8"], "--keep-pass"), (["--task", "prompts"], "--reward"),
                         (["--stage", "fast"], "--stage"), (["--group-size", "1"], "--group-size")):
        result = CliRunner().invoke(app, base + extra)
        assert result.exit_code == 2, result.output
        assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1
