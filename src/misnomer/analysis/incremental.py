"""Incremental analysis: redo only what a change can affect.

After some files were re-parsed, a function's verdict can change only if its own facts changed
or if something it calls (transitively) changed.  So:
1. new and old definitions of the changed files are paired (same file, name and rank); a pair
   whose analysis-relevant facts are equal (line numbers aside) keeps its old verdict;
2. the other definitions' names -- and macros defined or undefined -- seed a *cone*: those
   functions plus everything that calls them, transitively (through the callers table);
3. the cone is analysed exactly like a whole tree, except that every function outside it is a
   fixed leaf carrying its stored effects and shape.  Nothing outside the cone can depend on
   the cone (a caller of a cone function is in the cone), so the result equals a full analysis.
A cone larger than CONE_LIMIT is cheaper to analyse from scratch: NeedFullAnalysis.
"""

from __future__ import annotations

import json
from array import array
from collections import defaultdict
from collections.abc import Iterable

from ..index.store import Index
from ..index.writer import ChangeLog, OldFunction
from .callgraph import (CallGraph, MacroSummary, arch_of, config_off, merge_macros,
                        summarize_macro)
from .local import ShapeInputs
from .primitives import Effect, PrimitiveTable
from .run import (_MACRO_DEPTH, SHAPE_CODES, SHAPES_BY_CODE, GraphOracle, _macro_definitions,
                  compose, redecide)
from .shape import Shape, composable, decide_shape, delegates

CONE_LIMIT = 40_000
_CHUNK = 500


class NeedFullAnalysis(Exception):
    pass


def _chunks(items: list, size: int = _CHUNK) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _relevant(own: int, callees: str, returned: str, is_static: int, inputs_json: str) -> tuple:
    """What a verdict depends on, line numbers left out (a function that only moved is the
    same function)."""
    inputs = ShapeInputs.from_json(inputs_json)
    return (own, callees, returned, bool(is_static), inputs.empty, inputs.void,
            tuple((r[0], r[1], r[2]) for r in inputs.returns),
            tuple((s.kind, s.name, s.region, bool(s.cover), s.effects, s.args)
                  for s in inputs.sites),
            len(inputs.guards), len(inputs.logs), tuple(inputs.out_params))


def analyze_changes(index: Index, table: PrimitiveTable, changes: ChangeLog) -> int:
    """Bring the verdicts up to date after ``changes``.  Returns the functions re-analysed."""
    conn = index.conn
    new_rows = []
    for chunk in _chunks(changes.added):
        marks = ",".join("?" * len(chunk))
        new_rows += conn.execute(
            f"SELECT id, name, file_id, is_static, own_effects, callees, returned, shape_inputs "
            f"FROM functions WHERE id IN ({marks})", chunk).fetchall()
    kept, dirty_ids, dirty_names = _pair(changes.removed, new_rows)
    dirty_names |= changes.macro_names
    _update_callers(index, changes.removed, new_rows, kept)
    callers, through = _callers_closure(index, dirty_names)
    cone = set(dirty_ids) | callers
    if len(cone) > CONE_LIMIT:
        raise NeedFullAnalysis(f"{len(cone)} functions depend on the change")
    verdicts = _analyse_cone(index, table, sorted(cone), changes.macro_names | through)
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany("INSERT OR REPLACE INTO analysis(function_id, shape, effects, "
                         "confidence) VALUES (?, ?, ?, ?)", verdicts.rows)
        conn.executemany("INSERT OR REPLACE INTO macro_effects(name, effects) VALUES (?, ?)",
                         verdicts.macros)
        conn.executemany("DELETE FROM macro_calls WHERE macro = ?",
                         [(name,) for name, _ in verdicts.macros])
        conn.executemany("INSERT OR IGNORE INTO macro_calls(callee, macro) VALUES (?, ?)",
                         verdicts.macro_calls)
        conn.execute("INSERT INTO meta(key, value) VALUES ('analysis_generation', '1') "
                     "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1")
        conn.execute("INSERT INTO meta(key, value) VALUES ('analysed_since_full', ?) "
                     "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + ?",
                     (str(len(cone) + len(kept)), len(cone) + len(kept)))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
    return len(cone)


def _pair(removed: list[OldFunction], new_rows: list[tuple]):
    """Old and new definitions of the changed files by (file, name, rank).  Returns the kept
    verdicts (as analysis rows for the new ids), the ids to re-analyse and the names whose
    callers must be re-analysed."""
    old_by_key: dict[tuple, OldFunction] = {}
    rank: dict[tuple, int] = defaultdict(int)
    for old in sorted(removed, key=lambda o: o.id):
        key = (old.file_id, old.name)
        old_by_key[key + (rank[key],)] = old
        rank[key] += 1
    rank.clear()
    kept, dirty_ids, dirty_names = [], [], set()
    matched = set()
    for fid, name, file_id, is_static, own, callees, returned, inputs in sorted(new_rows):
        key = (file_id, name)
        full_key = key + (rank[key],)
        rank[key] += 1
        old = old_by_key.get(full_key)
        if old is not None and old.shape is not None and \
                _relevant(old.own_effects, old.callees, old.returned, old.is_static,
                          old.shape_inputs) == _relevant(own, callees, returned, is_static, inputs):
            matched.add(full_key)
            kept.append((fid, old.shape, old.effects, old.confidence))
            continue
        if old is not None:
            matched.add(full_key)
        dirty_ids.append(fid)
        dirty_names.add(name)
    for key, old in old_by_key.items():
        if key not in matched:
            dirty_names.add(old.name)  # a definition that went away
    return kept, dirty_ids, dirty_names


