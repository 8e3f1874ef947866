"""Interprocedural effects: a fixpoint over the call graph.

A function mutates (allocates, frees, locks, logs) when its own body does or any callee does;
it can fail when it returns a failure or returns, as is, the result of a callee that can.
Callees resolve by C's visibility rules: a definition in the same file first, then non-static
definitions and definitions in headers anywhere (all #ifdef variants: their effects are OR-ed).
A name no function defines may be a function-like macro (its body's calls and writes count),
else the base lexicon's verb lists judge it by its name, else its effects are unknown.

Names are interned to integers and adjacency kept in arrays: the Linux tree has 650,000
functions and five million call edges, and the whole analysis must fit in well under 1 GB.
"""

from __future__ import annotations

import re
from array import array
from collections import deque
from dataclasses import dataclass

from ..facts import MAX_PARAMS
from .primitives import PARAM_SHIFT, PROPAGATED, Effect, PrimitiveTable
from .reach import GIVEN_BACK, at_call, finished, params_mask, passed_up, working

_MACRO_CALL = re.compile(r"([A-Za-z_]\w*)\s*\(")
_MACRO_WRITE = re.compile(r"(?:->\s*\w+(?:\s*(?:\.|->)\s*\w+|\s*\[[^\]=;]*\])*|"
                          r"\*\s*\(?\s*\w+\s*\)?)\s*(?:[-+*/%&|^]|<<|>>)?=(?!=)|"
                          r"(?:\+\+|--)\s*\(?\s*\w+\s*->|->\s*\w+\s*(?:\+\+|--)|"
                          # *(volatile u32 *)(addr) = v: a store through a cast (MMIO accessors)
                          r"\*\s*\(\s*\w+(?:\s+\w+)*\s*\*+\s*\)\s*(?:\(\s*[^;=()]*\)|\w+)\s*"
                          r"(?:[-+*/%&|^]|<<|>>)?=(?!=)")
# asm volatile("..." : : "r"(v)): an assembly statement with no outputs is there for its effect
# on the machine (a register or port write); one with outputs reads something
_MACRO_ASM_EFFECT = re.compile(r"\b(?:asm|__asm__)\s*(?:volatile|__volatile__)?\s*\(\s*"
                               r"(?:\"(?:[^\"\\]|\\.)*\"\s*|\b\w+\b\s*)*:\s*:")
_KEYWORDS = frozenset({"if", "while", "for", "switch", "return", "sizeof", "typeof",
                       "__typeof__", "do", "else", "case", "__attribute__", "__builtin_expect",
                       "defined", "_Generic", "__builtin_choose_expr", "asm", "__asm__",
                       "volatile", "__volatile__", "alignof", "__alignof__", "offsetof"})


@dataclass(frozen=True, slots=True)
class MacroSummary:
    name: str
    effects: Effect
    callees: tuple[str, ...]
    file_id: int = -1  # where it is defined: its static callees are visible from there


def summarize_macro(name: str, params: str, body: str, table: PrimitiveTable,
                    file_id: int = -1) -> MacroSummary:
    """What a function-like macro does, read off its body text."""
    own = 0
    callees = []
    param_names = {p.strip() for p in params.strip("()").split(",")}
    for m in _MACRO_CALL.finditer(body):
        callee = m.group(1)
        if callee in _KEYWORDS or callee == name:
            continue
        member = body[max(0, m.start() - 2):m.start()] in ("->", ".") or \
            body[max(0, m.start() - 1):m.start()] == "."
        if callee in param_names and not member:
            continue
        if member:
            # an indirect call: judged by name, unless the name is the macro's argument
            own |= int(Effect.UNKNOWN) if callee in param_names else \
                int(table.verdict_from_name(callee))
            continue
        prim = table.lookup(callee)
        if prim is not None:
            own |= int(prim.effects & PROPAGATED)
            if prim.effects & (Effect.ALLOCATES | Effect.FREES):
                own |= int(Effect.MUTATES)
        else:
            callees.append(callee)
    if _MACRO_ASM_EFFECT.search(body):
        own |= int(Effect.MUTATES)
    written = 0  # the parameters written through, as a mask
    positions = {p.strip(): k for k, p in enumerate(params.strip("()").split(","))}
    # `struct netlink_ext_ack *__extack = (extack);`: the macro's own name for its argument
    for alias, target in _ALIAS.findall(body):
        if target in positions and alias not in positions:
            positions[alias] = positions[target]
    for m in _MACRO_WRITE.finditer(body):
        if m.group(0).startswith("*"):
            before = body[max(0, m.start() - 60):m.start()].rstrip()
            declared = _DECLARES.search(before)
            if declared and declared.group(1) not in _KEYWORDS or \
                    before.endswith("))") and "__attribute__" in before:
                # `struct flow_match *__m = ...`, `struct { T x; } __attribute__((packed)) *p
                # = ...`: the macro's own pointer, declared
                continue
        k = positions.get(_written_base(body, m))
        if k is None or k >= MAX_PARAMS:
            own |= int(Effect.MUTATES)
        else:
            written |= 1 << k
    if written and not own & int(Effect.MUTATES):
        # `(__out)->key = ...` only: like a function filling its out-parameter, what the
        # macro changes is what each use passes it (a local struct: nothing)
        own |= int(Effect.MUTATES | Effect.PARAMS_ONLY) | (written << PARAM_SHIFT)
    return MacroSummary(name, Effect(own), tuple(dict.fromkeys(callees)), file_id)


