"""Macros: find #defines, learn which ones are iterators or attributes, and neutralise them.

tree-sitter parses C without a preprocessor, so kernel macros distort the tree (see
shared KERNEL-C notes): an iterator such as ``list_for_each_entry(pos, head, member) {`` turns
into a bogus nested function, ``static __always_inline bool __must_check foo(...)`` loses its
storage class, and ``SYSCALL_DEFINE3(...) { ... }`` loses the function altogether.

The fix keeps every byte offset: the source is rewritten with replacements of the *same length*
before parsing (iterator name -> ``while`` padded with spaces, attribute -> spaces, definition
macro header -> an ordinary declarator), so lines, columns and later rename edits stay exact.
Which names are iterators or attributes is learnt from the tree's own #defines
(:func:`learn_macros`) on top of a small built-in list (``data/c_macros.toml``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..resources import load_toml

# `#define NAME(params) body` with backslash-continued lines.  No `^` anchor: sre scans for the
# literal '#' much faster than it checks line starts; the few false hits (a '#define' inside a
# string or comment) are harmless.
DEFINE_RE = re.compile(
    rb"#[ \t]*define[ \t]+([A-Za-z_]\w*)(\([^)\n]*\))?((?:[^\n\\]|\\[^\n]|\\\r?\n)*)"
)
_WS_RE = re.compile(rb"\s+")
_OBJECT_BODY_CHARS = 160  # enough to show a constant's value
_FUNCTION_BODY_CHARS = 2000  # enough to see the calls a function-like macro makes

MacroRow = tuple  # (name, line, column, params | None, body): the macros table's column order


def scan_defines(src: bytes) -> list[MacroRow]:
    """Every #define in ``src`` as a row ``(name, line, column, params, body)``.

    Rows rather than :class:`misnomer.facts.MacroDef` objects because the Linux tree has five
    million of them; the index reads them back as ``MacroDef``.
    """
    rows: list[MacroRow] = []
    count = src.count
    line = 1
    last = 0
    for m in DEFINE_RE.finditer(src):
        start = m.start()
        line += count(b"\n", last, start)
        last = start
        name, params, body = m.groups()
        if params is None:
            body = body[:_OBJECT_BODY_CHARS]
        else:
            body = body[:_FUNCTION_BODY_CHARS]
        if b"\\" in body:
            body = body.replace(b"\\\r\n", b" ").replace(b"\\\n", b" ")
        body = _WS_RE.sub(b" ", body).strip()
        line_start = src.rfind(b"\n", 0, start) + 1
        rows.append((
            name.decode("ascii"),
            line,
            start - line_start + 1,
            params.decode("utf-8", "replace") if params is not None else None,
            body.decode("utf-8", "replace"),
        ))
    return rows


# --- learning which macros are iterators and attributes -------------------------------------

_ITERATOR_BODY_RE = re.compile(r"^\(*\s*(for|while)\s*\(")
_LEADING_CALL_RE = re.compile(r"^\(*\s*([A-Za-z_]\w*)\s*\(")
_ATTRIBUTE_TOKEN_RE = re.compile(
    r"__attribute__\s*\(\(.*?\)\)|__attribute\s*\(\(.*?\)\)|__declspec\s*\(.*?\)|[A-Za-z_]\w*(?:\s*\([^()]*(?:\([^()]*\)[^()]*)*\))?"
)
_LOWER_NAME_RE = re.compile(r"^_*[a-z][a-z0-9_]*$")
_INLINE_WORDS = frozenset({"inline", "__inline", "__inline__"})


@dataclass(frozen=True)
class DefinitionMacro:
    pattern: re.Pattern[str]
    name_template: str
    return_type: str
    params: str  # "pairs" or "plain"


@dataclass
class MacroKnowledge:
    """What the rewriter must neutralise.  Built from the built-in list plus the tree's defines."""

    iterators: set[str] = field(default_factory=set)
    attributes: set[str] = field(default_factory=set)  # object-like: blank the name
    attribute_functions: set[str] = field(default_factory=set)  # blank name and arguments
    inline_attributes: set[str] = field(default_factory=set)  # rewrite to `inline`
    definitions: list[DefinitionMacro] = field(default_factory=list)

    def fingerprint(self) -> str:
        """Changes whenever the rewrite of some file could change (stored in the index)."""
        import hashlib

        h = hashlib.sha1()
        for group in (self.iterators, self.attributes, self.attribute_functions,
                      self.inline_attributes):
            h.update("\0".join(sorted(group)).encode())
            h.update(b"\1")
        for d in self.definitions:
            h.update(f"{d.pattern.pattern}|{d.name_template}|{d.return_type}|{d.params}".encode())
        return h.hexdigest()


