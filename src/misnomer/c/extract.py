"""Turn a parsed C file into facts: one :class:`FunctionFacts` per function definition.

All node finding is done by one compiled query (``queries/functions.scm``) in tree-sitter's C
code.  Python only sorts the captured nodes into functions and regions using byte offsets:
arms, loops and error paths are properly nested intervals, so "which arm is this call in" is a
sweep over sorted lists rather than a walk up the tree.  This file is the hot path of indexing
(tens of millions of facts on the Linux tree), hence rows instead of objects and local variables
instead of attribute look-ups in the loops.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from functools import lru_cache
from operator import attrgetter

from ..facts import ExitKind, FunctionFacts, Param, Region, ReturnKind, TargetKind
from .arguments import (BY_VALUE, LOCAL_ALIAS, LOCAL_ARRAY, LOCAL_POINTER, POINTER_PARAM,
                        argument_codes, split_arguments)
from .expressions import classify_lvalue, classify_return, collapse, normalize_condition
from .params import parse_params, return_kind_of
from .rewrite import DefinedName
from .treesitter import Node, Tree, captures, query

_EXPORT_RE = re.compile(rb"EXPORT_SYMBOL\w*\s*\(\s*([A-Za-z_]\w*)\s*[,)]")
_ERROR_LABEL_RE = re.compile(
    r"(?:^|_)(?:err|errs|error|errout|fail|failed|failure|bad|abort|nomem|enomem|einval|undo|"
    r"unwind|rollback|cleanup|free|release|put|destroy|unmap|unregister|unreg|disable|del|remove|"
    r"revert|restore|drop|kfree|dealloc|deinit|uninit|err\d+)(?:_|\d|$)"
)
_STORAGE_RE = re.compile(r"\b(static|inline|__inline__|__inline|extern)\b")
_GOTO_LABEL_RE = re.compile(rb"goto\s+([A-Za-z_]\w*)")
_ASSIGN_OP_RE = re.compile(rb"\s*(<<=|>>=|[-+*/%&|^]?=)")
_ARG0_RE = re.compile(rb"\s*\(\s*(&?\s*[A-Za-z_]\w*)\s*[,)]")
_ARG_BASE_RE = re.compile(rb"\s*\(\s*[&*(\s]*([A-Za-z_]\w*)")
_WORD_RE = re.compile(rb"[A-Za-z_]\w*")
# callees that give back what another call took: a reference, memory, a registration
_RELEASE_RE = re.compile(r"(?:^|_)(?:put|release|free|destroy|unref|deref|unget|unpin|unhold|"
                         r"unreference)(?:_|$)|^(?:k|v|kv)free(?:_sensitive)?$")
_WS = re.compile(r"\s+")
_START = attrgetter("start_byte")
_IDENT = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")
_VALUE = ReturnKind.VALUE.value
_LOOP_KINDS = {"for_statement": "for", "while_statement": "while", "do_statement": "do"}
_EXITS = {"return_statement": ExitKind.RETURN, "goto_statement": ExitKind.GOTO,
          "continue_statement": ExitKind.CONTINUE, "break_statement": ExitKind.BREAK}
_CONDITIONAL, _LOOP, _ERROR, _CONDITION, _RETURNED, _INDIRECT, _GLOBAL_ARG = (
    int(Region.CONDITIONAL), int(Region.LOOP), int(Region.ERROR_PATH), int(Region.CONDITION),
    int(Region.RETURNED), int(Region.INDIRECT), int(Region.GLOBAL_ARG))


def is_error_label(name: str) -> bool:
    return bool(_ERROR_LABEL_RE.search(name.lower()))


class _Lines:
    """Line and column of increasing byte offsets, counting newlines incrementally."""

    __slots__ = ("src", "pos", "line", "line_start")

    def __init__(self, src: bytes) -> None:
        self.src = src
        self.pos = 0
        self.line = 1
        self.line_start = 0

    def at(self, p: int) -> tuple[int, int]:
        if p < self.pos:
            self.pos, self.line, self.line_start = 0, 1, 0
        n = self.src.count(b"\n", self.pos, p)
        if n:
            self.line += n
            self.line_start = self.src.rfind(b"\n", self.pos, p) + 1
        self.pos = p
        return self.line, p - self.line_start + 1


def innermost(starts: list[int], ends: list[int], positions: list[int]) -> list[int]:
    """For properly nested intervals sorted by start and sorted ``positions``: the index of the
    innermost interval containing each position, or -1."""
    n = len(starts)
    out = []
    stack: list[int] = []
    j = 0
    for p in positions:
        while j < n and starts[j] <= p:
            while stack and ends[stack[-1]] <= starts[j]:
                stack.pop()
            stack.append(j)
            j += 1
        while stack and ends[stack[-1]] <= p:
            stack.pop()
        out.append(stack[-1] if stack else -1)
    return out


def union(spans: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """Merge intervals into disjoint ones, as (starts, ends) for bisection."""
    starts: list[int] = []
    ends: list[int] = []
    for s, e in sorted(spans):
        if ends and s < ends[-1]:
            if e > ends[-1]:
                ends[-1] = e
        else:
            starts.append(s)
            ends.append(e)
    return starts, ends


class FileExtractor:
    """Extracts the facts of one file.  ``src`` is the rewritten source the tree was parsed
    from; ``original`` (same length) is used for text shown to users."""

    def __init__(self, src: bytes, original: bytes, tree: Tree,
                 defined: dict[int, DefinedName],
                 argument_free: frozenset[str] = frozenset()) -> None:
        self.src = src
        self.argument_free = argument_free
        self.original = original
        self.tree = tree
        self.defined = defined
        self.caps = captures(query("functions"), tree.root_node)
        # A capture's nodes come in match order, which is not document order across patterns;
        # everything below relies on document order.
        for nodes in self.caps.values():
            nodes.sort(key=_START)

    def functions(self) -> list[FunctionFacts]:
        caps = self.caps
        fnodes = _outermost(caps.get("function", []))
        if not fnodes:
            return []
        self.fstarts = [f.start_byte for f in fnodes]
        self.fends = [f.end_byte for f in fnodes]
        facts = self._definitions(fnodes)
        self._arms(facts)
        self._returns(facts)
        self._calls(facts)
        self._writes(facts)
        self._structure(facts)
        self._param_uses(facts)
        self._callbacks(facts)
        return [f for f in facts if f.name]

    def _callbacks(self, facts: list[FunctionFacts]) -> None:
        """Mark the functions whose address the file takes: installed in an ops table, passed
        to request_irq() or INIT_WORK(), assigned to a function pointer.  A framework chose
        their names.  ``bytes.count`` rules most functions out at C speed; only names seen more
        often than they are called and defined get the exact (word, not a call, not in a
        comment, a string or EXPORT_SYMBOL) search."""
        installed = {self.src[n.start_byte:n.end_byte] for n in self.caps.get("callback", [])}
        src = self.src
        calls: dict[str, int] = {}
        for ff in facts:
            for row in ff.call_rows:
                calls[row[0]] = calls.get(row[0], 0) + 1
        skipped: list[tuple[int, int]] | None = None
        for ff in facts:
            name = ff.name.encode()
            if not name or name in installed:
                ff.is_callback = bool(name)
                continue
            if src.count(name) <= calls.get(ff.name, 0) + 1:
                continue
            if skipped is None:
                skipped = [m.span() for m in _NOT_CODE_RE.finditer(src)]
                skipped_starts = [a for a, _ in skipped]
            at = src.find(name)
            while at >= 0:
                end = at + len(name)
                nxt = _NEXT_TOKEN_RE.match(src, end)
                if (at and src[at - 1] in _IDENT) or nxt is None or nxt.group(1) in (b"(", b"") \
                        or (end < len(src) and src[end] in _IDENT) or \
                        src[max(0, at - 3):at].rstrip().endswith((b".", b"->")):
                    at = src.find(name, end)
                    continue  # part of a longer name, a call, a definition, a prototype, a field
                k = bisect_right(skipped_starts, at) - 1
                if k >= 0 and skipped[k][1] > at or \
                        _EXPORT_BEFORE_RE.search(src, max(0, at - 40), at) or \
                        _DECLARED_AFTER_RE.search(src, max(0, at - 40), at):
                    at = src.find(name, end)
                    continue  # in a comment, a string, EXPORT_SYMBOL(), a declaration
                ff.is_callback = True
                break

    # --- sorting nodes into functions ------------------------------------------------------
    def _owned(self, nodes: list[Node]):
        """(function index, index in ``nodes``, node) for each node inside a function."""
        fstarts, fends = self.fstarts, self.fends
        nf = len(fstarts)
        i = 0
        for k, n in enumerate(nodes):
            p = n.start_byte
            while i < nf and fends[i] <= p:
                i += 1
            if i < nf and fstarts[i] <= p:
                yield i, k, n

    def _owner(self, pos: int) -> int:
        i = bisect_right(self.fstarts, pos) - 1
        return i if i >= 0 and pos < self.fends[i] else -1

    def _regions(self, positions: list[int]) -> list[int]:
        """Loop / error-path / condition bits for sorted offsets (the CONDITIONAL bit comes
        from the innermost arm, which the caller knows)."""
        out = [0] * len(positions)
        for bit, (starts, ends) in ((_LOOP, self.loop_union), (_ERROR, self.error_union),
                                    (_CONDITION, self.cond_union)):
            if not starts:
                continue
            j, n = 0, len(starts)
            for k, p in enumerate(positions):
                while j < n and ends[j] <= p:
                    j += 1
                if j == n:
                    break
                if starts[j] <= p:
                    out[k] |= bit
        return out

    # --- definitions -------------------------------------------------------------------------
    def _definitions(self, fnodes: list[Node]) -> list[FunctionFacts]:
        caps = self.caps
        self.exports = {m.group(1).decode("ascii") for m in _EXPORT_RE.finditer(self.original)}
        lines = _Lines(self.src)
        facts = []
        for f in fnodes:
            sl, _ = lines.at(f.start_byte)
            facts.append(FunctionFacts(
                name="", line=sl, column=1, end_line=f.end_point[0] + 1, end_column=1,
                is_static=False, is_inline=False, is_exported=False, return_type="",
                return_kind="other", params=[], has_error=f.has_error, variant="",
                defined_by="", signature="", start_line=sl))
        found = [False] * len(fnodes)
        lines = _Lines(self.src)
        for name_node, params_node in zip(caps.get("function.name", []),
                                          caps.get("function.params", [])):
            i = self._owner(name_node.start_byte)
            if i >= 0 and not found[i]:
                found[i] = True
                self._describe(facts[i], fnodes[i], name_node, params_node, lines)
        for i, ok in enumerate(found):
            if not ok:
                self._describe_by_walking(facts[i], fnodes[i])
        self.params = [{p.name: p.is_pointer for p in f.params if p.name} for f in facts]
        self.return_kinds = [f.return_kind for f in facts]
        src = self.src
        # (an #ifdef inside a function body holds its locals: the patterns for file-scope
        # #ifdefs match there too)
        self.globals = {src[n.start_byte:n.end_byte].decode("utf-8", "replace")
                        for n in caps.get("global", []) if self._owner(n.start_byte) < 0}
        self.arrays: list[set[str]] = [set() for _ in facts]
        for fi, _, n in self._owned(caps.get("array", [])):
            self.arrays[fi].add(src[n.start_byte:n.end_byte].decode("utf-8", "replace"))
        self.locals: list[set[bytes]] = [set() for _ in facts]
        for fi in range(len(facts)):
            # `DECLARE_BITMAP(scratch, N);`, `XA_STATE(xas, xa, index);`: locals declared
            # through a macro
            for m in _DECLARING_MACRO_RE.finditer(src, self.fstarts[fi], self.fends[fi]):
                self.locals[fi].add(m.group(1))
                self.arrays[fi].add(m.group(1).decode("utf-8", "replace"))
        self.local_pointers = local_pointers = [set() for _ in facts]
        # pointers declared to point into a local (`struct hdr *h = &msg.hdr;`): what is
        # written through them stays in this function's frame
        self.aliases: list[set[str]] = [set() for _ in facts]
        pointed: list[tuple[int, bytes, bytes]] = []
        for fi, _, n in self._owned(caps.get("local", [])):
            m = _DECLARED_NAME_RE.match(src, n.start_byte, n.end_byte)
            if m:
                self.locals[fi].add(m.group(1))
                if b"*" in src[n.start_byte:m.start(1)]:
                    local_pointers[fi].add(m.group(1))
                    target = _POINTS_INTO_RE.match(src, m.end(1), n.end_byte)
                    if target:
                        pointed.append((fi, m.group(1), target.group(1) or target.group(2)))
        for fi, name, target in pointed:
            if target in self.locals[fi] and target not in local_pointers[fi] or \
                    target.decode("utf-8", "replace") in self.arrays[fi]:
                self.aliases[fi].add(name.decode("utf-8", "replace"))
        for fi, pointers in enumerate(local_pointers):
            # a scratch buffer: allocated and freed here, what is written into it stays here
            if not pointers:
                continue
            start, end = self.fstarts[fi], self.fends[fi]
            freed = {m.group(1) for m in _FREED_RE.finditer(src, start, end)} & pointers
            if freed:
                freed &= {m.group(1) for m in _ALLOCATED_RE.finditer(src, start, end)}
            if freed:
                # (not handed on: `dev->buf = p;`, `return p;`)
                freed -= {m.group(1) for m in _HANDED_ON_RE.finditer(src, start, end)}
                self.aliases[fi].update(n.decode("utf-8", "replace") for n in freed)
        self.arg_names = [_argument_names(f, self.locals[fi], local_pointers[fi],
                                          self.arrays[fi], self.aliases[fi])
                          for fi, f in enumerate(facts)]
        return facts

    def _describe(self, ff: FunctionFacts, fnode: Node, name_node: Node, params_node: Node,
                  lines: _Lines) -> None:
        src = self.src
        name_start, name_end = name_node.start_byte, name_node.end_byte
        # tree-sitter ends an identifier at a byte that is not valid UTF-8; take it whole
        while name_start > 0 and (src[name_start - 1] >= 0x80 or src[name_start - 1] in _IDENT):
            name_start -= 1
        while name_end < len(src) and (src[name_end] >= 0x80 or src[name_end] in _IDENT):
            name_end += 1
        ff.name = src[name_start:name_end].decode("utf-8", "replace")
        ff.line, ff.column = lines.at(name_start)
        prefix = src[fnode.start_byte:name_start].decode("utf-8", "replace")
        defined = self.defined.get(name_start)
        if defined is not None:
            ff.name = defined.name
            ff.defined_by = defined.macro
            ff.column = defined.name_offset - (src.rfind(b"\n", 0, defined.name_offset) + 1) + 1
        storage = _STORAGE_RE.findall(prefix) if "static" in prefix or "inline" in prefix or \
            "extern" in prefix else ()
        ff.is_static = "static" in storage
        ff.is_inline = any(s != "static" and s != "extern" for s in storage)
        ff.is_exported = ff.name in self.exports or (defined is not None and not ff.is_static)
        rtype = _STORAGE_RE.sub(" ", prefix) if storage else prefix
        rtype = _WS.sub(" ", rtype).strip()
        ff.return_type = rtype
        ff.return_kind = return_kind_of(rtype)
        ff.params = parse_params(
            src[params_node.start_byte:params_node.end_byte].decode("utf-8", "replace"))
        if ff.params and all(not p.type for p in ff.params):
            ff.params = self._kr_params(fnode, ff.params)
        shown = self.original[fnode.start_byte:params_node.end_byte].decode("utf-8", "replace")
        ff.signature = collapse(shown, 400)

    def _kr_params(self, fnode: Node, names: list[Param]) -> list[Param]:
        """K&R definitions (`int f(p, v) int *p; int v; {`) type their parameters in the
        declarations between the declarator and the body."""
        typed = []
        for decl in fnode.named_children:
            if decl.type != "declaration":
                continue
            type_node = decl.child_by_field_name("type")
            if type_node is None:
                continue
            base = self.src[decl.start_byte:type_node.end_byte].decode("utf-8", "replace")
            typed += [base + " " + self.src[d.start_byte:d.end_byte].decode("utf-8", "replace")
                      for d in decl.children_by_field_name("declarator")]
        if not typed:
            return names
        by_name = {p.name: p for p in parse_params("(" + ", ".join(typed) + ")")}
        return [by_name.get(p.name, p) for p in names]

    def _describe_by_walking(self, ff: FunctionFacts, fnode: Node) -> None:
        """Rare declarator shapes the query does not list (parenthesised, attributed)."""
        node = fnode.child_by_field_name("declarator")
        params = None
        while node is not None and node.type != "identifier":
            if node.type == "function_declarator" and params is None:
                params = node.child_by_field_name("parameters")
            nxt = node.child_by_field_name("declarator")
            if nxt is None:
                nxt = next((c for c in node.named_children
                            if c.type.endswith("declarator") or c.type == "identifier"), None)
            node = nxt
        if node is not None and params is not None:
            self._describe(ff, fnode, node, params, _Lines(self.src))
        # otherwise not a function we can name (a misparse): it is dropped

    # --- arms (branches), exits and regions ----------------------------------------------------
    def _arms(self, facts: list[FunctionFacts]) -> None:
        caps = self.caps
        src = self.src
        # (start, end, kind, condition node, key of the if = its condition's start)
        arms: list[tuple] = []
        conds = caps.get("if.condition", [])
        thens = caps.get("branch.then", [])
        if len(conds) != len(thens) or any(c.end_byte > t.start_byte for c, t in zip(conds, thens)):
            conds, thens = _pair_if_parts(caps.get("branch.then", []))
        for cond, then in zip(conds, thens):
            arms.append((then.start_byte, then.end_byte, "then", cond, cond.start_byte))
        elses = caps.get("branch.else", [])
        if elses:
            # An else belongs to the if whose then-arm ends last before it (dangling else too).
            by_end = sorted(arms, key=lambda a: a[1])
            ends = [a[1] for a in by_end]
            for node in elses:
                k = bisect_right(ends, node.start_byte) - 1
                if k >= 0:
                    then = by_end[k]
                    arms.append((node.start_byte, node.end_byte, "else", then[3], then[4]))
        sconds = caps.get("switch.condition", [])
        for cond, body in zip(sconds, caps.get("branch.switch", [])):
            arms.append((body.start_byte, body.end_byte, "switch", cond, -1))
        for node in caps.get("branch.ternary", []):
            arms.append((node.start_byte, node.end_byte, "ternary", None, -1))
        arms.sort(key=lambda a: (a[0], -a[1]))
        self.arm_starts = [a[0] for a in arms]
        self.arm_ends = [a[1] for a in arms]

        # Return values first: exits need their categories to tell error arms.
        self.return_info: dict[int, tuple[str, str, str | None]] = {}
        self.returned_calls: set[int] = set()
        for r in caps.get("return", []):
            rs, re_ = r.start_byte, r.end_byte
            raw = src[rs + 6:re_].decode("utf-8", "replace").rstrip().rstrip(";")
            text = collapse(raw)
            kind, callee = classify_return(text)
            if callee is not None:
                self.returned_calls.add(rs + 6 + len(raw) - len(raw.lstrip()))
            self.return_info[rs] = (kind.value, text, callee)

        self._errors_passed_on(caps.get("return", []), arms, conds)

        labels = {src[n.start_byte:n.end_byte].decode("utf-8", "replace")
                  for n in caps.get("label", [])}
        self.error_labels = {name for name in labels if is_error_label(name)}
        # How each arm ends: its last return or jump, when nothing but "}" follows it.
        jumps = caps.get("jump", [])
        exits = sorted(caps.get("return", []) + jumps, key=_START) if jumps else \
            caps.get("return", [])
        owners = innermost(self.arm_starts, self.arm_ends, [n.start_byte for n in exits])
        last: dict[int, Node] = {}
        for node, owner in zip(exits, owners):
            if owner >= 0:
                last[owner] = node
        arm_exit: dict[int, tuple] = {}
        error_spans: list[tuple[int, int]] = []
        for owner, node in last.items():
            if not _ends_arm(src, node.end_byte, self.arm_ends[owner]):
                continue
            kind = _EXITS[node.type]
            if kind is ExitKind.RETURN:
                value, text, _ = self.return_info[node.start_byte]
                info = (kind.value, value, text, value == "failure")
            elif kind is ExitKind.GOTO:
                m = _GOTO_LABEL_RE.search(src, node.start_byte, node.end_byte)
                label = m.group(1).decode("utf-8", "replace") if m else ""
                info = (kind.value, None, label, label in self.error_labels)
            else:
                info = (kind.value, None, "", False)
            if arms[owner][2] not in ("then", "else") and info[3]:
                # a switch body ending in `default: return -EINVAL;` is not all error
                info = (*info[:3], False)
            arm_exit[owner] = info
            if info[3]:
                error_spans.append((arms[owner][0], arms[owner][1]))
        # Code after an error label runs on the error path, to the end of the function.
        for node in caps.get("label", []):
            if src[node.start_byte:node.end_byte].decode("utf-8", "replace") in self.error_labels:
                i = self._owner(node.start_byte)
                if i >= 0:
                    error_spans.append((node.start_byte, self.fends[i]))
        self.error_union = union(error_spans)
        self.loop_union = union([(n.start_byte, n.end_byte) for n in caps.get("loop", [])])
        self.cond_union = union([(n.start_byte, n.end_byte) for n in conds])

        # An if is a statement of the function body when no arm or loop encloses it, and of
        # a loop body when the innermost enclosing loop is nested deeper than any arm.
        loops = caps.get("loop", [])
        cond_starts = [c.start_byte for c in conds]
        arm_of_if = innermost(self.arm_starts, self.arm_ends, cond_starts)
        loop_of_if = innermost([n.start_byte for n in loops], [n.end_byte for n in loops],
                               cond_starts)
        top, loop_level = set(), set()
        for pos, arm, loop in zip(cond_starts, arm_of_if, loop_of_if):
            if loop < 0:
                if arm < 0:
                    top.add(pos)
            elif arm < 0 or self.arm_starts[arm] < loops[loop].start_byte:
                loop_level.add(pos)
        self.arm_local = [-1] * len(arms)
        lines = _Lines(src)
        cond_text: dict[int, str] = {}
        fi = 0
        fstarts, fends = self.fstarts, self.fends
        nf = len(fstarts)
        for ai, (start, end, kind, cond, key) in enumerate(arms):
            while fi < nf and fends[fi] <= start:
                fi += 1
            if fi >= nf or fstarts[fi] > start:
                continue
            rows = facts[fi].branch_rows
            if cond is None:
                condition = "?:"
            else:
                condition = cond_text.get(cond.start_byte)
                if condition is None:
                    condition = normalize_condition(
                        src[cond.start_byte:cond.end_byte].decode("utf-8", "replace"))
                    cond_text[cond.start_byte] = condition
            ex = arm_exit.get(ai)
            line, col = lines.at(start)
            end_line = line + src.count(b"\n", start, end)
            end_col = col + (end - start) if end_line == line else \
                end - src.rfind(b"\n", start, end)
            if_line = line - src.count(b"\n", key, start) if 0 <= key <= start else line
            self.arm_local[ai] = len(rows)
            rows.append((kind, condition, line, col, end_line,
                         ex[0] if ex else None, ex[1] if ex else None, ex[2] if ex else "",
                         int(bool(ex and ex[3])), int(kind == "then" and key in top),
                         int(kind == "then" and key in loop_level), if_line, end_col))

    def _errors_passed_on(self, rets: list[Node], arms: list[tuple], conds: list[Node]) -> None:
        """`if (ret) return ret;` returns an error code: the value tested is the one returned."""
        candidates = [r for r in rets if self.return_info[r.start_byte][0] == _VALUE
                      and self.return_info[r.start_byte][1].isidentifier()]
        if not candidates:
            return
        owners = innermost(self.arm_starts, self.arm_ends, [r.start_byte for r in candidates])
        src = self.src
        for r, owner in zip(candidates, owners):
            if owner < 0 or arms[owner][2] != "then" or arms[owner][3] is None:
                continue
            fi = self._owner(r.start_byte)
            if fi < 0 or self.return_kinds[fi] == "bool":
                continue  # `if (rc) return rc;` in a predicate answers true
            cond = arms[owner][3]
            test = normalize_condition(src[cond.start_byte:cond.end_byte].decode(
                "utf-8", "replace")).replace(" ", "")
            name = self.return_info[r.start_byte][1]
            if test in (name, f"{name}<0", f"{name}!=0", f"({name})", f"{name}<0||{name}>0"):
                self.return_info[r.start_byte] = (ReturnKind.FAILURE.value, name, None)

    # --- body facts ----------------------------------------------------------------------------
    def _returns(self, facts: list[FunctionFacts]) -> None:
        rets = self.caps.get("return", [])
        starts = [n.start_byte for n in rets]
        arms = innermost(self.arm_starts, self.arm_ends, starts)
        regions = self._regions(starts)
        lines = _Lines(self.src)
        arm_local, info = self.arm_local, self.return_info
        for fi, k, n in self._owned(rets):
            p = starts[k]
            kind, text, callee = info[p]
            arm = arms[k]
            line, col = lines.at(p)
            facts[fi].return_rows.append(
                (kind, text, callee, line, col,
                 regions[k] | (_CONDITIONAL if arm >= 0 else 0),
                 arm_local[arm] if arm >= 0 else -1))

    def _calls(self, facts: list[FunctionFacts]) -> None:
        caps = self.caps
        src = self.src
        member = caps.get("call.member", [])
        nodes = caps.get("call", [])
        if member:
            nodes = sorted(nodes + member, key=_START)
        member_starts = {n.start_byte for n in member}
        starts = [n.start_byte for n in nodes]
        arms = innermost(self.arm_starts, self.arm_ends, starts)
        regions = self._regions(starts)
        lines = _Lines(src)
        arm_local, returned = self.arm_local, self.returned_calls
        global_names = self.globals
        arg0_match = _ARG0_RE.match
        base_match = _ARG_BASE_RE.match
        argument_free = self.argument_free
        for fi, k, n in self._owned(nodes):
            start, end = starts[k], n.end_byte
            arm = arms[k]
            if arm >= 0:
                r = regions[k] | _CONDITIONAL
                arm = arm_local[arm]
            else:
                r = regions[k]
            if start in member_starts:
                callee = _WS.sub("", src[start:end].decode("utf-8", "replace"))
                r |= _INDIRECT
                if start in returned:
                    r |= _RETURNED
            else:
                callee = src[start:end].decode("utf-8", "replace")
                if start in returned:
                    r |= _RETURNED
            m = arg0_match(src, end)
            first = m.group(1).decode("utf-8", "replace").replace(" ", "") if m else None
            if first and global_names:
                var = first.lstrip("&")
                if var in global_names and var not in self.params[fi] and \
                        var.encode() not in self.locals[fi]:
                    r |= _GLOBAL_ARG  # (a local or a parameter of that name hides the global)
            m = base_match(src, end)
            base = m.group(1).decode("utf-8", "replace") if m else None
            line, col = lines.at(start)
            args = "" if r & _INDIRECT or callee in argument_free else \
                argument_codes(split_arguments(src, end), self.arg_names[fi])
            source = None
            if first and first[0] != "&" and _RELEASE_RE.search(callee):
                source = self._assigned_from(first, self.fstarts[fi], start)
            facts[fi].call_rows.append((callee, line, col, r, arm, first, base, args, source))

    def _assigned_from(self, var: str, begin: int, end: int) -> str | None:
        """The function whose result ``var`` was last assigned before ``end`` (`var =
        foo(...)`, a cast allowed), when it is a plain call."""
        found = None
        for m in _assignment_of(var).finditer(self.src, begin, end):
            found = m.group(1)
        if found is None:
            found = self._filled_through(var, begin, end)
        return found.decode("ascii", "replace") if found is not None else None

    def _filled_through(self, var: str, begin: int, end: int) -> bytes | None:
        """`foo_get_copy(x, &var, &len)`: the call that ``var`` was last filled by through
        its address, in the statement where the address is taken."""
        src = self.src
        amp = src.rfind(b"&" + var.encode(), begin, end)
        after = amp + len(var) + 1
        if amp < 0 or after < len(src) and src[after] in _IDENT:
            return None  # (`&variable` when looking for `&var`)
        statement = max(src.rfind(b";", begin, amp), src.rfind(b"{", begin, amp), begin)
        found = None
        for m in _CALL_OPEN_RE.finditer(src, statement, amp):
            if m.group(1) not in _KEYWORDS and \
                    src.count(b"(", m.end(), amp) >= src.count(b")", m.end(), amp):
                found = m.group(1)  # the innermost call still open at the `&`
        return found

    def _writes(self, facts: list[FunctionFacts]) -> None:
        caps = self.caps
        src = self.src
        updates = caps.get("write.update", [])
        nodes = caps.get("write", [])
        named = self._global_names_written(facts, caps.get("write.name", []))
        if updates or named:
            nodes = sorted(nodes + updates + named, key=_START)
        update_starts = {n.start_byte for n in updates}
        if named:
            update_starts.update(n.start_byte for n in named
                                 if src[n.start_byte - 2:n.start_byte] in (b"++", b"--")
                                 or src[n.end_byte:n.end_byte + 2] in (b"++", b"--"))
        starts = [n.start_byte for n in nodes]
        arms = innermost(self.arm_starts, self.arm_ends, starts)
        regions = self._regions(starts)
        lines = _Lines(src)
        arm_local = self.arm_local
        self._visible: dict[int, set[str]] = {}
        for fi, k, n in self._owned(nodes):
            start, end = n.start_byte, n.end_byte
            text = collapse(src[start:end].decode("utf-8", "replace"))
            if '"' in text or _ASM_WORD_RE.match(text):
                continue  # an asm statement tree-sitter could not read: no lvalue at all
            if start in update_starts:
                around = src[max(0, start - 2):start] + src[end:end + 2]
                op = "--" if b"--" in around else "++"
            else:
                m = _ASSIGN_OP_RE.match(src, end)
                op = m.group(1).decode("ascii") if m else "="
            kind, base = classify_lvalue(text, self.params[fi], self._visible_globals(fi),
                                         self.arrays[fi])
            if kind is _POINTER_KIND and base in self.aliases[fi] and text.count("->") <= 1:
                kind = _LOCAL_KIND  # through a pointer into a local
            elif kind is _POINTER_KIND and _MEMBER_ARRAY_RE.match(text) and \
                    base.encode() in self.locals[fi] and \
                    base.encode() not in self.local_pointers[fi]:
                kind = _LOCAL_KIND  # `desc.args[0] = x`: an array inside a local struct
            elif kind is _LOCAL_KIND and "." in text and not facts[fi].has_error and \
                    self._undeclared(fi, base):
                kind = _GLOBAL_KIND  # `pmu.nr = 4`: a struct declared in another file
            arm = arms[k]
            line, col = lines.at(start)
            facts[fi].write_rows.append(
                (text, base, kind.value, op, line, col,
                 regions[k] | (_CONDITIONAL if arm >= 0 else 0),
                 arm_local[arm] if arm >= 0 else -1))

    def _visible_globals(self, fi: int) -> set[str]:
        """The file's globals and the function's externs, less the names its locals shadow."""
        visible = self._visible.get(fi)
        if visible is None:
            visible = self.globals | self.externs[fi] if self.externs[fi] else self.globals
            if self.locals[fi]:
                visible = visible - {n.decode("utf-8", "replace") for n in self.locals[fi]}
            self._visible[fi] = visible
        return visible

    def _undeclared(self, fi: int, name: str) -> bool:
        """A lower-case name the function neither declares nor takes as a parameter: a global
        declared in another file (upper case is a macro's)."""
        return bool(name) and name.isidentifier() and not name.isupper() and \
            name.encode() not in self.locals[fi] and name not in self.params[fi]

    def _global_names_written(self, facts: list[FunctionFacts], nodes: list[Node]) -> list[Node]:
        """The assignments to plain names that write global state: file-scope variables, and
        names the function neither declares nor takes as a parameter (globals declared in
        another file).  A definition that did not parse cleanly may have lost a declaration,
        so only its file's own globals count there."""
        src = self.src
        global_bytes = {g.encode() for g in self.globals}
        self.externs: list[set[str]] = [set() for _ in facts]
        named = []
        for fi, _, n in self._owned(nodes):
            name = src[n.start_byte:n.end_byte]
            if name in global_bytes:
                if name not in self.locals[fi]:
                    named.append(n)
            elif not facts[fi].has_error and \
                    self._undeclared(fi, name.decode("utf-8", "replace")):
                named.append(n)
                self.externs[fi].add(name.decode("utf-8", "replace"))
        return named

    def _structure(self, facts: list[FunctionFacts]) -> None:
        caps = self.caps
        src, original = self.src, self.original
        lines = _Lines(src)
        for fi, _, n in self._owned(caps.get("loop", [])):
            kind = _LOOP_KINDS[n.type]
            if kind == "while" and not original.startswith(b"while", n.start_byte):
                m = _WORD_RE.match(original, n.start_byte)
                kind = m.group(0).decode("ascii") if m else kind  # an iterator macro
            line, col = lines.at(n.start_byte)
            facts[fi].loop_rows.append((kind, line, col))
        for fi, ff in enumerate(facts):
            ff.gotos = len(_GOTO_LABEL_RE.findall(src, self.fstarts[fi], self.fends[fi]))
        for fi, _, n in self._owned(caps.get("asm", [])):
            if _asm_acts(src, n):
                facts[fi].asm += 1
        lines = _Lines(src)
        for fi, _, n in self._owned(caps.get("label", [])):
            name = src[n.start_byte:n.end_byte].decode("utf-8", "replace")
            facts[fi].label_rows.append((name, lines.at(n.start_byte)[0],
                                         int(name in self.error_labels)))
        self._variants(facts)

    def _param_uses(self, facts: list[FunctionFacts]) -> None:
        """Count the uses of pointer parameters that are written through or passed first to a
        call: a parameter used only that way is an out-parameter."""
        src = self.src
        for fi, ff in enumerate(facts):
            pointers = {name for name, is_ptr in self.params[fi].items() if is_ptr}
            if not pointers:
                continue
            wanted = {row[1] for row in ff.write_rows if row[1] in pointers}
            wanted.update(row[5] for row in ff.call_rows if row[5] in pointers)
            if not wanted:
                continue
            # comments and strings blanked: `/* last rate uses sgi */` does not read sgi
            body = _NOT_CODE_RE.sub(_blank, src[self.fstarts[fi]:self.fends[fi]])
            for name in wanted:
                pattern, test = _uses_of(name)
                uses = list(pattern.finditer(body))
                tests = len(test.findall(body))
                ff.param_uses[name] = 0 if _written_first(body, uses, pattern) else \
                    max(0, len(uses) - tests - 1)  # minus the declaration

    def _variants(self, facts: list[FunctionFacts]) -> None:
        caps = self.caps
        pp = caps.get("variant", []) + caps.get("variant.else", [])
        if not pp:
            return
        pp.sort(key=lambda n: (n.start_byte, -n.end_byte))
        owners = innermost([n.start_byte for n in pp], [n.end_byte for n in pp], self.fstarts)
        for ff, owner in zip(facts, owners):
            if owner < 0:
                continue
            node = pp[owner]
            if node.type == "preproc_else":
                parent = node.parent
                head = _first_line(self.original, parent) if parent is not None else "#if"
                ff.variant = f"{head} (#else)"
            elif not _is_include_guard(self.original, node):
                ff.variant = _first_line(self.original, node)


# a statement that declares a local through a macro: DECLARE_BITMAP(mask, 64);, XA_STATE(xas,
# xa, 0);, DEFINE_WAIT(wait);, LIST_HEAD(list);
_DECLARING_MACRO_RE = re.compile(
    rb"[;{]\s*(?:DECLARE_[A-Z0-9_]+|DEFINE_[A-Z0-9_]+|[A-Z][A-Z0-9]*_STATE|L?LIST_HEAD|HLIST_HEAD)"
    rb"\s*\(\s*([A-Za-z_]\w*)\s*[,)]")
_FREED_RE = re.compile(rb"\b(?:kv?free|vfree|kfree_sensitive|kvfree_sensitive|free)\s*\(\s*"
                       rb"([A-Za-z_]\w*)\s*\)")
# `name = kzalloc(..)`, `name = (struct x *)vmalloc(..)`
_ALLOCATED_RE = re.compile(rb"\b([A-Za-z_]\w*)\s*=\s*(?:\([^()]*\)\s*)?(?:k[mz]alloc\w*|"
                           rb"kcalloc\w*|kv[mz]alloc\w*|kvcalloc|v[mz]alloc\w*|kmemdup|kstrdup|"
                           rb"malloc|calloc)\s*\(")
# `x = name;`, `return name;`, `f(a, name)` after `=`: a pointer handed on
_HANDED_ON_RE = re.compile(rb"(?:[^=!<>]=|\breturn)\s*(?:\([^()]*\)\s*)?([A-Za-z_]\w*)\s*[;,)]")
# `desc.args[0]`, `cmd.u.data[i].len`: members of a struct variable, one of them indexed, and
# no pointer followed on the way
_MEMBER_ARRAY_RE = re.compile(r"[A-Za-z_]\w*(?:\s*\.\s*[A-Za-z_]\w*|\s*\[[^\]]*\])*"
                              r"\s*\.\s*[A-Za-z_]\w*\s*\[[^\]]*\](?:\s*(?:\.\s*[A-Za-z_]\w*|"
                              r"\[[^\]]*\]))*$")
_ASM_WORD_RE = re.compile(r"(?:__asm__|__asm|asm|asm_volatile_goto|asm_inline)\b")
_PLAIN_STORE_RE = re.compile(rb"\s*(?:\[[^\]=;]*\]\s*)?=(?!=)([^;]*)")


@lru_cache(maxsize=4096)
def _uses_of(name: str) -> tuple[re.Pattern, re.Pattern]:
    """Compiled once per name (a tree has far more names than the re module caches): a use
    of ``name`` as a whole word that is not a field name (f->len, s.len), and a test of it as
    an optional out-parameter (`if (port) *port = p;`: not a read)."""
    word = re.escape(name.encode())
    return (re.compile(rb"(?<![\w$.])(?<!->)" + word + rb"(?![\w$])"),
            re.compile(rb"(?:\bif\s*\(|&&|\|\|)\s*!?\s*" + word +
                       rb"\s*(?:\)|&&|\|\||[!=]=\s*NULL\b)"))


@lru_cache(maxsize=4096)
def _assignment_of(var: str) -> re.Pattern:
    """`var = foo(...)`, a cast allowed: the call whose result a variable takes."""
    return re.compile(rb"(?<![\w$.>])" + re.escape(var.encode()) +
                      rb"\s*=\s*(?:\([^()]*\)\s*)?([A-Za-z_]\w*)\s*\(")


_CALL_OPEN_RE = re.compile(rb"([A-Za-z_]\w*)\s*\(")
_KEYWORDS = frozenset({b"if", b"while", b"for", b"switch", b"return", b"sizeof"})


_TO_BLANKS = bytes(10 if b == 10 else 32 for b in range(256))


def _blank(m: re.Match) -> bytes:
    """The same number of bytes, spaces but for the newlines."""
    return m.group().translate(_TO_BLANKS)


def _written_first(body: bytes, uses: list[re.Match], pattern: re.Pattern) -> bool:
    """Is a pointer parameter's first use in the body (``uses[0]`` is its declaration) a plain
    store through it (`*len = n;`, `buf[0] = c;`) whose value does not read it?  Reads after
    that read back what the function itself wrote: C's second return value all the same."""
    if len(uses) < 2:
        return False
    first = uses[1]
    if body.startswith(b"->", first.end()):
        return _fields_written_first(body, uses, pattern)
    if body[first.start() - 1:first.start()] not in (b"*", b"(", b" ", b"\t"):
        return False
    before = body[max(0, first.start() - 64):first.start()].rstrip(b" \t\r\n(")
    if not before.endswith((b"*", b";", b"{", b"}", b")")):
        return False  # not the start of a statement
    m = _PLAIN_STORE_RE.match(body, first.end())
    if m is None:
        return False
    if body[first.start() - 1:first.start()] != b"*" and not \
            body[first.end():m.start(1)].lstrip().startswith(b"["):
        return False  # `len = 0` rebinds the parameter itself
    return pattern.search(m.group(1)) is None


_FIELD_RE = re.compile(rb"->\s*([A-Za-z_]\w*)")


def _fields_written_first(body: bytes, uses: list[re.Match], pattern: re.Pattern) -> bool:
    """`new->tx = a; new->rx = b; ... if (new->tx == old->tx)`: the fields of a struct the
    caller passed are stored before anything reads it, and only those fields are read back.
    A field read that was not stored first is an input (`if (cfg->mode)`)."""
    stored: set[bytes] = set()
    for use in uses[1:]:
        field = _FIELD_RE.match(body, use.end())
        if field is None:
            return False  # the pointer itself passed on or compared: not only a result
        before = body[max(0, use.start() - 64):use.start()].rstrip(b" \t\r\n")
        store = _PLAIN_STORE_RE.match(body, field.end())
        if store is not None and before.endswith((b";", b"{", b"}", b")")) and \
                pattern.search(store.group(1)) is None:
            stored.add(field.group(1))
        elif field.group(1) not in stored:
            return False
    return bool(stored)


def _argument_names(ff: FunctionFacts, locals_: set[bytes], pointers: set[bytes],
                    arrays: set[str], aliases: set[str]) -> dict[bytes, tuple[int, int]]:
    """The function's names an argument may start from, with their kind (see
    misnomer.c.arguments) and, for parameters, their position."""
    names = {name: (LOCAL_POINTER if name in pointers else BY_VALUE, -1) for name in locals_}
    for name in arrays:
        names[name.encode()] = (LOCAL_ARRAY, -1)
    for name in aliases:
        names[name.encode()] = (LOCAL_ALIAS, -1)
    for i, p in enumerate(ff.params):
        if p.name:
            names[p.name.encode()] = (POINTER_PARAM, i) if p.is_pointer else (BY_VALUE, i)
    return names


def _outermost(nodes: list[Node]) -> list[Node]:
    """Drop definitions nested in another one: C has no nested functions, so those are
    misparses (typically a macro call followed by a block)."""
    kept: list[Node] = []
    end = -1
    for n in nodes:
        if n.start_byte >= end:
            kept.append(n)
            end = n.end_byte
    return kept


def _pair_if_parts(thens: list[Node]) -> tuple[list[Node], list[Node]]:
    """Ask each if for its parts: the fallback when the captures do not line up (a statement
    expression inside a condition)."""
    conds, arms = [], []
    for then in thens:
        parent = then.parent
        cond = parent.child_by_field_name("condition") if parent is not None else None
        if cond is not None:
            conds.append(cond)
            arms.append(then)
    return conds, arms


_COMMENT_RE = re.compile(rb"/\*.*?\*/|//[^\n]*", re.S)
# the name a declarator introduces: `*p = x` -> p, `(*fn)(void)` -> fn, `buf[4]` -> buf
_DECLARED_NAME_RE = re.compile(rb"[\s*(]*(?:(?:const|volatile|restrict|__\w+)\s+[\s*(]*)*"
                               rb"([A-Za-z_]\w*)")
# `int reset;` in a struct: a type word (not `return`) before the name declares it
_LOCAL_KIND, _GLOBAL_KIND, _POINTER_KIND = TargetKind.LOCAL, TargetKind.GLOBAL, TargetKind.POINTER
# `= &msg.hdr` or `= buf` after a declared pointer's name: what it is made to point into
_POINTS_INTO_RE = re.compile(rb"\s*(?:\[[^\]]*\]\s*)?=\s*(?:\([^()]*\)\s*)?(?:&\s*([A-Za-z_]\w*)|"
                             rb"([A-Za-z_]\w*)\s*(?:[;,]|$))")
# an output operand that may be memory ("=m", "+qm"), and what it names: `(*addr)`, `(valid)`
_MEMORY_OUTPUT = re.compile(rb'"[^"]*m[^"]*"\s*\(([^()]*(?:\([^()]*\)[^()]*)*)\)')
_BLANKS = re.compile(rb'\\[nt]|[\s"]')  # what an asm template holds besides instructions
_BARE_NAME = re.compile(rb"\s*[A-Za-z_]\w*\s*\Z")


def _asm_acts(src: bytes, node: Node) -> bool:
    """Is an inline assembly statement there for its effect on the machine?  One that
    clobbers memory is, and so is one without outputs (a register or port write, a fence) or
    with an output to memory behind a pointer.  One with no instruction (a compiler barrier),
    a patched jump without a memory clobber (a static branch: a test), or outputs only to
    registers or plain variables (`"=qm" (valid)`: the function's own, in practice) is not."""
    def text(field: str) -> bytes:
        child = node.child_by_field_name(field)
        return src[child.start_byte:child.end_byte] if child is not None else b""
    if not _BLANKS.sub(b"", text("assembly_code")):
        # no instruction at all: a compiler barrier (`asm volatile("" ::: "memory")`)
        return False
    outputs = text("output_operands").lstrip(b":").strip()
    if b"memory" in text("clobbers"):
        return True
    if node.child_by_field_name("goto_labels") is not None:
        return False  # a patched jump (static branches, alternatives) without memory: a test
    return not outputs or \
        any(not _BARE_NAME.match(m.group(1)) for m in _MEMORY_OUTPUT.finditer(outputs))
_DECLARED_AFTER_RE = re.compile(rb"(?:(?<![\w$])(?!return\b|else\b|case\b)[A-Za-z_]\w*|"
                                rb"[\w)]\s*\*+)\s*$")
_NEXT_TOKEN_RE = re.compile(rb"\s*(\S?)")
_NOT_CODE_RE = re.compile(rb'/\*.*?\*/|//[^\n]*|"(?:[^"\\\n]|\\.)*"', re.S)
_EXPORT_BEFORE_RE = re.compile(rb"(?:EXPORT_\w+|#\s*(?:define|undef|ifdef|ifndef))\s*\(?\s*$")


def _ends_arm(src: bytes, jump_end: int, arm_end: int) -> bool:
    """Nothing but white space, comments and the arm's closing brace after the jump."""
    tail = src[jump_end:arm_end].strip()
    if tail in (b"", b"}"):
        return True
    if b"/" in tail:
        return _COMMENT_RE.sub(b"", tail).strip() in (b"", b"}")
    return False


_GUARD_RE = re.compile(
    rb"#\s*ifndef\s+(\w+)\s*(?:/\*.*?\*/\s*|//[^\n]*\s*)*#\s*define\s+(\w+)", re.S)


def _is_include_guard(src: bytes, node: Node) -> bool:
    """`#ifndef FOO_H` / `#define FOO_H` around a whole header is not a variant."""
    m = _GUARD_RE.match(src, node.start_byte, min(node.end_byte, node.start_byte + 4000))
    return bool(m) and m.group(1) == m.group(2)


def _first_line(src: bytes, node: Node) -> str:
    end = src.find(b"\n", node.start_byte, node.end_byte)
    text = src[node.start_byte:end if end >= 0 else node.end_byte].decode("utf-8", "replace")
    return collapse(text, 160)


__all__ = ["FileExtractor", "is_error_label", "innermost", "union", "TargetKind"]
