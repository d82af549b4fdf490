"""JSON Schema -> Arrow schema, and records to/from Arrow-friendly rows.

Every parquet file of a kind gets the same Arrow schema, derived from the kind's JSON Schema, so
`datasets.load_dataset("parquet", data_files=...)` and `polars.read_parquet` can open all shards of a
dataset together (inferred schemas differ between shards as soon as a field is null in one of them).

Free-form sub-objects (objects without `properties`, or marked `"x-arrow": "json"`) have no fixed
shape, so they are stored as JSON text; `decode` turns them back into objects when synth reads them.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pyarrow as pa

from synth import schemas

JSON = "json"  # marker in the codec tree: this value is JSON text on disk


def _types(node: dict) -> list[str]:
    t = node.get("type")
    if t is None and "enum" in node:
        values = [v for v in node["enum"] if v is not None]
        t = "integer" if values and all(isinstance(v, int) for v in values) else "string"
    if t is None and "const" in node:
        t = "string"
    types = t if isinstance(t, list) else [t]
    return [x for x in types if x not in (None, "null")]


def _resolve(node: dict, root: dict) -> dict:
    ref = node.get("$ref")
    if ref:
        target = root
        for part in ref.removeprefix("#/").split("/"):
            target = target[part]
        return target
    return node


def _convert(node: dict, root: dict) -> tuple[pa.DataType, Any]:
    """(arrow type, codec) for one schema node; codec is JSON, a dict of child codecs, ('list', codec) or None."""
    node = _resolve(node, root)
    types = _types(node)
    if node.get("x-arrow") == JSON or "anyOf" in node or "oneOf" in node or len(types) != 1:
        return pa.string(), JSON
    t = types[0]
    if t == "object":
        props = node.get("properties")
        if not props:
            return pa.string(), JSON
        fields, codecs = [], {}
        for name, child in props.items():
            child_type, child_codec = _convert(child, root)
            fields.append(pa.field(name, child_type))
            if child_codec is not None:
                codecs[name] = child_codec
        return pa.struct(fields), codecs or None
    if t == "array":
        item_type, item_codec = _convert(node.get("items", {}), root)
        return pa.list_(item_type), (("list", item_codec) if item_codec is not None else None)
    return {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_()}[t], None


@cache
def arrow_schema(kind: str) -> tuple[pa.Schema, Any]:
    """Arrow schema and codec tree for a record kind."""
    root = schemas.load_schema(kind)
    struct, codec = _convert(root, root)
    return pa.schema(list(struct)), codec or {}


def _walk(value: Any, codec: Any, leaf) -> Any:
    if value is None or codec is None:
        return value
    if codec == JSON:
        return leaf(value)
    if isinstance(codec, tuple):  # ("list", item codec)
        return [_walk(v, codec[1], leaf) for v in value] if isinstance(value, list) else value
    if isinstance(value, dict):
        return {k: (_walk(v, codec[k], leaf) if k in codec else v) for k, v in value.items()}
    return value


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # key order kept: tool schemas render into prompts


def _loads(value: Any) -> Any:
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except RecursionError:  # a damaged or hostile file: a ValueError, which readers report with file and row
        raise ValueError("JSON text nested too deeply") from None


def encode(record: dict, kind: str) -> dict:
    """A record as an Arrow row of `kind` (free-form parts as JSON text); generic records as they are."""
    return record if kind == schemas.GENERIC else _walk(record, arrow_schema(kind)[1], _dumps)


def decode(row: dict, kind: str) -> dict:
    """Inverse of `encode`; Arrow's nulls for absent optional fields are dropped again."""
    if kind == schemas.GENERIC:
        return row
    return _drop_nulls(_walk(row, arrow_schema(kind)[1], _loads))


def _drop_nulls(value: Any) -> Any:
    # Arrow stores an absent optional field as null; a record never differs from its round trip by that.
    if isinstance(value, dict):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    return value


def table(records: list[dict], kind: str) -> pa.Table:
    """Records of `kind` (or generic records, with an inferred schema) as one Arrow table."""
    if kind == schemas.GENERIC:
        return pa.Table.from_pylist(records)
    schema = arrow_schema(kind)[0]
    return pa.Table.from_pylist([encode(r, kind) for r in records], schema=schema)
