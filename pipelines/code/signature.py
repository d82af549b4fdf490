"""Hypothesis strategies from a function's type annotations, read from the AST (never by importing it:
the reference is untrusted until the sandbox has run it).

Supported: int, float, bool, str, list/List[T], tuple/Tuple[T, ...], dict/Dict[K, V], set/Set[T],
Optional[T]. Values are kept small (tests must run fast and reference solutions must finish): ints in
[-1000, 1000], collections up to 12 items, short strings. Anything else -> no strategy (None).
"""

from __future__ import annotations

import ast
from typing import Any

SMALL_INT = (-1000, 1000)
MAX_ITEMS = 12
ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789 "


def _name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):  # typing.List
        return node.attr
    if isinstance(node, ast.Constant) and node.value is None:
        return "None"
    return None


def _strategy(node: ast.AST | None):
    """Strategy for one annotation node, or None if unsupported."""
    from hypothesis import strategies as st

    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):  # string annotation
        try:
            return _strategy(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return None
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):  # X | None
        parts = [_strategy(n) if _name(n) != "None" else st.none() for n in (node.left, node.right)]
        return None if None in parts else st.one_of(*parts)
    base = {"int": st.integers(*SMALL_INT), "float": st.floats(-1e3, 1e3, allow_nan=False),
            "bool": st.booleans(), "str": st.text(ALPHABET, max_size=MAX_ITEMS)}
    if _name(node) in base:
        return base[_name(node)]
    if not isinstance(node, ast.Subscript):
        return None
    outer = (_name(node.value) or "").lower()
    args = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
    inner = [_strategy(a) for a in args if not (isinstance(a, ast.Constant) and a.value is Ellipsis)]
    if None in inner:
        return None
    if outer in ("list", "sequence") and len(inner) == 1:
        return st.lists(inner[0], max_size=MAX_ITEMS)
    if outer == "set" and len(inner) == 1:
        return st.lists(inner[0], max_size=MAX_ITEMS, unique=True)  # JSON has no sets: a unique list
    if outer == "tuple":
        is_var = any(isinstance(a, ast.Constant) and a.value is Ellipsis for a in args)
        return st.lists(inner[0], max_size=MAX_ITEMS) if is_var else st.tuples(*inner).map(list)
    if outer == "dict" and len(inner) == 2:
        return st.dictionaries(st.text(ALPHABET, min_size=1, max_size=6), inner[1], max_size=MAX_ITEMS)
    if outer == "optional" and len(inner) == 1:
        return st.one_of(st.none(), inner[0])
    return None


def signature_strategy(source: str, entry_point: str):
    """A strategy drawing whole argument lists for `entry_point`, or None if any parameter is untyped
    or of an unsupported type."""
    from hypothesis import strategies as st

    tree = ast.parse(source)
    fn = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == entry_point), None)
    if fn is None or fn.args.vararg or fn.args.kwarg or fn.args.kwonlyargs:
        return None
    params = fn.args.posonlyargs + fn.args.args
    parts = [_strategy(p.annotation) for p in params]
    if not params or None in parts:
        return None
    return st.tuples(*parts).map(list)


def draw_inputs(source: str, entry_point: str, count: int, seed: int) -> list[list[Any]]:
    """Up to `count` argument lists, deterministic for a given seed (Hypothesis' own edge-case bias
    included: empty lists, zeros, extremes)."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hseed

    strategy = signature_strategy(source, entry_point)
    if strategy is None or count <= 0:
        return []
    drawn: list[list[Any]] = []

    @hseed(seed)
    @settings(max_examples=count, database=None, deadline=None, phases=[Phase.generate],
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(args):
        drawn.append(args)

    collect()
    return drawn[:count]
