"""Body facts on demand: re-read a function from its file with the extraction code and macro
knowledge the index was built with (the index keeps only what whole-tree analysis needs)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from ..c.frontend import CFrontEnd
from ..c.macros import MacroKnowledge, builtin_knowledge
from ..errors import MisnomerError
from ..facts import FunctionFacts
from .store import FunctionRow, Index


@dataclass
class SourceFacts:
    facts: FunctionFacts
    stale: bool  # the file changed since it was indexed


def knowledge_of(index: Index, extra_macros: dict | None = None) -> MacroKnowledge:
    """The macro knowledge the index's rewrite used (built-ins plus what it learnt)."""
    k = builtin_knowledge(extra_macros)
    stored = json.loads(index.meta("macro_knowledge") or "{}")
    for name in MacroKnowledge.SETS:
        getattr(k, name).update(stored.get(name, []))
    return k


class SourceReader:
    """Parses files on demand, once each."""

    def __init__(self, index: Index, extra_macros: dict | None = None) -> None:
        self.index = index
        self.front = CFrontEnd(knowledge_of(index, extra_macros))
        self._files: dict[str, tuple[list[FunctionFacts], bool]] = {}

    def facts(self, row: FunctionRow) -> SourceFacts:
        functions, stale = self._parse(row.path, row.sha1)
        same = [f for f in functions if f.name == row.name]
        if not same:
            raise MisnomerError(f"{row.path} no longer defines {row.name}; run `misnomer index` "
                                f"to bring the index up to date")
        best = min(same, key=lambda f: abs(f.line - row.line))
        return SourceFacts(best, stale or best.line != row.line)

    def _parse(self, path: str, sha1: str | None) -> tuple[list[FunctionFacts], bool]:
        if path not in self._files:
            full = self.index.root / path
            try:
                data = full.read_bytes()
            except OSError as exc:
                raise MisnomerError(f"cannot read {full} ({exc.strerror or exc}); the index "
                                    f"says a function is defined there") from exc
            stale = sha1 is not None and hashlib.sha1(data).hexdigest() != sha1
            self._files[path] = (self.front.facts(data).functions, stale)
        return self._files[path]
