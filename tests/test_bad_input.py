"""Bad input for `misnomer index`: each case gets a clear message and a consistent index,
never a crash or data loss.

Runs that need monkeypatching happen in-process (the parsing pool forks, so patches made here
are inherited by the workers); runs that need signals, locks or a possible hang are
subprocesses with timeouts as safety nets only (no test asserts how fast anything is).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from misnomer.cli import main
from misnomer.index import indexer, worker
from misnomer.index import writer as writer_module
from misnomer.index.schema import SCHEMA_VERSION

# --- small C files (written for these tests) -------------------------------------------------

GOOD_C = """\
struct widget {
	int refs;
	int flags;
	struct widget *next;
};

#define WIDGET_READY 0x2

static int widget_is_busy(const struct widget *w)
{
	return w->flags & 1;
}

int widget_ensure_ready(struct widget *w)
{
	if (w->flags & WIDGET_READY)
		return 0;
	w->flags |= WIDGET_READY;
	return 0;
}
"""
GOOD_FUNCTIONS = {"widget_is_busy", "widget_ensure_ready"}

OTHER_C = """\
struct gadget {
	int count;
};

int gadget_count(const struct gadget *g)
{
	return g->count;
}

void gadget_reset(struct gadget *g)
{
	g->count = 0;
}
"""
OTHER_FUNCTIONS = {"gadget_count", "gadget_reset"}

# Latin-1 bytes in a comment and a string, a broken UTF-8 sequence in a comment.
BAD_UTF8_TEXT_C = (
    b"/* caf\xe9 driver, \xff\xfe garbage in a comment */\n"
    b"static const char *banner = \"r\xe9gion \xc3\x28 bad\";\n"
    b"\n"
    b"int latin_count(const char *s)\n"
    b"{\n"
    b"\tint n = 0;\n"
    b"\n"
    b"\t/* na\xefve loop \xe2\x82 */\n"
    b"\twhile (*s++)\n"
    b"\t\tn++;\n"
    b"\treturn n;\n"
    b"}\n"
)

# An invalid byte inside a parameter name: the function's own name is intact.
BAD_UTF8_PARAM_C = (
    b"int latin_param(int n\xe9w)\n"
    b"{\n"
    b"\treturn n\xe9w + 1;\n"
    b"}\n"
)

# An invalid byte inside the function's name.
BAD_UTF8_NAME_C = (
    b"int caf\xe9_count(int x)\n"
    b"{\n"
    b"\treturn x + 1;\n"
    b"}\n"
)

UNBALANCED_C = """\
struct widget { int flags; int refs; };

int first_ok(int a)
{
	return a + 1;
}