_ALIAS = re.compile(r"\*\s*([A-Za-z_]\w*)\s*=\s*\(?\s*([A-Za-z_]\w*)\s*\)?\s*;")
_DECLARES = re.compile(r"([A-Za-z_]\w*)\s*\Z")
_TRAILING_NAME = re.compile(r"([A-Za-z_]\w*)\s*\)*\s*\Z")
_DEREF_NAME = re.compile(r"\*\s*\(?\s*([A-Za-z_]\w*)\s*\)?\s*(?:[-+*/%&|^]|<<|>>)?=")


def _written_base(body: str, m: re.Match) -> str | None:
    """The variable a write in a macro body goes through: `(__out)->key =` -> `__out`,
    `*(p) =` -> `p`; None for other forms (a store through a cast, an increment)."""
    text = m.group(0)
    if text.startswith("->"):
        before = _TRAILING_NAME.search(body, max(0, m.start() - 80), m.start())
        return before.group(1) if before else None
    deref = _DEREF_NAME.fullmatch(text)
    return deref.group(1) if deref else None


def merge_macros(summaries: list[MacroSummary]) -> MacroSummary:
    """One node for all definitions of a macro name: the union of what they do."""
    effects = Effect.NONE
    callees: dict[str, None] = {}
    for m in summaries:
        effects |= m.effects
        callees.update(dict.fromkeys(m.callees))
    return MacroSummary(summaries[0].name, effects, tuple(callees), summaries[0].file_id)


TYPICAL_ARCH = "x86"  # the configuration a reader assumes when code is shared by all


def arch_of(path: str) -> str | None:
    """`arch/arm64/kernel/x.c` -> 'arm64'; None outside an arch/ directory."""
    if path.startswith("arch/"):
        end = path.find("/", 5)
        return path[5:end] if end > 0 else None
    return None


_CONFIG_ON = re.compile(r"#if(?:def\s+|\s+(?:IS_ENABLED|IS_BUILTIN|IS_REACHABLE|defined)\s*\(?\s*)"
                        r"CONFIG_\w+\s*\)?\s*$")
_CONFIG_OFF = re.compile(r"#if(?:ndef\s+|\s+!\s*(?:IS_ENABLED|IS_BUILTIN|IS_REACHABLE|defined)\s*"
                         r"\(?\s*)CONFIG_\w+\s*\)?\s*$")


def config_off(variant: str) -> bool:
    """Is a definition under ``variant`` (the #if line it sits under, as the index records it)
    the stand-in for a configuration option turned off?  `#ifdef CONFIG_PCI (#else)`,
    `#ifndef CONFIG_PCI` and `#if 0` are; such stubs do nothing while the real definition,
    elsewhere, does the work."""
    if not variant:
        return False
    if variant.endswith(" (#else)"):
        return _CONFIG_ON.match(variant[:-8]) is not None
    return variant.strip() == "#if 0" or _CONFIG_OFF.match(variant) is not None


