"""Run the behaviour model over an index: effects fixpoint, then shapes, then store verdicts."""

from __future__ import annotations

import json
from array import array

from ..index.store import Index
from ..progress import Reporter
from .callgraph import CallGraph, merge_macros, summarize_macro
from .local import CALL, ShapeInputs
from .primitives import PrimitiveTable
from .shape import Shape, composable, decide_shape

_MACRO_DEPTH = 6  # macros calling macros: how deep to follow
_COMPOSITION_ROUNDS = 6
SHAPE_CODES = {Shape.QUERY: 1, Shape.CHECK: 2, Shape.ENSURE: 3, Shape.ACTION: 4, Shape.EMPTY: 5}
SHAPES_BY_CODE = {code: shape for shape, code in SHAPE_CODES.items()}


class Analysis:
    """The call graph with its effects, and callers by name (for the callers table)."""

    def __init__(self, graph: CallGraph, callers: dict[str, array]) -> None:
        self.graph = graph
        self.callers = callers


def build_graph(index: Index, table: PrimitiveTable) -> Analysis:
    """The call graph of the whole index, with macros standing in for undefined callees."""
    graph = CallGraph(table)
    callers: dict[str, array] = {}
    rows = index.conn.execute(
        "SELECT f.id, f.name, f.file_id, f.is_static, files.path, f.own_effects, f.callees, "
        "f.returned FROM functions f JOIN files ON files.id = f.file_id ORDER BY f.id")
    loads = json.loads
    for fid, name, file_id, is_static, path, own, callees_json, returned in rows:
        callees = loads(callees_json)
        for c in callees:
            lst = callers.get(c)
            if lst is None:
                callers[c] = lst = array("q")
            lst.append(fid)
        graph.add_function(fid, name, file_id, not is_static or path.endswith(".h"), own,
                           callees, loads(returned) if returned != "[]" else [])
    for _ in range(_MACRO_DEPTH):
        missing = graph.unresolved_names()
        added = False
        for name, definitions in _macro_definitions(index, missing):
            graph.add_macro(merge_macros([summarize_macro(name, params, body, table, file_id)
                                          for params, body, file_id in definitions]))
            added = True
        if not added:
            break
    graph.propagate()
    return Analysis(graph, callers)


def _macro_definitions(index: Index, names: set[str]):
    """Function-like macros among ``names``, with up to 16 definitions each (drivers define the
    same register accessor each their own way; a call may reach any of them)."""
    ordered = sorted(names)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start:start + 500]
        marks = ",".join("?" * len(chunk))
        found: dict[str, list[tuple[str, str, int]]] = {}
        for name, params, body, file_id in index.conn.execute(
                f"SELECT name, params, body, file_id FROM macros WHERE params IS NOT NULL "
                f"AND name IN ({marks}) ORDER BY file_id, line", chunk):
            defs = found.setdefault(name, [])
            if len(defs) < 16:
                defs.append((params, body, file_id))
        yield from found.items()


class GraphOracle:
    """Callee effects and shapes as seen from one file, for :func:`decide_shape`."""

    def __init__(self, graph: CallGraph, shapes: bytearray) -> None:
        self.graph = graph
        self.shapes = shapes  # node -> shape code (0: not decided yet)

    def effects(self, file_id: int):
        return lambda name: self.graph.effects_of_call(name, file_id)

    def shape(self, file_id: int):
        def callee_shape(name: str) -> Shape | None:
            target = self.graph.resolve(name, file_id)
            if not isinstance(target, tuple):
                return None
            codes = {self.shapes[t] for t in target}
            return SHAPES_BY_CODE.get(codes.pop()) if len(codes) == 1 else None
        return callee_shape


