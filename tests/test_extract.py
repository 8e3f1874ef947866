"""misnomer.c.extract through CFrontEnd(knowledge).facts(bytes): the facts of C functions."""

from __future__ import annotations

import pytest

from helpers import FIXTURES, file_facts, function_facts
from misnomer.c.extract import is_error_label
from misnomer.c.macros import builtin_knowledge
from misnomer.facts import ExitKind, Param, Region, ReturnKind, TargetKind

C, L, E, CO, RET, IND = (Region.CONDITIONAL, Region.LOOP, Region.ERROR_PATH, Region.CONDITION,
                         Region.RETURNED, Region.INDIRECT)


def line_of(src: str, marker: str, nth: int = 0) -> int:
    """1-based line of the ``nth`` line containing ``marker``."""
    hits = [i for i, text in enumerate(src.splitlines(), 1) if marker in text]
    assert len(hits) > nth, f"{marker!r} not in the snippet"
    return hits[nth]


def fixture_text(path: str) -> str:
    return (FIXTURES / path).read_text()


def idiom(path: str, name: str):
    return function_facts(fixture_text(f"idioms/{path}"), name)


# --- definitions: names, locations, storage ------------------------------------------------------

STORAGE = """\
struct knob { int level; };

int knob_level(const struct knob *k)
{
	return k->level;
}
EXPORT_SYMBOL(knob_level);

static inline unsigned long
knob_twice(const struct knob *k)
{
	return k->level * 2;
}

extern void *knob_ptr(struct knob *k) { return k; }

int knob_gpl(void) { return 1; }
EXPORT_SYMBOL_GPL(knob_gpl);
"""


def test_definition_location():
    f = function_facts(STORAGE, "knob_level")
    assert (f.line, f.column, f.start_line, f.end_line) == (3, 5, 3, 6)
    f = function_facts(STORAGE, "knob_twice")
    # the line is that of the name; start_line that of the return type
    assert (f.line, f.column, f.start_line, f.end_line) == (10, 1, 9, 13)


def test_storage_exports_and_return_types():
    facts = {f.name: f for f in file_facts(STORAGE).functions}
    assert list(facts) == ["knob_level", "knob_twice", "knob_ptr", "knob_gpl"]
    level, twice, ptr, gpl = facts.values()
    assert (level.is_static, level.is_inline, level.is_exported) == (False, False, True)
    assert (twice.is_static, twice.is_inline, twice.is_exported) == (True, True, False)
    assert (ptr.is_static, ptr.is_inline, ptr.is_exported) == (False, False, False)
    assert gpl.is_exported
    assert (level.return_type, level.return_kind) == ("int", "int")
    assert (twice.return_type, twice.return_kind) == ("unsigned long", "int")
    assert (ptr.return_type, ptr.return_kind) == ("void *", "pointer")
    assert twice.signature == "static inline unsigned long knob_twice(const struct knob *k)"
    assert level.params == [Param("k", "const struct knob *", True)]


def test_attribute_macros_keep_storage_class_and_return_type():
    f = idiom("attributes.c", "probe_is_ready")
    assert (f.is_static, f.is_inline, f.return_type, f.return_kind) == \
        (True, True, "bool", "bool")
    assert not f.has_error
    # the signature is shown as written
    assert f.signature == ("static __always_inline bool __must_check "
                           "probe_is_ready(const struct probe *p)")
    f = idiom("attributes.c", "probe_early_setup")
    assert (f.is_static, f.is_inline, f.return_type, f.line, f.column) == \
        (True, False, "int", 15, 19)
    f = idiom("attributes.c", "probe_slow_path")
    assert (f.is_static, f.return_type) == (True, "int")


def test_definition_with_a_tree_defined_function_like_attribute():
    f = idiom("attributes.c", "probe_flags")
    assert (f.is_static, f.return_type, f.return_kind, f.line) == (True, "int", "int", 27)


def test_syscall_definition():
    src = fixture_text("idioms/syscall.c")
    f = function_facts(src, "sys_countwrite")
    assert f.defined_by == "SYSCALL_DEFINE3"
    assert (f.line, f.column) == (8, 17)  # where `countwrite` is written
    assert (f.return_type, f.return_kind, f.is_static, f.is_exported) == \
        ("long", "int", False, True)
    assert [(p.name, p.is_pointer) for p in f.params] == \
        [("fd", False), ("buf", True), ("count", False)]
    assert f.signature == ("SYSCALL_DEFINE3(countwrite, unsigned int, fd, "
                           "const char __user *, buf, size_t, count)")
    assert [(c.callee, c.line) for c in f.calls] == [("counter_lookup", 10)]
    assert [(w.target, w.kind, w.op, w.line) for w in f.writes] == \
        [("cf->hits", TargetKind.POINTER, "+=", 14)]
    zero = function_facts(src, "sys_countzero")
    assert (zero.defined_by, zero.params, zero.line) == ("SYSCALL_DEFINE0", [], 18)


def test_syscall_parameter_types():
    f = function_facts(fixture_text("idioms/syscall.c"), "sys_countwrite")
    assert f.params == [Param("fd", "unsigned int", False), Param("buf", "const char *", True),
                        Param("count", "size_t", False)]


def test_kr_definition():
    f = idiom("knr.c", "knr_add")
    assert (f.line, f.end_line, f.return_kind) == (2, 7, "int")
    assert [p.name for p in f.params] == ["a", "b"]
    assert [(r.kind, r.text) for r in f.returns] == [(ReturnKind.VALUE, "a + b")]
    assert not f.has_error


