"""Findings: what ``misnomer check`` reports, in one schema that every reporter reads.

A ``Rule`` is the documentation of one diagnostic (stable ID, kebab-case symbol, message
template, long description, bad/good examples).  A ``Finding`` is one verdict about one function,
complete enough to map one-to-one onto a SARIF result: rule, enclosing function, start and end
position, message, evidence lines and confidence.

Positions are 1-based, as editors and SARIF count them: a tree-sitter point ``(row, column)``
becomes ``(row + 1, column + 1)``.  ``end_column`` is exclusive (the column after the last
character), which is what a tree-sitter end point plus one gives; 0 means "not known" for
``end_line`` and ``end_column``.  Files are relative to the indexed root, with '/' separators.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

_RULE_ID = re.compile(r"MN\d{3}")
_SYMBOL = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*")
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
_DRIVE = re.compile(r"[A-Za-z]:/")


def _check_relative_path(path: str, what: str) -> None:
    if not path or path.startswith("/") or "\\" in path or _DRIVE.match(path):
        raise ValueError(f"{what} must be relative to the indexed root with '/' separators, "
                         f"got {path!r}")


@dataclass(frozen=True, slots=True)
class Rule:
    id: str  # "MN101"; IDs come in blocks per family
    symbol: str  # "conditional-action"
    name: str  # a short title, one line
    message: str  # a str.format template for the finding's message
    description: str  # the long explanation (markdown)
    bad_example: str  # C code the rule reports
    good_example: str  # the same code, named so the rule is satisfied
    family: str  # the rule module it belongs to
    default: bool = True  # reported unless deselected; False: only when selected

    def __post_init__(self) -> None:
        if not _RULE_ID.fullmatch(self.id):
            raise ValueError(f"rule id must look like 'MN101', got {self.id!r}")
        if not _SYMBOL.fullmatch(self.symbol):
            raise ValueError(f"rule symbol must be kebab-case, got {self.symbol!r}")


@dataclass(frozen=True, slots=True)
class Evidence:
    file: str  # relative to the indexed root, '/' separators
    line: int  # 1-based
    text: str  # the source line (or a short description of it)

    def __post_init__(self) -> None:
        _check_relative_path(self.file, "evidence file")
        if self.line < 1:
            raise ValueError(f"evidence line must be 1 or more, got {self.line}")


def message_key(message: str) -> str:
    """The part of a message that identifies a finding across runs.

    Numbers are dropped (they are counts and line numbers that move as the tree changes) and
    runs of whitespace become one space.
    """
    return _SPACE.sub(" ", _DIGITS.sub("#", message)).strip()


def fingerprint_of(rule_id: str, file: str, function: str, message: str) -> str:
    """The baseline fingerprint of a finding, from the fields that survive a line move.

    Exposed on its own so that a baseline read back from JSON output (which carries these four
    fields) can be matched without rebuilding ``Finding`` objects.
    """
    key = "\0".join((rule_id, file, function, message_key(message)))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Finding:
    rule: Rule
    function: str  # the function the finding is about
    file: str  # relative to the indexed root, '/' separators
    line: int  # 1-based
    column: int  # 1-based
    end_line: int  # 1-based, 0 when not known
    end_column: int  # 1-based and exclusive, 0 when not known
    message: str
    evidence: tuple[Evidence, ...]  # in the order the rule gives them (source order by habit)
    confidence: float  # 0.0 to 1.0

    def __post_init__(self) -> None:
        _check_relative_path(self.file, "finding file")
        if self.line < 1 or self.column < 1:
            raise ValueError(f"finding position must be 1-based, got {self.line}:{self.column}")
        if self.end_line and self.end_line < self.line:
            raise ValueError(f"finding ends (line {self.end_line}) before it starts "
                             f"(line {self.line})")
        if self.end_column < 0 or self.end_line < 0:
            raise ValueError("finding end line and column must be 0 (unknown) or 1-based")
        if self.end_column and not self.end_line:
            raise ValueError("finding has an end column but no end line")
        if self.end_line == self.line and 0 < self.end_column < self.column:
            raise ValueError(f"finding ends (column {self.end_column}) before it starts "
                             f"(column {self.column})")
        if not isinstance(self.evidence, tuple):
            raise TypeError("finding evidence must be a tuple (findings are immutable)")
        if not 0.0 <= self.confidence <= 1.0:
            raise ValueError(f"finding confidence must be within 0..1, got {self.confidence}")

    def fingerprint(self) -> str:
        """Stable across line and column moves, count changes and evidence changes."""
        return fingerprint_of(self.rule.id, self.file, self.function, self.message)

    def sort_key(self) -> tuple[str, int, int, str]:
        return (self.file, self.line, self.column, self.rule.id)
