"""Training is not silent (issue 24): progress lines with step, loss, tokens/s and ETA on a non-interactive
stderr, OUT/metrics.jsonl, and --report-to tensorboard writing real event files; unknown or uninstalled
trackers exit 2 before any work."""

from __future__ import annotations

import importlib.util
import json

import pytest
from synth.trainers.progress import describe, open_metrics
from typer.testing import CliRunner

from synth.cli import app
from tests.trainers.trainer_data import trajectories, write_jsonl


def _args(tmp_path, tokenizer_dir, *extra):
    data = write_jsonl(tmp_path / "sft.jsonl", trajectories(8, seed=9))
    return ["train", "--data", str(data), "--out", str(tmp_path / "out"), "--from-config", "tiny", "--tokenizer",
            str(tokenizer_dir), "--seq-len", "512", "--steps", "3", "--precision", "fp32", "--no-checkpoint-at-end",
            *extra]


@pytest.mark.slow  # a 3-step CPU run plus the tensorboard import: ~20-60 s on 2 cores
def test_train_shows_progress_writes_metrics_and_tensorboard_events(tmp_path, tokenizer_dir):
    result = CliRunner().invoke(app, _args(tmp_path, tokenizer_dir, "--report-to", "tensorboard"))
    assert result.exit_code == 0, result.output
    lines = [x for x in result.stderr.splitlines() if x.startswith("train step")]
    assert lines[0].startswith("train step 1/3 · loss ") and "tok/s" in lines[0] and "ETA" in lines[0]
    assert lines[-1].startswith("train step 3/3 · loss ") and lines[-1].endswith("ETA 0m00s")
    metrics = [json.loads(x) for x in (tmp_path / "out" / "metrics.jsonl").read_text().splitlines()]
    steps = [m for m in metrics if "lr" in m]
    assert [m["step"] for m in steps] == [1, 2, 3] and steps[-1]["eta_s"] == 0
    assert all(m["loss"] > 0 and m["tokens_per_s"] > 0 for m in steps)

    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    events = EventAccumulator(str(tmp_path / "out" / "tensorboard"))
    events.Reload()
    losses = events.Scalars("loss")
    assert [e.step for e in losses] == [1, 2, 3]
    assert [e.value for e in losses] == pytest.approx([m["loss"] for m in steps], rel=1e-6)


def test_unknown_or_missing_trackers_exit_2_before_any_work(tmp_path, tokenizer_dir):
    bad = CliRunner().invoke(app, _args(tmp_path, tokenizer_dir, "--report-to", "mlflow"))
    assert bad.exit_code == 2 and "--report-to mlflow: unknown" in bad.stderr
    if importlib.util.find_spec("wandb") is None:
        missing = CliRunner().invoke(app, _args(tmp_path, tokenizer_dir, "--report-to", "wandb"))
        assert missing.exit_code == 2 and "the wandb package is not installed" in missing.stderr
    assert not (tmp_path / "out").exists()


def test_metrics_are_cut_back_to_the_resumed_step(tmp_path):
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps({"step": s, "lr": 1}) + "\n" for s in (1, 2, 3, 4))
                                            + '{"step": 5, "l')
    open_metrics(tmp_path, 2).close()
    assert [json.loads(x)["step"] for x in (tmp_path / "metrics.jsonl").read_text().splitlines()] == [1, 2]
    open_metrics(tmp_path, 0).close()
    assert (tmp_path / "metrics.jsonl").read_text() == ""


def test_describe_shows_only_what_a_record_has():
    assert describe({"loss": 2.31456, "tokens_per_s": 1234.0, "mfu": 0.381}) == "loss 2.3146 · 1.2k tok/s · MFU 38.1%"
    assert describe({"loss": 1.0, "tokens_per_s": 12.0, "mfu": None}) == "loss 1.0000 · 12 tok/s"
