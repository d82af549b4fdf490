"""Dedup stages resume like the rest of the engine: a run whose stages and chunks were partly lost
finishes with exactly the output of a clean run, also with another --workers."""

from __future__ import annotations

import shutil

from tests.filters.helpers import kept_ids, rejects, run, task, write_jsonl

WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa", "lambda", "mu", "nu", "xi", "omicron", "pi", "rho", "sigma", "tau"]


def _records(n: int):
    for i in range(n):
        words = [WORDS[(i * 7 + j * (i % 5 + 1)) % len(WORDS)] for j in range(12)]
        text = f"record {i % 300} says " + " ".join(words)
        yield task(i, text.upper() if i % 3 == 0 else text, passed=i % 2)


def test_lost_stage_and_chunk_state_resumes_to_the_clean_output(tmp_path):
    src = write_jsonl(tmp_path / "in.jsonl", _records(900))
    args = ["--kind", "generic", "--dedup", "exact,minhash", "--tasks", "2", "--chunk-size", "100"]
    clean = tmp_path / "clean"
    run("filter", str(src), "--out", str(clean), *args)
    expected_kept, expected_rejects = kept_ids(clean), rejects(clean)
    assert 0 < len(expected_kept) < 900

    out = tmp_path / "out"
    run("filter", str(src), "--out", str(out), *args)
    stages = out / ".synth" / "stages"
    (stages / "sign" / "logs" / "completions" / "00001").unlink()        # a sign task lost
    shutil.rmtree(stages / "decide")                                       # the decisions lost
    for marker in sorted((out / ".synth" / "chunks").glob("00000_*.json"))[2:]:
        marker.unlink()                                                    # main chunks of task 0 uncommitted
    (out / "manifest.json").unlink()
    run("filter", str(src), "--out", str(out), *args, "--workers", "2")
    assert kept_ids(out) == expected_kept and rejects(out) == expected_rejects
