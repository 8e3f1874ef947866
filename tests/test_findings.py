"""The findings data model: invariants, fingerprints for baselines, ordering."""

from __future__ import annotations

import dataclasses
import re

import pytest

from misnomer.findings import Evidence, Finding, Rule, fingerprint_of, message_key

RULE = Rule(
    id="MN101",
    symbol="conditional-action",
    name="Action verb on a function that acts only when needed",
    message="'{verb}' names an action, but {function}() acts only when {condition}",
    description="The verb promises an action every time; the body acts only on one branch.",
    bad_example="int foo_reload(struct foo *f)\n{\n\tif (f->root)\n\t\treturn 0;\n"
                "\treturn foo_load(f);\n}\n",
    good_example="int foo_ensure_root(struct foo *f)\n{\n\tif (f->root)\n\t\treturn 0;\n"
                 "\treturn foo_load(f);\n}\n",
    family="verbs",
)
OTHER_RULE = dataclasses.replace(RULE, id="MN102", symbol="query-mutates")


def make_finding(**changes: object) -> Finding:
    fields: dict[str, object] = dict(
        rule=RULE, function="foo_reload", file="drivers/foo/core.c", line=12, column=5,
        end_line=12, end_column=15,
        message="'reload' names an action, but foo_reload() acts only when f->root is NULL "
                "(3 of 4 'reload' functions act every time)",
        evidence=(Evidence("drivers/foo/core.c", 14, "if (f->root)"),
                  Evidence("drivers/foo/core.c", 16, "return foo_load(f);")),
        confidence=0.8,
    )
    fields.update(changes)
    return Finding(**fields)  # type: ignore[arg-type]


def test_records_are_frozen_and_slotted() -> None:
    finding = make_finding()
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.line = 3  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        RULE.id = "MN999"  # type: ignore[misc]
    for record in (RULE, finding, finding.evidence[0]):
        assert not hasattr(record, "__dict__")


@pytest.mark.parametrize("rule_id", ["mn101", "MN1", "MN1010", "E101", "MN-101", ""])
def test_rule_id_must_look_like_mn_and_three_digits(rule_id: str) -> None:
    with pytest.raises(ValueError, match="rule id"):
        dataclasses.replace(RULE, id=rule_id)


@pytest.mark.parametrize("symbol", ["ConditionalAction", "conditional_action", "-action",
                                    "action-", "conditional--action", ""])
def test_rule_symbol_must_be_kebab_case(symbol: str) -> None:
    with pytest.raises(ValueError, match="kebab-case"):
        dataclasses.replace(RULE, symbol=symbol)


@pytest.mark.parametrize("path", ["/abs/core.c", "drivers\\foo\\core.c", "C:/src/core.c", ""])
def test_paths_must_be_root_relative_with_slashes(path: str) -> None:
    with pytest.raises(ValueError, match="relative to the indexed root"):
        make_finding(file=path)
    with pytest.raises(ValueError, match="relative to the indexed root"):
        Evidence(path, 1, "x")


@pytest.mark.parametrize("changes, match", [
    ({"line": 0}, "1-based"),
    ({"column": 0}, "1-based"),
    ({"end_line": 11}, "ends \\(line 11\\) before it starts"),
    ({"end_column": 4}, "ends \\(column 4\\) before it starts"),
    ({"end_line": 0, "end_column": 7}, "end column but no end line"),
    ({"end_column": -1}, "0 \\(unknown\\) or 1-based"),
    ({"confidence": 1.5}, "within 0..1"),
    ({"confidence": -0.1}, "within 0..1"),
])
def test_finding_positions_and_confidence_are_checked(changes: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        make_finding(**changes)


def test_finding_accepts_unknown_end_and_a_zero_width_region() -> None:
    assert make_finding(end_line=0, end_column=0).end_line == 0
    assert make_finding(end_column=5).end_column == 5  # zero width: ends where it starts
    assert make_finding(end_line=20, end_column=2).end_column == 2  # later line, smaller column


def test_evidence_must_be_a_tuple_and_its_lines_1_based() -> None:
    with pytest.raises(TypeError, match="tuple"):
        make_finding(evidence=[Evidence("a.c", 1, "x")])
    with pytest.raises(ValueError, match="evidence line"):
        Evidence("a.c", 0, "x")


def test_message_key_drops_numbers_and_extra_whitespace() -> None:
    assert message_key("  acts only when f->root is NULL (3 of 4)\n at line 120 ") == \
        "acts only when f->root is NULL (# of #) at line #"
    assert message_key("ext4_reload") == "ext#_reload"


def test_fingerprint_is_32_hex_digits_and_matches_fingerprint_of() -> None:
    finding = make_finding()
    assert re.fullmatch(r"[0-9a-f]{32}", finding.fingerprint())
    assert finding.fingerprint() == fingerprint_of(finding.rule.id, finding.file,
                                                   finding.function, finding.message)


def test_fingerprint_survives_a_line_move_and_changing_counts() -> None:
    original = make_finding()
    moved = make_finding(
        line=40, column=1, end_line=41, end_column=3,
        message="'reload' names an action, but foo_reload() acts only when f->root is NULL "
                "(12 of 15 'reload'  functions act every time)",
        evidence=(Evidence("drivers/foo/core.c", 44, "if (f->root)"),),
        confidence=0.55,
    )
    assert moved.fingerprint() == original.fingerprint()


@pytest.mark.parametrize("changes", [
    {"rule": OTHER_RULE},
    {"file": "drivers/foo/other.c"},
    {"function": "foo_reload_all"},
    {"message": "'reload' names an action, but foo_reload() acts only when f->busy is set "
                "(3 of 4 'reload' functions act every time)"},
])
def test_fingerprint_changes_with_rule_file_function_or_wording(changes: dict) -> None:
    assert make_finding(**changes).fingerprint() != make_finding().fingerprint()


def test_fingerprint_fields_are_separated() -> None:
    # "a" + "bc" must not collide with "ab" + "c".
    assert fingerprint_of("MN101", "a", "bc", "m") != fingerprint_of("MN101", "ab", "c", "m")


def test_sort_key_is_file_line_column_rule() -> None:
    assert make_finding().sort_key() == ("drivers/foo/core.c", 12, 5, "MN101")
    findings = [
        make_finding(file="b.c", line=1),
        make_finding(rule=OTHER_RULE, file="a.c", line=9, column=5),
        make_finding(file="a.c", line=9, column=5),
        make_finding(file="a.c", line=9, column=2, end_column=0),
        make_finding(file="a.c", line=10, column=1, end_column=0),
    ]
    assert [f.sort_key() for f in sorted(findings, key=Finding.sort_key)] == [
        ("a.c", 9, 2, "MN101"),
        ("a.c", 9, 5, "MN101"),
        ("a.c", 9, 5, "MN102"),
        ("a.c", 10, 1, "MN101"),
        ("b.c", 1, 5, "MN101"),
    ]