def choose_definitions(defs: list[tuple[int, bool, str | None, bool]], file_id: int,
                       arch: str | None) -> list[int]:
    """Which of a name's definitions, given as (file id, visible from other files, arch,
    configured-off stub), a call from ``file_id`` in ``arch`` reaches.  Configured-off stubs
    only when nothing else is reachable (a build with the option on is the one worth judging);
    among the rest: those in the same file; else the visible ones of the caller's architecture
    (of x86, the typical configuration, for code shared by all); else the visible ones outside
    arch/; else every visible one (#ifdef variants: effects OR-ed)."""
    if any(d[3] for d in defs):
        live = [i for i, d in enumerate(defs) if not d[3]]
        chosen = _choose([defs[i] for i in live], file_id, arch)
        if chosen:
            return [live[i] for i in chosen]
    return _choose(defs, file_id, arch)


def _choose(defs: list[tuple[int, bool, str | None, bool]], file_id: int,
            arch: str | None) -> list[int]:
    same = [i for i, d in enumerate(defs) if d[0] == file_id]
    if same:
        return same
    visible = [i for i, d in enumerate(defs) if d[1]]
    if len(visible) > 1 and any(defs[i][2] is not None for i in visible):
        wanted = arch or TYPICAL_ARCH
        mine = [i for i in visible if defs[i][2] == wanted]
        if mine:
            return mine
        generic = [i for i in visible if defs[i][2] is None]
        if generic:
            return generic
    return visible


