"""Point-wise rubrics: criteria with descriptions and weights, from YAML / TOML / JSON (default: rubric.yaml).

    name: my-rubric                       # optional (default: the file's stem)
    criteria:                             # a list ...
      - {name: correctness, description: "...", weight: 3}
    criteria:                             # ... or a mapping name -> description | {description, weight}
      correctness: {description: "...", weight: 3}

Each criterion gets an integer score 1-10 and a rationale; the overall score is the weighted mean. The
teacher's reply is constrained to `Rubric.schema()` (rationale before score: the judge explains, then rates).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from synth.errors import UserError

DEFAULT = Path(__file__).with_name("rubric.yaml")
NAME = re.compile(r"^[a-z][a-z0-9_]*$")
SCORE_MIN, SCORE_MAX = 1, 10


@dataclass(frozen=True)
class Criterion:
    name: str
    description: str
    weight: float = 1.0


@dataclass(frozen=True)
class Rubric:
    name: str
    criteria: tuple[Criterion, ...]

    @property
    def digest(self) -> str:
        from synth.manifest import canonical, hash_bytes

        return hash_bytes(canonical([[c.name, c.description, c.weight] for c in self.criteria]))[:12]

    def schema(self, rationale_chars: int = 400) -> dict:
        item = {"type": "object", "additionalProperties": False, "required": ["rationale", "score"],
                "properties": {"rationale": {"type": "string", "maxLength": rationale_chars},
                               "score": {"type": "integer", "minimum": SCORE_MIN, "maximum": SCORE_MAX}}}
        return {"type": "object", "additionalProperties": False, "required": [c.name for c in self.criteria],
                "properties": {c.name: item for c in self.criteria}}

    def shape(self) -> str:
        """The reply's shape as the prompt shows it."""
        return json.dumps({c.name: {"rationale": "...", "score": 7} for c in self.criteria})

    def text(self) -> str:
        return "\n".join(f"- {c.name} (weight {c.weight:g}): {c.description}" for c in self.criteria)

    def overall(self, scores: dict[str, int]) -> float:
        total = sum(c.weight for c in self.criteria)
        return round(sum(c.weight * scores[c.name] for c in self.criteria) / total, 4)

    def describe(self) -> dict:
        return {"name": self.name, "hash": self.digest,
                "criteria": [{"name": c.name, "weight": c.weight} for c in self.criteria]}


def _read(path: Path) -> object:
    text = path.read_text(encoding="utf-8")
    suffix = path.suffix.lower()
    try:
        if suffix == ".json":
            return json.loads(text)
        if suffix == ".toml":
            import tomllib

            return tomllib.loads(text)
        import yaml

        return yaml.safe_load(text)
    except Exception as exc:  # noqa: BLE001 - json/tomllib/yaml raise their own types; the message names the line
        raise UserError(f"{path}: cannot parse rubric: {exc}".splitlines()[0]) from None


def _criterion(path: Path, where: str, name: object, spec: object) -> Criterion:
    if isinstance(spec, str):
        spec = {"description": spec}
    if not isinstance(spec, dict):
        raise UserError(f"{path}: {where}: expected a mapping with 'description' (and 'weight')")
    if not isinstance(name, str) or not NAME.match(name):
        raise UserError(f"{path}: {where}.name: expected a snake_case name, got {name!r}")
    unknown = set(spec) - {"name", "description", "weight"}
    if unknown:
        raise UserError(f"{path}: {where}: unknown key(s) {', '.join(sorted(unknown))}")
    description = spec.get("description")
    if not isinstance(description, str) or not description.strip():
        raise UserError(f"{path}: {where}.description: a non-empty text is required")
    weight = spec.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, (int, float)) or not weight > 0:
        raise UserError(f"{path}: {where}.weight: expected a number > 0, got {weight!r}")
    return Criterion(name, " ".join(description.split()), float(weight))


def load_rubric(path: str | Path | None = None) -> Rubric:
    """The rubric at `path` (the shipped default when None); UserError naming file and field when invalid."""
    path = Path(path) if path else DEFAULT
    if not path.is_file():
        raise UserError(f"{path}: --rubric file not found")
    data = _read(path)
    if not isinstance(data, dict) or "criteria" not in data:
        raise UserError(f"{path}: expected a mapping with 'criteria'")
    raw = data["criteria"]
    if isinstance(raw, dict):
        items = [(f"criteria.{k}", k, v) for k, v in raw.items()]
    elif isinstance(raw, list):
        items = [(f"criteria[{i}]", (v or {}).get("name") if isinstance(v, dict) else None, v)
                 for i, v in enumerate(raw)]
    else:
        raise UserError(f"{path}: criteria: expected a list or a mapping")
    criteria = tuple(_criterion(path, where, name, spec) for where, name, spec in items)
    if not criteria:
        raise UserError(f"{path}: criteria: at least one criterion is required")
    names = [c.name for c in criteria]
    if len(set(names)) != len(names):
        raise UserError(f"{path}: criteria: duplicate name {next(n for n in names if names.count(n) > 1)!r}")
    name = data.get("name") or path.stem
    return Rubric(str(name), criteria)
