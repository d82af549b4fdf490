"""How a teacher call can fail, and what each failure means for the run.

    TeacherError       one call failed for good (after retries): the record becomes a reject with `reason`.
    TransientError     one attempt failed in a way worth retrying (5xx, 429, timeout, reset, garbled body).
    TeacherUnavailable the teacher as a whole is unusable (auth refused, model unknown, endpoint down for
                       many calls in a row, engine died): the datatrove task stops; a re-run resumes.

`TeacherError` subclasses datatrove's `InferenceError` so datatrove's request path passes it through
untouched; `TeacherUnavailable` subclasses `ServerError`, which datatrove re-raises to abort the task.
Every message passes through `spec.scrub` so a key echoed back by a server never reaches a reject file.
"""

from __future__ import annotations

from datatrove.pipeline.inference.types import InferenceError, ServerError

from synth.teachers.spec import scrub


class TeacherError(InferenceError):
    """A call that failed for good; `reason` is the stable snake_case reject reason."""

    def __init__(self, reason: str, detail: str = "", raw: str | None = None):
        self.reason, self.detail, self.raw = reason, scrub(detail)[:500], scrub(raw) if raw else raw
        super().__init__(None, f"{reason}: {self.detail}")

    def __reduce__(self):  # picklable across worker processes
        return (type(self), (self.reason, self.detail, self.raw))


class TransientError(TeacherError):
    """One attempt failed; retried with backoff, and a TeacherError with the same reason when retries run out."""


class TeacherUnavailable(ServerError):
    """The teacher cannot serve this run at all; stops the task (finished chunks are kept)."""

    def __init__(self, message: str):
        self.message = scrub(message)
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):
        return (type(self), (self.message,))
