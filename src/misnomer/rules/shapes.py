"""MN1xx: the verb's meaning against the function's shape.

Each rule is judged against the tree's own lexicon: a verb is only held to a meaning the tree
gives it.  The kernel's `get` takes a reference in most functions, so a `get` that changes
state is not flagged there; a `get` that does, in a tree whose `get`s only read, is.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator

from ..analysis.local import CALL, INDIRECT, PRIMITIVE, WRITE
from ..analysis.primitives import ACCESS_WIDTH, Effect
from ..analysis.reach import map_arguments, params_mask
from ..analysis.shape import IDENTITY_WORDS
from ..facts import ARG_LOCAL, Region
from ..findings import Finding, Rule
from .base import CheckContext, FunctionView, lexicon_evidence, meaning, others, pct

CHANGES = ("action", "ensure")
READS = ("query", "check")

CONDITIONAL_ACTION = Rule(
    id="MN101", symbol="conditional-action", name="conditional-action", family="shape",
    message="{name}() acts only when a state test says so (ensure-shaped), but '{verb}' "
            "promises to act every time",
    description=(
        "The verb (reload, reinit, restart, rebuild, reprogram, ...: the verbs that say "
        "\"again\") says the function does its work on every call, but the body returns early "
        "without acting when the state already holds: it is *ensure*-shaped.  Callers reading "
        "the name expect the work to happen; a name with ensure, `_if_needed` or `maybe_` says "
        "what it does.  Judged against the tree: "
        "the finding names how many of the tree's functions with this verb act every time.  "
        "Only a test that finds the work already done counts (`if (c->valid)`, or `if "
        "(!c->dirty)` where the body clears `dirty`): not a bail-out after an earlier error, "
        "not a check that the object to work on exists, not a guard inherited from callees, "
        "and not a value already equal to the one asked for (a cache).  load, reset, flush, "
        "sync, refresh and update are not held to acting every time by default -- Linux and "
        "its readers take them as \"bring about, if need be\" -- but a tree can add them "
        "(`promises.unconditional_action` in the configuration)."),
    bad_example=(
        "int cache_reload(struct cache *c)\n{\n\tif (c->valid)\n\t\treturn 0;\n"
        "\treturn cache_fill(c);\n}\n"),
    good_example=(
        "int cache_ensure_filled(struct cache *c)\n{\n\tif (c->valid)\n\t\treturn 0;\n"
        "\treturn cache_fill(c);\n}\n"))

PREDICATE_WITH_EFFECTS = Rule(
    id="MN102", symbol="predicate-with-effects", name="predicate-with-effects", family="shape",
    message="{name}() reads as a question ('{verb}') but changes state",
    description=(
        "`is_`, `has_`, `can_`, `should_`, `needs_` ... name a predicate: callers call it to "
        "learn something and expect nothing to change.  This one writes memory, takes a "
        "reference or calls something whose name says it acts.  Either the state change "
        "belongs elsewhere, or the name should say it acts.  Callbacks, whose names the "
        "framework's operation chose, are left alone, and so are functions that return no "
        "truth value (void: an event told, `nfc_dep_link_is_up()`; a pointer or a string: "
        "MN201's business), and so are functions that always return the same value.  What "
        "a question writes through its later pointer parameters (`*size = n`, a parse "
        "cursor) is an answer for its caller, not a change; nor is what lands in its "
        "callers' locals, in a scratch buffer it frees again, in statistics or tallies, or in "
        "a field that keeps the previous sample for the next call to compare with."),
    bad_example=(
        "bool queue_is_ready(struct queue *q)\n{\n\tq->polls++;\n\treturn q->head != NULL;\n}\n"),
    good_example=(
        "bool queue_is_ready(const struct queue *q)\n{\n\treturn q->head != NULL;\n}\n"))

CHECK_THAT_ACTS = Rule(
    id="MN103", symbol="check-that-acts", name="check-that-acts", family="shape",
    message="{name}() reads as a check ('{verb}') but changes state beyond reporting",
    description=(
        "`check`, `validate` and `verify` promise to look and report, not to touch.  This "
        "function changes state (logging and error reporting aside) by itself or through a "
        "callee whose name says it acts.  Only reported where the tree's own `check`-like "
        "functions mostly do not act, and not for callbacks (`.validate = foo_validate`)."),
    bad_example=(
        "int port_check_speed(struct port *p)\n{\n\tif (p->speed > MAX_SPEED)\n"
        "\t\tp->speed = MAX_SPEED;\n\treturn 0;\n}\n"),
    good_example=(
        "int port_check_speed(const struct port *p)\n{\n\tif (p->speed > MAX_SPEED)\n"
        "\t\treturn -EINVAL;\n\treturn 0;\n}\n"))

QUERY_WITH_EFFECTS = Rule(
    id="MN104", symbol="query-with-effects", name="query-with-effects", family="shape",
    message="{name}() changes state, but '{verb}' in this tree names functions that only read "
            "({share} of {count} are query-shaped)",
    description=(
        "In this tree the verb almost always names a function that computes or looks something "
        "up and changes nothing.  This one changes state, which its readers will not expect."),
    bad_example=(
        "unsigned int ring_count(struct ring *r)\n{\n\tr->reads++;\n"
        "\treturn r->head - r->tail;\n}\n"),
    good_example=(
        "unsigned int ring_count(const struct ring *r)\n{\n\treturn r->head - r->tail;\n}\n"))

ACTION_WITHOUT_EFFECT = Rule(
    id="MN105", symbol="action-without-effect", name="action-without-effect", family="shape",
    default=False,
    message="{name}() changes nothing, but '{verb}' in this tree names functions that act "
            "({share} of {count} change state)",
    description=(
        "In this tree the verb almost always names a function that changes state; this one only "
        "reads or checks.  Either it lost its work in a refactoring, or its name should say "
        "what it computes.  Empty stubs are left alone.  Not reported unless selected "
        "(`--select MN105`): a body whose effects hide behind function pointers the tree "
        "cannot follow reads as changing nothing."),
    bad_example=(
        "int fan_update(const struct fan *f)\n{\n\treturn f->rpm > 0 ? 0 : -EIO;\n}\n"),
    good_example=(
        "int fan_check_spinning(const struct fan *f)\n{\n\treturn f->rpm > 0 ? 0 : -EIO;\n}\n"))

UNCONVENTIONAL_VERB = Rule(
    id="MN106", symbol="unconventional-verb", name="unconventional-verb", family="shape",
    default=False,
    message="{name}() is {shape}-shaped, which is rare for '{verb}' here ({share} of {count}); "
            "this tree says {others}",
    description=(
        "The function's shape is rare among the tree's functions with the same verb, and common "
        "for other verbs.  The finding lists those verbs with their counts: the words this tree "
        "itself uses for functions of this shape.  Not reported unless selected "
        "(`--select MN106`): a suggestion more than a verdict."),
    bad_example=(
        "int buf_alloc(struct buf *b)\n{\n\tif (b->data)\n\t\treturn 0;\n"
        "\tb->data = kzalloc(b->size, GFP_KERNEL);\n\treturn b->data ? 0 : -ENOMEM;\n}\n"),
    good_example=(
        "int buf_ensure_data(struct buf *b)\n{\n\tif (b->data)\n\t\treturn 0;\n"
        "\tb->data = kzalloc(b->size, GFP_KERNEL);\n\treturn b->data ? 0 : -ENOMEM;\n}\n"))

RULES = [CONDITIONAL_ACTION, PREDICATE_WITH_EFFECTS, CHECK_THAT_ACTS, QUERY_WITH_EFFECTS,
         ACTION_WITHOUT_EFFECT, UNCONVENTIONAL_VERB]

# Thresholds, tuned for precision on Linux 6.1 (see README, "check on the kernel").
TREE_MEANING_MIN = 30  # a verb needs this many functions before the tree's meaning counts
QUERY_MEANING = 0.8  # share of query+check that makes a verb read-only in this tree
# ... that makes a check verb a promise to change nothing: where a quarter or more of the tree's
# `validate_*` functions fix up what they check, that is one of the verb's senses here
CHECK_MEANING = 0.75
ACTION_MEANING = 0.85  # share of action+ensure that makes a verb acting in this tree
RARE_SHAPE = 0.03  # a shape below this share of a verb's functions is unconventional
UNCONVENTIONAL_MIN = 100
FEW = 5  # with fewer other functions using the verb, the verb's own promise is the standard
ENSURE_TOLERATED = 0.1  # a tree that makes this share of a verb's functions ensure-shaped
#                         has made it a convention, not a misnomer


def check(fn: FunctionView, ctx: CheckContext) -> Iterator[Finding]:
    verb = fn.verb
    if verb is None or fn.shape == "empty" or fn.parts.rivals:
        return  # no verb, or no telling which word is the verb (update_cfs_rq_h_load)
    entry = ctx.entry(fn)
    rest = others(fn, entry)  # the verb's meaning in the rest of the tree
    few = rest.functions < FEW  # too few others to know the tree's meaning: the verb's own
    vocab = ctx.vocab
    changes = fn.shape in CHANGES and bool(fn.effects & (Effect.MUTATES | Effect.ALLOCATES |
                                                         Effect.FREES))
    lex = [lexicon_evidence(fn, entry)] if entry is not None else []
    found = False
    if fn.shape == "ensure" and vocab.promises(verb, "unconditional_action") and \
            not fn.named_by_framework and (few or rest.share("ensure") < ENSURE_TOLERATED) and \
            not _hedged(fn) and _tests_goal_state(fn, ctx):
        tree = "" if few else f"; in this tree '{verb}' is {meaning(entry, 'action')}"
        yield ctx.finding(CONDITIONAL_ACTION, fn, CONDITIONAL_ACTION.message.format(
            name=fn.name, verb=verb) + tree, ctx.reasons(fn) + lex,
            fn.confidence * (1 - rest.share("ensure")))
        found = True
    if changes and vocab.promises(verb, "predicate") and fn.parts.role != "object_verb" and \
            not fn.named_by_framework and fn.return_kind in ("bool", "int") and \
            (few or rest.share("action", "ensure") < 0.25) and \
            _acts_itself(fn, ctx, acting_callees=("action",), asks_hardware=True) and \
            not _names_a_field(fn, ctx) and _answers(fn, ctx):
        yield ctx.finding(PREDICATE_WITH_EFFECTS, fn, PREDICATE_WITH_EFFECTS.message.format(
            name=fn.name, verb=verb), ctx.reasons(fn) + lex,
            fn.confidence * (1 - rest.share("action", "ensure")))
        found = True
    if changes and vocab.promises(verb, "check") and not fn.named_by_framework and \
            (few or rest.share("query", "check") >= CHECK_MEANING) and \
            not _made_valid(fn, ctx) and \
            _acts_itself(fn, ctx):
        yield ctx.finding(CHECK_THAT_ACTS, fn, CHECK_THAT_ACTS.message.format(
            name=fn.name, verb=verb), ctx.reasons(fn) + lex,
            fn.confidence * (1.0 if few else rest.share("query", "check")))
        found = True
    if found or entry is None or rest.functions < TREE_MEANING_MIN or fn.named_by_framework:
        return
    reads_share = rest.share("query", "check")
    acts_share = rest.share("action", "ensure")
    if changes and reads_share >= QUERY_MEANING and not vocab.promises(verb, "predicate") \
            and not vocab.promises(verb, "check") and _acts_itself(fn, ctx):
        yield ctx.finding(QUERY_WITH_EFFECTS, fn, QUERY_WITH_EFFECTS.message.format(
            name=fn.name, verb=verb, share=pct(reads_share), count=rest.functions),
            ctx.reasons(fn) + lex, fn.confidence * reads_share)
        return
    if fn.shape in READS and acts_share >= ACTION_MEANING and not fn.variant and \
            not fn.effects & Effect.UNKNOWN:
        yield ctx.finding(ACTION_WITHOUT_EFFECT, fn, ACTION_WITHOUT_EFFECT.message.format(
            name=fn.name, verb=verb, share=pct(acts_share), count=rest.functions),
            ctx.reasons(fn) + lex, fn.confidence * acts_share)
        return
    if rest.functions >= UNCONVENTIONAL_MIN and rest.share(fn.shape) < RARE_SHAPE and \
            fn.shape in ("ensure", "check") and fn.confidence >= 0.8:
        others_said = [e for e in ctx.lexicon.verbs_for_shape(fn.shape, min_share=0.3)
                       if e.verb != verb][:3]
        if not others_said:
            return
        said = ", ".join(f"'{e.verb}' ({e.count(fn.shape)} of {e.functions})"
                         for e in others_said)
        yield ctx.finding(UNCONVENTIONAL_VERB, fn, UNCONVENTIONAL_VERB.message.format(
            name=fn.name, shape=fn.shape, verb=verb, share=pct(rest.share(fn.shape)),
            count=rest.functions, others=said),
            ctx.reasons(fn) + lex, fn.confidence * (1 - rest.share(fn.shape)))


def _acts_itself(fn: FunctionView, ctx: CheckContext,
                 acting_callees: tuple[str, ...] = ("action", "ensure"),
                 asks_hardware: bool = False) -> bool:
    """Does the function change state by itself, or through a callee of one of the
    ``acting_callees`` shapes (not only somewhere deep in the call graph, where a may-analysis
    over-approximates)?  A question may call an ensure-shaped helper (a lookup cached on first
    use, a lazy setup) and still answer the same every time.  With ``asks_hardware``, a
    question whose only changes are requests to a device or its firmware (an index register
    written to read the data register, an I2C write-then-read, a mailbox "get" command) asks
    the device: the write is how the reading is done."""
    if fn.confidence < 0.9:
        return False
    _, verdict = ctx.verdict(fn)
    results = _result_params(fn, ctx) | _callers_locals(fn, ctx)
    acting = []
    for site in verdict.main_sites:
        if site.kind == INDIRECT:
            continue  # a call through a pointer: its name is the table's, not a known effect
        if site.kind == WRITE and _kept_for_itself(site, fn, ctx, results):
            continue
        if site.kind == CALL and results and site.effects & Effect.PARAMS_ONLY:
            elsewhere, mine = map_arguments(params_mask(site.effects), site.args)
            if not elsewhere and not mine & 1:
                continue  # fills in what the caller passed after the object asked about
        if site.kind != CALL or (
                ctx.oracle.resolve(site.name, ctx.file_id(fn)).shape in acting_callees and
                _named_to_act(site.name, fn, ctx)):
            acting.append(site)
    if asks_hardware and all(s.kind in (CALL, PRIMITIVE) and _DEVICE_REQUEST.search(s.name)
                             for s in acting):
        return False
    return bool(acting)


# calls that put a request to a device or its firmware (register and bus writes, commands)
_DEVICE_REQUEST = re.compile(r"(?:^|_)(?:write[bwlq]?|writel_relaxed|wr|out[bwl]?|iowrite\d*|"
                             r"send|xfer|transfer|cmd|command|mbox|mailbox|query|select|bank|"
                             r"scm_call|smc|hvc|smccc|invoke)(?:\d+|_|$)", re.I)
# statistics kept in a struct of their own: `ring->rx_stats.non_eop++`, `priv->stats.rejected`
_STATISTICS = re.compile(r"(?:^|[>._])(?:x?stats|statistics|counters)\s*(?:\.|->|\[)")
# fields that remember the previous sample: what a sample-and-compare question keeps
_PREVIOUS = re.compile(r"(?:last|prev|previous|saved|old)(?:_|[A-Z0-9])|"
                       r"(?:Last|Prev|Previous|Saved|Old)[A-Z0-9_]")
# counters by their names: `n_rx_crc_err`, `drop_cnt`, `rx_errors` (not reference counts)
_COUNTER = re.compile(r"(?:n|num|nr)_\w+|\w+_(?:cnt|count|errs?|errors|drops|fails?)")
_REFERENCE = re.compile(r"ref|usage|users|pin", re.I)


def _kept_for_itself(site, fn: FunctionView, ctx: CheckContext, results: set[str]) -> bool:
    """Is a write one that no reader of the name minds?  An answer written for the caller
    (`*size = n`), a test program's failure tally (`nerrs++` beside a "[FAIL]" printf),
    statistics (`rx_stats.drops++`) or a counter in a struct going up (`ch->n_rx_crc_err++`),
    the sample the next call compares with (`p->last_events = ev`), or a value put back as it
    was (`c = *s; *s = 0; ...; *s = c;`)."""
    name = site.name
    return site.base in results or _REPORT_COUNTER.search(name) is not None or \
        _STATISTICS.search(name) is not None or _PREVIOUS.match(_member(name)) is not None or \
        _tally(site, fn, ctx) or _restored(name, ctx.body_text(fn))


def _tally(site, fn: FunctionView, ctx: CheckContext) -> bool:
    """Is the write a counter in a struct going up (`ch->n_rx_crc_err++`, `p->drop_cnt += n`)?"""
    member = _member(site.name)
    if member == site.name or not _COUNTER.fullmatch(member) or _REFERENCE.search(member):
        # (a global of its own, `nr_asked++`, is state every caller shares)
        return False
    line = ctx.source_line(fn.file, site.line)
    return re.search(r"\+\+\s*" + re.escape(member) + r"\b|\b" + re.escape(member) +
                     r"\s*(?:\[[^\]]*\]\s*)?(?:\+\+|\+=)", line) is not None


# failure tallies of test programs: `nerrs++`, `++errors` next to the message that reports them
_REPORT_COUNTER = re.compile(r"(?:^|[^\w>.])(?:n?errs?|n?errors|nfail\w*|fail(?:s|ures|ed)?|"
                             r"failed_tests|error_count|err_cnt|num_errors)\b")


_CALLERS_READ = 200  # callers whose calls are read to see what they pass


def _callers_locals(fn: FunctionView, ctx: CheckContext) -> set[str]:
    """The pointer parameters every caller points at its own locals (`is_digit(&c)`): what
    the function writes through them stays in its callers' frames."""
    params = ctx.param_list(fn)
    if not fn.callers or fn.callers > _CALLERS_READ or \
            not any(is_pointer for _, is_pointer in params):
        return set()  # (a helper called from everywhere is not called with locals only)
    local = [is_pointer and bool(name) for name, is_pointer in params]
    seen = False
    for caller in ctx.index.callers(fn.name):
        inputs = ctx.shape_inputs(caller)
        for site in inputs.sites:
            if site.kind == CALL and site.name == fn.name:
                seen = True
                local = [ok and k < len(site.args) and site.args[k] == ARG_LOCAL
                         for k, ok in enumerate(local)]
    return {name for (name, _), ok in zip(params, local) if ok} if seen else set()


