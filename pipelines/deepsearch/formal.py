"""The formal question object: variables, constants and constraints with one target (WebShaper/InfoSeek).

    variables    X (the target, the answer) and A, B, ... (intermediate entities), each with a type
    constants    what the question states about an entity, abstracted rather than quoted (issue 20):
                 abstract descriptions (abstract.Abstract), periods (a decade range for the entity's
                 year), partial names (the first letters of its name)
    constraints  type(V, category) | link(S, O, relation) "S <relation> O", relation typed from the words
                 before the link (relations.py; `related` = S's entry refers to O)
                 | description(V, constant) "V's entry contains every content word of the abstract"
                 | period(V, constant) "V's year is in the range" | partial(V, constant) "V's name
                 starts with these letters"
    bindings     variable -> document id (the hidden truth; the question never shows it)

`build_formal` turns a walk into this object, applying the operators (elide, period, partial) and
logging each. `structure_errors` enforces the structure rules: no description on the target, every
variable connected to the target, depth >= the minimum hops, every leaf identifiable.
"""

from __future__ import annotations

import random
import string
from collections import deque
from dataclasses import dataclass, field

from synth.pipelines.deepsearch import operators as ops
from synth.pipelines.deepsearch import relations as rel
from synth.pipelines.deepsearch import text as tx
from synth.pipelines.deepsearch.facts import Description
from synth.pipelines.deepsearch.walk import Walk


@dataclass(frozen=True)
class Period:
    year: int
    text: str                       # "the late 1960s"
    years: tuple[int, int]          # the range a matching entity's year must fall in

    def to_json(self) -> dict:
        return {"kind": "period", "text": self.text, "year_range": list(self.years)}


@dataclass(frozen=True)
class Prefix:
    letters: str                    # the first letters of the entity's name

    def to_json(self) -> dict:
        return {"kind": "partial", "text": self.letters}


@dataclass
class Constraint:
    id: str
    kind: str                       # type | link | description | period | partial
    subject: str
    object: str | None = None       # link: the object variable
    constant: str | None = None     # description / period / partial: the name of its constant
    value: str | None = None        # type: the category; link: the relation type
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
    constants: dict[str, object] = field(default_factory=dict)   # name -> Abstract | Period | Prefix
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
            "constants": {name: c.to_json() for name, c in self.constants.items()},
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


def _description(kb, row: int, walk: Walk, hidden: list[str], var: str, logs: list, plain: bool = False):
    """(abstract description, its verbatim source sentence) of a leaf, or None."""
    from synth.pipelines.deepsearch.abstract import abstract
    from synth.pipelines.deepsearch.facts import openings

    for start, quote in openings(kb, row):
        found = abstract(kb, quote, hidden, modifiers=0 if plain else None)
        if found is None:
            continue
        logs += [ops.log("elide", var, word, "") for word in found.elided]
        logs.append(ops.log("describe", var, kb.doc(row).title, found.text))
        return found, Description(row, start, start + len(quote), quote)
    return None


def _attributes(kb, formal: Formal, var: str, rng: random.Random, partial_p: float, period_p: float,
                logs: list) -> None:
    """The period and partial operators: typed attributes instead of quoted text."""
    row = formal.variables[var]
    year = rel.year_of(kb, row)
    if year is not None and rng.random() < period_p:
        text, years = tx.period_of(year)
        formal.constants[f"period{var}"] = Period(year, text, years)
        formal.constraints.append(Constraint(f"p{var}", "period", var, constant=f"period{var}"))
        logs.append(ops.log("period", var, str(year), text))
    prefix = rel.name_prefix(kb.doc(row).title)
    if var != formal.target and prefix and rng.random() < partial_p:
        formal.constants[f"name{var}"] = Prefix(prefix)
        formal.constraints.append(Constraint(f"n{var}", "partial", var, constant=f"name{var}"))
        logs.append(ops.log("partial", var, kb.doc(row).title, prefix))


def build_formal(kb, walk: Walk, rng: random.Random, partial_p: float = 0.5,
                 period_p: float = 0.6, plain: bool = False) -> tuple[Formal, list[dict]]:
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
        relation = rel.relation_at(kb, edge.src, edge.anchor_start)
        formal.constraints.append(Constraint(f"l{i}", "link", labels[edge.src], labels[edge.dst],
                                             value=relation, edge=edge))
    for var in formal.leaves():
        found = _description(kb, formal.variables[var], walk, hidden, var, logs, plain)
        if found is None:
            raise ValueError(f"no abstract description for {kb.doc(formal.variables[var]).id!r}")
        formal.constants[f"desc{var}"], desc = found
        formal.constraints.append(Constraint(f"d{var}", "description", var, constant=f"desc{var}", edge=desc))
    for var in formal.variables:
        _attributes(kb, formal, var, rng, partial_p, period_p, logs)
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
