"""Which command makes each record kind, so a command given the wrong kind can say what it got and what to
run first ("this is a deepsearch_task dataset; make trajectory records with `synth generate trajectories`")
instead of the first schema field that happens to be missing."""

from __future__ import annotations

from synth import schemas
from synth.errors import InputError

# kind -> the command (or commands) whose output is that kind; the order is the pipeline's.
MADE_BY = {
    "corpus_document": "`synth corpus build`",
    "deepsearch_task": "`synth generate deepsearch`",
    "trajectory": "`synth generate trajectories` (or `synth import --kind trajectory --from FORMAT`)",
    "code_problem": "`synth generate code`",
    "code_reward": "`synth reward code`",
    "preference_pair": "`synth judge pairwise`",
    "eval_result": "`synth eval deepsearch|code`",
    "rl_task": "`synth export trajectories --to rl`",
}
# Kinds a record is tried against when guessing what a plain file holds (teacher-output schemas excluded).
GUESSABLE = tuple(MADE_BY)


def _needs(want: str) -> str:
    made_by = MADE_BY.get(want)
    return f"this command needs {want} records" + (f"; make them with {made_by}" if made_by else "")


def stored_mismatch(path: str, got: str | None, want: str) -> InputError | None:
    """A synth dataset whose manifest says another kind (generic datasets are checked record by record)."""
    if not got or got in (want, schemas.GENERIC):
        return None
    return InputError(path, None, f"this is a {got} dataset, but {_needs(want)}")


def guess(record: dict, want: str) -> str | None:
    """The kind a record that fails `want` validates as, if exactly one does."""
    fits = [k for k in GUESSABLE if k != want and k in schemas.kinds() and not schemas.first_error(record, k)]
    return fits[0] if len(fits) == 1 else None


def record_mismatch(path: str, row: int, record: dict, want: str, error: tuple[str, str]) -> InputError:
    """The InputError for a record that fails `want`: the usual field message, or, when the record is plainly
    another kind, that kind and the command that makes the one needed."""
    other = guess(record, want)
    if other is None:
        return InputError(path, row, error[1], field=error[0])
    return InputError(path, row, f"this is a {other} record, but {_needs(want)}")