def _answers(fn: FunctionView, ctx: CheckContext) -> bool:
    """Does the function return more than one answer?  `lpfc_can_disctmo()` (cancel the
    discovery timeout) always returns 0: whatever its name reads like, it asks nothing."""
    inputs, _ = ctx.verdict(fn)
    texts = {text for kind, _, text, _ in inputs.returns}
    return len(texts) != 1 or not all(kind in ("success", "failure", "constant")
                                      for kind, _, _, _ in inputs.returns)


def _restored(target: str, body: str) -> bool:
    """Is ``target`` saved in a variable and later assigned that variable back?"""
    lvalue = r"\s*".join(re.escape(part) for part in target.split())
    saved = re.search(r"\b([A-Za-z_]\w*)\s*=\s*" + lvalue + r"\s*;", body)
    return saved is not None and re.search(
        r"(?<![\w>.])" + lvalue + r"\s*=\s*" + saved.group(1) + r"\s*;", body) is not None


def _names_a_field(fn: FunctionView, ctx: CheckContext) -> bool:
    """`fc_fcp_can_queue_ramp_down()` halves `host->can_queue`: the question word and the word
    after it name a field the body uses, not a question."""
    words = fn.parts.words
    at = words.index(fn.verb) if fn.verb in words else -1
    if at < 0 or at + 1 >= len(words):
        return False
    field_name = f"{words[at]}_{words[at + 1]}"
    return re.search(r"(?:->|\.)\s*" + field_name + r"\b", ctx.body_text(fn)) is not None


