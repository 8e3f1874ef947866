"""The command line as a contract: help, version, exit statuses, and streams (stdout carries
only results; progress, warnings and summaries go to stderr)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version as dist_version
from pathlib import Path

import pytest
from click.testing import CliRunner

import misnomer
from misnomer.cli import main

TREE = {
    "core/ref.c": """\
struct obj {
	int refcount;
	int dead;
};

int obj_is_dead(const struct obj *o)
{
	return o->dead;
}

void obj_get_ref(struct obj *o)
{
	o->refcount++;
}

int obj_ensure_alive(struct obj *o)
{
	if (!o->dead)
		return 0;
	o->dead = 0;
	return 0;
}
""",
    "core/blob.c": "int blob_fn(void)\n{\n\treturn 0;\n}\n\0\0binary tail\n",
}

TIMEOUT = 300  # safety net only


def run(*args, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """`python -m misnomer ARGS` with real, separate stdout and stderr."""
    return subprocess.run([sys.executable, "-m", "misnomer", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=TIMEOUT)


def cli(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def make_tree(root: Path) -> Path:
    for rel, text in TREE.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture(scope="module")
def tree(tmp_path_factory) -> Path:
    root = make_tree(tmp_path_factory.mktemp("cli") / "tree")
    res = cli("index", root, "-j", "1", "-q")
    assert res.exit_code == 0, res.stderr
    return root


@pytest.fixture(scope="module")
def db(tree) -> Path:
    return tree / ".misnomer" / "index.db"


# --- help and version ----------------------------------------------------------------------------

@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_main_help(flag):
    res = cli(flag)
    assert res.exit_code == 0
    assert res.stdout.startswith("Usage: ")
    assert "Commands:" in res.stdout
    for command in ("index", "explain"):
        assert f"  {command} " in res.stdout
    assert "--version" in res.stdout
    assert res.stderr == ""


@pytest.mark.parametrize("command,options", [
    ("index", ["--db", "--jobs", "--exclude", "--max-file-size", "--wait", "--quiet",
               "--all-macros"]),
    ("explain", ["--db", "--format"]),
])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_every_command_has_help(command, options, flag):
    res = cli(command, flag)
    assert res.exit_code == 0
    assert res.stdout.startswith(f"Usage: main {command} ") or \
        res.stdout.startswith(f"Usage: misnomer {command} ")
    body = res.stdout.split("Options:")[0]
    assert len(body.strip().splitlines()) >= 3, "a sentence or more about the command"
    for option in options:
        assert option in res.stdout, option


def test_every_registered_command_has_a_help_text():
    for name, command in main.commands.items():
        assert command.help and command.help.strip(), name
        for param in command.params:
            if param.param_type_name == "option":
                assert param.help, f"{name} {param.opts}"


def test_help_of_the_installed_command():
    proc = run("index", "--help")
    assert proc.returncode == 0
    assert "Usage:" in proc.stdout and "--max-file-size" in proc.stdout
    assert proc.stderr == ""


def test_version():
    proc = run("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"misnomer, version {misnomer.__version__}"
    assert misnomer.__version__ == dist_version("misnomer")
    assert proc.stderr == ""


# --- usage errors ------------------------------------------------------------------------------

@pytest.mark.parametrize("args,needle", [
    (["frobnicate"], "No such command"),
    (["index", "/nonexistent/path/for/misnomer"], "does not exist"),
    (["index", "--jobs", "-3", "."], "--jobs"),
    (["index", "--max-file-size", "0", "."], "--max-file-size"),
    (["index", "--wait", "-1", "."], "--wait"),
    (["explain"], "Missing argument 'NAME'"),
    (["explain", "obj_is_dead", "--format", "xml"], "--format"),
])
def test_usage_errors_exit_2(args, needle, tmp_path):
    res = cli(*args)
    assert res.exit_code == 2
    assert res.stdout == ""
    assert needle in res.stderr
    assert not (tmp_path / ".misnomer").exists()


def test_index_of_a_file_is_a_usage_error(tmp_path):
    f = tmp_path / "one.c"
    f.write_text("int one(void)\n{\n\treturn 1;\n}\n")
    res = cli("index", f)
    assert res.exit_code == 2
    assert "is a file" in res.stderr


# --- streams -------------------------------------------------------------------------------------

def test_index_writes_nothing_on_stdout(tmp_path):
    root = make_tree(tmp_path / "tree")
    proc = run("index", root, "-j", "1")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert lines[-1].startswith("indexed: 2 files, 3 functions, 1 parsed, 0 unchanged, "
                                "1 skipped (1 binary file)")
    assert lines[-1].endswith(" s")
    assert "warning: core/blob.c: binary file (NUL byte at offset " in proc.stderr
    assert (root / ".misnomer" / "index.db").is_file()


def test_quiet_index_is_silent_but_keeps_warnings_out_of_stdout(tmp_path):
    root = make_tree(tmp_path / "tree")
    proc = run("index", root, "-j", "1", "-q")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "indexed:" not in proc.stderr
    assert "Traceback" not in proc.stderr


def test_index_defaults_to_the_current_directory(tmp_path):
    root = make_tree(tmp_path / "tree")
    proc = run("index", "-j", "1", cwd=root)
    assert proc.returncode == 0, proc.stderr
    assert (root / ".misnomer" / "index.db").is_file()
    # explain finds the index from a subdirectory.
    proc = run("explain", "obj_is_dead", "--format", "json", cwd=root / "core")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["definitions"][0]["file"] == "core/ref.c"


def test_index_with_db_elsewhere(tmp_path):
    root = make_tree(tmp_path / "tree")
    db = tmp_path / "elsewhere" / "idx.db"
    proc = run("index", root, "--db", db, "-j", "1")
    assert proc.returncode == 0, proc.stderr
    assert db.is_file()
    assert not (root / ".misnomer" / "index.db").exists()
    proc = run("explain", "obj_get_ref", "--db", db)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("core/ref.c:11:6: obj_get_ref\n")


def test_explain_json_is_the_whole_stdout(db):
    proc = run("explain", "obj_ensure_alive", "--db", db, "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    data = json.loads(proc.stdout)  # nothing else on stdout
    assert data["version"] == 1
    assert data["name"] == "obj_ensure_alive"
    [d] = data["definitions"]
    assert d["file"] == "core/ref.c" and d["line"] == 16
    assert d["shape"] in {"query", "check", "ensure", "action", "empty"}
    assert set(d["effects"]) == {"mutates", "allocates", "frees", "locks", "logs", "can_fail",
                                 "out_params"}
    assert all(isinstance(e["value"], bool) for e in d["effects"].values())


def test_explain_text(db):
    proc = run("explain", "obj_is_dead", "--db", db)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert lines[0] == "core/ref.c:6:5: obj_is_dead"
    assert lines[1].strip() == "int obj_is_dead(const struct obj *o)"
    assert any(ln.startswith("  shape: ") for ln in lines)
    assert proc.stdout.endswith("\n")


# --- unknown names and missing indexes ---------------------------------------------------------

def test_explain_unknown_name_suggests_close_matches(db):
    proc = run("explain", "obj_get_refs", "--db", db)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == (f"misnomer: no function named 'obj_get_refs' in {db}; "
                           f"did you mean: obj_get_ref?\n")


def test_explain_unknown_name_json_keeps_stdout_empty(db):
    res = cli("explain", "obj_is_ded", "--db", db, "--format", "json")
    assert res.exit_code == 1
    assert res.stdout == ""
    assert "did you mean: obj_is_dead" in res.stderr


def test_explain_unknown_name_without_close_matches(db):
    res = cli("explain", "zzqx", "--db", db)
    assert res.exit_code == 1
    assert res.stdout == ""
    assert res.stderr == f"misnomer: no function named 'zzqx' in {db}\n"
    assert "did you mean" not in res.stderr


def test_explain_a_function_of_a_skipped_file_is_unknown(db):
    res = cli("explain", "blob_fn", "--db", db)
    assert res.exit_code == 1
    assert "no function named 'blob_fn'" in res.stderr


def test_missing_index_named_with_db(tmp_path):
    missing = tmp_path / "nowhere" / "index.db"
    proc = run("explain", "obj_is_dead", "--db", missing)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr == (f"misnomer: no index at {missing}; run `misnomer index PATH` first "
                           f"(or name one with --db)\n")
    assert not missing.exists() and not missing.parent.exists()


def test_missing_index_in_the_current_directory(tmp_path):
    here = tmp_path / "empty"
    here.mkdir()
    if any((d / ".misnomer" / "index.db").exists() for d in here.resolve().parents):
        pytest.skip("an index in a parent directory of the temporary directory")
    proc = run("explain", "obj_is_dead", cwd=here)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "no index at" in proc.stderr
    assert "run `misnomer index PATH` first" in proc.stderr
    assert not (here / ".misnomer").exists()


def test_explain_works_while_the_tree_changes(tmp_path):
    """A file edited after indexing: explain still answers, and says the file changed."""
    root = make_tree(tmp_path / "tree")
    assert cli("index", root, "-j", "1", "-q").exit_code == 0
    ref = root / "core" / "ref.c"
    ref.write_text("/* a new first line */\n" + ref.read_text())
    res = cli("explain", "obj_is_dead", "--db", root / ".misnomer" / "index.db",
              "--format", "json")
    assert res.exit_code == 0, res.stderr
    [d] = json.loads(res.stdout)["definitions"]
    assert d["stale"] is True
    assert d["line"] == 7


def test_exit_status_constants():
    from misnomer import cli as cli_module
    assert (cli_module.EXIT_OK, cli_module.EXIT_FINDINGS, cli_module.EXIT_ERROR,
            cli_module.EXIT_INTERRUPTED) == (0, 1, 2, 130)


def test_db_under_a_regular_file_is_a_clear_error(tmp_path):
    root = make_tree(tmp_path / "tree")
    plain = tmp_path / "notes.txt"
    plain.write_text("keep me\n")
    proc = run("index", root, "--db", plain / "index.db")
    assert plain.read_text() == "keep me\n"
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 2, proc.stderr
    assert str(plain) in proc.stderr


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_index_into_an_unwritable_place_is_a_clear_error(tmp_path):
    root = make_tree(tmp_path / "tree")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        proc = run("index", root, "--db", locked / "sub" / "index.db")
    finally:
        locked.chmod(0o755)
    assert "Traceback" not in proc.stderr
    assert proc.returncode == 2, proc.stderr


# --- rules ---------------------------------------------------------------------------------------

def test_rules_lists_every_rule_once_with_its_default():
    from misnomer.rules import ALL_RULES

    res = cli("rules")
    assert res.exit_code == 0
    listed = [line.split()[:3] for line in res.stdout.splitlines() if line.startswith("MN")]
    assert listed == [[r.id, "on" if r.default else "off", r.symbol] for r in ALL_RULES]
    assert all(len(line) <= 100 for line in res.stdout.splitlines())


@pytest.mark.parametrize("selector", ["MN201", "mn201", "verb-effect-mismatch"])
def test_rules_explains_one_rule_with_both_examples(selector):
    from misnomer.rules import BY_ID

    rule = BY_ID["MN201"]
    res = cli("rules", selector)
    assert res.exit_code == 0
    assert res.stdout.startswith("MN201 verb-effect-mismatch (promise rule; runs only when "
                                 "selected)")
    reported, not_reported = res.stdout.split("Reported:")[1].split("Not reported:")
    assert "    " + rule.bad_example.splitlines()[0] in reported
    assert "    " + rule.good_example.splitlines()[0] in not_reported
    assert f"Message: {rule.message}" in res.stdout


def test_rules_says_which_rules_run_only_when_selected():
    res = cli("rules", "MN106")
    assert res.exit_code == 0
    assert "(shape rule; runs only when selected)" in res.stdout.splitlines()[0]


def test_an_unknown_rule_is_a_usage_error():
    res = cli("rules", "MN999")
    assert res.exit_code == 2
    assert res.stdout == ""
    assert "no rule 'MN999'" in res.stderr


def test_a_reader_that_stops_early_is_not_an_error():
    """`misnomer rules MN101 | head -1`: the pipe closes while misnomer still writes."""
    import subprocess
    import sys

    # the reader (`true`) is gone before the interpreter has even started
    script = f"{sys.executable} -c 'from misnomer.cli import main; main()' rules MN101 | true"
    done = subprocess.run(["bash", "-o", "pipefail", "-c", script], capture_output=True,
                          text=True, timeout=120)
    assert done.stderr == ""
    assert done.returncode == 0
