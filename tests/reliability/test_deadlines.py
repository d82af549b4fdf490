"""Issue 28, points 6-7a: --timeout bounds a whole teacher request (a slow-drip endpoint cannot hold one past
it), retries live inside one deadline, a record out of time is a `teacher_timeout` reject; a 200 reply that
echoes the API key is stored without it."""

import json

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


def test_retries_count_inside_one_deadline(tmp_path):
    """--retries 3 with a dripping endpoint: 4 attempts of 1 s would fit --timeout x 4, but the backoff between
    them counts too, so the call ends at its deadline (4 s) however the time is split."""
    drip = Drip(interval=0.2)
    src, out, log = _prompts(tmp_path / "in.jsonl", 1), tmp_path / "out", tmp_path / "run.log"
    with FakeOpenAI(lambda req: drip) as fake:
        rc = procs.run(_argv(src, out, fake.url, "--timeout", str(TIMEOUT), "--retries", "3",
                             "--retry-backoff", "0.5"), log)
    assert rc == 0, log.read_text()[-2000:]
    assert sum(drip.held) <= TIMEOUT * 4 * 1.1, drip.held
    assert len(drip.held) < 4  # the backoff ate into the deadline: not every attempt ran
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