def _made_valid(fn: FunctionView, ctx: CheckContext) -> bool:
    """`validate_pt_entry()` beside `invalidate_pt_entry()`: validate means make valid here,
    the opposite of invalidate, not check."""
    if fn.verb != "validate" or "validate" not in fn.name:
        return False
    at = fn.name.rfind("validate")
    twin = fn.name[:at] + "invalidate" + fn.name[at + len("validate"):]
    return bool(ctx.oracle.definitions(twin))


def _result_params(fn: FunctionView, ctx: CheckContext) -> set[str]:
    """The pointer parameters after the first: what a question or a check writes through them
    (`*size = n`, `info->reg_type = t`, a parse cursor `(*pos)++`) goes to its caller, who
    asked for it; the first is the object the function is about."""
    names = ctx.param_list(fn)
    return {name for name, is_pointer in names[1:] if is_pointer and name}


_READING_PROMISES = ("predicate", "getter", "check")
# a guard reading one of these bails out after a failure, it does not find the work done
_ERROR_STATE = re.compile(r"err|fail|dead|abort|broken|shutdown|unplug|remov|surprise|disconnect|"
                          r"dying|exiting|closing", re.I)
_IF_CONDITION = re.compile(r"\bif\s*\((.*)")
_HINT = re.compile(r"^\s*(?:likely|unlikely)\s*\(")
_ASSERTION = re.compile(r"^\s*!?\s*(?:unlikely\s*\(\s*)?(?:\w*_)?(?:WARN|BUG|WARN_ON|WARN_ON_ONCE|"
                        r"WARN_ONCE|BUG_ON|IS_CORRUPT|WARN_ON_ONCE)\w*\s*\(")
