#!/usr/bin/env python3
"""Accuracy of misnomer's behaviour model against hand labels of Linux 6.1 functions.

Reads an existing index (it does not build one), finds each labelled function by name and file
(the definition nearest the labelled line when the file has several), and compares:

  shape      agreement %, confusion matrix (rows: label, columns: misnomer)
  mutates    agreement %, 2x2 matrix
  allocates, frees, out_params   agreement %, 2x2 matrices

beside baselines computed in the same run from the names alone:

  name-only  the verb of the name decides: is/has/can/get/read/find/... -> query,
             check/validate/verify -> check, ensure -> ensure, anything else -> action;
             mutates = the guessed shape is action or ensure; allocates/frees from words
             like alloc/new/create and free/release/destroy
  always-action  the constant guess

and lists every disagreement with the label's note and what `misnomer explain --format json`
says (its `does:` summary and its shape reasons).  Labels whose shape is `missing` are left out
and counted.  Labels: /work/shared/data/kernel-6.1-dev-labels.tsv (definitions in LABELS.md).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import fetch_kernel  # noqa: E402

DEFAULT_LABELS = Path("/work/shared/data/kernel-6.1-dev-labels.tsv")
SHAPES = ("query", "check", "ensure", "action", "empty")
EFFECTS = {"mutates": 1, "allocates": 2, "frees": 4, "out_params": 128}
REQUIRED = ("name", "path", "line", "shape", "mutates", "allocates", "frees")

# --- the name-only baseline -------------------------------------------------------------------
# Fixed before looking at any result; a reasonable reader's guess from the verb alone.
QUERY_VERBS = {"is", "has", "have", "can", "get", "read", "find", "lookup", "search", "query",
               "count", "calc", "calculate", "compute", "cmp", "compare", "match", "peek",
               "show", "fetch", "need", "needs", "should", "may", "test", "contains", "exists",
               "equal", "supports", "uses", "was", "are", "within", "in"}
CHECK_VERBS = {"check", "validate", "verify", "assert"}
ENSURE_VERBS = {"ensure"}
ACTION_VERBS = {  # only stop the scan: a later query word does not make `set_get_x` a query
    "set", "reset", "clear", "init", "alloc", "free", "put", "release", "start", "stop",
    "enable", "disable", "add", "del", "delete", "remove", "update", "write", "create",
    "destroy", "register", "unregister", "load", "unload", "reload", "map", "unmap", "lock",
    "unlock", "send", "recv", "receive", "handle", "open", "close", "attach", "detach", "insert",
    "push", "pop", "flush", "sync", "copy", "move", "mark", "apply", "commit", "config",
    "configure", "setup", "program", "run", "do", "process", "build", "fill", "prepare", "resize",
    "grow", "shrink", "kill", "wake", "wait", "schedule", "queue", "enqueue", "dequeue",
    "submit", "complete", "cancel", "restore", "save", "store", "emit", "install", "probe",
    "suspend", "resume", "toggle", "switch", "swap", "inc", "dec", "acquire", "take", "drop",
    "hold", "grab", "pin", "unpin", "refresh", "invalidate", "destroy", "cleanup", "new",
    "make", "assign", "attach", "bind", "unbind", "link", "unlink", "parse", "convert", "fix"}
ALLOC_WORDS = ("alloc", "new", "create", "dup", "clone")
FREE_WORDS = ("free", "release", "destroy", "cleanup", "teardown", "put")
_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


def split_words(identifier: str) -> list[str]:
    words: list[str] = []
    for part in identifier.strip("_").split("_"):
        if not part:
            continue
        if part.islower() or part.isdigit():
            words.append(part)
        else:
            words.extend(w.lower() for w in _CAMEL.findall(part))
    return words


def guess_from_name(name: str) -> dict:
    """The name-only baseline: the first word that is a known verb decides the shape."""
    words = split_words(name)
    shape, verb = "action", ""
    for w in words:
        if w in QUERY_VERBS:
            shape, verb = "query", w
        elif w in CHECK_VERBS:
            shape, verb = "check", w
        elif w in ENSURE_VERBS:
            shape, verb = "ensure", w
        elif w in ACTION_VERBS:
            shape, verb = "action", w
        else:
            continue
        break
    return {"shape": shape, "verb": verb,
            "mutates": shape in ("action", "ensure"),
            "allocates": any(w.endswith(ALLOC_WORDS) or w in ALLOC_WORDS for w in words),
            "frees": any(w.endswith("free") or w in FREE_WORDS for w in words)}


# --- labels and the index ---------------------------------------------------------------------


@dataclass
class Label:
    name: str
    path: str
    line: int
    shape: str
    mutates: bool | None
    allocates: bool | None
    frees: bool | None
    out_params: bool | None
    confidence: str
    note: str


@dataclass
class Result:
    label: Label
    found: bool = False
    tool_line: int | None = None
    tool_shape: str | None = None
    tool_effects: int = 0
    tool_confidence: float | None = None
    has_error: bool = False
    candidates: int = 0
    baseline: dict = field(default_factory=dict)
    explain: dict | None = None

    def tool(self, effect: str) -> bool:
        return bool(self.tool_effects & EFFECTS[effect])

    def disagreements(self) -> list[str]:
        out = []
        if self.tool_shape != self.label.shape:
            out.append("shape")
        for eff in EFFECTS:
            want = getattr(self.label, eff)
            if want is not None and want != self.tool(eff):
                out.append(eff)
        return out


def yes_no(value: str | None) -> bool | None:
    v = (value or "").strip().lower()
    if v in ("yes", "y", "true", "1"):
        return True
    if v in ("no", "n", "false", "0"):
        return False
    return None


def read_labels(path: Path) -> list[Label]:
    try:
        fh = open(path, newline="", encoding="utf-8")
    except OSError as exc:
        raise SystemExit(f"accuracy.py: cannot read the labels {path}: {exc.strerror or exc}")
    with fh:
        reader = csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise SystemExit(f"accuracy.py: {path} lacks the column(s) {', '.join(missing)} "
                             f"(has: {', '.join(reader.fieldnames or [])})")
        labels = []
        for n, row in enumerate(reader, start=2):
            name = (row.get("name") or "").strip()
            if not name:
                continue
            try:
                line = int((row.get("line") or "0").strip() or 0)
            except ValueError:
                line = 0
            path_ = (row.get("path") or "").strip().removeprefix("./")
            labels.append(Label(name=name, path=path_,
                                line=line, shape=(row.get("shape") or "").strip().lower(),
                                mutates=yes_no(row.get("mutates")),
                                allocates=yes_no(row.get("allocates")),
                                frees=yes_no(row.get("frees")),
                                out_params=yes_no(row.get("out_params")),
                                confidence=(row.get("confidence") or "").strip().lower(),
                                note=(row.get("note") or "").strip()))
    return labels


def open_index(db: Path, cache: str | None = None) -> sqlite3.Connection:
    if not db.is_file():
        tree = fetch_kernel.kernel_tree(cache)
        raise SystemExit(
            f"accuracy.py: no index at {db}.\n  Build it first, e.g.:\n"
            f"    python bench/fetch_kernel.py{' --cache ' + cache if cache else ''}   # once\n"
            f"    .venv/bin/misnomer index {tree}\n"
            f"  (or run bench/kernel.py, which builds it as part of the speed benchmark), or "
            f"pass --db PATH.")
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    if not {"functions", "files", "analysis"} <= tables:
        raise SystemExit(f"accuracy.py: {db} is not a misnomer index (tables: "
                         f"{', '.join(sorted(tables)) or 'none'})")
    if not conn.execute("SELECT 1 FROM analysis LIMIT 1").fetchone():
        raise SystemExit(f"accuracy.py: {db} has no analysis results yet; let `misnomer index` "
                         f"finish (it analyses after parsing)")
    return conn


def index_warnings(conn: sqlite3.Connection, db: Path) -> list[str]:
    out = []
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall()) if conn.execute(
        "SELECT 1 FROM sqlite_master WHERE name='meta'").fetchone() else {}
    if meta.get("analysis_state", "ok") != "ok":
        out.append(f"the index's analysis is not up to date (analysis_state="
                   f"{meta.get('analysis_state')}); run `misnomer index` again")
    lock = db.with_name(db.name + ".lock")
    try:
        import fcntl
        if lock.exists():
            fd = os.open(lock, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                fcntl.flock(fd, fcntl.LOCK_UN)
            except BlockingIOError:
                out.append("a misnomer run is writing this index now; figures may change")
            finally:
                os.close(fd)
    except ImportError:
        pass
    return out


def lookup(conn: sqlite3.Connection, label: Label) -> Result:
    res = Result(label, baseline=guess_from_name(label.name))
    rows = conn.execute(
        "SELECT f.id, files.path, f.line, f.has_error, a.shape, a.effects, a.confidence "
        "FROM functions f JOIN files ON files.id = f.file_id "
        "LEFT JOIN analysis a ON a.function_id = f.id WHERE f.name = ?", (label.name,)).fetchall()
    same = [r for r in rows if r[1] == label.path]
    if not same:  # an index rooted above the tree: paths carry a prefix
        same = [r for r in rows if r[1].endswith("/" + label.path)]
    res.candidates = len(same)
    if not same:
        return res
    best = min(same, key=lambda r: (abs(r[2] - label.line), r[2]))
    res.found = True
    res.tool_line = best[2]
    res.has_error = bool(best[3])
    res.tool_shape = best[4] or "(none)"
    res.tool_effects = best[5] or 0
    res.tool_confidence = best[6]
    return res


# --- explain ----------------------------------------------------------------------------------


def misnomer_command(explicit: str | None) -> list[str]:
    if explicit:
        return explicit.split()
    for candidate in (Path(sys.executable).parent / "misnomer",
                      REPO / ".venv" / "bin" / "misnomer"):
        if candidate.exists():
            return [str(candidate)]
    found = shutil.which("misnomer")
    if found:
        return [found]
    return [sys.executable, "-m", "misnomer"]


def run_explain(mis: list[str], db: Path, res: Result) -> dict:
    """What `misnomer explain NAME --format json` says about this definition."""
    cmd = [*mis, "explain", res.label.name, "--db", str(db), "--format", "json"]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.SubprocessError) as exc:
        return {"error": f"cannot run misnomer explain: {exc}"}
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or [f"exit {proc.returncode}"])[-1]}
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        return {"error": "misnomer explain did not print JSON"}
    defs = [d for d in data.get("definitions", [])
            if d.get("file") == res.label.path or str(d.get("file", "")).endswith(
                "/" + res.label.path)]
    if not defs:
        return {"error": f"no definition in {res.label.path} in the explain output"}
    d = min(defs, key=lambda d: abs((d.get("line") or 0) - (res.tool_line or res.label.line)))
    return {"line": d.get("line"), "shape": d.get("shape"), "confidence": d.get("confidence"),
            "does": d.get("summary", ""), "reasons": d.get("shape_reasons", []),
            "parse_errors": d.get("parse_errors"), "stale": d.get("stale"),
            "effects": [k for k, v in (d.get("effects") or {}).items()
                        if isinstance(v, dict) and v.get("value")],
            "unknown_callees": d.get("unknown_callees", [])}


# --- figures ----------------------------------------------------------------------------------


SEED_CASES = [
    ("kvm_mmu_reload", "arch/x86/kvm/mmu.h", "ensure"),
    ("skb_ensure_writable", "net/core/skbuff.c", "ensure"),
    ("perf_cgroup_ensure_storage", "kernel/events/core.c", "ensure"),
    ("btf_ensure_modifiable", "tools/lib/bpf/btf.c", "ensure"),
    ("libbpf_ensure_mem", "tools/lib/bpf/btf.c", "ensure"),
    ("input_dev_ensure_poller", "drivers/input/input-poller.c", "check"),
    ("rtnl_ensure_unique_netns", "net/core/rtnetlink.c", "check"),
]


def seed_cases(conn: sqlite3.Connection) -> list[tuple[str, str, str, str | None]]:
    """The shape the index gives each seed case: (name, file, expected, found or None)."""
    out = []
    for name, path, want in SEED_CASES:
        row = conn.execute("SELECT shape FROM function_verdicts WHERE name = ? AND file = ?",
                           (name, path)).fetchone()
        out.append((name, path, want, row[0] if row else None))
    return out


def pct(n: int, d: int) -> str:
    return f"{100 * n / d:.1f}% ({n}/{d})" if d else "n/a"


def agreement(results: list[Result], get_label, get_guess) -> tuple[int, int]:
    pairs = [(get_label(r), get_guess(r)) for r in results]
    pairs = [(a, b) for a, b in pairs if a is not None]
    return sum(a == b for a, b in pairs), len(pairs)


def confusion(results: list[Result], get_guess) -> tuple[list[str], list[str], Counter]:
    counts = Counter((r.label.shape, get_guess(r)) for r in results)
    rows = [s for s in SHAPES] + sorted({r.label.shape for r in results} - set(SHAPES))
    cols = [s for s in SHAPES] + sorted({get_guess(r) for r in results} - set(SHAPES))
    return rows, cols, counts


def print_confusion(title: str, rows: list[str], cols: list[str], counts: Counter) -> None:
    print(title)
    w = max(8, *(len(c) + 1 for c in cols))
    head = "label \\ tool".ljust(14) + "".join(c.rjust(w) for c in cols) + "   total  recall"
    print("  " + head)
    col_tot = Counter()
    for r in rows:
        n = sum(counts[(r, c)] for c in cols)
        if n == 0 and r not in SHAPES:
            continue
        for c in cols:
            col_tot[c] += counts[(r, c)]
        recall = f"{100 * counts[(r, r)] / n:5.1f}%" if n else "    -"
        print("  " + r.ljust(14) + "".join(str(counts[(r, c)] or ".").rjust(w) for c in cols)
              + f"{n:8d}  {recall}")
    total = sum(col_tot.values())
    print("  " + "total".ljust(14) + "".join(str(col_tot[c]).rjust(w) for c in cols)
          + f"{total:8d}")
    print("  " + "precision".ljust(14) + "".join(
        (f"{100 * counts[(c, c)] / col_tot[c]:.0f}%" if col_tot[c] else "-").rjust(w)
        for c in cols))


def two_by_two(results: list[Result], effect: str, get_guess) -> dict:
    m = Counter()
    for r in results:
        want = getattr(r.label, effect)
        if want is None:
            continue
        m[(want, bool(get_guess(r)))] += 1
    return {"yes_yes": m[(True, True)], "yes_no": m[(True, False)],
            "no_yes": m[(False, True)], "no_no": m[(False, False)]}


def print_two_by_two(effect: str, m: dict) -> None:
    print(f"  {effect:<10} label\\tool    yes    no")
    print(f"  {'':<10} yes        {m['yes_yes']:5d} {m['yes_no']:5d}")
    print(f"  {'':<10} no         {m['no_yes']:5d} {m['no_no']:5d}")


# --- main -------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description="Measure misnomer's shapes and effects against hand labels, beside a "
                    "name-only baseline computed in the same run.")
    ap.add_argument("--db", metavar="PATH",
                    help="the kernel index (default: <cache>/linux-source-6.1/.misnomer/index.db)")
    ap.add_argument("--cache", metavar="DIR", help="kernel cache (default: "
                    "$MISNOMER_BENCH_CACHE or ~/.cache/misnomer-bench); only locates the db")
    ap.add_argument("--labels", metavar="TSV", default=str(DEFAULT_LABELS),
                    help=f"hand labels (default: {DEFAULT_LABELS})")
    ap.add_argument("--json", metavar="FILE", help="also write the figures and every "
                    "comparison as JSON")
    ap.add_argument("--show", type=int, metavar="N",
                    help="disagreements to list (default: all)")
    ap.add_argument("-j", "--jobs", type=int, default=2,
                    help="parallel `misnomer explain` calls (default: 2)")
    ap.add_argument("--misnomer", metavar="CMD", help="the misnomer command (default: the one "
                    "beside this Python, then the repo's .venv, then PATH)")
    ap.add_argument("--no-explain", action="store_true",
                    help="do not call `misnomer explain` for the disagreements")
    args = ap.parse_args(argv)
    if args.show is not None and args.show < 0:
        ap.error("--show must be 0 or more")
    if args.jobs < 1:
        ap.error("--jobs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    db = Path(args.db).expanduser().resolve() if args.db else \
        fetch_kernel.kernel_tree(args.cache) / ".misnomer" / "index.db"
    labels_path = Path(args.labels).expanduser()
    labels = read_labels(labels_path)
    conn = open_index(db, args.cache)
    warnings = index_warnings(conn, db)
    try:
        excluded = [lb for lb in labels if lb.shape == "missing"]
        considered = [lb for lb in labels if lb.shape != "missing"]
        results = [lookup(conn, lb) for lb in considered]
        seeds = seed_cases(conn)
    finally:
        conn.close()
    found = [r for r in results if r.found]
    not_found = [r for r in results if not r.found]
    odd = sorted({r.label.shape for r in found} - set(SHAPES))

    figures: dict = {"version": 1, "db": str(db), "labels": str(labels_path),
                     "labels_total": len(labels), "excluded_missing": len(excluded),
                     "not_found": len(not_found), "compared": len(found)}

    def both(name: str, label_of, model_of, base_of) -> dict:
        m = agreement(found, label_of, model_of)
        b = agreement(found, label_of, base_of) if base_of else None
        entry = {"model": m[0] / m[1] if m[1] else None, "model_agree": m[0], "n": m[1]}
        if b:
            entry.update({"baseline": b[0] / b[1] if b[1] else None, "baseline_agree": b[0]})
        figures.setdefault("agreement", {})[name] = entry
        return entry

    both("shape", lambda r: r.label.shape, lambda r: r.tool_shape,
                   lambda r: r.baseline["shape"])
    action_only = agreement(found, lambda r: r.label.shape, lambda r: "action")
    figures["agreement"]["shape"]["always_action"] = \
        action_only[0] / action_only[1] if action_only[1] else None
    high = [r for r in found if r.label.confidence == "high"]
    hm = agreement(high, lambda r: r.label.shape, lambda r: r.tool_shape)
    hb = agreement(high, lambda r: r.label.shape, lambda r: r.baseline["shape"])
    figures["agreement"]["shape_high_confidence"] = {
        "model": hm[0] / hm[1] if hm[1] else None, "model_agree": hm[0], "n": hm[1],
        "baseline": hb[0] / hb[1] if hb[1] else None, "baseline_agree": hb[0]}
    for eff in ("mutates", "allocates", "frees"):
        both(eff, lambda r, e=eff: getattr(r.label, e), lambda r, e=eff: r.tool(e),
             lambda r, e=eff: r.baseline[e])
    both("out_params", lambda r: r.label.out_params, lambda r: r.tool("out_params"), None)

    rows, cols, model_counts = confusion(found, lambda r: r.tool_shape)
    brows, bcols, base_counts = confusion(found, lambda r: r.baseline["shape"])
    figures["confusion"] = {
        "rows_label_cols_tool": True,
        "model": {r: {c: model_counts[(r, c)] for c in cols} for r in rows},
        "baseline": {r: {c: base_counts[(r, c)] for c in bcols} for r in brows}}
    figures["two_by_two"] = {eff: two_by_two(found, eff, lambda r, e=eff: r.tool(e))
                             for eff in EFFECTS}

    disagree = [r for r in found if r.disagreements()]
    disagree.sort(key=lambda r: ("shape" not in r.disagreements(), r.label.shape,
                                 r.tool_shape or "", r.label.name))
    show = len(disagree) if args.show is None else min(args.show, len(disagree))
    want_explain = [] if args.no_explain else disagree if args.json else disagree[:show]
    if want_explain:
        mis = misnomer_command(args.misnomer)
        print(f"asking `misnomer explain` about {len(want_explain)} disagreement(s) ...",
              file=sys.stderr, flush=True)
        with ThreadPoolExecutor(args.jobs) as pool:
            for r, ex in zip(want_explain, pool.map(lambda r: run_explain(mis, db, r),
                                                    want_explain)):
                r.explain = ex

    # --- the report ----------------------------------------------------------------------
    print(f"misnomer accuracy: {len(labels)} labels ({labels_path.name}) against {db}")
    for w in warnings:
        print(f"  warning: {w}")
    print(f"  excluded (labelled 'missing'): {len(excluded)}; not found in the index: "
          f"{len(not_found)}; compared: {len(found)}"
          + (f"; label shapes outside the vocabulary: {', '.join(odd)}" if odd else ""))
    print()
    a = figures["agreement"]
    print(f"  {'':24}{'misnomer':>22}   {'name-only baseline':>22}")
    print(f"  {'shape':24}{pct(a['shape']['model_agree'], a['shape']['n']):>22}   "
          f"{pct(a['shape']['baseline_agree'], a['shape']['n']):>22}   (always 'action': "
          f"{pct(action_only[0], action_only[1])})")
    h = a["shape_high_confidence"]
    print(f"  {'shape, high-conf labels':24}{pct(h['model_agree'], h['n']):>22}   "
          f"{pct(h['baseline_agree'], h['n']):>22}")
    for eff in ("mutates", "allocates", "frees"):
        print(f"  {eff:24}{pct(a[eff]['model_agree'], a[eff]['n']):>22}   "
              f"{pct(a[eff]['baseline_agree'], a[eff]['n']):>22}")
    print(f"  {'out_params':24}{pct(a['out_params']['model_agree'], a['out_params']['n']):>22}"
          f"   {'-':>22}")
    print()
    print_confusion("Shape, misnomer (rows: label, columns: misnomer)", rows, cols,
                    model_counts)
    print()
    print_confusion("Shape, name-only baseline (rows: label, columns: guess)", brows, bcols,
                    base_counts)
    print()
    print("Effects (rows: label, columns: misnomer)")
    for eff in EFFECTS:
        print_two_by_two(eff, figures["two_by_two"][eff])
    print()
    print("Seed cases (the discussion that motivated misnomer; not in the labels)")
    for name, path, want, got in seeds:
        mark = "ok " if got == want else "MISS"
        print(f"  {mark} {name:28} {path:36} expected {want:7} misnomer {got or 'not found'}")
    figures["seed_cases"] = [{"name": n, "file": p, "expected": w, "misnomer": g}
                             for n, p, w, g in seeds]
    if not_found:
        print()
        print(f"Not found in the index ({len(not_found)}):")
        for r in not_found:
            print(f"  {r.label.name}  {r.label.path}:{r.label.line}")
    print()
    n_shape = sum("shape" in r.disagreements() for r in disagree)
    print(f"Disagreements: {len(disagree)} function(s), {n_shape} on shape"
          + (f" (showing {show})" if show < len(disagree) else ""))
    for i, r in enumerate(disagree[:show], start=1):
        lb = r.label
        fields = r.disagreements()
        where = f"{lb.path}:{lb.line}" + (f" (indexed at {r.tool_line})"
                                          if r.tool_line != lb.line else "")
        print(f"{i:3}. {lb.name}  {where}")
        conf = f", confidence {r.tool_confidence:.2f}" if r.tool_confidence is not None else ""
        print(f"     shape: label {lb.shape}, misnomer {r.tool_shape}{conf}"
              + ("" if "shape" in fields else " (agree)")
              + f"; baseline {r.baseline['shape']}"
              + ("; parsed with errors" if r.has_error else ""))
        effs = [f"{e}: label {'yes' if getattr(lb, e) else 'no'}, misnomer "
                f"{'yes' if r.tool(e) else 'no'}" for e in fields if e != "shape"]
        if effs:
            print("     " + "; ".join(effs))
        print(f"     label note ({lb.confidence or '?'}): {lb.note}")
        ex = r.explain
        if ex is None:
            continue
        if "error" in ex:
            print(f"     explain: {ex['error']}")
            continue
        print(f"     does: {ex['does']}")
        for reason in ex["reasons"][:8]:
            print(f"       {reason.get('line')}: {reason.get('text')}")
        if len(ex["reasons"]) > 8:
            print(f"       ... and {len(ex['reasons']) - 8} more")
        if ex.get("stale"):
            print("     (the file changed since it was indexed)")

    if args.json:
        figures["warnings"] = warnings
        figures["excluded"] = [{"name": lb.name, "path": lb.path, "note": lb.note}
                               for lb in excluded]
        figures["functions"] = [{
            "name": r.label.name, "path": r.label.path, "line": r.label.line,
            "found": r.found, "tool_line": r.tool_line, "candidates": r.candidates,
            "label": {"shape": r.label.shape, "mutates": r.label.mutates,
                      "allocates": r.label.allocates, "frees": r.label.frees,
                      "out_params": r.label.out_params, "confidence": r.label.confidence,
                      "note": r.label.note},
            "tool": {"shape": r.tool_shape, "effects": r.tool_effects,
                     **{e: r.tool(e) for e in EFFECTS}, "confidence": r.tool_confidence,
                     "parse_errors": r.has_error} if r.found else None,
            "baseline": r.baseline, "disagreements": r.disagreements() if r.found else [],
            "explain": r.explain} for r in results]
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")
        print(f"\nfigures written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
