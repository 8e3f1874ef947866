"""misnomer.c.expressions (returns, lvalues, conditions) and misnomer.names (words)."""

from __future__ import annotations

import pytest

from misnomer.c.expressions import (classify_lvalue, classify_return, collapse,
                                    normalize_condition, strip_parens)
from misnomer.analysis.primitives import Effect, PrimitiveTable
from misnomer.facts import ReturnKind, TargetKind
from misnomer.names import split_words

# --- classify_return -----------------------------------------------------------------------------


@pytest.mark.parametrize("text, kind, callee", [
    ("", ReturnKind.VOID, None),
    ("0", ReturnKind.SUCCESS, None),
    ("0UL", ReturnKind.SUCCESS, None),
    ("(0)", ReturnKind.SUCCESS, None),
    ("true", ReturnKind.SUCCESS, None),
    ("false", ReturnKind.FAILURE, None),
    ("NULL", ReturnKind.FAILURE, None),
    ("-EINVAL", ReturnKind.FAILURE, None),
    ("-(ENOMEM)", ReturnKind.FAILURE, None),
    ("ERR_PTR(-ENOMEM)", ReturnKind.FAILURE, None),
    ("ERR_CAST(p)", ReturnKind.FAILURE, None),
    ("32", ReturnKind.CONSTANT, None),
    ("0x10", ReturnKind.CONSTANT, None),
    ("-1", ReturnKind.CONSTANT, None),
    ("MAX_CHILDREN", ReturnKind.CONSTANT, None),
    ("sizeof(struct foo)", ReturnKind.CONSTANT, None),
    ('"name"', ReturnKind.CONSTANT, None),
    ("!x", ReturnKind.BOOL, None),
    ("a == b", ReturnKind.BOOL, None),
    ("d->count >= d->limit", ReturnKind.BOOL, None),
    ("a && b", ReturnKind.BOOL, None),
    ("IS_ERR(p)", ReturnKind.BOOL, None),
    ("test_bit(3, &flags)", ReturnKind.BOOL, None),
    ("load_root(t)", ReturnKind.CALL, "load_root"),
    ("(load_root(t))", ReturnKind.CALL, "load_root"),
    ("load_root (t, 1)", ReturnKind.CALL, "load_root"),
    ("ret", ReturnKind.VALUE, None),
    ("p->len", ReturnKind.VALUE, None),
    ("x << 2", ReturnKind.VALUE, None),
    ("a->b", ReturnKind.VALUE, None),
    ("e ? e->value : fallback", ReturnKind.VALUE, None),
    ("f(a) + g(b)", ReturnKind.VALUE, None),  # not one call
    ("-err", ReturnKind.VALUE, None),
])
def test_classify_return(text, kind, callee):
    assert classify_return(text) == (kind, callee)


def test_classify_return_indirect_call():
    assert classify_return("e->ops->start(e)")[0] == ReturnKind.CALL


# --- classify_lvalue -----------------------------------------------------------------------------

PARAMS = {"p": True, "len": True, "n": False, "s": False}
GLOBALS = {"counter", "table"}
ARRAYS = {"buf"}


@pytest.mark.parametrize("text, kind, base", [
    ("*len", TargetKind.PARAM, "len"),
    ("p->x", TargetKind.PARAM, "p"),
    ("(p)->x", TargetKind.PARAM, "p"),
    ("(*p).x", TargetKind.PARAM, "p"),
    ("p[i]", TargetKind.PARAM, "p"),
    ("p->a[3]", TargetKind.PARAM, "p"),
    ("n", TargetKind.LOCAL, "n"),  # a by-value parameter is a local copy
    ("s.x", TargetKind.LOCAL, "s"),
    ("buf[0]", TargetKind.LOCAL, "buf"),
    ("counter", TargetKind.GLOBAL, "counter"),
    ("table[1]", TargetKind.GLOBAL, "table"),
    ("q->a", TargetKind.POINTER, "q"),
    ("**pp", TargetKind.POINTER, "pp"),
    ("local.a", TargetKind.LOCAL, "local"),
    # what a subscript reads is not what the lvalue writes
    ("buf[p->i]", TargetKind.LOCAL, "buf"),
    ("buf[q->map[p->i]]", TargetKind.LOCAL, "buf"),
    ("buf[i]->x", TargetKind.POINTER, "buf"),
    # a variable reached through its own address is the variable
    ("((u8 *)&crc)[1]", TargetKind.LOCAL, "crc"),
    ("(&counter)->x", TargetKind.GLOBAL, "counter"),
])
def test_classify_lvalue(text, kind, base):
    assert classify_lvalue(text, PARAMS, GLOBALS, ARRAYS) == (kind, base)


