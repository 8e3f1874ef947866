"""`misnomer lexicon`: what each verb means in this tree, on a fixture with a known distribution.

tests/fixtures/lexicon holds 15 functions: six ``*_ensure_*`` (four act only when needed, two
only check), five ``*_get_*`` getters and four ``*_reload`` functions that act every time.  The
reloads call the ensure functions a known number of times each, so the order of the examples
(most-called first, then by name) is known too.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from helpers import FIXTURES, index_tree, run_cli
from misnomer.lexicon import EXAMPLES, LEXICON_VERSION
from test_rules_functional import Siblings, write_siblings

LEXICON_FIXTURE = FIXTURES / "lexicon"

ENSURE_ENTRY = {
    "version": 1,
    "verb": "ensure",
    "functions": 6,
    "ambiguous": True,
    "senses": [
        {"shape": "ensure", "count": 4, "share": 0.667, "examples": [
            {"name": "ring_ensure_space", "file": "ensure.c", "line": 28, "callers": 3},
            {"name": "tree_ensure_root", "file": "ensure.c", "line": 12, "callers": 2},
            {"name": "pool_ensure_buf", "file": "ensure.c", "line": 4, "callers": 1},
            {"name": "slab_ensure_pages", "file": "ensure.c", "line": 20, "callers": 0},
        ]},
        {"shape": "check", "count": 2, "share": 0.333, "examples": [
            {"name": "port_ensure_unique", "file": "ensure.c", "line": 50, "callers": 1},
            {"name": "dev_ensure_stopped", "file": "ensure.c", "line": 41, "callers": 0},
        ]},
    ],
    # allocates: the four that act; frees: ring_ensure_space's kfree; logs: dev_ensure_stopped
    "effects": {"allocates": 4, "can_fail": 6, "frees": 1, "logs": 1, "mutates": 4},
}

ENSURE_TEXT = """\
ensure: 6 functions  (ambiguous: it means different things in this tree)
  ensure       4   66.7%
      ring_ensure_space  ensure.c:28  (3 callers)
      tree_ensure_root  ensure.c:12  (2 callers)
      pool_ensure_buf  ensure.c:4  (1 caller)
      slab_ensure_pages  ensure.c:20  (0 callers)
  check        2   33.3%
      port_ensure_unique  ensure.c:50  (1 caller)
      dev_ensure_stopped  ensure.c:41  (0 callers)
  effects: allocates 4, can_fail 6, frees 1, logs 1, mutates 4
"""

OVERVIEW_TEXT = """\
3 verbs over 15 functions (0 prefixes learnt)

top verbs:
  ensure                 6  mostly ensure (67%)  ambiguous
  get                    5  mostly query (100%)
  reload                 4  mostly action (100%)

ambiguous verbs:
  ensure                 6  ensure 4, check 2
