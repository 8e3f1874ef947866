"""Docs as tests: every rule's documentation is complete, and its examples do what they say.

Each rule's ``bad_example`` is indexed as a tiny tree on its own and must be reported with that
rule (and nothing else); its ``good_example`` must not be reported at all.

MN104, MN105 and MN106 judge a verb by its meaning among the tree's *other* functions, and stay
silent until the verb has enough of them (30 for MN104/MN105, 100 for MN106): in a tree of one
function they can never speak.  For those, the example is indexed next to generated functions
that give the verb the meaning the rule's description assumes (see
:data:`test_rules_functional.SURROUNDINGS` and :class:`test_rules_functional.Siblings`):

- MN104 (``ring_count``): 30 ``*_count`` functions that only read;
- MN105 (``fan_update``): 30 ``*_update`` functions that change state;
- MN106 (``buf_alloc``): 100 ``*_alloc`` functions that allocate every time, and 20
  ``*_ensure_data`` functions that allocate only when needed (the verb MN106 then suggests).

MN105 and MN106 are off by default: their examples are checked with the rule selected on top of
the default rules (what ``select = [...]`` in a configuration does for a user who opts in).
"""

from __future__ import annotations

import json
import re
import string
from pathlib import Path

import pytest

from helpers import run_cli
from misnomer.findings import Rule
from misnomer.rules import ALL_RULES, BY_ID, BY_SYMBOL
from misnomer.rules.shapes import TREE_MEANING_MIN, UNCONVENTIONAL_MIN
from test_rules_functional import Siblings, write_siblings

SURROUNDINGS: dict[str, list[Siblings]] = {
    "MN104": [Siblings("count", "query", TREE_MEANING_MIN)],
    "MN105": [Siblings("update", "action", TREE_MEANING_MIN)],
    "MN106": [Siblings("alloc", "allocating", UNCONVENTIONAL_MIN),
              Siblings("ensure", "ensure", 20, with_object=True)],
}

# rule id -> why its bad example, alone in a tree, is not reported (the example is right).
BAD_EXAMPLE_NOT_REPORTED: dict[str, str] = {}

FAMILY_BLOCK = {"shape": "1", "promise": "2", "convention": "3", "namesake": "4"}
SYMBOL = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)+")


def selection(rule: Rule) -> list[str]:
    """--select arguments that run ``rule``: none for a rule on by default, else every rule on
    by default and this one."""
    if rule.default:
        return []
    return [arg for r in ALL_RULES if r.default or r is rule for arg in ("--select", r.id)]


def check_example(root: Path, rule: Rule, example: str) -> dict:
    """Index ``example`` as ``root/example.c`` (plus the rule's surroundings) and check it."""
    root.mkdir(parents=True)
    (root / "example.c").write_text(example)
    write_siblings(root, SURROUNDINGS.get(rule.id, []))
    result = run_cli("check", str(root), "-j", "1", "-q", "--format", "json", *selection(rule))
    report = json.loads(result.stdout)
    assert result.exit_code == (1 if report["findings"] else 0)
    return report


def _rule_param(rule: Rule, known: dict[str, str]):
    marks = [pytest.mark.xfail(strict=True, reason=known[rule.id])] if rule.id in known else []
    return pytest.param(rule, marks=marks, id=f"{rule.id}-{rule.symbol}")


# --- the examples run ----------------------------------------------------------------------------

@pytest.mark.parametrize("rule", [_rule_param(r, BAD_EXAMPLE_NOT_REPORTED) for r in ALL_RULES])
def test_bad_example_is_reported_with_its_rule(tmp_path, rule):
    report = check_example(tmp_path / "bad", rule, rule.bad_example)
    assert [(f["rule"], f["file"]) for f in report["findings"]] == [(rule.id, "example.c")]


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: f"{r.id}-{r.symbol}")
def test_good_example_is_not_reported(tmp_path, rule):
    report = check_example(tmp_path / "good", rule, rule.good_example)
    assert report["findings"] == []


