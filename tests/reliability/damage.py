"""Damage between runs: a finished output is damaged, then read, validated and re-run; nothing damaged may
be certified. `python -m tests.reliability.damage` prints the table of docs/reliability.md (issue 28).

Each case damages a copy of a clean `synth filter` output (2 tasks, chunks of 40, dedup rejects) and runs
    synth validate COPY              -> exit 2 when the data differs from the manifest
    synth filter COPY --out X        -> exit 2 likewise (inputs are verified)
    the same filter command into COPY (a resume)
                                     -> exit 0 with data and rejects equal to the clean run's and a manifest
                                        that `validate --deep` accepts (repaired), or exit 2 (refused)
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from tests.core.helpers import synth, trajectory, write_jsonl

TASKS, CHUNK, N = 2, 40, 200


def make_input(folder: Path) -> Path:
    records = [trajectory(i % 150) for i in range(N)]  # a quarter repeat: exact-dedup rejects
    for i, record in enumerate(records):
        record["id"] = f"r{i:04d}"
    return write_jsonl(folder / "in.jsonl", records)


def produce(src: Path, out: Path):
    return synth("filter", str(src), "--kind", "trajectory", "--dedup", "exact", "--out", str(out),
                 "--tasks", str(TASKS), "--chunk-size", str(CHUNK), "--json")


def _shard(out: Path) -> Path:
    return out / "data" / "00000_00001.parquet"


def truncate(out: Path) -> None:
    path = _shard(out)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def delete(out: Path) -> None:
    _shard(out).unlink()


def duplicate(out: Path) -> None:
    shutil.copy(_shard(out), out / "data" / "00000_00099.parquet")


def duplicate_foreign(out: Path) -> None:
    shutil.copy(_shard(out), out / "data" / "00000_00001 copy.parquet")


def half_rows(out: Path) -> None:
    import pyarrow.parquet as pq

    table = pq.read_table(_shard(out))
    pq.write_table(table.slice(0, table.num_rows // 2), _shard(out), compression="zstd")


def delete_markers(out: Path) -> None:
    for marker in (out / ".synth" / "chunks").glob("*.json"):
        marker.unlink()


def garbage_marker(out: Path) -> None:
    (out / ".synth" / "chunks" / "00001_00001.json").write_text("{\"rank\": 1, \"chunk\": garbage")


def delete_manifest(out: Path) -> None:
    (out / "manifest.json").unlink()


# name -> (damage, data differs from the manifest (validate/readers refuse), resume refuses instead of repairing)
CASES = {
    "truncated shard": (truncate, True, False),
    "deleted shard": (delete, True, False),
    "duplicated shard (synth name)": (duplicate, True, False),
    "duplicated shard (other name)": (duplicate_foreign, True, True),
    "half-rows shard (valid parquet)": (half_rows, True, False),
    "deleted chunk markers": (delete_markers, False, False),
    "garbage chunk marker": (garbage_marker, False, False),
    "deleted manifest": (delete_manifest, True, False),
}


def snapshot(out: Path) -> dict:
    """Data and rejects, file by file, as rows: what must equal the clean run."""
    import polars as pl

    return {f"{p.parent.name}/{p.name}": pl.read_parquet(p).to_dicts()
            for folder in ("data", "rejects") for p in sorted((out / folder).glob("*.parquet"))}


def run_case(name: str, src: Path, clean: Path, work: Path) -> dict:
    damage, differs, refuses = CASES[name]
    copy = work / name.replace(" ", "_").replace("(", "").replace(")", "")
    shutil.copytree(clean, copy)
    damage(copy)
    validate = synth("validate", str(copy)).returncode
    consume = synth("filter", str(copy), "--out", str(work / f"{copy.name}.filtered")).returncode
    resume = produce(src, copy)
    repaired = resume.returncode == 0 and snapshot(copy) == snapshot(clean) \
        and synth("validate", str(copy), "--deep").returncode == 0
    certified_damage = resume.returncode == 0 and not repaired
    ok = (validate == 2) == differs and (consume == 2) == differs and not certified_damage \
        and (resume.returncode == 2 if refuses else repaired)
    warning = next((line for line in resume.stderr.splitlines() if line.startswith(("warning:", "error:"))), "")
    return {"case": name, "validate": validate, "filter": consume, "resume": resume.returncode,
            "outcome": "refused" if resume.returncode == 2 else ("repaired" if repaired else "DAMAGE CERTIFIED"),
            "message": warning, "ok": ok}


def campaign(work: Path, names: list[str] | None = None) -> list[dict]:
    work.mkdir(parents=True, exist_ok=True)
    src = make_input(work)
    clean = work / "clean"
    result = produce(src, clean)
    if result.returncode != 0:
        raise RuntimeError(result.stderr)
    return [run_case(name, src, clean, work) for name in names or CASES]


def main() -> int:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        rows = campaign(Path(tmp))
    print("| damage | validate exit | filter (reader) exit | resume exit | outcome | first line on stderr | ok |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        message = r["message"].replace(tmp, "OUT").replace("|", "\\|")
        print(f"| {r['case']} | {r['validate']} | {r['filter']} | {r['resume']} | {r['outcome']} | {message} | "
              f"{'yes' if r['ok'] else 'NO'} |")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
