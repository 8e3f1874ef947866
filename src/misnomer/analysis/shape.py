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

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum

from ..facts import Region, ReturnKind
from .local import CALL, ShapeInputs, Site
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
    guard_line: int = 0  # the state test that makes it ensure-shaped
    composed: bool = False  # ensure-shaped through calls to ensure-shaped functions
    main_sites: list[Site] = field(default_factory=list)  # state changes on the main path


_ERROR = int(Region.ERROR_PATH)
_REPORTING = int(Region.CONDITIONAL | Region.ERROR_PATH)
_LOGS = int(Effect.LOGS)
_FREES = int(Effect.FREES)
_ALLOCATES = int(Effect.ALLOCATES)
_UNKNOWN = int(Effect.UNKNOWN)
_STATE = int(STATE_CHANGES)
_SUCCESS, _FAILURE, _CONSTANT, _CALL, _VALUE, _BOOL = (
    ReturnKind.SUCCESS.value, ReturnKind.FAILURE.value, ReturnKind.CONSTANT.value,
    ReturnKind.CALL.value, ReturnKind.VALUE.value, ReturnKind.BOOL.value)

# callee name, and where writes through each argument land (None: elsewhere) -> its effects
CalleeEffects = Callable[..., Effect]
CalleeShape = Callable[[str], "Shape | None"]

# Words of fields that say which kind of device or object this is: a test of one is a feature
# gate or a dispatch on the model, not a test of the state the work would change.
IDENTITY_WORDS = ("type", "chip", "chiptype", "chip_id", "model", "rev", "revision", "family",
                  "variant", "role", "quirk", "quirks", "cap", "caps", "capability",
                  "capabilities", "feature", "features", "supported", "support", "supports",
                  "ino", "platform", "board", "machine")
_IDENTITY_FIELD = re.compile(r"(?:^|_)(?:" + "|".join(IDENTITY_WORDS) + r")\d*$", re.I)


def decide_shape(inputs: ShapeInputs, own: Effect, total: Effect, table: PrimitiveTable,
                 callee_effects: CalleeEffects, callee_shape: CalleeShape,
                 has_error: bool = False) -> ShapeVerdict:
    """The shape of one function from its shape inputs, its own and total effects, and what its
    callees do (from the call graph)."""
    main = []
    for s in inputs.sites:
        if s.region & _ERROR:
            continue
        if s.kind == CALL:
            bits = callee_effects(s.name, s.args)
            if bits & _STATE:
                main.append(Site(s.kind, s.name, s.line, s.region, s.cover, int(bits), s.base,
                                 s.pos, s.args))
        elif s.effects & _STATE:
            main.append(s)
    if main:
        verdict = _with_effects(inputs, main, callee_shape)
    else:
        verdict = _without_effects(inputs, own, table, callee_effects, callee_shape)
    verdict.main_sites = main
    verdict.confidence = _confidence(total, has_error, verdict.shape)
    return verdict


def _without_effects(inputs: ShapeInputs, own: Effect, table: PrimitiveTable,
                     callee_effects: CalleeEffects, callee_shape: CalleeShape) -> ShapeVerdict:
    rets = inputs.returns
    if inputs.empty:
        if rets:
            return ShapeVerdict(Shape.EMPTY, [Reason(rets[0][3], f"only returns {rets[0][2]}")])
        return ShapeVerdict(Shape.EMPTY, [Reason(inputs.line, "the body does nothing")])
    if inputs.out_params:
        return ShapeVerdict(Shape.QUERY, [Reason(inputs.line, "changes no state; hands results "
                                                 "back through " + ", ".join(inputs.out_params))])
    # reports made when something is found wrong (not plain prints), directly or through a
    # logging wrapper of the tree's own (DP_VERBOSE(), foo_err())
    logs = bool(inputs.logs) or any(
        s.kind == CALL and s.region & _REPORTING and callee_effects(s.name) & _LOGS
        for s in inputs.sites)
    # Failure that reports: an error code, or false/NULL said out loud (a predicate that just
    # answers false is a query).
    failures = [r for r in rets if _is_error_code(r) or (logs and r[0] == _FAILURE)]
    computed = [r for r in rets if _is_computed(r, table, callee_effects, callee_shape)]
    if logs and any(r[0] == _FAILURE and r[2] == "false" for r in rets):
        # a yes/no check that reports its "no": handing the rest of the answer to another
        # predicate (`return queue_mode_ok(...)`) is part of the check
        computed = [r for r in computed if r[0] != _CALL or table.lookup(r[1]) is not None]
    if (failures or (logs and inputs.void)) and not computed:
        reasons = [Reason(r[3], f"reports failure: return {r[2]}") for r in failures[:3]]
        reasons += [Reason(line, "reports it (logging)") for line in inputs.logs[:2]]
        reasons.append(Reason(inputs.line, "changes no state"))
        return ShapeVerdict(Shape.CHECK, reasons)
    reasons = [Reason(r[3], f"returns {r[2]}") for r in computed[:3]]
    reasons.append(Reason(inputs.line, "changes no state"))
    return ShapeVerdict(Shape.QUERY, reasons)