"""


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("lexicon") / "tree"
    shutil.copytree(LEXICON_FIXTURE, root)
    return index_tree(root)


def lexicon(db: Path, *args: str):
    return run_cli("lexicon", *args, "--db", str(db))


def lexicon_json(db: Path, *args: str) -> dict:
    result = lexicon(db, *args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# --- one verb ------------------------------------------------------------------------------------

def test_ensure_entry_is_exactly_the_known_distribution(db):
    assert lexicon_json(db, "ensure") == ENSURE_ENTRY


def test_ensure_entry_is_versioned_and_ambiguous(db):
    entry = lexicon_json(db, "ensure")
    assert entry["version"] == LEXICON_VERSION == 1
    assert entry["ambiguous"] is True
    assert {s["shape"]: (s["count"], s["share"]) for s in entry["senses"]} == {
        "ensure": (4, 0.667), "check": (2, 0.333)}


def test_examples_are_most_called_first_not_alphabetical(db):
    senses = {s["shape"]: s["examples"] for s in lexicon_json(db, "ensure")["senses"]}
    check = [e["name"] for e in senses["check"]]
    assert check == ["port_ensure_unique", "dev_ensure_stopped"]
    assert check != sorted(check)
    callers = [e["callers"] for e in senses["ensure"]]
    assert callers == sorted(callers, reverse=True) == [3, 2, 1, 0]


def test_examples_with_equal_callers_are_in_name_order(db):
    entry = lexicon_json(db, "get")
    assert entry["ambiguous"] is False
    assert [(s["shape"], s["count"], s["share"]) for s in entry["senses"]] == [("query", 5, 1.0)]
    assert [e["name"] for e in entry["senses"][0]["examples"]] == [
        "dev_get_id", "pool_get_size", "ring_get_head", "slab_get_order", "tree_get_depth"]
    assert entry["effects"] == {}


def test_examples_are_capped_per_sense(tmp_path):
    """30 generated read-only *_count functions, none called: five examples, by name."""
    root = tmp_path / "tree"
    write_siblings(root, [Siblings("count", "query", 30)])
    entry = lexicon_json(index_tree(root), "count")
    assert (entry["functions"], entry["ambiguous"]) == (30, False)
    assert EXAMPLES == 5
    assert [e["name"] for e in entry["senses"][0]["examples"]] == [
        "unitaa_count", "unitab_count", "unitac_count", "unitad_count", "unitae_count"]


def test_reload_entry(db):
    entry = lexicon_json(db, "reload")
    assert (entry["functions"], entry["ambiguous"]) == (4, False)
    assert [(s["shape"], s["count"]) for s in entry["senses"]] == [("action", 4)]
    assert entry["effects"]["mutates"] == 4


def test_entry_text(db):
    result = lexicon(db, "ensure")
    assert result.exit_code == 0
    assert result.stdout == ENSURE_TEXT


def test_verb_is_case_insensitive(db):
    assert lexicon_json(db, "ENSURE") == ENSURE_ENTRY


def test_entry_is_deterministic_across_runs_and_copies(db, tmp_path):
    first = lexicon(db, "ensure", "--format", "json").stdout
    assert lexicon(db, "ensure", "--format", "json").stdout == first
    other = tmp_path / "elsewhere"
    shutil.copytree(LEXICON_FIXTURE, other)
    other_db = index_tree(other)
    assert lexicon(other_db, "ensure", "--format", "json").stdout == first
    assert lexicon(other_db, "--format", "json").stdout == lexicon(db, "--format", "json").stdout


# --- the overview --------------------------------------------------------------------------------

def test_overview_json(db):
    data = lexicon_json(db)
    assert data == {
        "version": 1,
        "verbs": 3,
        "functions": 15,
        "top": [
            {"verb": "ensure", "functions": 6, "dominant": "ensure", "share": 0.667,
             "ambiguous": True},
            {"verb": "get", "functions": 5, "dominant": "query", "share": 1.0,
             "ambiguous": False},
            {"verb": "reload", "functions": 4, "dominant": "action", "share": 1.0,
             "ambiguous": False},
        ],
        "ambiguous": [{"verb": "ensure", "functions": 6, "senses": {"ensure": 4, "check": 2}}],
        "prefixes_learnt": 0,
        "tree_verbs": [],
    }


def test_overview_text(db):
    result = lexicon(db)
    assert result.exit_code == 0
    assert result.stdout == OVERVIEW_TEXT


# --- unknown verbs -------------------------------------------------------------------------------

def test_unknown_verb_suggests_close_ones(db):
    result = lexicon(db, "ensur")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == ("misnomer: no function name in this tree uses the verb 'ensur'; "
                             "did you mean: ensure?\n")


def test_unknown_verb_without_close_ones(db):
    result = lexicon(db, "xyzzy", "--format", "json")
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == "misnomer: no function name in this tree uses the verb 'xyzzy'\n"


def test_lexicon_without_an_index_is_an_error(tmp_path):
    result = run_cli("lexicon", "ensure", "--db", str(tmp_path / "none.db"))
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.startswith("misnomer: ")


# --- the lexicon follows the tree and the configuration ------------------------------------------

def test_lexicon_follows_an_edit(tmp_path):
    """The lexicon is cached in the index; an edit that changes a verb's meaning shows."""
    root = tmp_path / "tree"
    shutil.copytree(LEXICON_FIXTURE, root)
    db = index_tree(root)
    assert lexicon_json(db, "ensure")["senses"][0]["count"] == 4
    ensure_c = root / "ensure.c"
    text = ensure_c.read_text()
    acting = ("\tif (s->pages)\n\t\treturn 0;\n\ts->pages = kzalloc(4096, GFP_KERNEL);\n"
              "\treturn s->pages ? 0 : -ENOMEM;\n")
    assert acting in text
    ensure_c.write_text(text.replace(acting, "\treturn s->pages ? 0 : -ENOMEM;\n"))
    index_tree(root)
    entry = lexicon_json(db, "ensure")
    assert {s["shape"]: s["count"] for s in entry["senses"]} == {"ensure": 3, "check": 2,
                                                                  "query": 1}


def test_configured_verbs_join_the_lexicon(tmp_path):
    root = tmp_path / "tree"
    shutil.copytree(LEXICON_FIXTURE, root)
    (root / "frob.c").write_text("#include \"types.h\"\n\nvoid pool_frob(struct pool *p)\n{\n"
                                 "\tp->gen++;\n}\n")
    db = index_tree(root)
    assert lexicon(db, "frob").exit_code == 1
    (root / ".misnomer.toml").write_text('verbs = ["frob"]\n')
    entry = lexicon_json(db, "frob")
    assert (entry["functions"], [(s["shape"], s["count"]) for s in entry["senses"]]) == (
        1, [("action", 1)])
    assert lexicon_json(db)["verbs"] == 4
