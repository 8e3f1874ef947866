"""`misnomer check`: index as needed, run the rules, and keep what the user asked for.

:class:`FindingFilter` is the one place where configuration (select/ignore), inline
suppressions (``/* misnomer: ignore[symbol] */`` on or above a definition), the confidence
threshold, the baseline and ``--diff`` are applied; the rules themselves never filter.
"""

from __future__ import annotations

import json
import posixpath
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from .analysis.primitives import Effect, PrimitiveTable
from .config import Config
from .errors import ConfigError, MisnomerError
from .findings import Finding
from .index.store import Index
from .lexicon import cached_lexicon, function_rows
from .names import VerbVocabulary
from .rules import ALL_RULES, CheckContext, FunctionView, TreeRules, check_function
from .rules import rules_matching

BASELINE_VERSION = 1
_SUPPRESS = re.compile(r"misnomer:\s*ignore(?:\[([^\]]*)\])?")
_SUPPRESS_LOOKBACK = 3  # comment lines above the definition a suppression may sit on
_COMMENT_ONLY = re.compile(r"^\s*(?:/\*.*|\*.*|//.*|)$")
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.M)


@dataclass
class CheckOptions:
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    min_confidence: float | None = None
    scope: list[str] = field(default_factory=list)  # paths (relative to the root) to report on
    diff: str | None = None  # a git revision: report only functions changed since
    baseline: Path | None = None
    update_baseline: bool = False


@dataclass
class CheckResult:
    findings: list[Finding]
    functions: int = 0  # functions checked
    suppressed: int = 0
    below_confidence: int = 0
    baselined: int = 0
    outside_diff: int = 0
    baseline_written: bool = False


def enabled_rules(config: Config, options: CheckOptions) -> set[str]:
    try:
        chosen = rules_matching(options.select or config.select) if \
            (options.select or config.select) else {r.id for r in ALL_RULES if r.default}
        chosen -= rules_matching(config.ignore + options.ignore)
    except KeyError as exc:
        known = ", ".join(f"{r.id} ({r.symbol})" for r in ALL_RULES)
        raise ConfigError(f"unknown rule {exc.args[0]!r}; rules are: {known}") from None
    return chosen


def run_check(index: Index, config: Config, options: CheckOptions,
              table: PrimitiveTable | None = None) -> CheckResult:
    table = table or PrimitiveTable(config.primitives or None)
    enabled = enabled_rules(config, options)
    lexicon = cached_lexicon(index, config.verbs)
    vocab = VerbVocabulary.load(config.verbs).with_promises(config.promises)
    ctx = CheckContext(index, lexicon, vocab, table)
    callers = dict(index.conn.execute(
        "SELECT name, json_array_length(function_ids) FROM callers"))
    in_scope = _scope_test(options.scope)
    tree_rules = TreeRules(ctx, enabled)
    raw: list[Finding] = []
    count = 0
    for (fid, name, path, line, shape, bits, static, return_kind, exported, confidence, col,
         end_line, variant, is_callback) in function_rows(index):
        parts = lexicon.parse(name, posixpath.dirname(path))
        fn = FunctionView(fid, name, path, line, col, end_line, shape, Effect(bits), confidence,
                          bool(static), bool(exported), return_kind, variant, parts,
                          callers.get(name, 0), bool(is_callback))
        tree_rules.see(fn)
        if not in_scope(path):
            continue
        count += 1
        raw.extend(check_function(fn, ctx, enabled))
    raw.extend(f for f in tree_rules.findings() if in_scope(f.file))
    result = FindingFilter(index, config, options).apply(raw)
    result.functions = count
    return result


def _scope_test(scope: list[str]):
    prefixes = [s.strip("/") for s in scope if s.strip("/") not in ("", ".")]
    if not prefixes:
        return lambda path: True
    return lambda path: any(path == p or path.startswith(p + "/") for p in prefixes)