def test_return_convention_example_is_reported_once_its_prefix_is_learnt(tmp_path):
    """Why MN301's example needs company: three more port_ functions make `port_` a prefix,
    and port_register then parses as prefix_verb, which MN301 judges."""
    rule = BY_ID["MN301"]
    company = "".join(f"\nint port_{w}(void)\n{{\n\treturn 0;\n}}\n"
                      for w in ("speed", "mtu", "duplex"))
    report = check_example(tmp_path / "bad", rule, rule.bad_example + company)
    assert [(f["rule"], f["function"]) for f in report["findings"]] == [
        ("MN301", "port_register")]


def test_surroundings_alone_are_clean(tmp_path):
    """The generated functions give no finding of their own, so the findings above are the
    examples'."""
    root = tmp_path / "siblings"
    write_siblings(root, [g for groups in SURROUNDINGS.values() for g in groups])
    result = run_cli("check", str(root), "-j", "1", "-q", "--format", "json", "--select", "ALL")
    assert json.loads(result.stdout)["findings"] == []
    assert result.exit_code == 0


# --- the documentation is complete ----------------------------------------------------------------

def test_rule_ids_are_unique_and_well_formed():
    ids = [r.id for r in ALL_RULES]
    assert len(ids) == len(set(ids)) == 9
    assert all(re.fullmatch(r"MN[1-9]\d{2}", i) for i in ids)
    assert ids == sorted(ids)
    assert BY_ID == {r.id: r for r in ALL_RULES}


def test_rule_symbols_are_unique_kebab_case():
    symbols = [r.symbol for r in ALL_RULES]
    assert len(symbols) == len(set(symbols))
    assert all(SYMBOL.fullmatch(s) for s in symbols), symbols
    assert BY_SYMBOL == {r.symbol: r for r in ALL_RULES}
    assert not set(symbols) & set(BY_ID)


def test_rule_ids_come_in_blocks_per_family():
    for rule in ALL_RULES:
        assert rule.family in FAMILY_BLOCK, rule.id
        assert rule.id[2] == FAMILY_BLOCK[rule.family], rule.id


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.id)
def test_rule_has_a_message_template_naming_the_function(rule):
    fields = {f for _, f, _, _ in string.Formatter().parse(rule.message) if f}
    assert "name" in fields
    assert len(rule.message) > 20
    # every placeholder is a plain field: formatting with all of them leaves no brace behind
    filled = rule.message.format(**{f: "X" for f in fields})
    assert "{" not in filled and "}" not in filled


@pytest.mark.parametrize("rule", ALL_RULES, ids=lambda r: r.id)
def test_rule_has_a_description_and_two_different_examples(rule):
    assert rule.name.strip()
    assert len(rule.description) > 80 and rule.description.rstrip().endswith(".")
    assert rule.bad_example.strip() and rule.good_example.strip()
    assert rule.bad_example != rule.good_example
    for example in (rule.bad_example, rule.good_example):
        assert example.count("{") == example.count("}") >= 1  # at least one whole definition


def test_rules_off_by_default():
    assert [r.id for r in ALL_RULES if not r.default] == ["MN105", "MN106", "MN201", "MN301"]
    for rule in ALL_RULES:
        assert ("--select" in rule.description) == (not rule.default), rule.id


def test_rule_catalogue_matches_the_expected_table():
    assert [(r.id, r.symbol) for r in ALL_RULES] == [
        ("MN101", "conditional-action"),
        ("MN102", "predicate-with-effects"),
        ("MN103", "check-that-acts"),
        ("MN104", "query-with-effects"),
        ("MN105", "action-without-effect"),
        ("MN106", "unconventional-verb"),
        ("MN201", "verb-effect-mismatch"),
        ("MN301", "return-convention"),
        ("MN401", "namesake-mismatch"),
    ]
