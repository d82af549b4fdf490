"""Test adequacy by mutation: small faults are planted in the reference; good tests catch them.

Operators (one site per mutant): arithmetic and bitwise operator swaps, comparison boundary and
negation swaps (`<`<->`<=` ...), and/or swaps, `not` removal, if/while-condition negation, integer
constants +1 and -1 (so `0` -> `-1`: `cur < 0` -> `cur < -1`), True<->False, swapped operands of a
non-commutative operator (`a - b` -> `b - a`), swapped adjacent call arguments (`f(a, b)` -> `f(b, a)`),
swapped values of two return statements of one function, and deletion of one statement from a block. Mutants identical to the reference after unparsing are dropped. A mutant is killed when
any test errors, times out or returns a different value; the mutation score is killed / total.
Equivalent mutants (same behaviour, different code) cap the reachable score below 1, so thresholds
should leave room for them.
"""

from __future__ import annotations

import ast
import copy
import json
import random
from dataclasses import dataclass, field

from synth.pipelines.code.execute import Outcome, SandboxFailure, judge, run_function_tests, run_stdio_tests

from synth.sandbox import OK, Limits, Sandbox

BINOPS = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Add, ast.FloorDiv: ast.Mult, ast.Div: ast.Mult,
          ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult, ast.LShift: ast.RShift, ast.RShift: ast.LShift,
          ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd, ast.BitXor: ast.BitOr}
NONCOMMUTATIVE = (ast.Sub, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift, ast.RShift)
CMPOPS = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
          ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In, ast.Is: ast.IsNot, ast.IsNot: ast.Is}


@dataclass(frozen=True)
class MutationConfig:
    max_mutants: int = 30  # sampled deterministically when there are more sites
    min_score: float = 0.8  # below -> `weak_tests`
    chunk: int = 10  # mutants per sandbox run
    seed: int = 0


@dataclass
class MutationReport:
    total: int = 0
    killed: int = 0
    survivors: list[tuple[str, str]] = field(default_factory=list)  # (source, description) not caught
    equivalent: list[str] = field(default_factory=list)  # survivors no probe input could tell apart
    added_tests: int = 0  # tests added because they caught a survivor
    infra: str | None = None  # the sandbox failed: the report means nothing

    @property
    def score(self) -> float | None:
        """killed / (total - likely equivalent): equivalent mutants are not the tests' fault."""
        counted = self.total - len(self.equivalent)
        return self.killed / counted if counted > 0 else None

    def to_json(self) -> dict:
        return {"total": self.total, "killed": self.killed, "likely_equivalent": len(self.equivalent),
                "added_tests": self.added_tests, "survivors": [d for _, d in self.survivors][:20]}


def _sites(tree: ast.AST) -> list[tuple[int, str]]:
    """(node index in ast.walk order, operator name) for every mutable site."""
    sites = []
    for index, node in enumerate(ast.walk(tree)):
        if isinstance(node, (ast.BinOp, ast.AugAssign)) and type(node.op) in BINOPS:
            sites.append((index, "binop"))
        elif isinstance(node, ast.Compare):
            sites += [(index, f"cmp{i}") for i, op in enumerate(node.ops) if type(op) in CMPOPS]
        elif isinstance(node, ast.BoolOp):
            sites.append((index, "boolop"))
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            sites.append((index, "not"))
        elif isinstance(node, (ast.If, ast.While)):
            sites.append((index, "negate"))
        elif isinstance(node, ast.Constant) and type(node.value) is bool:
            sites.append((index, "const"))
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            sites += [(index, "const+1"), (index, "const-1")]
        if isinstance(node, ast.BinOp) and isinstance(node.op, NONCOMMUTATIVE):
            sites.append((index, "operands"))
        if isinstance(node, ast.Call) and len(node.args) > 1:
            sites += [(index, f"args{i}") for i in range(len(node.args) - 1)
                      if not any(isinstance(a, ast.Starred) for a in node.args[i:i + 2])]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            returns = [r for r in ast.walk(node) if isinstance(r, ast.Return) and r.value is not None]
            sites += [(index, f"returns{i}") for i in range(len(returns) - 1)
                      if ast.dump(returns[i].value) != ast.dump(returns[i + 1].value)]
        body = getattr(node, "body", None)
        if isinstance(body, list) and len(body) > 1:
            sites += [(index, f"del{i}") for i, stmt in enumerate(body) if _deletable(stmt)]
    return sites


def _deletable(stmt: ast.stmt) -> bool:
    """Statement deletion skips definitions and imports (deleting those only breaks loading)."""
    return not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Import,
                                 ast.ImportFrom, ast.Return))


def _apply(tree: ast.Module, index: int, kind: str) -> tuple[ast.Module, str]:
    tree = copy.deepcopy(tree)
    node = next(n for i, n in enumerate(ast.walk(tree)) if i == index)
    line = getattr(node, "lineno", 0)
    if kind == "binop":
        old = type(node.op)
        node.op = BINOPS[old]()
        what = f"{old.__name__}->{BINOPS[old].__name__}"
    elif kind.startswith("cmp"):
        i = int(kind[3:])
        old = type(node.ops[i])
        node.ops[i] = CMPOPS[old]()
        what = f"{old.__name__}->{CMPOPS[old].__name__}"
    elif kind == "boolop":
        node.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
        what = "and<->or"
    elif kind == "not":
        node.op = ast.UAdd()  # `+x` keeps the operand; truthiness of `not` is gone
        node.operand = ast.Call(ast.Name("bool", ast.Load()), [node.operand], [])
        what = "not removed"
    elif kind.startswith("del"):
        removed = node.body.pop(int(kind[3:]))
        line = getattr(removed, "lineno", line)
        what = "statement deleted"
    elif kind == "negate":
        node.test = ast.UnaryOp(ast.Not(), node.test)
        what = "condition negated"
    else:
        what = _apply_swap_or_constant(node, kind)
    return ast.fix_missing_locations(tree), f"line {line}: {what}"


