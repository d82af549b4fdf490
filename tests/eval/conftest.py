"""Fixtures of the eval tests: the env tests' 16-entry encyclopedia with tasks that carry tiers and shapes."""

from __future__ import annotations

import pytest

from tests.core.helpers import write_jsonl
from tests.trajectories.fixtures import TINY_TASKS, tiny_setup


def fact(subject: str, obj: str | None) -> dict:
    """A link fact (or a description when obj is None) with the fields the evidence chain reads."""
    return {"kind": "link" if obj else "description", "subject": subject, "subject_id": subject, "object_id": obj,
            "relation": "mentions", "object": obj or "a description", "doc_id": subject, "start": 0, "end": 1,
            "quote": "x"}


# tier / hops / topology / facts as `synth generate deepsearch` writes them (facts give the entity ids)
SHAPES = {
    "t-python": {"tier": "easy", "hops": 2, "topology": "chain", "answer_doc_id": "python",
                 "facts": [fact("guido", "cwi"), fact("python", "guido")]},
    "t-wirth": {"tier": "hard", "hops": 3, "topology": "tree", "answer_doc_id": "wirth",
                "facts": [fact("oberon", None), fact("wirth", "pascal")]},
    "t-lisp": {"tier": "hard", "hops": 4, "topology": "chain", "answer_doc_id": "lisp", "facts": []},
}


@pytest.fixture(scope="session")
def tiny_eval(tmp_path_factory):
    """(corpus, tasks.jsonl): three QA tasks with tiers, hop counts, topologies and evidence entities."""
    base = tmp_path_factory.getbasetemp() / "issue14-tiny"
    corpus, _ = tiny_setup(base)
    tasks = write_jsonl(base / "eval_tasks.jsonl", [{**t, **SHAPES[t["id"]]} for t in TINY_TASKS])
    return corpus, tasks


@pytest.fixture(scope="session")
def foldoc_tasks(tmp_path_factory):
    """(corpus, tasks): the trajectory tests' FOLDOC subset and its 16 template tasks (built once per session)."""
    from tests.trajectories.fixtures import foldoc_setup

    return foldoc_setup(tmp_path_factory.getbasetemp() / "issue6-foldoc")


@pytest.fixture(scope="module")
def fake_openai_module():
    """A scripted server shared by the tests of one module (set `.handler`)."""
    from tests.teachers.fake_openai import FakeOpenAI

    with FakeOpenAI() as server:
        yield server


SUM_SEED = {"id": "sum_list", "entry_point": "sum_list", "prompt": "Return the sum of the integers in `xs`.",
            "reference_solution": "def sum_list(xs: list[int]) -> int:\n    return sum(xs)\n",
            "tests": [[[1, 2, 3]], [[]], [[-5, 5, 7]], [[10]], [[0, 0]]]}


@pytest.fixture(scope="session")
def problems(tmp_path_factory):
    """problems.jsonl: equal_pairs (O(n), measured: the time reward applies) and sum_list, built for real."""
    from synth.pipelines.code.build import BuildConfig, build_problem, reference_profile
    from synth.pipelines.code.problems import parse_seed

    from synth.sandbox import Sandbox
    from tests.code.test_reward import SEED

    box = Sandbox(workers=2)
    # the build profile of `generate code`: instruction counts where valgrind is installed, so the class
    # (the key of `by_class`) does not depend on how loaded the machine is
    config = BuildConfig(profile=reference_profile("auto"))
    built = [build_problem(box, parse_seed(SEED, "<test>", 1), config),
             build_problem(box, parse_seed(SUM_SEED, "<test>", 2), config)]
    assert all(isinstance(p, dict) for p in built), built
    return write_jsonl(tmp_path_factory.mktemp("problems") / "problems.jsonl", built)
