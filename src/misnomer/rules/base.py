"""What every rule sees: one analysed function (:class:`FunctionView`) and the tree around it
(:class:`CheckContext`: the lexicon, the name model, the index for evidence).

Rules are pure functions ``check(fn, ctx) -> Iterable[Finding]``; they never filter by
configuration, suppressions or confidence -- :mod:`misnomer.check` does that in one place.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass, field

from ..analysis.local import ShapeInputs
from ..analysis.primitives import Effect, PrimitiveTable
from ..analysis.shape import ShapeVerdict, decide_shape
from ..c.params import parse_params
from ..findings import Evidence, Finding, Rule
from ..index.store import Index
from ..lexicon import Lexicon, VerbEntry
from ..names import NameParts, VerbVocabulary
from ..oracle import IndexOracle


@dataclass(frozen=True, slots=True)
class FunctionView:
    id: int
    name: str
    file: str
    line: int
    column: int
    end_line: int
    shape: str
    effects: Effect
    confidence: float
    is_static: bool
    is_exported: bool
    return_kind: str
    variant: str
    parts: NameParts
    callers: int
    is_callback: bool = False  # installed in an ops table: its name follows the table's field

    @property
    def named_by_framework(self) -> bool:
        """Its verb comes from an operations table or a sysfs attribute, not its author."""
        return self.is_callback or self.name.endswith(("_show", "_store"))

    @property
    def verb(self) -> str | None:
        return self.parts.verb

    @property
    def visible(self) -> bool:
        return not self.is_static or self.file.endswith(".h")


@dataclass
class CheckContext:
    index: Index
    lexicon: Lexicon
    vocab: VerbVocabulary
    table: PrimitiveTable
    oracle: IndexOracle = field(init=False)
    _inputs: dict[int, tuple] = field(default_factory=dict)
    _lines: dict[str, list[str]] = field(default_factory=dict)
    _return_kinds: dict[str, dict[str, list[int]]] = field(default_factory=dict)
    _params: dict[int, list[tuple[str, bool]]] = field(default_factory=dict)
    _body: tuple[int, str] = (-1, "")  # the last function's body text: rules ask for it often

    def __post_init__(self) -> None:
        self.oracle = IndexOracle(self.index, self.table)

    def file_id(self, fn: FunctionView) -> int:
        row = self.index.conn.execute("SELECT file_id FROM functions WHERE id = ?",
                                      (fn.id,)).fetchone()
        return row[0]

    def param_names(self, fn: FunctionView) -> set[str]:
        """The names of the function's parameters, read off its stored signature."""
        return {name for name, _ in self.param_list(fn) if name}

    def param_list(self, fn: FunctionView) -> list[tuple[str, bool]]:
        """The function's parameters in order: (name, is a pointer)."""
        params = self._params.get(fn.id)
        if params is None:
            row = self.index.conn.execute("SELECT signature FROM functions WHERE id = ?",
                                          (fn.id,)).fetchone()
            signature = row[0] if row else ""
            start = signature.find("(", signature.find(fn.name) + len(fn.name))
            params = self._params[fn.id] = [] if start < 0 else [
                (p.name, p.is_pointer)
                for p in parse_params(signature[start:signature.rfind(")") + 1])]
        return params

    def body_text(self, fn: FunctionView) -> str:
        """The lines of the definition, as the indexed file has them."""
        if self._body[0] != fn.id:
            self._body = (fn.id, "\n".join(self.source_line(fn.file, n)
                                           for n in range(fn.line, fn.end_line + 1)))
        return self._body[1]

    def source_line(self, path: str, line: int) -> str:
        """The text of one line of an indexed file ('' when it cannot be read)."""
        lines = self._lines.get(path)
        if lines is None:
            try:
                data = (self.index.root / path).read_bytes()
                lines = data.decode("utf-8", "replace").splitlines()
            except OSError:
                lines = []
            self._lines[path] = lines
        return lines[line - 1] if 0 < line <= len(lines) else ""

    def return_kinds(self, directory: str, promise: str) -> dict[str, int]:
        """How the functions of one directory (its own files) whose verb makes ``promise``
        return: return kind -> count.  A subsystem's own convention (AMD display code returns
        bool from its actions) is read off this."""
        pattern = f"{directory}/%" if directory else "%"
        return self._count_return_kinds(
            f"{directory}\0{promise}", promise, directory,
            "files.path LIKE ? AND files.path NOT LIKE ?", (pattern, pattern + "/%"))

    def file_return_kinds(self, path: str, promise: str) -> dict[str, int]:
        """The same for one file: a file whose actions all return bool keeps its own rule."""
        return self._count_return_kinds(f"{path}\0{promise}\0file", promise,
                                        posixpath.dirname(path), "files.path = ?", (path,))

    def _count_return_kinds(self, key: str, promise: str, directory: str, where: str,
                            args: tuple) -> dict[str, int]:
        counts = self._return_kinds.get(key)
        if counts is None:
            counts = {}
            for name, kind in self.index.conn.execute(
                    "SELECT f.name, f.return_kind FROM functions f JOIN files ON "
                    "files.id = f.file_id WHERE " + where, args):
                verb = self.lexicon.parse(name, directory).verb
                if verb is not None and self.vocab.promises(verb, promise):
                    counts[kind] = counts.get(kind, 0) + 1
            self._return_kinds[key] = counts
        return counts

    def entry(self, fn: FunctionView) -> VerbEntry | None:
        return self.lexicon.entry(fn.verb) if fn.verb else None

    def verdict(self, fn: FunctionView) -> tuple[ShapeInputs, ShapeVerdict]:
        """The shape decision again, with its reasons (from the stored shape inputs)."""
        hit = self._inputs.get(fn.id)
        if hit is None:
            file_id, own, has_error, inputs_json = self.index.conn.execute(
                "SELECT file_id, own_effects, has_error, shape_inputs FROM functions "
                "WHERE id = ?", (fn.id,)).fetchone()
            inputs = ShapeInputs.from_json(inputs_json)
            verdict = decide_shape(inputs, Effect(own), fn.effects, self.table,
                                   self.oracle.effects_for(file_id),
                                   self.oracle.shape_for(file_id), bool(has_error))
            hit = self._inputs[fn.id] = (inputs, verdict)
        return hit

    def shape_inputs(self, function_id: int) -> ShapeInputs:
        """What the front end and the local analysis stored about any function's body."""
        hit = self._inputs.get(function_id)
        if hit is not None:
            return hit[0]
        row = self.index.conn.execute("SELECT shape_inputs FROM functions WHERE id = ?",
                                      (function_id,)).fetchone()
        return ShapeInputs.from_json(row[0]) if row else ShapeInputs()

    def finding(self, rule: Rule, fn: FunctionView, message: str,
                evidence: list[Evidence], confidence: float) -> Finding:
        return Finding(rule=rule, function=fn.name, file=fn.file, line=fn.line,
                       column=fn.column, end_line=fn.line, end_column=fn.column + len(fn.name),
                       message=message, evidence=tuple(evidence),
                       confidence=round(max(0.0, min(1.0, confidence)), 2))

    def reasons(self, fn: FunctionView, limit: int = 4) -> list[Evidence]:
        _, verdict = self.verdict(fn)
        return [Evidence(fn.file, r.line, r.text) for r in verdict.reasons[:limit]]


