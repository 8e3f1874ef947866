"""Same-length source rewriting that hides kernel macros from tree-sitter.

Every replacement has exactly the length of what it replaces, so byte offsets, lines and columns
in the parsed tree are those of the original file.  Directive lines (``#define``, ``#ifdef``) are
left alone: rewriting the name in ``#define list_for_each_entry(...)`` would break the define.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .macros import MacroKnowledge

_ITERATOR, _ATTRIBUTE, _ATTRIBUTE_FUNCTION, _INLINE, _STATIC = range(5)
_MAX_ARGS_BYTES = 4000  # an argument list longer than this is not an attribute's
# Tool-chain headers redefine keywords (`#define inline inline __attribute__(...)`); rewriting a
# keyword to itself would only cost time.
_C_KEYWORDS = frozenset({b"inline", b"static", b"const", b"volatile", b"extern", b"register",
                         b"restrict", b"signed", b"unsigned", b"void"})


@dataclass(frozen=True, slots=True)
class DefinedName:
    """A function defined through a definition macro, as recorded by the rewrite."""

    name: str  # the indexed name, e.g. "sys_read"
    macro: str  # e.g. "SYSCALL_DEFINE3"
    name_offset: int  # byte offset of the name inside the macro call, in the original source


def trie_pattern(words: set[str]) -> str:
    """A regex alternation of ``words`` factored by common prefixes (fast in Python's sre)."""
    trie: dict = {}
    for w in words:
        node = trie
        for ch in w:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        ends_here = "" in node
        alts = [re.escape(ch) + build(child) for ch, child in sorted(node.items()) if ch]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        if ends_here:
            return "(?:" + body + ")?"
        return body

    return build(trie)


class Rewriter:
    """Compiled once per process from a :class:`MacroKnowledge`."""

    def __init__(self, knowledge: MacroKnowledge) -> None:
        self.kind: dict[bytes, int] = {}
        for name in knowledge.attributes:
            self.kind[name.encode()] = _ATTRIBUTE
        for name in knowledge.inline_attributes:
            self.kind[name.encode()] = _INLINE
        for name in knowledge.attribute_functions:
            self.kind[name.encode()] = _ATTRIBUTE_FUNCTION
        for name in knowledge.storage_attributes:
            self.kind[name.encode()] = _STATIC
        for name in knowledge.iterators:
            if len(name) >= len("while"):
                self.kind[name.encode()] = _ITERATOR
        for keyword in _C_KEYWORDS:
            self.kind.pop(keyword, None)
        # Python's regex engine is fast only when a pattern starts with a rare character, so
        # the names are found by three searches rather than one alternation of all of them:
        # names starting with "_" (most attributes), iterators at the start of an indented
        # line (where loops are written), and the few other attributes by substring test.
        under = {n[1:].decode() for n in self.kind if n.startswith(b"_")}
        iterators = {n.decode() for n, k in self.kind.items()
                     if k == _ITERATOR and not n.startswith(b"_")}
        # Attributes spelt without a leading underscore are few in practice (noinline, notrace,
        # asmlinkage, ...); upper-case ones are driver-local oddities and are left alone.
        self.others = sorted(n for n, k in self.kind.items()
                             if k != _ITERATOR and not n.startswith(b"_") and
                             (n.islower() or k == _STATIC))
        self.strings = {n.encode() for n in knowledge.string_macros}
        self.under_re = _compile(rb"_(?<=[^\w$]_)(?:", under, rb")(?![\w$])")
        self.under_at_start_re = _compile(rb"\A_(?:", under, rb")(?![\w$])")
        self.iterator_re = _compile(rb"\n[ \t]+(", iterators, rb")(?=[ \t]*\()")
        self.definitions = knowledge.definitions
        self.definition_re = (
            re.compile(rb"(?<![\w$])(" + b"|".join(d.pattern.pattern.removesuffix(r"\Z").encode()
                                                  for d in knowledge.definitions) + rb")\s*\(")
            if knowledge.definitions else None
        )
        # A cheap containment test before running the definition regex on a file.
        self.definition_hints = [_literal_prefix(d.pattern.pattern) for d in knowledge.definitions]

    def _spans(self, src: bytes):
        """(start, end) of every candidate name, in no particular order."""
        if self.under_re is not None:
            for m in self.under_re.finditer(src):
                yield m.span()
            m = self.under_at_start_re.match(src)
            if m:
                yield m.span()
        if self.iterator_re is not None:
            for m in self.iterator_re.finditer(src):
                yield m.span(1)
        for name in self.others:
            pos = src.find(name)
            while pos >= 0:
                end = pos + len(name)
                if (pos == 0 or src[pos - 1] not in _WORD_BYTES) and \
                        (end == len(src) or src[end] not in _WORD_BYTES):
                    yield pos, end
                pos = src.find(name, end)

    def rewrite(self, src: bytes) -> tuple[bytes, dict[int, DefinedName]]:
        """Return the rewritten source and the functions defined through definition macros,
        keyed by the byte offset of the name in the *rewritten* source."""
        out: bytearray | None = None
        defined: dict[int, DefinedName] = {}
        for start, end in self._spans(src):
            if _in_directive(src, start):
                continue
            kind = self.kind[src[start:end]]
            if kind == _ITERATOR:
                if _next_non_space(src, end) != 0x28:  # "("
                    continue
                replacement = b"while" + b" " * (end - start - 5)
            elif kind == _ATTRIBUTE_FUNCTION:
                if _next_non_space(src, end) == 0x28:
                    end = _balanced_end(src, src.index(b"(", end))
                    if end < 0:
                        continue
                replacement = b" " * (end - start)
            elif kind == _INLINE:
                replacement = b"inline" + b" " * (end - start - 6)
            elif kind == _STATIC:
                replacement = b"static" + b" " * (end - start - 6)
            else:
                replacement = b" " * (end - start)
            if out is None:
                out = bytearray(src)
            out[start:end] = _keep_newlines(src[start:end], replacement)
        if self.strings:
            # KERN_ERR MY_NAME "x": once MY_NAME reads as a literal, KERN_ERR is next to one.
            for _ in range(4):
                current = bytes(out) if out is not None else src
                spans = list(_string_neighbours(current, self.strings))
                if not spans:
                    break
                if out is None:
                    out = bytearray(src)
                for start, end in spans:
                    out[start:end] = b'"' + b" " * (end - start - 2) + b'"'
        definitions = self._definition_spans(src)
        for start, end, replacement in _type_arguments(src):
            if definitions and any(s <= start < e for s, e in definitions):
                continue  # SYSCALL_DEFINE3(read, unsigned int, fd, ...): types read as such
            if out is None:
                out = bytearray(src)
            out[start:end] = replacement
        if b"asm" in src:
            for start, end in _asm_template_spans(src):
                if out is None:
                    out = bytearray(src)
                out[start:end] = _keep_newlines(
                    src[start:end], b'"' + b" " * (end - start - 2) + b'"'
                    if src[start:start + 1] != b"#" else b" " * (end - start))
        for m in _CASE_RANGE_RE.finditer(src):
            if out is None:
                out = bytearray(src)
            out[m.start(1):m.end(1)] = b" + "
        if self.definition_re is not None and any(h in src for h in self.definition_hints):
            for m in self.definition_re.finditer(src):
                if _in_directive(src, m.start()):
                    continue
                if out is None:
                    out = bytearray(src)
                self._rewrite_definition(src, out, m, defined)
        return (bytes(out) if out is not None else src), defined

    def _definition_spans(self, src: bytes) -> list[tuple[int, int]]:
        if self.definition_re is None or not any(h in src for h in self.definition_hints):
            return []
        spans = []
        for m in self.definition_re.finditer(src):
            end = _balanced_end(src, m.end() - 1)
            if end > 0:
                spans.append((m.start(), end))
        return spans

    def _rewrite_definition(self, src: bytes, out: bytearray, m: re.Match,
                            defined: dict[int, DefinedName]) -> None:
        macro = m.group(1).decode()
        spec = next(d for d in self.definitions if d.pattern.match(macro))
        open_paren = m.end() - 1
        close = _balanced_end(src, open_paren)
        if close < 0:
            return
        commas = _top_level_commas(src, open_paren + 1, close - 1)
        name_end = commas[0] if commas else close - 1
        raw_name = src[open_paren + 1:name_end]
        name = raw_name.strip()
        if not re.fullmatch(rb"[A-Za-z_]\w*", name):
            return
        # Header: "MACRO(name," -> "<type>   name(" of the same length (name shifted left).
        header_end = name_end + 1  # past the comma, or past ")" when there are no parameters
        if b"\n" in src[m.start():header_end]:
            return
        width = header_end - m.start()
        header = f"{spec.return_type} ".encode()
        tail = b"(" if commas else b"()"
        pad = width - len(header) - len(name) - len(tail)
        if pad < 0:
            return
        out[m.start():header_end] = header + b" " * pad + name + tail
        if spec.params == "pairs":
            for i, comma in enumerate(commas[1:]):
                if i % 2 == 0:  # between a parameter's type and its name
                    out[comma] = 0x20
        new_offset = m.start() + len(header) + pad
        template = spec.name_template
        defined[new_offset] = DefinedName(
            template.format(name.decode()), macro, open_paren + 1 + raw_name.index(name[:1]))


_WORD_BYTES = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$")


# A macro argument that is a type -- container_of(p, struct foo, member), list_entry(...),
# va_arg(ap, unsigned long *) -- is not an expression, and tree-sitter gives up on the whole
# statement.  Rewritten into one identifier of the same length (struct_foo, unsigned_long__)
# it parses as an ordinary argument.
_TYPE_WORDS = rb"(?:struct|union|enum|const|volatile|unsigned|signed|int|char|short|long|void|" \
              rb"float|double|bool|_Bool)"
_TYPE_ARG_RE = re.compile(
    rb"(?<=[(,])\s*(" + _TYPE_WORDS + rb"\b[ \t]*(?:[A-Za-z_]\w*[ \t]*)?(?:\*[ \t]*)*)"
    rb"(?=[,)])")
_TAGS = (b"struct", b"union", b"enum")
_KEYWORDS = {b"const", b"volatile", b"unsigned", b"signed", b"int", b"char", b"short", b"long",
             b"void", b"float", b"double", b"bool", b"_Bool"}
_CASE_RANGE_RE = re.compile(rb"\bcase\b[^:;\n]*?[\w)'][ \t]*(\.\.\.)[ \t]*[\w('-]")
_NON_IDENT = re.compile(rb"[^A-Za-z0-9_]")


# String macros next to a literal: after one ("x" NAME) and, searched in the reversed text so that
# the pattern starts with the quote (a rare character, which the regex engine skips to
# quickly), before one (NAME "x").
_AFTER_STRING_RE = re.compile(rb'"[ \t]*([A-Z][A-Z0-9_]+)(?![\w$])')
_BEFORE_STRING_REV_RE = re.compile(rb'"[ \t]*([A-Z0-9_]*[A-Z])(?![\w$])')


def _string_neighbours(src: bytes, names: set[bytes]):
    """(start, end) of string macros written next to a string literal."""
    for m in _AFTER_STRING_RE.finditer(src):
        if m.group(1) in names:
            yield m.span(1)
    n = len(src)
    for m in _BEFORE_STRING_REV_RE.finditer(src[::-1]):
        start, end = n - m.end(1), n - m.start(1)
        if src[start:end] in names and not _in_directive(src, start):
            yield start, end


def _type_arguments(src: bytes):
    """(start, end, replacement) for each macro argument that is a type."""
    for m in _TYPE_ARG_RE.finditer(src):
        start, end = m.span(1)
        text = m.group(1).rstrip()
        words = text.replace(b"*", b" ").split()
        if words[0] in _TAGS:
            if len(words) != 2 or words[1] in _KEYWORDS or words[1] in _TAGS:
                continue  # `struct` alone, or a declaration like `struct foo bar`
        elif words == [b"void"] or not all(w in _KEYWORDS for w in words):
            continue  # `int a`: a parameter declaration; `(void)`: an empty parameter list
        before = src[m.start() - 1:m.start()]
        if before == b"(":
            # the argument list of a call (not a cast's or a declaration's parenthesis)
            k = m.start() - 2
            while k >= 0 and src[k] in b" \t":
                k -= 1
            if k < 0 or not (chr(src[k]).isalnum() or src[k] == 0x5F):
                continue
        if _in_directive(src, start):
            continue
        end = start + len(text)
        ident = _NON_IDENT.sub(b"_", text)
        if ident in _KEYWORDS:
            ident = b"_" * len(ident)
        yield start, end, ident


def _compile(head: bytes, names: set[str], tail: bytes) -> re.Pattern[bytes] | None:
    if not names:
        return None
    return re.compile(head + trie_pattern(names).encode() + tail)


def _literal_prefix(pattern: str) -> bytes:
    m = re.match(r"[A-Za-z0-9_]+", pattern)
    return m.group(0).encode() if m else b""


def _in_directive(src: bytes, pos: int) -> bool:
    line_start = src.rfind(b"\n", 0, pos) + 1
    return src[line_start:pos].lstrip().startswith(b"#")


def _next_non_space(src: bytes, pos: int) -> int:
    n = len(src)
    while pos < n and src[pos] in b" \t\r\n":
        pos += 1
    return src[pos] if pos < n else -1


# An inline assembly template is string literals pasted together, often with macros between
# them (`"1: mov %[mem], %[ret]\n" _ASM_EXTABLE_TYPE(1b, 2b, X)`, `"1: " PPC_LL "%[ret]"`) and
# sometimes #ifdef lines; tree-sitter cannot parse either, and the statement then reads as
# writes to whatever follows.  Each such macro becomes a blank string of its length, and each
# directive line inside the statement spaces.
_ASM_RE = re.compile(rb"(?<![\w$])(?:__asm__|__asm|asm)(?:\s+(?:volatile|__volatile__|goto|"
                     rb"inline|__inline__))*\s*\(")
_ASM_TOKEN_RE = re.compile(rb'"(?:[^"\\\n]|\\.)*"|/\*.*?\*/|//[^\n]*|#[^\n]*|[A-Za-z_]\w*|[():]|'
                           rb'\s+|[^"/A-Za-z_():#\s]+|.', re.S)


def _asm_template_spans(src: bytes):
    """(start, end) of the macros next to string literals in each asm statement's template
    (before its first `:`), and of the directive lines anywhere inside the statement."""
    for m in _ASM_RE.finditer(src):
        if _in_directive(src, m.start()):
            continue
        close = _balanced_end(src, m.end() - 1)
        if close < 0:
            continue
        tokens = [(t.start(), t.end(), t.group()) for t in
                  _ASM_TOKEN_RE.finditer(src, m.end(), close - 1)]
        depth, in_template = 0, True
        i = 0
        while i < len(tokens):
            start, end, text = tokens[i]
            first = text[:1]
            if first == b"#":
                if not src[src.rfind(b"\n", 0, start) + 1:start].strip():
                    yield start, end  # a directive line
                i += 1
                continue
            elif text == b"(":
                depth += 1
            elif text == b")":
                depth -= 1
            elif text == b":" and depth == 0:
                in_template = False
            elif in_template and depth == 0 and (first.isalpha() or first == b"_"):
                j, stop = i + 1, end
                while j < len(tokens) and tokens[j][2].isspace():
                    j += 1
                if j < len(tokens) and tokens[j][2] == b"(":
                    stop = _balanced_end(src, tokens[j][0])
                    if stop < 0 or stop > close - 1:
                        i += 1
                        continue
                    while j < len(tokens) and tokens[j][0] < stop:
                        j += 1
                    j -= 1
                if _next_to_string(tokens, i, j) and stop - start >= 2:
                    yield start, stop
                i = j
            i += 1


def _next_to_string(tokens: list, first: int, last: int) -> bool:
    """Is a literal the token before ``first`` or after ``last``, blanks aside?"""
    k = first - 1
    while k >= 0 and tokens[k][2].isspace():
        k -= 1
    if k >= 0 and tokens[k][2][:1] == b'"':
        return True
    k = last + 1
    while k < len(tokens) and tokens[k][2].isspace():
        k += 1
    return k < len(tokens) and tokens[k][2][:1] == b'"'


def _balanced_end(src: bytes, open_pos: int) -> int:
    """Offset just past the parenthesis that closes the one at ``open_pos``; -1 if none near."""
    depth = 0
    limit = min(len(src), open_pos + _MAX_ARGS_BYTES)
    for i in range(open_pos, limit):
        c = src[i]
        if c == 0x28:
            depth += 1
        elif c == 0x29:
            depth -= 1
            if depth == 0:
                return i + 1
    return -1


def _top_level_commas(src: bytes, start: int, end: int) -> list[int]:
    commas = []
    depth = 0
    for i in range(start, end):
        c = src[i]
        if c in b"([{":
            depth += 1
        elif c in b")]}":
            depth -= 1
        elif c == 0x2C and depth == 0:
            commas.append(i)
    return commas


def _keep_newlines(original: bytes, replacement: bytes) -> bytes:
    """Blanked argument lists can span lines: keep the newlines so line numbers stay right."""
    if b"\n" not in original:
        return replacement
    return bytes(o if o in b"\r\n" else r for o, r in zip(original, replacement))
