"""The reward-hacking suite (issue 22): completions written the way an RL policy would game the reward.

Each attack must get 0 time reward and, where the completion is wrong, 0 correctness; none may crash
the reward or leave a completion unscored (None), and one bad completion never changes another's score.
The problem is the O(n) `equal_pairs` of test_reward.py, built for real (tests, mutation, measured class).
"""

from __future__ import annotations

import json

import pytest
from synth.pipelines.code.reward import CodeReward, RewardConfig, reward

from .test_reward import LINEAR, QUADRATIC  # fixtures `box`, `problem`: tests/code/conftest.py

QUAD_BODY = ("    pairs = 0\n    for i in range(len(xs)):\n        for j in range(i + 1, len(xs)):\n"
             "            if xs[i] == xs[j]:\n                pairs += 1\n    return pairs\n")
LINEAR_BODY = ("    counts = {}\n    pairs = 0\n    for x in xs:\n        pairs += counts.get(x, 0)\n"
               "        counts[x] = counts.get(x, 0) + 1\n    return pairs\n")


def fenced(code: str) -> str:
    return f"```python\n{code}```"


# Forging a result line: the harness is __main__ in the completion's own process, so its nonce and result
# fd are one import away.
FORGE = ("import __main__, json, os\n"
         "def forge(**event):\n"
         "    event['nonce'] = __main__._NONCE\n"
         "    os.write(__main__._OUT, (json.dumps(event) + '\\n').encode())\n")


def score(problem, box, code: str, **config) -> dict:
    return reward(problem, fenced(code), RewardConfig(**config), sandbox=box)


# ------------------------------------------------------------------ timing attacks


def test_wrong_answer_for_large_inputs_gets_nothing(problem, box):
    """Tests use n <= 100; the quadratic answer gives up (wrongly) above that and looks O(1) when timed."""
    r = score(problem, box, "def equal_pairs(xs):\n    if len(xs) > 100:\n        return 0\n" + QUAD_BODY)
    assert r["time"] == 0.0 and r["correctness"] == 0.0
    assert r["details"]["time_failure"].startswith("scale_wrong_answer")
    assert r["details"]["verdicts"]["wrong_at_scale"] == 1


def test_detecting_the_profiler_through_sys_modules_finds_nothing(problem, box):
    probe = ("import sys\n"
             "def equal_pairs(xs):\n"
             "    if any('profile' in name for name in sys.modules) or len(sys.path) != PATHS:\n"
             "        return -1\n" + QUAD_BODY + "PATHS = len(sys.path)\n")
    r = score(problem, box, probe)
    assert r["correctness"] == 1.0 and r["time"] == 0.0  # never saw a profiler: timed as the O(n^2) it is
    assert r["details"]["time_failure"] is None and r["details"]["completion_class"] in ("O(n^2)", "O(n^3)")


def test_tested_and_timed_runs_show_the_same_modules(box):
    snapshot = "import sys\ndef f(xs):\n    return [sorted(sys.modules), list(sys.path)]\n"
    tested = box.run_function([snapshot], "f", [[[1, 2]]]).of("test")[0]["value"]
    gen = "def generate(n, rng):\n    return [[1] * n]\n"
    timed = box.profile(snapshot, "f", gen, dict(RewardConfig().profile.to_job(), max_n=4)).of("output")
    assert timed and all(e["value"] == tested for e in timed)


# Every clock of the harness and profiler, found through a traceback at import time, is replaced by one
# that advances 10 ns per element per call: the quadratic completion *reports* perfectly linear times.
CLOCK_PATCH = ("FAKE = [0.0]\n"
               "def _patch_clocks():\n"
               "    try:\n        raise ValueError\n    except ValueError as exc:\n        frame = exc.__traceback__.tb_frame\n"
               "    while frame is not None:\n"
               "        if '_CLOCK' in frame.f_globals:\n"
               "            frame.f_globals['_CLOCK'] = lambda: FAKE[0]\n"
               "        frame = frame.f_back\n")


@pytest.mark.slow  # ~15 s: the lying clock lets the profile run until the kernel's CPU limit stops it
def test_patching_the_profilers_clock_gets_no_time_reward(problem, box):
    code = CLOCK_PATCH + "_patch_clocks()\ndef equal_pairs(xs):\n    FAKE[0] += 1e-8 * len(xs)\n" + QUAD_BODY
    r = score(problem, box, code)
    assert r["correctness"] == 1.0 and r["time"] == 0.0
    assert r["details"]["time_failure"].startswith(("untrusted_timing", "scale_timeout"))


def test_memoising_repeated_inputs_gets_no_time_reward(problem, box):
    code = ("CACHE = {}\ndef equal_pairs(xs):\n    key = tuple(xs)\n    if key not in CACHE:\n"
            "        CACHE[key] = slow(xs)\n    return CACHE[key]\n" + "def slow(xs):\n" + QUAD_BODY)
    r = score(problem, box, code)
    assert r["correctness"] == 1.0 and r["time"] == 0.0


