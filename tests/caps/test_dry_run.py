"""`--dry-run` and `--pilot N`: projected requests, tokens and cost, with nothing sent (counted) or only the
pilot's records sent, and nothing written to --out; every teacher command has the flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from synth.teachers.budget import estimate_prompt_tokens
from tests.caps.helpers import COMPLETION_TOKENS, PROMPT_TOKENS, cli, priced_echo, prompts, responses
from tests.core.helpers import trajectory, write_jsonl


def _records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_dry_run_counts_requests_and_prompt_tokens_sends_and_writes_nothing(fake_openai, tmp_path):
    src, out = prompts(tmp_path), tmp_path / "out"
    res, plan = responses(fake_openai, src, out, "--dry-run", "--price", "0.5:1.5", "--max-tokens", "100")
    assert res.returncode == 0, res.stderr
    assert not out.exists() and not fake_openai.requests  # not even the pre-flight GET /models
    assert plan["status"] == "dry_run" and plan["basis"] == "counted"
    assert (plan["records"], plan["records_to_do"], plan["requests"]) == (12, 12, 24)  # n=2 per prompt
    # an openai endpoint: estimated (and said so); both candidates of a prompt send the same messages
    expected = sum(2 * estimate_prompt_tokens(r["messages"]) for r in _records(src))
    assert plan["prompt_tokens"] == expected and plan["prompt_tokens_by"].startswith("estimate")
    assert plan["completion_tokens"] == 24 * 100 and plan["completion_tokens_by"].startswith("upper bound")
    assert plan["cost_usd"] == pytest.approx((expected * 0.5 + 2400 * 1.5) / 1e6)
    assert plan["total_tokens"] == expected + 2400


def test_dry_run_of_a_capped_out_projects_what_is_left_and_the_caps_reach(fake_openai, tmp_path):
    fake_openai.handler = priced_echo
    src, out = prompts(tmp_path), tmp_path / "out"
    res, _ = responses(fake_openai, src, out, "--max-tokens-total", "100")
    assert res.returncode == 3
    sent = len(fake_openai.completions())
    res, plan = responses(fake_openai, src, out, "--dry-run", "--max-tokens-total", "100")
    assert res.returncode == 0 and len(fake_openai.completions()) == sent
    assert 0 < plan["records_done"] < 12 and plan["records_to_do"] == 12 - plan["records_done"]
    assert plan["requests"] == 2 * plan["records_to_do"]
    assert plan["cap_covers"] == 0 and any("cover" in note for note in plan["notes"])  # the cap is spent


def test_pilot_runs_n_records_for_real_and_extrapolates(fake_openai, tmp_path):
    fake_openai.handler = priced_echo
    src, out = prompts(tmp_path), tmp_path / "out"
    res, plan = responses(fake_openai, src, out, "--pilot", "3", "--price", "1:2")
    assert res.returncode == 0, res.stderr
    assert not out.exists()
    assert len(fake_openai.completions()) == 6  # 3 records x 2 candidates, nothing else
    assert plan["pilot"]["records"] == 3 and plan["pilot"]["output"] == 6
    assert plan["basis"] == "pilot (3 records)"
    assert (plan["requests"], plan["prompt_tokens"], plan["completion_tokens"]) == (
        24, 24 * PROMPT_TOKENS, 24 * COMPLETION_TOKENS)
    assert plan["cost_usd"] == pytest.approx((240 * 1 + 120 * 2) / 1e6)


def test_dry_run_of_json_calls_counts_one_review_per_turn(fake_openai, tmp_path):
    """label turns --judge llm: a JSON-schema call per assistant turn; the placeholder reply satisfies the
    schema, so no parse retry is counted."""
    src = write_jsonl(tmp_path / "t.jsonl", [trajectory(i) for i in range(5)])  # 2 assistant turns each
    res = cli("label", "turns", str(src), "--out", str(tmp_path / "out"), "--judge", "llm", "--teacher",
              f"openai:{fake_openai.url}", "--model", "fake-model", "--dry-run", "--json")
    assert res.returncode == 0, res.stderr
    plan = json.loads(res.stdout)
    assert plan["requests"] == 10 and not fake_openai.completions() and not (tmp_path / "out").exists()
    assert not any("schema the placeholder" in note for note in plan["notes"])


def test_dry_run_of_multi_turn_rollouts_says_it_counts_one_turn(fake_openai, tmp_path):
    from synth.engine import Job, Runtime, run_job
    from synth.teachers.agent import AgentLoop
    from synth.teachers.config import Teacher
    from synth.teachers.job import teacher_job
    from synth.teachers.spec import parse_spec
    from synth.teachers.tasks import TeacherTask

    spec = [{"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}}]

    class Agent(TeacherTask):
        async def run(self, record, session):
            loop = AgentLoop(tools={"search": lambda args: "found"}, tool_specs=spec, max_turns=8)
            trajectory = await loop.run(session, [{"role": "user", "content": record["question"]}])
            return {"id": record["id"], "messages": trajectory.messages}

    src = write_jsonl(tmp_path / "q.jsonl", [{"id": f"q{i}", "question": f"question {i}?"} for i in range(4)])
    teacher = Teacher(parse_spec(f"openai:{fake_openai.url}", "fake-model"))
    job = Job(command="test agent", out=tmp_path / "out", kind="generic", config={}, inputs=[str(src)],
              **teacher_job(Agent(), teacher))
    plan = run_job(job, Runtime(progress=False, dry_run=True))
    assert plan["requests"] == 4 and not fake_openai.completions()
    assert any("multi-turn" in note and "ONE model turn" in note for note in plan["notes"])


def test_every_teacher_command_has_the_budget_flags():
    import typer

    from synth.cli import app

    def commands(group, path=()):
        for name, sub in getattr(group, "commands", {}).items():
            yield from commands(sub, (*path, name)) if hasattr(sub, "commands") else [((*path, name), sub)]

    found = {" ".join(path): {p.name for p in cmd.params} for path, cmd in commands(typer.main.get_command(app))}
    teacher_commands = sorted(name for name, params in found.items() if "teacher" in params)
    assert {"generate responses", "generate trajectories", "label turns", "judge pointwise"} <= set(teacher_commands)
    for name in teacher_commands:
        assert {"dry_run", "pilot", "price", "max_tokens_total", "max_cost"} <= found[name], name


def test_budget_flags_come_from_a_config_file_and_stay_out_of_the_config_hash(fake_openai, tmp_path):
    fake_openai.handler = priced_echo
    src, out = prompts(tmp_path, 4), tmp_path / "out"
    (tmp_path / "c.toml").write_text('max-tokens-total = 30\nprice = "1:1"\n')
    res, capped = responses(fake_openai, src, out, "--config", str(tmp_path / "c.toml"))
    assert res.returncode == 3 and capped["budget"]["max_tokens_total"] == 30
    res, done = responses(fake_openai, src, out, "--max-tokens-total", "1000")
    assert res.returncode == 0 and done["status"] == "complete"
    manifest = json.loads((out / "manifest.json").read_text())
    assert not {"max_tokens_total", "price", "max_cost", "dry_run", "pilot"} & set(manifest["config"])


@pytest.mark.parametrize("schema_file", sorted(p.name for p in (Path(__file__).resolve().parents[2] / "schemas")
                                               .glob("*teacher*.schema.json")))
def test_placeholders_satisfy_the_teacher_schemas(schema_file):
    from synth.teachers.dry import placeholder
    from synth.teachers.structured import first_schema_error

    schema = json.loads((Path(__file__).resolve().parents[2] / "schemas" / schema_file).read_text())
    assert first_schema_error(placeholder(schema), schema) is None


def test_placeholders_satisfy_the_pipelines_schemas():
    from synth.pipelines.deepsearch import llm
    from synth.pipelines.judge.rubric import load_rubric
    from synth.pipelines.judge.verdicts import verdict_schema
    from synth.pipelines.labels.critic import CRITIC_SCHEMA
    from synth.pipelines.trajectories.judge import JUDGE_SCHEMA

    from synth.teachers.dry import placeholder
    from synth.teachers.structured import first_schema_error

    found = [CRITIC_SCHEMA, JUDGE_SCHEMA, llm.SPECIFIC_SCHEMA, llm.QUESTION_SCHEMA, llm.ANSWER_SCHEMA,
             verdict_schema(), load_rubric(None).schema()]
    for schema in found:
        assert first_schema_error(placeholder(schema), schema) is None, schema