class CallGraph:
    """Nodes are function definitions, then macros; edges come from resolving callee names."""

    def __init__(self, table: PrimitiveTable) -> None:
        self.table = table
        self.function_ids = array("q")  # index id of each node (-1 for a macro)
        self.node_names = array("i")  # name id of each node
        self.files = array("i")
        self.visible = array("b")
        self.arch: list[str | None] = []  # the arch/ directory of each node's file
        self.stub = array("b")  # 1: a stand-in for a configuration option turned off
        self.own = array("i")
        self.callees: list[array] = []  # name ids
        # per node, aligned with its callees: where writes through each argument land, as
        # strings interned with the names (None: every argument reaches elsewhere)
        self.callee_args: list[array | None] = []
        self.returned: list[array | None] = []
        self.names: list[str] = []  # name id -> name
        self.name_ids: dict[str, int] = {}
        self.defs: dict[int, list[int]] = {}  # name id -> function nodes
        self.macros: dict[int, int] = {}  # name id -> macro node
        self.effects = array("i")  # stored form (misnomer.analysis.reach), after propagate()
        self.recomputed: set[int] = set()  # macro nodes re-read (incremental analysis)
        self._file_arch: dict[int, str | None] = {}
        self._resolved: dict[tuple[int, int], tuple[int, ...] | int] = {}
        self._no_args = self.intern("")  # (no identifier is empty, and no code of a call is)

    def intern(self, name: str) -> int:
        i = self.name_ids.get(name)
        if i is None:
            i = self.name_ids[name] = len(self.names)
            self.names.append(name)
        return i

    def __len__(self) -> int:
        return len(self.function_ids)

    def add_function(self, function_id: int, name: str, file_id: int, visible: bool, own: int,
                     callees: list[str], returned: list[str], arch: str | None = None,
                     stub: bool = False, callee_args: list[str] | None = None) -> int:
        """``callees``: every name the function calls directly; ``callee_args``, aligned with
        them, where writes through the arguments land.  Primitives (their effects are in
        ``own`` already) and acquire/release pairs that cancel out are dropped here.  ``own``
        is in the stored form (misnomer.analysis.reach)."""
        node = len(self.function_ids)
        self.function_ids.append(function_id)
        name_id = self.intern(name)
        self.node_names.append(name_id)
        self.files.append(file_id)
        self.visible.append(1 if visible else 0)
        self.arch.append(arch)
        self.stub.append(1 if stub else 0)
        if arch is not None:
            self._file_arch[file_id] = arch
        self.own.append(working(int(own)))
        kept = self._propagating(callees)
        if callee_args:
            kept = [k for k in kept if callee_args[k] != GIVEN_BACK]
        self.callees.append(array("i", [self.intern(callees[k]) for k in kept]))
        if callee_args and any(callee_args[k] for k in kept):
            self.callee_args.append(array("i", [self.intern(callee_args[k]) for k in kept]))
        else:
            self.callee_args.append(None)
        self.returned.append(array("i", [self.intern(c) for c in returned]) if returned else None)
        self.defs.setdefault(name_id, []).append(node)
        return node

    def _propagating(self, names: list[str]) -> list[int]:
        """Positions in ``names`` of the callees whose effects propagate along the call."""
        table = self.table
        kept = [k for k, n in enumerate(names) if table.lookup(n) is None]
        families: dict[object, int] = {}
        for k in kept:
            key = table.pair_key(names[k])
            if key is not None:
                families[key[0]] = families.get(key[0], 0) | (1 if key[1] else 2)
        if 3 not in families.values():
            return kept
        return [k for k in kept
                if (key := table.pair_key(names[k])) is None or families[key[0]] != 3]

    def unresolved_names(self) -> set[str]:
        """Callee names no function defines and no macro added so far covers."""
        seen = set()
        for callees in self.callees:
            seen.update(callees)
        return {self.names[i] for i in seen if i not in self.macros and (
            i not in self.defs or self._only_stubs(i))}

    def _only_stubs(self, name_id: int) -> bool:
        """Every definition is a configured-off stub: a macro of the same name, from the other
        side of the #if, is what a configured build calls."""
        return all(self.stub[d] for d in self.defs[name_id])

    def add_macro(self, summary: MacroSummary) -> None:
        name_id = self.intern(summary.name)
        if name_id in self.macros or (name_id in self.defs and not self._only_stubs(name_id)):
            return
        node = len(self.function_ids)
        self.macros[name_id] = node
        self.function_ids.append(-1)
        self.node_names.append(name_id)
        self.files.append(summary.file_id)
        self.visible.append(1)
        self.arch.append(None)
        self.stub.append(0)
        self.own.append(working(int(summary.effects)))
        self.callees.append(array("i", [self.intern(c) for c in summary.callees]))
        self.callee_args.append(None)
        self.returned.append(None)

    def macro_calls(self, only: set[int] | None = None) -> list[tuple[str, str]]:
        """(callee, macro) for the macros in the graph (or the nodes ``only``)."""
        return [(self.names[c], self.names[name_id]) for name_id, node in self.macros.items()
                if only is None or node in only for c in self.callees[node]]

    def resolve(self, name: str, file_id: int) -> tuple[int, ...] | Effect:
        """Nodes a call to ``name`` from ``file_id`` may reach, or, when none, the effects its
        name suggests."""
        name_id = self.name_ids.get(name)
        if name_id is None:
            return self.table.verdict_from_name(name)
        target = self._resolve(name_id, file_id)
        return target if isinstance(target, tuple) else Effect(target)

    def arch_of_file(self, file_id: int) -> str | None:
        return self._file_arch.get(file_id)

    def _resolve(self, name_id: int, file_id: int) -> tuple[int, ...] | int:
        defs = self.defs.get(name_id)
        # one int key: whether the answer depends on the calling file, and then which
        key = (name_id << 22) | ((file_id + 1) & 0x3FFFFF) if defs is not None and (
            len(defs) > 1 or not self.visible[defs[0]]) else name_id << 22
        hit = self._resolved.get(key)
        if hit is not None:
            return hit
        hit = None
        if defs is not None:
            chosen = choose_definitions(
                [(self.files[d], bool(self.visible[d]), self.arch[d], bool(self.stub[d]))
                 for d in defs], file_id, self._file_arch.get(file_id))
            if chosen:
                hit = tuple(defs[i] for i in chosen)
                if name_id in self.macros and all(self.stub[d] for d in hit):
                    hit = None
        if hit is None:
            macro = self.macros.get(name_id)
            hit = (macro,) if macro is not None else \
                int(self.table.verdict_from_name(self.names[name_id]))
        self._resolved[key] = hit
        return hit

    def propagate(self) -> None:
        """Compute ``self.effects`` for every node (least fixpoint, worklist over callers)."""
        n = len(self.function_ids)
        effects = array("i", self.own)  # working form until the end
        # call edges, then the callers of each node in one flat array (CSR: the callers of t
        # are callers[first[t]:first[t + 1]], with the argument codes of each call beside)
        edge_callee, edge_caller, edge_args = array("i"), array("i"), array("i")
        returned_callers: list[array | None] = [None] * n
        resolve = self._resolve
        for i in range(n):
            file_id = self.files[i]
            extra = 0
            arg_ids = self.callee_args[i]
            for j, name_id in enumerate(self.callees[i]):
                target = resolve(name_id, file_id)
                if type(target) is tuple:
                    code = arg_ids[j] if arg_ids is not None else self._no_args
                    for t in target:
                        if t != i:
                            edge_callee.append(t)
                            edge_caller.append(i)
                            edge_args.append(code)
                else:
                    extra |= target
            effects[i] |= extra
            if self.returned[i] is not None:
                for name_id in self.returned[i]:
                    target = resolve(name_id, file_id)
                    if type(target) is tuple:
                        for t in target:
                            if t != i:
                                lst = returned_callers[t]
                                if lst is None:
                                    returned_callers[t] = lst = array("i")
                                lst.append(i)
        first = array("i", bytes(4 * (n + 1)))
        for t in edge_callee:
            first[t + 1] += 1
        for t in range(n):
            first[t + 1] += first[t]
        fill = array("i", first)
        callers = array("i", bytes(4 * len(edge_callee)))
        caller_args = array("i", bytes(4 * len(edge_callee)))
        for t, i, code in zip(edge_callee, edge_caller, edge_args):
            k = fill[t]
            callers[k] = i
            caller_args[k] = code
            fill[t] = k + 1
        del edge_callee, edge_caller, edge_args, fill
        _worklist_through_arguments(effects, first, callers, caller_args, self.names)
        del callers, caller_args
        _worklist(effects, returned_callers, int(Effect.CAN_FAIL))
        self.effects = array("i", map(finished, effects))

    def effects_of_call(self, name: str, file_id: int, args: str | None = None) -> int:
        """Effect bits a call to ``name`` from ``file_id`` brings (after :meth:`propagate`),
        given where writes through its arguments land (None: elsewhere)."""
        name_id = self.name_ids.get(name)
        if name_id is None:
            return int(self.table.verdict_from_name(name))
        target = self._resolve(name_id, file_id)
        if type(target) is tuple:
            if len(target) == 1:
                return at_call(self.effects[target[0]], args)
            bits = 0
            for t in target:
                bits |= at_call(self.effects[t], args)
            return bits
        return target


