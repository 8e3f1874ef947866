"""Which definition a call reaches and what it does, end to end (tests/fixtures/resolution
indexed, then explained): configured-off stubs yield to real definitions and to macros, macros
that write the machine, macro calls used as lvalues, primitives writing into file-scope arrays.

Every fixture function is named here; the unit tests of the same machinery are in
test_callgraph.py.
"""

from __future__ import annotations

import pytest

from helpers import index_tree


def on(d: dict) -> set[str]:
    """The effects that are true."""
    return {name for name, e in d["effects"].items() if e["value"]}


def texts(d: dict, effect: str) -> list[str]:
    return [ev["text"] for ev in d["effects"][effect]["evidence"]]


def callees(d: dict) -> list[tuple]:
    return [(c["name"], c["resolution"], c["shape"], c["effects"], c["where"])
            for c in d["callees"]]


@pytest.fixture(scope="module")
def tree(indexed):
    return indexed("resolution")


# --- configured-off stubs ------------------------------------------------------------------------

def test_the_fixture_has_a_stub_and_a_real_definition(tree):
    defs = tree.explain("foo_update_bits")["definitions"]
    assert [(d["file"], d["line"], d["variant"], d["shape"]) for d in defs] == [
        ("include/foo.h", 21, "#ifdef CONFIG_FOO (#else)", "check"),
        ("drivers/foo/foo-core.c", 8, "", "action"),
    ]


def test_a_wrapper_reaches_the_real_definition_not_the_stub_beside_it(tree):
    """foo_set_bits sits in the header that also holds the #else stub of foo_update_bits; a
    build with CONFIG_FOO on calls the one in foo-core.c, which writes through its map."""
    d = tree.definition("foo_set_bits")
    assert (d["file"], d["variant"]) == ("include/foo.h", "#ifdef CONFIG_FOO")
    assert d["shape"] == "action"
    assert on(d) == {"mutates", "can_fail"}
    assert texts(d, "mutates") == ["calls foo_update_bits(), which changes state"]
    assert callees(d) == [("foo_update_bits", "defined", "action", ["mutates", "can_fail"],
                           ["drivers/foo/foo-core.c:8"])]


def test_the_stubs_warning_does_not_leak_into_the_wrapper(tree):
    assert "logs" not in on(tree.definition("foo_set_bits"))


def test_a_stub_is_reached_when_nothing_else_defines_the_name(tree):
    """foo_sync is only declared on the CONFIG_FOO side: its stub is all there is."""
    d = tree.definition("foo_flush")
    assert callees(d) == [("foo_sync", "defined", "check", ["logs", "can_fail"],
                           ["include/foo.h:29"])]
    assert on(d) == {"logs", "can_fail"}
    assert d["shape"] == "query"


@pytest.mark.parametrize("name, file", [("baz_attach", "drivers/baz/baz.c"),
                                        ("bar_register_one", "include/bar.h")])
def test_a_stub_yields_to_the_macro_on_the_other_side_of_the_if(tree, name, file):
    """bar_register() is a function only in the #else of CONFIG_BAR; with the option on it is
    a macro forwarding to __bar_register(), which writes the device.  The caller in bar.h has
    the stub in its own file, the one in baz.c does not: both reach the macro."""
    d = tree.definition(name)
    assert d["file"] == file
    assert callees(d) == [("bar_register", "macro", None, ["mutates"], [])]
    assert d["shape"] == "action"
    assert on(d) == {"mutates"}
    assert texts(d, "mutates") == ["calls bar_register(), which changes state"]


def test_the_stub_of_the_macro_is_still_explained(tree):
    d = tree.definition("bar_register")
    assert (d["file"], d["variant"], d["shape"]) == \
        ("include/bar.h", "#ifdef CONFIG_BAR (#else)", "empty")
    real = tree.definition("__bar_register")
    assert (real["shape"], on(real)) == ("action", {"mutates"})


def test_a_change_behind_a_forwarding_macro_reaches_the_callers(fresh_index):
    fresh = fresh_index("resolution")
    assert fresh.definition("baz_attach")["shape"] == "action"
    assert fresh.definition("baz_attach_default")["shape"] == "action"
    core = fresh.root / "drivers" / "bar" / "bar-core.c"
    text = core.read_text()
    quiet = text.replace("\td->owner = owner;\n\td->registered = 1;\n", "")
    assert quiet != text
    core.write_text(quiet)
    index_tree(fresh.root)
    assert on(fresh.definition("__bar_register")) == set()  # the callee itself is redone
    assert fresh.definition("baz_attach")["shape"] == "query"
    # two macros deep: bar_register_default() -> bar_register() -> __bar_register()
    assert fresh.definition("baz_attach_default")["shape"] == "query"


def test_a_caller_two_macros_away_gets_the_effects(tree):
    d = tree.definition("baz_attach_default")
    assert (d["shape"], on(d)) == ("action", {"mutates"})


# --- macros that write the machine ---------------------------------------------------------------

@pytest.mark.parametrize("name, macro", [("write_reg_x", "mtcr_x"),
                                         ("port_poke", "raw_writew_x")])
def test_a_register_or_mmio_write_through_a_macro_is_an_action(tree, name, macro):
    d = tree.definition(name)
    assert d["shape"] == "action"
    assert on(d) == {"mutates"}
    assert callees(d) == [(macro, "macro", None, ["mutates"], [])]


def test_a_register_read_through_a_macro_is_a_query(tree):
    d = tree.definition("read_reg_x")
    assert d["shape"] == "query"
    assert on(d) == set()
    assert callees(d) == [("mfcr_x", "macro", None, [], [])]


# --- a macro call as an lvalue -------------------------------------------------------------------

def test_a_write_through_an_accessor_macro_mutates_through_the_parameter(tree):
    d = tree.definition("flag_set_pending")
    assert d["shape"] == "action"
    assert on(d) == {"mutates"}
    assert texts(d, "mutates") == ["thing_state(t) (through parameter t)"]
    assert d["effects"]["mutates"]["evidence"][0]["line"] == 14


def test_a_read_through_the_same_accessor_macro_is_a_query(tree):
    d = tree.definition("flag_is_pending")
    assert (d["shape"], on(d)) == ("query", set())


# --- primitives writing through their first argument ---------------------------------------------

def test_a_copy_into_a_file_scope_array_changes_global_state(tree):
    d = tree.definition("log_set_name")
    assert d["shape"] == "action"
    assert on(d) == {"mutates"}
    assert texts(d, "mutates") == ["strncpy()"]


def test_the_same_copy_into_a_local_array_changes_nothing(tree):
    d = tree.definition("log_show_name")
    assert d["shape"] == "query"
    assert on(d) == {"logs"}


def test_a_copy_into_a_local_array_named_like_a_global_changes_nothing(tree):
    d = tree.definition("log_print")
    assert d["shape"] == "query"
    assert on(d) == {"logs"}
