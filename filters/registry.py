"""The filter registry: name -> filter, and `build` to turn `--filters a,b,c` into one pipeline's steps.

A filter declares the record kinds it understands; `all` picks every filter that applies to the input
kind, in registry order (cheap checks first). Third-party code adds filters with `register(FilterSpec(...))`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from synth.filters import quality

from synth.errors import UserError

ALL_KINDS = ("deepsearch_task", "trajectory", "code_problem", "preference_pair", "generic")


@dataclass(frozen=True)
class FilterSpec:
    name: str
    build: Callable[..., object]      # (kind, **options) -> a datatrove step (usually a FilterStep)
    kinds: tuple[str, ...] = ALL_KINDS
    help: str = ""
    default: bool = True              # part of `all`; False: only when named (it needs data not every run has)


REGISTRY: dict[str, FilterSpec] = {}


def register(spec: FilterSpec) -> FilterSpec:
    REGISTRY[spec.name] = spec
    return spec


for _cls, _kinds in ((quality.SchemaFilter, ALL_KINDS), (quality.AnswerFilter, ALL_KINDS),
                     (quality.ToolCallFilter, ("trajectory", "preference_pair")),
                     (quality.RefusalFilter, ALL_KINDS), (quality.RepetitionFilter, ALL_KINDS),
                     (quality.TokenBudgetFilter, ALL_KINDS)):
    register(FilterSpec(_cls.name, _cls, _kinds, (_cls.__doc__ or "").split("\n")[0]))
for _cls in (quality.VerifiedFilter, quality.ToolErrorFilter):  # opt-in: imported trajectories are rarely judged
    register(FilterSpec(_cls.name, _cls, ("trajectory",), (_cls.__doc__ or "").split("\n")[0], default=False))


def names_for(kind: str) -> list[str]:
    """The filters `all` means for this kind."""
    return [name for name, spec in REGISTRY.items() if kind in spec.kinds and spec.default]


def resolve(selection: str | list[str] | None, kind: str) -> list[str]:
    """`all` (default), `none`, or a comma list -> filter names, checked against the registry and kind."""
    if isinstance(selection, list):
        selection = ",".join(selection)
    wanted = [s.strip() for s in (selection or "all").split(",") if s.strip()]
    if wanted in (["all"], []):
        return names_for(kind)
    if wanted == ["none"]:
        return []
    if "all" in wanted:  # `all,verified`: the defaults plus opt-in filters, in registry order
        named = set(wanted) - {"all"}
        resolve(sorted(named), kind)  # unknown or misfit names fail as below
        return [n for n in REGISTRY if n in named or n in names_for(kind)]
    unknown = [n for n in wanted if n not in REGISTRY]
    if unknown:
        raise UserError(f"--filters: unknown filter(s) {', '.join(unknown)}; known: {', '.join(REGISTRY)}")
    misfit = [n for n in wanted if kind not in REGISTRY[n].kinds]
    if misfit:
        raise UserError(f"--filters: {', '.join(misfit)} do(es) not apply to {kind} records")
    return wanted


def build(names: list[str], kind: str, **options) -> list:
    return [REGISTRY[name].build(kind, **options) for name in names]
