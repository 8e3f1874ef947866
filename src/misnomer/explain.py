"""`misnomer explain NAME`: what each definition of a function does, with the lines that show it.

The explanation is recomputed from the stored facts with the same code the analysis ran, so
the reasons shown are the reasons the verdict was reached for.  JSON output is a versioned
contract (EXPLAIN_VERSION); add keys freely, never rename or remove one without a new version.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass, field

from .analysis.local import LocalSummary, summarize
from .analysis.primitives import STATE_CHANGES, Effect, PrimitiveTable
from .analysis.reach import GIVEN_BACK
from .analysis.shape import Shape, ShapeVerdict, decide_shape
from .facts import Branch, ExitKind, FunctionFacts, Region, ReturnKind
from .index.source import SourceReader
from .index.store import FunctionRow, Index
from .names import split_words
from .oracle import IndexOracle

EXPLAIN_VERSION = 1
EFFECT_NAMES = ("mutates", "allocates", "frees", "locks", "logs", "can_fail", "out_params")
_EFFECT_BIT = {"mutates": Effect.MUTATES, "allocates": Effect.ALLOCATES, "frees": Effect.FREES,
               "locks": Effect.LOCKS, "logs": Effect.LOGS, "can_fail": Effect.CAN_FAIL,
               "out_params": Effect.OUT_PARAMS}


@dataclass
class Line:
    line: int
    text: str


@dataclass
class EffectReport:
    value: bool
    evidence: list[Line] = field(default_factory=list)


@dataclass
class Guard:
    line: int
    condition: str
    exit: str  # return, goto, continue, break
    returns: str  # the returned expression or the goto label
    outcome: str  # success, failure, value, skip
    state_test: bool


@dataclass
class CalleeReport:
    name: str
    line: int  # first call
    calls: int
    resolution: str  # primitive, defined, macro, by-name, unknown
    shape: str | None
    effects: list[str]
    where: list[str]  # file:line of the definitions it resolves to


@dataclass
class CallerReport:
    name: str
    file: str
    line: int


@dataclass
class DefinitionReport:
    name: str
    file: str
    line: int
    column: int
    end_line: int
    signature: str
    static: bool
    inline: bool
    exported: bool
    return_kind: str
    variant: str
    defined_by: str
    parse_errors: bool
    stale: bool  # the file changed since it was indexed: run `misnomer index`
    shape: str
    shape_reasons: list[Line]
    confidence: float
    effects: dict[str, EffectReport]
    guards: list[Guard]
    callees: list[CalleeReport]
    callers: dict
    summary: str
    unknown_callees: list[str]


@dataclass
class Explanation:
    name: str
    definitions: list[DefinitionReport]

    def to_json_obj(self) -> dict:
        return {"version": EXPLAIN_VERSION, "name": self.name,
                "definitions": [asdict(d) for d in self.definitions]}


class UnknownFunction(LookupError):
    def __init__(self, name: str, suggestions: list[str]) -> None:
        super().__init__(name)
        self.name = name
        self.suggestions = suggestions


def explain(index: Index, table: PrimitiveTable, name: str,
            extra_macros: dict | None = None) -> Explanation:
    ids = index.function_ids_named(name)
    if not ids:
        raise UnknownFunction(name, close_matches(index, name))
    oracle = IndexOracle(index, table)
    reader = SourceReader(index, extra_macros)
    return Explanation(name, [_definition(index, oracle, table, reader, index.function(fid))
                              for fid in ids])


def close_matches(index: Index, name: str, limit: int = 5) -> list[str]:
    candidates: set[str] = set()
    words = sorted(split_words(name), key=len, reverse=True)
    for word in words[:3]:
        if len(word) >= 3:
            candidates.update(index.names_like(f"%{word}%"))
    if not candidates and len(name) >= 3:
        candidates.update(index.names_like(f"{name[:3]}%"))
    return difflib.get_close_matches(name, sorted(candidates), n=limit, cutoff=0.6)


def _definition(index: Index, oracle: IndexOracle, table: PrimitiveTable,
                reader: SourceReader, fr: FunctionRow) -> DefinitionReport:
    source = reader.facts(fr)
    ff = source.facts
    stored = index.verdict(fr.id)
    summary = summarize(ff, table)
    total = Effect(stored[1]) if stored else summary.effects
    verdict = decide_shape(summary.inputs, summary.effects, total, table,
                           oracle.effects_for(fr.file_id), oracle.shape_for(fr.file_id),
                           ff.has_error)
    shape = Shape(stored[0]) if stored else verdict.shape
    reasons = [Line(r.line, r.text) for r in verdict.reasons]
    if verdict.shape != shape:
        reasons.insert(0, Line(ff.line, f"{shape.value}-shaped as indexed; the file has changed "
                                        f"since" if source.stale else
                               f"{shape.value}-shaped once its callees' shapes are known"))
    callees = _callees(ff, oracle, fr.file_id)
    return DefinitionReport(
        name=ff.name, file=fr.path, line=ff.line, column=ff.column, end_line=ff.end_line,
        signature=ff.signature, static=ff.is_static, inline=ff.is_inline,
        exported=ff.is_exported, return_kind=ff.return_kind, variant=ff.variant,
        defined_by=ff.defined_by, parse_errors=ff.has_error, stale=source.stale,
        shape=shape.value, shape_reasons=reasons,
        confidence=stored[2] if stored else verdict.confidence,
        effects=_effects(ff, summary, total, oracle, fr.file_id),
        guards=_guards(ff, summary), callees=callees,
        callers=_callers(index, ff, fr),
        summary=does(ff, summary, verdict, shape),
        unknown_callees=[c.name for c in callees if c.resolution == "unknown"])


def _effects(ff: FunctionFacts, summary: LocalSummary, total: Effect, oracle: IndexOracle,
             file_id: int) -> dict[str, EffectReport]:
    report = {name: EffectReport(bool(total & _EFFECT_BIT[name])) for name in EFFECT_NAMES}
    for e in summary.evidence:
        report[e.effect].evidence.append(Line(e.line, e.text))
    seen: set[tuple[str, str]] = set()
    effects_of = oracle.effects_for(file_id)
    for row in ff.call_rows:
        callee, line = row[0], row[1]
        if row[3] & Region.INDIRECT or oracle.table.lookup(callee) is not None or \
                summary.callee_args.get(callee) == GIVEN_BACK:
            continue
        bits = effects_of(callee, row[7])
        for name in ("mutates", "allocates", "frees", "locks", "logs"):
            if bits & _EFFECT_BIT[name] and (name, callee) not in seen:
                seen.add((name, callee))
                report[name].evidence.append(Line(line, f"calls {callee}(), which {_verb(name)}"))
        if row[3] & Region.RETURNED and bits & Effect.CAN_FAIL:
            report["can_fail"].evidence.append(Line(line, f"returns the result of {callee}(), "
                                                          f"which can fail"))
    for value in report.values():
        value.evidence.sort(key=lambda ln: ln.line)
    return report


def _verb(effect: str) -> str:
    return {"mutates": "changes state", "allocates": "allocates", "frees": "frees",
            "locks": "takes locks", "logs": "logs"}[effect]


def _guards(ff: FunctionFacts, summary: LocalSummary) -> list[Guard]:
    guards = []
    for i, b in enumerate(ff.branches):
        if not b.is_guard_shaped:
            continue
        guards.append(Guard(b.line, b.condition, b.exit.value, b.exit_text, _outcome(b),
                            summary.state_tests[i]))
    return guards


def _outcome(b: Branch) -> str:
    if b.exit in (ExitKind.CONTINUE, ExitKind.BREAK):
        return "skip"
    if b.error_path:
        return "failure"
    if b.exit_value in (ReturnKind.SUCCESS, ReturnKind.VOID):
        return "success"
    if b.exit_value == ReturnKind.FAILURE:
        return "failure"
    return "value"


def _callees(ff: FunctionFacts, oracle: IndexOracle, file_id: int) -> list[CalleeReport]:
    order: dict[str, CalleeReport] = {}
    for row in ff.call_rows:
        callee, line = row[0], row[1]
        if callee in order:
            order[callee].calls += 1
            continue
        res = oracle.resolve(callee, file_id)
        order[callee] = CalleeReport(
            callee, line, 1, res.kind, res.shape.value if res.shape else None,
            [n for n in EFFECT_NAMES if res.effects & _EFFECT_BIT[n]],
            [f"{d.path}:{d.line}" for d in res.definitions])
    return list(order.values())


def _callers(index: Index, ff: FunctionFacts, fr: FunctionRow) -> dict:
    ids = index.callers(ff.name)
    rows = []
    for fid in ids:
        caller = index.conn.execute(
            "SELECT f.name, files.path, f.line, f.file_id FROM functions f JOIN files "
            "ON files.id = f.file_id WHERE f.id = ?", (fid,)).fetchone()
        if caller is None:
            continue
        if ff.is_static and not fr.path.endswith(".h") and caller[3] != fr.file_id:
            continue  # a static function is only called from its own file
        rows.append(CallerReport(caller[0], caller[1], caller[2]))
    rows.sort(key=lambda c: (c.file, c.line))
    return {"count": len(rows), "functions": [asdict(r) for r in rows]}


def does(ff: FunctionFacts, summary: LocalSummary, verdict: ShapeVerdict, shape: Shape) -> str:
    """One line: what the function does, e.g.
    ``returns 0 if vcpu->arch.mmu->root.hpa != INVALID_PAGE; otherwise kvm_mmu_load(vcpu)``."""
    rets = ff.returns
    if shape == Shape.EMPTY:
        return f"does nothing; returns {rets[0].text}" if rets and rets[0].text else \
            "does nothing"
    branches = ff.branches
    first_effect = min((s.line for s in verdict.main_sites), default=1 << 30)
    logs = [e for e in summary.evidence if e.effect == "logs"]
    guards = []
    for b in branches:
        if not (b.kind == "then" and b.top_level and b.exit is not None) or \
                b.if_line > first_effect:
            continue
        said = [e.text for e in logs if b.line <= e.line <= b.end_line]
        logs = [e for e in logs if not b.line <= e.line <= b.end_line]
        reports = f"reports with {', '.join(dict.fromkeys(said))} and " if said else ""
        if b.exit == ExitKind.RETURN:
            guards.append(f"{reports}returns {b.exit_text or 'nothing'} if {b.condition}")
        elif b.exit == ExitKind.GOTO:
            guards.append(f"{'fails' if b.error_path else 'jumps'} (goto {b.exit_text}) "
                          f"if {b.condition}")
    finals = [r for r in rets if not r.region & (Region.CONDITIONAL | Region.ERROR_PATH)]
    final = finals[-1] if finals else None
    # values handed back from inside a branch or a loop (what a lookup finds)
    found = []
    for r in rets:
        if r.region & Region.CONDITIONAL and not r.region & Region.ERROR_PATH and \
                r.kind in (ReturnKind.VALUE, ReturnKind.CALL) and 0 <= r.branch < len(branches):
            b = branches[r.branch]
            if b.top_level and b.if_line <= first_effect:
                continue  # already said as a guard
            where = " (in a loop)" if r.region & Region.LOOP else ""
            found.append(f"returns {r.text} if {b.condition}{where}")
    # a then-arm's test reads "if ...:"; a loop's `continue` test skips: "unless ...:"
    by_cover = {b.if_line: (("unless " if b.exit == ExitKind.CONTINUE else "if ") + b.condition)
                for b in branches if b.kind == "then"}
    conditional: dict[str, list[str]] = {}
    actions: list[str] = []
    for site in verdict.main_sites:
        if final is not None and final.kind == ReturnKind.CALL and site.kind != "write" and \
                site.name == final.callee:
            continue
        text = f"writes {site.name}" if site.kind == "write" else f"{site.name}()"
        group = conditional.setdefault(by_cover[site.cover], []) if site.cover in by_cover \
            else actions
        if text not in group:
            group.append(text)
    rest = []
    for condition, group in conditional.items():
        rest.append(f"{condition}: {_list(group)}")
    if actions:
        rest.append(_list(actions))
    if not verdict.main_sites and logs and not found:
        arm = next((b for b in branches if b.kind == "then" and
                    all(b.line <= e.line <= b.end_line for e in logs)), None)
        when = f" if {arm.condition}" if arm is not None else ""
        rest.append("reports with " + ", ".join(dict.fromkeys(e.text for e in logs[:2])) + when)
    if summary.inputs.out_params:
        rest.append("hands results back through " + ", ".join(summary.inputs.out_params))
    if final is not None and final.text:
        rest.append(final.text if final.kind == ReturnKind.CALL and not rest and not found
                    else f"returns {final.text}")
    body = "; then ".join(rest) if rest else ("changes state" if verdict.main_sites
                                                else "returns")
    if found:
        body = "; ".join(found) + "; otherwise " + body
    if guards:
        return "; ".join(guards) + "; otherwise " + body
    return body


def _list(items: list[str]) -> str:
    more = f" and {len(items) - 3} more" if len(items) > 3 else ""
    head = items[:3]
    calls = [t for t in head if not t.startswith("writes ")]
    writes = [t for t in head if t.startswith("writes ")]
    parts = []
    if calls:
        parts.append("calls " + ", ".join(calls))
    if writes:
        parts.append("writes " + ", ".join(w[7:] for w in writes))
    return ", ".join(parts) + more


def render_text(exp: Explanation) -> str:
    out = []
    for d in exp.definitions:
        flags = [w for w, on in (("static", d.static), ("inline", d.inline),
                                 ("exported", d.exported)) if on]
        out.append(f"{d.file}:{d.line}:{d.column}: {d.name}")
        out.append(f"  {d.signature}")
        details = []
        if flags:
            details.append(" ".join(flags))
        if d.variant:
            details.append(f"under {d.variant}")
        if d.defined_by:
            details.append(f"defined by {d.defined_by}")
        if d.parse_errors:
            details.append("parsed with errors")
        if d.stale:
            details.append("the file changed since it was indexed; run `misnomer index`")
        if details:
            out.append("  (" + "; ".join(details) + ")")
        out.append(f"  does: {d.summary}")
        out.append(f"  shape: {d.shape} (confidence {d.confidence:.2f})")
        for r in d.shape_reasons:
            out.append(f"    {r.line}: {r.text}")
        on = [n for n in EFFECT_NAMES if d.effects[n].value]
        out.append("  effects: " + (", ".join(on) if on else "none"))
        for name in on:
            for ev in d.effects[name].evidence[:6]:
                out.append(f"    {name:10} {ev.line}: {ev.text}")
        if d.guards:
            out.append("  guards:")
            for g in d.guards:
                test = "state test" if g.state_test else "not a state test"
                target = f" {g.returns}" if g.returns else ""
                out.append(f"    {g.line}: if ({g.condition}) {g.exit}{target}  "
                           f"[{g.outcome}; {test}]")
        if d.callees:
            out.append("  callees:")
            for c in d.callees:
                shape = f" {c.shape}" if c.shape else ""
                eff = f" [{', '.join(c.effects)}]" if c.effects else ""
                times = f" x{c.calls}" if c.calls > 1 else ""
                out.append(f"    {c.line}: {c.name}(){times} — {c.resolution}{shape}{eff}")
        count = d.callers["count"]
        out.append(f"  callers: {count}")
        for c in d.callers["functions"][:20]:
            out.append(f"    {c['file']}:{c['line']}: {c['name']}")
        if count > 20:
            out.append(f"    ... and {count - 20} more")
        out.append("")
    return "\n".join(out).rstrip() + "\n"


__all__ = ["explain", "render_text", "Explanation", "UnknownFunction", "close_matches",
           "EXPLAIN_VERSION", "STATE_CHANGES"]
