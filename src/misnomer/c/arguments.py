"""Where a callee's writes through each argument of a call would land.

`nla_parse(tb, ...)` into a local array changes nothing the caller's callers see; the same call
into `p->tb`, where `p` is the caller's parameter, changes the caller's argument; into a global,
state.  The analysis needs this per argument position to tell a function that fills its own
scratch space (a query) from one that changes something.  Arguments are read off the source
text (cheaper than capturing every argument node) and coded one character each: see
``misnomer.facts.ARG_LOCAL``, ``ARG_ELSEWHERE`` and ``arg_param``.
"""

from __future__ import annotations

import re

from ..facts import ARG_ELSEWHERE, ARG_LOCAL, ARG_POINTER, arg_param

_FLAT_RE = re.compile(rb"\s*\(([^()\"']*)\)")
_OPEN_RE = re.compile(rb"\s*\(")
_TOKEN_RE = re.compile(rb'"(?:[^"\\\n]|\\.)*"|\'(?:[^\'\\\n]|\\.)*\'|[^(),"\']+|[(),]|["\']')
_MAX_BYTES = 4000  # an argument list longer than this is left unread (every argument elsewhere)
# casts, an address-of, a dereference, the name the argument starts from, what follows it
_HEAD_RE = re.compile(
    rb"\s*(?:\(\s*(?:(?:const|volatile|struct|union|enum|unsigned|signed)\s+)*[A-Za-z_]\w*\s*"
    rb"\*+\s*\)\s*)*(&?)\s*\(?\s*(\*?)\s*([A-Za-z_]\w*)\s*(\S?)")
_VALUE_START_RE = re.compile(rb"\s*(?:[-+~!0-9'\"]|$)")
_VALUE_CALLS = frozenset({b"sizeof", b"ARRAY_SIZE", b"BIT", b"BIT_ULL", b"GENMASK", b"min", b"max",
                          b"min_t", b"max_t", b"offsetof", b"__alignof__", b"_IOC_NR"})

# kinds of name in the calling function
POINTER_PARAM, BY_VALUE, LOCAL_ARRAY, LOCAL_POINTER, LOCAL_ALIAS = range(5)


def split_arguments(src: bytes, pos: int) -> list[bytes] | None:
    """The top-level arguments of the argument list that opens at ``pos`` (after white space),
    or None when there is none or it is too long to read."""
    m = _FLAT_RE.match(src, pos)
    if m:
        inner = m.group(1)
        return inner.split(b",") if inner.strip() else []
    m = _OPEN_RE.match(src, pos)
    if not m:
        return None
    depth, start = 0, m.end()
    args = []
    for t in _TOKEN_RE.finditer(src, m.end() - 1, min(len(src), m.end() + _MAX_BYTES)):
        tok = t.group()
        if tok == b"(":
            depth += 1
        elif tok == b")":
            depth -= 1
            if depth == 0:
                args.append(src[start:t.start()])
                return args if len(args) > 1 or args[0].strip() else []
        elif tok == b"," and depth == 1:
            args.append(src[start:t.start()])
            start = t.end()
    return None


def argument_codes(args: list[bytes] | None, names: dict[bytes, tuple[int, int]]) -> str:
    """One code per argument; trailing 'elsewhere' codes are left off (missing means
    elsewhere).  ``names`` maps the calling function's parameters and locals to their kind and,
    for a pointer parameter, its position."""
    if not args:
        return ""
    codes = "".join(argument_code(a, names) for a in args)
    return codes.rstrip(ARG_ELSEWHERE)


def argument_code(arg: bytes, names: dict[bytes, tuple[int, int]]) -> str:
    m = _HEAD_RE.match(arg)
    if not m:
        # a number, a string, a negation or other arithmetic: a value, nothing to write through
        return ARG_LOCAL if _VALUE_START_RE.match(arg) else ARG_ELSEWHERE
    amp, star, name, after = m.groups()
    if star:
        return ARG_ELSEWHERE  # `*pp`: a pointer read from memory
    if after == b"(":
        return ARG_LOCAL if name in _VALUE_CALLS else ARG_ELSEWHERE
    known = names.get(name)
    if known is None:
        # NULL, a constant; else a global, or a name declared somewhere this reading missed
        return ARG_LOCAL if name.isupper() and after not in (b"-", b".", b"[") else ARG_ELSEWHERE
    kind, index = known
    if kind == LOCAL_ALIAS:  # a pointer into one of the caller's locals
        return ARG_LOCAL if arg.count(b"->") <= 1 else ARG_ELSEWHERE
    if kind == POINTER_PARAM:
        if amp and after not in (b"-", b".", b"["):
            return ARG_LOCAL  # `&p`: the caller's own copy of the pointer
        return arg_param(index)
    if b"->" in arg:
        # reached through a pointer, unless it is the caller's own pointer parameter (above)
        return ARG_ELSEWHERE
    if kind == LOCAL_POINTER:
        if amp:
            return ARG_LOCAL if after != b"[" else ARG_POINTER
        return ARG_POINTER if after in (b"", b"+", b"-", b")") else ARG_ELSEWHERE
    if kind == LOCAL_ARRAY and not amp and after == b"[":
        return ARG_ELSEWHERE  # an element's value: a pointer stored in the array
    return ARG_LOCAL  # a local (array, struct, scalar) or its address, a by-value parameter


__all__ = ["split_arguments", "argument_codes", "argument_code", "POINTER_PARAM", "BY_VALUE",
           "LOCAL_ARRAY", "LOCAL_POINTER", "LOCAL_ALIAS"]
