"""Parameter lists and return types, read off the declarator's text."""

from __future__ import annotations

import re
from functools import lru_cache

from ..facts import Param

_WS = re.compile(r"\s+")
_FUNCPTR_RE = re.compile(r"\(\s*\*\s*([A-Za-z_]\w*)\s*\)")
_TAG_WORDS = ("struct", "enum", "union")
_QUALIFIERS = re.compile(r"\b(?:const|volatile|register|struct|enum|union|restrict|__restrict)\b")
_INT_TYPES = re.compile(
    r"^(?:(?:unsigned|signed)\s+)?(?:"
    r"int|long|short|char|long long|long int|long long int|short int|long unsigned int|"
    r"unsigned|signed|[us](?:8|16|32|64)|__[us](?:8|16|32|64)|u?int(?:8|16|32|64|ptr|max)_t|"
    r"size_t|ssize_t|loff_t|off_t|pid_t|uid_t|gid_t|ptrdiff_t|intptr_t|uintptr_t|"
    r"__le(?:16|32|64)|__be(?:16|32|64)|le(?:16|32|64)|be(?:16|32|64))$"
)


@lru_cache(maxsize=4096)
def return_kind_of(rtype: str) -> str:
    """'void', 'bool', 'int', 'pointer' or 'other' for a return type's text."""
    if "*" in rtype:
        return "pointer"
    base = _WS.sub(" ", _QUALIFIERS.sub(" ", rtype)).strip()
    if base == "void":
        return "void"
    if base in ("bool", "_Bool"):
        return "bool"
    if _INT_TYPES.match(base):
        return "int"
    return "other"


def parse_params(text: str) -> list[Param]:
    """Parameters from the text of a parameter list, ``(int a, char *b)``."""
    inner = text.strip()
    if inner.startswith("(") and inner.endswith(")"):
        inner = inner[1:-1].strip()
    if not inner or inner == "void":
        return []
    parts = split_top_level(inner) if "(" in inner else inner.split(",")
    params = []
    for part in parts:
        part = part.strip()
        if "\n" in part or "  " in part or "\t" in part:
            part = _WS.sub(" ", part)
        if not part or part == "...":
            continue
        if "(" in part:
            m = _FUNCPTR_RE.search(part)
            if m:  # a function pointer parameter
                params.append(Param(m.group(1), part, True))
                continue
        name, head = _trailing_name(part)
        if name and head and not head.endswith(_TAG_WORDS) and not name[0].isdigit():
            params.append(Param(name, head, "*" in part or "[" in part))
        elif name and not head:
            params.append(Param(name, "", False))  # K&R: a bare name
        else:
            params.append(Param("", part, "*" in part or "[" in part))  # unnamed
    return params


def _trailing_name(part: str) -> tuple[str, str]:
    """('name', 'type text') for 'type text name[...]'; ('', part) when there is no name."""
    text = part
    while text.endswith("]") and "[" in text:
        text = text[:text.rfind("[")].rstrip()
    i = len(text)
    while i > 0 and (text[i - 1].isalnum() or text[i - 1] == "_"):
        i -= 1
    if i == len(text):
        return "", part
    return text[i:], text[:i].rstrip()


def split_top_level(text: str, sep: str = ",") -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts
