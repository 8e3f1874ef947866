"""Names: identifiers as words, the tree's own prefixes, and the verb of each function name.

``__skb_vlan_pop`` -> words skb, vlan, pop; ``ReadRegister32`` -> read, register, 32.
Prefixes (``kvm_mmu_``, ``skb_``, ``rtl92c_phy_``) are learnt from the tree: leading word
sequences shared by many functions of a directory, or of the whole tree.  The verb is then
found after the prefix, in one of the conventions C code uses: ``prefix_verb_object``
(skb_ensure_writable), ``prefix_object_verb`` (kvm_mmu_reload), ``verb_object``
(ensure_good_fd), with qualifiers (maybe_, try_, _if_needed, _locked, a leading ``__``) noted
and set aside.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, replace
from functools import lru_cache

from .resources import load_toml

_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")

# Words that are verbs in verbs.toml but also name things; followed by another verb they are
# the object (queue_is_ready, map_get_entry, lock_init).
NOUN_LIKE_VERBS = frozenset({
    "queue", "map", "lock", "link", "hash", "log", "trace", "power", "mask", "mark", "count",
    "test", "signal", "sort", "scan", "map", "page", "list", "state", "work", "event", "hold",
    "match", "poll", "request", "report", "account", "config", "print", "format", "store"})
# After these, a verb-looking word is an adjective: next_free_urb, first_set_bit, num_mapped.
ADJECTIVE_AFTER = frozenset({"next", "first", "last", "num", "nr", "count", "total", "max", "min",
                             "get", "find", "alloc", "is", "has", "prev", "cur", "current",
                             "any", "all", "none", "some", "each", "every",
                             # after a preposition a verb is a noun: exit_on_init, wait_for_reset
                             "on", "at", "after", "before", "for", "in", "by", "of", "from",
                             "during", "per", "via", "without", "with",
                             # a negated word describes: lcm_not_zero, skb_not_set
                             "not", "non"})
# Question words that also name a subsystem: in drivers/net/can, `can` is the CAN bus
# (c_can_irq_control, pch_can_set_mode), not a question.
PREDICATES_THAT_NAME_THINGS = frozenset({"can", "will", "must", "may", "is"})
# Words after which a name describes an event, not an action: bfs_write_failed handles a failed
# write, xfer_reset_done reports a finished reset.
EVENT_WORDS = frozenset({"failed", "failure", "done", "complete", "completed", "completion",
                         "finished", "pending", "timeout", "timedout"})
# A name ending in one of these names the code that reacts to something (a handler for IS_EX
# records, a callback), whatever question word stands before it.
HANDLER_NOUNS = frozenset({"handler", "handle", "cb", "callback", "hook", "fn", "func", "work",
                           "worker", "notifier", "isr", "irq", "thread", "tasklet", "timer",
                           "ops"})
# Words in the verb list that, beside another verb, are the thing or the link between words
# (reset_connect_state, copy_from_user).
NOT_RIVALS = NOUN_LIKE_VERBS | ADJECTIVE_AFTER | {"to", "from", "as", "try", "maybe", "end",
                                                  "age", "new", "fix", "mod", "test", "data"}
PREFIX_MIN_FUNCTIONS = 4  # functions sharing a leading sequence in one directory
PREFIX_MIN_SHARE = 0.04  # ... and this share of the directory's functions
GLOBAL_PREFIX_MIN = 40  # functions sharing it across the tree (in several directories)
TREE_VERB_MIN = 40  # names using a learnt word in verb position


@lru_cache(maxsize=65536)
def split_words(identifier: str) -> tuple[str, ...]:
    """Lower-case words of an identifier: snake_case, camelCase and digit runs split apart;
    leading and trailing underscores dropped."""
    words: list[str] = []
    for part in identifier.strip("_").split("_"):
        if not part:
            continue
        if part.isalpha() and part.islower():
            words.append(part)
        elif part.isalnum() and part.islower():
            words.extend(_split_digits(part))
        else:
            words.extend(w.lower() for w in _CAMEL.findall(part))
    return tuple(words)


def _split_digits(part: str) -> list[str]:
    """register32 -> register, 32; but x86 stays x86 (a single letter is not a word)."""
    runs = re.findall(r"[a-z]+|\d+", part)
    out: list[str] = []
    for run in runs:
        if out and run.isdigit() and len(out[-1]) == 1 and out[-1].isalpha():
            out[-1] += run
        else:
            out.append(run)
    return out


def _words_uncached(identifier: str) -> tuple[str, ...]:
    return split_words.__wrapped__(identifier)


@dataclass(frozen=True, slots=True)
class NameParts:
    name: str
    words: tuple[str, ...]
    prefix: tuple[str, ...]  # the learnt prefix the name starts with
    verb: str | None
    role: str  # prefix_verb_object, prefix_object_verb, verb_object, verb, object_verb, none
    qualifiers: tuple[str, ...]  # internal (leading __), maybe, try, if_needed, locked, ...
    # other words of the name that could be its verb (update_cfs_rq_h_load: update beside
    # load; amd_detect_cmp: detect beside cmp): the verb chosen is then a guess, and a rule
    # that judges the name by it must not be sure of it
    rivals: tuple[str, ...] = ()


@dataclass(frozen=True)
class VerbVocabulary:
    words: frozenset[str]
    leading_qualifiers: frozenset[str]
    trailing_qualifiers: tuple[tuple[str, ...], ...]  # word sequences, longest first
    promise_sets: dict[str, frozenset[str]]

    @classmethod
    def load(cls, extra_verbs: list[str] | None = None) -> VerbVocabulary:
        data = load_toml("verbs.toml")
        words = set(data["verbs"]["words"]) | set(extra_verbs or [])
        trailing = sorted((tuple(q.split("_")) for q in data["qualifiers"]["trailing"]),
                          key=len, reverse=True)
        return cls(frozenset(words), frozenset(data["qualifiers"]["leading"]), tuple(trailing),
                   {k: frozenset(v) for k, v in data["promises"].items()})

    @property
    def predicates(self) -> frozenset[str]:
        return self.promise_sets.get("predicate", frozenset())

    def with_promises(self, extra: dict[str, list[str]]) -> VerbVocabulary:
        """The same vocabulary with more verbs making each promise (from the configuration)."""
        if not extra:
            return self
        sets = dict(self.promise_sets)
        for promise, verbs in extra.items():
            sets[promise] = sets.get(promise, frozenset()) | frozenset(verbs)
        return replace(self, words=self.words | frozenset(w for v in extra.values() for w in v),
                       promise_sets=sets)

    def promises(self, verb: str | None, promise: str) -> bool:
        return verb is not None and verb in self.promise_sets.get(promise, ())


class NameModel:
    """Prefixes and verbs learnt from all the function names of a tree."""

    def __init__(self, vocabulary: VerbVocabulary) -> None:
        self.vocab = vocabulary
        self.dir_prefixes: dict[str, set[tuple[str, ...]]] = {}
        self.global_prefixes: set[tuple[str, ...]] = set()
        self.tree_verbs: set[str] = set()
        self.verbs = set(vocabulary.words)

    @classmethod
    def learn(cls, names_by_dir: dict[str, list[str]],
              vocabulary: VerbVocabulary) -> NameModel:
        model = cls(vocabulary)
        verbs = vocabulary.words
        global_counts: Counter = Counter()
        global_dirs: dict[tuple[str, ...], set[str]] = defaultdict(set)
        for directory, names in names_by_dir.items():
            counts: Counter = Counter()
            for name in set(names):
                words = split_words(name)
                for k in range(1, min(5, len(words))):
                    seq = words[:k]
                    if seq[-1] in verbs or seq[-1].isdigit() and k == 1:
                        break  # a verb ends the prefix
                    counts[seq] += 1
            need = max(PREFIX_MIN_FUNCTIONS, PREFIX_MIN_SHARE * len(set(names)))
            learnt = {seq for seq, n in counts.items() if n >= need}
            if learnt:
                model.dir_prefixes[directory] = learnt
            for seq, n in counts.items():
                global_counts[seq] += n
                global_dirs[seq].add(directory)
        model.global_prefixes = {seq for seq, n in global_counts.items()
                                 if n >= GLOBAL_PREFIX_MIN and len(global_dirs[seq]) >= 2}
        model._learn_tree_verbs(names_by_dir)
        return model

    def to_json_obj(self) -> dict:
        return {"dirs": {d: sorted(list(p) for p in ps) for d, ps in self.dir_prefixes.items()},
                "global": sorted(list(p) for p in self.global_prefixes),
                "tree_verbs": sorted(self.tree_verbs)}

    @classmethod
    def from_json_obj(cls, data: dict, vocabulary: VerbVocabulary) -> NameModel:
        model = cls(vocabulary)
        model.dir_prefixes = {d: {tuple(p) for p in ps} for d, ps in data["dirs"].items()}
        model.global_prefixes = {tuple(p) for p in data["global"]}
        model.tree_verbs = set(data["tree_verbs"])
        model.verbs |= model.tree_verbs
        return model

    def _learn_tree_verbs(self, names_by_dir: dict[str, list[str]]) -> None:
        """Words the tree itself uses in verb position: right after a prefix and followed by
        an object, in many names of several directories, and never part of a prefix."""
        prefix_words = {w for seqs in self.dir_prefixes.values() for seq in seqs for w in seq}
        prefix_words |= {w for seq in self.global_prefixes for w in seq}
        position: Counter = Counter()
        dirs: dict[str, set[str]] = defaultdict(set)
        for directory, names in names_by_dir.items():
            for name in set(names):
                words = split_words(name)
                prefix = self._prefix(words, directory)
                rest = words[len(prefix):]
                if prefix and len(rest) >= 2 and rest[0].isalpha() and len(rest[0]) > 2:
                    position[rest[0]] += 1
                    dirs[rest[0]].add(directory)
        self.tree_verbs = {w for w, n in position.items()
                           if n >= TREE_VERB_MIN and len(dirs[w]) >= 5 and w not in prefix_words
                           and w not in self.vocab.words and _looks_like_a_verb(w)}
        self.verbs |= self.tree_verbs

    def _prefix(self, words: tuple[str, ...], directory: str) -> tuple[str, ...]:
        best: tuple[str, ...] = ()
        local = self.dir_prefixes.get(directory, ())
        for k in range(min(4, len(words) - 1), 0, -1):
            seq = words[:k]
            if seq in local or seq in self.global_prefixes:
                best = seq
                break
        return best

    def parse(self, name: str, directory: str = "") -> NameParts:
        words = split_words(name)
        qualifiers: list[str] = []
        if name.startswith("__"):
            qualifiers.append("internal")
        prefix = self._prefix(words, directory)
        rest = list(words[len(prefix):])
        while len(rest) > 1 and rest[0] in self.vocab.leading_qualifiers:
            qualifiers.append(rest.pop(0))
        for q in self.vocab.trailing_qualifiers:
            if len(rest) > len(q) and tuple(rest[-len(q):]) == q:
                qualifiers.append("_".join(q))
                del rest[-len(q):]
                break
        verbs = self.verbs
        verb, role = None, "none"
        if any(w in WH_WORDS for w in words[:len(prefix) + 1]):
            # what_owner_is_waiting_for: a question about something, named by its answer
            return NameParts(name, words, prefix, None, "none", tuple(qualifiers))
        while len(rest) > 2 and rest[0] in self.vocab.predicates and rest[1].isdigit():
            prefix = prefix + tuple(rest[:2])  # is31fl32xx_reset: a part number, not "is"
            del rest[:2]
        whole = tuple(rest)  # the words that may hold the verb, before any is set aside
        if len(rest) >= 2 and rest[0] in verbs and rest[1] in verbs and (
                rest[0] in NOUN_LIKE_VERBS or (len(rest) >= 3 and rest[1] in COMMON_VERBS)):
            # queue_is_ready, map_get_entry, ip_set_get_h16, clone_find_next_region: the
            # first word names a thing
            prefix = prefix + (rest.pop(0),)
        # a question word that names a directory on the path is a noun there
        nouns = PREDICATES_THAT_NAME_THINGS.intersection(_DIRECTORY_WORDS.split(directory)) \
            if directory else frozenset()
        if nouns and len(rest) >= 2 and rest[0] in nouns:
            prefix = prefix + (rest.pop(0),)
        # a question word between digits is part of a model number: sc18is602_setup
        predicate = next((i for i, w in enumerate(rest[:-1]) if w in self.vocab.predicates
                          and w not in nouns and not _in_model_number(rest, i)
                          and (i == 0 or w in QUESTIONS_ANYWHERE)), -1)
        if predicate > 0:
            # nft_set_elem_is_dead: a question word decides, wherever it stands
            prefix = prefix + tuple(rest[:predicate])
            rest = rest[predicate:]
        if len(rest) >= 2 and rest[0] not in self.vocab.predicates and (
                rest[-1] in EVENT_WORDS or
                (rest[-1] in ("0", "1") and rest[-2] in ("set", "clear"))):
            # bfs_write_failed, pbit_set_1: what happened, or a value something is set to
            return NameParts(name, words, prefix, None, "none", tuple(qualifiers))
        first_is_verb = bool(rest) and rest[0] in verbs
        last_is_verb = len(rest) >= 2 and rest[-1] in verbs and rest[-2] not in ADJECTIVE_AFTER \
            and rest[-1] not in nouns  # mcba_usb_process_ka_can in drivers/net/can: the bus
        if first_is_verb and (rest[0] in self.vocab.predicates or
                              not (last_is_verb and len(rest) >= 3)):
            # is_all_set, has_bits_set: a question word at the start decides
            verb = rest[0]
            role = ("prefix_verb" if len(rest) == 1 else "prefix_verb_object") if prefix else \
                ("verb" if len(rest) == 1 else "verb_object")
        elif last_is_verb:
            # xfs_dir2_free_hdr_check: object words first, the verb last
            verb, role = rest[-1], "prefix_object_verb" if prefix else "object_verb"
        else:
            for i, w in enumerate(rest[1:-1], start=1):
                if w in verbs and w not in nouns and not _in_model_number(rest, i) and \
                        (rest[i - 1] not in ADJECTIVE_AFTER or rest[i - 1] in nouns) and \
                        not (i + 2 < len(rest) and rest[i + 1] in COMMON_VERBS):
                    # gate_is_ready, foo_bar_get_baz: the words before the verb are a prefix
                    # the tree uses too rarely to be learnt
                    verb, role = w, "prefix_verb_object"
                    break
        rivals = self._rivals(whole, verb, nouns)
        # (the first verb before the question word; a learnt prefix is a noun)
        getter = next((w for w in whole[:whole.index(verb)] if w in verbs), None) \
            if verb in whole else None
        if getter in ("get", "set") and getter not in rivals and verb in self.vocab.predicates:
            rivals += (getter,)  # ec_get_a_is_pminus3: gets a field named like a question
        return NameParts(name, words, prefix, verb, role, tuple(qualifiers), rivals)

    def _rivals(self, rest: tuple[str, ...], verb: str | None,
                nouns: frozenset[str]) -> tuple[str, ...]:
        """The words of ``rest`` besides ``verb`` that read as verbs.  A question word is
        followed by what it asks about (can_reuse_rx_page, is_parity_write_stream): only a
        verb before it, or a verb ending the name after it (echo_can_..._update), rivals it."""
        if verb is None or verb not in rest:
            return ()
        at = rest.index(verb)
        candidates = [(i, w) for i, w in enumerate(rest)
                      if i != at and w != verb and w not in nouns and w not in NOT_RIVALS and
                      (w in self.verbs or _looks_like_a_verb(w))]
        if verb in self.vocab.predicates:
            candidates = [(i, w) for i, w in candidates
                          if i < at or (i == len(rest) - 1 and i > at + 1)]
            if rest[-1] in HANDLER_NOUNS and at < len(rest) - 1:
                candidates.append((len(rest) - 1, rest[-1]))  # amt_mcast_is_ex_handler
        return tuple(w for _, w in candidates)


_DIRECTORY_WORDS = re.compile(r"[/_.-]")
# Question words that make a predicate wherever they stand (nft_set_elem_is_dead); `must`,
# `should`, `have` or `was` after the first word name flags and fields (handle_must_flags,
# set_pool_was_full).
QUESTIONS_ANYWHERE = frozenset({"is", "has", "can", "are", "does"})
WH_WORDS = frozenset({"what", "which", "who", "whom", "whose", "when", "where", "why", "how"})
# Verbs so common that a verb before them is a noun (ip_set_get_h16, dm_clone_find_next).
COMMON_VERBS = frozenset({"get", "set", "find", "lookup", "alloc", "free", "put", "add", "del",
                          "init", "read", "write", "update", "create", "destroy", "is", "has"})


def _in_model_number(words: list[str], i: int) -> bool:
    return (i > 0 and words[i - 1].isdigit()) and (i + 1 < len(words) and words[i + 1].isdigit())


def _looks_like_a_verb(word: str) -> bool:
    """English verb endings, to keep nouns that sit after prefixes (dev, irq, reg) out."""
    return word.endswith(("ize", "ise", "ify", "ate", "en")) and len(word) > 4