def test_kr_parameter_types():
    f = idiom("knr.c", "knr_store")
    assert f.params == [Param("p", "int *", True), Param("v", "int", False)]


def test_kr_parameters_declared_together_and_out_of_order():
    f = idiom("knr.c", "knr_pair")
    assert f.params == [Param("n", "unsigned long", False), Param("a", "char *", True),
                        Param("b", "char", False)]


def test_static_inline_in_a_header():
    facts = {f.name: f for f in file_facts(fixture_text("idioms/ring.h")).functions}
    assert list(facts) == ["ring_count", "ring_is_full", "ring_reset"]
    assert all(f.is_static and f.is_inline for f in facts.values())
    assert facts["ring_is_full"].return_kind == "bool"
    assert [(c.callee, c.line, c.arg0) for c in facts["ring_is_full"].calls] == \
        [("ring_count", 18, "r")]


def test_include_guard_is_not_a_variant():
    assert [f.variant for f in file_facts(fixture_text("idioms/ring.h")).functions] == \
        ["", "", ""]


# --- variants ------------------------------------------------------------------------------------

VARIANTS = """\
#if IS_ENABLED(CONFIG_A)
int mode(void) { return 1; }
#elif defined(CONFIG_B)
int mode(void) { return 2; }
#else
int mode(void) { return 3; }
#endif
int plain(void) { return 0; }
"""


def test_ifdef_variants_are_each_indexed_with_their_condition():
    f = file_facts(fixture_text("idioms/variants.c")).functions
    assert [(x.name, x.line, x.variant) for x in f] == [
        ("clock_rate", 7, "#ifdef CONFIG_FAST_CLOCK"),
        ("clock_rate", 12, "#ifdef CONFIG_FAST_CLOCK (#else)"),
        ("clock_debug_reset", 19, "#if defined(CONFIG_CLOCK_DEBUG)"),
    ]
    assert [r.text for r in f[0].returns] == ["c->rate * 2"]
    assert [r.text for r in f[1].returns] == ["c->rate"]


def test_if_elif_else_variants():
    f = file_facts(VARIANTS).functions
    assert [(x.name, x.line, x.variant) for x in f] == [
        ("mode", 2, "#if IS_ENABLED(CONFIG_A)"),
        ("mode", 4, "#elif defined(CONFIG_B)"),
        ("mode", 6, "#elif defined(CONFIG_B) (#else)"),
        ("plain", 8, ""),
    ]


# --- macros that distort the parse --------------------------------------------------------------

def test_iterator_macro_from_the_tree_is_a_loop_not_a_nested_function():
    src = fixture_text("idioms/iterators.c")
    ff = file_facts(src)
    assert not ff.has_errors
    assert [f.name for f in ff.functions] == ["bag_weight", "bag_mark_heavy"]
    weight, heavy = ff.functions
    assert [(lp.kind, lp.line) for lp in weight.loops] == \
        [("bag_for_each", line_of(src, "bag_for_each(it, b) {"))]
    # bag_for_each_heavy is learnt through the chain bag_for_each_heavy -> bag_for_each
    assert [(lp.kind, lp.line) for lp in heavy.loops] == \
        [("bag_for_each_heavy", line_of(src, "bag_for_each_heavy(it, b) {"))]
    assert [(w.target, w.kind, w.region) for w in heavy.writes] == \
        [("it->seen", TargetKind.POINTER, L)]
    assert not weight.has_error and not heavy.has_error
    assert (weight.end_line, heavy.end_line) == (30, 39)


def test_without_learning_the_iterator_the_parse_has_errors():
    ff = file_facts(fixture_text("idioms/iterators.c"), builtin_knowledge())
    assert ff.has_errors
    # the bogus nested definition is never reported as a function
    assert [f.name for f in ff.functions] == ["bag_weight", "bag_mark_heavy"]
    assert ff.functions[0].loops == []


def test_calls_in_an_iterator_block_are_in_a_loop():
    src = """\
#define node_for_each(pos, head) for ((pos) = (head); (pos); (pos) = (pos)->next)
int total(struct node *head)
{
	struct node *n;
	int sum = 0;

	node_for_each(n, head) {
		sum += weigh(n);
	}
	return sum;
}
"""
    f = function_facts(src, "total")
    assert [(c.callee, c.region) for c in f.calls] == [("weigh", L)]
    assert [lp.kind for lp in f.loops] == ["node_for_each"]


def test_statement_expressions():
    src = fixture_text("idioms/stmt_expr.c")
    ff = file_facts(src)
    assert not ff.has_errors
    f = function_facts(src, "meter_read_clamped")
    assert [(c.callee, c.line, c.region) for c in f.calls] == [
        ("meter_sample", 13, Region.NONE), ("meter_clamp", 15, RET)]
    assert [(r.kind, r.callee) for r in f.returns] == [(ReturnKind.CALL, "meter_clamp")]
    g = function_facts(src, "meter_update_peak")
    assert [(w.target, w.kind, w.region, w.line) for w in g.writes] == \
        [("m->peak", TargetKind.PARAM, C, 23)]
    assert [(b.kind, b.condition, b.top_level) for b in g.branches] == \
        [("then", "v > m->peak", True)]


KERNEL_MACROS = """\
#define DRV_NAME "gadget"
#define __idiom_local static __attribute__((unused))

__idiom_local int gadget_kind(struct list_head *node)
{
	struct gadget *g = container_of(node, struct gadget, link);

	pr_info(DRV_NAME ": kind %d\\n", g->kind);
	switch (g->kind) {
	case 1 ... 5:
		return 1;
	}
	return 0;
}
"""


