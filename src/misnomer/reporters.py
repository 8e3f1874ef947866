"""Reporters: findings out as text, versioned JSON or SARIF 2.1.0.

Each reporter is a small class with one method, ``render(findings, rules, root, tool_version)``,
returning the whole document as a string (the CLI writes it).  Output is deterministic: findings
are sorted by file, line, column and rule, and nothing depends on the clock, the environment or
the order the rules ran in.  ``rules`` is the catalogue of rules that ran; these reporters take
each finding's rule from the finding itself and accept ``rules`` so that every reporter has the
same signature.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar, Protocol
from urllib.parse import quote

from misnomer.findings import Finding, Rule

JSON_VERSION = 1
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_VERSION = "2.1.0"
SRCROOT = "%SRCROOT%"


class Reporter(Protocol):
    def render(self, findings: list[Finding], rules: list[Rule], root: str,
               tool_version: str) -> str: ...


def _ordered(findings: list[Finding]) -> list[Finding]:
    # sort_key() ties (same rule at the same spot) are broken by the rest of the finding.
    return sorted(findings, key=lambda f: (f.sort_key(), f.function, f.message))


def _one_line(text: str) -> str:
    return " ".join(text.splitlines())


class TextReporter:
    """ruff's concise format: ``path:line:col: MN101 conditional-action message``."""

    def render(self, findings: list[Finding], rules: list[Rule], root: str,
               tool_version: str) -> str:
        return "".join(f"{f.file}:{f.line}:{f.column}: {f.rule.id} {f.rule.symbol} "
                       f"{_one_line(f.message)}\n" for f in _ordered(findings))


def render_statistics(findings: list[Finding]) -> str:
    """One line per rule, ``count  MN101  conditional-action``, most frequent first."""
    counts = Counter(f.rule.id for f in findings)
    symbols = {f.rule.id: f.rule.symbol for f in findings}
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    if not rows:
        return ""
    count_width = max(len(str(count)) for _, count in rows)
    id_width = max(len(rule_id) for rule_id, _ in rows)
    return "".join(f"{count:>{count_width}}  {rule_id:<{id_width}}  {symbols[rule_id]}\n"
                   for rule_id, count in rows)


class JsonReporter:
    """A versioned contract: bump ``JSON_VERSION`` when a key changes meaning or goes away."""

    def render(self, findings: list[Finding], rules: list[Rule], root: str,
               tool_version: str) -> str:
        document = {
            "version": JSON_VERSION,
            "tool": {"name": "misnomer", "version": tool_version},
            "findings": [_finding_json(f) for f in _ordered(findings)],
        }
        return json.dumps(document, indent=2) + "\n"


def _finding_json(finding: Finding) -> dict[str, Any]:
    return {
        "rule": finding.rule.id,
        "symbol": finding.rule.symbol,
        "function": finding.function,
        "file": finding.file,
        "line": finding.line,
        "column": finding.column,
        "end_line": finding.end_line,
        "end_column": finding.end_column,
        "message": finding.message,
        "evidence": [{"file": e.file, "line": e.line, "text": e.text} for e in finding.evidence],
        "confidence": finding.confidence,
    }


def load_json(text: str) -> list[dict[str, Any]]:
    """The findings of a ``JsonReporter`` document, as dicts; refuses other versions."""
    document = json.loads(text)
    if not isinstance(document, dict) or "findings" not in document:
        raise ValueError("not a misnomer JSON report: no 'findings' key")
    if document.get("version") != JSON_VERSION:
        raise ValueError(f"misnomer JSON report version {document.get('version')!r} is not "
                         f"supported (expected {JSON_VERSION})")
    findings = document["findings"]
    if not isinstance(findings, list):
        raise ValueError("misnomer JSON report: 'findings' is not a list")
    return findings


