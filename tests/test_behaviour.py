"""What `misnomer explain` says about the fixture functions: shapes, effects, evidence lines,
guards.  Precise facts a careful C reader expects; the golden files pin the whole output.

Cases where the tool is wrong are marked xfail(strict=True) with the reason, and keep the
correct expectation.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing

import pytest

from helpers import run_cli


def on(d: dict) -> set[str]:
    """The effects that are true."""
    return {name for name, e in d["effects"].items() if e["value"]}


def lines(d: dict, effect: str) -> list[int]:
    return [ev["line"] for ev in d["effects"][effect]["evidence"]]


def texts(d: dict, effect: str) -> list[str]:
    return [ev["text"] for ev in d["effects"][effect]["evidence"]]


def guards(d: dict) -> list[tuple]:
    return [(g["line"], g["condition"], g["exit"], g["returns"], g["outcome"], g["state_test"])
            for g in d["guards"]]


def bug(reason: str):
    return pytest.mark.xfail(strict=True, reason=f"tool bug: {reason}")


@pytest.fixture(scope="module")
def idioms(indexed):
    return indexed("idioms")


@pytest.fixture(scope="module")
def shapes(indexed):
    return indexed("shapes")


# --- shapes, one table per fixture file ----------------------------------------------------------

SHAPES = [
    # query: changes nothing, computes a value
    ("dict_count", "query"),
    ("dict_is_full", "query"),
    ("dict_find", "query"),
    ("dict_value_or", "query"),
    ("dict_is_empty", "query"),
    ("request_dump", "query"),  # logs on every call: a print, not a report
    ("dict_find_position", "query"),  # returns what a query computes, after checking its input
    ("dict_find_index", "query"),  # ... a query the analysis reaches only after it
    # check: changes nothing but logs when something is wrong; reports failure
    ("request_validate", "check"),
    ("request_check_flags", "check"),
    ("request_warn_empty", "check"),
    ("request_valid_for", "check"),  # reports its "no", delegates the rest to a predicate
    ("request_fits", "query"),  # the same without the report
    ("request_len_ok", "check"),  # reports through a logging macro of its own
    # ensure: acts only when a state test says it is needed
    ("tree_ensure_root", "ensure"),
    ("pool_ensure_buf", "ensure"),
    ("shelf_ensure_capacity", "ensure"),
    ("tree_prepare", "ensure"),
    ("tree_prepare_checked", "ensure"),
    ("pool_ensure_buf_short", "ensure"),
    ("blob_store_make_writable", "ensure"),  # drops a cache on the early exit: still ensure
    ("blob_store_open", "action"),  # counts on the early exit: acts every time
    ("tree_adopt_root", "action"),  # its early exit calls something that may act
    ("shelf_release", "action"),  # acts on the element a search loop found
    # action: changes state on the main path every time
    ("tree_load_root", "action"),
    ("port_set_speed", "action"),
    ("port_enable", "action"),
    ("port_alloc_ring", "action"),
    ("port_note_event", "action"),
    ("port_register", "action"),
    ("port_restart", "action"),  # its early exit reports a problem: no guard
    # empty
    ("widget_nop", "empty"),
    ("widget_stub_init", "empty"),
    ("widget_max_children", "empty"),
]


@pytest.mark.parametrize("name, shape", SHAPES)
def test_shape_of_shape_fixtures(shapes, name, shape):
    assert shapes.definition(name)["shape"] == shape


IDIOM_SHAPES = [
    ("ring_count", "query"),
    ("ring_is_full", "query"),
    ("ring_reset", "action"),
    ("table_load", "action"),
    ("table_prepare", "ensure"),
    ("table_slot", "query"),
    ("gadget_setup", "action"),
    ("knob_level", "query"),
    ("knob_set_level", "action"),
    ("knob_private", "query"),
    ("sys_countwrite", "action"),
    ("sys_countzero", "empty"),
    ("probe_is_ready", "query"),
    ("probe_early_setup", "action"),
    ("probe_slow_path", "action"),
    ("bag_weight", "query"),
    ("bag_mark_heavy", "action"),
    ("knr_add", "query"),
    ("meter_read_clamped", "query"),
    ("meter_update_peak", "ensure"),
    ("clock_debug_reset", "action"),
    ("engine_kick", "action"),
    ("engine_idle", "query"),
    ("blob_get_len", "query"),
    ("blob_get_info", "query"),
    ("blob_bump_len", "action"),
    ("stats_packets", "query"),
    ("stats_lock", "action"),
    ("stats_count", "action"),
]


@pytest.mark.parametrize("name, shape", IDIOM_SHAPES)
def test_shape_of_idiom_fixtures(idioms, name, shape):
    assert idioms.definition(name)["shape"] == shape


@pytest.mark.parametrize("name", ["port_set_speed", "knob_set_level", "ring_reset",
                                  "probe_early_setup", "clock_debug_reset"])
def test_field_writes_through_the_object_pointer_mutate(indexed, name):
    tree = indexed("shapes" if name.startswith("port") else "idioms")
    d = tree.definition(name)
    assert "mutates" in on(d)
    assert "out_params" not in on(d)


# --- idioms --------------------------------------------------------------------------------------

def test_static_inline_in_a_header(idioms):
    d = idioms.definition("ring_count")
    assert (d["file"], d["line"], d["static"], d["inline"], d["exported"]) == \
        ("ring.h", 11, True, True, False)
    assert on(d) == set()
    full = idioms.definition("ring_is_full")
    assert [(c["name"], c["resolution"], c["shape"], c["where"]) for c in full["callees"]] == \
        [("ring_count", "defined", "query", ["ring.h:11"])]
    assert d["callers"] == {"count": 1, "functions": [
        {"name": "ring_is_full", "file": "ring.h", "line": 16}]}


def test_include_guard_is_not_a_variant(idioms):
    assert idioms.definition("ring_count")["variant"] == ""


def test_likely_guard_makes_an_ensure(idioms):
    d = idioms.definition("table_prepare")
    assert d["shape"] == "ensure"
    assert guards(d) == [(23, "t->valid", "return", "0", "success", True)]
    assert on(d) == {"mutates", "can_fail"}
    assert lines(d, "mutates") == [24]
    assert texts(d, "can_fail") == ["returns the result of table_load(), which can fail"]
    assert d["summary"] == "returns 0 if t->valid; otherwise table_load(t)"
    assert d["callees"][1]["name"] == "table_load"
    assert d["callees"][1]["shape"] == "action"


def test_unlikely_error_check_is_not_a_state_test(idioms):
    d = idioms.definition("table_slot")
    assert guards(d) == [(30, "idx < 0 || idx >= 16", "return", "-EINVAL", "failure", False)]
    assert on(d) == {"can_fail"}
    load = idioms.definition("table_load")
    assert lines(load, "mutates") == [12, 15, 16]
    assert lines(load, "can_fail") == [14]


def test_goto_cleanup_ladder(idioms):
    d = idioms.definition("gadget_setup")
    assert d["shape"] == "action"
    assert {"mutates", "allocates", "can_fail"} <= on(d)
    assert lines(d, "allocates") == [15]
    assert lines(d, "can_fail") == [17, 36]
    assert guards(d) == [
        (17, "!g->buf", "return", "-ENOMEM", "failure", True),
        (20, "!g->map", "goto", "err_free_buf", "failure", True),
        (27, "ret", "goto", "err_unmap", "failure", False),
    ]
    # the main path is what the reasons cite, not the cleanup after the labels
    assert all(r["line"] < 31 for r in d["shape_reasons"])


def test_exported_symbols(idioms):
    assert idioms.definition("knob_level")["exported"] is True
    assert idioms.definition("knob_set_level")["exported"] is True
    private = idioms.definition("knob_private")
    assert (private["exported"], private["static"]) == (False, True)


def test_syscall_definition(idioms):
    d = idioms.definition("sys_countwrite")
    assert (d["file"], d["line"], d["column"], d["defined_by"], d["exported"]) == \
        ("syscall.c", 8, 17, "SYSCALL_DEFINE3", True)
    assert d["shape"] == "action"
    assert lines(d, "mutates") == [14]
    assert lines(d, "can_fail") == [13]
    zero = idioms.definition("sys_countzero")
    assert (zero["shape"], zero["defined_by"], zero["summary"]) == \
        ("empty", "SYSCALL_DEFINE0", "does nothing; returns 0")


def test_attribute_macros(idioms):
    d = idioms.definition("probe_is_ready")
    assert (d["static"], d["inline"], d["return_kind"], d["shape"], d["parse_errors"]) == \
        (True, True, "bool", "query", False)
    setup = idioms.definition("probe_early_setup")
    assert (setup["static"], setup["line"], setup["column"]) == (True, 15, 19)


def test_tree_defined_function_like_attribute(idioms):
    d = idioms.definition("probe_flags")
    assert (d["line"], d["static"], d["shape"], d["parse_errors"]) == (27, True, "query", False)


def test_iterator_macro_makes_no_bogus_function(idioms):
    with closing(sqlite3.connect(idioms.db)) as conn:
        names = [r[0] for r in conn.execute(
            "SELECT f.name FROM functions f JOIN files ON files.id = f.file_id "
            "WHERE files.path = 'iterators.c' ORDER BY f.line")]
        errors = conn.execute("SELECT count(*) FROM functions WHERE has_error").fetchone()[0]
    assert names == ["bag_weight", "bag_mark_heavy"]
    assert errors == 0
    assert run_cli("explain", "bag_for_each", "--db", str(idioms.db)).exit_code == 1
    weight = idioms.definition("bag_weight")
    assert (weight["shape"], on(weight), weight["parse_errors"]) == ("query", set(), False)
    heavy = idioms.definition("bag_mark_heavy")
    assert lines(heavy, "mutates") == [37]


def test_statement_expressions(idioms):
    d = idioms.definition("meter_read_clamped")
    assert (d["shape"], d["parse_errors"]) == ("query", False)
    assert [(c["name"], c["resolution"]) for c in d["callees"]] == \
        [("meter_sample", "unknown"), ("meter_clamp", "macro")]
    assert d["unknown_callees"] == ["meter_sample"]
    assert d["confidence"] < 1.0  # rests on an unknown callee
    peak = idioms.definition("meter_update_peak")
    assert peak["shape"] == "ensure"
    assert lines(peak, "mutates") == [23]


def test_ifdef_variants_are_both_explained(idioms):
    defs = idioms.explain("clock_rate")["definitions"]
    assert [(d["line"], d["variant"], d["shape"]) for d in defs] == [
        (7, "#ifdef CONFIG_FAST_CLOCK", "query"),
        (12, "#ifdef CONFIG_FAST_CLOCK (#else)", "query"),
    ]
    assert [d["summary"] for d in defs] == ["returns c->rate * 2", "returns c->rate"]


def test_calls_through_function_pointers_are_judged_by_member_name(idioms):
    kick = idioms.definition("engine_kick")
    assert texts(kick, "mutates") == ["e->ops->start() (indirect; by its name)"]
    assert [(c["name"], c["resolution"]) for c in kick["callees"]] == \
        [("e->ops->start", "by-name")]
    idle = idioms.definition("engine_idle")
    assert on(idle) == set()


def test_returned_indirect_call_summary(idioms):
    assert idioms.definition("engine_kick")["summary"] == "e->ops->start(e)"


def test_out_parameters(idioms):
    d = idioms.definition("blob_get_len")
    assert d["shape"] == "query"
    assert on(d) == {"out_params"}
    assert texts(d, "out_params") == ["*len (out-parameter len)"]
    assert lines(d, "out_params") == [9]
    info = idioms.definition("blob_get_info")
    assert (info["shape"], on(info)) == ("query", {"out_params", "can_fail"})
    assert lines(info, "out_params") == [17, 18]
    bump = idioms.definition("blob_bump_len")  # reads *len too: in-out, a real change
    assert (bump["shape"], on(bump)) == ("action", {"mutates"})
    assert lines(bump, "mutates") == [24]


def test_a_struct_filled_through_a_later_parameter_is_an_out_parameter(idioms):
    d = idioms.definition("blob_get_stat")
    assert (d["shape"], on(d)) == ("query", {"out_params"})
    assert texts(d, "out_params") == ["st->len (out-parameter st)", "st->crc (out-parameter st)"]


def test_a_flag_added_to_a_field_just_filled_in_is_still_an_out_parameter(idioms):
    d = idioms.definition("blob_get_flags")
    assert (d["shape"], on(d)) == ("query", {"out_params"})
    assert lines(d, "out_params") == [56, 58]


@pytest.mark.parametrize("name, lines_written", [("blob_chain", [42, 43]),
                                                 ("blob_stat_set", [49, 50]),
                                                 ("blob_mark", [66])])
def test_field_writes_to_the_first_or_a_read_parameter_mutate(idioms, name, lines_written):
    d = idioms.definition(name)
    assert (d["shape"], on(d)) == ("action", {"mutates"})
    assert lines(d, "mutates") == lines_written


def test_a_scratch_buffer_freed_before_returning_changes_nothing(idioms):
    d = idioms.definition("blob_count_words")
    assert (d["shape"], on(d)) == ("query", {"can_fail"})


def test_a_buffer_swapped_in_through_a_parameter_is_a_change(idioms):
    d = idioms.definition("blob_regrow")
    assert d["shape"] == "action"
    assert "mutates" in on(d)


def test_balanced_lock_pair_around_a_read_does_not_mutate(idioms):
    d = idioms.definition("stats_packets")
    assert d["shape"] == "query"
    assert on(d) == {"locks"}
    assert lines(d, "locks") == [11, 13]


def test_unbalanced_lock_mutates(idioms):
    d = idioms.definition("stats_lock")
    assert d["shape"] == "action"
    assert on(d) == {"mutates", "locks"}
    assert texts(d, "mutates") == ["spin_lock() without its release"]
    assert lines(d, "mutates") == [19]


def test_write_under_a_lock_mutates(idioms):
    d = idioms.definition("stats_count")
    assert (d["shape"], on(d)) == ("action", {"mutates", "locks"})
    assert lines(d, "mutates") == [25]


# --- shapes: key facts ------------------------------------------------------------------------

def test_query_fixtures_change_nothing(shapes):
    for name in ("dict_count", "dict_is_full", "dict_value_or"):
        assert on(shapes.definition(name)) == set(), name
    find = shapes.definition("dict_find")
    assert lines(find, "can_fail") == [32]  # `return NULL;` when not found
    assert find["callers"]["functions"] == [
        {"name": "dict_value_or", "file": "query.c", "line": 35}]


def test_predicate_answering_false_cannot_fail(shapes):
    assert "can_fail" not in on(shapes.definition("dict_is_empty"))


def test_check_fixtures(shapes):
    d = shapes.definition("request_validate")
    assert on(d) == {"can_fail"}
    assert lines(d, "can_fail") == [14, 16]
    assert [g[4] for g in guards(d)] == ["failure", "failure"]
    flags = shapes.definition("request_check_flags")
    assert on(flags) == {"logs", "can_fail"}
    assert lines(flags, "logs") == [23]
    warn = shapes.definition("request_warn_empty")
    assert on(warn) == {"logs"}
    # the same effects, but the print is unconditional: nothing is reported as wrong
    dump = shapes.definition("request_dump")
    assert on(dump) == {"logs"}
    assert lines(dump, "logs") == [38]
    assert dump["shape"] == "query"


def test_ensure_by_early_return(shapes):
    d = shapes.definition("tree_ensure_root")
    assert guards(d) == [(35, "t->root_valid", "return", "0", "success", True)]
    assert {"mutates", "allocates", "can_fail"} <= on(d)
    assert lines(d, "mutates") == [36]


def test_ensure_by_conditional_allocation(shapes):
    d = shapes.definition("pool_ensure_buf")
    assert on(d) == {"mutates", "allocates", "can_fail"}
    assert lines(d, "allocates") == [42]
    assert lines(d, "can_fail") == [44]
    assert {r["line"] for r in d["shape_reasons"]} <= {41, 42}


def test_ensure_by_continue_over_entries_already_big_enough(shapes):
    d = shapes.definition("shelf_ensure_capacity")
    assert guards(d) == [(56, "sl->cap >= want", "continue", "", "skip", True)]
    assert {"mutates", "allocates", "frees"} <= on(d)
    assert lines(d, "allocates") == [57]


def test_ensure_by_composition(shapes):
    d = shapes.definition("tree_prepare_checked")
    assert d["shape"] == "ensure"
    assert any("tree_ensure_root" in r["text"] for r in d["shape_reasons"])
    assert [(c["name"], c["shape"]) for c in d["callees"]] == [("tree_ensure_root", "ensure")]


def test_error_propagated_through_ret_can_fail(shapes):
    d = shapes.definition("tree_prepare_checked")
    assert "can_fail" in on(d)
    assert guards(d)[0][4] == "failure"


def test_ternary_failure_return_can_fail(shapes):
    assert "can_fail" in on(shapes.definition("pool_ensure_buf_short"))


def test_action_fixtures(shapes):
    enable = shapes.definition("port_enable")
    assert on(enable) == {"mutates"}
    assert lines(enable, "mutates") == [19, 20]
    ring = shapes.definition("port_alloc_ring")
    assert on(ring) == {"mutates", "allocates", "can_fail"}
    assert lines(ring, "allocates") == [25]
    event = shapes.definition("port_note_event")
    assert texts(event, "mutates") == ["port_events ++ ... (global)"]
    reg = shapes.definition("port_register")
    assert texts(reg, "mutates") == ["list_add()"]


def test_empty_fixtures(shapes):
    assert [shapes.definition(n)["summary"] for n in
            ("widget_nop", "widget_stub_init", "widget_max_children")] == \
        ["does nothing", "does nothing; returns 0", "does nothing; returns 32"]
    for name in ("widget_nop", "widget_stub_init", "widget_max_children"):
        assert on(shapes.definition(name)) == set()


# --- the one-line summary ---------------------------------------------------------------------

def test_summary_of_a_guarded_call(idioms):
    assert idioms.definition("table_prepare")["summary"] == \
        "returns 0 if t->valid; otherwise table_load(t)"
    assert idioms.definition("sys_countwrite")["summary"] == \
        "returns -EBADF if !cf; otherwise writes cf->hits; then returns count"


def test_summary_of_a_lookup_mentions_what_it_finds(shapes):
    assert "returns e" in shapes.definition("dict_find")["summary"]


def test_summary_of_a_logging_check_mentions_the_log(shapes):
    assert "pr_warn" in shapes.definition("request_warn_empty")["summary"]


def test_summary_of_a_conditional_change_mentions_its_condition(shapes):
    assert "!p->buf" in shapes.definition("pool_ensure_buf")["summary"]


# --- callees that change only what their arguments point to (fixtures/idioms/arguments.c) ---------

@pytest.mark.parametrize("name, shape, mutates", [
    ("tally_bump", "action", True),  # writes through its parameter
    ("tally_words", "query", False),  # ... handed its own local
    ("tally_into", "action", True),  # ... handed its caller's parameter
    ("tally_first", "query", False),  # ... whose caller hands its own local
    ("tally_global", "action", True),  # ... or a global
    ("tally_current", "action", True),  # a pointer obtained elsewhere
    ("tally_counted", "action", True),  # the callee also writes a global
    ("slots_sum", "query", False),  # a local array filled by a callee
    ("msg_body_sum", "query", False),  # pointers into a local, written and handed on
])
def test_writes_through_arguments_reach_what_the_caller_passed(idioms, name, shape, mutates):
    d = idioms.definition(name)
    assert d["shape"] == shape
    assert ("mutates" in on(d)) == mutates


def test_a_call_that_changes_only_local_memory_is_not_evidence_of_a_change(idioms):
    d = idioms.definition("tally_words")
    assert texts(d, "mutates") == []
    into = idioms.definition("tally_into")
    assert texts(into, "mutates") == ["calls tally_bump(), which changes state"]
    assert lines(into, "mutates") == [34]


def test_a_reference_taken_and_given_back_changes_nothing(idioms):
    d = idioms.definition("gizmo_count_matching")
    assert (d["shape"], "mutates" in on(d)) == ("query", False)
    kept = idioms.definition("gizmo_first_matching")  # returns what it holds: the caller's now
    assert (kept["shape"], "mutates" in on(kept)) == ("action", True)
    assert texts(d, "mutates") == []


def test_an_optional_out_parameter_tested_for_null_is_still_an_out_parameter(idioms):
    d = idioms.definition("blob_find_crc")
    assert (d["shape"], on(d)) == ("query", {"out_params"})
    assert texts(d, "out_params") == ["*where (out-parameter where)"]


def test_out_parameters_read_back_after_the_function_wrote_them(idioms):
    d = idioms.definition("blob_span")
    assert (d["shape"], "mutates" in on(d), "out_params" in on(d)) == ("query", False, True)
    grow = idioms.definition("blob_grow_span")
    assert "mutates" in on(grow) and "out_params" not in on(grow)


def test_a_put_on_the_way_out_of_an_iterator_gives_its_reference_back(idioms):
    d = idioms.definition("gizmo_has_id")
    assert (d["shape"], "mutates" in on(d)) == ("query", False)


MATCH_MACRO = """\
struct match { void *key; void *mask; };
struct rule { struct match *m; };

