"""Teacher faults through a fault-injecting proxy on loopback (tests/reliability/fault_proxy.py): 5xx and 429
answers, bursts of 503, timeouts, connection resets, malformed JSON, bodies cut mid-way, outputs cut short,
slow answers. Every run completes; every record equals the clean run's or is a reject naming the teacher
failure; for single-call records the outcome of each one is predicted from the proxy's seeded script."""

from __future__ import annotations

import pytest

from tests.core.helpers import write_jsonl
from tests.reliability.fault_proxy import RECOVERABLE, FaultPlan
from tests.reliability.faults import TEACHER_FAILURES, run_with_faults
from tests.reliability.scenarios import Deepsearch, LabelTurns, Switchboard
from tests.teachers.fake_openai import FakeOpenAI, Say, last_user

RETRIES = 2
CLIENT = ["--retries", str(RETRIES), "--retry-backoff", "0.01", "--timeout", "3"]  # --timeout bounds the whole request (issue 28): 1 s is too tight for a loaded 2-core box
MIXED = FaultPlan(seed=1, rate=0.5, max_faults=RETRIES, fatal_rate=0.15, fatal_attempts=RETRIES + 1,
                  truncate_rate=0.1, hang_s=5.0)


def seeded_echo(req):
    return Say(f"answer to {last_user(req)} (seed {req.body.get('seed')})")


@pytest.fixture(scope="module")
def upstream():
    with FakeOpenAI(seeded_echo) as fake:
        yield fake


def responses_argv(src):
    def argv(out, url):
        return ["generate", "responses", str(src), "--out", str(out), "--teacher", f"openai:{url}", "--model",
                "fake-model", "--n", "1", "--chunk-size", "5", "--json", *CLIENT]
    return argv


@pytest.fixture(scope="module")
def prompts(tmp_path_factory):
    folder = tmp_path_factory.mktemp("fault-prompts")
    return write_jsonl(folder / "in.jsonl", [{"id": f"p{i}", "messages": [{"role": "user", "content": f"prompt {i}"}]}
                                             for i in range(40)])


def test_every_record_ends_as_its_fault_script_predicts(upstream, prompts, tmp_path):
    run = run_with_faults("generate responses", responses_argv(prompts), upstream.url, MIXED, tmp_path)
    assert run.ok, run.unexpected
    scripts = run.proxy.scripts()
    predicted = {f"p{i}": FaultPlan.outcome(scripts[f"prompt {i}"], RETRIES) for i in range(40)}
    want_rejects = sorted(reason for reason in predicted.values() if reason)
    assert sorted(run.rejected.elements()) == want_rejects
    assert run.identical == sum(1 for reason in predicted.values() if reason is None)
    assert set(RECOVERABLE) <= set(run.injected), run.injected  # every kind of fault was met at least once
    assert sum(run.injected.values()) >= 40


def test_bursts_of_503_are_retried_away(upstream, prompts, tmp_path):
    plan = FaultPlan(seed=2, rate=0.0, burst=(7, 3))
    argv = responses_argv(prompts)
    run = run_with_faults("generate responses", lambda out, url: [*argv(out, url), "--retries", "4"], upstream.url,
                          plan, tmp_path)
    assert run.ok and run.identical == run.records == 40, run.unexpected
    assert run.injected["burst_503"] >= 10


@pytest.mark.slow
@pytest.mark.parametrize("scenario", [LabelTurns, Deepsearch], ids=["label turns", "generate deepsearch"])
def test_multi_call_commands_complete_and_account_for_every_record(scenario, tmp_path):
    s = scenario()
    s.prepare(tmp_path)
    with FakeOpenAI(Switchboard(s.handler())) as fake:
        recoverable = FaultPlan(seed=3, rate=0.4, max_faults=RETRIES, hang_s=5.0)
        run = run_with_faults(s.name, lambda out, url: [*s.argv(out, url), *CLIENT], fake.url, recoverable, tmp_path,
                              key=s.key)
        assert run.ok and run.identical == run.records, run.unexpected  # retried away: same output as clean
        assert sum(run.injected.values()) > 0
        run = run_with_faults(s.name, lambda out, url: [*s.argv(out, url), *CLIENT], fake.url, MIXED, tmp_path,
                              key=s.key)
        assert run.ok, run.unexpected
        assert set(run.rejected) <= TEACHER_FAILURES and sum(run.rejected.values()) > 0
