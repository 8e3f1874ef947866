"""misnomer.c.macros: finding #defines and learning which are iterators or attributes."""

from __future__ import annotations

import pytest

from helpers import index_tree, only_definition
from misnomer.c.macros import (MacroKnowledge, builtin_knowledge, is_hint,
                               learn_macros, scan_defines, scan_hints)

TREE = b"""\
#define bag_for_each(pos, bag) \\
	for ((pos) = (bag)->first; (pos); (pos) = (pos)->next)
#define bag_for_each_heavy(pos, bag) \\
	bag_for_each(pos, bag) if ((pos)->weight < 10) {} else
#define bag_for_each_again(pos, bag) bag_for_each_heavy(pos, bag)
#define list_walk(p) while ((p) = next_of(p))
#define wait_ready(x) while (!(x)->ready) udelay(1)
#define spin_until(x) while (!(x)) { cpu_relax(); }
#define each(x) for (;;)
#define call_one(x) do { one(x); } while (0)
#define __idiom_cold __attribute__((__cold__))
#define __idiom_noret __attribute__((noreturn)) __idiom_cold
#define __idiom_inline inline __attribute__((always_inline))
#define __idiom_user
#define CONFIG_IDIOM_DEBUG
#define _IDIOM_TREE_H
#define IDIOM_MAX 16
#define twice(x) ((x) * 2)
"""


def learnt(src: bytes = TREE, base: MacroKnowledge | None = None) -> MacroKnowledge:
    return learn_macros(scan_hints(src), base or MacroKnowledge())


# --- scan_defines ------------------------------------------------------------------------------

def test_scan_defines_rows():
    src = b"int x;\n#define IDIOM_MAX 16\n  #  define twice(x) ((x)  *\t2)\n"
    assert scan_defines(src) == [
        ("IDIOM_MAX", 2, 1, None, "16"),
        ("twice", 3, 3, "(x)", "((x) * 2)"),
    ]


def test_scan_defines_joins_continuation_lines_and_counts_lines_after_them():
    rows = scan_defines(TREE)
    assert rows[0] == ("bag_for_each", 1, 1, "(pos, bag)",
                       "for ((pos) = (bag)->first; (pos); (pos) = (pos)->next)")
    assert rows[1][:2] == ("bag_for_each_heavy", 3)
    assert rows[2][:2] == ("bag_for_each_again", 5)
    assert [r[0] for r in rows][-3:] == ["_IDIOM_TREE_H", "IDIOM_MAX", "twice"]
    assert rows[-1][1] == 18


def test_scan_defines_reads_on_through_a_comment_that_spans_lines():
    """C removes comments before it ends a directive: a block comment inside a macro body may
    span lines without backslashes, and the body goes on after it.  An unterminated comment
    ends the body at the line's end, as before."""
    src = (b"#define pack(buf, v) ({ int w = (v); /* at most\n * one byte */ \\\n"
           b"\t__pack((buf), w); })\n"
           b"#define ONE 1 /* unterminated\nint x;\n#define two(y) dbl(y)\n")
    rows = scan_defines(src)
    assert rows[0] == ("pack", 1, 1, "(buf, v)",
                       "({ int w = (v); /* at most * one byte */ __pack((buf), w); })")
    assert [(r[0], r[1], r[4]) for r in rows[1:]] == [("ONE", 4, "1"), ("two", 6, "dbl(y)")]


def test_scan_defines_empty_body_and_object_like_truncation():
    long_value = b"1 + " * 100 + b"1"
    rows = scan_defines(b"#define __idiom_user\n#define BIG (" + long_value + b")\n")
    assert rows[0] == ("__idiom_user", 1, 1, None, "")
    assert rows[1][0] == "BIG" and len(rows[1][4]) <= 160


# --- scan_hints ---------------------------------------------------------------------------------

def test_scan_hints_keeps_only_possible_iterators_and_attributes():
    names = [row[0] for row in scan_hints(TREE)]
    for wanted in ("bag_for_each", "bag_for_each_heavy", "bag_for_each_again", "list_walk",
                   "wait_ready", "__idiom_cold", "__idiom_noret", "__idiom_user"):
        assert wanted in names
    # a constant and an arithmetic macro can be neither
    assert "IDIOM_MAX" not in names
    assert "twice" not in names


