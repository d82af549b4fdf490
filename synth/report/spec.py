"""Metric specs: what one distribution in a `synth inspect` report is, and the guards extractors use.

An extractor yields `(Spec, value)` pairs and skips whatever a record lacks, so a dataset shows the
distributions it actually has (a trajectory set without turn labels simply has no label table).
Records are read, never trusted: every field goes through the `as_list/as_dict/as_str` guards, since inspect
must work on invalid or half-written data too.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from synth.report.sketch import Categorical, Histogram, Matrix

TIERS = ("easy", "rl", "hard", "unverified")
TOPOLOGIES = ("chain", "tree", "cycle")
STATUSES = ("passed", "failed", "not_run")
# Natural order of complexity classes (same list as pipelines/code/complexity.py; kept here so the
# report does not import a pipeline).
CLASSES = ("O(1)", "O(log n)", "O(n)", "O(n log n)", "O(n^2)", "O(n^3)", "O(2^n)")
LOSS_FLAGS = ("loss=1", "loss=0", "unlabelled")
MAX_DYNAMIC = 12  # metrics named by the data (score names, verdict fields): bounded


@dataclass(frozen=True)
class Spec:
    key: str
    title: str
    shape: str = "cat"          # cat | num | matrix
    per: str = "record"         # what one observation is: record, message, call, fact, ...
    width: float = 1.0          # numeric: initial bin width
    integer: bool = True
    top: float | None = None    # numeric: closed upper end (ratios)
    order: tuple = ()
    rank: int = 0               # display order (dynamic metrics come after the declared ones)

    def sketch(self):
        if self.shape == "num":
            return Histogram(width=self.width, integer=self.integer, top=self.top)
        if self.shape == "matrix":
            return Matrix(order=self.order)
        return Categorical(order=self.order)


_RANK = iter(range(10_000))


def cat(key: str, title: str, per: str = "record", order: tuple = ()) -> Spec:
    return Spec(key, title, "cat", per, order=order, rank=next(_RANK))


def num(key: str, title: str, per: str = "record", integer: bool = True, ratio: bool = False) -> Spec:
    if ratio:
        return Spec(key, title, "num", per, width=0.05, integer=False, top=1.0, rank=next(_RANK))
    return Spec(key, title, "num", per, width=1.0 if integer else 2.0 ** -8, integer=integer, rank=next(_RANK))


def matrix(key: str, title: str, per: str = "record", order: tuple = ()) -> Spec:
    return Spec(key, title, "matrix", per, order=order, rank=next(_RANK))


def dynamic(prefix: str, name: str, value: Any, per: str) -> Spec | None:
    """A metric named by the data: numbers get a histogram, flags and short words a count table."""
    key = f"{prefix}.{name}"
    if isinstance(value, int) and not isinstance(value, bool):
        return Spec(key, f"{prefix} {name}", "num", per, width=1.0, integer=True, rank=5000)
    if isinstance(value, float):
        return Spec(key, f"{prefix} {name}", "num", per, width=2.0 ** -8, integer=False, rank=5000)
    if isinstance(value, bool) or (isinstance(value, str) and len(value) <= 40):
        return Spec(key, f"{prefix} {name}", "cat", per, rank=5000)
    return None


def as_list(x: Any) -> list:
    return x if isinstance(x, list) else []


def as_dict(x: Any) -> dict:
    return x if isinstance(x, dict) else {}


def as_str(x: Any) -> str:
    return x if isinstance(x, str) else ""


Obs = Iterator[tuple[Spec, Any]]

MODE = Spec("mode", "provenance mode", rank=4000)
TEACHER = Spec("teacher", "teacher", rank=4001)


def provenance(r: dict) -> Obs:
    prov = as_dict(r.get("provenance"))
    if prov.get("mode"):
        yield MODE, prov["mode"]
    if prov.get("teacher"):
        yield TEACHER, prov["teacher"]


def scalars(prefix: str, obj: dict, per: str) -> Obs:
    for name, value in list(obj.items())[:MAX_DYNAMIC]:
        spec = dynamic(prefix, str(name), value, per)
        if spec is not None:
            yield spec, value
