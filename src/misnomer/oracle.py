"""Callee effects and shapes read from a finished index, for one-off questions (explain, check).

The analysis computes the same answers from an in-memory call graph; both resolve names with
:func:`misnomer.analysis.callgraph.choose_definitions`, so they agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from .analysis.callgraph import arch_of, choose_definitions, config_off
from .analysis.primitives import Effect, Primitive, PrimitiveTable
from .analysis.reach import at_call
from .analysis.shape import Shape
from .index.store import Index


@dataclass(frozen=True, slots=True)
class Definition:
    function_id: int
    file_id: int
    path: str
    line: int
    visible: bool
    shape: Shape | None
    effects: Effect
    stub: bool = False  # a stand-in for a configuration option turned off


@dataclass(frozen=True, slots=True)
class Resolution:
    """What a call to a name reaches from a given file."""

    kind: str  # 'primitive', 'defined', 'macro', 'by-name', 'unknown'
    effects: Effect
    shape: Shape | None = None
    definitions: tuple[Definition, ...] = ()
    primitive: Primitive | None = None


class IndexOracle:
    def __init__(self, index: Index, table: PrimitiveTable) -> None:
        self.index = index
        self.table = table
        self._defs: dict[str, list[Definition]] = {}
        self._macros: dict[str, int | None] = {}
        self._archs: dict[int, str | None] = {}

    def definitions(self, name: str) -> list[Definition]:
        defs = self._defs.get(name)
        if defs is None:
            defs = [Definition(fid, file_id, path, line, not static or path.endswith(".h"),
                               Shape(shape) if shape else None, Effect(effects or 0),
                               config_off(variant))
                    for fid, file_id, path, line, static, shape, effects, variant
                    in self.index.conn.execute(
                        "SELECT f.id, f.file_id, files.path, f.line, f.is_static, a.shape, "
                        "a.effects, f.variant FROM functions f JOIN files ON files.id = f.file_id "
                        "LEFT JOIN analysis a ON a.function_id = f.id WHERE f.name = ? "
                        "ORDER BY f.id", (name,))]
            self._defs[name] = defs
        return defs

    def resolve(self, name: str, file_id: int) -> Resolution:
        if "->" in name or "." in name:
            member = name.rsplit("->", 1)[-1].rsplit(".", 1)[-1]
            verdict = self.table.verdict_from_name(member)
            return Resolution("unknown" if verdict & Effect.UNKNOWN else "by-name", verdict)
        prim = self.table.lookup(name)
        if prim is not None:
            return Resolution("primitive", prim.effects, primitive=prim)
        defs = self.definitions(name)
        chosen = [defs[i] for i in choose_definitions(
            [(d.file_id, d.visible, arch_of(d.path), d.stub) for d in defs], file_id,
            self._arch(file_id))]
        if chosen and all(d.stub for d in chosen) and self._macro(name) is not None:
            chosen = []  # configured-off stubs of what a configured build gets from a macro
        if chosen:
            bits = Effect.NONE
            for d in chosen:
                bits |= d.effects
            shapes = {d.shape for d in chosen}
            return Resolution("defined", bits, shapes.pop() if len(shapes) == 1 else None,
                              tuple(chosen))
        macro = self._macro(name)
        if macro is not None:
            return Resolution("macro", Effect(macro))
        verdict = self.table.verdict_from_name(name)
        return Resolution("unknown" if verdict & Effect.UNKNOWN else "by-name", verdict)

    def _macro(self, name: str) -> int | None:
        if name not in self._macros:
            row = self.index.conn.execute("SELECT effects FROM macro_effects WHERE name = ?",
                                          (name,)).fetchone()
            self._macros[name] = row[0] if row else None
        return self._macros[name]

    def _arch(self, file_id: int) -> str | None:
        if file_id not in self._archs:
            row = self.index.conn.execute("SELECT path FROM files WHERE id = ?",
                                          (file_id,)).fetchone()
            self._archs[file_id] = arch_of(row[0]) if row else None
        return self._archs[file_id]

    def effects_for(self, file_id: int):
        """Callee effects as calls from ``file_id`` see them: by name, and where writes
        through each argument land (None: elsewhere)."""
        def effects(name: str, args: str | None = None) -> Effect:
            res = self.resolve(name, file_id)
            if args is None or res.kind != "defined":
                return res.effects
            bits = 0
            for d in res.definitions:
                bits |= at_call(int(d.effects), args)
            return Effect(bits)
        return effects

    def shape_for(self, file_id: int):
        return lambda name: self.resolve(name, file_id).shape