class SarifReporter:
    """SARIF 2.1.0 for GitHub code scanning and other SARIF viewers.

    URIs are relative to ``%SRCROOT%``, which ``originalUriBaseIds`` maps to the indexed root.
    No fingerprints are emitted: GitHub's upload action computes its own from the files, and a
    made-up one would be worse than none.
    """

    LEVEL: ClassVar[str] = "warning"

    def __init__(self, information_uri: str | None = None) -> None:
        self.information_uri = information_uri

    def render(self, findings: list[Finding], rules: list[Rule], root: str,
               tool_version: str) -> str:
        ordered = _ordered(findings)
        reported = _reported_rules(ordered)
        rule_index = {rule.id: index for index, rule in enumerate(reported)}
        driver: dict[str, Any] = {"name": "misnomer", "semanticVersion": tool_version}
        if self.information_uri is not None:
            driver["informationUri"] = self.information_uri
        driver["rules"] = [self._rule(rule) for rule in reported]
        log = {
            "$schema": SARIF_SCHEMA,
            "version": SARIF_VERSION,
            "runs": [{
                "tool": {"driver": driver},
                "originalUriBaseIds": {SRCROOT: {"uri": root_uri(root)}},
                "columnKind": "unicodeCodePoints",
                "results": [self._result(f, rule_index[f.rule.id]) for f in ordered],
            }],
        }
        return json.dumps(log, indent=2) + "\n"

    def _rule(self, rule: Rule) -> dict[str, Any]:
        return {
            "id": rule.id,
            "name": rule.symbol,
            "shortDescription": {"text": rule.name},
            "fullDescription": {"text": rule.description, "markdown": rule.description},
            "help": {"text": _help_text(rule), "markdown": _help_markdown(rule)},
            "defaultConfiguration": {"level": self.LEVEL},
            "properties": {"tags": _tags(rule)},
        }

    def _result(self, finding: Finding, rule_index: int) -> dict[str, Any]:
        location = {
            "physicalLocation": {
                "artifactLocation": _artifact(finding.file),
                "region": _region(finding),
            },
            "logicalLocations": [{"name": finding.function,
                                  "fullyQualifiedName": finding.function, "kind": "function"}],
        }
        related = [{
            "id": number,
            "physicalLocation": {"artifactLocation": _artifact(evidence.file),
                                 "region": {"startLine": evidence.line}},
            "message": {"text": evidence.text},
        } for number, evidence in enumerate(finding.evidence, start=1)]
        result: dict[str, Any] = {
            "ruleId": finding.rule.id,
            "ruleIndex": rule_index,
            "level": self.LEVEL,
            "message": {"text": finding.message},
            "locations": [location],
        }
        if related:
            result["relatedLocations"] = related
        result["properties"] = {"confidence": finding.confidence}
        return result


def _reported_rules(findings: list[Finding]) -> list[Rule]:
    by_id: dict[str, Rule] = {}
    for finding in findings:
        known = by_id.setdefault(finding.rule.id, finding.rule)
        if known != finding.rule:
            raise ValueError(f"two different rules share the id {finding.rule.id}")
    return [by_id[rule_id] for rule_id in sorted(by_id)]


def _tags(rule: Rule) -> list[str]:
    tags = ["naming"]
    if rule.family and rule.family not in tags:
        tags.append(rule.family)
    return tags


def _code(example: str) -> str:
    return example.strip("\n")


def _help_text(rule: Rule) -> str:
    def indented(example: str) -> str:
        return "\n".join("    " + line if line else "" for line in _code(example).splitlines())
    return (f"{rule.description.strip()}\n\nBad:\n\n{indented(rule.bad_example)}\n\n"
            f"Good:\n\n{indented(rule.good_example)}\n")


def _help_markdown(rule: Rule) -> str:
    return (f"{rule.description.strip()}\n\n**Bad:**\n\n```c\n{_code(rule.bad_example)}\n```\n\n"
            f"**Good:**\n\n```c\n{_code(rule.good_example)}\n```\n")


def _artifact(file: str) -> dict[str, str]:
    return {"uri": quote(file, safe="/"), "uriBaseId": SRCROOT}


def _region(finding: Finding) -> dict[str, int]:
    region = {"startLine": finding.line, "startColumn": finding.column}
    if finding.end_line:
        region["endLine"] = finding.end_line
    if finding.end_column:
        region["endColumn"] = finding.end_column
    return region


def root_uri(root: str) -> str:
    """The indexed root as an absolute ``file://`` URI ending in '/', as SARIF wants a base."""
    uri = Path(os.path.abspath(root)).as_uri()
    return uri if uri.endswith("/") else uri + "/"


REPORTERS: dict[str, type[Reporter]] = {
    "text": TextReporter,
    "json": JsonReporter,
    "sarif": SarifReporter,
}