def _update_callers(index: Index, removed: list[OldFunction], new_rows: list[tuple],
                    kept: list[tuple]) -> None:
    """Keep the callers table (name -> ids of functions calling it) in step, and give the
    definitions that did not change their verdicts back (the cone reads them)."""
    drop: dict[str, set[int]] = defaultdict(set)
    add: dict[str, list[int]] = defaultdict(list)
    for old in removed:
        for name in json.loads(old.callees):
            drop[name].add(old.id)
    for fid, _, _, _, _, callees, _, _ in new_rows:
        for name in json.loads(callees):
            add[name].append(fid)
    conn = index.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.executemany("INSERT OR REPLACE INTO analysis(function_id, shape, effects, "
                         "confidence) VALUES (?, ?, ?, ?)", kept)
        for name in set(drop) | set(add):
            row = conn.execute("SELECT function_ids FROM callers WHERE name = ?",
                               (name,)).fetchone()
            ids = [i for i in (json.loads(row[0]) if row else []) if i not in drop.get(name, ())]
            ids += add.get(name, [])
            if ids:
                conn.execute("INSERT OR REPLACE INTO callers(name, function_ids) VALUES (?, ?)",
                             (name, json.dumps(ids)))
            else:
                conn.execute("DELETE FROM callers WHERE name = ?", (name,))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def _callers_closure(index: Index, names: set[str]) -> tuple[set[int], set[str]]:
    """Ids of every function that calls one of ``names``, transitively, directly or through
    macros; and the names of those macros (their stored effects are stale)."""
    conn = index.conn
    seen_names = set(names)
    frontier = list(names)
    ids: set[int] = set()
    through: set[str] = set()
    while frontier:
        # macros forwarding to a frontier name stand for it at their call sites
        pending = frontier
        while pending:
            found = []
            for chunk in _chunks(pending):
                marks = ",".join("?" * len(chunk))
                for (macro,) in conn.execute(
                        f"SELECT DISTINCT macro FROM macro_calls WHERE callee IN ({marks})",
                        chunk):
                    if macro not in seen_names:
                        seen_names.add(macro)
                        through.add(macro)
                        found.append(macro)
            frontier = frontier + found
            pending = found
        new_ids = []
        for chunk in _chunks(frontier):
            marks = ",".join("?" * len(chunk))
            for (raw,) in conn.execute(
                    f"SELECT function_ids FROM callers WHERE name IN ({marks})", chunk):
                for fid in json.loads(raw):
                    if fid not in ids:
                        ids.add(fid)
                        new_ids.append(fid)
        if len(ids) > CONE_LIMIT:
            raise NeedFullAnalysis(f"more than {CONE_LIMIT} functions depend on the change")
        frontier = []
        for chunk in _chunks(new_ids):
            marks = ",".join("?" * len(chunk))
            for (name,) in conn.execute(
                    f"SELECT DISTINCT name FROM functions WHERE id IN ({marks})", chunk):
                if name not in seen_names:
                    seen_names.add(name)
                    frontier.append(name)
    return ids, through


class _ConeVerdicts:
    def __init__(self) -> None:
        self.rows: list[tuple] = []
        self.macros: list[tuple] = []
        self.macro_calls: list[tuple] = []


