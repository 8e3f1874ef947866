"""Plain helpers shared by the test modules (importable as ``helpers`` from any test).

- :func:`index_tree` indexes a directory in-process and returns the database path;
- :func:`explain_json` returns ``misnomer explain NAME --format json`` as a dict;
- :func:`file_facts` / :func:`function_facts` run the C front end on a snippet, with the macro
  knowledge learnt from the snippet itself (as the indexer learns it from the tree).
"""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from misnomer.c.frontend import CFrontEnd
from misnomer.c.macros import builtin_knowledge, learn_macros, scan_hints
from misnomer.cli import main
from misnomer.facts import FileFacts, FunctionFacts

FIXTURES = Path(__file__).parent / "fixtures"
GOLDEN = Path(__file__).parent / "golden"


def run_cli(*args: str):
    """Run the command line in-process; returns click's Result."""
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def index_tree(path: Path) -> Path:
    """Index the C files under ``path`` (one parsing process, so file ids are deterministic)
    and return the database path."""
    result = run_cli("index", str(path), "--jobs", "1", "--quiet")
    if result.exit_code != 0:
        raise AssertionError(f"misnomer index {path} exited {result.exit_code}:\n"
                             f"{result.output}")
    db = Path(path) / ".misnomer" / "index.db"
    assert db.is_file(), f"no index at {db}"
    return db


def explain_json(db: Path, name: str) -> dict:
    """``misnomer explain NAME --db DB --format json`` as a dict."""
    result = run_cli("explain", name, "--db", str(db), "--format", "json")
    if result.exit_code != 0:
        raise AssertionError(f"misnomer explain {name} exited {result.exit_code}:\n"
                             f"{result.output}")
    return json.loads(result.stdout)


def only_definition(db: Path, name: str) -> dict:
    """The single definition of ``name`` in the explain JSON."""
    defs = explain_json(db, name)["definitions"]
    assert len(defs) == 1, f"{name}: expected one definition, got {len(defs)}"
    return defs[0]


def file_facts(src: str | bytes, knowledge=None) -> FileFacts:
    """Facts of one C source text.  Iterators and attributes are learnt from its own
    #defines on top of the built-in list, unless ``knowledge`` is given."""
    data = src.encode() if isinstance(src, str) else src
    if knowledge is None:
        knowledge = learn_macros(scan_hints(data), builtin_knowledge())
    return CFrontEnd(knowledge).facts(data)


def function_facts(src: str | bytes, name: str, knowledge=None) -> FunctionFacts:
    """The facts of the one function called ``name`` in ``src``."""
    found = [f for f in file_facts(src, knowledge).functions if f.name == name]
    assert len(found) == 1, f"{name}: expected one definition, got {len(found)}"
    return found[0]
