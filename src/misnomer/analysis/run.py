"""Run the behaviour model over an index: effects fixpoint, then shapes, then store verdicts."""

from __future__ import annotations

import json
from collections import defaultdict

from ..index.store import FUNCTION_COLUMNS, Index, function_row
from ..progress import Reporter
from .callgraph import CallGraph, summarize_macro
from .local import CALL, summarize
from .primitives import Effect, PrimitiveTable
from .shape import Shape, ShapeVerdict, decide_shape

_MACRO_DEPTH = 6  # macros calling macros: how deep to follow
_COMPOSITION_ROUNDS = 4


def build_graph(index: Index, table: PrimitiveTable) -> CallGraph:
    """The call graph of the whole index, with macros standing in for undefined callees."""
    graph = CallGraph(table)
    rows = index.conn.execute(
        "SELECT f.id, f.name, f.file_id, f.is_static, files.path, f.own_effects, f.callees, "
        "f.returned FROM functions f JOIN files ON files.id = f.file_id ORDER BY f.id")
    for fid, name, file_id, is_static, path, own, callees, returned in rows:
        graph.add_function(fid, name, file_id, not is_static or path.endswith(".h"), own,
                           json.loads(callees), json.loads(returned))
    for _ in range(_MACRO_DEPTH):
        missing = graph.unresolved_names()
        if not missing:
            break
        found = False
        for name, params, body in _macro_bodies(index, missing):
            graph.add_macro(summarize_macro(name, params, body, table))
            found = True
        if not found:
            break
    graph.propagate()
    return graph


def _macro_bodies(index: Index, names: set[str]):
    """Function-like macros among ``names`` (the first definition of each)."""
    seen = set()
    ordered = sorted(names)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start:start + 500]
        marks = ",".join("?" * len(chunk))
        for name, params, body in index.conn.execute(
                f"SELECT name, params, body FROM macros WHERE params IS NOT NULL "
                f"AND name IN ({marks}) ORDER BY file_id, line", chunk):
            if name not in seen:
                seen.add(name)
                yield name, params, body


class ShapeOracle:
    """Callee effects and shapes as seen from one file, for :func:`decide_shape`."""

    def __init__(self, graph: CallGraph, shapes: dict[int, Shape]) -> None:
        self.graph = graph
        self.shapes = shapes  # graph node index -> shape

    def effects(self, file_id: int):
        return lambda name: self.graph.effects_of_call(name, file_id)

    def shape(self, file_id: int):
        def callee_shape(name: str) -> Shape | None:
            target = self.graph.resolve(name, file_id)
            if not isinstance(target, tuple):
                return None
            shapes = {self.shapes.get(t) for t in target}
            return shapes.pop() if len(shapes) == 1 else None
        return callee_shape


def analyze(index: Index, table: PrimitiveTable, reporter: Reporter) -> int:
    """Recompute every verdict in the index.  Returns the number of functions analysed."""
    graph = build_graph(index, table)
    node_of = {fid: i for i, fid in enumerate(graph.ids) if fid >= 0}
    shapes: dict[int, Shape] = {}
    oracle = ShapeOracle(graph, shapes)
    verdicts: dict[int, ShapeVerdict] = {}
    composable: list[tuple] = []  # functions whose shape may change with their callees'
    total = len(node_of)
    with reporter.phase("analysing", total):
        cursor = index.conn.execute(
            f"SELECT {', '.join('f.' + c for c in FUNCTION_COLUMNS)}, files.path "
            f"FROM functions f JOIN files ON files.id = f.file_id ORDER BY f.id")
        for row in cursor:
            fr = function_row(row)
            node = node_of[fr.id]
            summary = summarize(fr.facts, table, fr.facts.param_uses)
            verdict = decide_shape(fr.facts, summary, table, Effect(graph.effects[node]),
                                   oracle.effects(fr.file_id), oracle.shape(fr.file_id))
            shapes[node] = verdict.shape
            verdicts[fr.id] = verdict
            if verdict.shape == Shape.ACTION and any(s.kind == CALL for s in verdict.main_sites):
                composable.append((fr, summary, node))
            reporter.advance()
    # Composition: ensure-shaped callees can make their callers ensure-shaped.
    for _ in range(_COMPOSITION_ROUNDS):
        changed = False
        for fr, summary, node in composable:
            if shapes[node] != Shape.ACTION:
                continue
            verdict = decide_shape(fr.facts, summary, table, Effect(graph.effects[node]),
                                   oracle.effects(fr.file_id), oracle.shape(fr.file_id))
            if verdict.shape != Shape.ACTION:
                shapes[node] = verdict.shape
                verdicts[fr.id] = verdict
                changed = True
        if not changed:
            break
    _store(index, graph, node_of, verdicts)
    return total


def _store(index: Index, graph: CallGraph, node_of: dict[int, int],
           verdicts: dict[int, ShapeVerdict]) -> None:
    callers: dict[str, list[int]] = defaultdict(list)
    for i, fid in enumerate(graph.ids):
        if fid >= 0:
            for name in graph.callees[i]:
                callers[name].append(fid)
    conn = index.conn
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute("DELETE FROM analysis")
        conn.executemany(
            "INSERT INTO analysis(function_id, shape, effects, confidence) VALUES (?, ?, ?, ?)",
            ((fid, v.shape.value, graph.effects[node_of[fid]], v.confidence)
             for fid, v in verdicts.items()))
        conn.execute("DELETE FROM macro_effects")
        conn.executemany("INSERT INTO macro_effects(name, effects) VALUES (?, ?)",
                         ((name, graph.effects[i]) for name, i in graph.macros.items()))
        conn.execute("DELETE FROM callers")
        conn.executemany("INSERT INTO callers(name, function_ids) VALUES (?, ?)",
                         ((name, json.dumps(ids)) for name, ids in sorted(callers.items())))
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
