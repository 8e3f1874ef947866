"""misnomer.c.rewrite: same-length rewriting that hides kernel macros from tree-sitter."""

from __future__ import annotations

import re

import pytest

from misnomer.c.macros import builtin_knowledge
from misnomer.c.rewrite import DefinedName, Rewriter, trie_pattern


@pytest.fixture(scope="module")
def rewriter() -> Rewriter:
    k = builtin_knowledge()
    k.iterators.update({"bag_for_each", "each"})  # "each" is too short to become `while`
    k.attributes.update({"inline", "__idiom_cold"})  # a tool-chain `#define inline ...`
    k.attribute_functions.add("__idiom_section")
    k.attributes.add("__idiom_local")
    k.storage_attributes.add("__idiom_local")  # `#define __idiom_local static ...`
    k.string_macros.update({"DRV_NAME", "KERN_X"})
    return Rewriter(k)


def rewrite(rewriter: Rewriter, src: bytes) -> tuple[bytes, dict[int, DefinedName]]:
    out, defined = rewriter.rewrite(src)
    assert len(out) == len(src), "a rewrite must keep every byte offset"
    assert out.count(b"\n") == src.count(b"\n"), "a rewrite must keep every line"
    return out, defined


# --- iterators ---------------------------------------------------------------------------------

def test_iterator_becomes_while_padded_to_the_same_length(rewriter):
    src = b"{\n\tbag_for_each(it, b) {\n\t\tsum++;\n\t}\n"
    out, defined = rewrite(rewriter, src)
    assert out == b"{\n\twhile       (it, b) {\n\t\tsum++;\n\t}\n"
    assert defined == {}


def test_iterator_with_space_before_parenthesis_is_rewritten(rewriter):
    out, _ = rewrite(rewriter, b"{\n  bag_for_each  (it, b)\n")
    assert out == b"{\n  while         (it, b)\n"


@pytest.mark.parametrize("src", [
    b"{\n\tbag_for_each = 1;\n",  # not followed by "(": a variable of the same name
    b"x = bag_for_each(it);\n",  # not at the start of an indented line
    b"{\n\tmy_bag_for_each(it, b) {\n",  # only a suffix of the name
    b"{\n\teach(x) {\n",  # shorter than `while`: cannot be replaced in place
])
def test_iterator_left_alone_where_it_is_not_a_loop_head(rewriter, src):
    out, _ = rewrite(rewriter, src)
    assert out == src


def test_iterator_definition_is_untouched(rewriter):
    src = (b"{\n}\n#define bag_for_each(pos, b) \\\n"
           b"\tfor ((pos) = (b)->first; (pos); (pos) = (pos)->next)\n")
    out, _ = rewrite(rewriter, src)
    assert out == src


# --- attributes --------------------------------------------------------------------------------

def test_attribute_becomes_spaces(rewriter):
    out, _ = rewrite(rewriter, b"static int __init setup(void)")
    assert out == b"static int        setup(void)"


def test_attribute_at_start_of_file_becomes_spaces(rewriter):
    out, _ = rewrite(rewriter, b"__init int f(void)")
    assert out == b"       int f(void)"


def test_several_attributes_in_one_declaration(rewriter):
    src = b"static __always_inline bool __must_check probe_is_ready(void)"
    out, _ = rewrite(rewriter, src)
    # __always_inline implies inline: it becomes `inline` so the storage class survives
    assert out == b"static inline          bool              probe_is_ready(void)"


def test_attribute_without_leading_underscore(rewriter):
    out, _ = rewrite(rewriter, b"static noinline int slow(void)")
    assert out == b"static          int slow(void)"


def test_function_like_attribute_blanks_its_arguments(rewriter):
    src = b'static void __idiom_section(".text.x") report(void)'
    out, _ = rewrite(rewriter, src)
    assert out == b"static void" + b" " * 28 + b"report(void)"


def test_function_like_attribute_spanning_lines_keeps_the_newline(rewriter):
    src = b"__printf(1,\n 2) void say(const char *fmt, ...)"
    out, _ = rewrite(rewriter, src)
    assert out == b"           \n    void say(const char *fmt, ...)"


@pytest.mark.parametrize("src", [
    b"int __init_task_count;",  # a longer identifier that starts with an attribute's name
    b"int my__init;",
    b"int noinline_calls;",
    b"static inline int f(void)",  # a keyword is never rewritten, even when #defined
])
def test_identifiers_that_merely_contain_an_attribute_are_untouched(rewriter, src):
    out, _ = rewrite(rewriter, src)
    assert out == src


@pytest.mark.parametrize("src", [
    b'#define __init __section(".init.text")',
    b"  #  define __idiom_cold __attribute__((cold))",
    b"#ifdef __init\n",
])
def test_directive_lines_are_untouched(rewriter, src):
    out, _ = rewrite(rewriter, src)
    assert out == src


def test_unchanged_source_is_returned_as_is(rewriter):
    src = b"int plain(int a)\n{\n\treturn a;\n}\n"
    out, defined = rewriter.rewrite(src)
    assert out is src
    assert defined == {}


def test_attribute_that_implies_static_becomes_static(rewriter):
    out, _ = rewrite(rewriter, b"__idiom_local int helper(void)")
    assert out == b"static        int helper(void)"


# --- string macros, type arguments, case ranges --------------------------------------------------

