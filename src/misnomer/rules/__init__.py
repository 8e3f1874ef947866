"""The rules of `misnomer check`, one module per family; IDs come in blocks per family:
MN1xx the verb against the shape, MN2xx effects a verb promises, MN3xx conventions,
MN4xx namesakes."""

from __future__ import annotations

from collections.abc import Iterator

from ..analysis.callgraph import config_off
from ..findings import Finding, Rule
from . import conventions, namesakes, promises, shapes
from .base import CheckContext, FunctionView

PER_FUNCTION = (shapes, promises, conventions)
WHOLE_TREE = (namesakes,)
ALL_RULES: list[Rule] = [r for m in PER_FUNCTION + WHOLE_TREE for r in m.RULES]
BY_ID = {r.id: r for r in ALL_RULES}
BY_SYMBOL = {r.symbol: r for r in ALL_RULES}


def rules_matching(selectors: list[str]) -> set[str]:
    """Rule ids named by selectors: ids (MN101), id prefixes (MN1, MN), symbols, or ALL; a
    selector may list several, comma-separated (`MN105,MN106`), as ruff's do."""
    chosen = set()
    for sel in (part for item in selectors for part in item.split(",") if part.strip()):
        sel = sel.strip()
        if sel.upper() == "ALL":
            chosen.update(BY_ID)
        elif sel in BY_SYMBOL:
            chosen.add(BY_SYMBOL[sel].id)
        elif sel.upper().startswith("MN"):
            found = {i for i in BY_ID if i.startswith(sel.upper())}
            if not found:
                raise KeyError(sel)
            chosen.update(found)
        else:
            raise KeyError(sel)
    return chosen


def judged(fn: FunctionView) -> bool:
    """Is the function's name its author's to answer for?  Not a stub compiled when an option
    is off (it copies the real function's name and does nothing much), and not an upper-case
    name (generated register helpers, macro-like inlines: `REG_WRITE_ADDR(v)` builds a value)."""
    return not config_off(fn.variant) and not fn.name.isupper()


def check_function(fn: FunctionView, ctx: CheckContext, enabled: set[str]) -> Iterator[Finding]:
    if not judged(fn):
        return
    for module in PER_FUNCTION:
        if any(r.id in enabled for r in module.RULES):
            for finding in module.check(fn, ctx):
                if finding.rule.id in enabled:
                    yield finding


class TreeRules:
    """Rules that judge across the tree: they see every function, then report."""

    def __init__(self, ctx: CheckContext, enabled: set[str]) -> None:
        self.namesakes = namesakes.Namesakes(ctx) if namesakes.NAMESAKE_MISMATCH.id in enabled \
            else None

    def see(self, fn: FunctionView) -> None:
        if self.namesakes is not None:
            self.namesakes.see(fn)

    def findings(self) -> Iterator[Finding]:
        if self.namesakes is not None:
            yield from self.namesakes.findings()


__all__ = ["ALL_RULES", "BY_ID", "BY_SYMBOL", "CheckContext", "FunctionView", "rules_matching",
           "check_function", "TreeRules"]