def builtin_knowledge(extra: dict | None = None) -> MacroKnowledge:
    """The built-in macro list, plus ``extra`` (same keys as ``data/c_macros.toml``)."""
    data = load_toml("c_macros.toml")
    k = MacroKnowledge()
    for source in (data, extra or {}):
        attrs = source.get("attributes", {})
        k.attributes.update(attrs.get("names", []))
        k.attribute_functions.update(attrs.get("function_like", []))
        k.inline_attributes.update(attrs.get("inline", []))
        k.iterators.update(source.get("iterators", {}).get("names", []))
        for d in source.get("definition", []):
            k.definitions.append(DefinitionMacro(
                re.compile(d["macro"] + r"\Z"), d["name"], d.get("return_type", "int"),
                d.get("params", "pairs")))
    return k


def is_iterator_candidate(params: str | None, body: str) -> bool:
    """Cheap pre-filter for the rows :func:`learn_macros` needs to see."""
    if params is None:
        return body == "" or "attribute" in body or "inline" in body or body.startswith("__")
    return body == "" or body.startswith(("for", "while", "(", "_")) or "attribute" in body or \
        bool(_LEADING_CALL_RE.match(body))


def learn_macros(defines: list[tuple[str, str | None, str]], base: MacroKnowledge) -> MacroKnowledge:
    """Extend ``base`` with iterators and attributes learnt from ``(name, params, body)`` rows."""
    by_name: dict[str, list[tuple[str | None, str]]] = {}
    for name, params, body in defines:
        by_name.setdefault(name, []).append((params, body))

    known = MacroKnowledge(set(base.iterators), set(base.attributes),
                           set(base.attribute_functions), set(base.inline_attributes),
                           list(base.definitions))
    # Iterators: bodies starting with for/while, or with another iterator (to a fixpoint).
    leading: dict[str, set[str]] = {}
    for name, defs in by_name.items():
        for params, body in defs:
            if params is None or len(name) < 5:
                continue  # `while` needs five characters to replace the name
            m = _ITERATOR_BODY_RE.match(body)
            if m and _opens_a_loop(body, m.end() - 1):
                known.iterators.add(name)
                continue
            m = _LEADING_CALL_RE.match(body)
            if m and _opens_a_loop(body, m.end() - 1):
                leading.setdefault(name, set()).add(m.group(1))
    changed = True
    while changed:
        changed = False
        for name, callees in leading.items():
            if name not in known.iterators and callees & known.iterators:
                known.iterators.add(name)
                changed = True

    # Attributes: every definition's body is empty or made only of attribute tokens.
    changed = True
    while changed:
        changed = False
        for name, defs in by_name.items():
            if name in known.attributes or name in known.attribute_functions or \
                    name in known.iterators:
                continue
            verdicts = [_attribute_body(body, known) for _, body in defs]
            if "other" in verdicts:
                continue
            if not any(v in ("attribute", "inline") for v in verdicts):
                # Only empty bodies: an attribute when it reads like one (`__user`), not a
                # configuration flag or include guard (`CONFIG_FOO`, `_LINUX_FOO_H`).
                if defs[0][0] is not None or not (name.startswith("_") and
                                                  _LOWER_NAME_RE.match(name)):
                    continue
            if any(p is not None for p, _ in defs):
                known.attribute_functions.add(name)
            else:
                known.attributes.add(name)
                if "inline" in verdicts and len(name) >= len("inline"):
                    known.inline_attributes.add(name)
            changed = True
    return known


