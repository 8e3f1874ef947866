"""What one function does by itself, before the call graph is consulted.

For each function: its own effects (writes that reach memory outside it, calls to primitives
from the base lexicon, unbalanced lock/reference calls, logging, failure returns), the evidence
lines, and :class:`ShapeInputs` -- the few facts the shape decision needs once the callees'
effects are known.  The index stores the shape inputs (a few hundred bytes) so the analysis of
a whole tree never has to reload bodies.  Rows are read by position for speed: this runs for
every function of the tree.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from ..facts import (ARG_LOCAL, ARG_POINTER, MAX_PARAMS, FunctionFacts, Region, ReturnKind,
                     TargetKind, param_of_arg)
from .primitives import PARAM_SHIFT, Effect, PrimitiveTable
from .balance import given_back, iterator_releases, scratch_calls
from .reach import GIVEN_BACK, finished, merge_arguments

# Call / write / return / branch row column positions (see misnomer.facts).
C_CALLEE, C_LINE, C_COL, C_REGION, C_BRANCH, C_ARG0, C_ARG_BASE, C_ARGS, C_SOURCE = range(9)
W_TARGET, W_BASE, W_KIND, W_OP, W_LINE, W_COL, W_REGION, W_BRANCH = range(8)
R_KIND, R_TEXT, R_CALLEE, R_LINE, R_COL, R_REGION, R_BRANCH = range(7)
(B_KIND, B_COND, B_LINE, B_COL, B_END, B_EXIT, B_VALUE, B_TEXT, B_ERROR, B_TOP, B_LOOP,
 B_IF_LINE, B_END_COL) = range(13)

_ERROR = int(Region.ERROR_PATH)
_GLOBAL_ARG = int(Region.GLOBAL_ARG)
_LOOP = int(Region.LOOP)
_INDIRECT = int(Region.INDIRECT)
_RETURNED = int(Region.RETURNED)
_CONDITIONAL = int(Region.CONDITIONAL)
_MUTATES, _ALLOCATES, _FREES, _LOCKS, _LOGS, _UNKNOWN, _CAN_FAIL, _OUT = (
    int(Effect.MUTATES), int(Effect.ALLOCATES), int(Effect.FREES), int(Effect.LOCKS),
    int(Effect.LOGS), int(Effect.UNKNOWN), int(Effect.CAN_FAIL), int(Effect.OUT_PARAMS))
_LOCAL, _PARAM, _GLOBAL = (TargetKind.LOCAL.value, TargetKind.PARAM.value,
                           TargetKind.GLOBAL.value)
_FAILURE, _VALUE, _VOID = ReturnKind.FAILURE.value, ReturnKind.VALUE.value, ReturnKind.VOID.value
_CONSTANT_LIKE = frozenset({ReturnKind.SUCCESS.value, ReturnKind.FAILURE.value,
                            ReturnKind.CONSTANT.value, ReturnKind.VOID.value})
_CONSTANT_KIND = ReturnKind.CONSTANT.value
_ENSURE_EXITS = frozenset({ReturnKind.SUCCESS.value, ReturnKind.VOID.value,
                           ReturnKind.VALUE.value})
_DOT_FIELD = re.compile(r"[\w)\]]\.[A-Za-z_]")
_ERRNO_IN = re.compile(r"-\s*E[A-Z]{2,}")
_ABSENCE = re.compile(r"==\s*(?:NULL|0|false)\b|!=|[<>]")
# a dereference (`*cap`, not `a * b`) or a subscript
_DEREF = re.compile(r"(?:^|[\s(!&|=<>,?:])\*\s*\(?\s*[A-Za-z_]|\w\s*\[")
_CALL_NAMES = re.compile(r"([A-Za-z_]\w*)\s*\(")
_ERROR_CHECK_CALLS = frozenset({"IS_ERR", "IS_ERR_OR_NULL", "PTR_ERR", "WARN_ON", "WARN_ON_ONCE",
                                "WARN", "WARN_ONCE", "unlikely", "likely", "BUG_ON", "sizeof",
                                "ARRAY_SIZE", "IS_ENABLED", "WARN_RATELIMIT", "dev_WARN_ONCE"})

# Kinds of site (places where state may change).
WRITE, PRIMITIVE, CALL, INDIRECT, UNBALANCED = (
    "write", "primitive", "call", "indirect", "unbalanced")


@dataclass(frozen=True, slots=True)
class Site:
    kind: str  # WRITE, PRIMITIVE, CALL, INDIRECT or UNBALANCED
    name: str  # the written lvalue or the callee
    line: int
    region: int  # misnomer.facts.Region bits
    cover: int  # line of the state test that this change sits behind, 0 when none
    effects: int  # known effect bits (CALL sites: filled in from the call graph)
    base: str = ""  # the variable written through, or the first argument's variable
    pos: int = 0  # where it is, as position(line, column): orders changes within a line
    args: str = ""  # CALL sites: where writes through each argument land (misnomer.facts)


@dataclass(frozen=True, slots=True)
class Evidence:
    effect: str  # "mutates", "allocates", "frees", "locks", "logs", "can_fail", "out_params"
    line: int
    text: str


@dataclass(slots=True)
class ShapeInputs:
    """What the shape decision needs besides the callees' effects and shapes."""

    empty: bool = False  # no calls but pure ones, no writes, no branches, one constant return
    void: bool = False
    # kind, callee, text, line
    returns: list[tuple[str, str, str, int]] = field(default_factory=list)
    sites: list[Site] = field(default_factory=list)
    # early success returns on a state test: (line of the if, variables the test reads,
    # position(...) just past the arm, position(...) of the arm)
    guards: list[tuple[int, list[str], int, int]] = field(default_factory=list)
    logs: list[int] = field(default_factory=list)  # lines of logging calls made conditionally
    out_params: list[str] = field(default_factory=list)
    line: int = 0  # the function's line, for reasons that point at the whole function

    def to_json(self) -> str:
        return json.dumps([int(self.empty), int(self.void), self.returns,
                           [[s.kind, s.name, s.line, s.region, s.cover, s.effects, s.base, s.pos,
                             s.args] for s in self.sites], self.guards, self.logs, self.out_params,
                           self.line], separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> ShapeInputs:
        e, v, rets, sites, guards, logs, outs, line = json.loads(text)
        return cls(bool(e), bool(v), [tuple(r) for r in rets], [Site(*s) for s in sites],
                   [(g[0], g[1], g[2], g[3]) for g in guards], logs, outs, line)


@dataclass(slots=True)
class LocalSummary:
    effects: Effect  # the function's own effects (stored form: see misnomer.analysis.reach)
    returned: list[str]  # callees whose result is returned as is (their failure propagates)
    inputs: ShapeInputs
    evidence: list[Evidence] = field(default_factory=list)
    state_tests: list[bool] = field(default_factory=list)  # per arm: its condition reads state
    # callee -> where writes through its arguments land, over all calls to it (only callees
    # some argument of which is the caller's own: the rest reach elsewhere)
    callee_args: dict[str, str] = field(default_factory=dict)


def is_state_test(condition: str) -> bool:
    """Does a condition read the current state (a field, something behind a call) rather than
    only a parameter, a local or an error code?"""
    if not condition or condition == "?:":
        return False
    if "->" in condition or _DOT_FIELD.search(condition) or _DEREF.search(condition):
        return True
    return any(name not in _ERROR_CHECK_CALLS for name in _CALL_NAMES.findall(condition))


def summarize(ff: FunctionFacts, table: PrimitiveTable) -> LocalSummary:
    """The local summary of one function."""
    effects = 0  # working form (misnomer.analysis.reach): MUTATES is a change elsewhere
    evidence: list[Evidence] = []
    # (kind, name, line, region, arm, effects, base, column, argument codes)
    raw_sites: list[tuple] = []
    pointer_params = {p.name for p in ff.params if p.name and p.is_pointer}
    callee_args: dict[str, str] = {}
    subject = ff.params[0].name if ff.params else ""  # the object a method-like function is on

    # parameter -> writes through it: (line, text, region, arm, column)
    param_writes: dict[str, list[tuple[int, str, int, int, int]]] = {}
    param_reads: set[str] = set()  # parameters written by read-modify-write
    lookup, pair_key = table.lookup, table.pair_key
    logs: list[int] = []

    # Acquire/release families called both ways in this function cancel out.
    families: dict[object, int] = {}
    for row in ff.call_rows:
        if row[C_REGION] & _INDIRECT:
            continue
        key = pair_key(row[C_CALLEE])
        if key is not None:
            prim = lookup(row[C_CALLEE])
            if prim is None or prim.effects & (Effect.LOCKS | Effect.MUTATES):
                families[key[0]] = families.get(key[0], 0) | (1 if key[1] else 2)
    balanced = {fam for fam, seen in families.items() if seen == 3}
    scratch = scratch_calls(ff, table, {p.name for p in ff.params if p.name})
    given, releases = given_back(ff, table)
    releases |= iterator_releases(ff, table)
    if releases:
        # nothing of these calls reaches the callers: not the acquirers, and not the releases
        # when every call to them gives back what an acquirer took
        dropped = given | {row[C_CALLEE] for row in ff.call_rows
                                if (row[C_LINE], row[C_COL]) in releases}
        dropped -= {row[C_CALLEE] for row in ff.call_rows
                    if row[C_CALLEE] not in given and
                    (row[C_LINE], row[C_COL]) not in releases}
        callee_args.update(dict.fromkeys(dropped, GIVEN_BACK))

    returned: set[str] = set()
    real_calls = 0
    for row in ff.call_rows:
        callee, line, region, arm = row[C_CALLEE], row[C_LINE], row[C_REGION], row[C_BRANCH]
        col = row[C_COL]
        if region & _INDIRECT:
            real_calls += 1
            member = callee.rsplit("->", 1)[-1].rsplit(".", 1)[-1]
            verdict = int(table.verdict_from_name(member))
            if verdict & _MUTATES:
                effects |= _MUTATES
                evidence.append(Evidence("mutates", line, f"{callee}() (indirect; by its name)"))
                raw_sites.append((INDIRECT, callee, line, region, arm, _MUTATES,
                                  row[C_ARG_BASE] or "", col, ""))
            elif verdict & _UNKNOWN:
                effects |= _UNKNOWN
            continue
        if releases and (callee in given or (line, col) in releases):
            real_calls += 1
            continue  # a reference or buffer taken and given back again here
        prim = lookup(callee)
        key = pair_key(callee) if balanced else None
        in_balanced = key is not None and key[0] in balanced
        if prim is None:
            real_calls += 1
            if in_balanced or (balanced and _iterator_step(callee, balanced)):
                continue  # X_get()/X_put() in one function cancel out
            listed = table.pair_of.get(callee)
            if listed is not None and listed[1]:
                # a lookup the lexicon knows takes a reference (of_find_node_by_path) that
                # this function does not give back: its caller must
                effects |= _MUTATES
                evidence.append(Evidence("mutates", line, f"{callee}() takes a reference "
                                         "that is not given back here"))
                raw_sites.append((UNBALANCED, callee, line, region, arm, _MUTATES,
                                  row[C_ARG_BASE] or "", col, ""))
                continue
            if region & _RETURNED:
                returned.add(callee)
            args = row[C_ARGS]
            if args:
                known = callee_args.get(callee)
                callee_args[callee] = args if known is None else merge_arguments(known, args)
            elif callee in callee_args:
                callee_args[callee] = ""
            raw_sites.append((CALL, callee, line, region, arm, 0, row[C_ARG_BASE] or "", col,
                              args))
            continue
        bits = int(prim.effects)
        if not bits:
            continue  # pure: likely(), container_of(), ...
        real_calls += 1
        if bits & _LOGS:
            effects |= _LOGS
            if region & (_CONDITIONAL | _ERROR):
                logs.append(line)  # a report of something found wrong, not a print
            evidence.append(Evidence("logs", line, f"{callee}()"))
        if bits & _LOCKS:
            effects |= _LOCKS
            evidence.append(Evidence("locks", line, f"{callee}()"))
            if not in_balanced:
                effects |= _MUTATES
                key = pair_key(callee)
                evidence.append(Evidence("mutates", line, f"{callee}() without its release"
                                         if key is None or key[1] else
                                         f"{callee}() releases what the caller took"))
                raw_sites.append((UNBALANCED, callee, line, region, arm, _MUTATES,
                                  row[C_ARG_BASE] or "", col, ""))
            continue
        if in_balanced and bits & _MUTATES and not bits & (_ALLOCATES | _FREES):
            continue  # a reference taken and dropped again
        if (line, col) in scratch:
            continue  # a scratch buffer allocated and freed again here: nothing leaves
        if prim.writes_arg is not None:
            target = _arg_target(row[C_ARGS], prim.writes_arg, ff)
            if target == ARG_LOCAL:
                continue
            if target:
                param_writes.setdefault(target, []).append((line, f"{callee}()", region, arm,
                                                            col))
                if prim.updates:
                    param_reads.add(target)  # `set_bit(n, &p->flags)`: p's own state
                continue
        if bits & _FREES and region & _ERROR and not bits & _ALLOCATES:
            # freeing on the error path: the cleanup of what this function allocated
            raw_sites.append((PRIMITIVE, callee, line, region, arm, bits, row[C_ARG_BASE] or "",
                              col, ""))
            continue
        if bits & _ALLOCATES:
            evidence.append(Evidence("allocates", line, f"{callee}()"))
        if bits & _FREES:
            evidence.append(Evidence("frees", line, f"{callee}()"))
        if bits & _MUTATES:
            evidence.append(Evidence("mutates", line, f"{callee}()"))
        bits |= _MUTATES if bits & (_ALLOCATES | _FREES) else 0
        effects |= bits
        raw_sites.append((PRIMITIVE, callee, line, region, arm, bits, row[C_ARG_BASE] or "", col,
                          ""))

    assigned: set[str] = set()  # parameter targets written with `=` so far
    for row in sorted(ff.write_rows, key=lambda r: (r[W_LINE], r[W_COL])):
        kind = row[W_KIND]
        if kind == _LOCAL:
            continue
        target, base, line, col = row[W_TARGET], row[W_BASE], row[W_LINE], row[W_COL]
        if kind == _PARAM:
            param_writes.setdefault(base, []).append((line, target, row[W_REGION], row[W_BRANCH],
                                                      col))
            if row[W_OP] == "=":
                assigned.add(target)
            elif target in assigned:
                continue  # `info->flags |= X` after `info->flags = v`: still building the output
            if row[W_OP] != "=" or (base == subject and ("->" in target or "." in target)):
                # `p->n += 1` reads what it writes; `p->speed = v` sets a field of the object
                # the function works on (a setter): neither is C's way to return a second
                # value, which is `*len = n`, `buf[i] = c` or `info->vid = v` into a struct
                # the caller passed after the object to fill in.
                param_reads.add(base)
            continue
        effects |= _MUTATES
        what = "global" if kind == _GLOBAL else "through a pointer"
        evidence.append(Evidence("mutates", line, f"{target} {row[W_OP]} ... ({what})"))
        raw_sites.append((WRITE, target, line, row[W_REGION], row[W_BRANCH], _MUTATES, base,
                          col, ""))

    # A pointer parameter that is only ever written is an out-parameter: C's second return.
    out_params = []
    position_of = {p.name: i for i, p in enumerate(ff.params) if p.name}
    for name, writes in param_writes.items():
        if name in pointer_params and name not in param_reads and \
                ff.param_uses.get(name, 1 << 30) <= len(writes):
            out_params.append(name)
            effects |= _OUT
            evidence.extend(Evidence("out_params", line, f"{text} (out-parameter {name})")
                            for line, text, _, _, _ in writes)
            continue
        k = position_of.get(name, MAX_PARAMS)
        effects |= 1 << (PARAM_SHIFT + k) if k < MAX_PARAMS else _MUTATES
        for line, text, region, arm, col in writes:
            evidence.append(Evidence("mutates", line, f"{text} (through parameter {name})"))
            raw_sites.append((WRITE, text, line, region, arm, _MUTATES, name, col, ""))
    if ff.asm:
        effects |= _MUTATES
        evidence.append(Evidence("mutates", ff.line, f"{ff.asm} inline assembly statement(s)"))
        raw_sites.append((WRITE, "asm", ff.line, 0, -1, _MUTATES, "", 0, ""))

    returns = []
    predicate = ff.return_kind == "bool"
    for row in ff.return_rows:
        kind, text = row[R_KIND], row[R_TEXT]
        if (kind == _FAILURE and not (predicate and text == "false")) or \
                (kind == _VALUE and row[R_REGION] & _ERROR) or \
                (kind == _VALUE and "?" in text and _ERRNO_IN.search(text)):
            effects |= _CAN_FAIL
            evidence.append(Evidence("can_fail", row[R_LINE], f"return {text}"))
        if kind != _VOID:
            returns.append((kind, row[R_CALLEE] or "", row[R_TEXT][:60], row[R_LINE]))

    branches = ff.branch_rows
    state_tests = [is_state_test(b[B_COND]) for b in branches]
    # an early `return SKB_NOT_DROPPED_YET;` returns success when the body's own last return
    # (its normal outcome) is that constant too
    final_return = max(ff.return_rows, key=lambda r: (r[R_LINE], r[R_COL]))[R_TEXT] \
        if ff.return_rows else None
    inputs = ShapeInputs(
        empty=(real_calls == 0 and not ff.write_rows and not branches and not ff.loop_rows
               and len(ff.return_rows) <= 1
               and all(r[R_KIND] in _CONSTANT_LIKE for r in ff.return_rows)),
        void=ff.return_kind == "void", returns=returns,
        sites=_sites(raw_sites, branches, state_tests, ff.loop_rows),
        guards=[(b[B_IF_LINE], condition_variables(b[B_COND]), position(b[B_END], b[B_END_COL]),
                 position(b[B_LINE], b[B_COL]))
                for i, b in enumerate(branches)
                if b[B_KIND] == "then" and b[B_TOP] and b[B_EXIT] == "return" and
                (b[B_VALUE] in _ENSURE_EXITS or b[B_VALUE] == _CONSTANT_KIND and
                 b[B_TEXT] == final_return) and not b[B_ERROR] and state_tests[i] and
                # an exit that reports something (`dev_err(..); return ret;`) is a failure
                not any(b[B_LINE] <= ln <= b[B_END] for ln in logs)],
        logs=logs, out_params=sorted(out_params), line=ff.line)
    return LocalSummary(Effect(finished(effects)), sorted(returned), inputs, evidence,
                        state_tests, {c: a for c, a in callee_args.items() if a})


def position(line: int, column: int) -> int:
    """A line and column as one number that sorts like the pair."""
    return (line << 16) | min(column, 0xFFFF)


def _tests_absence(condition: str) -> bool:
    """Does the condition ask whether something is missing or short -- `!p->buf`, `x == NULL`,
    `n < need`, `state != READY` -- the test an ensure makes before acting?  A bare presence
    test (`if (p->buf) kfree(p->buf)`) guards a teardown instead, and `a->id == id` a search."""
    for part in re.split(r"&&|\|\|", condition):
        part = part.strip().lstrip("(").strip()
        if part.startswith("!") and not part.startswith("!=") and is_state_test(part):
            return True
        if _ABSENCE.search(part.replace("->", ".")) and is_state_test(part):
            return True
    return False


def _sites(raw: list[tuple], branches: list[tuple], state_tests: list[bool],
           loops: list[tuple]) -> list[Site]:
    """Sites with the line of the state test each sits behind: the then-arm of an if that
    tests state, or a `continue` on a state test earlier in the same loop -- provided the
    arm's (or the loop's) changes touch what the test reads (`if (!p->buf) p->buf = ...`: an
    ensure; `if (dp->x) continue;` before an unrelated call: a search loop's filter)."""
    skips = [i for i, b in enumerate(branches)
             if b[B_KIND] == "then" and state_tests[i] and b[B_EXIT] == "continue"]
    loop_lines = sorted(lp[1] for lp in loops)
    tested: dict[int, list[str]] = {}
    # the variables the changes inside each arm touch (an arm covers its changes as a block)
    touched: dict[int, set[str]] = {}
    for _, _, line, _, arm, _, base, col, _ in raw:
        if base:
            for i, b in enumerate(branches):
                if (b[B_LINE], b[B_COL]) <= (line, col) <= (b[B_END], b[B_END_COL]):
                    touched.setdefault(i, set()).add(base)
    sites = []
    for kind, name, line, region, arm, bits, base, col, args in sorted(raw, key=lambda s: s[2]):
        cover = 0
        # An else-arm acts when the state does *not* hold: no guard.  Freeing under a null
        # test is a teardown's care, not an ensure.
        # (in a loop, an arm that acts and leaves acts on the element a search found)
        if arm >= 0 and state_tests[arm] and branches[arm][B_KIND] == "then" and \
                not (region & _LOOP and branches[arm][B_EXIT] in ("return", "break")) and \
                _tests_absence(branches[arm][B_COND]) and \
                not (bits & _FREES and not bits & _ALLOCATES) and \
                touched.get(arm, set()).intersection(_tested(tested, branches, arm)):
            cover = branches[arm][B_IF_LINE]
        elif skips and region & _LOOP:
            start = _loop_start(loop_lines, line)
            cover = next((branches[g][B_IF_LINE] for g in skips
                          if start <= branches[g][B_LINE] < line and
                          _loop_touches(raw, loop_lines, branches, g, start, tested)), 0)
        sites.append(Site(kind, name, line, region, cover, bits, base, position(line, col), args))
    return sites


def _loop_start(loop_lines: list[int], line: int) -> int:
    return max((ln for ln in loop_lines if ln <= line), default=-1)


def _loop_touches(raw: list[tuple], loop_lines: list[int], branches: list[tuple], guard: int,
                  start: int, tested: dict[int, list[str]]) -> bool:
    """Do the changes after a `continue` test, in the same loop, touch what it reads?"""
    wanted = set(_tested(tested, branches, guard))
    after = branches[guard][B_LINE]
    return any(base in wanted for _, _, line, region, _, _, base, _, _ in raw
               if line > after and region & _LOOP and _loop_start(loop_lines, line) == start)


def _tested(cache: dict[int, list[str]], branches: list[tuple], arm: int) -> list[str]:
    if arm not in cache:
        cache[arm] = condition_variables(branches[arm][B_COND])
    return cache[arm]


_IDENTIFIER = re.compile(r"[A-Za-z_]\w*(?!\w|\s*\()")


def condition_variables(condition: str) -> list[str]:
    """Variables a condition reads (not the functions it calls, not upper-case constants)."""
    return sorted({w for w in _IDENTIFIER.findall(condition)
                   if not w.isupper() and w not in _C_WORDS})


_C_WORDS = frozenset({"sizeof", "NULL", "true", "false", "likely", "unlikely"})


def _arg_target(args: str, k: int, ff: FunctionFacts) -> str | None:
    """Where a write through argument ``k`` lands: ARG_LOCAL, a parameter's name, or None for
    anywhere else."""
    code = args[k] if k < len(args) else None
    if code == ARG_LOCAL or code == ARG_POINTER:
        return ARG_LOCAL  # (a local pointer: usually the buffer this function set up)
    index = param_of_arg(code) if code else -1
    return ff.params[index].name if 0 <= index < len(ff.params) else None


def _iterator_step(callee: str, balanced: set) -> bool:
    """`css_task_iter_next()` between `css_task_iter_start()` and `css_task_iter_end()`: a
    step of an iteration begun and ended here."""
    stem, _, step = callee.rpartition("_")
    return step in ("next", "prev") and (stem, "_begin") in balanced


__all__ = ["Site", "Evidence", "ShapeInputs", "LocalSummary", "summarize", "is_state_test",
           "WRITE", "PRIMITIVE", "CALL", "INDIRECT", "UNBALANCED"]
