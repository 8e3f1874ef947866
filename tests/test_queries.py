"""The tree-sitter query and the extractor must agree on capture names: a capture renamed in
functions.scm but not in extract.py would silently blind the extractor (and vice versa)."""

from __future__ import annotations

import re
from importlib import resources

from misnomer.c.treesitter import capture_names, query

EXTRACT = resources.files("misnomer.c").joinpath("extract.py").read_text("utf-8")
SCM = resources.files("misnomer.c").joinpath("queries", "functions.scm").read_text("utf-8")
# how extract.py reads a capture: caps.get("name", ...) or caps["name"]
READ_RE = re.compile(r"""caps(?:\.get\(|\[)\s*["']([\w.]+)["']""")


def test_query_compiles_and_has_captures():
    q = query("functions")
    assert q.pattern_count > 10
    assert q.capture_count > 10


def test_capture_names_of_the_compiled_query_match_the_file():
    written = set(re.findall(r"@([A-Za-z_][\w.]*)", SCM))
    assert set(capture_names(query("functions"))) == written


def test_every_capture_is_read_by_the_extractor():
    read = set(READ_RE.findall(EXTRACT))
    unread = sorted(set(capture_names(query("functions"))) - read)
    assert unread == [], f"captures in functions.scm that extract.py never reads: {unread}"


def test_every_capture_the_extractor_reads_exists():
    missing = sorted(set(READ_RE.findall(EXTRACT)) - set(capture_names(query("functions"))))
    assert missing == [], f"extract.py reads captures functions.scm does not define: {missing}"


def test_the_capture_list_is_what_the_extractor_is_built_around():
    # A guard against the regex above reading nothing: these are the captures the extractor's
    # passes are built on.
    read = set(READ_RE.findall(EXTRACT))
    assert {"function", "function.name", "function.params", "call", "call.member", "write",
            "return", "if.condition", "branch.then", "branch.else", "loop", "label",
            "variant"} <= read
