"""The one place that talks to py-tree-sitter, so an API change is mended here only.

Queries live in ``queries/*.scm`` as package data and are compiled once per process.
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import tree_sitter
import tree_sitter_c

Node = tree_sitter.Node
Tree = tree_sitter.Tree


@lru_cache(maxsize=1)
def c_language() -> tree_sitter.Language:
    return tree_sitter.Language(tree_sitter_c.language())


def new_parser() -> tree_sitter.Parser:
    return tree_sitter.Parser(c_language())


@lru_cache(maxsize=None)
def query(name: str) -> tree_sitter.Query:
    """Compile ``queries/<name>.scm`` (once per process)."""
    text = resources.files("misnomer.c").joinpath("queries", f"{name}.scm").read_text("utf-8")
    return tree_sitter.Query(c_language(), text)


def captures(q: tree_sitter.Query, node: Node) -> dict[str, list[Node]]:
    """All captures of ``q`` under ``node``: capture name -> nodes in document order."""
    return tree_sitter.QueryCursor(q).captures(node)


def capture_names(q: tree_sitter.Query) -> list[str]:
    return [q.capture_name(i) for i in range(q.capture_count)]