@pytest.mark.parametrize("text", ["*(u32 *)p", "((struct foo *)p)->x"])
def test_classify_lvalue_through_a_cast(text):
    assert classify_lvalue(text, PARAMS, GLOBALS, ARRAYS) == (TargetKind.PARAM, "p")


# --- conditions ----------------------------------------------------------------------------------

@pytest.mark.parametrize("raw, expected", [
    ("(x)", "x"),
    ("( x  ==\n\t  y )", "x == y"),
    ("(likely(t->valid))", "t->valid"),
    ("(unlikely(ret))", "ret"),
    ("(unlikely(!p || q))", "!p || q"),
    ("(a && unlikely(b == c))", "a && (b == c)"),
    ("(likely(a) && likely(b))", "a && b"),
    ("(!likely(x))", "!x"),
    ("(unlikely(foo(x, y)))", "foo(x, y)"),
])
def test_normalize_condition(raw, expected):
    assert normalize_condition(raw) == expected


def test_normalize_condition_truncates_long_conditions():
    text = normalize_condition("(" + "a && " * 100 + "b)")
    assert len(text) == 200
    assert text.endswith("…")


def test_collapse_and_strip_parens():
    assert collapse("  a\n\t+  b ") == "a + b"
    assert collapse("x" * 10, limit=5) == "xxxx…"
    assert strip_parens("((a + b))") == "a + b"
    assert strip_parens("(a) + (b)") == "(a) + (b)"


# --- names ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("identifier, words", [
    ("__skb_vlan_pop", ("skb", "vlan", "pop")),
    ("kvm_mmu_reload", ("kvm", "mmu", "reload")),
    ("ReadRegister32", ("read", "register", "32")),
    ("getHTTPResponseCode", ("get", "http", "response", "code")),
    ("HTTPServer_start", ("http", "server", "start")),
    ("IS_ERR", ("is", "err")),
    ("foo__bar_", ("foo", "bar")),
    ("x86_64", ("x86", "64")),
    ("_", ()),
    ("__", ()),
])
def test_split_words(identifier, words):
    assert split_words(identifier) == words


def test_split_words_splits_digits_in_snake_case_too():
    assert split_words("read_register32") == ("read", "register", "32")


# --- acquire/release pairs by name ---------------------------------------------------------------

@pytest.mark.parametrize("acquire, release", [
    ("css_task_iter_start", "css_task_iter_end"),
    ("foo_begin", "foo_end"),
    ("intel_engine_pm_get_if_awake", "intel_engine_pm_put"),
    ("kref_get_unless_zero", "kref_put"),
    ("open_cached_dir_by_dentry", "close_cached_dir"),
    ("fw_open", "fw_close"),
    ("bcma_erom_get_ent", "bcma_erom_push_ent"),  # read and pushed back: a peek
])
def test_pairs_by_name(acquire, release):
    table = PrimitiveTable()
    a, r = table.pair_key(acquire), table.pair_key(release)
    assert a is not None and r is not None
    assert a[0] == r[0] and a[1] and not r[1]


def test_a_release_with_a_qualifier_pairs_as_named():
    """Only an acquire says when it acquires: `put_if_x` is a release of `if_x`."""
    table = PrimitiveTable()
    assert table.pair_key("put_if_x") == (("if_x", "get_"), False)


def test_start_and_stop_do_not_pair():
    """`hw_start()` in one arm and `hw_stop()` in the other set a state: not a bracket."""
    assert PrimitiveTable().pair_key("hw_stop") is None


@pytest.mark.parametrize("name, effect", [
    ("env->load_32", Effect.NONE),  # a load of a width: a read of memory
    ("ops.load_uint8", Effect.NONE),
    ("fw_load", Effect.MUTATES),  # loading firmware acts
    ("load_firmware", Effect.MUTATES),
])
def test_callees_judged_by_name(name, effect):
    assert PrimitiveTable().verdict_from_name(name) == effect