def test_scan_hints_rows_are_name_params_body():
    rows = {row[0]: row for row in scan_hints(TREE)}
    assert rows["bag_for_each"] == ("bag_for_each", "(pos, bag)",
                                    "for ((pos) = (bag)->first; (pos); (pos) = (pos)->next)")
    assert rows["__idiom_cold"] == ("__idiom_cold", None, "__attribute__((__cold__))")


@pytest.mark.parametrize("params, body, expected", [
    ("(p, h)", "for (p = h; p; p = p->next)", True),
    ("(p, h)", "while (p)", True),
    ("(p, h)", "other_iter(p, h)", True),
    (None, "", True),
    (None, "__attribute__((cold))", True),
    (None, "16", False),
    ("(x)", "((x) * 2)", True),  # starts with "(": may be `(for ...`; learn_macros decides
    ("(x)", "x + 1", False),
])
def test_is_hint(params, body, expected):
    assert is_hint(params, body) is expected


# --- learn_macros: iterators --------------------------------------------------------------------

def test_learns_iterators_from_for_and_while_bodies():
    k = learnt()
    assert {"bag_for_each", "list_walk"} <= k.iterators


def test_learns_chains_of_iterators():
    k = learnt()
    # bag_for_each_heavy starts with bag_for_each and ends in `else` (a filtered iterator);
    # bag_for_each_again starts with bag_for_each_heavy
    assert {"bag_for_each_heavy", "bag_for_each_again"} <= k.iterators


def test_chain_through_a_builtin_iterator():
    base = MacroKnowledge(iterators={"list_for_each_entry"})
    k = learn_macros([("idiom_for_each_item", "(pos, head)",
                       "list_for_each_entry(pos, head, node)")], base)
    assert "idiom_for_each_item" in k.iterators


@pytest.mark.parametrize("name", [
    "wait_ready",  # `while (x) udelay(1)`: a whole statement, not a loop head
    "spin_until",  # `while (x) { ... }`: likewise
    "call_one",  # do { } while (0)
    "each",  # shorter than `while`: cannot be rewritten in place
    "twice",
])
def test_not_iterators(name):
    assert name not in learnt().iterators


def test_object_like_macro_is_never_an_iterator():
    k = learn_macros([("forever", None, "for (;;)")], MacroKnowledge())
    assert "forever" not in k.iterators


def test_learning_keeps_the_base_and_does_not_modify_it():
    base = builtin_knowledge()
    before = (set(base.iterators), set(base.attributes))
    k = learnt(base=base)
    assert (set(base.iterators), set(base.attributes)) == before
    assert "__init" in k.attributes
    assert k.definitions == base.definitions


# --- learn_macros: attributes -------------------------------------------------------------------

def test_learns_attributes_from_attribute_bodies():
    k = learnt()
    assert "__idiom_cold" in k.attributes
    # made only of an __attribute__ and another attribute
    assert "__idiom_noret" in k.attributes


def test_learns_attributes_that_imply_inline():
    k = learnt()
    assert "__idiom_inline" in k.attributes
    assert "__idiom_inline" in k.inline_attributes
    assert "__idiom_cold" not in k.inline_attributes


def test_empty_lower_case_underscored_macro_is_an_attribute():
    assert "__idiom_user" in learnt().attributes


@pytest.mark.parametrize("name", ["CONFIG_IDIOM_DEBUG", "_IDIOM_TREE_H", "IDIOM_MAX",
                                  "twice", "bag_for_each"])
def test_not_attributes(name):
    k = learnt()
    assert name not in k.attributes
    assert name not in k.attribute_functions


def test_attribute_with_any_other_definition_is_not_an_attribute():
    rows = [("__idiom_hot", None, "__attribute__((hot))"), ("__idiom_hot", None, "42")]
    assert "__idiom_hot" not in learn_macros(rows, MacroKnowledge()).attributes


def test_function_like_attribute_with_flat_arguments():
    rows = scan_hints(b"#define __idiom_used(x) __attribute__((used))\n")
    k = learn_macros(rows, MacroKnowledge())
    assert "__idiom_used" in k.attribute_functions
    assert "__idiom_used" not in k.attributes