def test_type_arguments_string_macros_and_case_ranges_parse():
    ff = file_facts(KERNEL_MACROS)
    assert not ff.has_errors
    f, = ff.functions
    assert (f.name, f.is_static, f.return_type, f.has_error) == ("gadget_kind", True, "int", False)
    assert [(c.callee, c.line) for c in f.calls] == [("container_of", 6), ("pr_info", 8)]
    assert [(b.kind, b.condition) for b in f.branches] == [("switch", "g->kind")]


def test_case_range_of_characters_parses():
    src = "int is_lower(int c)\n{\n\tswitch (c) {\n\tcase 'a' ... 'z':\n\t\treturn 1;\n" \
          "\t}\n\treturn 0;\n}\n"
    assert not function_facts(src, "is_lower").has_error


def test_parse_errors_are_confined_to_their_definition():
    src = "int broken(int x) { return x +; }\nint fine(int y) { return y; }\n"
    ff = file_facts(src)
    assert ff.has_errors and ff.parsed
    assert [(f.name, f.has_error) for f in ff.functions] == [("broken", True), ("fine", False)]


def test_file_without_braces_is_not_parsed_but_its_macros_are_kept():
    ff = file_facts("#define REG_CTRL 0x04\n#define REG_STATUS 0x08\n")
    assert ff.parsed is False
    assert ff.functions == []
    assert [(m.name, m.line, m.body) for m in ff.macros] == \
        [("REG_CTRL", 1, "0x04"), ("REG_STATUS", 2, "0x08")]


# --- body facts: calls, writes, returns, branches, loops, labels -----------------------------

BODY = """\
static int counter;
int table[4];

struct dev { int a; struct dev *next; const struct dev_ops *ops; };

static int demo(struct dev *d, int n, int *out)
{
	int buf[4];
	struct dev local;
	struct dev *q = d->next;
	int i;

	buf[0] = n;
	local.a = 1;
	q->a = 2;
	d->a += 3;
	counter++;
	table[1] = 5;
	*out = 7;
	n = 9;
	if (check_it(d) && d->a)
		do_then(d);
	else
		do_else(d);
	switch (n) {
	case 1:
		in_switch(d);
		break;
	}
	for (i = 0; i < n; i++) {
		if (skip_it(i))
			continue;
		if (stop_it(i))
			break;
		in_loop(&local);
	}
	do {
		in_do(d);
	} while (again(d));
	while (more(d))
		in_while(d);
	n = d->a ? pick_a(d) : pick_b(d);
	d->ops->run(d);
	asm volatile("nop");
	if (unlikely(bad(d)))
		goto err_out;
	return finish(d);
err_out:
	undo(d);
	d->a--;
	return -EIO;
}
"""


@pytest.fixture(scope="module")
def demo():
    return function_facts(BODY, "demo")


def test_calls_with_regions_branches_and_first_arguments(demo):
    ln = lambda marker: line_of(BODY, marker)  # noqa: E731
    assert [(c.callee, c.line, c.region, c.arg0) for c in demo.calls] == [
        ("check_it", ln("check_it"), CO, "d"),
        ("do_then", ln("do_then"), C, "d"),
        ("do_else", ln("do_else"), C, "d"),
        ("in_switch", ln("in_switch"), C, "d"),
        ("skip_it", ln("skip_it"), L | CO, "i"),
        ("stop_it", ln("stop_it"), L | CO, "i"),
        ("in_loop", ln("in_loop"), L, "&local"),
        ("in_do", ln("in_do"), L, "d"),
        ("again", ln("again"), L, "d"),
        ("more", ln("more"), L, "d"),
        ("in_while", ln("in_while"), L, "d"),
        ("pick_a", ln("pick_a"), C, "d"),
        ("pick_b", ln("pick_b"), C, "d"),
        ("d->ops->run", ln("d->ops->run"), IND, "d"),
        ("unlikely", ln("unlikely"), CO, None),
        ("bad", ln("unlikely"), CO, "d"),
        ("finish", ln("finish"), RET, "d"),
        ("undo", ln("undo"), E, "d"),
    ]
    assert demo.calls[-1].column == 2
    branches = demo.branches
    by_callee = {c.callee: c.branch for c in demo.calls}
    assert branches[by_callee["do_then"]].kind == "then"
    assert branches[by_callee["do_else"]].kind == "else"
    assert branches[by_callee["in_switch"]].kind == "switch"
    assert branches[by_callee["pick_a"]].kind == "ternary"
    assert by_callee["check_it"] == -1 and by_callee["in_loop"] == -1


def test_writes_with_target_kinds(demo):
    ln = lambda marker: line_of(BODY, marker)  # noqa: E731
    assert [(w.target, w.base, w.kind, w.op, w.line, w.region) for w in demo.writes] == [
        ("buf[0]", "buf", TargetKind.LOCAL, "=", ln("buf[0] ="), Region.NONE),
        ("local.a", "local", TargetKind.LOCAL, "=", ln("local.a ="), Region.NONE),
        ("q->a", "q", TargetKind.POINTER, "=", ln("q->a ="), Region.NONE),
        ("d->a", "d", TargetKind.PARAM, "+=", ln("d->a +="), Region.NONE),
        ("counter", "counter", TargetKind.GLOBAL, "++", ln("counter++"), Region.NONE),
        ("table[1]", "table", TargetKind.GLOBAL, "=", ln("table[1]"), Region.NONE),
        ("*out", "out", TargetKind.PARAM, "=", ln("*out ="), Region.NONE),
        ("d->a", "d", TargetKind.PARAM, "--", ln("d->a--"), E),
    ]


