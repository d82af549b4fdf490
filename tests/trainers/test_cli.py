"""`synth train` through the CLI: a run, its JSON summary, exit code 2 with one line for bad input."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from synth.cli import app
from tests.trainers.trainer_data import trajectories, write_jsonl


def test_cli_trains_and_reports_json(tmp_path, tokenizer_dir):
    data = write_jsonl(tmp_path / "sft.jsonl", trajectories(8, seed=9))
    args = ["train", "--data", str(data), "--out", str(tmp_path / "out"), "--from-config", "tiny",
            "--tokenizer", str(tokenizer_dir), "--seq-len", "512", "--steps", "2", "--precision", "fp32",
            "--no-checkpoint-at-end", "--json"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["steps"] == 2 and summary["loss"] > 0 and summary["records"] == 8
    # not silent (issue 24): a progress line on a non-interactive stderr, every step in OUT/metrics.jsonl
    assert any(x.startswith("train step 2/2 · loss ") and "tok/s" in x for x in result.stderr.splitlines())
    metrics = [json.loads(x) for x in (tmp_path / "out" / "metrics.jsonl").read_text().splitlines()]
    assert [m["step"] for m in metrics if "lr" in m] == [1, 2] and metrics[-1]["eta_s"] == 0


def test_cli_bad_input_exits_2_with_one_line(tmp_path, tokenizer_dir):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "messages": [{"role": "user", "content": "x"}]}\n{"id": "b", "messages": [\n')
    result = CliRunner().invoke(app, ["train", "--data", str(bad), "--out", str(tmp_path / "o"), "--from-config",
                                      "tiny", "--tokenizer", str(tokenizer_dir)])
    assert result.exit_code == 2
    assert "bad.jsonl:2" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    missing = CliRunner().invoke(app, ["train", "--out", str(tmp_path / "o2"), "--from-config", "tiny",
                                       "--tokenizer", str(tokenizer_dir)])
    assert missing.exit_code == 2 and "--data" in missing.stderr


def test_from_config_without_tokenizer_builds_one_from_the_data(tmp_path):
    """`--from-config tiny` alone: a byte-level BPE trained on --data (trainers/tokenizer.py), saved with the
    model (transformers loads the folder, tokenizer included), the same bytes for the same data and seed."""
    from transformers import AutoTokenizer

    data = write_jsonl(tmp_path / "sft.jsonl", trajectories(8, seed=9))
    outs = []
    for name in ("a", "b"):
        args = ["train", "--data", str(data), "--out", str(tmp_path / name), "--from-config", "tiny", "--seq-len",
                "512", "--steps", "1", "--precision", "fp32", "--no-checkpoint-at-end", "--json"]
        result = CliRunner().invoke(app, args)
        assert result.exit_code == 0, result.output
        outs.append(tmp_path / name)
    first, second = ((o / "tokenizer.json").read_bytes() for o in outs)
    assert first == second
    tok = AutoTokenizer.from_pretrained(outs[0])
    assert tok.eos_token == "<|im_end|>" and "<tool_call>" in tok.chat_template
    text = '<tool_call>\n{"name": "search", "arguments": {"q": "paris"}}'
    assert tok.decode(tok(text, add_special_tokens=False)["input_ids"]) == text  # byte-level: round-trips
    assert (outs[0] / ".synth" / "tokenizer" / "tokenizer.json").read_bytes() == first


def test_tokenizer_flag_overrides_the_built_one(tmp_path, tokenizer_dir):
    data = write_jsonl(tmp_path / "sft.jsonl", trajectories(8, seed=9))
    args = ["train", "--data", str(data), "--out", str(tmp_path / "o"), "--from-config", "tiny", "--tokenizer",
            str(tokenizer_dir), "--seq-len", "512", "--steps", "1", "--precision", "fp32", "--no-checkpoint-at-end"]
    assert CliRunner().invoke(app, args).exit_code == 0
    assert (tmp_path / "o" / "tokenizer.json").read_bytes() == (tokenizer_dir / "tokenizer.json").read_bytes()
    assert not (tmp_path / "o" / ".synth" / "tokenizer").exists()