# what a feature gate or a dispatch on the kind of device reads: which hardware, model,
# revision or role this is -- a fact about the object, not whether the work is done
# (not a version or generation count: `if (c->gen == gen) return 0;` finds the work done)
_IDENTITY = re.compile(r"(?:^|_)(?:" + "|".join(IDENTITY_WORDS + ("cpu_has", "has_feature",
                                                                   "capable")) +
                       r")\d*(?:_|$)|^(?:is|has)_?[a-z]*\d", re.I)
_WORDS = re.compile(r"[A-Za-z_]\w*")
# words of a field that records work done
_DONE_WORDS = frozenset({"valid", "loaded", "initialized", "initialised", "inited", "init",
                         "ready", "done", "enabled", "active", "running", "started", "registered",
                         "configured", "mapped", "cached", "attached", "opened", "open", "synced",
                         "flushed", "online", "up", "setup", "installed", "applied", "programmed",
                         "allocated", "populated", "prepared", "committed", "uptodate", "fresh",
                         "current", "reset", "complete", "completed", "built", "present"})
_STATE_REACHED = re.compile(r"->|\.\s*[A-Za-z_]|\[|(?:^|[^\w)\]])\*")
_NAME_READ = re.compile(r"\b([A-Za-z_]\w*)\b(?!\s*\()")
_COMPARED_CONSTANT = re.compile(r"[!=]=\s*([A-Z][A-Z0-9_]{2,})\b(?!\s*\()|"
                                r"\b([A-Z][A-Z0-9_]{2,})\b(?!\s*\()\s*[!=]=")