def test_returns_with_kinds_and_regions(demo):
    assert [(r.kind, r.text, r.callee, r.line, r.region) for r in demo.returns] == [
        (ReturnKind.CALL, "finish(d)", "finish", line_of(BODY, "return finish"), Region.NONE),
        (ReturnKind.FAILURE, "-EIO", None, line_of(BODY, "return -EIO"), E),
    ]


def test_branches_with_conditions_and_exits(demo):
    got = [(b.kind, b.condition, b.line, b.exit, b.exit_text, b.error_path, b.top_level,
            b.loop_level) for b in demo.branches]
    assert got == [
        ("then", "check_it(d) && d->a", line_of(BODY, "do_then"), None, "", False, True, False),
        ("else", "check_it(d) && d->a", line_of(BODY, "do_else"), None, "", False, False, False),
        ("switch", "n", line_of(BODY, "switch"), ExitKind.BREAK, "", False, False, False),
        ("then", "skip_it(i)", line_of(BODY, "continue"), ExitKind.CONTINUE, "", False, False,
         True),
        ("then", "stop_it(i)", line_of(BODY, "break", 1), ExitKind.BREAK, "", False, False, True),
        ("ternary", "?:", line_of(BODY, "pick_a"), None, "", False, False, False),
        ("ternary", "?:", line_of(BODY, "pick_a"), None, "", False, False, False),
        # likely()/unlikely() are unwrapped from the condition
        ("then", "bad(d)", line_of(BODY, "goto err_out"), ExitKind.GOTO, "err_out", True, True,
         False),
    ]
    assert demo.branches[3].is_guard_shaped and demo.branches[7].is_guard_shaped
    assert not demo.branches[0].is_guard_shaped


def test_loops_labels_gotos_asm(demo):
    assert [(lp.kind, lp.line) for lp in demo.loops] == [
        ("for", line_of(BODY, "for (i")), ("do", line_of(BODY, "do {")),
        ("while", line_of(BODY, "while (more"))]
    assert [(lb.name, lb.line, lb.is_error) for lb in demo.labels] == \
        [("err_out", line_of(BODY, "err_out:"), True)]
    assert (demo.gotos, demo.asm) == (1, 1)


def test_params_and_param_uses(demo):
    assert demo.params == [Param("d", "struct dev *", True), Param("n", "int", False),
                           Param("out", "int *", True)]
    # written once, used nowhere else: its first use is a plain store, so no use is a read
    assert demo.param_uses["out"] == 0
    assert demo.param_uses["d"] > 10


RETURNS = """\
void *pick(struct dev *d)
{
	if (!d)
		return NULL;
	if (d->a == 1)
		return ERR_PTR(-EINVAL);
	if (d->a == 2)
		return (void *)d->next;
	return d;
}

bool truthy(int x)
{
	if (likely(x))
		return true;
	return false;
}

void stop(struct dev *d)
{
	if (!d->a)
		return;
	halt(d);
}
"""


def test_return_kinds_and_guard_exits():
    pick = function_facts(RETURNS, "pick")
    assert [(r.kind, r.text, r.region) for r in pick.returns] == [
        (ReturnKind.FAILURE, "NULL", C | E),
        (ReturnKind.FAILURE, "ERR_PTR(-EINVAL)", C | E),
        (ReturnKind.VALUE, "(void *)d->next", C),
        (ReturnKind.VALUE, "d", Region.NONE),
    ]
    assert [(b.condition, b.exit_value, b.error_path) for b in pick.branches] == [
        ("!d", ReturnKind.FAILURE, True),
        ("d->a == 1", ReturnKind.FAILURE, True),
        ("d->a == 2", ReturnKind.VALUE, False),
    ]
    # the ERR_PTR() call sits in the error arm
    assert [(c.callee, c.region) for c in pick.calls] == [("ERR_PTR", C | E)]

    truthy = function_facts(RETURNS, "truthy")
    assert [(r.kind, r.text) for r in truthy.returns] == \
        [(ReturnKind.SUCCESS, "true"), (ReturnKind.FAILURE, "false")]
    assert [(b.condition, b.exit, b.exit_value) for b in truthy.branches] == \
        [("x", ExitKind.RETURN, ReturnKind.SUCCESS)]
    assert truthy.return_kind == "bool"

    stop = function_facts(RETURNS, "stop")
    assert [(r.kind, r.text) for r in stop.returns] == [(ReturnKind.VOID, "")]
    assert [(b.exit, b.exit_value, b.exit_text, b.top_level) for b in stop.branches] == \
        [(ExitKind.RETURN, ReturnKind.VOID, "", True)]
    assert stop.return_kind == "void"


def test_arm_that_does_not_end_in_a_jump_has_no_exit():
    src = "int f(struct dev *d)\n{\n\tif (d->a) {\n\t\treturn 1;\n\t\tlog_it(d);\n\t}\n" \
          "\treturn 0;\n}\n"
    f = function_facts(src, "f")
    assert [(b.condition, b.exit) for b in f.branches] == [("d->a", None)]


def test_exit_followed_by_a_comment_still_ends_the_arm():
    src = "int f(struct dev *d)\n{\n\tif (d->a) {\n\t\treturn 0; /* done */\n\t}\n" \
          "\treturn g(d);\n}\n"
    f = function_facts(src, "f")
    assert [(b.exit, b.exit_value) for b in f.branches] == [(ExitKind.RETURN, ReturnKind.SUCCESS)]


