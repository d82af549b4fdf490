"""The formal question object: variables, constants and constraints with one target (WebShaper/InfoSeek).

    variables    X (the target, the answer) and A, B, ... (intermediate entities), each with a type
    constants    what the question states verbatim or obfuscated: cues (the words around a link in the
                 subject's entry) and descriptions (an entity's own opening definition)
    constraints  type(V, category) | link(S, O, cue) "S's entry mentions O in a sentence with the cue"
                 | description(V, constant) "V's entry contains the description's verbatim fragments"
    bindings     variable -> document id (the hidden truth; the question never shows it)

`build_formal` turns a walk into this object, applying the rule operators (elide, period, partial,
describe) and logging each. `structure_errors` enforces the structure rules: no description on the
target, every variable connected to the target, depth >= the minimum hops, every leaf identifiable.
"""

from __future__ import annotations

import random
import string
from collections import deque
from dataclasses import dataclass, field

from synth.pipelines.deepsearch import operators as ops
from synth.pipelines.deepsearch import text as tx
from synth.pipelines.deepsearch.facts import describe
from synth.pipelines.deepsearch.walk import Walk


@dataclass
class Cue:
    left: ops.Masked
    right: ops.Masked

    @property
    def words(self) -> list[str]:
        return tx.content_words(" ".join(self.left.fragments + self.right.fragments))

    @property
    def year_ranges(self) -> list[tuple[int, int]]:
        return self.left.year_ranges + self.right.year_ranges

    @property
    def empty(self) -> bool:
        return not self.words and not self.year_ranges

    def to_json(self) -> dict:
        return {"kind": "cue", "left": self.left.to_json(), "right": self.right.to_json(), "words": self.words,
                "year_ranges": [list(r) for r in self.year_ranges]}


