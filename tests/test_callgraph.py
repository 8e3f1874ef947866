"""misnomer.analysis.callgraph in isolation: which #if variants are configured-off stubs, which
of a name's definitions a call reaches, and what a function-like macro does.

The end-to-end counterparts (a tree indexed and explained) are in test_resolution.py.
"""

from __future__ import annotations

import pytest

from misnomer.analysis.callgraph import choose_definitions, config_off, summarize_macro
from misnomer.analysis.primitives import PARAM_SHIFT, Effect, PrimitiveTable

TABLE = PrimitiveTable()


# --- config_off ----------------------------------------------------------------------------------

@pytest.mark.parametrize("variant", [
    "#ifdef CONFIG_PCI (#else)",  # the #else of an option: the option is off
    "#ifndef CONFIG_PCI",
    "#if !IS_ENABLED(CONFIG_X)",
    "#if 0",
    "#if defined(CONFIG_X) (#else)",
    "#if IS_ENABLED(CONFIG_X) (#else)",
    "#if !defined(CONFIG_X)",
])
def test_configured_off_variants(variant):
    assert config_off(variant) is True


@pytest.mark.parametrize("variant", [
    "",  # unconditional
    "#ifdef CONFIG_PCI",  # the option on: the real definition
    "#ifndef CONFIG_PCI (#else)",  # the #else of `option off` is `option on`
    "#if IS_ENABLED(CONFIG_X)",
    "#if 0 (#else)",  # what `#if 0` leaves out is the other side; this one is always built
    "#ifndef __ASSEMBLY__",  # not a configuration option
    "#ifdef DEBUG (#else)",  # not a CONFIG_ option: neither side is a stand-in
])
def test_variants_that_are_not_configured_off(variant):
    assert config_off(variant) is False


# --- choose_definitions --------------------------------------------------------------------------
# Each definition is (file id, visible from other files, arch, configured-off stub); the caller
# is in file 1 unless the test says otherwise.

def test_a_stub_in_the_callers_own_file_loses_to_a_real_definition_elsewhere():
    header_stub = (1, True, None, True)
    real = (2, True, None, False)
    assert choose_definitions([header_stub, real], 1, None) == [1]
    assert choose_definitions([real, header_stub], 1, None) == [0]


def test_without_the_stub_flag_the_same_file_wins():
    """The flag is what makes the difference: the same two definitions without it."""
    assert choose_definitions([(1, True, None, False), (2, True, None, False)], 1, None) == [0]


def test_a_stub_is_chosen_when_it_is_the_only_definition():
    assert choose_definitions([(1, True, None, True)], 1, None) == [0]
    assert choose_definitions([(1, True, None, True)], 7, None) == [0]


def test_a_stub_is_chosen_when_the_real_definition_is_not_reachable():
    """The real one is static in another file: the caller cannot reach it."""
    defs = [(1, True, None, True), (2, False, None, False)]
    assert choose_definitions(defs, 1, None) == [0]
    assert choose_definitions(defs, 3, None) == [0]
    assert choose_definitions(defs, 2, None) == [1]  # its own file reaches it


def test_a_static_real_definition_in_the_callers_file_beats_a_stub_in_a_header():
    defs = [(5, True, None, True), (1, False, None, False)]
    assert choose_definitions(defs, 1, None) == [1]


def test_every_stub_gives_way_to_one_real_definition():
    defs = [(1, True, None, True), (3, True, None, True), (2, True, None, False)]
    assert choose_definitions(defs, 1, None) == [2]
    assert choose_definitions(defs, 4, None) == [2]


def test_only_stubs_from_another_file_are_all_reached():
    """No real definition: the usual rules apply among the stubs (visible ones, OR-ed)."""
    defs = [(1, True, None, True), (3, True, None, True), (4, False, None, True)]
    assert choose_definitions(defs, 9, None) == [0, 1]


def test_arch_rules_still_apply_among_the_real_definitions():
    defs = [(1, True, None, True), (2, True, "x86", False), (3, True, "arm64", False)]
    assert choose_definitions(defs, 1, None) == [1]  # x86: the typical configuration
    assert choose_definitions(defs, 1, "arm64") == [2]


# --- summarize_macro -----------------------------------------------------------------------------

@pytest.mark.parametrize("name, params, body", [
    # a store through a volatile cast: an MMIO write
    ("raw_writew_x", "(val, addr)", "({ *(volatile u16 *)(addr) = (val); })"),
    ("raw_orl_x", "(val, addr)", "({ *(volatile u32 *)(addr) |= (val); })"),
    # an asm statement without outputs is there for what it does to the machine
    ("mtcr_x", "(val)", '({ asm volatile("mtcr %0, cr<1, 0>" : : "r"(val) : "memory"); })'),
    ("outb_x", "(v, port)", '__asm__ __volatile__("outb %b0, %w1" : : "a"(v), "Nd"(port))'),
])
def test_macros_that_write_the_machine_mutate(name, params, body):
    summary = summarize_macro(name, params, body, TABLE)
    assert summary.effects == Effect.MUTATES
    assert summary.callees == ()


@pytest.mark.parametrize("name, params, body", [
    # a pointer of its own, declared after an attribute, then read through
    ("get_packed_x", "(type, ptr)", "({ const struct { type x; } __attribute__((__packed__)) "
     "*__pp = (typeof(__pp))(ptr); __pp->x; })"),
    # an asm statement with an output reads a register
    ("mfcr_x", "()",
     '({ unsigned long __v; asm volatile("mfcr %0, cr<1,0>" : "=r"(__v)); __v; })'),
    # a load through a volatile cast, and a comparison with one, read
    ("raw_readw_x", "(addr)", "({ u16 __v = *(volatile u16 *)(addr); __v; })"),
    ("raw_eqw_x", "(val, addr)", "(*(volatile u16 *)(addr) == (val))"),
])
def test_macros_that_read_the_machine_do_not_mutate(name, params, body):
    assert summarize_macro(name, params, body, TABLE).effects == Effect.NONE


@pytest.mark.parametrize("params, body, written", [
    # fills the struct its third argument points to; its own pointers are declarations
    ("(rule, kind, out)", "const struct match *__m = &(rule)->match; "
     "(out)->key = lookup_key(__m, kind); (out)->mask = lookup_mask(__m, kind);", 0b100),
    ("(p, v)", "do { *(p) = (v); } while (0)", 0b1),
    ("(st)", "((st)->hits++)", 0b1),
    # through its own name for the argument
    ("(ack, msg)", "do { struct ack *__ack = (ack); if (__ack) __ack->msg = (msg); } while (0)",
     0b1),
])
def test_a_macro_writing_only_through_its_arguments_is_params_only(params, body, written):
    effects = int(summarize_macro("FILL_x", params, body, TABLE).effects)
    assert effects & int(Effect.PARAMS_ONLY) and effects & int(Effect.MUTATES)
    assert effects >> PARAM_SHIFT == written


@pytest.mark.parametrize("params, body", [
    ("(v)", "do { the_state->mode = (v); } while (0)"),  # a global behind the pointer
    ("(p, v)", "do { *(p) = (v); *shared_slot = 1; } while (0)"),  # and something else too
])
def test_a_macro_writing_elsewhere_mutates(params, body):
    assert summarize_macro("SET_x", params, body, TABLE).effects == Effect.MUTATES


def test_a_forwarding_macro_has_its_target_as_callee():
    summary = summarize_macro("bar_register", "(d)", "__bar_register(d, THIS_MODULE)", TABLE,
                              file_id=3)
    assert summary == type(summary)("bar_register", Effect.NONE, ("__bar_register",), 3)