def _worklist_through_arguments(effects: array, first: array, callers: array,
                                caller_args: array, codes: list[str]) -> None:
    """The effects fixpoint, where a callee's writes through its parameters reach each caller
    as that call's arguments say (misnomer.analysis.reach.passed_up).  The callers of node t
    are ``callers[first[t]:first[t + 1]]``."""
    queue = deque(i for i in range(len(effects)) if effects[i] and first[i] != first[i + 1])
    queued = bytearray(len(effects))
    for i in queue:
        queued[i] = 1
    while queue:
        n = queue.popleft()
        queued[n] = 0
        bits = effects[n]
        through_params = params_mask(bits) != 0
        add = passed_up(bits, "")  # what every caller gets, unless the arguments decide
        brought: dict[int, int] = {}
        for k in range(first[n], first[n + 1]):
            if through_params:
                code = caller_args[k]
                add = brought.get(code)
                if add is None:
                    add = brought[code] = passed_up(bits, codes[code])
            p = callers[k]
            old = effects[p]
            new = old | add
            if new != old:
                effects[p] = new
                if not queued[p] and first[p] != first[p + 1]:
                    queued[p] = 1
                    queue.append(p)


def _worklist(effects: array, callers: list[array | None], mask: int) -> None:
    queue = deque(i for i in range(len(effects)) if effects[i] & mask and callers[i] is not None)
    queued = bytearray(len(effects))
    for i in queue:
        queued[i] = 1
    while queue:
        n = queue.popleft()
        queued[n] = 0
        bits = effects[n] & mask
        for p in callers[n]:
            old = effects[p]
            new = old | bits
            if new != old:
                effects[p] = new
                if not queued[p] and callers[p] is not None:
                    queued[p] = 1
                    queue.append(p)