@pytest.mark.parametrize("define", [
    b"#define __idiom_section(s) __attribute__((__section__(s)))\n",
    b"#define __idiom_aligned(n) __attribute__((aligned(n)))\n",
    b"#define __idiom_printf(a, b) __attribute__((format(printf, a, b)))\n",
])
def test_function_like_attribute_with_nested_parentheses(define):
    k = learn_macros(scan_hints(define), MacroKnowledge())
    name = define.split()[1].split(b"(")[0].decode()
    assert name in k.attribute_functions


def test_learns_attributes_that_imply_static():
    k = learn_macros(scan_hints(b"#define __idiom_local static __attribute__((unused))\n"),
                     MacroKnowledge())
    assert "__idiom_local" in k.attributes
    assert "__idiom_local" in k.storage_attributes


# --- learn_macros: string macros ----------------------------------------------------------------

STRINGS = b"""\
#define DRV_NAME "gadget"
#define DRV_PREFIX DRV_NAME ": "
#define KERN_X "\\001" "3"
#define DRV_VERSION 3
#define QUOTE(x) "x"
#define DRV_MIXED DRV_NAME DRV_VERSION
"""


def test_learns_string_macros_and_chains_of_them():
    k = learn_macros(scan_hints(STRINGS), MacroKnowledge())
    assert {"DRV_NAME", "DRV_PREFIX", "KERN_X"} <= k.string_macros
    assert not {"DRV_VERSION", "QUOTE", "DRV_MIXED"} & k.string_macros


# --- built-in knowledge -------------------------------------------------------------------------

def test_builtin_knowledge_has_compiler_level_attributes_and_syscall_definitions():
    k = builtin_knowledge()
    assert {"__init", "__user", "__rcu", "notrace", "__must_check"} <= k.attributes
    assert "__printf" in k.attribute_functions
    assert "__always_inline" in k.inline_attributes
    syscall = next(d for d in k.definitions if d.pattern.match("SYSCALL_DEFINE3"))
    assert (syscall.name_template, syscall.return_type, syscall.params) == \
        ("sys_{0}", "long", "pairs")
    assert not any(d.pattern.match("SYSCALL_DEFINE7") for d in k.definitions)


def test_builtin_knowledge_takes_extra_macros():
    k = builtin_knowledge({"iterators": {"names": ["idiom_for_each_thing"]},
                           "attributes": {"names": ["__idiom_attr"]}})
    assert "idiom_for_each_thing" in k.iterators
    assert "__idiom_attr" in k.attributes
    assert "idiom_for_each_thing" not in builtin_knowledge().iterators


def test_fingerprint_changes_with_what_is_rewritten():
    a = builtin_knowledge()
    b = builtin_knowledge()
    assert a.fingerprint() == b.fingerprint()
    b.iterators.add("idiom_for_each_thing")
    assert a.fingerprint() != b.fingerprint()


def test_a_plain_word_made_an_attribute_in_one_c_file_is_not_learnt():
    rows = [("vector", None, "__attribute__((vector_size(16)))"),
            ("notrace", None, "__attribute__((no_instrument_function))"),
            ("__hot_path", None, "__attribute__((hot))")]
    k = learn_macros(rows, MacroKnowledge(), private={"vector", "__hot_path"})
    assert "vector" not in k.attributes
    assert {"notrace", "__hot_path"} <= k.attributes


def test_index_keeps_a_variable_named_like_another_files_private_attribute(tmp_path):
    (tmp_path / "simd.c").write_text(
        "#define vector __attribute__((vector_size(16)))\n"
        "typedef unsigned char vec_t vector;\n")
    (tmp_path / "evt.c").write_text(
        "typedef unsigned char u8;\n"
        "static int evt_is_soft(unsigned int evt)\n{\n"
        "\tu8 vector = evt & 0xff;\n\n\treturn vector > 3;\n}\n")
    db = index_tree(tmp_path)
    f = only_definition(db, "evt_is_soft")
    assert not f["parse_errors"]
    assert f["summary"] == "returns vector > 3"
    assert not f["effects"]["mutates"]["value"]
