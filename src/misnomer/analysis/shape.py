"""Shapes: exactly one of query, check, ensure, action, empty per function, with its reasons.

Definitions (DESIGN.md, "Behaviour vocabulary"):
- query:  changes no state; computes and returns a value;
- check:  changes no state except logging; verifies a condition, reports failure when it fails;
- ensure: changes state only when a test of the current state says so, else returns success;
- action: changes state on its main path every time (error paths aside);
- empty:  does nothing (empty body, or returns a constant).
Composition: when every unconditional state change is a call to an ensure-shaped function and
the other state changes sit behind a state test, the function is ensure-shaped too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from ..facts import ExitKind, FunctionFacts, Region, ReturnKind
from .local import B_EXIT, B_KIND, B_LINE, B_LOOP, B_TOP, B_VALUE, B_ERROR, CALL, LocalSummary, R_CALLEE, R_KIND, R_LINE, R_TEXT, Site
from .primitives import STATE_CHANGES, Effect, PrimitiveTable


class Shape(str, Enum):
    QUERY = "query"
    CHECK = "check"
    ENSURE = "ensure"
    ACTION = "action"
    EMPTY = "empty"


@dataclass(frozen=True, slots=True)
class Reason:
    line: int
    text: str


@dataclass(slots=True)
class ShapeVerdict:
    shape: Shape
    reasons: list[Reason] = field(default_factory=list)
    confidence: float = 1.0
    guard: int = -1  # the arm (index in branches) whose state test makes it ensure-shaped
    composed: bool = False  # ensure-shaped through calls to ensure-shaped functions
    main_sites: list[Site] = field(default_factory=list)  # state changes on the main path


_ERROR = int(Region.ERROR_PATH)
_LOOP = int(Region.LOOP)
_CONSTANT_LIKE = frozenset({ReturnKind.SUCCESS.value, ReturnKind.FAILURE.value,
                            ReturnKind.CONSTANT.value, ReturnKind.VOID.value})
_ENSURE_EXITS = frozenset({ReturnKind.SUCCESS.value, ReturnKind.VOID.value,
                           ReturnKind.VALUE.value})

CalleeEffects = Callable[[str], Effect]
CalleeShape = Callable[[str], "Shape | None"]


def decide_shape(ff: FunctionFacts, summary: LocalSummary, table: PrimitiveTable,
                 effects: Effect, callee_effects: CalleeEffects,
                 callee_shape: CalleeShape) -> ShapeVerdict:
    """The shape of one function, given the effects of its callees (from the call graph)."""
    sites = [s if s.kind != CALL else Site(s.kind, s.name, s.line, s.region, s.branch,
                                          callee_effects(s.name))
             for s in summary.sites]
    changing = [s for s in sites if s.effects & STATE_CHANGES]
    main = [s for s in changing if not s.region & _ERROR]
    verdict = (_decide_without_effects(ff, summary, table, callee_effects, callee_shape)
               if not main else _decide_with_effects(ff, summary, main, callee_shape))
    verdict.main_sites = main
    verdict.confidence = _confidence(ff, effects, verdict.shape)
    return verdict


def _decide_without_effects(ff: FunctionFacts, summary: LocalSummary, table: PrimitiveTable,
                            callee_effects: CalleeEffects,
                            callee_shape: CalleeShape) -> ShapeVerdict:
    returns = ff.return_rows
    real_calls = len(ff.call_rows) - summary.pure_calls
    if real_calls == 0 and not ff.write_rows and not ff.branch_rows and not ff.loop_rows and \
            len(returns) <= 1 and all(r[R_KIND] in _CONSTANT_LIKE for r in returns):
        if returns:
            return ShapeVerdict(Shape.EMPTY, [Reason(returns[0][R_LINE],
                                                     f"only returns {returns[0][R_TEXT]}")])
        return ShapeVerdict(Shape.EMPTY, [Reason(ff.line, "the body does nothing")])

    failures = [r for r in returns if _is_failure(r)]
    computed = [r for r in returns if _is_computed(r, table, callee_effects, callee_shape)]
    logs = bool(summary.effects & Effect.LOGS)
    if summary.out_params:
        return ShapeVerdict(Shape.QUERY, [Reason(ff.line, "changes no state; hands results back "
                                                 "through " + ", ".join(summary.out_params))])
    if (failures or (logs and ff.return_kind == "void")) and not computed:
        reasons = [Reason(r[R_LINE], f"reports failure: return {r[R_TEXT]}") for r in failures]
        if logs:
            reasons += [Reason(e.line, f"reports {e.text}") for e in summary.evidence
                        if e.effect == "logs"][:3]
        reasons.append(Reason(ff.line, "changes no state"))
        return ShapeVerdict(Shape.CHECK, reasons)
    reasons = [Reason(r[R_LINE], f"returns {r[R_TEXT]}") for r in computed[:3]]
    reasons.append(Reason(ff.line, "changes no state"))
    return ShapeVerdict(Shape.QUERY, reasons)


def _is_failure(r: tuple) -> bool:
    return r[R_KIND] == ReturnKind.FAILURE.value or (
        r[R_KIND] == ReturnKind.CONSTANT.value and r[R_TEXT].startswith("-"))


def _is_computed(r: tuple, table: PrimitiveTable, callee_effects: CalleeEffects,
                 callee_shape: CalleeShape) -> bool:
    kind = r[R_KIND]
    if kind in (ReturnKind.VALUE.value, ReturnKind.BOOL.value):
        return True
    if kind == ReturnKind.CONSTANT.value:
        return not r[R_TEXT].startswith("-")
    if kind == ReturnKind.CALL.value:
        callee = r[R_CALLEE]
        if table.lookup(callee) is not None:
            return True  # container_of(), min(), ...: computes a value
        if callee_shape(callee) == Shape.CHECK:
            return False  # delegates the rest of the check
        return not callee_effects(callee) & Effect.CAN_FAIL
    return False


def _decide_with_effects(ff: FunctionFacts, summary: LocalSummary, main: list[Site],
                         callee_shape: CalleeShape) -> ShapeVerdict:
    branches = ff.branch_rows
    tests = summary.state_tests
    first = min(s.line for s in main)

    # A guard: an early return at function level, on a state test, without failure, before
    # the first state change.
    for i, b in enumerate(branches):
        if b[B_LINE] >= first:
            break
        if b[B_KIND] == "then" and b[B_TOP] and b[B_EXIT] == ExitKind.RETURN.value and \
                b[B_VALUE] in _ENSURE_EXITS and not b[B_ERROR] and tests[i]:
            reasons = [Reason(b[B_LINE], f"returns without acting when the state holds "
                                          f"(guard at line {b[B_LINE]})")]
            reasons += [Reason(s.line, f"otherwise changes state: {_describe(s)}")
                        for s in main[:3]]
            return ShapeVerdict(Shape.ENSURE, reasons, guard=i)

    loop_guards = [i for i, b in enumerate(branches)
                   if b[B_KIND] == "then" and b[B_LOOP] and tests[i] and
                   b[B_EXIT] == ExitKind.CONTINUE.value]
    loop_lines = sorted(lp[1] for lp in ff.loop_rows)
    uncovered: list[Site] = []
    covered: list[tuple[Site, int]] = []
    for s in main:
        arm = s.branch
        if arm >= 0 and tests[arm] and branches[arm][B_KIND] in ("then", "else"):
            covered.append((s, arm))
            continue
        guard = _loop_guard(s, loop_guards, branches, loop_lines)
        if guard >= 0:
            covered.append((s, guard))
            continue
        uncovered.append(s)
    if covered and not uncovered:
        reasons = [Reason(branches[arm][B_LINE], f"changes state only when the state test "
                                                 f"says so: {_describe(s)}")
                   for s, arm in covered[:4]]
        return ShapeVerdict(Shape.ENSURE, reasons, guard=covered[0][1])
    if uncovered and all(s.kind == CALL and callee_shape(s.name) == Shape.ENSURE
                         for s in uncovered):
        reasons = [Reason(s.line, f"calls ensure-shaped {s.name}()") for s in uncovered[:4]]
        reasons += [Reason(branches[arm][B_LINE], f"other changes behind a state test: "
                                                  f"{_describe(s)}") for s, arm in covered[:2]]
        return ShapeVerdict(Shape.ENSURE, reasons, composed=True)
    reasons = [Reason(s.line, f"changes state on the main path: {_describe(s)}")
               for s in uncovered[:4]]
    return ShapeVerdict(Shape.ACTION, reasons)


def _loop_guard(site: Site, loop_guards: list[int], branches: list[tuple],
                loop_lines: list[int]) -> int:
    """A `continue` on a state test earlier in the same loop body as ``site``."""
    if not site.region & _LOOP or not loop_guards:
        return -1
    loop_start = max((ln for ln in loop_lines if ln <= site.line), default=-1)
    for i in loop_guards:
        if loop_start <= branches[i][B_LINE] < site.line:
            return i
    return -1


def _describe(s: Site) -> str:
    if s.kind == "write":
        return f"writes {s.name}"
    return f"calls {s.name}()"


def _confidence(ff: FunctionFacts, effects: Effect, shape: Shape) -> float:
    confidence = 1.0
    if effects & Effect.UNKNOWN:
        confidence -= 0.25  # some callee's effects are unknown
    if ff.has_error:
        confidence -= 0.3  # the parse of the definition had errors
    if shape in (Shape.ENSURE, Shape.CHECK):
        confidence -= 0.1  # rests on reading a condition as a state test or a failure report
    return round(max(0.1, confidence), 2)
