"""Small text-level classifiers for C expressions the extractor has already located.

They work on the source text of a node rather than walking its subtree: the extractor calls them
millions of times on the Linux tree, and a regex over a short string is far cheaper than a dozen
py-tree-sitter node objects.
"""

from __future__ import annotations

import re

from ..facts import ReturnKind, TargetKind

_WS = re.compile(r"\s+")
_LIKELY = re.compile(r"\b(?:likely|unlikely)\s*\(")
_ERRNO = re.compile(r"-\s*\(?\s*E[A-Z0-9_]+\s*\)?")
_CALL_HEAD = re.compile(r"([A-Za-z_]\w*)\s*\(")
_NUMBER = re.compile(r"(?:0[xX][0-9a-fA-F]+|\d+)[uUlL]*")
_UPPER_CONSTANT = re.compile(r"[A-Z][A-Z0-9_]*")
_BOOL_OPERATORS = ("==", "!=", "<=", ">=", "&&", "||", "<", ">")
_FAILURE_CALLS = frozenset({"ERR_PTR", "ERR_CAST", "ERR_PTR_PCPU", "PTR_ERR"})
_MEMBER_CALL_HEAD = re.compile(r"([A-Za-z_]\w*(?:\s*(?:->|\.)\s*[A-Za-z_]\w*)+)\s*\(")
# a cast: a pointer type, or a type spelt with a keyword -- `(p)` alone is just parentheses
_CAST = re.compile(r"\(\s*(?:(?:const|volatile|struct|union|enum|unsigned|signed)\s+)*"
                   r"[A-Za-z_]\w*(?:\s+[A-Za-z_]\w*)*\s*\*+\s*\)|"
                   r"\(\s*(?:struct|union|enum|unsigned|signed|const|volatile)\s+[\w\s]+\)")
# lvalue text -> (leading derefs, base identifier); casts and parentheses are skipped
_LVALUE = re.compile(r"^[\s(*&]*(?:\(\s*[\w\s*]+\)\s*)?[\s(*]*([A-Za-z_]\w*)")
# `reg_of(dev) |= BIT(3)`: a macro call used as an lvalue writes whatever it expands to
_CALL_LVALUE = re.compile(r"^[\s(*]*([A-Za-z_]\w*)\s*\(\s*[&*]?\s*([A-Za-z_]\w*)?")
# an lvalue reached from a variable's address: `(&x)[1]`, once casts are gone
_ADDRESS_OF = re.compile(r"^[\s(]*&\s*[A-Za-z_]\w*\s*\)")
# the innermost subscripts, repeatedly: what a subscript reads is not what the lvalue writes
_SUBSCRIPT = re.compile(r"\[[^\[\]]*\]")
_CONDITION_MAX = 200
_TEXT_MAX = 120


def collapse(text: str, limit: int = _TEXT_MAX) -> str:
    """Whitespace runs to one space, trimmed, cut at ``limit`` characters."""
    if "\n" in text or "\t" in text or "  " in text or "\r" in text:
        text = _WS.sub(" ", text)
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def strip_parens(text: str) -> str:
    """Remove parentheses that enclose the whole expression."""
    while text.startswith("(") and text.endswith(")") and _encloses(text):
        text = text[1:-1].strip()
    return text


def _encloses(text: str) -> bool:
    depth = 0
    for i, ch in enumerate(text):
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0 and i != len(text) - 1:
                return False
    return depth == 0


def normalize_condition(raw: str) -> str:
    """The condition of an if (the text of its parenthesised expression) as a reader wants it:
    no outer parentheses, no likely()/unlikely()."""
    text = collapse(raw, 10_000)
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1].strip()  # the if's own parentheses
    if "likely" in text:
        text = _unwrap_likely(text)
        if text.startswith("("):
            text = strip_parens(text)
    return text if len(text) <= _CONDITION_MAX else text[: _CONDITION_MAX - 1] + "…"


def _unwrap_likely(text: str) -> str:
    out = []
    pos = 0
    for m in _LIKELY.finditer(text):
        if m.start() < pos:
            continue
        out.append(text[pos:m.start()])
        depth = 1
        i = m.end()
        while i < len(text) and depth:
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        inner = text[m.end():i - 1]
        out.append(inner if _is_simple(inner) else "(" + inner + ")")
        pos = i
    out.append(text[pos:])
    return "".join(out)


def _is_simple(expr: str) -> bool:
    return not any(op in expr for op in (" ", "?", "&&", "||"))


