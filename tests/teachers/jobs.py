"""Teacher jobs for tests that no CLI command runs yet: a JSON single-shot task and a multi-turn agent.

Run in-process (`run_json_job`, `run_agent_job`) or as a subprocess that a test can SIGKILL:
    python -m tests.teachers.jobs agent IN OUT --url URL --model NAME [--tool-delay S] [--max-turns T]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from functools import partial
from pathlib import Path

from synth.teachers.agent import AgentLoop
from synth.teachers.tasks import SingleShot, TeacherTask

SCORE_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["score", "verdict", "reason", "tags"],
    "properties": {
        "score": {"type": "integer", "minimum": 1, "maximum": 10},
        "verdict": {"enum": ["good", "bad"]},
        "reason": {"type": "string", "maxLength": 40},
        "tags": {"type": "array", "items": {"type": "string", "maxLength": 8}, "maxItems": 3},
    },
}
TOOL_CALL_REGEX = (r'(<tool_call>\{"name": "search", "arguments": \{"q": "[a-z ]{1,12}"\}\}</tool_call>'
                   r'|ANSWER: [a-z ]{1,20})')


def score_prompt(record: dict) -> list[dict]:
    return [{"role": "user", "content": f"Score this answer: {record['question']}"}]


def score_parse(record: dict, fields: dict) -> dict:
    return {**record, "judgement": fields}


def search(delay: float, log: str | None, arguments: dict) -> str:
    """A slow, logged tool: the log shows how often it really ran (cached replays do not run it)."""
    time.sleep(delay)
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(arguments) + "\n")
    return f"results for {arguments.get('q')!r}"


class AgentTask(TeacherTask):
    name = "agent"
    parallel_calls = 1

    def __init__(self, max_turns: int = 8, tool_delay: float = 0.0, log: str | None = None,
                 constrain: bool = False):
        self.loop = AgentLoop(tools={"search": partial(search, tool_delay, log)}, max_turns=max_turns,
                              turn_params={"structured_outputs": {"regex": TOOL_CALL_REGEX}} if constrain else {})

    def docs_in_flight(self, max_concurrency: int) -> int:
        return max(2, 2 * max_concurrency)  # half of a trajectory's time is spent in tools

    async def run(self, record: dict, session) -> dict:
        trajectory = await self.loop.run(session, [{"role": "user", "content": record["question"]}])
        return {"id": record["id"], "question": record["question"], "messages": trajectory.messages,
                "metadata": {"stop": trajectory.stop, "turns": trajectory.turns, "tool_calls": trajectory.tool_calls}}


def _teacher(url: str, model: str, **options):
    from synth.teachers.config import Teacher, TeacherOptions
    from synth.teachers.spec import parse_spec

    return Teacher(parse_spec(f"openai:{url}", model), TeacherOptions(**options))


def run_task_job(task: TeacherTask, inputs: list[str], out: Path, url: str, model: str, kind: str = "generic",
                 chunk_size: int = 4, **options) -> dict:
    from synth.engine import Job, Runtime, run_job
    from synth.teachers.job import teacher_job

    teacher = _teacher(url, model, **options)
    job = Job(command=f"test {task.name}", out=Path(out), kind=kind, config={"task": task.name, **options},
              inputs=inputs, chunk_size=chunk_size, **teacher_job(task, teacher))
    return run_job(job, Runtime(progress=False))


def run_json_job(inputs, out, url, model, **options) -> dict:
    task = SingleShot(score_prompt, score_parse, schema=SCORE_SCHEMA, name="score")
    return run_task_job(task, inputs, out, url, model, **options)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("what", choices=["agent"])
    parser.add_argument("input")
    parser.add_argument("out")
    parser.add_argument("--url", required=True)
    parser.add_argument("--model", default="fake-model")
    parser.add_argument("--tool-delay", type=float, default=0.0)
    parser.add_argument("--max-turns", type=int, default=8)
    parser.add_argument("--tool-log")
    parser.add_argument("--constrain", action="store_true")
    parser.add_argument("--max-concurrency", type=int, default=4)
    args = parser.parse_args(argv)
    task = AgentTask(args.max_turns, args.tool_delay, args.tool_log, args.constrain)
    summary = run_task_job(task, [args.input], Path(args.out), args.url, args.model,
                           max_concurrency=args.max_concurrency, backoff=0.01)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
