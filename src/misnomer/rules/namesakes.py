"""MN401: a macro or constant named like a function, whose uses never lead to that function.

`KVM_REQ_MMU_RELOAD` shares every distinctive word of `kvm_mmu_reload()`, yet the code that
handles the request calls `kvm_mmu_unload()`.  A reader of either name will assume the other.
A *use* here is a test of the macro in an if condition (where a request or flag is handled);
the calls in that arm, and what they call, are where the use leads.
"""

from __future__ import annotations

import multiprocessing
import os
import posixpath
import re
from collections import defaultdict
from collections.abc import Iterator

from ..analysis.callgraph import arch_of
from ..facts import Region
from ..findings import Evidence, Finding, Rule
from ..c.rewrite import trie_pattern
from ..index.source import SourceReader
from ..names import split_words
from .base import CheckContext, FunctionView

NAMESAKE_MISMATCH = Rule(
    id="MN401", symbol="namesake-mismatch", name="namesake-mismatch", family="namesake",
    message="{macro} is named like {name}() but where it is handled, {handled} is called, "
            "never {name}()",
    description=(
        "A macro or constant (a request bit, a command code, a flag) shares every distinctive "
        "word of a function's name, so readers take one for the other.  But wherever the "
        "macro is tested in an `if`, the code in that branch leads elsewhere: the function "
        "named like it is not called there (directly or one call down).  One of the two names "
        "should change."),
    bad_example=(
        "#define REQ_CACHE_RELOAD 3\n\nint cache_reload(struct cache *c)\n{\n"
        "\treturn cache_fill(c);\n}\n\n"
        "void handle_requests(struct cache *c)\n{\n\tif (test_bit(REQ_CACHE_RELOAD, &c->req))\n"
        "\t\tcache_drop(c);\n}\n"),
    good_example=(
        "#define REQ_CACHE_DROP 3\n\nint cache_reload(struct cache *c)\n{\n"
        "\treturn cache_fill(c);\n}\n\n"
        "void handle_requests(struct cache *c)\n{\n\tif (test_bit(REQ_CACHE_DROP, &c->req))\n"
        "\t\tcache_drop(c);\n}\n"))

RULES = [NAMESAKE_MISMATCH]

# Words a macro adds to a function's name to make a request, flag or command of it.
DECORATIONS = frozenset({
    "req", "request", "requests", "flag", "flags", "bit", "bits", "mask", "cmd", "command",
    "op", "opcode", "event", "evt", "ev", "msg", "message", "state", "id", "type", "mode",
    "feature", "feat", "cap", "caps", "status", "stat", "nr", "num", "code", "ctl", "ctrl",
    "pending", "pend", "sig", "signal", "work", "action", "act", "kick", "need", "needs"})
# ... of which these make a request or command of it, something code handles by acting: a
# macro that only names a state or a status bit (USB_PORT_STAT_SUSPEND) is tested, not handled.
# Events and messages are left out: LINK_UP_EVT says the link came up, and its handler reacts
# to that; nobody expects it to call link_up().  So are status words (STATUS_SCAN_PENDING,
# CIFS_CREATE_ACTION): a state noted, or a protocol's reply, not an order; and operation codes
# (CIFS_READ_OP): a kind of operation, which the code named like it need not perform.
REQUESTS = frozenset({"req", "request", "requests", "cmd", "command", "work", "kick", "need",
                      "needs"})
MAX_CANDIDATES = 400


