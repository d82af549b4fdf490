"""Issue 28, points 6-7a: --timeout bounds a whole teacher request (a slow-drip endpoint cannot hold one past
it), retries live inside one deadline, a record out of time is a `teacher_timeout` reject; a 200 reply that
echoes the API key is stored without it."""

import json
import time

from tests.core.helpers import write_jsonl
from tests.reliability import procs
from tests.reliability.test_secrets import ENV, KEY, leaks
from tests.teachers.fake_openai import Drip, FakeOpenAI, Say, last_user

TIMEOUT = 1.0


def _prompts(path, n):
    return write_jsonl(path, [{"id": f"p{i}", "messages": [{"role": "user", "content": f"prompt {i}"}]}
                              for i in range(n)])


def _argv(src, out, url, *extra):
    return procs.cli("generate", "responses", str(src), "--out", str(out), "--teacher", f"openai:{url}",
                     "--model", "fake-model", "--n", "1", "--chunk-size", "2", "--json", *extra)


def _summary(log):
    return json.loads(log.read_text().strip().splitlines()[-1])


def test_slow_drip_endpoint_cannot_hold_a_request_past_the_timeout(tmp_path):
    drip = Drip(interval=0.2)  # a byte every 0.2 s: every read succeeds within any per-read timeout
    src, out, log = _prompts(tmp_path / "in.jsonl", 3), tmp_path / "out", tmp_path / "run.log"
    with FakeOpenAI(lambda req: drip) as fake:
        rc = procs.run(_argv(src, out, fake.url, "--timeout", str(TIMEOUT), "--retries", "0",
                             ), log)
    assert rc == 0, log.read_text()[-2000:]
    assert len(drip.held) == 3
    assert max(drip.held) <= TIMEOUT * 1.1, drip.held  # the acceptance: no request outlives --timeout by > 10%
    assert _summary(log)["counts"]["rejected_by_reason"] == {"teacher_timeout": 3}


def test_every_retry_is_bounded_and_the_record_ends_as_a_timeout_reject(tmp_path):
    """--retries 3 against a dripping endpoint: 4 attempts, each cut at --timeout, all inside the call's one
    deadline (synth.teachers.runner.call_deadline), and the record a `teacher_timeout` reject."""
    from synth.teachers.runner import call_deadline

    drip = Drip(interval=0.2)
    src, out, log = _prompts(tmp_path / "in.jsonl", 1), tmp_path / "out", tmp_path / "run.log"
    with FakeOpenAI(lambda req: drip) as fake:
        started = time.monotonic()
        rc = procs.run(_argv(src, out, fake.url, "--timeout", str(TIMEOUT), "--retries", "3",
                             "--retry-backoff", "0.5"), log)
        first_to_last = time.monotonic() - started
    assert rc == 0, log.read_text()[-2000:]
    assert len(drip.held) == 4 and max(drip.held) <= TIMEOUT * 1.1, drip.held
    assert sum(drip.held) < call_deadline(TIMEOUT, 3, 0.5) < first_to_last  # (the run includes start-up)
    assert _summary(log)["counts"]["rejected_by_reason"] == {"teacher_timeout": 1}


def test_a_reply_echoing_the_key_is_stored_without_it(tmp_path):
    src, out, log = _prompts(tmp_path / "in.jsonl", 4), tmp_path / "out", tmp_path / "run.log"

    def echo_auth(req):
        return Say(f"you sent {req.headers.get('Authorization')} for {last_user(req)}")

    with FakeOpenAI(echo_auth) as fake:
        rc = procs.run(_argv(src, out, fake.url), log, env=ENV)
        assert all(r.headers.get("Authorization") == f"Bearer {KEY}" for r in fake.completions())
    assert rc == 0, log.read_text()[-2000:]
    assert _summary(log)["counts"]["output"] == 4
    assert leaks([out, log]) == []
