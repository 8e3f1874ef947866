"""Run the behaviour model over an index: effects fixpoint, then shapes, then store verdicts."""

from __future__ import annotations

import json
import time
from array import array

from ..index.store import Index
from ..progress import Reporter
from .callgraph import CallGraph, arch_of, config_off, merge_macros, summarize_macro
from .local import CALL, ShapeInputs
from .primitives import PrimitiveTable
from .shape import Shape, composable, decide_shape, delegates

_MACRO_DEPTH = 6  # macros calling macros: how deep to follow
_COMPOSITION_ROUNDS = 6
SHAPE_CODES = {Shape.QUERY: 1, Shape.CHECK: 2, Shape.ENSURE: 3, Shape.ACTION: 4, Shape.EMPTY: 5}
SHAPES_BY_CODE = {code: shape for shape, code in SHAPE_CODES.items()}


def build_graph(index: Index, table: PrimitiveTable) -> CallGraph:
    """The call graph of the whole index, with macros standing in for undefined callees."""
    graph = CallGraph(table)
    rows = index.conn.execute(
        "SELECT f.id, f.name, f.file_id, f.is_static, files.path, f.own_effects, f.callees, "
        "f.returned, f.variant, f.callee_args FROM functions f JOIN files ON "
        "files.id = f.file_id ORDER BY f.id")
    loads = json.loads
    for fid, name, file_id, is_static, path, own, callees_json, returned, variant, args in rows:
        graph.add_function(fid, name, file_id, not is_static or path.endswith(".h"), own,
                           loads(callees_json), loads(returned) if returned != "[]" else [],
                           arch_of(path), config_off(variant),
                           loads(args) if args != "[]" else None)
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
    return graph


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
        return lambda name, args=None: self.graph.effects_of_call(name, file_id, args)

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
    started = time.monotonic()
    graph = build_graph(index, table)
    timings = {"graph": time.monotonic() - started}
    count = sum(1 for f in graph.function_ids if f >= 0)
    shapes = bytearray(len(graph))
    confidence = array("f", bytes(4 * count))
    oracle = GraphOracle(graph, shapes)
    waiting: list[tuple[int, int, int, bool]] = []  # may become ensure: node, file, own, error
    delegating: list[tuple[int, int, int, bool]] = []  # depend on callee shapes: the same
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
                waiting.append((node, file_id, own, bool(has_error)))
            elif delegates(verdict, inputs, table):
                delegating.append((node, file_id, own, bool(has_error)))
            if node % 4096 == 4095:
                reporter.advance(4096)
    redecide(graph, table, oracle, shapes, confidence, delegating, _inputs_reader(index, graph))
    timings["shapes"] = time.monotonic() - started - sum(timings.values())
    compose(graph, table, oracle, shapes, confidence, waiting, _inputs_reader(index, graph))
    timings["composition"] = time.monotonic() - started - sum(timings.values())
    _store(index, graph, shapes, confidence, count)
    timings["store"] = time.monotonic() - started - sum(timings.values())
    reporter.note(f"analysed {count:,} functions in {time.monotonic() - started:.1f} s ("
                  + ", ".join(f"{k} {v:.1f} s" for k, v in timings.items()) + ")")
    return count


def _inputs_reader(index: Index, graph: CallGraph):
    """Shape inputs of graph nodes, read back from the index in chunks (kept out of memory)."""
    def read(nodes: list[int]):
        for start in range(0, len(nodes), 500):
            chunk = nodes[start:start + 500]
            ids = [graph.function_ids[n] for n in chunk]
            marks = ",".join("?" * len(ids))
            found = dict(index.conn.execute(
                f"SELECT id, shape_inputs FROM functions WHERE id IN ({marks})", ids))
            for node, fid in zip(chunk, ids):
                yield node, ShapeInputs.from_json(found[fid])
    return read


def redecide(graph: CallGraph, table: PrimitiveTable, oracle: GraphOracle, shapes: bytearray,
             confidence: array, nodes: list[tuple], read_inputs) -> None:
    """Decide ``nodes`` -- (node, file, own effects, has_error) -- again, now that every
    function has a shape: their first verdicts may have read callees not decided yet."""
    by_node = {item[0]: item for item in nodes}
    for node, inputs in read_inputs(sorted(by_node)):
        _, file_id, own, has_error = by_node[node]
        verdict = decide_shape(inputs, own, graph.effects[node], table, oracle.effects(file_id),
                               oracle.shape(file_id), has_error)
        shapes[node] = SHAPE_CODES[verdict.shape]
        confidence[node] = verdict.confidence


def compose(graph: CallGraph, table: PrimitiveTable, oracle: GraphOracle, shapes: bytearray,
            confidence: array, waiting: list[tuple], read_inputs) -> None:
    """Ensure-shaped callees can make their callers ensure-shaped, and so on up.  Each round
    re-decides only the functions that call something that just became ensure-shaped.
    ``waiting`` holds (node, file, own effects, has_error) of the candidates; ``read_inputs``
    gives their shape inputs back."""
    ensure = SHAPE_CODES[Shape.ENSURE]
    could_be = {item[0] for item in waiting}  # only these can still turn ensure-shaped
    by_node = {item[0]: item for item in waiting}
    # callee node -> candidates calling it (only callees that are, or may become, ensure)
    callers_of: dict[int, array] = {}
    for node, inputs in read_inputs(sorted(by_node)):
        file_id = by_node[node][1]
        for site in inputs.sites:
            if site.kind != CALL:
                continue
            target = graph.resolve(site.name, file_id)
            if isinstance(target, tuple):
                for t in target:
                    if shapes[t] == ensure or t in could_be:
                        lst = callers_of.get(t)
                        if lst is None:
                            callers_of[t] = lst = array("i")
                        lst.append(node)
    newly = [n for n in callers_of if shapes[n] == ensure]
    decided: set[int] = set()
    for _ in range(_COMPOSITION_ROUNDS):
        candidates = sorted({k for n in newly for k in callers_of.get(n, ())} - decided)
        if not candidates:
            break
        newly = []
        for node, inputs in read_inputs(candidates):
            _, file_id, own, has_error = by_node[node]
            verdict = decide_shape(inputs, own, graph.effects[node], table,
                                   oracle.effects(file_id), oracle.shape(file_id), has_error)
            if verdict.shape != Shape.ACTION:
                shapes[node] = SHAPE_CODES[verdict.shape]
                confidence[node] = verdict.confidence
                decided.add(node)
                newly.append(node)


def _store(index: Index, graph: CallGraph, shapes: bytearray, confidence: array,
           count: int) -> None:
    conn = index.conn
    # the callers aggregation sorts millions of rows: on disk, not beside the call graph
    conn.execute("PRAGMA temp_store=FILE")
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
        conn.execute("DELETE FROM macro_calls")
        conn.executemany("INSERT OR IGNORE INTO macro_calls(callee, macro) VALUES (?, ?)",
                         graph.macro_calls())
        # who calls each name: aggregated by SQLite itself (no copy of it in Python)
        conn.execute("DELETE FROM callers")
        conn.execute("INSERT INTO callers(name, function_ids) SELECT j.value, "
                     "json_group_array(f.id) FROM functions f, json_each(f.callees) j "
                     "GROUP BY j.value")
        conn.execute("INSERT INTO meta(key, value) VALUES ('analysis_generation', '1') "
                     "ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + 1")
        conn.execute("INSERT OR REPLACE INTO meta(key, value) SELECT 'full_analysis_generation',"
                     " value FROM meta WHERE key = 'analysis_generation'")
        conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('analysed_since_full', '0')")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    finally:
        conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute("COMMIT")