_SENTINEL = re.compile(r"INVALID|NONE|UNSET|UNKNOWN|NULL|EMPTY|UNINIT|NOT_|NO_|_NO\b|ZERO",
                       re.I)
# a bare variable compared for equality: `st->odr == odr`, `val == st->cached`
_PLAIN_OPERAND = re.compile(r"(?<![\w>.])([a-z_]\w*)\s*==|"
                            r"==\s*([a-z_]\w*)\b(?!\s*(?:->|\.|\[|\())")
# a state below a named level: `b43_status(dev) < B43_STAT_STARTED`, `FOO_UP > s->state`
_BELOW_LEVEL = re.compile(r"(?<![<\-])<(?!<)=?\s*[A-Z][A-Za-z0-9]*_[A-Za-z0-9_]*\b(?!\s*\()|"
                          r"\b[A-Z][A-Za-z0-9]*_[A-Za-z0-9_]*\s*>(?![>=])")
_CLEARS = re.compile(r"[^=!<>]=\s*(?:0|false|NULL)\s*;|&=\s*~")
_ABSENT = re.compile(r"==\s*(?:NULL|0|false)\b")


def _tests_goal_state(fn: FunctionView, ctx: CheckContext) -> bool:
    """Does the state test that makes the function ensure-shaped ask whether the work is
    already done (`root != INVALID_ROOT`, `c->valid`, `!c->dirty` where the body clears
    `dirty`)?  Not when ensure-shaped only through its callees, not when the test bails out
    after an earlier error (`if (ctx->error) return;`), and not when it checks that the
    object to work on exists (`if (!dev->port) return;`): that is a precondition."""
    inputs, verdict = ctx.verdict(fn)
    if not verdict.guard_line:
        return False
    guard = next((g for g in inputs.guards if g[0] == verdict.guard_line), None)
    if guard is None and all(s.region & Region.LOOP for s in verdict.main_sites if s.cover):
        return False  # a loop that skips some elements (bad blocks, busy slots) still acts
    variables = guard[1] if guard is not None else []
    if any(_ERROR_STATE.search(v) for v in variables):
        return False
    exit_value = _guard_exit(ctx, fn, verdict.guard_line)
    if exit_value is not None and not _SUCCESS_EXIT.fullmatch(exit_value):
        return False  # `return BIT_DStream_overflow;`: a status of its own, not "done already"
    m = _IF_CONDITION.search(ctx.source_line(fn.file, verdict.guard_line))
    if m is None:
        return True  # the test is not on its own line: trust the shape
    condition = m.group(1)
    if _ASSERTION.match(condition):
        return False  # `if (WARN_ON(...)) return;`: an assertion that failed, not work done
    while (hint := _HINT.match(condition)) is not None:
        condition = condition[hint.end():]
    if _ERROR_STATE.search(" ".join(re.findall(r"[a-z_]\w*", condition))):
        return False
    if _BELOW_LEVEL.search(condition):
        return False  # `if (status(dev) < STAT_INITIALIZED) return;`: not ready yet
    if any(_IDENTITY.search(_last_word(w)) for w in _WORDS.findall(condition)):
        return False  # `if (ice_is_e810(hw))`, `if (dwc->role == HOST)`: a gate, not a goal
    if not _STATE_REACHED.search(condition) and \
            set(_read_names(condition)) <= ctx.param_names(fn):
        return False  # `if (cpumask_empty(mask)) return;`: nothing to do for this input
    constants = [a or b for a, b in _COMPARED_CONSTANT.findall(condition)]
    body = ctx.body_text(fn) if constants else ""
    for constant in constants:
        # `sk->state == TCP_CLOSE`: a precondition, unless the body brings the state about
        # (`->state = READY` after `if (d->state == READY)`) or it is a sentinel (INVALID_PAGE)
        if not _SENTINEL.search(constant) and \
                len(re.findall(r"\b" + constant + r"\b", body)) < 2:
            return False
    if "==" in condition and _STATE_REACHED.search(condition) is not None and \
            ctx.param_names(fn).intersection(
                n for pair in _PLAIN_OPERAND.findall(condition) for n in pair):
        # `if (st->odr == odr) return 0;`: the value asked for is already there, and skipping
        # the redundant write is a cache readers expect, not a broken promise
        return False
    if not (condition.lstrip().startswith("!") and not condition.lstrip().startswith("!=")
            or _ABSENT.search(condition)):
        # the work found done: when the body assigns fields itself, one of them is what the
        # test reads (`if (st->odr == odr) return 0; ...; st->odr = odr;`); a test of other
        # fields is a precondition (`if (size > buf->size) return;`)
        written = {_member(s.name) for s in verdict.main_sites if s.kind == "write"}
        if written:
            return bool(written & set(_WORDS.findall(condition)))
        # only calls act: the test itself must say the work is done -- a sentinel or a state
        # the body brings about (above), or a field named for a finished state (`c->valid`,
        # `ns_flushed_device`); an empty queue or a full buffer says nothing of the kind
        return bool(constants) or any(
            _DONE_WORDS.intersection(w.lower().split("_"))
            for w in _WORDS.findall(condition) if not w.isupper())
    # "nothing there": a goal only when the body itself then clears what was tested (`if
    # (!c->dirty) return; ...; c->dirty = 0;`); a body that fills it anew (`if (!c->widgets)
    # return 0; ...; c->widgets = tree;`) found nothing to work on, not the work done
    tested = condition.replace(" ", "")
    return any(s.kind == "write" and s.name.replace(" ", "") in tested and
               _CLEARS.search(ctx.source_line(fn.file, s.line)) is not None
               for s in verdict.main_sites)