@dataclass(frozen=True, slots=True)
class Others:
    """The verb's meaning among the tree's *other* functions (the one judged left out)."""

    functions: int
    counts: dict[str, int]

    def share(self, *shapes: str) -> float:
        if not self.functions:
            return 0.0
        return sum(self.counts.get(s, 0) for s in shapes) / self.functions


def others(fn: FunctionView, entry: VerbEntry | None) -> Others:
    if entry is None:
        return Others(0, {})
    counts = {s.shape: s.count for s in entry.senses}
    if counts.get(fn.shape):
        counts[fn.shape] -= 1
    return Others(max(0, entry.functions - 1), counts)


def pct(share: float) -> str:
    return f"{100 * share:.0f}%"


def meaning(entry: VerbEntry, shape: str) -> str:
    """'action-shaped in 212 of 240 functions (88%)'"""
    return (f"{shape}-shaped in {entry.count(shape)} of {entry.functions} functions "
            f"({pct(entry.share(shape))})")


def lexicon_evidence(fn: FunctionView, entry: VerbEntry) -> Evidence:
    senses = ", ".join(f"{s.shape} {s.count}" for s in entry.senses[:4])
    return Evidence(fn.file, fn.line, f"'{entry.verb}' in this tree: {entry.functions} "
                                      f"functions ({senses})")