def test_goto_cleanup_ladder():
    src = fixture_text("idioms/ladder.c")
    f = idiom("ladder.c", "gadget_setup")
    assert [(lb.name, lb.line, lb.is_error) for lb in f.labels] == \
        [("err_unmap", 31, True), ("err_free_buf", 33, True)]
    assert f.gotos == 2
    # everything after the first error label is on the error path
    assert [(c.callee, c.region) for c in f.calls] == [
        ("kzalloc", Region.NONE), ("gadget_map_regs", Region.NONE),
        ("gadget_register", Region.NONE), ("kfree", E)]
    assert [(w.target, w.line, w.region) for w in f.writes] == [
        ("g->buf", 15, Region.NONE), ("g->map", 19, Region.NONE),
        ("g->map", line_of(src, "g->map = NULL"), E), ("g->buf", line_of(src, "g->buf = NULL"), E)]
    assert [(b.condition, b.exit, b.exit_text, b.error_path) for b in f.branches] == [
        ("!g->buf", ExitKind.RETURN, "-ENOMEM", True),
        ("!g->map", ExitKind.GOTO, "err_free_buf", True),
        ("ret", ExitKind.GOTO, "err_unmap", True),
    ]
    assert [(r.kind, r.text, r.region) for r in f.returns] == [
        (ReturnKind.FAILURE, "-ENOMEM", C | E), (ReturnKind.SUCCESS, "0", Region.NONE),
        (ReturnKind.VALUE, "ret", E)]


def test_goto_to_a_label_that_is_not_an_error_label():
    src = "int f(struct dev *d)\n{\n\tif (d->a)\n\t\tgoto again;\n\tpoke(d);\nagain:\n" \
          "\treturn 0;\n}\n"
    f = function_facts(src, "f")
    assert [(lb.name, lb.is_error) for lb in f.labels] == [("again", False)]
    assert [(b.exit, b.exit_text, b.error_path) for b in f.branches] == \
        [(ExitKind.GOTO, "again", False)]
    assert [c.region for c in f.calls] == [Region.NONE]


@pytest.mark.parametrize("label, is_error", [
    ("err", True), ("err_free", True), ("out_free", True), ("fail", True), ("unwind", True),
    ("error2", True), ("err2", True), ("out_unlock", False), ("out", False), ("again", False),
    ("retry", False), ("done", False), ("ERR_PUT", True),
])
def test_is_error_label(label, is_error):
    assert is_error_label(label) is is_error


def test_likely_unwrapped_in_guard_condition():
    f = idiom("likely.c", "table_prepare")
    assert [(b.condition, b.line, b.exit_value, b.top_level) for b in f.branches] == \
        [("t->valid", 23, ReturnKind.SUCCESS, True)]
    assert [(c.callee, c.region) for c in f.calls] == [("likely", CO), ("table_load", RET)]
    slot = idiom("likely.c", "table_slot")
    assert [b.condition for b in slot.branches] == ["idx < 0 || idx >= 16"]


def test_indirect_calls_through_ops():
    f = idiom("ops.c", "engine_kick")
    assert [(c.callee, c.line, c.column, c.region, c.arg0) for c in f.calls] == \
        [("e->ops->start", 16, 9, IND | RET, "e")]


def test_returned_indirect_call():
    f = idiom("ops.c", "engine_kick")
    assert f.returns[0].kind == ReturnKind.CALL
    assert f.calls[0].region == IND | RET


def test_out_parameter_uses():
    f = idiom("out_params.c", "blob_get_len")
    assert [(w.target, w.base, w.kind) for w in f.writes] == [("*len", "len", TargetKind.PARAM)]
    assert f.param_uses == {"len": 0}  # its first use is a plain store: no use reads it
    bump = idiom("out_params.c", "blob_bump_len")
    assert bump.param_uses == {"len": 2}  # `*len = *len + ...`: read as well as written
    span = idiom("out_params.c", "blob_span")  # stored first, then read back
    assert span.param_uses == {"start": 0, "end": 0}
    grow = idiom("out_params.c", "blob_grow_span")  # read first: in-out
    assert grow.param_uses == {"end": 2}


def test_lock_calls_first_argument_through_a_field_is_not_a_plain_name():
    f = idiom("locks.c", "stats_packets")
    assert [(c.callee, c.arg0) for c in f.calls] == [("spin_lock", None), ("spin_unlock", None)]
    assert f.writes == []  # `n = s->packets` writes a local


# --- callbacks: functions whose address the file takes ------------------------------------------

CALLBACKS = """\
struct work_struct { int pending; };
struct timer_list { unsigned long expires; };
struct foo_dev { int irq; int count; struct work_struct work; struct timer_list timer; };
struct foo_ops { int (*read)(struct foo_dev *d); void (*reset)(struct foo_dev *d); };

static int foo_irq_handler(int irq, void *data)
{
	return 0;
}

static void foo_work_fn(struct work_struct *w)
{
	w->pending = 0;
}

static void foo_timer_fn(struct timer_list *t);

static int foo_init(void)
{
	return 0;
}
module_init(foo_init);

static int foo_read(struct foo_dev *d)
{
	return d->count;
}

static void foo_reset(struct foo_dev *d)
{
	d->count = 0;
}

static int foo_count(struct foo_dev *d)
{
	return d->count;
}

/* foo_in_comment is named in this comment and called below, nothing else */
static int foo_in_comment(struct foo_dev *d)
{
	return 2;
}

static int foo_in_string(struct foo_dev *d)
{
	return 3;
}

int foo_exported(struct foo_dev *d)
{
	return 4;
}
EXPORT_SYMBOL(foo_exported);

static void foo_timer_fn(struct timer_list *t)
{
	t->expires = 0;
}

static const struct foo_ops foo_table_ops = {
	.reset = foo_reset,
};

int foo_probe(struct foo_dev *d, struct foo_ops *ops)
{
	const char *why = "foo_in_string";
	int err = request_irq(d->irq, foo_irq_handler, 0, "foo", d);

	INIT_WORK(&d->work, foo_work_fn);
	timer_setup(&d->timer, foo_timer_fn, 0);
	ops->read = foo_read;
	return err + foo_count(d) + foo_count(d) + foo_in_comment(d) + foo_in_string(d) +
		foo_exported(d);
}
"""