_RETURN = re.compile(r"\breturn\b\s*([^;]*);")
# what a function returns when it found its work already done
_SUCCESS_EXIT = re.compile(r"\(?\s*(?:|0|true|\w*(?:OK|SUCCESS|DONE|NONE)\w*|ret|rc|err|"
                           r"error|result|res|status)\s*\)?", re.I)


def _guard_exit(ctx: CheckContext, fn: FunctionView, line: int) -> str | None:
    """The value the guard's arm returns (`''` for a bare return), read off the source; None
    when no return is within its first lines."""
    for n in range(line, min(line + 4, fn.end_line + 1)):
        m = _RETURN.search(ctx.source_line(fn.file, n))
        if m:
            return m.group(1).strip()
    return None


def _read_names(condition: str) -> list[str]:
    """Variables a condition reads: lower-case names that are not called."""
    return [n for n in _NAME_READ.findall(condition)
            if not n.isupper() and n not in ("likely", "unlikely", "sizeof", "NULL")]


def _member(lvalue: str) -> str:
    """The field an lvalue names: `st->conf.odr` -> `odr`, `*len` -> `len`, `c->map[i]` ->
    `map`."""
    words = _WORDS.findall(re.sub(r"\[[^\]]*\]", "", lvalue))
    return words[-1] if words else lvalue