def _opens_a_loop(body: str, open_paren: int) -> bool:
    """After the loop header (or the iterator call) starting at ``open_paren``, the body must
    end: what follows the macro is the loop's body (or it ends in `else`, the kernel's idiom
    for a filtered iterator).  `while (x) udelay(1)` is a whole statement, not an iterator."""
    depth = 0
    for i in range(open_paren, len(body)):
        ch = body[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                rest = body[i + 1:].strip()
                return rest == "" or rest.endswith("else")
    return False


def _attribute_body(body: str, known: MacroKnowledge) -> str:
    """'empty', 'attribute', 'inline' (attribute that implies inline) or 'other'."""
    if not body:
        return "empty"
    verdict = "attribute"
    pos = 0
    for m in _ATTRIBUTE_TOKEN_RE.finditer(body):
        if body[pos:m.start()].strip():
            return "other"
        pos = m.end()
        token = m.group(0)
        word = re.match(r"[A-Za-z_]\w*", token).group(0)
        if word in ("__attribute__", "__attribute", "__declspec"):
            continue
        if word in _INLINE_WORDS or word in known.inline_attributes:
            verdict = "inline"
        elif word in known.attributes or word in known.attribute_functions:
            continue
        else:
            return "other"
    if body[pos:].strip():
        return "other"
    return verdict


# --- hints: the defines learn_macros needs, found without looking at every other define -------

# (?=(x))\1 is an atomic group: without it, a define that is not a hint (five million of them
# in Linux) backtracks through every shorter prefix of its name before the match fails.
_HINT_RE = re.compile(
    rb"#[ \t]*define[ \t]+(?=([A-Za-z_]\w*))\1(\([^)\n]*\))?(?=([ \t]*))\3"
    rb"(?:\\\r?\n[ \t]*)*(?=for\b|while\b|__|inline\b|[A-Za-z_]\w*[ \t]*\(|\r?\n)"
)
_BODY_RE = re.compile(r"^\(*\s*(for|while)\s*\(")
_LEADING_CALL_RE = re.compile(r"^\(*\s*([A-Za-z_]\w*)\s*\(")
_ATTRIBUTE_TOKEN_RE = re.compile(
    r"__attribute__\s*\(\(.*?\)\)|__attribute\s*\(\(.*?\)\)|__declspec\s*\(.*?\)|[A-Za-z_]\w*(?:\s*\([^()]*(?:\([^()]*\)[^()]*)*\))?"
)
_LOWER_NAME_RE = re.compile(r"^_*[a-z][a-z0-9_]*$")
_INLINE_WORDS = frozenset({"inline", "__inline", "__inline__"})


@dataclass(frozen=True)
class DefinitionMacro:
    pattern: re.Pattern[str]
    name_template: str
    return_type: str
    params: str  # "pairs" or "plain"


@dataclass
class MacroKnowledge:
    """What the rewriter must neutralise.  Built from the built-in list plus the tree's defines."""

    iterators: set[str] = field(default_factory=set)
    attributes: set[str] = field(default_factory=set)  # object-like: blank the name
    attribute_functions: set[str] = field(default_factory=set)  # blank name and arguments
    inline_attributes: set[str] = field(default_factory=set)  # rewrite to `inline`
    definitions: list[DefinitionMacro] = field(default_factory=list)

    def fingerprint(self) -> str:
        """Changes whenever the rewrite of some file could change (stored in the index)."""
        import hashlib

        h = hashlib.sha1()
        for group in (self.iterators, self.attributes, self.attribute_functions,
                      self.inline_attributes):
            h.update("\0".join(sorted(group)).encode())
            h.update(b"\1")
        for d in self.definitions:
            h.update(f"{d.pattern.pattern}|{d.name_template}|{d.return_type}|{d.params}".encode())
        return h.hexdigest()


def builtin_knowledge(extra: dict | None = None) -> MacroKnowledge:
    """The built-in macro list, plus ``extra`` (same keys as ``data/c_macros.toml``)."""
    data = load_toml("c_macros.toml")
    k = MacroKnowledge()
    for source in (data, extra or {}):
        attrs = source.get("attributes", {})
        k.attributes.update(attrs.get("names", []))
        k.attribute_functions.update(attrs.get("function_like", []))
        k.inline_attributes.update(attrs.get("inline", []))
        k.iterators.update(source.get("iterators", {}).get("names", []))
        for d in source.get("definition", []):
            k.definitions.append(DefinitionMacro(
                re.compile(d["macro"] + r"\Z"), d["name"], d.get("return_type", "int"),
                d.get("params", "pairs")))
    return k


def is_iterator_candidate(params: str | None, body: str) -> bool:
    """Cheap pre-filter for the rows :func:`learn_macros` needs to see."""
    if params is None:
        return body == "" or "attribute" in body or "inline" in body or body.startswith("__")
    return body == "" or body.startswith(("for", "while", "(", "_")) or "attribute" in body or \
        bool(_LEADING_CALL_RE.match(body))


def learn_macros(defines: list[tuple[str, str | None, str]], base: MacroKnowledge) -> MacroKnowledge:
    """Extend ``base`` with iterators and attributes learnt from ``(name, params, body)`` rows."""
    by_name: dict[str, list[tuple[str | None, str]]] = {}
    for name, params, body in defines:
        by_name.setdefault(name, []).append((params, body))

    known = MacroKnowledge(set(base.iterators), set(base.attributes),
                           set(base.attribute_functions), set(base.inline_attributes),
                           list(base.definitions))
    # Iterators: bodies starting with for/while, or with another iterator (to a fixpoint).
    leading: dict[str, set[str]] = {}
    for name, defs in by_name.items():
        for params, body in defs:
            if params is None or len(name) < 5:
                continue  # `while` needs five characters to replace the name
            m = _ITERATOR_BODY_RE.match(body)
            if m and _opens_a_loop(body, m.end() - 1):
                known.iterators.add(name)
                continue
            m = _LEADING_CALL_RE.match(body)
            if m and _opens_a_loop(body, m.end() - 1):
                leading.setdefault(name, set()).add(m.group(1))
    changed = True
    while changed:
        changed = False
        for name, callees in leading.items():
            if name not in known.iterators and callees & known.iterators:
                known.iterators.add(name)
                changed = True

    # Attributes: every definition's body is empty or made only of attribute tokens.
    changed = True
    while changed:
        changed = False
        for name, defs in by_name.items():
            if name in known.attributes or name in known.attribute_functions or \
                    name in known.iterators:
                continue
            verdicts = [_attribute_body(body, known) for _, body in defs]
            if "other" in verdicts:
                continue
            if not any(v in ("attribute", "inline") for v in verdicts):
                # Only empty bodies: an attribute when it reads like one (`__user`), not a
                # configuration flag or include guard (`CONFIG_FOO`, `_LINUX_FOO_H`).
                if defs[0][0] is not None or not (name.startswith("_") and
                                                  _LOWER_NAME_RE.match(name)):
                    continue
            if any(p is not None for p, _ in defs):
                known.attribute_functions.add(name)
            else:
                known.attributes.add(name)
                if "inline" in verdicts and len(name) >= len("inline"):
                    known.inline_attributes.add(name)
            changed = True
    return known


def _opens_a_loop(body: str, open_paren: int) -> bool:
    """After the loop header (or the iterator call) starting at ``open_paren``, the body must
    end: what follows the macro is the loop's body (or it ends in `else`, the kernel's idiom
    for a filtered iterator).  `while (x) udelay(1)` is a whole statement, not an iterator."""
    depth = 0
    for i in range(open_paren, len(body)):
        ch = body[i]
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                rest = body[i + 1:].strip()
                return rest == "" or rest.endswith("else")
    return False


def _attribute_body(body: str, known: MacroKnowledge) -> str:
    """'empty', 'attribute', 'inline' (attribute that implies inline) or 'other'."""
    if not body:
        return "empty"
    verdict = "attribute"
    pos = 0
    for m in _ATTRIBUTE_TOKEN_RE.finditer(body):
        if body[pos:m.start()].strip():
            return "other"
        pos = m.end()
        token = m.group(0)
        word = re.match(r"[A-Za-z_]\w*", token).group(0)
        if word in ("__attribute__", "__attribute", "__declspec"):
            continue
        if word in _INLINE_WORDS or word in known.inline_attributes:
            verdict = "inline"
        elif word in known.attributes or word in known.attribute_functions:
            continue
        else:
            return "other"
    if body[pos:].strip():
        return "other"
    return verdict


# --- hints: the defines learn_macros needs, found without looking at every other define -------

_HINT_RE = re.compile(
    rb"#[ \t]*define[ \t]+([A-Za-z_]\w*)(?!\w)(\([^)\n]*\))?[ \t]*(?:\\\r?\n[ \t]*)*"
    rb"(?=for\b|while\b|__|inline\b|[A-Za-z_]\w*[ \t]*\(|\r?\n)"
)
_BODY_RE = re.compile(rb"(?:[^\n\\]|\\[^\n]|\\\r?\n)*")

HintRow = tuple  # (name, params | None, body)


def scan_hints(src: bytes) -> list[HintRow]:
    """The #defines of ``src`` that may be iterators or attributes (see :func:`learn_macros`)."""
    rows = []
    for m in _HINT_RE.finditer(src):
        body = _BODY_RE.match(src, m.end()).group(0)[:_FUNCTION_BODY_CHARS]
        if b"\\" in body:
            body = body.replace(b"\\\r\n", b" ").replace(b"\\\n", b" ")
        text = _WS_RE.sub(b" ", body).strip().decode("utf-8", "replace")
        params = m.group(2)
        params_text = params.decode("utf-8", "replace") if params is not None else None
        if is_iterator_candidate(params_text, text):
            rows.append((m.group(1).decode("ascii"), params_text, text))
    return rows