_SHIFT_OR_ARROW = re.compile(r"->|<<|>>")
_TOP_BOOL = re.compile(r"==|!=|<=|>=|<|>|&&|\|\|")


def classify_return(text: str) -> tuple[ReturnKind, str | None]:
    """Categorise a returned expression (whitespace already collapsed) from its text.

    Returns the kind and, for a call, the called function's name.
    """
    if not text:
        return ReturnKind.VOID, None
    if text[0] == "(" and text[-1] == ")":
        text = strip_parens(text)
    c = text[0]
    if c.isdigit():
        if text.rstrip("uUlL") == "0":
            return ReturnKind.SUCCESS, None
        return ReturnKind.CONSTANT, None
    if text == "true":
        return ReturnKind.SUCCESS, None
    if text in ("false", "NULL", "nullptr"):
        return ReturnKind.FAILURE, None
    if c == "-":
        if _ERRNO.fullmatch(text):
            return ReturnKind.FAILURE, None
        if _NUMBER.fullmatch(text[1:].strip()):
            return ReturnKind.CONSTANT, None
        return ReturnKind.VALUE, None
    if c == "!":
        return ReturnKind.BOOL, None
    if c in "\"'":
        return ReturnKind.CONSTANT, None
    m = _CALL_HEAD.match(text)
    if m and text[-1] == ")" and _encloses(text[m.end() - 1:]):
        name = m.group(1)
        if name in _FAILURE_CALLS:
            return ReturnKind.FAILURE, None
        if name in ("likely", "unlikely", "test_bit", "IS_ERR", "IS_ERR_OR_NULL"):
            return ReturnKind.BOOL, None
        if name == "sizeof":
            return ReturnKind.CONSTANT, None
        return ReturnKind.CALL, name
    m = _MEMBER_CALL_HEAD.match(text)
    if m and text[-1] == ")" and _encloses(text[m.end() - 1:]):
        return ReturnKind.CALL, _WS.sub("", m.group(1))  # through a function pointer
    if "?" in text:
        return ReturnKind.VALUE, None
    if _TOP_BOOL.search(_SHIFT_OR_ARROW.sub(" ", text)):
        return ReturnKind.BOOL, None
    if _UPPER_CONSTANT.fullmatch(text):
        return ReturnKind.CONSTANT, None
    return ReturnKind.VALUE, None


_TYPE_WORDS = frozenset({"struct", "union", "enum", "const", "volatile", "unsigned", "signed",
                         "int", "long", "short", "char", "void", "typeof", "__typeof__"})


def _without_subscripts(text: str) -> str:
    """`a[p->x[i]].f` -> `a#.f`."""
    while True:
        shorter = _SUBSCRIPT.sub("#", text)
        if shorter == text:
            return text
        text = shorter


def classify_lvalue(text: str, params: dict[str, bool], global_names: set[str],
                    local_arrays: set[str]) -> tuple[TargetKind, str]:
    """What an assignment writes: a local, memory behind a parameter, memory behind some other
    pointer, or a global.  ``params`` maps parameter names to whether they are pointers;
    ``global_names`` are the file's file-scope variables."""
    if "(" in text:
        text = _CAST.sub("", text)  # *(u32 *)p = v writes through p
        call = _CALL_LVALUE.match(text)
        if call and call.group(1) not in _TYPE_WORDS:
            arg = call.group(2) or ""
            if arg in params:
                return (TargetKind.PARAM if params[arg] else TargetKind.POINTER), arg
            if arg in global_names:
                return TargetKind.GLOBAL, arg
            return TargetKind.POINTER, arg
    m = _LVALUE.match(text)
    if not m or m.group(1) in _TYPE_WORDS:
        return TargetKind.POINTER, ""
    base = m.group(1)
    if _ADDRESS_OF.match(text):
        # `((u8 *)&crc)[1] = v`, `(&hdr)->len = n`: the variable itself, by its address
        derefs = indexed = False
    else:
        outer = _without_subscripts(text) if "[" in text else text  # `a[p->i]` reads p
        derefs = "->" in outer or text.lstrip("( ").startswith("*")
        indexed = "[" in text
    if base in params:
        if derefs or (indexed and params[base]):
            return TargetKind.PARAM, base
        return TargetKind.LOCAL, base
    if base in local_arrays:
        return (TargetKind.POINTER, base) if derefs else (TargetKind.LOCAL, base)
    if base in global_names:
        return TargetKind.GLOBAL, base
    if derefs or indexed:
        return TargetKind.POINTER, base
    return TargetKind.LOCAL, base
