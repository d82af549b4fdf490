"""The fast slice of the crash campaign: one trial per command by default (a teacher command's trial is a
"hold" kill: exact request accounting). `RELIABILITY_TRIALS=20 pytest tests/reliability/test_crash.py` runs
20 per command; `python -m tests.reliability.campaign crash` runs the campaign and prints the figures table.

Each long command is SIGKILLed (whole process group) at seeded random points and re-run; the result must equal
a clean run record for record (ids and content; for `train`, every logged step's loss and the final weights
byte for byte), no process of the killed group may survive, and no teacher request answered before the kill
may be sent again (counted at the scripted server).
"""

from __future__ import annotations

import os

import pytest

from tests.reliability.crash import Campaign
from tests.reliability.scenarios import SCENARIOS
from tests.teachers.fake_openai import FakeOpenAI

TRIALS = int(os.environ.get("RELIABILITY_TRIALS", "0"))
FAST = {"generate deepsearch": [1], "label turns": [1], "filter": [0], "train": [0]}  # trial indexes (odd: hold)


@pytest.fixture(scope="module")
def server():
    with FakeOpenAI() as fake:
        yield fake


@pytest.mark.slow
@pytest.mark.parametrize("command", list(FAST))
def test_sigkill_at_random_points_then_rerun_equals_clean_run(command, server, tmp_path):
    campaign = Campaign(SCENARIOS[command](), tmp_path, server, seed=0)
    campaign.reference()
    trials = [campaign.trial(i) for i in (range(TRIALS) if TRIALS else FAST[command])]
    extra = max(FAST[command]) + 1
    while not TRIALS and not any(t.kills for t in trials) and extra < 4:  # the kill came after the run ended
        trials.append(campaign.trial(extra))
        extra += 1
    for t in trials:
        assert t.ok, f"{t.command} trial {t.trial} ({t.mode}, {t.kill_points}): {t.note}; see {tmp_path}"
        assert t.lost == t.duplicated == t.changed == t.survivors == 0 and t.identical
        if t.mode == "hold":
            assert t.resent == 0 and t.answered_before_kill > 0 and t.unasked == 0
    assert sum(t.kills for t in trials) >= 1, "every kill landed after the run had finished"
