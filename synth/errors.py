"""Error types that decide exit codes.

`UserError` is anything the user can fix (bad input, bad flag, changed config): the CLI prints its one
line and exits 2. Anything else escaping a command is an internal failure: exit 1. A run stopped by a spending
cap exits EXIT_CAPPED (3) with status "capped" (synth.teachers.budget). Per-record failures
are neither: they become rejects with a stable reason (see `synth.records.Reject`).
"""

from __future__ import annotations

EXIT_CAPPED = 3  # a run stopped by a spending cap (--max-tokens-total / --max-cost): finished work kept, resumable


class UserError(Exception):
    """A problem the user can fix. `str(err)` is the one line the CLI prints."""

    exit_code = 2


class InputError(UserError):
    """Bad input data, located precisely: file, 1-based row (line for JSONL), field path."""

    def __init__(self, path: str, row: int | None, message: str, field: str | None = None):
        self.path, self.row, self.field, self.message = str(path), row, field, message
        super().__init__(self._line())

    def _line(self) -> str:
        where = self.path if self.row is None else f"{self.path}:{self.row}"
        what = f"field '{self.field}': " if self.field else ""
        return f"{where}: {what}{self.message}"

    def __reduce__(self):  # keeps the exception picklable across worker processes and Ray
        return (InputError, (self.path, self.row, self.message, self.field))


class ConfigChangedError(UserError):
    """Re-running into an output directory that was made with a different resolved config."""
