"""Session fixtures of the RL tests: tokenizer, test corpus, a code problem and ONE warm-started tiny policy.

The warm start is a real `synth train` SFT run (50 steps, ~30 s) of the trainer's random `tiny` model on two
small skills: answering "name a city" with one of four cities (uniformly) and solving the code problem
(about one sample in eight passes). RL tests start from it, as RL starts from an SFT model. The agent tests
start from random weights under regex-constrained decoding instead (vLLM)."""

from __future__ import annotations

import pytest

from tests.rl import helpers


@pytest.fixture(scope="session")
def rl_tokenizer(tmp_path_factory, rl_corpus, code_problem):
    return helpers.build_tokenizer(tmp_path_factory.mktemp("rl-tok"), helpers.tokenizer_texts(rl_corpus, code_problem))


@pytest.fixture(scope="session")
def rl_corpus(tmp_path_factory):
    from tests.trajectories.fixtures import tiny_setup

    corpus, _ = tiny_setup(tmp_path_factory.getbasetemp() / "rl-env")
    return corpus


@pytest.fixture(scope="session")
def rl_sandbox():
    from synth.sandbox import Sandbox

    return Sandbox(workers=2)


@pytest.fixture(scope="session")
def code_problem(rl_sandbox):
    return helpers.code_problem(rl_sandbox)


@pytest.fixture(scope="session")
def warm_model(tmp_path_factory, rl_tokenizer, rl_corpus, code_problem):
    base = tmp_path_factory.mktemp("rl-warm")
    records = helpers.city_records(32) + helpers.code_sft(code_problem)
    data = helpers.write_jsonl(base / "sft.jsonl", records)
    with helpers.one_thread():
        return helpers.warm_start(base, rl_tokenizer, data)


@pytest.fixture(autouse=True, scope="module")
def _one_thread():
    with helpers.one_thread():
        yield
