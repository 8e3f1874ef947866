"""What one function does by itself, before the call graph is consulted.

For each function: its own effects (writes that reach memory outside it, calls to primitives
from the base lexicon, unbalanced lock/reference calls, logging, failure returns), the callees
whose effects must come from the call graph, and the *sites* where state may change, each with
where it sits (guarded, conditional, error path) and the line that shows it.  Rows are read by
index for speed: this runs for every function of the tree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..facts import FunctionFacts, Region, ReturnKind, TargetKind
from .primitives import STATE_CHANGES, Effect, PrimitiveTable

# Call row / write row / return row / branch row column positions (see misnomer.facts).
C_CALLEE, C_LINE, C_COL, C_REGION, C_BRANCH, C_ARG0 = range(6)
W_TARGET, W_BASE, W_KIND, W_OP, W_LINE, W_COL, W_REGION, W_BRANCH = range(8)
R_KIND, R_TEXT, R_CALLEE, R_LINE, R_COL, R_REGION, R_BRANCH = range(7)
B_KIND, B_COND, B_LINE, B_COL, B_END, B_EXIT, B_VALUE, B_TEXT, B_ERROR, B_TOP, B_LOOP = range(11)

_ERROR = int(Region.ERROR_PATH)
_INDIRECT = int(Region.INDIRECT)
_RETURNED = int(Region.RETURNED)
_DOT_FIELD = re.compile(r"[\w)\]]\.[A-Za-z_]")
_CALL_NAMES = re.compile(r"([A-Za-z_]\w*)\s*\(")
_ERROR_CHECK_CALLS = frozenset({"IS_ERR", "IS_ERR_OR_NULL", "PTR_ERR", "WARN_ON", "WARN_ON_ONCE",
                                "WARN", "WARN_ONCE", "unlikely", "likely", "BUG_ON", "sizeof",
                                "ARRAY_SIZE", "IS_ENABLED", "WARN_RATELIMIT", "dev_WARN_ONCE"})

# Kinds of site (places where state may change).
WRITE, PRIMITIVE, CALL, INDIRECT, UNBALANCED = "write", "primitive", "call", "indirect", "unbalanced"


@dataclass(frozen=True, slots=True)
class Site:
    kind: str  # WRITE, PRIMITIVE, CALL, INDIRECT or UNBALANCED
    name: str  # the written lvalue or the callee
    line: int
    region: int  # misnomer.facts.Region bits
    branch: int  # innermost arm, index in FunctionFacts.branches, or -1
    effects: Effect  # known effects (for CALL sites: filled in from the call graph)


@dataclass(frozen=True, slots=True)
class Evidence:
    effect: str  # "mutates", "allocates", "frees", "locks", "logs", "can_fail", "out_params"
    line: int
    text: str


@dataclass(slots=True)
class LocalSummary:
    effects: Effect  # the function's own effects
    callees: list[str]  # callees whose effects come from the call graph (sorted, unique)
    returned: list[str]  # callees whose result is returned as is (failure propagates)
    sites: list[Site] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    out_params: list[str] = field(default_factory=list)
    state_tests: list[bool] = field(default_factory=list)  # per arm: its condition reads state
    pure_calls: int = 0  # calls to primitives with no effect at all
    indirect_unknown: int = 0


def is_state_test(condition: str, params: set[str]) -> bool:
    """Does a condition read the current state (a field, a global through a call) rather than
    only a parameter, a local or an error code?"""
    if not condition or condition == "?:":
        return False
    if "->" in condition or _DOT_FIELD.search(condition):
        return True
    return any(name not in _ERROR_CHECK_CALLS for name in _CALL_NAMES.findall(condition))


def summarize(ff: FunctionFacts, table: PrimitiveTable, param_uses: dict[str, int]) -> LocalSummary:
    """The local summary of one function.  ``param_uses`` counts the occurrences of each
    pointer parameter in the body (the front end provides them)."""
    effects = Effect.NONE
    evidence: list[Evidence] = []
    sites: list[Site] = []
    pointer_params = {p.name for p in ff.params if p.name and p.is_pointer}
    all_params = {p.name for p in ff.params if p.name}
    # parameter -> writes through it: (line, text, region, branch)
    param_writes: dict[str, list[tuple[int, str, int, int]]] = {}

    # --- calls ---------------------------------------------------------------------------
    families: dict[object, list[bool]] = {}
    prims = []
    for row in ff.call_rows:
        callee = row[C_CALLEE]
        if row[C_REGION] & _INDIRECT:
            continue
        prim = table.lookup(callee)
        prims.append(prim)
        key = table.pair_key(callee)
        if key is not None and (prim is None or prim.effects & (Effect.LOCKS | Effect.MUTATES)):
            fam = families.setdefault(key[0], [False, False])
            fam[0 if key[1] else 1] = True
    balanced = {fam for fam, (acq, rel) in families.items() if acq and rel}

    callees: set[str] = set()
    returned: set[str] = set()
    pure_calls = 0
    indirect_unknown = 0
    pi = 0
    for row in ff.call_rows:
        callee, line, region = row[C_CALLEE], row[C_LINE], row[C_REGION]
        if region & _INDIRECT:
            member = callee.rsplit("->", 1)[-1].rsplit(".", 1)[-1]
            verdict = table.verdict_from_name(member)
            if verdict & Effect.MUTATES:
                effects |= Effect.MUTATES
                evidence.append(Evidence("mutates", line, f"{callee}() (indirect; by its name)"))
                sites.append(Site(INDIRECT, callee, line, region, row[C_BRANCH], Effect.MUTATES))
            elif verdict & Effect.UNKNOWN:
                effects |= Effect.UNKNOWN
                indirect_unknown += 1
            continue
        prim = prims[pi]
        pi += 1
        key = table.pair_key(callee)
        in_balanced = key is not None and key[0] in balanced
        if prim is None:
            if in_balanced:
                continue  # X_get()/X_put() in one function cancel out
            callees.add(callee)
            if region & _RETURNED:
                returned.add(callee)
            sites.append(Site(CALL, callee, line, region, row[C_BRANCH], Effect.NONE))
            continue
        bits = prim.effects
        if not bits:
            pure_calls += 1
            continue
        if bits & Effect.LOGS:
            effects |= Effect.LOGS
            evidence.append(Evidence("logs", line, f"{callee}()"))
        if bits & Effect.LOCKS:
            effects |= Effect.LOCKS
            evidence.append(Evidence("locks", line, f"{callee}()"))
            if not in_balanced:
                effects |= Effect.MUTATES
                evidence.append(Evidence("mutates", line, f"{callee}() without its release"
                                         if key is None or key[1] else
                                         f"{callee}() releases what the caller took"))
                sites.append(Site(UNBALANCED, callee, line, region, row[C_BRANCH],
                                  Effect.MUTATES))
            continue
        if in_balanced and bits & Effect.MUTATES and not bits & (Effect.ALLOCATES | Effect.FREES):
            continue  # a reference taken and dropped again
        if prim.writes_arg == 0:
            target = _arg_target(row[C_ARG0], all_params, pointer_params)
            if target == "local":
                continue
            if target.startswith("param:"):
                param_writes.setdefault(target[6:], []).append(
                    (line, f"{callee}()", region, row[C_BRANCH]))
                continue
        if bits & Effect.FREES and region & _ERROR and not bits & Effect.ALLOCATES:
            # freeing on the error path: the cleanup of what this function allocated
            sites.append(Site(PRIMITIVE, callee, line, region, row[C_BRANCH], bits))
            continue
        for bit, word in ((Effect.ALLOCATES, "allocates"), (Effect.FREES, "frees"),
                          (Effect.MUTATES, "mutates")):
            if bits & bit:
                evidence.append(Evidence(word, line, f"{callee}()"))
        effects |= bits | (Effect.MUTATES if bits & (Effect.ALLOCATES | Effect.FREES) else 0)
        sites.append(Site(PRIMITIVE, callee, line, region, row[C_BRANCH], bits))

    # --- writes --------------------------------------------------------------------------
    for row in ff.write_rows:
        kind = row[W_KIND]
        if kind == TargetKind.LOCAL.value:
            continue
        target, base, line = row[W_TARGET], row[W_BASE], row[W_LINE]
        if kind == TargetKind.PARAM.value:
            param_writes.setdefault(base, []).append((line, target, row[W_REGION], row[W_BRANCH]))
            continue
        effects |= Effect.MUTATES
        what = "global" if kind == TargetKind.GLOBAL.value else "through a pointer"
        evidence.append(Evidence("mutates", line, f"{target} {row[W_OP]} ... ({what})"))
        sites.append(Site(WRITE, target, line, row[W_REGION], row[W_BRANCH], Effect.MUTATES))

    # A pointer parameter that is only ever written is an out-parameter: C's second return.
    out_params = []
    for name, writes in param_writes.items():
        if name in pointer_params and param_uses.get(name, 1 << 30) <= len(writes):
            out_params.append(name)
            effects |= Effect.OUT_PARAMS
            evidence.extend(Evidence("out_params", line, f"{text} (out-parameter {name})")
                            for line, text, _, _ in writes)
            continue
        effects |= Effect.MUTATES
        for line, text, region, branch in writes:
            evidence.append(Evidence("mutates", line, f"{text} (through parameter {name})"))
            sites.append(Site(WRITE, text, line, region, branch, Effect.MUTATES))
    if ff.asm:
        effects |= Effect.MUTATES
        evidence.append(Evidence("mutates", ff.line, f"{ff.asm} inline assembly statement(s)"))
        sites.append(Site(WRITE, "asm", ff.line, 0, -1, Effect.MUTATES))

    # --- failure -------------------------------------------------------------------------
    for row in ff.return_rows:
        if row[R_KIND] == ReturnKind.FAILURE.value or (
                row[R_REGION] & _ERROR and row[R_KIND] == ReturnKind.VALUE.value):
            effects |= Effect.CAN_FAIL
            evidence.append(Evidence("can_fail", row[R_LINE], f"return {row[R_TEXT]}"))

    state_tests = [is_state_test(b[B_COND], all_params) for b in ff.branch_rows]
    sites.sort(key=lambda s: s.line)
    return LocalSummary(effects, sorted(callees), sorted(returned), sites, evidence,
                        sorted(out_params), state_tests, pure_calls, indirect_unknown)


def _arg_target(arg0: str | None, params: set[str], pointer_params: set[str]) -> str:
    """Where a write through the first argument lands: 'local', 'param:<name>' or 'other'."""
    if not arg0:
        return "other"  # an expression: p->buf, dev->name, ...
    if arg0.startswith("&"):
        return "other" if arg0[1:] in pointer_params else "local"
    if arg0 in pointer_params:
        return "param:" + arg0
    return "local"  # a local array or buffer, or a by-value parameter