@pytest.fixture(scope="module")
def callbacks():
    return {f.name: f.is_callback for f in file_facts(CALLBACKS).functions}


@pytest.mark.parametrize("name", [
    "foo_irq_handler",  # passed to request_irq()
    "foo_work_fn",  # passed to INIT_WORK()
    "foo_timer_fn",  # declared first, passed to timer_setup(), defined later
    "foo_init",  # module_init()
    "foo_read",  # assigned to a function pointer
    "foo_reset",  # installed in an ops table
])
def test_functions_whose_address_is_taken_are_callbacks(callbacks, name):
    assert callbacks[name] is True


@pytest.mark.parametrize("name", [
    "foo_count",  # only called (twice)
    "foo_in_comment",  # called, and named in a comment
    "foo_in_string",  # called, and named in a string literal
    "foo_exported",  # called, and exported: EXPORT_SYMBOL() is not a framework's pointer
    "foo_probe",  # never mentioned again
])
def test_functions_only_called_or_mentioned_are_not_callbacks(callbacks, name):
    assert callbacks[name] is False


def test_a_function_only_mentioned_in_a_comment_or_string_is_not_a_callback():
    """Never called at all: each mention is counted, and none is code."""
    src = ("/* see foo_quiet() and foo_quiet */\nstatic int foo_quiet(void)\n{\n\treturn 0;\n}\n"
           "static const char *foo_name = \"foo_quiet\";\n")
    [f] = file_facts(src).functions
    assert (f.name, f.is_callback) == ("foo_quiet", False)


def test_a_field_of_the_same_name_does_not_make_a_callback():
    src = ("struct dev { int reset; };\n\nstatic void reset(struct dev *d)\n{\n"
           "\td->reset = 0;\n}\n\nvoid dev_restart(struct dev *d)\n{\n\tif (d->reset)\n"
           "\t\treset(d);\n}\n")
    assert {f.name: f.is_callback for f in file_facts(src).functions} == \
        {"reset": False, "dev_restart": False}


# --- a macro call used as an lvalue --------------------------------------------------------------

LVALUE_MACROS = """\
#define PENDING 0x1UL
#define thing_state(t) ((t)->state)

struct thing { unsigned long state; struct thing *peer; };

static struct thing the_thing;

static inline void flag_set_pending(struct thing *t)
{
	thing_state(t) |= PENDING;
}

static inline void flag_set_peer(struct thing *t)
{
	thing_state(t->peer) = PENDING;
}

static inline void flag_bump(struct thing *t)
{
	thing_state(t)++;
}

static inline void flag_set_global(void)
{
	thing_state(&the_thing) = PENDING;
}

static inline int flag_is_pending(const struct thing *t)
{
	return (thing_state(t) & PENDING) != 0;
}
"""


@pytest.mark.parametrize("name, expected", [
    ("flag_set_pending", ("thing_state(t)", "t", TargetKind.PARAM, "|=")),
    ("flag_set_peer", ("thing_state(t->peer)", "t", TargetKind.PARAM, "=")),
    ("flag_bump", ("thing_state(t)", "t", TargetKind.PARAM, "++")),
    ("flag_set_global", ("thing_state(&the_thing)", "the_thing", TargetKind.GLOBAL, "=")),
])
def test_a_macro_call_used_as_an_lvalue_is_a_write(name, expected):
    f = function_facts(LVALUE_MACROS, name)
    assert [(w.target, w.base, w.kind, w.op) for w in f.writes] == [expected]
    target, _, _, op = expected
    assert [w.line for w in f.writes] == [line_of(LVALUE_MACROS, f"{target}{op}"
                                                  if op == "++" else f"{target} {op}")]


def test_a_macro_call_that_is_only_read_is_no_write():
    f = function_facts(LVALUE_MACROS, "flag_is_pending")
    assert f.writes == []
    assert [c.callee for c in f.calls] == ["thing_state"]


# --- calls whose first argument is a file-scope variable -----------------------------------------

GLOBAL_ARGS = """\
static char log_name[64];
static struct log_cfg { int level; } log_cfg;

void log_set_name(const char *n)
{
	strncpy(log_name, n, 63);
}

void log_reset(void)
{
	memset(&log_cfg, 0, sizeof(log_cfg));
}

void log_show_name(const char *n)
{
	char buf[64];

	strncpy(buf, n, 63);
	pr_info("%s\\n", buf);
}
"""


def test_a_file_scope_first_argument_is_marked_on_the_call():
    named = function_facts(GLOBAL_ARGS, "log_set_name")
    assert [(c.callee, c.region, c.arg0) for c in named.calls] == \
        [("strncpy", Region.GLOBAL_ARG, "log_name")]
    reset = function_facts(GLOBAL_ARGS, "log_reset")
    assert [(c.callee, c.region, c.arg0) for c in reset.calls] == \
        [("memset", Region.GLOBAL_ARG, "&log_cfg")]


