"""`--max-tokens-total` / `--max-cost`: a capped run stops at the cap (exit 3, status "capped"), keeps what it
finished, sends nothing more while the cap stands, and resumes to the clean run's exact output when the cap
is raised, without asking the teacher anything it had answered (counted at the scripted server)."""

from __future__ import annotations

import json

import pytest

from tests.caps.helpers import COMPLETION_TOKENS, PROMPT_TOKENS, frame, priced_echo, prompts, responses
from tests.teachers.fake_openai import FakeOpenAI

PER_REQUEST = PROMPT_TOKENS + COMPLETION_TOKENS


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    """The uncapped run every capped run must end up equal to (its own server: the output does not depend
    on which server instance answers, only on the prompts and seeds)."""
    tmp = tmp_path_factory.mktemp("clean")
    with FakeOpenAI(priced_echo) as server:
        res, _ = responses(server, prompts(tmp), tmp / "clean")
        assert res.returncode == 0, res.stderr
        assert len(server.completions()) == 24  # 12 prompts x 2 candidates
    return tmp / "clean"


def _subset_of_clean(out, clean) -> int:
    made = {row["id"]: row for row in frame(clean).to_dicts()}
    kept = frame(out).to_dicts()
    assert all(row == made[row["id"]] for row in kept)  # what a capped run keeps is what a clean run makes
    return len(kept)


def test_capped_run_stops_at_the_cap_keeps_its_work_and_resumes(fake_openai, clean, tmp_path):
    fake_openai.handler = priced_echo
    src = prompts(tmp_path)
    out, sent = tmp_path / "out", lambda: len(fake_openai.completions())

    res, capped = responses(fake_openai, src, out, "--max-tokens-total", "100")
    assert res.returncode == 3, res.stderr
    assert capped["status"] == "capped" and capped["exit_code"] == 3 and "--max-tokens-total" in capped["message"]
    # 15 tokens a request; one is admitted while the spend plus the requests in flight stays under the cap:
    # the 7th (spend 90) is the last one, and the run stops at 105.
    assert sent() == 7
    assert capped["budget"]["spent_tokens"] == 7 * PER_REQUEST and capped["budget"]["requests"] == 7
    assert 0 < _subset_of_clean(out, clean) < 24
    assert capped["counts"]["output"] == len(frame(out))
    assert not (out / "manifest.json").exists()  # a manifest means complete

    res, again = responses(fake_openai, src, out, "--max-tokens-total", "100")  # the cap stands: nothing is sent
    assert res.returncode == 3 and again["status"] == "capped" and sent() == 7

    res, final = responses(fake_openai, src, out, "--max-tokens-total", "1000")  # raised: not a config change
    assert res.returncode == 0, res.stderr
    assert final["status"] == "complete"
    assert frame(out).equals(frame(clean))
    assert sent() == 24  # nothing answered before the cap was asked again
    assert final["budget"]["requests"] == 24 and final["budget"]["spent_tokens"] == 24 * PER_REQUEST
    tokens = json.loads((out / "manifest.json").read_text())["tokens"]
    assert tokens["requests"] + tokens.get("cached_requests", 0) == 24


def test_cost_cap_needs_a_price_and_stops_at_the_cost(fake_openai, tmp_path):
    fake_openai.handler = priced_echo
    src = prompts(tmp_path)
    res, _ = responses(fake_openai, src, tmp_path / "x", "--max-cost", "0.1")
    assert res.returncode == 2 and "--price" in res.stderr and len(res.stderr.strip().splitlines()) == 1
    assert not fake_openai.completions()

    out = tmp_path / "out"
    # $1000 / $2000 per million tokens: 10 prompt + 5 completion tokens cost $0.02 a request
    res, capped = responses(fake_openai, src, out, "--price", "1000:2000", "--max-cost", "0.1")
    assert res.returncode == 3, res.stderr
    assert len(fake_openai.completions()) == 5
    assert capped["budget"]["spent_cost_usd"] == 0.1 and capped["budget"]["max_cost_usd"] == 0.1

    res, final = responses(fake_openai, src, out, "--price", "1000:2000", "--max-cost", "1")
    assert res.returncode == 0 and final["status"] == "complete"
    assert len(fake_openai.completions()) == 24 and final["budget"]["spent_cost_usd"] == 0.48


@pytest.mark.slow  # a pool of 2 worker processes
def test_the_cap_is_shared_by_concurrent_tasks(fake_openai, clean, tmp_path):
    fake_openai.handler = priced_echo
    src = prompts(tmp_path)
    out = tmp_path / "out"
    res, capped = responses(fake_openai, src, out, "--workers", "2", "--tasks", "2", "--max-tokens-total", "100")
    assert res.returncode == 3, res.stderr
    assert capped["stopped_tasks"] == "2 of 2"
    spent = capped["budget"]["spent_tokens"]
    assert 100 <= spent <= 100 + 2 * PER_REQUEST  # at most one request past the cap per task
    assert spent == len(fake_openai.completions()) * PER_REQUEST
    _subset_of_clean(out, clean)

    res, _ = responses(fake_openai, src, out, "--workers", "2", "--max-tokens-total", "10000")
    assert res.returncode == 0, res.stderr
    assert frame(out).equals(frame(clean)) and len(fake_openai.completions()) == 24


def test_requests_in_flight_near_the_cap_pass_it_by_at_most_one(fake_openai, tmp_path):
    """With a small --max-tokens the reservations let several requests fly at once right up to the cap; the
    spend still stops within one request past it (the reservation is an upper bound of each request)."""
    fake_openai.handler = priced_echo
    res, capped = responses(fake_openai, prompts(tmp_path), tmp_path / "out", "--max-tokens", "5",
                            "--max-tokens-total", "100")
    assert res.returncode == 3, res.stderr
    assert 100 <= capped["budget"]["spent_tokens"] <= 100 + PER_REQUEST
    assert capped["budget"]["spent_tokens"] == len(fake_openai.completions()) * PER_REQUEST
