"""No package imports another in a cycle: every import counts, the ones inside functions too (parsed from
the source, nothing is imported). Packages: each folder of synth/, pipelines/, filters/ and trainers/ (as
installed under synth.*); the flat core modules of synth/ are one package, the interface (cli.py,
cli_common.py, api.py, help.py and synth/commands/) another."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INTERFACE = {"synth.cli", "synth.cli_common", "synth.api", "synth.help"}
# Cycles that exist today and wait for the shared trajectory core (issue 25, D5): listed here so that no NEW
# cycle can come in. When one is broken, the test says so and it must go from this list.
KNOWN = {
    ("synth.filters", "synth.pipelines.trajectories"),
    ("synth.pipelines.deepsearch", "synth.pipelines.trajectories"),
    ("synth.pipelines.labels", "synth.pipelines.trajectories"),
    ("synth.pipelines.trajectories", "synth.trainers"),
}


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    parts = parts if parts[0] == "synth" else ["synth", *parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def package(module: str) -> str:
    parts = module.split(".")
    if module in INTERFACE or module.startswith("synth.commands"):
        return "synth<interface>"
    if len(parts) > 2 and parts[1] == "pipelines":
        return ".".join(parts[:3])
    if len(parts) > 1 and (parts[1] in ("filters", "trainers") or (ROOT / "synth" / parts[1]).is_dir()):
        return ".".join(parts[:2])
    return "synth<core>"


def imports(path: Path) -> list[tuple[str, int]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(f"{node.module}.{alias.name}", node.lineno) for alias in node.names]
    return [(name, line) for name, line in found if name.split(".")[0] == "synth"]


def package_graph() -> dict[tuple[str, str], list[str]]:
    sites: dict[tuple[str, str], list[str]] = defaultdict(list)
    for folder in ("synth", "pipelines", "filters", "trainers"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            here = package(module_name(path))
            for name, line in imports(path):
                there = package(name)
                if there != here:
                    sites[(here, there)].append(f"{path.relative_to(ROOT)}:{line}")
    return sites


def cycles(edges: set[tuple[str, str]]) -> list[list[str]]:
    """Strongly connected components of more than one package (Tarjan)."""
    graph, index, low, stack, found = defaultdict(set), {}, {}, [], []
    for a, b in edges:
        graph[a].add(b)

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while not component or component[-1] != v:
                component.append(stack.pop())
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_the_cycle_finder_finds_a_cycle_through_three_packages():
    assert cycles({("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")}) == [["a", "b", "c"]]
    assert package("synth.pipelines.labels.rule") == "synth.pipelines.labels"
    assert package("synth.cli_common") == package("synth.commands.filter") == "synth<interface>"
    assert package("synth.engine") == "synth<core>" and package("synth.run.argv") == "synth.run"


def test_no_package_imports_another_in_a_cycle():
    sites = package_graph()
    known = {pair for a, b in KNOWN for pair in ((a, b), (b, a))}
    edges = {edge for edge in sites if edge not in known}
    assert not cycles(edges), {" <-> ".join(c): [sites[e][:3] for e in sites if set(e) <= set(c)] for c in cycles(edges)}
    gone = sorted((a, b) for a, b in KNOWN if not ((a, b) in sites and (b, a) in sites))
    assert not gone, f"no longer a cycle, take it off KNOWN: {gone}"
