"""One C file in, facts out: macro scan, same-length rewrite, parse, extract."""

from __future__ import annotations

import hashlib
from importlib import resources

from ..facts import FileFacts
from .extract import FileExtractor
from .macros import MacroKnowledge, scan_defines
from .rewrite import Rewriter
from .treesitter import new_parser


def code_fingerprint() -> str:
    """Changes whenever the code that turns a file into stored rows changes: the front end, the
    fact layouts and the local summary.  The index re-parses every file when it differs."""
    h = hashlib.sha1()
    package = resources.files("misnomer")
    parts = [package.joinpath("facts.py"), package.joinpath("analysis", "local.py"),
             package.joinpath("analysis", "primitives.py"), package.joinpath("index", "worker.py")]
    front = package.joinpath("c")
    parts += sorted((p for p in front.iterdir() if p.name.endswith(".py")), key=lambda p: p.name)
    parts += sorted(front.joinpath("queries").iterdir(), key=lambda p: p.name)
    for part in parts:
        h.update(part.name.encode())
        h.update(part.read_bytes())
    return h.hexdigest()


def analysis_fingerprint() -> str:
    """Changes whenever the code that turns stored rows into verdicts changes."""
    h = hashlib.sha1()
    package = resources.files("misnomer")
    for part in sorted(package.joinpath("analysis").iterdir(), key=lambda p: p.name):
        if part.name.endswith(".py"):
            h.update(part.name.encode())
            h.update(part.read_bytes())
    h.update(package.joinpath("data", "primitives.toml").read_bytes())
    return h.hexdigest()


class CFrontEnd:
    """Holds what is compiled once per process: the parser, the query, the rewriter."""

    def __init__(self, knowledge: MacroKnowledge,
                 argument_free: frozenset[str] = frozenset()) -> None:
        """``argument_free``: callees whose arguments need not be read (primitives that write
        through none of them: likely(), pr_err(), ...), to save the time."""
        self.rewriter = Rewriter(knowledge)
        self.parser = new_parser()
        self.argument_free = argument_free

    def facts(self, data: bytes) -> FileFacts:
        macros = scan_defines(data)
        if b"{" not in data:
            # No braces, no function bodies: generated register headers and the like.
            return FileFacts([], macros, parsed=False)
        src, defined = self.rewriter.rewrite(data)
        tree = self.parser.parse(src)
        functions = FileExtractor(src, data, tree, defined, self.argument_free).functions()
        return FileFacts(functions, macros, parsed=True, has_errors=tree.root_node.has_error)
