"""Judge prompts: the text files in prompts/ filled with a candidate's conversation (string.Template, so the
conversation's own braces and dollars are inserted verbatim, never interpreted)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from string import Template

from synth.pipelines.judge.candidates import Candidate, clip, render
from synth.pipelines.judge.rubric import Rubric

FOLDER = Path(__file__).with_name("prompts")


@cache
def template(name: str) -> Template:
    return Template((FOLDER / f"{name}.txt").read_text(encoding="utf-8"))


def _reference(answer: str | None, limit: int) -> str:
    return f"\n[Reference answer (use it to check correctness)]\n{clip(answer, limit)}\n" if answer else ""


def pointwise_messages(candidate: Candidate, rubric: Rubric, limit: int) -> list[dict]:
    text = template("pointwise").substitute(
        criteria=rubric.text(), reference=_reference(candidate.answer, limit),
        conversation=render(candidate.prompt, limit), response=render(candidate.response, limit),
        shape=rubric.shape())
    return [{"role": "user", "content": text}]


def pairwise_messages(first: Candidate, second: Candidate, rubric: Rubric, limit: int) -> list[dict]:
    """`first` is shown as Response A, `second` as Response B (the prompt is `first`'s: they share it)."""
    text = template("pairwise").substitute(
        criteria=rubric.text(), reference=_reference(first.answer, limit),
        conversation=render(first.prompt, limit), response_a=render(first.response, limit),
        response_b=render(second.response, limit))
    return [{"role": "user", "content": text}]
