"""The gated complexity-aware reward (acceptance): R = R_format + R_correct (+ R_time iff all tests pass)."""

from __future__ import annotations

import json

from synth.pipelines.code.reward import CodeReward, extract_code, reward

SEED = {
    "id": "equal_pairs", "entry_point": "equal_pairs", "complexity": "O(n)",
    "prompt": "Return the number of index pairs i < j with xs[i] == xs[j].",
    "reference_solution": ("def equal_pairs(xs: list[int]) -> int:\n    seen = {}\n    total = 0\n    for x in xs:\n"
                           "        total += seen.get(x, 0)\n        seen[x] = seen.get(x, 0) + 1\n    return total\n"),
    "generator": "def generate(n, rng):\n    return [[rng.randint(0, n // 4 + 1) for _ in range(n)]]\n",
}
LINEAR = ("Count as you go:\n```python\ndef equal_pairs(xs):\n    counts = {}\n    pairs = 0\n    for x in xs:\n"
          "        pairs += counts.get(x, 0)\n        counts[x] = counts.get(x, 0) + 1\n    return pairs\n```\n")
QUADRATIC = ("```python\ndef equal_pairs(xs):\n    pairs = 0\n    for i in range(len(xs)):\n        for j in range(i + 1, len(xs)):\n"
             "            if xs[i] == xs[j]:\n                pairs += 1\n    return pairs\n```")
FAILING = ("```python\ndef equal_pairs(xs):\n    counts = {}\n    for x in xs:\n        counts[x] = counts.get(x, 0) + 1\n"
           "    return sum(c * c for c in counts.values()) // 2\n```")


def test_correct_linear_completion_gets_the_full_time_reward(box, problem):
    r = reward(problem, LINEAR, sandbox=box)
    assert (r["format"], r["correctness"], r["time"], r["total"]) == (1.0, 1.0, 1.0, 3.0)


def test_correct_quadratic_completion_gets_no_time_reward(box, problem):
    r = reward(problem, QUADRATIC, sandbox=box)
    assert (r["format"], r["correctness"], r["time"]) == (1.0, 1.0, 0.0)
    assert r["details"]["completion_class"] in ("O(n^2)", "O(n^3)")


def test_failing_completion_never_gets_time_reward(box, problem):
    r = reward(problem, FAILING, sandbox=box)
    assert r["format"] == 1.0 and 0.0 < r["correctness"] < 1.0 and r["time"] == 0.0
    assert r["details"]["completion_class"] is None  # not even measured
    assert r["details"]["verdicts"]["wrong_answer"] >= 1


def test_format_failures_run_nothing(box, problem):
    for text in ("no code here", "```python\ndef other(xs):\n    return 0\n```", "```python\ndef equal_pairs(:\n```"):
        r = reward(problem, text, sandbox=box)
        assert r == {**r, "format": 0.0, "correctness": 0.0, "time": 0.0, "total": 0.0}


def test_extract_code_takes_the_last_qualifying_block():
    text = "```python\ndef f(x):\n    return 1\n```\nbetter:\n```python\ndef f(x):\n    return 2\n```"
    code, _ = extract_code(text, "function", "f")
    assert "return 2" in code
    assert extract_code("def f(x):\n    return 3\n", "function", "f")[0] is not None  # bare code


def test_trl_grpo_reward_function_signature(box, problem):
    """Called exactly as TRL's GRPOTrainer._calculate_rewards calls custom reward functions (a real
    GRPOTrainer step runs in test_trl_grpo.py, marked slow: importing trl alone takes ~10 s)."""
    fn = CodeReward(sandbox=box)
    assert fn.__name__ == "code_reward"
    completions = [[{"role": "assistant", "content": c}] for c in (LINEAR, QUADRATIC, FAILING, "nothing")]
    logged = {}
    rewards = fn(prompts=[[{"role": "user", "content": problem["prompt"]}]] * 4, completions=completions,
                 completion_ids=[[1, 2]] * 4, problem=[json.dumps(problem)] * 4, trainer_state=None,
                 log_extra=lambda column, values: None, log_metric=lambda name, value: logged.update({name: value}))
    assert rewards[0] == 3.0 and rewards[1] == 2.0 and 1.0 < rewards[2] < 2.0 and rewards[3] == 0.0
    assert set(logged) == {"code/format", "code/correctness", "code/time"}
    by_id = CodeReward(problems=[problem], sandbox=box, component="time")
    assert by_id(prompts=["p"], completions=[LINEAR], problem_id=[problem["id"]]) == [1.0]