def _apply_swap_or_constant(node: ast.AST, kind: str) -> str:
    """The operators that move a value: constant shifts and the three swaps."""
    if kind == "operands":
        node.left, node.right = node.right, node.left
        return "operands swapped"
    if kind.startswith("args"):
        i = int(kind[4:])
        node.args[i], node.args[i + 1] = node.args[i + 1], node.args[i]
        return f"arguments {i} and {i + 1} swapped"
    if kind.startswith("returns"):
        i = int(kind[7:])
        returns = [r for r in ast.walk(node) if isinstance(r, ast.Return) and r.value is not None]
        returns[i].value, returns[i + 1].value = returns[i + 1].value, returns[i].value
        return f"return values {i} and {i + 1} swapped"
    old = node.value
    if isinstance(old, bool):
        node.value = not old
    else:
        node.value = old + (1 if kind == "const+1" else -1)
    return f"{old!r}->{node.value!r}"


def mutants(source: str, cfg: MutationConfig = MutationConfig()) -> list[tuple[str, str]]:
    """(mutant source, description), distinct from the original and each other; at most max_mutants."""
    tree = ast.parse(source)
    original = ast.unparse(tree)
    seen, out = {original}, []
    for index, kind in _sites(tree):
        mutated, what = _apply(tree, index, kind)
        text = ast.unparse(mutated)
        if text not in seen:
            seen.add(text)
            out.append((text, what))
    if len(out) > cfg.max_mutants:
        out = sorted(random.Random(cfg.seed).sample(out, cfg.max_mutants), key=lambda m: out.index(m))
    return out


def _killed(style: str, outcome: Outcome, expected: list[str]) -> bool:
    judged = judge(style, outcome, expected)
    return any(v != OK for v in judged.verdicts)


def _run_chunk(box: Sandbox, entry: str, chunk: list[str], inputs: list, limits: Limits) -> list[Outcome]:
    """One sandbox run for several mutants. If the run dies mid-way (a mutant hung in C code past the
    run's CPU limit), finished mutants keep their results and the rest are re-run in a new chunk."""
    outcomes = run_function_tests(box, chunk, entry, inputs, limits=limits, stop_on_fail=True)
    done = next((i for i, o in enumerate(outcomes) if not o.finished), len(outcomes))
    if done >= len(outcomes) - 1:  # all finished, or only the last one died (killed either way)
        return outcomes
    # outcomes[done] died with the run: it is killed (its partial verdicts say so); re-run the rest.
    return outcomes[: done + 1] + _run_chunk(box, entry, chunk[done + 1:], inputs, limits)


def mutant_limits(box: Sandbox, max_test_cpu: float, chunk: int) -> Limits:
    # Mutants that loop forever must not cost much: allow 20x the reference's slowest test.
    per_test = min(box.limits.test_cpu_s, max(0.2, 20 * max_test_cpu))
    return box.limits.with_(test_cpu_s=per_test, cpu_s=int(chunk * (per_test + 0.5) + 5),
                            wall_s=chunk * (per_test + 0.5) * 2 + 10)


def run_mutants(box: Sandbox, style: str, muts: list[tuple[str, str]], entry_point: str | None,
                tests: list[dict], max_test_cpu: float, chunk: int = 10) -> list[bool]:
    """For each mutant: was it killed by `tests`?"""
    if not muts or not tests:
        return [False] * len(muts)
    expected = [t["expected"] for t in tests]
    limits = mutant_limits(box, max_test_cpu, chunk)
    if style == "stdio":
        stdins = [t["input"] for t in tests]
        outcomes = box.map(lambda m: run_stdio_tests(box, m[0], stdins, limits, expected, True), muts)
    else:
        inputs = [json.loads(t["input"]) for t in tests]
        chunks = [[m[0] for m in muts[i:i + chunk]] for i in range(0, len(muts), chunk)]
        outcomes = [o for group in box.map(lambda c: _run_chunk(box, entry_point or "", c, inputs, limits), chunks)
                    for o in group]
    if any(o.status == "infra_error" for o in outcomes):
        raise SandboxFailure(next(o.detail for o in outcomes if o.status == "infra_error"))
    return [_killed(style, o, expected) for o in outcomes]


def score(box: Sandbox, style: str, source: str, entry_point: str | None, tests: list[dict],
          max_test_cpu: float, cfg: MutationConfig = MutationConfig()) -> MutationReport:
    """Run every mutant of `source` against `tests` and count the ones the tests catch."""
    muts = mutants(source, cfg)
    report = MutationReport(total=len(muts))
    try:
        killed = run_mutants(box, style, muts, entry_point, tests, max_test_cpu, cfg.chunk)
    except SandboxFailure as exc:
        report.infra = str(exc)
        return report
    report.killed = sum(killed)
    report.survivors = [m for m, k in zip(muts, killed) if not k]
    return report