def test_a_local_first_argument_is_not_marked():
    f = function_facts(GLOBAL_ARGS, "log_show_name")
    assert [(c.callee, c.region, c.arg0) for c in f.calls] == \
        [("strncpy", Region.NONE, "buf"), ("pr_info", Region.NONE, None)]


@pytest.mark.parametrize("body", [
    "void log_print(const char *n)\n{\n\tchar log_name[16];\n\n\tstrncpy(log_name, n, 15);\n}\n",
    "void log_get_name(char *log_name)\n{\n\tstrncpy(log_name, \"x\", 63);\n}\n",
], ids=["local-array", "parameter"])
def test_a_local_or_parameter_shadowing_a_global_is_not_marked(body):
    [f] = file_facts("static char log_name[64];\n\n" + body).functions
    assert [(c.callee, c.region) for c in f.calls] == [("strncpy", Region.NONE)]


EXTERN_STRUCT = """\
struct pmu_desc { int nr; long base; };
extern struct pmu_desc board_pmu;

void board_pmu_init(void)
{
	board_pmu.nr = 4;
	board_pmu.base = 0x100;
}

void board_pmu_probe(void)
{
	struct pmu_desc d;

	d.nr = 8;
	pr_info("%d\\n", d.nr);
}

void board_pmu_copy(struct pmu_desc p)
{
	p.nr = 2;
	pr_info("%d\\n", p.nr);
}
"""


def test_a_field_of_a_struct_declared_elsewhere_is_a_global_write():
    f = function_facts(EXTERN_STRUCT, "board_pmu_init")
    assert [(w.target, w.kind) for w in f.writes] == [
        ("board_pmu.nr", TargetKind.GLOBAL), ("board_pmu.base", TargetKind.GLOBAL)]


@pytest.mark.parametrize("name", ["board_pmu_probe", "board_pmu_copy"])
def test_a_field_of_a_local_or_by_value_struct_is_a_local_write(name):
    f = function_facts(EXTERN_STRUCT, name)
    assert [(w.target, w.kind) for w in f.writes] == [("d.nr" if "probe" in name else "p.nr",
                                                       TargetKind.LOCAL)]


IFDEF_LOCALS = """\
struct dev { int state; };

static int dev_flush_rules(struct dev *d)
{
#ifdef CONFIG_RULES
	int ret;

	ret = d->state;
	return ret;
#else
	return 0;
#endif
}

static int dev_read_count(struct dev *d)
{
	int ret;

	ret = d->state + 1;
	return ret;
}
"""


@pytest.mark.parametrize("name", ["dev_flush_rules", "dev_read_count"])
def test_a_local_declared_under_ifdef_in_a_body_is_not_a_global(name):
    """`int ret;` under an #ifdef inside one function is that function's local: neither it nor
    a local of the same name elsewhere in the file is a global write."""
    f = function_facts(IFDEF_LOCALS, name)
    assert [(w.target, w.kind) for w in f.writes] == []  # a plain local write is not kept


ASM = """\
static inline unsigned long cpu_read_ctl(void)
{
	unsigned long v;

	asm volatile("mov %%cr0, %0" : "=r"(v));
	return v;
}

static inline void cpu_write_ctl(unsigned long v)
{
	asm volatile("mov %0, %%cr0" : : "r"(v) : "memory");
}

static inline void cpu_fence(void)
{
	asm volatile("mfence" ::: "memory");
}

static inline void compiler_fence(void)
{
	asm volatile("" ::: "memory");
}

static inline bool cpu_has_bit(unsigned short bit)
{
	asm goto("1: jmp %l[t_no]\\n" : : "i" (bit) : : t_no);
	return true;
t_no:
	return false;
}

static inline void count_down(int *v)
{
	asm goto("decl %0; je %l[zero]" : : "m" (*v) : "memory" : zero);
zero:
	return;
}

static inline void cpu_store(unsigned long *p, unsigned long v)
{
	asm("mov %1, %0" : "=m"(*p) : "r"(v));
}

static inline bool seg_is_usable(unsigned short sel)
{
	unsigned int ar;
	bool ok;

	asm("lar %[sel], %[ar]" : [ar] "=r"(ar), "=qm"(ok) : [sel] "r"(sel));
	return ok && (ar & 0x80);
}
"""


@pytest.mark.parametrize("name, acts", [("cpu_read_ctl", 0), ("cpu_write_ctl", 1),
                                        ("cpu_fence", 1), ("cpu_store", 1),
                                        ("seg_is_usable", 0),
                                        # no instruction: a barrier for the compiler only
                                        ("compiler_fence", 0),
                                        # a patched jump that tests, and one that writes memory
                                        ("cpu_has_bit", 0), ("count_down", 1)])
def test_inline_assembly_that_only_reads_into_registers_does_not_act(name, acts):
    assert function_facts(ASM, name).asm == acts


# --- where writes through each argument of a call would land ----------------------------------

_ARGUMENTS = """
struct rec { int a; char buf[8]; struct rec *next; };
static int shared;
int take(struct rec *out, int *len, char *s, int n)
{
	char tmp[16];
	struct rec local;
	struct rec *p = lookup();
	int x;

	fill(tmp, &local, p, &p, &p->a, out, &out->buf[2], *len, len, n, &x, NULL, "s,)", &shared);
	copy((void *)&local, (unsigned char *)out + 4, sizeof(local));
	mix(local.buf, tmp[0], &tmp[1], out->next->buf, -1, !x, p + 1, f(x, (1, 2)), shared);
	none();
	return 0;
}
"""