@dataclass
class Constraint:
    id: str
    kind: str                       # type | link | description
    subject: str
    object: str | None = None       # link: the object variable
    constant: str | None = None     # link: cue constant (None = plain mention); description: its constant
    value: str | None = None        # type: the category
    edge: object | None = None      # link: facts.Edge; description: facts.Description

    def to_json(self) -> dict:
        out = {"id": self.id, "kind": self.kind, "subject": self.subject}
        for key in ("object", "constant", "value"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        return out


@dataclass
class Formal:
    target: str
    variables: dict[str, int]                       # name -> document row (binding)
    types: dict[str, str | None]
    constants: dict[str, object] = field(default_factory=dict)   # name -> Cue | Masked
    constraints: list[Constraint] = field(default_factory=list)

    def links(self) -> list[Constraint]:
        return [c for c in self.constraints if c.kind == "link"]

    def of(self, var: str, kind: str) -> list[Constraint]:
        return [c for c in self.constraints if c.subject == var and c.kind == kind]

    def children(self, var: str) -> list[str]:
        return [c.object for c in self.links() if c.subject == var]

    def depths(self) -> dict[str, int]:
        adj: dict[str, set[str]] = {v: set() for v in self.variables}
        for c in self.links():
            adj[c.subject].add(c.object)
            adj[c.object].add(c.subject)
        dist, queue = {self.target: 0}, deque([self.target])
        while queue:
            v = queue.popleft()
            for w in sorted(adj[v]):
                if w not in dist:
                    dist[w] = dist[v] + 1
                    queue.append(w)
        return dist

    def leaves(self) -> list[str]:
        return [v for v in self.variables if v != self.target and not self.children(v)]

    def to_json(self, kb) -> dict:
        return {
            "target": self.target,
            "variables": [{"name": v, "role": "target" if v == self.target else "intermediate",
                           "type": self.types.get(v), "doc_id": kb.doc(row).id}
                          for v, row in self.variables.items()],
            "constants": {name: (c.to_json() if isinstance(c, Cue) else {"kind": "description", **c.to_json()})
                          for name, c in self.constants.items()},
            "constraints": [c.to_json() for c in self.constraints],
            "depth": max(self.depths().values()),
        }


def type_of(kb, row: int, hidden: list[str] = ()) -> str | None:
    """The entity's first category that does not name a hidden entity ("[A] is a security term" would
    reveal an intermediate entity called "security")."""
    for cat in kb.doc(row).categories:
        if not any(tx.mentions(cat, name) for name in hidden):
            return cat
    return None


def _labels(walk: Walk) -> dict[int, str]:
    """X for the seed, then A, B, ... by distance from it (walk order breaks ties)."""
    depth = walk.depths()
    order = sorted(walk.nodes[1:], key=lambda r: (depth[r], walk.nodes.index(r)))
    return {walk.nodes[0]: "X", **{row: string.ascii_uppercase[i] for i, row in enumerate(order)}}


def _cue(kb, edge, hidden: list[str], target: str, rng: random.Random, logs: list) -> Cue:
    left, right = ops.Masked(edge.left), ops.Masked(edge.right)
    for part in (left, right):
        logs += ops.elide(part, hidden, target)
        logs += ops.period(part, target)
    return Cue(left, right)


def _description(kb, row: int, walk: Walk, hidden: list[str], var: str, rng: random.Random,
                 partial_p: float, logs: list) -> tuple[ops.Masked, object] | None:
    desc = describe(kb, row, tuple(walk.nodes))
    if desc is None:
        return None
    doc_text = kb.doc(row).text
    cut = desc.end < len(doc_text) and doc_text[desc.end:].lstrip()[:1] not in (".", "!", "?", "")
    masked = ops.Masked(desc.quote, suffix=" …" if cut else "")
    logs += ops.elide(masked, hidden, var)
    logs += ops.period(masked, var)
    linked = [(l.start - desc.start, l.end - desc.start) for l in kb.links_from(row)
              if l.start is not None and desc.start <= l.start and l.end <= desc.end and l.dst_row not in walk.nodes]
    logs += ops.partial(masked, linked, var, rng, partial_p)
    logs.append(ops.log("describe", var, kb.doc(row).title, masked.display))
    return masked, desc


def build_formal(kb, walk: Walk, rng: random.Random, partial_p: float = 0.5) -> tuple[Formal, list[dict]]:
    """The formal question of a walk and the operator log; raises ValueError if a leaf cannot be described."""
    labels = _labels(walk)
    hidden = [name for row in walk.nodes for name in kb.names(row)]
    formal = Formal("X", {labels[r]: r for r in sorted(walk.nodes, key=labels.get)},
                    {labels[r]: type_of(kb, r, hidden) for r in walk.nodes})
    logs: list[dict] = []
    for var in formal.variables:
        if formal.types[var]:
            formal.constraints.append(Constraint(f"t{var}", "type", var, value=formal.types[var]))
    for i, edge in enumerate(sorted(walk.edges, key=lambda e: (labels[e.src], labels[e.dst])), start=1):
        cue = _cue(kb, edge, hidden, labels[edge.src], rng, logs)
        name = None
        if not cue.empty:
            name = f"cue{i}"
            formal.constants[name] = cue
        formal.constraints.append(Constraint(f"l{i}", "link", labels[edge.src], labels[edge.dst], name, edge=edge))
    for var in formal.leaves():
        found = _description(kb, formal.variables[var], walk, hidden, var, rng, partial_p, logs)
        if found is None:
            raise ValueError(f"no description for {kb.doc(formal.variables[var]).id!r}")
        masked, desc = found
        formal.constants[f"desc{var}"] = masked
        formal.constraints.append(Constraint(f"d{var}", "description", var, constant=f"desc{var}", edge=desc))
    return formal, logs


def structure_errors(formal: Formal, min_depth: int) -> list[str]:
    """Violations of the structure rules (empty when the object is well formed)."""
    errors = []
    if formal.of(formal.target, "description"):
        errors.append("a description constant is attached to the target")
    depths = formal.depths()
    for var in formal.variables:
        if var not in depths:
            errors.append(f"variable {var} is not connected to the target")
    if max(depths.values()) < min_depth:
        errors.append(f"depth {max(depths.values())} < minimum {min_depth}")
    for var in formal.leaves():
        if not formal.of(var, "description"):
            errors.append(f"leaf {var} has no identifying description")
    if any(c.object == formal.target for c in formal.links()):
        errors.append("a link points back at the target")
    return errors