def analyze(index: Index, table: PrimitiveTable, reporter: Reporter) -> int:
    """Recompute every verdict in the index.  Returns the number of functions analysed."""
    analysis = build_graph(index, table)
    graph = analysis.graph
    count = sum(1 for f in graph.function_ids if f >= 0)
    shapes = bytearray(len(graph))
    confidence = array("f", bytes(4 * count))
    oracle = GraphOracle(graph, shapes)
    waiting: list[tuple[int, int, int, bool, str]] = []  # may become ensure: node, ...
    with reporter.phase("analysing", count):
        rows = index.conn.execute(
            "SELECT file_id, own_effects, has_error, shape_inputs FROM functions ORDER BY id")
        for node, (file_id, own, has_error, inputs_json) in enumerate(rows):
            inputs = ShapeInputs.from_json(inputs_json)
            verdict = decide_shape(inputs, own, graph.effects[node], table,
                                   oracle.effects(file_id), oracle.shape(file_id), bool(has_error))
            shapes[node] = SHAPE_CODES[verdict.shape]
            confidence[node] = verdict.confidence
            if composable(verdict):
                waiting.append((node, file_id, own, bool(has_error), inputs_json))
            if node % 4096 == 4095:
                reporter.advance(4096)
    compose(graph, table, oracle, shapes, confidence, waiting)
    _store(index, analysis, shapes, confidence, count)
    return count


def compose(graph: CallGraph, table: PrimitiveTable, oracle: GraphOracle, shapes: bytearray,
            confidence: array, waiting: list[tuple]) -> None:
    """Ensure-shaped callees can make their callers ensure-shaped, and so on up.  Each round
    re-decides only the functions that call something that just became ensure-shaped."""
    ensure = SHAPE_CODES[Shape.ENSURE]
    could_be = {item[0] for item in waiting}  # only these can still turn ensure-shaped
    # callee node -> indices in `waiting` of the functions that call it (only for callees that
    # are, or may become, ensure-shaped)
    callers_of: dict[int, list[int]] = {}
    for k, (node, file_id, _, _, inputs_json) in enumerate(waiting):
        for site in ShapeInputs.from_json(inputs_json).sites:
            if site.kind != CALL:
                continue
            target = graph.resolve(site.name, file_id)
            if isinstance(target, tuple):
                for t in target:
                    if shapes[t] == ensure or t in could_be:
                        callers_of.setdefault(t, []).append(k)
    newly = [n for n in callers_of if shapes[n] == ensure]
    decided: set[int] = set()
    for _ in range(_COMPOSITION_ROUNDS):
        candidates = sorted({k for n in newly for k in callers_of.get(n, ())} - decided)
        if not candidates:
            break
        newly = []
        for k in candidates:
            node, file_id, own, has_error, inputs_json = waiting[k]
            verdict = decide_shape(ShapeInputs.from_json(inputs_json), own, graph.effects[node],
                                   table, oracle.effects(file_id), oracle.shape(file_id),
                                   has_error)
            if verdict.shape != Shape.ACTION:
                shapes[node] = SHAPE_CODES[verdict.shape]
                confidence[node] = verdict.confidence
                decided.add(k)
                newly.append(node)


def _store(index: Index, analysis: Analysis, shapes: bytearray, confidence: array,
           count: int) -> None:
    graph = analysis.graph
    conn = index.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("DELETE FROM analysis")
        conn.executemany(
            "INSERT INTO analysis(function_id, shape, effects, confidence) VALUES (?, ?, ?, ?)",
            ((graph.function_ids[node], SHAPES_BY_CODE[shapes[node]].value, graph.effects[node],
              round(confidence[node], 2)) for node in range(count)))
        conn.execute("DELETE FROM macro_effects")
        conn.executemany("INSERT INTO macro_effects(name, effects) VALUES (?, ?)",
                         ((graph.names[name_id], graph.effects[node])
                          for name_id, node in graph.macros.items()))
        conn.execute("DELETE FROM callers")
        conn.executemany("INSERT INTO callers(name, function_ids) VALUES (?, ?)",
                         ((name, json.dumps(ids.tolist()))
                          for name, ids in sorted(analysis.callers.items())))
        conn.execute("INSERT INTO meta(key, value) VALUES ('analysis_generation', '1') "
                     "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1")
        conn.execute("INSERT OR REPLACE INTO meta(key, value) SELECT 'full_analysis_generation',"
                     " value FROM meta WHERE key = 'analysis_generation'")
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('analysed_since_full', '0')")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
