"""What a function takes and gives back again itself, so that nothing of it reaches its callers:
a scratch buffer allocated and freed, a reference looked up and put, the reference an iterator
macro holds for the element a loop leaves on.  Rows are read by position (misnomer.facts).
"""

from __future__ import annotations

import re

from ..facts import Branch, Call, FunctionFacts, Region
from .primitives import Effect, PrimitiveTable

C_CALLEE, C_LINE, C_COL, C_REGION, C_BRANCH, C_ARG0, C_SOURCE = (
    Call.ROW.index(c) for c in ("callee", "line", "column", "region", "branch", "arg0",
                                "acquired_from"))
B_KIND, B_COND = (Branch.ROW.index(c) for c in ("kind", "condition"))
R_TEXT = 1  # misnomer.facts.Return.ROW
_ERROR, _GLOBAL_ARG, _LOOP, _INDIRECT, _RETURNED, _CONDITIONAL = (
    int(Region.ERROR_PATH), int(Region.GLOBAL_ARG), int(Region.LOOP), int(Region.INDIRECT),
    int(Region.RETURNED), int(Region.CONDITIONAL))
_MUTATES, _ALLOCATES, _FREES = int(Effect.MUTATES), int(Effect.ALLOCATES), int(Effect.FREES)


def scratch_calls(ff: FunctionFacts, table: PrimitiveTable,
                   params: set[str]) -> set[tuple[int, int]]:
    """(line, column) of the allocations and frees of scratch memory: as many main-path
    allocations as there are frees of a plain local (`buf = kzalloc(..); ...; kfree(buf);`).
    What a function allocates and frees again before returning changes nothing its callers
    see."""
    allocs, frees = [], []
    for row in ff.call_rows:
        if row[C_REGION] & (_INDIRECT | _ERROR):
            continue
        prim = table.lookup(row[C_CALLEE])
        if prim is None:
            continue
        if prim.effects & _ALLOCATES and not prim.effects & _FREES:
            if not row[C_REGION] & _RETURNED:  # a returned allocation is the caller's
                allocs.append((row[C_LINE], row[C_COL]))
        elif prim.effects & _FREES and not prim.effects & _ALLOCATES and \
                not row[C_REGION] & _GLOBAL_ARG and row[C_ARG0] and \
                row[C_ARG0].isidentifier() and row[C_ARG0] not in params:
            frees.append((row[C_LINE], row[C_COL]))
    n = min(len(allocs), len(frees))
    return set(allocs[:n]) | set(frees[-n:]) if n else set()


_ACQUIRES = re.compile(r"(?:^|_)(?:get|find|lookup|alloc|zalloc|create|new|acquire|hold|grab|"
                       r"ref|clone|dup|search|open)(?:_|$)")


def given_back(ff: FunctionFacts, table: PrimitiveTable) -> tuple[set[str], set[tuple]]:
    """Callees whose result this function gives back on its main path (`dev = bus_find_device
    (..); ..; put_device(dev);`), and the (line, column) of those releases: a reference taken
    and dropped again, a buffer made and destroyed, is no effect on the callers.  Only a
    callee named to take something counts (`x = skb_dequeue(q); skb_free(x);` consumes an
    element of a queue), and only when one release is unconditional (a function that gives
    back what it found only when it does not match hands the rest to its caller), and not
    when the function returns what it holds."""
    given: set[str] = set()
    candidates = []
    returned = {r[R_TEXT] for r in ff.return_rows}
    for row in ff.call_rows:
        source = row[C_SOURCE]
        if source and not row[C_REGION] & _ERROR and _ACQUIRES.search(source) and \
                row[C_ARG0] not in returned:
            prim = table.lookup(source)
            if prim is None or prim.effects & (_MUTATES | _ALLOCATES):
                candidates.append((source, row[C_LINE], row[C_COL]))
                if not row[C_REGION] & _CONDITIONAL or _found(ff, row):
                    given.add(source)
    return given, {(line, col) for source, line, col in candidates if source in given}


def _found(ff: FunctionFacts, row: tuple) -> bool:
    """Is the release in the arm of a test that the reference was found (`e = find(..); if
    (e) { ..; put(e); }`)?  Then it gives back whatever was taken."""
    arm, var = row[C_BRANCH], row[C_ARG0]
    if arm < 0 or arm >= len(ff.branch_rows) or not var:
        return False
    branch = ff.branch_rows[arm]
    return branch[B_KIND] == "then" and re.fullmatch(
        r"\s*(?:" + re.escape(var) + r"(?:\s*!=\s*NULL)?|!\s*IS_ERR(?:_OR_NULL)?\s*\(\s*" +
        re.escape(var) + r"\s*\))\s*", branch[B_COND]) is not None


_ITERATION_LOOPS = frozenset({"for", "while", "do"})


def iterator_releases(ff: FunctionFacts, table: PrimitiveTable) -> set[tuple[int, int]]:
    """(line, column) of the releases inside an iterator macro's loop, on an exit from it
    (`for_each_child_of_node(np, child) { if (..) { of_node_put(child); break; } }`): they
    give back the reference the iterator took for the element, no effect on the callers."""
    loops = [(row[1], row[0]) for row in ff.loop_rows if row[0] not in _ITERATION_LOOPS]
    if not loops:
        return set()
    found = set()
    for row in ff.call_rows:
        region = row[C_REGION]
        if region & _LOOP and region & _CONDITIONAL and not region & _INDIRECT:
            key = table.pair_key(row[C_CALLEE])
            if key is None or key[1]:
                continue
            line = row[C_LINE]
            inner = max((ln for ln, _ in loops if ln <= line), default=None)
            start = max((lp[1] for lp in ff.loop_rows if lp[1] <= line), default=None)
            if inner is not None and inner == start:
                found.add((line, row[C_COL]))
    return found


__all__ = ["scratch_calls", "given_back", "iterator_releases"]
