"""What a manifest and a chunk marker certify about the shards, and the checks against it.

Every shard synth writes is described by {file, rows, bytes, hash} (xxh3-128 of its bytes): the chunk marker
holds its chunk's shards, the manifest all of them. Two depths of check:

    fast (default)  the file exists with the certified byte size, and a parquet footer states the certified
                    row count; no data page is read, so it costs a stat and a footer per shard
    deep (--deep)   and the content hash matches (every byte is read)

`SYNTH_VERIFY` (off | fast | deep) carries the choice of `--no-verify` / `--deep` from the CLI into every
reader, worker processes included (an environment variable, because datatrove workers are forked).
"""

from __future__ import annotations

import os
from pathlib import Path

from synth.dataset import DATA, MANIFEST, data_files, read_manifest

MODES = ("off", "fast", "deep")
ENV = "SYNTH_VERIFY"


def mode() -> str:
    chosen = os.environ.get(ENV, "fast")
    return chosen if chosen in MODES else "fast"


def hash_file(path: Path) -> str:
    import xxhash

    h = xxhash.xxh3_128()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def describe(folder: Path, rel: str, rows: int) -> dict:
    """The certificate of one shard just written (rows as the writer counted them)."""
    path = Path(folder) / rel
    return {"file": rel, "rows": rows, "bytes": path.stat().st_size, "hash": hash_file(path)}


def footer_rows(path: Path) -> int:
    import pyarrow.parquet as pq

    return pq.ParquetFile(path).metadata.num_rows


def shard_problem(folder: Path, shard: dict, deep: bool) -> str | None:
    """What differs between one shard on disk and its certificate (None: it matches)."""
    path = Path(folder) / shard["file"]
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return "missing"
    except OSError as exc:
        return f"unreadable ({exc.strerror or exc})"
    if size != shard.get("bytes"):
        return f"{size} bytes, certified {shard.get('bytes')}"
    if path.name.endswith(".parquet"):
        try:
            rows = footer_rows(path)
        except Exception as exc:  # noqa: BLE001 - pyarrow raises several types for a damaged footer
            return f"unreadable parquet footer ({' '.join(str(exc).split())[:120]})"
        if rows != shard.get("rows"):
            return f"{rows} rows, certified {shard.get('rows')}"
    if deep and hash_file(path) != shard.get("hash"):
        return f"content hash {hash_file(path)}, certified {shard.get('hash')}"
    return None


def dataset_problems(folder: Path, deep: bool = False) -> list[str]:
    """Every way the data of a synth dataset differs from its manifest, one line each naming the shard.
    A manifest written before shards were certified (no `shards`) is checked for its file list only."""
    folder = Path(folder)
    manifest = read_manifest(folder)
    if manifest is None:
        return [f"{folder / MANIFEST}: missing or not valid JSON"]
    shards = manifest.get("shards")
    listed = [s["file"] for s in shards] if isinstance(shards, list) else list(manifest.get("files") or [])
    problems = []
    on_disk = {f"{DATA}/{p.name}" for p in data_files(folder)}
    for rel in sorted(on_disk - set(listed)):
        problems.append(f"{folder / rel}: not listed in the manifest (a shard added or duplicated)")
    for shard in shards if isinstance(shards, list) else [{"file": f} for f in listed]:
        problem = shard_problem(folder, shard, deep) if "bytes" in shard else (
            None if (folder / shard["file"]).is_file() else "missing")
        if problem:
            problems.append(f"{folder / shard['file']}: {problem}")
    counted = (manifest.get("counts") or {}).get("output")
    certified = sum(s.get("rows", 0) for s in shards) if isinstance(shards, list) else None
    if certified is not None and counted is not None and certified != counted:
        problems.append(f"{folder / MANIFEST}: shards certify {certified} rows, counts.output says {counted}")
    return problems


_VERIFIED: set[tuple[str, str, int]] = set()


def check_input(folder: Path) -> None:
    """Refuse (InputError, exit 2) a synth dataset given as input whose shards differ from its manifest.
    Checked once per process and manifest version: readers expand an input several times."""
    from synth.errors import InputError

    chosen = mode()
    if chosen == "off":
        return
    folder = Path(folder)
    try:
        key = (str(folder.resolve()), chosen, (folder / MANIFEST).stat().st_mtime_ns)
    except OSError:
        key = None
    if key in _VERIFIED:
        return
    problems = dataset_problems(folder, deep=chosen == "deep")
    if problems:
        more = f" (and {len(problems) - 1} more; `synth validate {folder}` lists them)" if len(problems) > 1 else ""
        raise InputError(str(folder), None, f"damaged dataset: {problems[0]}{more}; re-run the command that made "
                         "it to repair it, or pass --no-verify to read it anyway")
    if key is not None:
        _VERIFIED.add(key)
