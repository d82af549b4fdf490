"""One streaming pass over a dataset directory: the statistics every `synth inspect` view renders.

    DIR/manifest.json ─┐
    DIR/data/*         ├─▶ Profile (sketches per metric) + Reservoir (samples) ─▶ report dict (JSON-able)
    DIR/rejects/*      │   reasons, steps, reject samples
    DIR/train_log.jsonl┘   curves (a `synth train` output)

Memory does not grow with the number of records: records are read one at a time through
synth.dataset and only sketches and k samples are kept. Same directory + same seed => same report.
Besides synth dataset directories it reads a directory whose run has not finished (no manifest yet;
kind from .synth/state.json) and plain JSONL/Parquet files or folders (kind from --kind, else sniffed).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from synth import schemas
from synth.dataset import DATA, MANIFEST, REJECTS, STATE, data_files, read_manifest, read_records
from synth.errors import InputError
from synth.report import chat, tasks
from synth.report.sketch import Categorical, Reservoir
from synth.report.spec import Spec
from synth.report.training import LOG, read_train_log

EXTRACTORS: dict[str, Callable[[dict], Iterator[tuple[Spec, Any]]]] = {
    "deepsearch_task": tasks.deepsearch_task, "code_problem": tasks.code_problem,
    "trajectory": chat.trajectory, "preference_pair": chat.preference_pair,
}
MAX_DYNAMIC_METRICS = 24
MANIFEST_FIELDS = ("command", "kind", "status", "synth_version", "config_hash", "output_hash", "counts", "tokens",
                   "timings", "executor", "inputs", "config", "stats")


class Profile:
    """Observations of one kind's extractor folded into one sketch per metric."""

    def __init__(self, kind: str):
        self.extract = EXTRACTORS.get(kind, chat.generic)
        self.sketches: dict[str, tuple[Spec, Any]] = {}
        self.records = self.unreadable = self.dynamic = 0

    def add(self, record: dict) -> None:
        self.records += 1
        try:
            for spec, value in self.extract(record):
                if self._sketch(spec):
                    self.sketches[spec.key][1].add(value)
        except (TypeError, ValueError, AttributeError):  # a field of an unexpected type: count, keep going
            self.unreadable += 1

    def _sketch(self, spec: Spec) -> bool:
        if spec.key not in self.sketches:
            if spec.rank >= 5000:  # named by the data: bounded so odd records cannot add metrics forever
                if self.dynamic >= MAX_DYNAMIC_METRICS:
                    return False
                self.dynamic += 1
            self.sketches[spec.key] = (spec, spec.sketch())
        return True

    def metrics(self) -> list[dict[str, Any]]:
        ordered = sorted(enumerate(self.sketches.values()), key=lambda item: (item[1][0].rank, item[0]))
        found = []
        for _, (spec, sketch) in ordered:
            if sketch.n:
                found.append({"key": spec.key, "title": spec.title, "per": spec.per, **sketch.to_dict()})
        return found


@dataclass
class Source:
    target: Path
    kind: str
    manifest: dict | None
    files: list[Path]
    note: str | None = None

    def records(self) -> Iterator[dict]:
        if self.manifest is not None:
            yield from read_records([self.target])  # decodes the kind's JSON-text columns
            return
        from synth import arrow

        decode = self.kind in schemas.kinds()
        for file in self.files:
            for record in read_records([file]):
                yield arrow.decode(record, self.kind) if decode and file.suffix == ".parquet" else record


def resolve(target: Path, kind: str | None = None) -> Source:
    target = Path(target)
    if not target.exists():
        raise InputError(str(target), None, "no such file or directory")
    manifest_path = target / MANIFEST
    if target.is_dir() and manifest_path.is_file():
        manifest = read_manifest(target)
        if not isinstance(manifest, dict):
            raise InputError(str(manifest_path), None, "not a valid manifest (expected a JSON object)")
        return Source(target, kind or str(manifest.get("kind") or schemas.GENERIC), manifest, data_files(target))
    run_state = _read_json(target / STATE / "state.json") if target.is_dir() else None
    if isinstance(run_state, dict):
        note = "no manifest.json yet: the run is in progress or was interrupted; showing committed shards"
        return Source(target, kind or str(run_state.get("kind") or schemas.GENERIC), None, data_files(target), note)
    return Source(target, kind or sniff_kind(target), None, [target])


def sniff_kind(target: Path) -> str:
    """Guess the kind of plain files from the first record's fields (`--kind` overrides)."""
    for record in read_records([target]):
        if "messages" in record:
            return "trajectory"
        if "facts" in record and "question" in record:
            return "deepsearch_task"
        if "reference_solution" in record or "tests" in record:
            return "code_problem"
        if "chosen" in record and "rejected" in record:
            return "preference_pair"
        break
    return schemas.GENERIC


def _read_json(path: Path) -> Any:
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def collect(target: Path, kind: str | None = None, samples: int = 3, seed: int = 0) -> dict[str, Any]:
    """Everything a report shows, as one JSON-able dict (what `synth inspect --json` prints)."""
    source = resolve(Path(target), kind)
    profile, keep = Profile(source.kind), Reservoir(samples, seed)
    for record in source.records():
        profile.add(record)
        keep.add(record)
    manifest = source.manifest or {}
    report: dict[str, Any] = {
        "target": str(target), "kind": source.kind, "records": profile.records,
        "manifest": {k: manifest[k] for k in MANIFEST_FIELDS if k in manifest} if source.manifest else None,
        "metrics": profile.metrics(), "samples": keep.sample(), "seed": seed,
        "rejects": _rejects(Path(target), manifest, samples, seed), "warnings": [],
    }
    if source.note:
        report["warnings"].append(source.note)
    if profile.unreadable:
        report["warnings"].append(f"{profile.unreadable} record(s) had fields of unexpected types; "
                                  "their other fields are counted (run `synth validate`)")
    expected = (manifest.get("counts") or {}).get("output") if source.files else None
    if isinstance(expected, int) and expected != profile.records:
        report["warnings"].append(f"manifest counts {expected} output records but {DATA}/ holds {profile.records}")
    if Path(target).is_dir() and (Path(target) / LOG).is_file():
        report["training"] = read_train_log(Path(target) / LOG)
    return report


def _rejects(target: Path, manifest: dict, samples: int, seed: int) -> dict[str, Any]:
    files = sorted(p for p in (target / REJECTS).glob("*") if p.suffix in (".parquet", ".jsonl")) \
        if target.is_dir() else []
    reasons, steps, keep = Categorical(cap=200), Categorical(cap=200), Reservoir(samples, seed)
    for record in read_records(files) if files else ():
        reasons.add(record.get("reason"))
        steps.add(record.get("step"))
        keep.add({k: _clip(record.get(k)) for k in ("id", "reason", "step", "detail", "raw") if record.get(k)})
    if files:
        return {"source": "files", "total": reasons.n, "by_reason": dict(reasons.ordered()),
                "by_step": dict(steps.ordered()), "samples": keep.sample()}
    counts = manifest.get("counts") or {}
    by_reason = {str(k): v for k, v in sorted((counts.get("rejected_by_reason") or {}).items(), key=lambda kv: -kv[1])}
    return {"source": "manifest", "total": counts.get("rejected", sum(by_reason.values())), "by_reason": by_reason,
            "by_step": {}, "samples": []}


def _clip(value: Any, limit: int = 400) -> Any:
    return value[:limit] + "…" if isinstance(value, str) and len(value) > limit else value