static void broken_one(struct widget *w)
{
	if (w->flags) {
		w->refs++;
	/* the closing brace of the if is missing */
}

int after_damage(int b)
{
	return b - 1;
}
"""

EXTRA_BRACE_C = """\
int extra_first(int a)
{
	return a;
}
}
int extra_after(int b)
{
	return b;
}
"""

TRUNCATED_C = (
    "int trunc_first(int a)\n{\n\treturn a * 2;\n}\n\n"
    "static int trunc_cut(struct widget *w)\n{\n\tif (w->refs > 0) {\n\t\tw->refs--;\n"
    "\t\treturn w->re"
)

RUN_TIMEOUT = 300  # safety net only


# --- helpers -----------------------------------------------------------------------------------

def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    return path


def good_tree(root: Path) -> Path:
    write(root / "good.c", GOOD_C)
    write(root / "lib" / "other.c", OTHER_C)
    return root


def db_of(root: Path) -> Path:
    return root / ".misnomer" / "index.db"


def query(db: Path, sql: str, *args) -> list[tuple]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def function_names(db: Path) -> set[str]:
    return {r[0] for r in query(db, "SELECT name FROM functions")}


def file_rows(db: Path) -> dict[str, dict]:
    cols = ("path", "status", "reason", "functions", "macros", "parse_errors",
            "error_functions", "size")
    return {r[0]: dict(zip(cols, r)) for r in query(db, f"SELECT {', '.join(cols)} FROM files")}


def flat(text: str) -> str:
    """Whitespace collapsed: warnings may be wrapped to the console width."""
    return " ".join(text.split())


def summary_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.startswith("indexed: ")]
    assert len(lines) == 1, f"expected one summary line on stderr, got:\n{stderr}"
    return lines[0]


def counts(stderr: str) -> dict[str, int]:
    """The figures of the summary line: files, functions, parsed, unchanged, removed, skipped."""
    line = summary_line(stderr)
    out = {}
    for key in ("files", "functions", "parsed", "unchanged", "removed", "skipped"):
        m = re.search(rf"(\d[\d,]*) {key}\b", line)
        out[key] = int(m.group(1).replace(",", "")) if m else 0
    return out


def assert_consistent(db: Path) -> None:
    """integrity_check ok, and every file row agrees with the functions table."""
    assert query(db, "PRAGMA integrity_check") == [("ok",)]
    per_file = query(db, "SELECT files.path, files.functions, count(f.id) FROM files "
                         "LEFT JOIN functions f ON f.file_id = files.id GROUP BY files.id")
    for path, stored, actual in per_file:
        assert stored == actual, f"{path}: files.functions={stored} but {actual} rows"
    orphans = query(db, "SELECT count(*) FROM functions WHERE file_id NOT IN "
                        "(SELECT id FROM files)")
    assert orphans == [(0,)]
    not_parsed = query(db, "SELECT count(*) FROM functions f JOIN files ON files.id = f.file_id "
                           "WHERE files.status != 'parsed'")
    assert not_parsed == [(0,)]


def cli(*args: str):
    """The command line in-process (click's Result: exit_code, stdout, stderr)."""
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def index(root: Path, *extra: str):
    return cli("index", root, "-j", "2", *extra)


def explain(root: Path, name: str, db: Path | None = None):
    return cli("explain", name, "--db", db or db_of(root), "--format", "json")


def assert_explainable(root: Path, name: str, file: str, db: Path | None = None) -> dict:
    res = explain(root, name, db)
    assert res.exit_code == 0, res.stderr
    data = json.loads(res.stdout)
    assert data["version"] == 1
    assert [d["file"] for d in data["definitions"]] == [file]
    return data["definitions"][0]


def assert_good_files_indexed(root: Path, db: Path | None = None) -> None:
    db = db or db_of(root)
    names = function_names(db)
    assert GOOD_FUNCTIONS | OTHER_FUNCTIONS <= names
    rows = file_rows(db)
    assert rows["good.c"]["status"] == "parsed"
    assert rows["lib/other.c"]["status"] == "parsed"
    assert_explainable(root, "widget_ensure_ready", "good.c", db)
    assert_explainable(root, "gadget_reset", "lib/other.c", db)


def run(args: list[str], cwd: Path | None = None, timeout: float = RUN_TIMEOUT,
        env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "misnomer", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=env)


def as_worker_function(fn, name: str):
    """Make ``fn`` pickle as ``misnomer.index.worker.<name>`` (the pool sends tasks' functions
    by reference, and the forked workers see the monkeypatched module attribute)."""
    fn.__module__ = worker.__name__
    fn.__qualname__ = name
    fn.__name__ = name
    return fn


# --- 1. invalid UTF-8 --------------------------------------------------------------------------

def test_invalid_utf8_in_comments_and_strings(tmp_path):
    root = good_tree(tmp_path / "tree")
    write(root / "latin.c", BAD_UTF8_TEXT_C)
    res = index(root)
    assert res.exit_code == 0, res.stderr
    db = db_of(root)
    rows = file_rows(db)
    assert rows["latin.c"]["status"] == "parsed"
    assert rows["latin.c"]["reason"] is None
    assert rows["latin.c"]["functions"] == 1
    assert query(db, "SELECT has_error FROM functions WHERE name = 'latin_count'") == [(0,)]
    assert "skipped" not in summary_line(res.stderr)
    d = assert_explainable(root, "latin_count", "latin.c")
    assert d["signature"] == "int latin_count(const char *s)"
    assert d["parse_errors"] is False
    text = cli("explain", "latin_count", "--db", db)
    assert text.exit_code == 0 and text.stdout.startswith("latin.c:4:")
    assert_good_files_indexed(root)
    assert_consistent(db)


def test_invalid_utf8_inside_an_identifier_decodes_with_replacement(tmp_path):
    root = good_tree(tmp_path / "tree")
    write(root / "param.c", BAD_UTF8_PARAM_C)
    res = index(root)
    assert res.exit_code == 0, res.stderr
    db = db_of(root)
    [(signature, has_error)] = query(
        db, "SELECT signature, has_error FROM functions WHERE name = 'latin_param'")
    assert signature == "int latin_param(int n\ufffdw)"  # decoded with replacement
    assert has_error == 1
    assert file_rows(db)["param.c"]["parse_errors"] == 1
    assert "% of definitions with parse errors" in summary_line(res.stderr)
    d = assert_explainable(root, "latin_param", "param.c")
    assert d["parse_errors"] is True
    assert "\ufffd" in d["signature"]
    assert_good_files_indexed(root)
    assert_consistent(db)


def test_invalid_utf8_in_a_function_name_keeps_the_whole_name(tmp_path):
    root = good_tree(tmp_path / "tree")
    write(root / "name.c", BAD_UTF8_NAME_C)
    res = index(root)
    assert res.exit_code == 0, res.stderr
    db = db_of(root)
    assert file_rows(db)["name.c"]["functions"] == 1  # still indexed
    assert_good_files_indexed(root)
    assert query(db, "SELECT name FROM functions f JOIN files ON files.id = f.file_id "
                     "WHERE files.path = 'name.c'") == [("caf\ufffd_count",)]


# --- 2. NUL bytes -----------------------------------------------------------------------------

def test_nul_byte_is_reported_as_binary(tmp_path):
    root = good_tree(tmp_path / "tree")
    prefix = b"int nul_here(void)\n{\n\treturn 0;\n}\n"
    write(root / "blob.c", prefix + b"\0\x01\x02 trailing junk\n")
    res = index(root)
    assert res.exit_code == 0, res.stderr
    reason = f"binary file (NUL byte at offset {len(prefix)})"
    assert f"warning: blob.c: {reason}" in flat(res.stderr)
    line = summary_line(res.stderr)
    assert "1 skipped (1 binary file)" in line
    c = counts(res.stderr)
    assert c["files"] == 3 and c["parsed"] == 2 and c["functions"] == 4
    db = db_of(root)
    row = file_rows(db)["blob.c"]
    assert row["status"] == "skipped" and row["reason"] == reason and row["functions"] == 0
    assert "nul_here" not in function_names(db)
    unknown = cli("explain", "nul_here", "--db", db)
    assert unknown.exit_code == 1
    assert_good_files_indexed(root)
    assert_consistent(db)

    # Reported again on the next run, without parsing anything else.
    again = index(root)
    assert again.exit_code == 0
    assert f"warning: blob.c: {reason}" in flat(again.stderr)
    assert counts(again.stderr)["parsed"] == 0
    assert counts(again.stderr)["unchanged"] == 2
    assert_consistent(db)


# --- 3. huge and generated files --------------------------------------------------------------

@pytest.fixture(scope="module")
def huge_header(tmp_path_factory) -> Path:
    """A ~52 MB generated register header: 1,000,000 #defines, no braces."""
    path = tmp_path_factory.mktemp("huge") / "regs.h"
    with open(path, "w") as fh:
        fh.write("/* generated by a register tool: do not edit */\n")
        fh.write("".join(f"#define REG_BLOCK_{i:07d}_CTRL_OFFSET_LO 0x{i * 4:08x}\n"
                         for i in range(1_000_000)))
    assert path.stat().st_size > 50_000_000
    return path


def _place(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)
    except OSError:
        shutil.copyfile(src, dest)


def test_generated_header_macros_are_counted_not_listed(tmp_path, huge_header):
    root = good_tree(tmp_path / "tree")
    _place(huge_header, root / "include" / "regs.h")
    proc = run(["index", root, "--max-file-size", "64"])
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    c = counts(proc.stderr)
    assert c["files"] == 3 and c["parsed"] == 3 and c["functions"] == 4
    db = db_of(root)
    row = file_rows(db)["include/regs.h"]
    assert row["status"] == "macros"
    assert row["macros"] == 1_000_000
    assert row["functions"] == 0
    assert row["size"] == huge_header.stat().st_size
    assert "generated header" in row["reason"] and "--all-macros" in row["reason"]
    [(listed,)] = query(db, "SELECT count(*) FROM macros m JOIN files ON files.id = m.file_id "
                            "WHERE files.path = 'include/regs.h'")
    assert listed == 0
    assert_good_files_indexed(root)
    assert_consistent(db)
    # And the next run does not read it again.
    again = run(["index", root, "--max-file-size", "64"])
    assert again.returncode == 0
    assert counts(again.stderr)["parsed"] == 0 and counts(again.stderr)["unchanged"] == 3


def test_generated_header_is_reported_on_stderr(tmp_path, huge_header):
    root = good_tree(tmp_path / "tree")
    _place(huge_header, root / "include" / "regs.h")
    proc = run(["index", root, "--max-file-size", "64"])
    assert proc.returncode == 0, proc.stderr
    assert "generated header" in proc.stderr


def test_huge_header_over_the_default_limit_is_skipped(tmp_path, huge_header):
    root = good_tree(tmp_path / "tree")
    _place(huge_header, root / "include" / "regs.h")
    proc = run(["index", root])
    assert proc.returncode == 0, proc.stderr
    line = summary_line(proc.stderr)
    assert "1 skipped (1 too large)" in line
    assert "warning: include/regs.h: too large (" in flat(proc.stderr)
    assert "--max-file-size" in flat(proc.stderr)
    db = db_of(root)
    row = file_rows(db)["include/regs.h"]
    assert row["status"] == "skipped" and row["reason"].startswith("too large (")
    assert row["macros"] == 0
    assert query(db, "SELECT count(*) FROM macros WHERE name LIKE 'REG_BLOCK_%'") == [(0,)]
    assert_good_files_indexed(root)
    assert_consistent(db)


def test_too_large_message_states_the_limit_as_given(tmp_path, huge_header):
    root = good_tree(tmp_path / "tree")
    _place(huge_header, root / "include" / "regs.h")
    proc = run(["index", root, "--max-file-size", "32"])
    assert proc.returncode == 0, proc.stderr
    reason = file_rows(db_of(root))["include/regs.h"]["reason"]
    assert re.search(r"the limit is 32\b", reason), reason


def test_file_over_max_file_size_is_skipped_with_a_reason(tmp_path):
    root = good_tree(tmp_path / "tree")
    big = "".join(f"int big_fn_{i}(int a)\n{{\n\treturn a + {i};\n}}\n" for i in range(60_000))
    write(root / "big.c", big)
    size = (root / "big.c").stat().st_size
    assert size > 2 * 1024 * 1024
    res = index(root, "--max-file-size", "2")
    assert res.exit_code == 0, res.stderr
    assert "1 skipped (1 too large)" in summary_line(res.stderr)
    assert "warning: big.c: too large (" in flat(res.stderr)
    db = db_of(root)
    row = file_rows(db)["big.c"]
    assert row["status"] == "skipped" and row["functions"] == 0
    assert row["reason"].startswith(f"too large ({size / 2**20:.1f} MiB; the limit is 2 MiB")
    assert "--max-file-size" in row["reason"]
    assert not any(n.startswith("big_fn_") for n in function_names(db))
    assert_good_files_indexed(root)
    assert_consistent(db)

    # With a limit it fits under, the same file is indexed on the next run.
    res = index(root, "--max-file-size", "8")
    assert res.exit_code == 0, res.stderr
    assert counts(res.stderr)["parsed"] == 1
    assert file_rows(db)["big.c"]["status"] == "parsed"
    assert query(db, "SELECT count(*) FROM functions WHERE name LIKE 'big_fn_%'") == [(60_000,)]
    assert_consistent(db)


# --- 4. unbalanced braces, truncated files ----------------------------------------------------

def test_unbalanced_braces_are_indexed_with_parse_errors(tmp_path):
    root = good_tree(tmp_path / "tree")
    write(root / "unbalanced.c", UNBALANCED_C)
    write(root / "extra.c", EXTRA_BRACE_C)
    res = index(root)
    assert res.exit_code == 0, res.stderr
    db = db_of(root)
    rows = file_rows(db)
    for path in ("unbalanced.c", "extra.c"):
        assert rows[path]["status"] == "parsed"
        assert rows[path]["parse_errors"] == 1
    # The definition swallowed by the missing brace is flagged and counted.
    assert query(db, "SELECT has_error FROM functions WHERE name = 'broken_one'") == [(1,)]
    assert rows["unbalanced.c"]["error_functions"] == 1
    total = len(function_names(db))
    errors = sum(r["error_functions"] for r in rows.values())
    assert errors >= 1
    assert f"{100 * errors / total:.1f}% of definitions with parse errors" in \
        summary_line(res.stderr)
    # Functions before the damage (and after a stray brace) are intact and explainable.
    d = assert_explainable(root, "first_ok", "unbalanced.c")
    assert d["parse_errors"] is False and d["shape"] == "query"
    assert assert_explainable(root, "extra_first", "extra.c")["parse_errors"] is False
    assert assert_explainable(root, "extra_after", "extra.c")["line"] == 6
    broken = cli("explain", "broken_one", "--db", db)
    assert broken.exit_code == 0
    assert "parsed with errors" in broken.stdout
    assert_good_files_indexed(root)
    assert_consistent(db)


def test_truncated_file_keeps_the_functions_before_the_cut(tmp_path):
    root = good_tree(tmp_path / "tree")
    write(root / "trunc.c", TRUNCATED_C)
    res = index(root)
    assert res.exit_code == 0, res.stderr
    db = db_of(root)
    row = file_rows(db)["trunc.c"]
    assert row["status"] == "parsed" and row["parse_errors"] == 1
    d = assert_explainable(root, "trunc_first", "trunc.c")
    assert d["parse_errors"] is False and d["end_line"] == 4
    assert_good_files_indexed(root)
    assert_consistent(db)


def test_damaged_file_fixed_later_is_reindexed_cleanly(tmp_path):
    root = good_tree(tmp_path / "tree")
    write(root / "trunc.c", TRUNCATED_C)
    assert index(root).exit_code == 0
    db = db_of(root)
    write(root / "trunc.c", TRUNCATED_C + "fs;\n\t}\n\treturn 0;\n}\n")
    res = index(root)
    assert res.exit_code == 0, res.stderr
    assert counts(res.stderr)["parsed"] == 1
    row = file_rows(db)["trunc.c"]
    assert row["parse_errors"] == 0 and row["functions"] == 2
    assert assert_explainable(root, "trunc_cut", "trunc.c")["parse_errors"] is False
    assert_consistent(db)


# --- 5. unreadable files -----------------------------------------------------------------------

@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their mode")
def test_unreadable_file_is_skipped_with_a_reason(tmp_path):
    root = good_tree(tmp_path / "tree")
    locked = write(root / "locked.c", "int locked_fn(void)\n{\n\treturn 1;\n}\n")
    locked.chmod(0)
    try:
        res = index(root)
    finally:
        locked.chmod(0o644)
    assert res.exit_code == 0, res.stderr
    assert "warning: locked.c: not readable (permission denied)" in flat(res.stderr)
    assert "1 skipped (1 not readable)" in summary_line(res.stderr)
    db = db_of(root)
    assert file_rows(db)["locked.c"]["status"] == "skipped"
    assert "locked_fn" not in function_names(db)
    assert_good_files_indexed(root)
    assert_consistent(db)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads directories whatever their mode")
def test_unreadable_directory_is_reported(tmp_path):
    root = good_tree(tmp_path / "tree")
    write(root / "private" / "hidden.c", "int hidden_fn(void)\n{\n\treturn 1;\n}\n")
    (root / "private").chmod(0)
    try:
        res = index(root)
    finally:
        (root / "private").chmod(0o755)
    assert res.exit_code == 0, res.stderr
    assert "private/: directory not readable" in flat(res.stderr)
    assert "hidden_fn" not in function_names(db_of(root))
    assert_good_files_indexed(root)


def test_permission_denied_on_read_is_skipped_with_a_reason(tmp_path, monkeypatch):
    """The same path as chmod 000, also when the tests run as root: opening the file fails."""
    root = good_tree(tmp_path / "tree")
    locked = write(root / "locked.c", "int locked_fn(void)\n{\n\treturn 1;\n}\n")
    real_open = open

    def guarded_open(file, *args, **kwargs):
        if os.fspath(file) == str(locked):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(worker, "open", guarded_open, raising=False)
    res = index(root)
    assert res.exit_code == 0, res.stderr
    assert "warning: locked.c: not readable (permission denied)" in flat(res.stderr)
    assert "1 skipped (1 not readable)" in summary_line(res.stderr)
    db = db_of(root)
    row = file_rows(db)["locked.c"]
    assert row["status"] == "skipped" and row["reason"] == "not readable (permission denied)"
    assert "locked_fn" not in function_names(db)
    assert_good_files_indexed(root)
    assert_consistent(db)

    # Readable again: the next run indexes it.
    monkeypatch.undo()
    res = index(root)
    assert res.exit_code == 0, res.stderr
    assert counts(res.stderr)["parsed"] == 1
    assert file_rows(db)["locked.c"]["status"] == "parsed"
    assert_explainable(root, "locked_fn", "locked.c")
    assert_consistent(db)


def test_directory_named_like_a_c_file(tmp_path):
    root = good_tree(tmp_path / "tree")
    (root / "x.c").mkdir()
    write(root / "y.c" / "inner.c", "int inner_fn(void)\n{\n\treturn 2;\n}\n")
    res = index(root)
    assert res.exit_code == 0, res.stderr
    db = db_of(root)
    rows = file_rows(db)
    assert "x.c" not in rows and "y.c" not in rows
    assert rows["y.c/inner.c"]["status"] == "parsed"
    assert counts(res.stderr)["files"] == 3
    assert_explainable(root, "inner_fn", "y.c/inner.c")
    assert_good_files_indexed(root)
    assert_consistent(db)


def test_file_replaced_by_a_directory_after_listing(tmp_path, monkeypatch):
    root = good_tree(tmp_path / "tree")
    write(root / "x.c", "int soon_a_dir(void)\n{\n\treturn 3;\n}\n")
    real_discover = indexer.discover

    def discover_then_swap(*args, **kwargs):
        found = real_discover(*args, **kwargs)
        (root / "x.c").unlink()
        (root / "x.c").mkdir()
        return found

    monkeypatch.setattr(indexer, "discover", discover_then_swap)
    res = index(root)
    assert res.exit_code == 0, res.stderr
    assert "warning: x.c: is a directory" in flat(res.stderr)
    assert "1 skipped (1 is a directory)" in summary_line(res.stderr)
    db = db_of(root)
    assert "soon_a_dir" not in function_names(db)
    assert_good_files_indexed(root)
    assert_consistent(db)


def _release_fifo(path: Path) -> None:
    """Let a process blocked opening the FIFO for reading go on (it then reads EOF)."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return
    os.close(fd)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_fifo_named_like_a_c_file_is_skipped_without_hanging(tmp_path):
    root = good_tree(tmp_path / "tree")
    fifo = root / "y.c"
    os.mkfifo(fifo)
    proc = subprocess.Popen([sys.executable, "-m", "misnomer", "index", str(root), "-j", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=15)  # a safety net: the run takes a second
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        _release_fifo(fifo)
        proc.communicate()
        pytest.fail("misnomer index blocked on a FIFO named y.c")
    assert proc.returncode == 0, err
    assert "y.c: not a regular file" in flat(err)
    assert_good_files_indexed(root)


# --- 6. symbolic links and git trees ----------------------------------------------------------

def _links(root: Path) -> None:
    os.symlink("b.c", root / "a.c")
    os.symlink("a.c", root / "b.c")
    os.symlink("missing.c", root / "broken.c")


def _git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True,
                   timeout=60)


needs_git = pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")


@pytest.mark.parametrize("in_git", [False, pytest.param(True, marks=needs_git)],
                         ids=["plain", "git"])
def test_symlink_loop_and_broken_symlink_are_reported(tmp_path, in_git):
    root = good_tree(tmp_path / "tree")
    _links(root)
    os.symlink(".", root / "lib" / "self")  # a directory loop: not followed
    if in_git:
        _git(root, "init", "-q")
    res = index(root)
    assert res.exit_code == 0, res.stderr
    err = flat(res.stderr)
    assert "warning: a.c: symbolic link loop" in err
    assert "warning: b.c: symbolic link loop" in err
    assert "warning: broken.c: broken symbolic link" in err
    assert "3 skipped (2 symbolic link loop, 1 broken symbolic link)" in summary_line(res.stderr)
    db = db_of(root)
    assert set(file_rows(db)) == {"good.c", "lib/other.c"}
    assert_good_files_indexed(root)
    assert_consistent(db)


def test_symlink_to_a_file_outside_the_root_is_reported(tmp_path):
    root = good_tree(tmp_path / "tree")
    outside = write(tmp_path / "elsewhere" / "far.c", "int far_fn(void)\n{\n\treturn 0;\n}\n")
    os.symlink(outside, root / "far.c")
    res = index(root)
    assert res.exit_code == 0, res.stderr
    assert "warning: far.c: symbolic link to a file outside the root" in flat(res.stderr)
    assert "far_fn" not in function_names(db_of(root))
    assert_good_files_indexed(root)


@needs_git
def test_git_tree_honours_gitignore(tmp_path):
    root = good_tree(tmp_path / "tree")
    _git(root, "init", "-q")
    write(root / ".gitignore", "build/\n*.gen.c\n")
    write(root / "build" / "out.c", "int built_fn(void)\n{\n\treturn 0;\n}\n")
    write(root / "table.gen.c", "int generated_fn(void)\n{\n\treturn 0;\n}\n")
    write(root / "fresh.c", "int untracked_fn(void)\n{\n\treturn 0;\n}\n")
    write(root / "include" / "fresh.h",
          "static inline int header_fn(int a)\n{\n\treturn a;\n}\n")
    _git(root, "add", "good.c", "lib/other.c", ".gitignore")
    res = index(root)
    assert res.exit_code == 0, res.stderr
    db = db_of(root)
    assert set(file_rows(db)) == {"good.c", "lib/other.c", "fresh.c", "include/fresh.h"}
    names = function_names(db)
    assert {"untracked_fn", "header_fn"} <= names
    assert not {"built_fn", "generated_fn"} & names
    assert counts(res.stderr)["files"] == 4
    assert cli("explain", "built_fn", "--db", db).exit_code == 1
    assert_explainable(root, "untracked_fn", "fresh.c")
    assert_good_files_indexed(root)
    assert_consistent(db)


# --- 7. files that vanish mid-run -------------------------------------------------------------

def test_new_file_vanishing_before_its_parse(tmp_path, monkeypatch):
    root = good_tree(tmp_path / "tree")
    doomed = write(root / "doomed.c", "int doomed_fn(void)\n{\n\treturn 0;\n}\n")
    real_parse = worker.parse

    def parse_after_delete(path):
        if path == "doomed.c" and doomed.exists():
            doomed.unlink()
        return real_parse(path)

    monkeypatch.setattr(worker, "parse", as_worker_function(parse_after_delete, "parse"))
    res = index(root)
    assert res.exit_code == 0, res.stderr
    assert "warning: doomed.c: disappeared while indexing" in flat(res.stderr)
    assert "1 skipped (1 disappeared while indexing)" in summary_line(res.stderr)
    db = db_of(root)
    assert "doomed.c" not in file_rows(db)
    assert "doomed_fn" not in function_names(db)
    assert_good_files_indexed(root)
    assert_consistent(db)


def test_indexed_file_vanishing_during_reparse_loses_its_functions(tmp_path, monkeypatch):
    root = good_tree(tmp_path / "tree")
    doomed = write(root / "doomed.c", "int doomed_fn(void)\n{\n\treturn 0;\n}\n")
    assert index(root).exit_code == 0
    db = db_of(root)
    assert "doomed_fn" in function_names(db)
    write(doomed, "int doomed_fn(void)\n{\n\treturn 1;\n}\n\nint doomed_too(void)\n{\n"
                  "\treturn 2;\n}\n")
    real_parse = worker.parse

    def parse_after_delete(path):
        if path == "doomed.c" and doomed.exists():
            doomed.unlink()
        return real_parse(path)

    monkeypatch.setattr(worker, "parse", as_worker_function(parse_after_delete, "parse"))
    res = index(root)
    assert res.exit_code == 0, res.stderr
    assert "warning: doomed.c: disappeared while indexing" in flat(res.stderr)
    assert "doomed.c" not in file_rows(db)
    assert not {"doomed_fn", "doomed_too"} & function_names(db)
    assert cli("explain", "doomed_fn", "--db", db).exit_code == 1
    assert_good_files_indexed(root)
    assert_consistent(db)


def test_indexed_file_vanishing_before_its_hash(tmp_path, monkeypatch):
    root = good_tree(tmp_path / "tree")
    doomed = write(root / "doomed.c", "int doomed_fn(void)\n{\n\treturn 0;\n}\n")
    assert index(root).exit_code == 0
    db = db_of(root)
    write(doomed, "int doomed_fn(void)\n{\n\treturn 1;\n}\n/* changed */\n")
    real_hints = worker.hints

    def hints_after_delete(path):
        if path == "doomed.c" and doomed.exists():
            doomed.unlink()
        return real_hints(path)

    monkeypatch.setattr(worker, "hints", as_worker_function(hints_after_delete, "hints"))
    res = index(root)
    assert res.exit_code == 0, res.stderr
    assert "warning: doomed.c: disappeared while indexing" in flat(res.stderr)
    assert "doomed.c" not in file_rows(db)
    assert "doomed_fn" not in function_names(db)
    assert_good_files_indexed(root)
    assert_consistent(db)


def test_indexed_file_vanishing_between_listing_and_stat(tmp_path, monkeypatch):
    root = good_tree(tmp_path / "tree")
    doomed = write(root / "doomed.c", "int doomed_fn(void)\n{\n\treturn 0;\n}\n")
    assert index(root).exit_code == 0
    db = db_of(root)
    real_discover = indexer.discover

    def discover_then_delete(*args, **kwargs):
        found = real_discover(*args, **kwargs)
        doomed.unlink()
        return found

    monkeypatch.setattr(indexer, "discover", discover_then_delete)
    res = index(root)
    assert res.exit_code == 0, res.stderr
    assert_consistent(db)
    assert "doomed_fn" not in function_names(db)
    assert "doomed.c" not in file_rows(db)


# --- 8. Ctrl-C -----------------------------------------------------------------------------------

def _many_files(root: Path, n: int) -> None:
    for i in range(n):
        d = root / f"drv{i // 100:02d}"
        d.mkdir(parents=True, exist_ok=True)
        (d / f"unit{i:04d}.c").write_text(
            f"struct unit{i} {{ int state; int users; }};\n\n"
            f"int unit{i}_users(const struct unit{i} *u)\n{{\n\treturn u->users;\n}}\n\n"
            f"int unit{i}_ensure_on(struct unit{i} *u)\n{{\n\tif (u->state)\n\t\treturn 0;\n"
            f"\tu->state = 1;\n\treturn 0;\n}}\n")


def _wait_for_first_batch(db: Path, proc: subprocess.Popen, deadline: float) -> int:
    """Files committed so far, once the first batch is in (or 0 if the run ended)."""
    while time.monotonic() < deadline and proc.poll() is None:
        if db.exists():
            try:
                n = query(db, "SELECT count(*) FROM files")[0][0]
            except sqlite3.Error:
                n = 0
            if n:
                return n
        time.sleep(0.05)
    return 0


def test_ctrl_c_leaves_a_consistent_index_and_the_next_run_resumes(tmp_path):
    root = tmp_path / "tree"
    total = 3000
    _many_files(root, total)
    db = db_of(root)
    proc = subprocess.Popen([sys.executable, "-m", "misnomer", "index", str(root), "-j", "1"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        committed = _wait_for_first_batch(db, proc, time.monotonic() + 240)
        if proc.poll() is None:
            proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    if proc.returncode == 0:
        pytest.skip("the run finished before it could be interrupted")
    assert committed > 0
    assert proc.returncode == 130, err
    assert out == ""
    assert "Traceback" not in err
    assert re.search(r"interrupted: [\d,]+ files were indexed; the index is consistent and "
                     r"the next run resumes", flat(err)), err

    assert_consistent(db)
    parsed_files = query(db, "SELECT path, functions FROM files WHERE status = 'parsed'")
    assert 0 < len(parsed_files) < total
    assert all(n == 2 for _, n in parsed_files)
    done = len(parsed_files)
    m = re.search(r"interrupted: ([\d,]+) files", err)
    assert int(m.group(1).replace(",", "")) == done
    assert query(db, "SELECT count(*) FROM functions") == [(2 * done,)]
    # What is in the index can already be explained.
    some = parsed_files[0][0]
    i = int(re.search(r"unit(\d+)\.c$", some).group(1))
    assert_explainable(root, f"unit{i}_ensure_on", some)

    second = run(["index", root, "-j", "2"])
    assert second.returncode == 0, second.stderr
    c = counts(second.stderr)
    assert c["files"] == total
    assert c["unchanged"] == done
    assert c["parsed"] == total - done
    assert c["functions"] == 2 * total
    assert_consistent(db)
    assert query(db, "SELECT count(*) FROM files WHERE status = 'parsed'") == [(total,)]
    assert query(db, "SELECT value FROM meta WHERE key = 'analysis_state'") == [("ok",)]


def test_interrupt_message_counts_only_committed_files(tmp_path, monkeypatch):
    """Ctrl-C while a batch is being written: that batch is rolled back, and the message
    counts the files that are really in the index."""
    root = tmp_path / "tree"
    _many_files(root, 6)
    monkeypatch.setattr(writer_module, "_BATCH_FILES", 2)
    real_write = writer_module.Writer.write
    calls = []

    def write_then_interrupt(self, results):
        real_write(self, results)
        calls.append(len(results))
        if len(calls) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr(writer_module.Writer, "write", write_then_interrupt)
    res = cli("index", root, "-j", "1")
    assert res.exit_code == 130, res.stderr
    db = db_of(root)
    assert_consistent(db)
    assert query(db, "SELECT count(*) FROM files") == [(2,)]
    assert query(db, "SELECT count(*) FROM functions") == [(4,)]
    assert "the index is consistent and the next run resumes" in flat(res.stderr)
    assert "interrupted: 2 files were indexed" in flat(res.stderr)


# --- 9. two runs at once ------------------------------------------------------------------------

# The first run is held inside its first file read until the test creates a file, so that it
# holds the lock for as long as the test needs (deterministic, no timing).
_GATED_RUN = """\
import os, sys, time
from misnomer.index import worker
from misnomer.cli import main

GO, DEADLINE = sys.argv[1], time.monotonic() + 240
real_read = worker._read

def gated_read(path):
    while not os.path.exists(GO) and time.monotonic() < DEADLINE:
        time.sleep(0.02)
    return real_read(path)

worker._read = gated_read
sys.argv = ["misnomer", "index", *sys.argv[2:]]
main()
"""


def _start_gated(root: Path, go: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", _GATED_RUN, str(go), str(root), "-j", "1",
                             *extra], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_until(predicate, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.02)


def _lock_held_by(db: Path, pid: int) -> bool:
    try:
        return (db.parent / (db.name + ".lock")).read_text().strip() == str(pid)
    except OSError:
        return False


def _finish(proc: subprocess.Popen, timeout: float = 240) -> tuple[str, str]:
    try:
        return proc.communicate(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_second_run_waits_for_the_first(tmp_path):
    root = good_tree(tmp_path / "tree")
    db = db_of(root)
    go = tmp_path / "go"
    first = _start_gated(root, go)
    second = None
    err_file = tmp_path / "second.err"
    try:
        _wait_until(lambda: _lock_held_by(db, first.pid) or first.poll() is not None, 120,
                    "the first run to take the lock")
        assert first.poll() is None, first.communicate()
        with open(err_file, "w") as err_fh:
            second = subprocess.Popen([sys.executable, "-m", "misnomer", "index", str(root)],
                                      stdout=subprocess.PIPE, stderr=err_fh, text=True)
        _wait_until(lambda: "another misnomer run is writing this index" in
                    flat(err_file.read_text()) or second.poll() is not None, 120,
                    "the second run to say it waits")
        assert second.poll() is None, err_file.read_text()
        go.touch()
        out1, err1 = _finish(first)
        out2, _ = _finish(second)
    finally:
        go.touch()
        for p in (first, second):
            if p is not None and p.poll() is None:
                p.kill()
                p.communicate()
    err2 = err_file.read_text()
    assert first.returncode == 0, err1
    assert second.returncode == 0, err2
    assert out1 == "" and out2 == ""
    assert f"another misnomer run is writing this index (process {first.pid}); waiting" \
        in flat(err2)
    # The second run found everything done by the first.
    c1, c2 = counts(err1), counts(err2)
    assert c1["parsed"] == 2 and c1["functions"] == 4
    assert c2["parsed"] == 0 and c2["unchanged"] == 2 and c2["functions"] == 4
    assert_consistent(db)
    assert_good_files_indexed(root)


def test_second_run_with_wait_0_fails_clearly(tmp_path):
    root = good_tree(tmp_path / "tree")
    db = db_of(root)
    go = tmp_path / "go"
    first = _start_gated(root, go)
    try:
        _wait_until(lambda: _lock_held_by(db, first.pid) or first.poll() is not None, 120,
                    "the first run to take the lock")
        assert first.poll() is None, first.communicate()
        second = run(["index", root, "--wait", "0"], timeout=120)
        go.touch()
        out1, err1 = _finish(first)
    finally:
        go.touch()
        if first.poll() is None:
            first.kill()
            first.communicate()
    assert second.returncode == 2, second.stderr
    assert second.stdout == ""
    assert "Traceback" not in second.stderr
    assert f"misnomer: another misnomer run is still writing index.db (process {first.pid}); " \
           f"try again when it has finished" in flat(second.stderr)
    assert first.returncode == 0, err1
    assert counts(err1)["parsed"] == 2
    assert_consistent(db)
    assert_good_files_indexed(root)


def test_run_waits_for_a_writer_creating_the_index(tmp_path):
    """The state a first run is in while it creates the index, held by the test: a write
    transaction on a new, empty database file.  A second run must wait, not crash."""
    root = good_tree(tmp_path / "tree")
    db = db_of(root)
    db.parent.mkdir()
    db.touch()
    holder = sqlite3.connect(db, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    proc = subprocess.Popen([sys.executable, "-m", "misnomer", "index", str(root)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        try:
            proc.wait(timeout=10)  # a run that crashes ends here; one that waits does not
        except subprocess.TimeoutExpired:
            pass
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    out, err = _finish(proc)
    assert "Traceback" not in err, err
    assert proc.returncode == 0, err
    assert_consistent(db)
    assert_good_files_indexed(root)


def test_two_runs_started_together_both_finish(tmp_path):
    root = tmp_path / "tree"
    _many_files(root, 300)
    db = db_of(root)
    args = [sys.executable, "-m", "misnomer", "index", str(root), "-j", "1"]
    procs = [subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    results = [_finish(p) for p in procs]
    for p, (out, err) in zip(procs, results):
        assert p.returncode == 0, err
        assert out == ""
        assert counts(err)["functions"] == 600
    # Between them, every file was parsed once and found unchanged once.
    parsed = sum(counts(err)["parsed"] for _, err in results)
    assert parsed == 300
    assert_consistent(db)
    assert query(db, "SELECT count(*) FROM files WHERE status = 'parsed'") == [(300,)]


# --- 10. incremental runs -----------------------------------------------------------------------

USES_ITERATOR = """\
#include "slots.h"

int slots_count(struct table *t)
{
	struct slot *s;
	int n = 0;

	slot_for_each(s, t) {
		n++;
	}
	return n;
}
"""


def test_a_new_iterator_macro_reaches_the_files_that_use_it(tmp_path):
    """The macro knowledge is reused while no file's #defines change, and learnt again when one
    does: a file using an iterator defined only now is parsed again."""
    root = tmp_path / "tree"
    header = write(root / "slots.h", "struct slot { struct slot *next; };\n"
                                     "struct table { struct slot *first; };\n")
    write(root / "count.c", USES_ITERATOR)
    assert index(root).exit_code == 0
    db = db_of(root)
    assert query(db, "SELECT name, has_error FROM functions ORDER BY name") != [("slots_count", 0)]
    assert index(root).exit_code == 0  # nothing changed: the stored knowledge is taken
    write(root / "other.c", "int other(void)\n{\n\treturn 1;\n}\n")
    assert index(root).exit_code == 0  # a file without #defines: still the stored knowledge
    write(header, header.read_text() + "#define slot_for_each(s, t) \\\n"
                                        "\tfor ((s) = (t)->first; (s); (s) = (s)->next)\n")
    res = index(root)
    assert res.exit_code == 0, res.stderr
    assert query(db, "SELECT name, has_error FROM functions ORDER BY name") == [
        ("other", 0), ("slots_count", 0)]

def test_incremental_runs(tmp_path):
    root = good_tree(tmp_path / "tree")
    third = write(root / "third.c", "int third_fn(int a)\n{\n\treturn a;\n}\n")
    first = index(root)
    assert first.exit_code == 0, first.stderr
    c = counts(first.stderr)
    assert (c["files"], c["parsed"], c["unchanged"], c["functions"]) == (3, 3, 0, 5)
    db = db_of(root)
    ids_before = dict(query(db, "SELECT name, id FROM functions"))

    # No change: nothing parsed.
    res = index(root)
    assert res.exit_code == 0, res.stderr
    assert " 0 parsed, 3 unchanged" in summary_line(res.stderr)
    assert dict(query(db, "SELECT name, id FROM functions")) == ids_before

    # Only the modification time changed: read and hashed, not parsed.
    st = third.stat()
    os.utime(third, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    res = index(root)
    assert counts(res.stderr)["parsed"] == 0 and counts(res.stderr)["unchanged"] == 3

    # One file edited: only that file is parsed.
    write(root / "lib" / "other.c", OTHER_C + "\nint gadget_is_empty(const struct gadget *g)\n"
                                              "{\n\treturn g->count == 0;\n}\n")
    res = index(root)
    assert res.exit_code == 0, res.stderr
    c = counts(res.stderr)
    assert (c["parsed"], c["unchanged"], c["functions"]) == (1, 2, 6)
    after = dict(query(db, "SELECT name, id FROM functions"))
    for name in GOOD_FUNCTIONS | {"third_fn"}:
        assert after[name] == ids_before[name]  # rows of untouched files are kept as they are
    assert_explainable(root, "gadget_is_empty", "lib/other.c")

    # One file deleted: its functions leave the index.
    third.unlink()
    res = index(root)
    assert res.exit_code == 0, res.stderr
    c = counts(res.stderr)
    assert (c["files"], c["parsed"], c["removed"], c["functions"]) == (2, 0, 1, 5)
    assert "third.c" not in file_rows(db)
    assert "third_fn" not in function_names(db)
    gone = cli("explain", "third_fn", "--db", db)
    assert gone.exit_code == 1
    assert "no function named 'third_fn'" in gone.stderr
    assert_good_files_indexed(root)
    assert_consistent(db)


TALLY_H = "struct tally { int hits; };\nvoid tally_bump(struct tally *t);\n"
TALLY_C = """\
#include "tally.h"

void tally_bump(struct tally *t)
{
	t->hits++;
}
"""
WORDS_C = """\
#include "tally.h"

int tally_words(const char *s)
{
	struct tally local = { 0 };

	while (*s++)
		tally_bump(&local);
	return local.hits;
}
"""


def test_incremental_analysis_follows_writes_through_arguments(tmp_path):
    """A callee that writes only through its parameter changes nothing for a caller passing a
    local -- until an edit makes it change a global, and again when the edit is undone; the
    verdicts after each incremental run equal those of a fresh index."""
    root = tmp_path / "tree"
    write(root / "tally.h", TALLY_H)
    lib = write(root / "tally.c", TALLY_C)
    words = write(root / "words.c", WORDS_C)
    assert index(root).exit_code == 0
    db = db_of(root)
    shapes = "SELECT f.name, a.shape FROM functions f JOIN analysis a ON a.function_id = f.id " \
             "ORDER BY f.name"
    assert query(db, shapes) == [("tally_bump", "action"), ("tally_words", "query")]

    def fresh() -> list:
        other = tmp_path / "fresh.db"
        other.unlink(missing_ok=True)
        assert cli("index", str(root), "--db", other, "-q").exit_code == 0
        return query(other, shapes)

    write(lib, TALLY_C.replace("\tt->hits++;", "\tt->hits++;\n\tbumps++;")
          .replace("void tally_bump", "int bumps;\n\nvoid tally_bump"))
    assert index(root).exit_code == 0
    assert query(db, shapes) == fresh() == [("tally_bump", "action"), ("tally_words", "action")]
    write(lib, TALLY_C)
    assert index(root).exit_code == 0
    assert query(db, shapes) == fresh() == [("tally_bump", "action"), ("tally_words", "query")]
    # the caller edited, the callee a fixed leaf of the re-analysis: its stored verdict still
    # says that it writes only through its parameter
    write(words, WORDS_C.replace("while (*s++)", "while (*s++ && local.hits < 100)"))
    assert index(root).exit_code == 0
    assert query(db, shapes) == fresh() == [("tally_bump", "action"), ("tally_words", "query")]
    assert_consistent(db)


def test_function_removed_from_an_edited_file_leaves_the_index(tmp_path):
    root = good_tree(tmp_path / "tree")
    assert index(root).exit_code == 0
    db = db_of(root)
    write(root / "good.c", GOOD_C.split("int widget_ensure_ready")[0])
    res = index(root)
    assert res.exit_code == 0, res.stderr
    assert counts(res.stderr)["parsed"] == 1
    assert "widget_ensure_ready" not in function_names(db)
    assert "widget_is_busy" in function_names(db)
    assert cli("explain", "widget_ensure_ready", "--db", db).exit_code == 1
    assert_consistent(db)


# --- 11. incompatible or foreign databases ----------------------------------------------------

def test_index_from_another_schema_version_is_refused(tmp_path):
    root = good_tree(tmp_path / "tree")
    assert index(root).exit_code == 0
    db = db_of(root)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE meta SET value = '999' WHERE key = 'schema_version'")
    conn.close()
    functions_before = query(db, "SELECT count(*) FROM functions")

    expected = (f"{db} was written by another version of misnomer (index schema 999, this "
                f"version reads schema {SCHEMA_VERSION}); delete it and run `misnomer index` "
                f"again")
    for args in (["index", root], ["explain", "widget_is_busy", "--db", db]):
        proc = run(args)
        assert proc.returncode == 2, (args, proc.stderr)
        assert proc.stdout == ""
        assert "Traceback" not in proc.stderr
        assert f"misnomer: {expected}" in flat(proc.stderr)
    # Nothing was touched.
    assert query(db, "SELECT value FROM meta WHERE key = 'schema_version'") == [("999",)]
    assert query(db, "SELECT count(*) FROM functions") == functions_before

    # Deleting it and indexing again, as told, works.
    db.unlink()
    assert index(root).exit_code == 0
    assert query(db, "SELECT value FROM meta WHERE key = 'schema_version'") == \
        [(str(SCHEMA_VERSION),)]
    assert_good_files_indexed(root)


@pytest.mark.parametrize("command", ["index", "check"])
def test_index_from_an_older_schema_version_is_rebuilt(tmp_path, command):
    root = good_tree(tmp_path / "tree")
    assert index(root).exit_code == 0
    db = db_of(root)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
        conn.execute("CREATE TABLE left_by_schema_1 (x INTEGER)")
    conn.close()

    wide = {**os.environ, "COLUMNS": "500"}  # the note names the database: keep it on one line
    proc = run([command, root], env=wide)
    assert proc.returncode == 0, proc.stderr  # (the good tree has no finding)
    assert "Traceback" not in proc.stderr
    assert (f"{db} was built by an older misnomer (index schema 1); building it again"
            in flat(proc.stderr))
    assert query(db, "SELECT value FROM meta WHERE key = 'schema_version'") == \
        [(str(SCHEMA_VERSION),)]
    assert query(db, "SELECT name FROM sqlite_master WHERE name = 'left_by_schema_1'") == []
    assert_good_files_indexed(root)
    assert_consistent(db)
    # built again once: the next run reads it as it is
    again = run([command, root], env=wide)
    assert "older misnomer" not in again.stderr


NOT_A_DATABASE = b"This is a text file, not an SQLite database; keep it exactly as it is.\n" * 20


def test_non_sqlite_db_for_index_is_a_clear_error(tmp_path):
    root = good_tree(tmp_path / "tree")
    notes = write(tmp_path / "notes.db", NOT_A_DATABASE)
    proc = run(["index", root, "--db", notes])
    assert notes.read_bytes() == NOT_A_DATABASE  # no data loss
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 2, proc.stderr
    assert "is not a usable SQLite database" in flat(proc.stderr)


def test_non_sqlite_db_for_explain_is_a_clear_error(tmp_path):
    notes = write(tmp_path / "notes.db", NOT_A_DATABASE)
    proc = run(["explain", "widget_is_busy", "--db", notes])
    assert notes.read_bytes() == NOT_A_DATABASE
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 2, proc.stderr
    assert "is not a usable SQLite database" in flat(proc.stderr)


def test_non_sqlite_db_is_never_overwritten(tmp_path):
    """Whatever the message, a file that is not an index is left as it was."""
    root = good_tree(tmp_path / "tree")
    notes = write(tmp_path / "notes.db", NOT_A_DATABASE)
    run(["index", root, "--db", notes])
    run(["explain", "widget_is_busy", "--db", notes])
    assert notes.read_bytes() == NOT_A_DATABASE
    assert not (tmp_path / "notes.db-wal").exists() or \
        (tmp_path / "notes.db-wal").stat().st_size == 0


def test_sqlite_database_of_another_program_is_refused_by_explain(tmp_path):
    other = tmp_path / "other.db"
    conn = sqlite3.connect(other)
    with conn:
        conn.execute("CREATE TABLE recipes (name TEXT, minutes INTEGER)")
        conn.execute("INSERT INTO recipes VALUES ('soup', 40)")
    conn.close()
    proc = run(["explain", "widget_is_busy", "--db", other])
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert f"{other} is not a misnomer index" in flat(proc.stderr)
    assert query(other, "SELECT * FROM recipes") == [("soup", 40)]


def test_corrupt_schema_version_is_a_clear_error(tmp_path):
    root = good_tree(tmp_path / "tree")
    assert index(root).exit_code == 0
    db = db_of(root)
    conn = sqlite3.connect(db)
    with conn:
        conn.execute("UPDATE meta SET value = 'banana' WHERE key = 'schema_version'")
    conn.close()
    proc = run(["explain", "widget_is_busy", "--db", db])
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 2, proc.stderr
    assert "delete it and run `misnomer index` again" in flat(proc.stderr)


# --- warnings as lines -------------------------------------------------------------------------

def test_each_warning_is_one_line_in_a_log(tmp_path):
    root = good_tree(tmp_path / "tree")
    deep = root / "drivers" / "some" / "rather" / "deep" / "directory" / "of" / "sources"
    write(deep / "firmware_blob_with_a_long_name.c", b"int x;\n\0\0")
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    proc = run(["index", root], env=env)
    assert proc.returncode == 0, proc.stderr
    rel = "drivers/some/rather/deep/directory/of/sources/firmware_blob_with_a_long_name.c"
    assert f"warning: {rel}: binary file (NUL byte at offset 7)" in proc.stderr.splitlines()