def test_string_macro_next_to_a_literal_becomes_a_literal(rewriter):
    out, _ = rewrite(rewriter, b'\tpr_info(DRV_NAME ": up\\n");')
    assert out == b'\tpr_info("      " ": up\\n");'
    out, _ = rewrite(rewriter, b'\tprintk(KERN_X "x" DRV_NAME);')
    assert out == b'\tprintk("    " "x" "      ");'


def test_string_macro_away_from_literals_is_untouched(rewriter):
    src = b"\tname = DRV_NAME;\n"
    out, _ = rewrite(rewriter, src)
    assert out == src


@pytest.mark.parametrize("src, expected", [
    (b"\tf = container_of(p, struct foo, node);", b"\tf = container_of(p, struct_foo, node);"),
    (b"\tx = va_arg(ap, unsigned long *);", b"\tx = va_arg(ap, unsigned_long__);"),
    (b"\tn = sizeof(int);", b"\tn = sizeof(___);"),
])
def test_type_arguments_become_one_identifier(rewriter, src, expected):
    out, _ = rewrite(rewriter, src)
    assert out == expected


@pytest.mark.parametrize("src", [
    b"int f(struct foo *p, int n)",  # parameter declarations
    b"\tx = (int)y;",  # a cast
    b"\tx = g((unsigned long)y);",  # a cast inside a call
    b"#define TO_FOO(p) container_of(p, struct foo, node)",  # a directive
])
def test_what_is_not_a_type_argument(rewriter, src):
    out, _ = rewrite(rewriter, src)
    assert out == src


def test_case_range_becomes_an_addition(rewriter):
    out, _ = rewrite(rewriter, b"\tcase 1 ... 5:\n\tcase 0x10...0x1f:\n")
    assert out == b"\tcase 1  +  5:\n\tcase 0x10 + 0x1f:\n"


def test_case_range_of_characters(rewriter):
    out, _ = rewrite(rewriter, b"\tcase 'a' ... 'z':\n")
    assert out == b"\tcase 'a'  +  'z':\n"


# --- definition macros -------------------------------------------------------------------------

SYSCALL = (b"SYSCALL_DEFINE3(read, unsigned int, fd, char __user *, buf, size_t, count)\n"
           b"{\n\treturn 0;\n}\n")


def test_syscall_define_header_becomes_a_declarator_with_the_same_offsets(rewriter):
    out, defined = rewrite(rewriter, SYSCALL)
    assert out.startswith(b"long            read( ")
    assert out.index(b"fd,") == SYSCALL.index(b"fd,")
    assert out.index(b"count)") == SYSCALL.index(b"count)")
    # the body and everything after the header are byte-for-byte the original
    assert out[SYSCALL.index(b"\n"):] == SYSCALL[SYSCALL.index(b"\n"):]
    assert defined == {16: DefinedName("sys_read", "SYSCALL_DEFINE3", 16)}
    assert out[16:20] == b"read"


def test_syscall_define_header_keeps_parameter_types(rewriter):
    out, _ = rewrite(rewriter, SYSCALL)
    assert out.startswith(b"long            read( unsigned int  fd, char        *  buf, "
                          b"size_t  count)\n{\n")


def test_syscall_define0_has_an_empty_parameter_list(rewriter):
    src = b"SYSCALL_DEFINE0(sync)\n{\n}\n"
    out, defined = rewrite(rewriter, src)
    assert out.startswith(b"long           sync()\n")
    (offset, name), = defined.items()
    assert out[offset:offset + 4] == b"sync"
    assert name == DefinedName("sys_sync", "SYSCALL_DEFINE0", src.index(b"sync"))


@pytest.mark.parametrize("src, name, macro, rtype", [
    (b"COMPAT_SYSCALL_DEFINE2(poke, int, a, long, b)\n{\n}\n", "compat_sys_poke",
     "COMPAT_SYSCALL_DEFINE2", b"long"),
    (b"BPF_CALL_2(bpf_peek, u64, a, u64, b)\n{\n}\n", "bpf_peek", "BPF_CALL_2", b"u64"),
])
def test_other_definition_macros(rewriter, src, name, macro, rtype):
    out, defined = rewrite(rewriter, src)
    (offset, found), = defined.items()
    assert found.name == name and found.macro == macro
    assert out.startswith(rtype + b" ")
    short = name.removeprefix("compat_sys_").encode()
    assert out[offset:offset + len(short)] == short


def test_definition_macro_in_a_define_is_untouched(rewriter):
    src = b"#define SYSCALL_DEFINE1(name, ...) SYSCALL_DEFINEx(1, _##name, __VA_ARGS__)\n"
    out, defined = rewrite(rewriter, src)
    assert out == src
    assert defined == {}


def test_definition_macro_header_split_over_lines_is_not_rewritten(rewriter):
    src = b"SYSCALL_DEFINE1(\n\tpoke, int, x)\n{\n}\n"
    out, defined = rewrite(rewriter, src)
    assert out.startswith(b"SYSCALL_DEFINE1(\n\tpoke, ")
    assert defined == {}


# --- trie_pattern -----------------------------------------------------------------------------

def test_trie_pattern_matches_exactly_its_words():
    words = {"ab", "abc", "b", "list_for_each", "list_for_each_entry"}
    pattern = re.compile(trie_pattern(words))
    for w in words:
        assert pattern.fullmatch(w), w
    for other in ("a", "abcd", "bb", "list_for", "list_for_each_entr", ""):
        assert not pattern.fullmatch(other), other
