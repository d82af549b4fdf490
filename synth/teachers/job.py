"""Plug a teacher task into a synth Job: `Job(..., **teacher_job(task, teacher))`.

The InferenceRunner becomes the job's tail and writes through the job's DatasetWriter. Its chunks are the
engine's chunks (records_per_chunk == chunk_size, both counted from the first record of the task), so a
committed chunk means the same thing to both; and because the runner resumes by counting documents from
the start of its task, the source must hand it every document (skip_done=False) and let it skip.
"""

from __future__ import annotations

from synth.teachers.config import Teacher


class TeacherTail:
    """Job.tail: (writer, chunk_size) -> [TeacherRunner]. Built in the driver, then pickled to the workers."""

    def __init__(self, task, teacher: Teacher):
        self.task, self.teacher = task, teacher

    def __call__(self, writer, chunk_size: int) -> list:
        from synth.teachers.runner import TeacherRunner

        return [TeacherRunner(self.task, self.teacher, writer, chunk_size)]

    def project(self, job, docs, total: int, rt) -> dict:
        """--dry-run: the requests, tokens and cost this job would spend on `docs` (synth.teachers.projection)."""
        from synth.teachers.projection import project

        return project(job, self.task, self.teacher, docs, total, rt)

    def report(self, out) -> dict:
        """What the teacher cost this --out so far (every run), against the caps: for the command summary."""
        from synth.teachers.budget import total_spend

        return {"budget": self.teacher.budget.summary(total_spend(out))}


def teacher_job(task, teacher: Teacher) -> dict:
    """The Job fields that run `task` on `teacher` (spread them into Job(...))."""
    if teacher.spec.kind == "none":
        raise ValueError("teacher 'none' has no engine; build a rule-based job instead")
    return {"tail": TeacherTail(task, teacher), "skip_done": False}