def _last_word(identifier: str) -> str:
    """`ice_is_e810` -> `is_e810`; `ChipType` -> `chiptype`; `sb_root` -> `sb_root`: the words
    that say what an identifier is about (a prefix such as `ice_` aside)."""
    low = identifier.lower()
    at = max(low.rfind("_is_"), low.rfind("_has_"))
    return low[at + 1:] if at >= 0 else low


def _hedged(fn: FunctionView) -> bool:
    """Does the name already say the work may not happen: `maybe_`, `try_`, `_if_needed`,
    wherever the hedge stands (`ceph_con_v1_try_write`)?"""
    if {"if_needed", "maybe", "try"} & set(fn.parts.qualifiers):
        return True
    words = fn.parts.words
    verb_at = len(words) - 1 - words[::-1].index(fn.verb) if fn.verb in words else -1
    return verb_at > 0 and words[verb_at - 1] in ("try", "maybe", "lazy", "lazily")


def _named_to_act(callee: str, fn: FunctionView, ctx: CheckContext) -> bool:
    """Does the callee's own name say it acts?  A `foo_reg_read()` or `bar_is_supported()` that
    the analysis finds changing state does so on the way (a bus lock, a cached value), and a
    noun-named helper (`queueptr()`) says nothing: neither makes its caller's name wrong."""
    parts = ctx.lexicon.parse(callee, posixpath.dirname(fn.file))
    verb = parts.verb
    if verb is None or verb in _BOOKKEEPING:
        return False
    if "and" in parts.words:
        return True  # check_and_update: the reading word does not cover the rest
    # a reading word anywhere makes the name a guess: ice_aq_get_link_topo_handle() gets a
    # handle, doc_register_readb() reads a register, match_held_lock() matches
    words = parts.words
    if _STATS_WORDS.intersection(words):
        return False  # e1000_tbi_adjust_stats(), ice_update_dcb_stats(): statistics
    at = words.index(verb) if verb in words else -1
    after = words[at + 1] if 0 <= at < len(words) - 1 else ""
    if verb == "test" and after in ("bit", "bits", "flag", "flags") or \
            at > 0 and words[at - 1] in ("nb", "num", "nr", "n"):
        return False  # memory_bm_test_bit() tests a bit; xskq_prod_nb_free() counts free slots
    if verb == "load" and "load" in words:
        at = words.index("load")
        if words[at - 1:at] in (("reg",), ("register",)) or \
                ACCESS_WIDTH.fullmatch(words[at + 1] if at + 1 < len(words) else ""):
            return False  # receiver_port_reg_load(), device_load_uint32(): a register read
    return not any(w in _READING_WORDS or _REGISTER_READ.fullmatch(w) or
                   any(ctx.vocab.promises(w, p) for p in _READING_PROMISES)
                   for w in (verb,) + parts.rivals + words[len(parts.prefix):])


# verbs of callees that only note a use (an LRU touch): no change a question's reader minds
_BOOKKEEPING = frozenset({"touch"})
# words that say a callee compares or looks, besides the vocabulary's reading promises
_READING_WORDS = frozenset({"match", "cmp", "compare", "peek", "print", "dump", "show", "log",
                            "trace", "warn"})
_STATS_WORDS = frozenset({"stats", "statistics", "counters"})
_REGISTER_READ = re.compile(r"(?:read|rd)[bwlq]?(?:8|16|32|64)?|in[bwl]")