def test_argument_codes_say_whose_memory_each_argument_is():
    ff = function_facts(_ARGUMENTS, "take")
    args = {c.callee: c.args for c in ff.calls}
    # tmp: a local array; &local: a local's address; p: a local pointer (its target unknown);
    # &p: the local pointer itself; &p->a: reached through it; out, &out->buf[2]: through
    # parameter 0; *len: a pointer read from memory; len: parameter 1; n, &x, NULL and a
    # string: values and locals; &shared: a global (trailing "elsewhere" codes are left off)
    assert args["fill"] == "..?.*aa*b...."
    assert args["copy"] == ".a."  # casts are looked through
    # local.buf: a local's member; tmp[0]: an element's value; out->next->buf: reached from
    # parameter 0; p + 1: a local pointer; a call's result and a global: elsewhere
    assert args["mix"] == ".*.a..?"
    assert args["none"] == ""
    assert args["lookup"] == ""


def test_a_pointer_declared_into_a_local_writes_the_local():
    ff = function_facts("""
struct h { int v; };
struct m { struct h hd; struct h *link; };
int f(void)
{
	struct m msg;
	struct h *p = &msg.hd;
	struct h *q = lookup();
	p->v = 1;
	q->v = 2;
	p->link->v = 3;
	use(p, q, &p->v);
	return 0;
}
""", "f")
    assert [(w.target, w.kind) for w in ff.writes] == [
        ("p->v", TargetKind.LOCAL), ("q->v", TargetKind.POINTER),
        ("p->link->v", TargetKind.POINTER)]  # a pointer stored in the local points elsewhere
    assert {c.callee: c.args for c in ff.calls}["use"] == ".?."


ASM_TEMPLATE_MACROS = """\
#define FIXUP_ENTRY(from, to) ".pushsection .fixup\\n" #from "," #to "\\n.popsection\\n"

static inline unsigned long word_load_padded(const void *addr)
{
	unsigned long ret;

	asm volatile(
		"1:	mov %[mem], %[ret]\\n"
		"2:\\n"
		FIXUP_ENTRY(1b, 2b)
		: [ret] "=r" (ret)
		: [mem] "m" (*(unsigned long *)addr));
	return ret;
}

static inline unsigned long word_load_shifted(const void *addr)
{
	unsigned long ret;

	asm(
	"1:	" LOAD_INSN " %[ret], 0(%[addr])\\n"
#ifdef CONFIG_BIG_WORDS
	"sld	%[ret], %[ret], 3\\n"
#else
	"srd	%[ret], %[ret], 3\\n"
#endif
	: [ret] "=&r" (ret)
	: [addr] "b" (addr));
	return ret;
}
"""


@pytest.mark.parametrize("name", ["word_load_padded", "word_load_shifted"])
def test_macros_and_directives_inside_an_asm_template_parse(name):
    """A macro pasted between the template's strings, or an #ifdef inside it, made the whole
    statement an error, read as writes to its operands."""
    f = function_facts(ASM_TEMPLATE_MACROS, name)
    assert not f.has_error
    assert f.asm == 0
    assert f.writes == []


OUT_PARAM_IN_A_COMMENT = """\
static bool rate_lookup(int rate, unsigned char *mcs, bool *sgi)
{
	if (rate == 72) {
		/* the last rate uses sgi */
		*sgi = true;
		*mcs = 7;
		return true;
	}
	return false;
}
"""


def test_a_parameter_named_in_a_comment_is_not_read_there():
    f = function_facts(OUT_PARAM_IN_A_COMMENT, "rate_lookup")
    assert f.param_uses == {"sgi": 0, "mcs": 0}  # written first: out-parameters


FIELDS_FILLED_FIRST = """\
struct ring_param { int tx; int rx; };
struct cfg { int tx; int rx; int mode; };

bool ring_param_is_changed(const struct cfg *cfg, struct ring_param *old, struct ring_param *new)
{
	new->tx = cfg->tx;
	new->rx = cfg->rx;
	old->tx = 64;
	old->rx = 64;
	return old->tx != new->tx || old->rx != new->rx;
}

void cfg_apply(struct cfg *dev, struct cfg *req)
{
	req->tx = 1;
	if (req->mode)
		dev->mode = 2;
}
"""


def test_fields_stored_before_they_are_read_back_make_an_out_parameter():
    f = function_facts(FIELDS_FILLED_FIRST, "ring_param_is_changed")
    assert f.param_uses == {"old": 0, "new": 0}
    # a field read that the function did not store first is an input
    g = function_facts(FIELDS_FILLED_FIRST, "cfg_apply")
    assert g.param_uses["req"] > 0


SCRATCH = """
struct msg { int words[4]; };
struct box { struct msg *kept; };
void *kzalloc(unsigned long size, int flags);
void kfree(const void *p);

int box_probe(struct box *b)
{
	struct msg *m = kzalloc(sizeof(*m), 0);

	m->words[0] = 1;
	kfree(m);
	return 0;
}

int box_keep(struct box *b)
{
	struct msg *m = kzalloc(sizeof(*m), 0);

	m->words[0] = 1;
	if (b->kept) {
		kfree(m);
		return -1;
	}
	b->kept = m;
	return 0;
}
"""


@pytest.mark.parametrize("name, kind", [
    ("box_probe", TargetKind.LOCAL),  # allocated and freed here: a scratch buffer
    ("box_keep", TargetKind.POINTER),  # handed on (`b->kept = m`), freed only on one path
])
def test_writes_into_a_scratch_buffer(name, kind):
    ff = function_facts(SCRATCH, name)
    assert [(w.target, w.kind) for w in ff.writes if w.base == "m"] == [("m->words[0]", kind)]