#define RULE_MATCH_FILL(__rule, __out)				\\
	const struct match *__m = (__rule)->m;			\\
	(__out)->key = __m->key;				\\
	(__out)->mask = __m->mask;

void rule_match_get(const struct rule *rule, struct match *out)
{
	RULE_MATCH_FILL(rule, out);
}

static struct match last_match;

int rule_is_keyed(const struct rule *rule)
{
	struct match m;

	rule_match_get(rule, &m);
	return m.key != 0;
}

void rule_remember(const struct rule *rule)
{
	rule_match_get(rule, &last_match);
}
"""


def test_a_macro_filling_its_argument_changes_only_what_the_caller_passes(tmp_path):
    from helpers import index_tree, only_definition
    (tmp_path / "match.c").write_text(MATCH_MACRO)
    db = index_tree(tmp_path)
    asker = only_definition(db, "rule_is_keyed")
    assert asker["shape"] == "query" and on(asker) == set()
    keeper = only_definition(db, "rule_remember")
    assert "mutates" in on(keeper)


BIT_OPERATIONS = """\
#define DECLARE_BITMAP(name, bits) unsigned long name[((bits) + 63) / 64]
#define EV_KEY 1
#define FOO_DIRTY 3

struct foo { unsigned long flags; unsigned long map[2]; };
static unsigned long shared_map[4];