def _analyse_cone(index: Index, table: PrimitiveTable, cone: list[int],
                  changed_macros: set[str]) -> _ConeVerdicts:
    conn = index.conn
    graph = CallGraph(table)
    rows = []
    for chunk in _chunks(cone):
        marks = ",".join("?" * len(chunk))
        rows += conn.execute(
            f"SELECT f.id, f.name, f.file_id, f.is_static, files.path, f.own_effects, f.callees, "
            f"f.returned, f.has_error, f.shape_inputs, f.variant, f.callee_args FROM functions f "
            f"JOIN files ON files.id = f.file_id WHERE f.id IN ({marks}) ORDER BY f.id",
            chunk).fetchall()
    for fid, name, file_id, static, path, own, callees, returned, _, _, variant, args in rows:
        graph.add_function(fid, name, file_id, not static or path.endswith(".h"), own,
                           json.loads(callees), json.loads(returned), arch_of(path),
                           config_off(variant), json.loads(args) if args != "[]" else None)
    in_cone = set(cone)
    fixed_shapes: dict[int, int] = {}
    _add_fixed_callees(index, graph, in_cone, fixed_shapes)
    _add_macros(index, table, graph, changed_macros, in_cone, fixed_shapes)
    graph.propagate()

    shapes = bytearray(len(graph))
    for node, code in fixed_shapes.items():
        shapes[node] = code
    confidence = array("f", bytes(4 * len(graph)))
    oracle = GraphOracle(graph, shapes)
    result = _ConeVerdicts()
    waiting, delegating = [], []
    for node, (fid, _, file_id, _, _, own, _, _, has_error, inputs_json, _, _) in enumerate(rows):
        inputs = ShapeInputs.from_json(inputs_json)
        verdict = decide_shape(inputs, own, graph.effects[node], table, oracle.effects(file_id),
                               oracle.shape(file_id), bool(has_error))
        shapes[node] = SHAPE_CODES[verdict.shape]
        confidence[node] = verdict.confidence
        if composable(verdict):
            waiting.append((node, file_id, own, bool(has_error)))
        elif delegates(verdict, inputs, table):
            delegating.append((node, file_id, own, bool(has_error)))
    inputs_of = {node: row[9] for node, row in enumerate(rows)}
    read = lambda nodes: ((n, ShapeInputs.from_json(inputs_of[n])) for n in nodes)  # noqa: E731
    redecide(graph, table, oracle, shapes, confidence, delegating, read)
    compose(graph, table, oracle, shapes, confidence, waiting, read)
    decided = {node: (fid, SHAPES_BY_CODE[shapes[node]], round(confidence[node], 2))
               for node, (fid, *_) in enumerate(rows)}
    for node, (fid, shape, confidence) in decided.items():
        result.rows.append((fid, shape.value, graph.effects[node], confidence))
    result.macros = [(graph.names[name_id], graph.effects[node])
                     for name_id, node in graph.macros.items()
                     if graph.names[name_id] in changed_macros or node in graph.recomputed]
    result.macro_calls = graph.macro_calls(graph.recomputed)
    return result


def _add_fixed_callees(index: Index, graph: CallGraph, in_cone: set[int],
                       fixed_shapes: dict[int, int], names: set[str] | None = None) -> None:
    """Every definition of the names the graph's nodes call, outside the cone, as a leaf
    carrying its stored effects and shape."""
    if names is None:
        names = set()
        for callees in graph.callees:
            names.update(graph.names[i] for i in callees)
        for returned in graph.returned:
            if returned is not None:
                names.update(graph.names[i] for i in returned)
    ordered = sorted(names)
    for chunk in _chunks(ordered):
        marks = ",".join("?" * len(chunk))
        for fid, name, file_id, static, path, shape, effects, variant in index.conn.execute(
                f"SELECT f.id, f.name, f.file_id, f.is_static, files.path, a.shape, a.effects, "
                f"f.variant FROM functions f JOIN files ON files.id = f.file_id LEFT JOIN "
                f"analysis a ON a.function_id = f.id WHERE f.name IN ({marks})", chunk):
            if fid in in_cone:
                continue
            node = graph.add_function(fid, name, file_id, not static or path.endswith(".h"),
                                      effects or 0, [], [], arch_of(path), config_off(variant))
            if shape:
                fixed_shapes[node] = SHAPE_CODES[Shape(shape)]


def _add_macros(index: Index, table: PrimitiveTable, graph: CallGraph, changed: set[str],
                in_cone: set[int], fixed_shapes: dict[int, int]) -> None:
    """Macros standing in for undefined callees, level by level as the full analysis adds them:
    stored effects where nothing they reach changed, read again from their bodies where it did
    (``changed``: macros whose definitions changed or that call into the cone)."""
    graph.recomputed = set()
    for _ in range(_MACRO_DEPTH):
        missing = sorted(graph.unresolved_names())
        if not missing:
            return
        stored = {}
        for chunk in _chunks(missing):
            marks = ",".join("?" * len(chunk))
            stored.update(index.conn.execute(
                f"SELECT name, effects FROM macro_effects WHERE name IN ({marks})", chunk))
        to_read = {n for n in missing if n in changed or n not in stored}
        for name in missing:
            if name in stored and name not in to_read:
                graph.add_macro(MacroSummary(name, Effect(stored[name]), ()))
        read = set()
        for name, definitions in _macro_definitions(index, to_read):
            graph.add_macro(merge_macros([summarize_macro(name, params, body, table, file_id)
                                          for params, body, file_id in definitions]))
            read.add(graph.macros[graph.name_ids[name]])
        if not read:
            return
        graph.recomputed |= read
        # what the re-read macros call, as fixed leaves (or macros, at the next level)
        callee_names = set()
        for node in read:
            callee_names.update(graph.names[i] for i in graph.callees[node])
        _add_fixed_callees(index, graph, in_cone, fixed_shapes, callee_names)