class Namesakes:
    """Collects (macro, function) pairs while check walks the functions, then judges them.

    The macros are indexed first -- by their words without decorations (REQ, FLAG, CMD...)
    -- so that each function only looks its own name up: no list of every function is kept.
    """

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self.by_key: dict[tuple[str, ...], list[tuple[str, str, int]]] = defaultdict(list)
        self.pairs: dict[str, tuple[str, int, list[FunctionView]]] = {}
        decorated = re.compile(r"(?:^|_)(?:" + "|".join(sorted(w.upper() for w in REQUESTS))
                               + r")(?:_|$)")
        seen = set()
        for name, path, line in ctx.index.conn.execute(
                "SELECT m.name, files.path, m.line FROM macros m JOIN files ON "
                "files.id = m.file_id WHERE m.params IS NULL AND m.name GLOB '*[A-Z]_[A-Z]*'"):
            if name in seen or not name.isupper() or not decorated.search(name):
                continue
            seen.add(name)
            words = split_words(name)
            key = tuple(w for w in words if w not in DECORATIONS)
            if len(key) >= 2 and key != words:
                self.by_key[key].append((name, path, line))

    def see(self, fn: FunctionView) -> None:
        if fn.verb is None or not self.by_key:
            return
        words = fn.parts.words
        here = posixpath.dirname(fn.file)
        # the name (KVM_REQ_MMU_RELOAD ~ kvm_mmu_reload), and in the function's own directory
        # its tails that keep the verb (REQ_MMU_RELOAD ~ vcpu_mmu_reload); a tail elsewhere
        # is a coincidence (DMA_MODE_READ is not about some driver's foo_dma_read)
        for start in range(len(words) - 1):
            key = words[start:]
            if fn.verb not in key:
                break
            for macro, path, line in self.by_key.get(key, ()):
                if start and posixpath.dirname(path) != here:
                    continue
                if arch_of(path) not in (None, arch_of(fn.file)):
                    continue  # arm64's request is not handled by x86's function
                if _area(path) != _area(fn.file):
                    continue  # a driver's own BITMAP_OP_SET is not about lib's bitmap_set()
                entry = self.pairs.setdefault(macro, (path, line, []))
                if len(entry[2]) < 8:
                    entry[2].append(fn)

    def findings(self) -> Iterator[Finding]:
        if not self.pairs:
            return
        if len(self.pairs) > MAX_CANDIDATES:
            # keep the macros named like the most-called functions
            ranked = sorted(self.pairs.items(), key=lambda kv: -max(f.callers for f in kv[1][2]))
            self.pairs = dict(ranked[:MAX_CANDIDATES])
        yield from _judge(self.ctx, self.pairs)


def _judge(ctx: CheckContext, candidates: dict) -> Iterator[Finding]:
    uses = _use_sites(ctx, sorted(candidates))
    reader = SourceReader(ctx.index)
    for macro, (path, line, namesakes) in sorted(candidates.items()):
        handled = _handlers(ctx, reader, macro, uses.get(macro, []))
        if not any(_acts(ctx, callees) for _, _, callees in handled):
            # never tested in a condition, or the branches only log or set fields: a command
            # code parsed back or a flag merely noted is no evidence of another handler
            continue
        for fn in namesakes:
            if not fn.visible and all(f != fn.file for f, _, _ in handled):
                continue  # a static function elsewhere cannot be what the handlers call
            if any(f == fn.file and fn.line <= ln <= fn.end_line
                   for f, ln in uses.get(macro, [])):
                continue  # the function itself posts or tests it: the names belong together
            if any(_leads_to(ctx, callees, fn.name) for _, _, callees in handled):
                continue
            where = [Evidence(f, ln, "handled by " + (", ".join(f"{c}()" for c in callees[:3])
                                                        or "no call"))
                     for f, ln, callees in handled[:3]]
            shown = sorted({c for _, _, cs in handled for c in cs})[:3]
            yield Finding(
                rule=NAMESAKE_MISMATCH, function=fn.name, file=path, line=line, column=1,
                end_line=line, end_column=1, message=NAMESAKE_MISMATCH.message.format(
                    macro=macro, name=fn.name,
                    handled=", ".join(f"{c}()" for c in shown) or "nothing"),
                evidence=tuple([Evidence(fn.file, fn.line, f"{fn.name}() is defined here")]
                               + where),
                confidence=round(min(fn.confidence, 0.9), 2))