void bitmap_zero(unsigned long *dst, unsigned int nbits);
void bitmap_set(unsigned long *map, unsigned int start, unsigned int len);
void __set_bit(long nr, volatile unsigned long *addr);
void set_bit(long nr, volatile unsigned long *addr);
int bitmap_subset(const unsigned long *a, const unsigned long *b, unsigned int nbits);

int keys_are_absolute(const unsigned long *keys)
{
	DECLARE_BITMAP(scratch, 64);

	bitmap_zero(scratch, 64);
	__set_bit(EV_KEY, scratch);
	return bitmap_subset(scratch, keys, 64);
}

void foo_mark_dirty(struct foo *f)
{
	set_bit(FOO_DIRTY, &f->flags);
}

void foo_mark_range(struct foo *f)
{
	bitmap_set(f->map, 0, 8);
}

/* sets bits in a bitmap the caller already holds: an update of it, not a value handed back */
void mask_set_low(unsigned long *mask, int n)
{
	bitmap_set(mask, 0, n);
}

void map_mark(int n)
{
	__set_bit(n, shared_map);
}
"""


def test_bit_operations_change_what_their_bitmap_belongs_to(tmp_path):
    from helpers import index_tree, only_definition
    (tmp_path / "bits.c").write_text(BIT_OPERATIONS)
    db = index_tree(tmp_path)
    scratch = only_definition(db, "keys_are_absolute")
    assert scratch["shape"] == "query" and on(scratch) == set()
    # a flag set on the object passed in is a change of it, not an out-parameter
    assert on(only_definition(db, "foo_mark_dirty")) == {"mutates"}
    assert on(only_definition(db, "foo_mark_range")) == {"mutates"}
    assert on(only_definition(db, "mask_set_low")) == {"mutates"}
    assert on(only_definition(db, "map_mark")) == {"mutates"}


def test_a_predicate_filling_two_result_structs_only_hands_back_results(tmp_path):
    from helpers import index_tree, only_definition
    from test_extract import FIELDS_FILLED_FIRST
    (tmp_path / "ring.c").write_text("typedef _Bool bool;\n" + FIELDS_FILLED_FIRST)
    db = index_tree(tmp_path)
    f = only_definition(db, "ring_param_is_changed")
    assert on(f) == {"out_params"}
    assert f["shape"] == "query"
    assert "mutates" in on(only_definition(db, "cfg_apply"))


STATE_MACRO = """\
struct tree;
struct tree_state { struct tree *t; unsigned long index; void *node; };
#define TREE_STATE(name, tree, idx) struct tree_state name = { .t = tree, .index = idx }

void *tree_state_load(struct tree_state *ts)
{
	ts->node = 0;
	return ts->node;
}

void *tree_lookup(struct tree *t, unsigned long index)
{
	TREE_STATE(ts, t, index);

	return tree_state_load(&ts);
}
"""


def test_a_local_declared_through_a_macro_is_local(tmp_path):
    from helpers import index_tree, only_definition
    (tmp_path / "tree.c").write_text(STATE_MACRO)
    db = index_tree(tmp_path)
    f = only_definition(db, "tree_lookup")
    assert f["shape"] == "query" and on(f) == set()
