"""Teacher tasks and the datatrove rollout that runs them on synth records.

A task turns one input record into output records with the teacher's help:

    class MyTask(TeacherTask):
        async def run(self, record, session):          # session: synth.teachers.session.Session
            ...                                         # -> dict | [dict | Dropped, ...] | Dropped | Reject

`SingleShot` is the common case as two pure functions (curator/distilabel style): `prompt(record) ->
messages` and `parse(record, fields) -> record`, with `fields` a JSON value already validated against
`schema` (or the raw text when `schema` is None). Anything that goes wrong with one record -- a teacher
error after retries, an unparsable reply, a bug in the task -- becomes a reject with a stable reason
(raw teacher text kept) and never escapes the rollout: an exception there would abort the whole
datatrove task. Only "the teacher is gone" (datatrove ServerError) and cancellation propagate.
"""

from __future__ import annotations

import asyncio
import math
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from datatrove.pipeline.inference.types import ServerError

from synth import records
from synth.records import Reject
from synth.teachers.config import Teacher
from synth.teachers.errors import TeacherError
from synth.teachers.session import Session


@dataclass
class Dropped:
    """One output that did not make it (a reject with the record it would have been and the raw reply)."""

    reason: str
    detail: str | None = None
    raw: str | None = None
    record: dict | None = None


class TeacherTask:
    name = "teacher"
    parallel_calls = 1  # calls one record keeps in flight at once (sizes how many records run together)

    def docs_in_flight(self, max_concurrency: int) -> int:
        # A little over concurrency / parallel_calls, so a record finishing never leaves the engine idle.
        return max(2, math.ceil(max_concurrency * 1.25 / max(1, self.parallel_calls)))

    async def run(self, record: dict, session: Session) -> Any:
        raise NotImplementedError


class SingleShot(TeacherTask):
    """record -> prompt messages -> one (JSON) reply -> output record."""

    def __init__(self, prompt: Callable[[dict], list[dict]], parse: Callable[[dict, Any], Any],
                 schema: dict | None = None, name: str = "teacher", retries: int = 2, params: dict | None = None):
        self.prompt, self.parse, self.schema, self.name = prompt, parse, schema, name
        self.retries, self.params = retries, dict(params or {})

    async def run(self, record: dict, session: Session) -> Any:
        messages = self.prompt(record)
        if self.schema is not None:
            fields = await session.json(messages, self.schema, tag="main", retries=self.retries, **self.params)
            return self.parse(record, fields)
        reply = await session.chat(messages, tag="main", **self.params)
        if reply.finish_reason == "length":
            return Dropped("teacher_truncated", "the reply hit max_tokens", raw=reply.text)
        return self.parse(record, reply.text)


class SynthRollout:
    """datatrove rollout function: runs a TeacherTask on the synth record inside a Document."""

    def __init__(self, task: TeacherTask, teacher: Teacher):
        self.task, self.teacher = task, teacher

    async def __call__(self, document, generate, tool_pool=None, **_: Any) -> dict:
        meta = document.metadata[records.KEY]
        record = meta["record"]
        key = str(record.get("id") or meta["key"]) if isinstance(record, dict) else str(meta["key"])
        session = Session(generate, self.teacher, key, tool_pool)
        try:
            result = await self.task.run(record, session)
        except (ServerError, asyncio.CancelledError):
            raise
        except TeacherError as exc:
            result = Dropped(exc.reason, exc.detail or None, raw=exc.raw)
        except Exception as exc:  # noqa: BLE001 - one bad record must not stop the run
            result = Dropped("internal_error", f"{type(exc).__name__}: {exc}"[:500],
                             raw=traceback.format_exc(limit=8))
        if session.stopped is not None:
            # The task swallowed a "stop the run" (a cap reached, the teacher gone) and made a reject of it:
            # re-raise, so the record is done again on resume instead of being saved as failed.
            raise session.stopped
        records.add_usage(document, **session.usage)
        return apply(document, result, self.task.name)


def apply(document, result: Any, step: str) -> dict:
    """Store a task result in the document (kept records, rejects); returns a small summary."""
    items = result if isinstance(result, list) else [result]
    kept = [r for r in items if isinstance(r, dict)]
    dropped = [_dropped(r) for r in items if not isinstance(r, dict)]
    if not kept and not dropped:
        dropped = [Dropped("no_output", "the task produced nothing")]
    summary = {"kept": len(kept), "dropped": [d.reason for d in dropped]}
    if kept:
        records.set_record(document, kept[0])
        records.add_records(document, kept[1:])
    else:
        first = dropped.pop(0)
        if first.record is not None:  # the reject names the output that failed (e.g. candidate k), not the input
            records.set_record(document, first.record)
        records.mark_reject(document, Reject(first.reason, first.detail), step, raw=first.raw)
    for extra in dropped:
        records.add_reject(document, Reject(extra.reason, extra.detail), step, record=extra.record, raw=extra.raw)
    return summary


def _dropped(item: Any) -> Dropped:
    if isinstance(item, Dropped):
        return item
    if isinstance(item, Reject):
        return Dropped(item.reason, item.detail)
    if item is None:
        return Dropped("no_output", "the task returned None")
    return Dropped("internal_error", f"task returned {type(item).__name__}, expected dict/Dropped/Reject")