class FindingFilter:
    """Configuration, suppressions, confidence, baseline and diff, in one place."""

    def __init__(self, index: Index, config: Config, options: CheckOptions) -> None:
        self.index = index
        self.config = config
        self.options = options
        self.min_confidence = options.min_confidence if options.min_confidence is not None \
            else config.min_confidence
        self._lines: dict[str, list[str]] = {}

    def apply(self, findings: list[Finding]) -> CheckResult:
        result = CheckResult(findings=[])
        changed = _changed_lines(self.index.root, self.options.diff) if self.options.diff \
            else None
        kept = []
        for f in sorted(findings, key=Finding.sort_key):
            if f.confidence < self.min_confidence:
                result.below_confidence += 1
            elif self._suppressed(f):
                result.suppressed += 1
            elif changed is not None and not self._in_diff(f, changed):
                result.outside_diff += 1
            else:
                kept.append(f)
        if self.options.baseline is not None:
            kept = self._baseline(kept, result)
        result.findings = kept
        return result

    def _source(self, path: str) -> list[str]:
        if path not in self._lines:
            try:
                text = (self.index.root / path).read_text("utf-8", errors="replace")
            except OSError:
                text = ""
            self._lines[path] = text.splitlines()
        return self._lines[path]

    def _suppressed(self, f: Finding) -> bool:
        """A suppression on the definition's own lines (from its first line to its name), or
        in the comment lines right above it."""
        lines = self._source(f.file)
        start = self._start_line(f)
        candidates = lines[start - 1:f.line]
        k = start - 2
        while k >= 0 and len(candidates) < (f.line - start + 1) + _SUPPRESS_LOOKBACK and \
                _COMMENT_ONLY.match(lines[k]):
            candidates.insert(0, lines[k])
            k -= 1
        for text in candidates:
            for m in _SUPPRESS.finditer(text):
                names = m.group(1)
                if names is None:
                    return True
                wanted = {n.strip() for n in names.split(",")}
                if f.rule.symbol in wanted or f.rule.id in wanted:
                    return True
        return False

    def _start_line(self, f: Finding) -> int:
        row = self.index.conn.execute(
            "SELECT f.start_line FROM functions f JOIN files ON files.id = f.file_id "
            "WHERE files.path = ? AND f.name = ? AND f.line = ?",
            (f.file, f.function, f.line)).fetchone()
        return row[0] if row else f.line

    def _in_diff(self, f: Finding, changed: dict[str, list[tuple[int, int]]]) -> bool:
        ranges = changed.get(f.file)
        if not ranges:
            return False
        row = self.index.conn.execute(
            "SELECT f.start_line, f.end_line FROM functions f JOIN files ON files.id = f.file_id "
            "WHERE files.path = ? AND f.name = ? AND f.line = ?",
            (f.file, f.function, f.line)).fetchone()
        start, end = row if row else (f.line, f.end_line or f.line)
        return any(a <= end and start <= b for a, b in ranges)

    def _baseline(self, findings: list[Finding], result: CheckResult) -> list[Finding]:
        path = self.options.baseline
        if not path.exists() or self.options.update_baseline:
            data = {"version": BASELINE_VERSION,
                    "fingerprints": sorted({f.fingerprint() for f in findings})}
            path.write_text(json.dumps(data, indent=2) + "\n")
            result.baseline_written = True
            result.baselined = len(findings)
            return []
        try:
            data = json.loads(path.read_text())
            known = set(data["fingerprints"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise MisnomerError(f"{path} is not a misnomer baseline ({exc})") from exc
        new = [f for f in findings if f.fingerprint() not in known]
        result.baselined = len(findings) - len(new)
        return new


def _changed_lines(root: Path, rev: str) -> dict[str, list[tuple[int, int]]]:
    """Line ranges (in today's files) added or changed since ``rev``, plus untracked files."""
    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", "-C", str(root), *args], capture_output=True,
                                  text=True, timeout=300)
        except (OSError, subprocess.SubprocessError) as exc:
            raise MisnomerError(f"--diff needs git ({exc})") from exc
        if done.returncode != 0:
            raise MisnomerError(f"git {' '.join(args[:2])} failed: {done.stderr.strip()}")
        return done.stdout

    top = Path(git("rev-parse", "--show-toplevel").strip())
    prefix = root.resolve().relative_to(top.resolve()).as_posix() if root.resolve() != \
        top.resolve() else ""
    changed: dict[str, list[tuple[int, int]]] = {}
    diff = git("diff", "--unified=0", "--no-color", "--no-ext-diff", rev, "--", ".")
    current = None
    for line in diff.splitlines():
        if line.startswith("+++ "):
            target = line[4:]
            current = None
            if target.startswith("b/"):
                rel = target[2:]
                if prefix:
                    rel = rel[len(prefix) + 1:] if rel.startswith(prefix + "/") else None
                current = rel
        elif line.startswith("@@") and current:
            m = _HUNK.match(line)
            if m:
                start, count = int(m.group(1)), int(m.group(2) or 1)
                changed.setdefault(current, []).append((start, start + max(count, 1) - 1))
    for rel in git("ls-files", "--others", "--exclude-standard", ".").splitlines():
        changed[rel] = [(1, 1 << 30)]
    return changed