def _is_error_code(r: tuple) -> bool:
    text = r[2]
    return (r[0] == _FAILURE and text not in ("false", "NULL", "nullptr")) or \
        (r[0] == _CONSTANT and text[:1] == "-")


def _is_computed(r: tuple, table: PrimitiveTable, callee_effects: CalleeEffects,
                 callee_shape: CalleeShape) -> bool:
    """Does this return hand back a computed value (rather than success or failure)?"""
    kind = r[0]
    if kind in (_VALUE, _BOOL):
        return True
    if kind == _CONSTANT:
        return r[2][:1] != "-"
    if kind == _CALL:
        callee = r[1]
        if table.lookup(callee) is not None:
            return True  # container_of(), min(), ...: a value
        shape = callee_shape(callee)
        if shape == Shape.CHECK:
            return False  # delegates the rest of the check
        if shape == Shape.QUERY:
            return True  # hands back what a query computes
        bits = callee_effects(callee)
        return bool(bits & Effect.OUT_PARAMS) or not bits & Effect.CAN_FAIL
    return False


def _with_effects(inputs: ShapeInputs, main: list[Site],
                  callee_shape: CalleeShape) -> ShapeVerdict:
    # Calls to ensure-shaped functions are idempotent: they never make this one act twice.
    idempotent = [s for s in main if s.kind == CALL and callee_shape(s.name) == Shape.ENSURE]
    acting = [s for s in main if s not in idempotent] if idempotent else main
    composed = [Reason(s.line, f"calls ensure-shaped {s.name}()") for s in idempotent[:3]]
    if not acting:
        return ShapeVerdict(Shape.ENSURE, composed, composed=True)
    # A guard: an early success return on a state test before the first state change, where
    # the change touches what the test reads.  Tearing down a cache on the way out
    # (`if (modifiable) { invalidate_raw_data(); return 0; }`) does not make the work happen.
    for guard, variables, guard_end, guard_start in inputs.guards:
        # (a call to an ensure-shaped function inside the arm may well act: no guard either)
        inside = [s for s in main if guard_start <= s.pos < guard_end]
        if not all(s.effects & _FREES and not s.effects & _ALLOCATES for s in inside):
            continue
        after = [s for s in acting if s not in inside] if inside else acting
        if not after or any(_IDENTITY_FIELD.search(v) for v in variables):
            continue  # (`if (ivideo->chip == XGI_20) return;`: this chip needs nothing)
        first = min(s.pos for s in after)
        touched = {s.base for s in after if s.base}
        if guard_end <= first and touched.intersection(variables):
            reasons = [Reason(guard, "returns without acting when the state already holds")]
            reasons += [Reason(s.line, f"otherwise changes state: {_describe(s)}")
                        for s in acting[:3]]
            return ShapeVerdict(Shape.ENSURE, reasons + composed, guard_line=guard,
                                composed=bool(idempotent))
    uncovered = [s for s in acting if not s.cover]
    if not uncovered:
        reasons = [Reason(s.cover, f"changes state only when this state test says so: "
                                   f"{_describe(s)} (line {s.line})") for s in acting[:4]]
        return ShapeVerdict(Shape.ENSURE, reasons + composed, guard_line=acting[0].cover,
                            composed=bool(idempotent))
    reasons = [Reason(s.line, f"changes state on the main path: {_describe(s)}")
               for s in uncovered[:4]]
    return ShapeVerdict(Shape.ACTION, reasons)


def delegates(verdict: ShapeVerdict, inputs: ShapeInputs, table: PrimitiveTable) -> bool:
    """Does this query or check hand back what a function of the tree returns?  Then its
    shape depends on that callee's (a check delegating the rest of the check, or a query
    returning what a query computes): decide it again once every shape is known."""
    return verdict.shape in (Shape.QUERY, Shape.CHECK) and any(
        r[0] == _CALL and table.lookup(r[1]) is None for r in inputs.returns)


def composable(verdict: ShapeVerdict) -> bool:
    """Could this verdict turn into ensure once callee shapes are known?"""
    return verdict.shape == Shape.ACTION and any(s.kind == CALL for s in verdict.main_sites)


def _describe(s: Site) -> str:
    if s.kind == "write":
        return f"writes {s.name}"
    return f"calls {s.name}()"


def _confidence(total: int, has_error: bool, shape: Shape) -> float:
    confidence = 1.0
    if total & _UNKNOWN:
        confidence -= 0.25  # some callee's effects are unknown
    if has_error:
        confidence -= 0.3  # the parse of the definition had errors
    if shape in (Shape.ENSURE, Shape.CHECK):
        confidence -= 0.1  # rests on reading a condition as a state test or a failure report
    return round(max(0.1, confidence), 2)
