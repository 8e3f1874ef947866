"""MN3xx: conventions of the kernel's coding style.

Documentation/process/coding-style.rst, section 16 ("Function return values and names"):
if the name of a function is an action or an imperative command, the function should return
an error-code integer; if the name is a predicate, it should return a "succeeded" boolean.
Applied to functions other files can call (non-static, or in headers) by default.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator

from ..findings import Evidence, Finding, Rule
from .base import CheckContext, FunctionView

RETURN_CONVENTION = Rule(
    id="MN301", symbol="return-convention", name="return-convention", family="convention",
    default=False,
    message="{name}(): {problem} (kernel coding style, section 16: action names return an "
            "error code, predicate names return bool)",
    description=(
        "Linux's coding style asks that a function named for an action or an imperative "
        "command (init, register, start, add, ...) return an error-code int, and that a "
        "function named as a predicate (is, has, can, ...) return a boolean.  Mixing them up "
        "turns `if (foo_init(x))` and `if (foo_is_ready(x))` into opposite tests.  Only the "
        "public interface is checked: exported functions and non-static ones defined outside "
        "headers.  As the style says, a function returning the result of a computation (`return "
        "!list_empty(&q->items);`) rather than success is exempt; so is a directory that keeps "
        "a convention of its own (30% or more of its action names return bool, or of its "
        "predicates return int), and so is a file where at least two other functions do the "
        "same.  Off by default (select it with `--select MN301`): read by hand on Linux, most "
        "of its findings were true but kept on purpose -- a subsystem's bool-returning API, "
        "a bool that answers a question -- so it suits a new interface's review more than a "
        "whole tree's lint."),
    bad_example=(
        "bool port_register(struct port *p)\n{\n\tif (!p->ops)\n\t\treturn false;\n"
        "\tlist_add(&p->node, &ports);\n\treturn true;\n}\n"),
    good_example=(
        "int port_register(struct port *p)\n{\n\tif (!p->ops)\n\t\treturn -EINVAL;\n"
        "\tlist_add(&p->node, &ports);\n\treturn 0;\n}\n"))

RULES = [RETURN_CONVENTION]

# A directory whose functions with action (predicate) names return bool (int) this often has a
# convention of its own; the coding style's rule is not what its readers expect there.
LOCAL_CONVENTION = 0.3
LOCAL_CONVENTION_MIN = 10
# ... and a file where, besides the function judged, this many others do the same.
FILE_CONVENTION = 2


def _computes_result(fn: FunctionView, ctx: CheckContext) -> bool:
    """Does the function return a computed truth value (`return !list_empty(..)`, `return
    was_armed;`) rather than only `true`/`false` for success?  Section 16 exempts "functions
    whose return value is the actual result of a computation"."""
    inputs, _ = ctx.verdict(fn)
    return any(kind not in ("success", "failure", "constant") for kind, *_ in inputs.returns)


def check(fn: FunctionView, ctx: CheckContext) -> Iterator[Finding]:
    verb = fn.verb
    # the public interface: exported, or non-static outside headers (not static inlines)
    public = fn.is_exported or (not fn.is_static and not fn.file.endswith(".h"))
    if verb is None or not public or fn.shape == "empty" or fn.named_by_framework or \
            fn.parts.rivals:
        return
    vocab = ctx.vocab
    leading = fn.parts.role in ("verb_object", "prefix_verb_object", "verb", "prefix_verb")
    problem = None
    evidence: list[Evidence] = []
    if vocab.promises(verb, "imperative") and fn.return_kind == "bool" and \
            (leading or fn.parts.role == "object_verb") and not _computes_result(fn, ctx):
        problem = f"'{verb}' names an action, but the function returns bool"
    elif vocab.promises(verb, "predicate") and leading and fn.return_kind == "int":
        inputs, _ = ctx.verdict(fn)
        codes = [r for r in inputs.returns if r[0] == "failure" and r[2].lstrip("(- ")[:1] == "E"
                 or r[2].startswith("-E")]
        if codes:
            problem = f"'{verb}' names a predicate, but the function returns error codes"
            evidence = [Evidence(fn.file, r[3], f"return {r[2]}") for r in codes[:3]]
    if problem is None:
        return
    wanted, unwanted = ("imperative", "bool") if fn.return_kind == "bool" else ("predicate", "int")
    counts = ctx.return_kinds(posixpath.dirname(fn.file), wanted)
    total = sum(counts.values())
    if total >= LOCAL_CONVENTION_MIN and counts.get(unwanted, 0) / total >= LOCAL_CONVENTION:
        return  # the subsystem's own convention, kept throughout its files
    if ctx.file_return_kinds(fn.file, wanted).get(unwanted, 0) > FILE_CONVENTION:
        return  # the file's own: its other actions return bool too (hci_conn.c, attrlist.c)
    yield ctx.finding(RETURN_CONVENTION, fn, RETURN_CONVENTION.message.format(
        name=fn.name, problem=problem), evidence, fn.confidence)