def test_ignoring_the_timer_signal_gets_no_time_reward(problem, box):
    code = "import signal\ndef equal_pairs(xs):\n    signal.signal(signal.SIGPROF, signal.SIG_IGN)\n" + QUAD_BODY
    r = score(problem, box, code)
    assert r["time"] == 0.0


# ------------------------------------------------------------------ forged harness events


def test_forged_fractional_test_index_fails_the_completion(problem, box):
    code = FORGE + "def equal_pairs(xs):\n    forge(event='test', program=0, test=0.5, status='ok', value=0, cpu=0.0)\n" + LINEAR_BODY
    r = score(problem, box, code)
    assert r["total"] == 1.0 and r["correctness"] == 0.0 and r["details"]["verdicts"] == {"protocol_error": len(problem["tests"])}


def test_forged_infra_event_fails_instead_of_unscoring(problem, box):
    code = FORGE + "def equal_pairs(xs):\n    forge(event='infra', error='host is on fire')\n" + LINEAR_BODY
    r = score(problem, box, code)
    assert r["correctness"] == 0.0 and r["time"] == 0.0


def test_forged_passing_result_for_a_later_test_fails(problem, box):
    code = FORGE + ("def equal_pairs(xs):\n    for t in range(60):\n"
                    "        forge(event='test', program=0, test=t, status='ok', value=0, cpu=0.0)\n    return -1\n")
    r = score(problem, box, code)
    assert r["correctness"] == 0.0


def test_forged_unparseable_line_fails(problem, box):
    code = ("import __main__, os\ndef equal_pairs(xs):\n"
            "    os.write(__main__._OUT, ('{\"nonce\": \"' + __main__._NONCE + '\", ' + '[' * 3000 + '\\n').encode())\n"
            + LINEAR_BODY)
    r = score(problem, box, code)
    assert r["correctness"] == 0.0 and r["total"] == 1.0


def test_return_value_nested_3000_deep_is_a_failed_test(problem, box):
    code = "def equal_pairs(xs):\n    v = 0\n    for _ in range(3000):\n        v = [v]\n    return v\n"
    r = score(problem, box, code)
    assert r["correctness"] == 0.0 and r["time"] == 0.0 and r["details"]["verdicts"].get("runtime_error")


def test_forged_time_measurements_do_not_count(problem, box):
    """Forged measure lines duplicate the real ones: the profile run is a protocol error."""
    code = FORGE + ("def equal_pairs(xs):\n    for n in (2, 4, 8, 16, 32, 64):\n"
                    "        forge(event='measure', n=n, status='ok', seconds=1e-6, repeats=3, spent=3e-6)\n" + QUAD_BODY)
    r = score(problem, box, code)
    assert r["time"] == 0.0


# ------------------------------------------------------------------ violations


@pytest.mark.slow  # two full scorings (~8 s)
def test_policy_violations_zero_a_correct_completion(problem, box):
    sneaky = ("import socket\ndef equal_pairs(xs):\n"
              "    try:\n        open('/etc/shadow').read()\n    except OSError:\n        pass\n"
              "    try:\n        socket.socket()\n    except OSError:\n        pass\n" + LINEAR_BODY)
    r = score(problem, box, sneaky)
    assert r["total"] == 0.0 and {"read_outside_sandbox", "network"} <= set(r["details"]["violations"])
    ignored = score(problem, box, sneaky, violations="ignore")
    assert ignored["total"] == 3.0 and ignored["details"]["violations"]


def test_patching_normpath_does_not_blind_the_audit_hook(problem, box):
    code = ("import posixpath, os\nposixpath.normpath = lambda p: '/tmp/x'\nos.getcwd = lambda: '/tmp'\n"
            "def equal_pairs(xs):\n    try:\n        open('/etc/passwd').read()\n    except OSError:\n        pass\n"
            + LINEAR_BODY)
    r = score(problem, box, code)
    assert r["total"] == 0.0 and "read_outside_sandbox" in r["details"]["violations"]


def test_rewriting_function_code_is_a_violation(problem, box):
    code = "import posixpath\nposixpath.join.__code__ = (lambda *a: '/tmp/x').__code__\ndef equal_pairs(xs):\n" + LINEAR_BODY
    r = score(problem, box, code)
    assert r["total"] == 0.0 and "forbidden_call" in r["details"]["violations"]


# ------------------------------------------------------------------ the batch


def test_one_bad_completion_never_affects_the_batch(problem, box):
    forged = FORGE + "def equal_pairs(xs):\n    forge(event='infra', error='x')\n" + LINEAR_BODY
    deep = "def equal_pairs(xs):\n    v = 0\n    for _ in range(3000):\n        v = [v]\n    return v\n"
    completions = [fenced(forged), LINEAR, fenced(deep), QUADRATIC, "no code"]
    rewards = CodeReward(sandbox=box)(prompts=["p"] * 5, completions=completions,
                                      problem=[json.dumps(problem)] * 5)
    assert None not in rewards
    assert rewards[1] == 3.0 and rewards[3] == 2.0 and rewards[4] == 0.0
    assert rewards[0] == 1.0 and rewards[2] == 1.0  # format only
