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
# (a block comment inside the body may span lines without backslashes: C removes comments
# before it ends the directive)
DEFINE_RE = re.compile(
    rb"#[ \t]*define[ \t]+([A-Za-z_]\w*)(\([^)\n]*\))?"
    rb"((?:[^\n\\/]|/(?!\*)|/\*(?:[^*]|\*(?!/))*\*/|\\[^\n]|\\\r?\n)*)"
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


# --- learning which macros the rewrite must neutralise ---------------------------------------

_ITERATOR_BODY_RE = re.compile(r"^\(*\s*(for|while)\s*\(")
_LEADING_CALL_RE = re.compile(r"^\(*\s*([A-Za-z_]\w*)\s*\(")
_NESTED = r"(?:[^()]|\((?:[^()]|\([^()]*\))*\))*"  # up to two levels of parentheses inside
_ATTRIBUTE_TOKEN_RE = re.compile(
    r"__attribute__\s*\(\(" + _NESTED + r"\)\)|__attribute\s*\(\(" + _NESTED + r"\)\)|"
    r"__declspec\s*\(" + _NESTED + r"\)|[A-Za-z_]\w*(?:\s*\(" + _NESTED + r"\))?"
)
_STRING_TOKEN_RE = re.compile(r'"(?:[^"\\\n]|\\.)*"|[A-Za-z_]\w*|\S')
_LOWER_NAME_RE = re.compile(r"^_*[a-z][a-z0-9_]*$")
_INLINE_WORDS = frozenset({"inline", "__inline", "__inline__"})
_STORAGE_WORDS = frozenset({"static", "extern"})


@dataclass(frozen=True)
class DefinitionMacro:
    pattern: re.Pattern[str]
    name_template: str
    return_type: str
    params: str  # "pairs" or "plain"


@dataclass
class MacroKnowledge:
    """What the rewriter must neutralise.  Built from the built-in list plus the tree's defines."""

    iterators: set[str] = field(default_factory=set)  # rewrite to `while`
    attributes: set[str] = field(default_factory=set)  # object-like: blank the name
    attribute_functions: set[str] = field(default_factory=set)  # blank name and arguments
    inline_attributes: set[str] = field(default_factory=set)  # rewrite to `inline`
    storage_attributes: set[str] = field(default_factory=set)  # rewrite to `static`
    string_macros: set[str] = field(default_factory=set)  # rewrite to a string literal
    definitions: list[DefinitionMacro] = field(default_factory=list)

    SETS = ("iterators", "attributes", "attribute_functions", "inline_attributes",
            "storage_attributes", "string_macros")

    def fingerprint(self) -> str:
        """Changes whenever the rewrite of some file could change (stored in the index)."""
        import hashlib

        h = hashlib.sha1()
        for name in self.SETS:
            h.update("\0".join(sorted(getattr(self, name))).encode())
            h.update(b"\1")
        for d in self.definitions:
            h.update(f"{d.pattern.pattern}|{d.name_template}|{d.return_type}|{d.params}".encode())
        return h.hexdigest()

    def copy(self) -> MacroKnowledge:
        return MacroKnowledge(*(set(getattr(self, name)) for name in self.SETS),
                              definitions=list(self.definitions))


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


def is_hint(params: str | None, body: str) -> bool:
    """Could this define be an iterator, an attribute or a string macro?  (A cheap filter: the
    index keeps only these, and :func:`learn_macros` decides.)"""
    if params is None:
        return (body == "" or "attribute" in body or "inline" in body or body.startswith("__")
                or body.startswith(("static", '"')) or '"' in body[:80])
    return body == "" or body.startswith(("for", "while", "(", "_")) or "attribute" in body or \
        bool(_LEADING_CALL_RE.match(body))


def learn_macros(defines: list[tuple[str, str | None, str]], base: MacroKnowledge,
                 private: set[str] | frozenset[str] = frozenset()) -> MacroKnowledge:
    """Extend ``base`` with iterators, attributes and string macros learnt from
    ``(name, params, body)`` rows.  ``private``: names defined only in .c files; what one file
    makes of a plain word (`#define vector __attribute__((vector_size(16)))`) is not what it
    means in the rest of the tree, where `vector` is a variable."""
    by_name: dict[str, list[tuple[str | None, str]]] = {}
    for name, params, body in defines:
        by_name.setdefault(name, []).append((params, body))
    known = base.copy()
    _learn_iterators(by_name, known)
    _learn_attributes({name: defs for name, defs in by_name.items()
                       if name not in private or name.startswith("_")}, known)
    _learn_strings(by_name, known)
    return known


def _learn_iterators(by_name: dict, known: MacroKnowledge) -> None:
    """Bodies that open a loop with for/while, or with another iterator (to a fixpoint)."""
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


def _learn_attributes(by_name: dict, known: MacroKnowledge) -> None:
    """Every definition's body is empty or made only of attributes (and inline/static)."""
    pending = {name: defs for name, defs in by_name.items()
               if name not in known.iterators and name not in known.attributes
               and name not in known.attribute_functions}
    changed = True
    while changed:
        changed = False
        for name, defs in list(pending.items()):
            verdicts = {_attribute_body(body, known) for _, body in defs}
            if "other" in verdicts:
                continue
            if not verdicts & {"attribute", "inline", "static"}:
                # Only empty bodies: an attribute when it reads like one (`__user`), not a
                # configuration flag or include guard (`CONFIG_FOO`, `_LINUX_FOO_H`).
                if defs[0][0] is not None or not (name.startswith("_") and
                                                  _LOWER_NAME_RE.match(name)):
                    continue
            del pending[name]
            changed = True
            if any(p is not None for p, _ in defs):
                known.attribute_functions.add(name)
                continue
            known.attributes.add(name)
            if "static" in verdicts and len(name) >= len("static"):
                known.storage_attributes.add(name)
            elif "inline" in verdicts and len(name) >= len("inline"):
                known.inline_attributes.add(name)


def _learn_strings(by_name: dict, known: MacroKnowledge) -> None:
    """Object-like macros that expand to string literals (KERN_INFO, DRV_NAME): written next to
    a literal (`printk(KERN_INFO "up\\n")`) they break the parse unless read as one."""
    candidates = {name: [body for params, body in defs if params is None]
                  for name, defs in by_name.items()
                  if all(params is None for params, _ in defs) and len(name) >= 2}
    changed = True
    while changed:
        changed = False
        for name, bodies in list(candidates.items()):
            if bodies and all(_is_string_body(b, known.string_macros) for b in bodies):
                known.string_macros.add(name)
                del candidates[name]
                changed = True


def _is_string_body(body: str, strings: set[str]) -> bool:
    """A body made only of string literals and (known) string macros."""
    tokens = _STRING_TOKEN_RE.findall(body)
    return bool(tokens) and all(t.startswith('"') or t in strings for t in tokens)


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
    """'empty', 'attribute', 'inline' or 'static' (attributes that imply a storage class), or
    'other'."""
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
        if word in _STORAGE_WORDS or word in known.storage_attributes:
            verdict = "static"
        elif word in _INLINE_WORDS or word in known.inline_attributes:
            if verdict != "static":
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
    rb"(?:\\\r?\n[ \t]*)*(?=for\b|while\b|__|inline\b|static\b|\"|"
    rb"[A-Za-z_]\w*[ \t]*[(\"]|\r?\n)"
)
_LOGICAL_LINE_RE = re.compile(rb"(?:[^\n\\]|\\[^\n]|\\\r?\n)*")

HintRow = tuple  # (name, params | None, body)


def scan_hints(src: bytes) -> list[HintRow]:
    """The #defines of ``src`` that may be iterators, attributes or string macros."""
    rows = []
    for m in _HINT_RE.finditer(src):
        body = _LOGICAL_LINE_RE.match(src, m.end()).group(0)[:_FUNCTION_BODY_CHARS]
        if b"\\" in body:
            body = body.replace(b"\\\r\n", b" ").replace(b"\\\n", b" ")
        text = _WS_RE.sub(b" ", body).strip().decode("utf-8", "replace")
        params = m.group(2)
        params_text = params.decode("utf-8", "replace") if params is not None else None
        if is_hint(params_text, text):
            rows.append((m.group(1).decode("ascii"), params_text, text))
    return rows
