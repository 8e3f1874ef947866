"""MN2xx: verbs that promise a specific effect, on bodies that never have it.

Real renames in public C projects were made for exactly these: a `*_free` that only cleared
its struct, an `is_*` that returned a string.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..analysis.primitives import Effect
from ..c.params import parse_params
from ..facts import ReturnKind
from ..findings import Finding, Rule
from .base import CheckContext, FunctionView

VERB_EFFECT_MISMATCH = Rule(
    id="MN201", symbol="verb-effect-mismatch", name="verb-effect-mismatch", family="promise",
    default=False,
    message="{name}(): '{verb}' promises {promise}, but {actual}",
    description=(
        "Some verbs promise one specific effect: `free`/`destroy` release memory, `release`/"
        "`put`/`drop` release memory or a reference, `alloc`/`create`/`new`/`dup` allocate, "
        "`is`/`has`/`can` answer with a truth value, `get`/`read`/`find` hand something back, "
        "`set`/`clear`/`reset`/`init` write something.  This function's body (with everything "
        "it calls) never does what its verb promises.  Left alone: empty stubs (for a "
        "configuration that compiles a feature out), callbacks (a framework chose the name), "
        "an `alloc` or `free` that changes some state (the slots and ids of a pool are "
        "allocated and freed that way) unless a `free` only assigns fields, and a `set` that "
        "returns the changed copy of a value.  Not reported unless selected (`--select "
        "MN201`): on Linux most of what it finds is an effect hidden in a macro or assembly, "
        "or a word in verb position that is not the verb (`free` space, the `ip_set` "
        "subsystem)."),
    bad_example=(
        "void ring_free(struct ring *r)\n{\n\tr->head = 0;\n\tr->tail = 0;\n}\n"),
    good_example=(
        "void ring_free(struct ring *r)\n{\n\tkfree(r->slots);\n\tkfree(r);\n}\n"))

RULES = [VERB_EFFECT_MISMATCH]

_TRUTHY_KINDS = ("bool", "int")
_RELEASING = ("free", "put", "release", "destroy", "unref", "drop", "delete", "del", "remove",
              "unregister", "cleanup", "clear", "reset", "uninit", "deinit", "exit", "close")


def _releases_something(fn: FunctionView, ctx: CheckContext) -> bool:
    """Does it call anything that releases (a put, a release, a free on an error path)?"""
    inputs, _ = ctx.verdict(fn)
    return any(any(word in site.name.lower() for word in _RELEASING) for site in inputs.sites
               if site.kind != "write")


def _counts(target: str, line: str) -> bool:
    """Is the write to ``target`` on this source line a count or a bit (`+=`, `|=`, `--`)
    rather than a plain store?"""
    line, target = _SPACE.sub("", line), _SPACE.sub("", target)
    at = line.find(target)
    if at < 0:
        return False
    return bool(_COMPOUND.match(line, at + len(target))) or line[:at].endswith(("++", "--"))


_COMPOUND = re.compile(r"(?:[-+*/%&|^]|<<|>>)=|\+\+|--")
_SPACE = re.compile(r"\s+")


def _only_direct_writes(fn: FunctionView, ctx: CheckContext) -> str:
    """When every change the function makes is an assignment in its own body (no call that
    changes state), the fields it assigns, for the message; else ''."""
    inputs, _ = ctx.verdict(fn)
    written: list[str] = []
    effects_of = ctx.oracle.effects_for(ctx.file_id(fn))
    for site in inputs.sites:
        if site.kind == "write":
            if site.effects & Effect.MUTATES:
                if _counts(site.name, ctx.source_line(fn.file, site.line)):
                    return ""  # `map |= bit`, `used -= n`: handing an id or a quota back
                written.append(site.name)
        elif (site.effects or int(effects_of(site.name, site.args or None))) & Effect.MUTATES:
            return ""
    if not written:
        return ""
    fields = list(dict.fromkeys(written))
    return ", ".join(fields[:3]) + (", ..." if len(fields) > 3 else "")


def check(fn: FunctionView, ctx: CheckContext) -> Iterator[Finding]:
    verb = fn.verb
    if verb is None or fn.effects & Effect.UNKNOWN or fn.named_by_framework or \
            fn.confidence < 0.9:
        return  # unknown callees might do what the verb promises; an ops table's field names
        #         its callbacks
    vocab = ctx.vocab
    effects = fn.effects
    promise = actual = None
    if fn.shape == "empty":
        # a stub promises no effect yet; only its return type speaks
        actual = _not_a_truth_value(fn, ctx)
        promise = "a yes-or-no answer" if actual else None
    elif vocab.promises(verb, "free") and not effects & Effect.FREES and \
            not _releases_something(fn, ctx) and not _returns_a_new_value(fn, ctx):
        # (spc_free(used, total) computes the free space: `free` is an adjective there)
        promise = "to free memory"
        if not effects & Effect.MUTATES:
            actual = "nothing it does or calls frees, and it changes no state"
        else:
            written = _only_direct_writes(fn, ctx)
            if written:  # else it hands a slot back to a pool (clear_bit, list_add): a free
                actual = f"nothing it does or calls frees; it only writes {written}"
    elif vocab.promises(verb, "release") and not effects & (Effect.FREES | Effect.MUTATES) \
            and not _returns_a_new_value(fn, ctx):
        promise = "to release memory or a reference"
        actual = "it neither frees nor changes any state"
    elif vocab.promises(verb, "allocate") and not effects & (Effect.ALLOCATES | Effect.MUTATES) \
            and fn.return_kind != "pointer":
        # a function that changes state may be handing out a slot or an id of its own pool
        promise = "a new object"
        actual = "it neither allocates, nor changes any state, nor returns a pointer"
    elif (answer := _not_a_truth_value(fn, ctx)) is not None:
        promise, actual = "a yes-or-no answer", answer
    elif vocab.promises(verb, "getter") and fn.return_kind == "void" and \
            not effects & Effect.OUT_PARAMS and fn.shape in ("query", "check"):
        promise, actual = "to hand something back", "it returns nothing and fills no out-parameter"
    elif vocab.promises(verb, "setter") and fn.shape in ("query", "check") and \
            not effects & (Effect.MUTATES | Effect.OUT_PARAMS) and \
            fn.return_kind in ("void", "int") and not _returns_a_new_value(fn, ctx):
        # pte_mkclean(pte), cap_drop(a, b), reg_set_field(reg, v): returning the changed copy
        # of a value is how value types are set
        promise, actual = "to write something", "it writes nothing"
    if promise is None or actual is None:
        return
    yield ctx.finding(VERB_EFFECT_MISMATCH, fn, VERB_EFFECT_MISMATCH.message.format(
        name=fn.name, verb=verb, promise=promise, actual=actual),
        ctx.reasons(fn), fn.confidence)


def _not_a_truth_value(fn: FunctionView, ctx: CheckContext) -> str | None:
    """What an `is_`/`has_`/`can_` name whose verb leads returns instead of a truth value."""
    if not ctx.vocab.promises(fn.verb, "predicate") or fn.parts.role not in (
            "verb_object", "prefix_verb_object", "verb", "prefix_verb") or \
            fn.return_kind in _TRUTHY_KINDS:
        return None
    return {"pointer": "it returns a pointer", "void": "it returns nothing",
            "other": "it returns something other than a truth value"}[fn.return_kind]


def _returns_a_new_value(fn: FunctionView, ctx: CheckContext) -> bool:
    """Is it a value type's setter: it takes the value itself (not a pointer) first and hands
    back a value computed from it with operators (`(reg & ~MASK) | v`), not a field it read
    or success or failure?"""
    inputs, _ = ctx.verdict(fn)  # (cached) before the signature, which costs a query
    if not any(kind in (ReturnKind.VALUE.value, ReturnKind.BOOL.value) and
               _COMPUTING.search(text.replace("->", ".")) for kind, _, text, _ in inputs.returns):
        return False
    row = ctx.index.conn.execute("SELECT signature FROM functions WHERE id = ?",
                                 (fn.id,)).fetchone()
    at = row[0].find(fn.name + "(") if row else -1
    params = parse_params(row[0][at + len(fn.name):]) if at >= 0 else []
    return bool(params) and not params[0].is_pointer and bool(params[0].type)


_COMPUTING = re.compile(r"[-+*/%&|^~<>!?]")
