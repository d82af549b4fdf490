"""`--index DIR`: dedup holds across runs and against past releases."""

from __future__ import annotations

import json

from tests.filters.helpers import kept_ids, rejects, run, task, write_jsonl
from tests.filters.test_dedup import LONG

METHODS = "exact,minhash,semantic"


def _filter(src, out, index):
    return run("filter", str(src), "--kind", "generic", "--out", str(out), "--dedup", METHODS, "--index", str(index))


def test_second_run_removes_duplicates_of_the_first_runs_output(tmp_path):
    index = tmp_path / "index"
    first = write_jsonl(tmp_path / "a.jsonl", [
        task("a0", "How many legs does a spider have?"),
        task("a1", "Which river flows through the city of Vienna, the capital of Austria?"),
        task("a2", LONG),
        task("a3", "What is the tallest mountain in Africa?"),
        task("a4", "what is the tallest mountain in africa"),  # an in-run duplicate: not published
    ])
    _filter(first, tmp_path / "out1", index)
    assert kept_ids(tmp_path / "out1") == ["ta0", "ta1", "ta2", "ta3"]
    runs = sorted(p.name for p in (index / "runs").iterdir())
    assert len(runs) == 1 and runs[0].startswith("00001-")
    assert json.loads((index / "runs" / runs[0] / "run.json").read_text())["records"] == 4

    second = write_jsonl(tmp_path / "b.jsonl", [
        task("b0", "WHICH river flows through the city of Vienna -- the capital of Austria"),  # exact vs a1
        task("b1", LONG + " and the Black Sea itself"),                                       # minhash vs a2
        task("b2", "How many legs do spiders have?"),                                         # semantic vs a0
        task("b3", "Who painted the ceiling of the Sistine Chapel?"),                          # new
    ])
    out2 = tmp_path / "out2"
    summary = _filter(second, out2, index)
    dropped = rejects(out2)
    assert kept_ids(out2) == ["tb3"]
    assert dropped["tb0"]["reason"] == "duplicate_exact" and dropped["tb0"]["detail"].startswith(f"kept ta1 (index run {runs[0]})")
    assert dropped["tb1"]["reason"] == "duplicate_minhash" and dropped["tb1"]["detail"].startswith(f"kept ta2 (index run {runs[0]})")
    assert dropped["tb2"]["reason"] == "duplicate_semantic" and dropped["tb2"]["detail"].startswith(f"kept ta0 (index run {runs[0]})")
    report = json.loads((out2 / "manifest.json").read_text())["stats"]["dedup_report"]
    assert report["index_runs"] == runs and {m: s["index_matches"] for m, s in report["methods"].items()} == \
        {"exact": 1, "minhash": 1, "semantic": 1}
    assert summary["counts"]["output"] == 1
    assert len(list((index / "runs").iterdir())) == 2

    # Re-running the second run on its own --out resumes: it never matches against its own entry.
    _filter(second, out2, index)
    assert kept_ids(out2) == ["tb3"] and len(list((index / "runs").iterdir())) == 2

    # The first input again, into a new --out: everything is a duplicate of a past release.
    out3 = tmp_path / "out3"
    _filter(first, out3, index)
    assert kept_ids(out3) == []
    assert all("(index run 00001-" in r["detail"] for r in rejects(out3).values() if r["id"] != "ta4")


def test_index_with_other_signature_settings_is_refused(tmp_path):
    src = write_jsonl(tmp_path / "a.jsonl", [task(0, "How many legs does a spider have?")])
    index = tmp_path / "index"
    _filter(src, tmp_path / "out1", index)
    from typer.testing import CliRunner

    from synth.cli import app

    result = CliRunner().invoke(app, ["filter", str(src), "--out", str(tmp_path / "out2"), "--dedup", "minhash",
                                      "--minhash-ngrams", "5", "--index", str(index)])
    assert result.exit_code == 2 and "built with minhash=" in result.output
