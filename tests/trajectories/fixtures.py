"""Corpora and deep-search tasks for the trajectory and label tests, built once per pytest session.

`foldoc_setup`: ~900 real FOLDOC entries (the deep-search tests' link-closed subset, BM25 only) and the
tasks `synth generate deepsearch --teacher none` makes on it. `tiny_setup`: the env tests' 16-entry
encyclopedia with a few hand-written tasks (question + answer only: teacher-mode input).
"""

from __future__ import annotations

import json
from pathlib import Path

from tests.core.helpers import synth, write_jsonl

FOLDOC_STARTS = ("Python", "Lisp", "Pascal", "Unix", "Ethernet", "Smalltalk", "Prolog", "TCP/IP", "SQL", "Emacs")
TINY_TASKS = [
    {"id": "t-python", "question": "Which language did the Dutch programmer who worked at CWI create?",
     "answer": "Python", "aliases": ["Python (programming language)"], "answer_doc_id": "python"},
    {"id": "t-wirth", "question": "Who designed both Pascal and Oberon?", "answer": "Niklaus Wirth",
     "aliases": [], "answer_doc_id": "wirth"},
    {"id": "t-lisp", "question": "Which language family did John McCarthy specify in 1958?", "answer": "Lisp",
     "aliases": [], "answer_doc_id": "lisp"},
]


def foldoc_setup(base: Path, num: int = 16) -> tuple[Path, Path]:
    import pytest

    from synth.env.sources.foldoc import find_foldoc
    from synth.errors import UserError
    from tests.deepsearch.corpus import build, foldoc_subset_rows

    try:
        find_foldoc()
    except UserError as exc:
        pytest.skip(str(exc))
    corpus, tasks = base / "foldoc", base / "tasks"
    if not (corpus / "corpus.json").is_file():
        base.mkdir(parents=True, exist_ok=True)
        build(foldoc_subset_rows(FOLDOC_STARTS, 900), corpus)
    if not (tasks / "manifest.json").is_file():
        res = synth("generate", "deepsearch", "--corpus", str(corpus), "--out", str(tasks), "--num", str(num),
                    "--seed", "0", "--json")
        assert res.returncode == 0, res.stderr
    return corpus, tasks


def tiny_setup(base: Path) -> tuple[Path, Path]:
    from synth.env.build import BuildConfig, build_corpus
    from tests.env.helpers import write_jsonl as write_docs

    corpus, tasks = base / "tiny", base / "tiny_tasks.jsonl"
    if not (corpus / "corpus.json").is_file():
        base.mkdir(parents=True, exist_ok=True)
        build_corpus(str(write_docs(base / "tiny_docs.jsonl")), corpus, BuildConfig(dense=False, show_progress=False))
    if not tasks.is_file():
        write_jsonl(tasks, TINY_TASKS)
    return corpus, tasks


# 40 tasks `synth generate deepsearch --corpus SUBSET --num 40 --seed 0` made on this subset before the
# placeholder-free questions of issue 20 (main at 3b955c1): the solver tests need questions it can solve,
# whatever the generator's current wording (its solve rate on those is a figure in docs/benchmarks.md, issue 21)
SOLVER_TASKS = Path(__file__).parent / "data" / "solver_tasks.jsonl"


def manifest(out: Path) -> dict:
    return json.loads((out / "manifest.json").read_text())


def gold_setup(base: Path, corpus: Path, tasks: Path, rollouts: int = 2) -> Path:
    """`synth generate trajectories --teacher none` over the FOLDOC tasks (every rollout kept)."""
    out = base / "gold"
    if not (out / "manifest.json").is_file():
        res = synth("generate", "trajectories", "--tasks", str(tasks), "--corpus", str(corpus), "--out", str(out),
                    "--rollouts", str(rollouts), "--keep", "correct", "--json")
        assert res.returncode == 0, res.stderr
    return out