def _use_sites(ctx: CheckContext, macros: list[str]) -> dict[str, list[tuple[str, int]]]:
    """(file, line) of every mention of each macro outside its #define lines."""
    root = str(ctx.index.root)
    paths = [p for (p,) in ctx.index.conn.execute(
        "SELECT path FROM files WHERE status = 'parsed'")]
    pattern = r"(?<![\w$])(" + trie_pattern(set(macros)) + r")(?![\w$])"
    args = [(root, p, pattern) for p in paths]
    found: dict[str, list[tuple[str, int]]] = defaultdict(list)
    jobs = min(os.cpu_count() or 1, 8)
    ctx_mp = multiprocessing.get_context(
        "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn")
    with ctx_mp.Pool(jobs) as pool:
        for hits in pool.imap_unordered(_scan, args, chunksize=64):
            for macro, path, line in hits:
                found[macro].append((path, line))
    return found


def _scan(task: tuple[str, str, str]) -> list[tuple[str, str, int]]:
    root, path, pattern = task
    try:
        with open(os.path.join(root, path), "rb") as fh:
            text = fh.read().decode("utf-8", "replace")
    except OSError:
        return []
    hits = []
    regex = re.compile(pattern)
    for m in regex.finditer(text):
        line_start = text.rfind("\n", 0, m.start()) + 1
        if text[line_start:m.start()].lstrip().startswith("#"):
            continue  # its own #define, or an #if
        hits.append((m.group(1), path, text.count("\n", 0, m.start()) + 1))
    return hits


def _handlers(ctx: CheckContext, reader: SourceReader, macro: str,
              sites: list[tuple[str, int]]) -> list[tuple[str, int, list[str]]]:
    """For each use of ``macro`` in an if condition: (file, line, calls made in that arm)."""
    handled = []
    seen: set[tuple[str, int]] = set()
    for path, line in sites:
        row = ctx.index.conn.execute(
            "SELECT f.id FROM functions f JOIN files ON files.id = f.file_id WHERE files.path = ? "
            "AND f.start_line <= ? AND f.end_line >= ?", (path, line, line)).fetchone()
        if row is None:
            continue
        try:
            facts = reader.facts(ctx.index.function(row[0])).facts
        except Exception:  # the file changed or cannot be read: no evidence from it
            continue
        for b in facts.branches:
            if b.kind == "then" and macro in b.condition and b.if_line <= line <= b.end_line:
                if re.search(r"!=\s*" + macro + r"\b|\b" + macro + r"\s*!=", b.condition):
                    break  # `if (cmd != CMD_X)`: the other commands are handled here
                key = (path, b.if_line)
                if key in seen:
                    break  # the same branch, reached through another mention
                seen.add(key)
                calls = [c.callee for c in facts.calls if b.line <= c.line <= b.end_line
                         and not c.region & Region.CONDITION]
                handled.append((path, b.if_line, list(dict.fromkeys(calls))))
                break
    return handled


def _area(path: str) -> str:
    """The part of the tree a file belongs to: its first two directories (arch/x86,
    drivers/md, fs/btrfs), where a subsystem's requests and their handlers live."""
    return "/".join(posixpath.dirname(path).split("/")[:2])


def _acts(ctx: CheckContext, callees: list[str]) -> bool:
    """Does any of these calls do something (not only log or report)?"""
    return any(p is None or p.changes_state for p in map(ctx.table.lookup, callees))


def _leads_to(ctx: CheckContext, callees: list[str], target: str) -> bool:
    """Is ``target`` among the callees, or called by one of them?"""
    if target in callees:
        return True
    for name in callees:
        for (raw,) in ctx.index.conn.execute(
                "SELECT callees FROM functions WHERE name = ?", (name,)):
            if f'"{target}"' in raw:
                return True
    return False


__all__ = ["Namesakes", "RULES", "NAMESAKE_MISMATCH"]
