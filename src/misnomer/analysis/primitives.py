"""The base lexicon of primitives (``data/primitives.toml``) plus the user's additions."""

from __future__ import annotations

import fnmatch
import hashlib
import json
import re
from dataclasses import dataclass
from enum import IntFlag

from ..names import split_words
from ..resources import load_toml


class Effect(IntFlag):
    """Effect bits.  Stored as integers in the index: never renumber."""

    NONE = 0
    MUTATES = 1
    ALLOCATES = 2
    FREES = 4
    LOCKS = 8
    LOGS = 16
    UNKNOWN = 32  # depends on a callee whose effects nobody knows
    CAN_FAIL = 64
    OUT_PARAMS = 128  # writes results through out-parameters
    # its state changes all land in memory its pointer parameters point to (which ones: the
    # bits from PARAM_SHIFT up), so a caller passing its own locals there changes nothing
    PARAMS_ONLY = 256


PARAM_SHIFT = 16  # effect bits from here up: the pointer parameters written through, by position
STATE_CHANGES = Effect.MUTATES | Effect.ALLOCATES | Effect.FREES
# Effects that flow from a callee to its callers along every call.  OUT_PARAMS does not (the
# callee's out-parameters are the caller's locals, or are judged where the caller writes them)
# and CAN_FAIL flows only along returned calls.
PROPAGATED = (Effect.MUTATES | Effect.ALLOCATES | Effect.FREES | Effect.LOCKS | Effect.LOGS |
              Effect.UNKNOWN)
_NAMED_EFFECTS = {"mutates": Effect.MUTATES, "allocates": Effect.ALLOCATES,
                  "frees": Effect.FREES, "locks": Effect.LOCKS, "logs": Effect.LOGS,
                  "pure": Effect.NONE}


@dataclass(frozen=True, slots=True)
class Primitive:
    name: str  # the lexicon entry (a name or a glob)
    effects: Effect
    writes_arg: int | None = None
    # reads what it writes (bit operations): through a parameter it changes that object, it
    # never fills an out-parameter
    updates: bool = False

    @property
    def changes_state(self) -> bool:
        return bool(self.effects & STATE_CHANGES)


# Generic acquire/release pairs by name: (suffix of the acquire, suffixes of the release).
_SUFFIX_PAIRS = (("_lock", ("_unlock",)), ("_get", ("_put", "_release")),
                 ("_hold", ("_put", "_release", "_unhold")), ("_acquire", ("_release",)),
                 ("_begin", ("_end",)), ("_start", ("_end",)), ("_open", ("_close",)),
                 ("_enter", ("_exit", "_leave")),
                 ("_grab", ("_release", "_ungrab")), ("_pin", ("_unpin",)))
_SAME_FAMILY = {"_start": "_begin"}  # both end with `_end`
_PREFIX_PAIRS = (("get_", ("put_",)), ("lock_", ("unlock_",)), ("acquire_", ("release_",)),
                 ("open_", ("close_",)))
# how an acquire says when or by what it acquires: intel_engine_pm_get_if_awake pairs with
# intel_engine_pm_put, open_cached_dir_by_dentry with close_cached_dir
_ACQUIRE_QUALIFIER = re.compile(r"_(?:if|unless|by)_[a-z0-9_]+$")
# ... and with the verb inside the name: btrfs_lookup_block_group / btrfs_put_block_group
# the width of a memory access in a name: `load_32`, `load_uint32`, `load_u8`, `load_word`
ACCESS_WIDTH = re.compile(r"\d+|u?int\d*|[us]\d+|byte|half|word|dword|qword")
# (bcma_erom_get_ent / bcma_erom_push_ent: an entry read and pushed back, a peek)
_INFIX_PAIRS = (("_get_", "_lookup_", "_find_", "_grab_"), ("_put_", "_release_", "_push_"))


class PrimitiveTable:
    """Look-ups over the primitive entries, the pairs and the verb lists."""

    def __init__(self, extra: dict | None = None) -> None:
        self.exact: dict[str, Primitive] = {}
        self.globs: list[tuple[str, Primitive]] = []
        self.pair_of: dict[str, tuple[int, bool]] = {}  # name -> (family, is_acquire)
        self.mutating_verbs: set[str] = set()
        self.pure_verbs: set[str] = set()
        sources = [load_toml("primitives.toml")] + ([extra] if extra else [])
        family = 0
        for source in sources:
            for entry in source.get("primitive", []):
                bits = Effect.NONE
                for word in entry.get("effects", []):
                    if word not in _NAMED_EFFECTS:
                        raise ValueError(f"unknown effect {word!r} in primitive entry "
                                         f"(expected one of {', '.join(_NAMED_EFFECTS)})")
                    bits |= _NAMED_EFFECTS[word]
                for name in entry.get("names", []):
                    prim = Primitive(name, bits, entry.get("writes_arg"),
                                     bool(entry.get("updates", False)))
                    if "*" in name or "?" in name:
                        self.globs.append((name, prim))
                    else:
                        self.exact[name] = prim
            for pair in source.get("pair", []):
                family += 1
                for name in pair.get("acquire", []):
                    self.pair_of[name] = (family, True)
                for name in pair.get("release", []):
                    self.pair_of[name] = (family, False)
            verbs = source.get("verbs", {})
            self.mutating_verbs.update(verbs.get("mutates", []))
            self.pure_verbs.update(verbs.get("pure", []))
        # Longest pattern first: "dev_err*" wins over "dev_*".
        self.globs.sort(key=lambda g: -len(g[0]))
        self._cache: dict[str, Primitive | None] = {}
        self._pairs: dict[str, tuple[object, bool] | None] = {}
        blob = json.dumps(sources, sort_keys=True, default=str).encode()
        self.fingerprint = hashlib.sha1(blob).hexdigest()

    def argument_free(self) -> frozenset[str]:
        """Names of the primitives that write through none of their arguments."""
        return frozenset(name for name, prim in self.exact.items() if prim.writes_arg is None)

    def lookup(self, name: str) -> Primitive | None:
        if name in self.exact:
            return self.exact[name]
        try:
            return self._cache[name]
        except KeyError:
            pass
        found = None
        for pattern, prim in self.globs:
            if fnmatch.fnmatchcase(name, pattern):
                found = prim
                break
        self._cache[name] = found
        return found

    def pair_key(self, name: str) -> tuple[object, bool] | None:
        """The acquire/release family of a callee and whether it acquires."""
        try:
            return self._pairs[name]
        except KeyError:
            pass
        key = self._pair_key(name)
        self._pairs[name] = key
        return key

    def _pair_key(self, name: str) -> tuple[object, bool] | None:
        listed = self.pair_of.get(name)
        if listed is not None:
            return listed
        plain = _ACQUIRE_QUALIFIER.sub("", name) if "_" in name else name
        if plain != name and plain:
            key = self._named_pair(plain)
            if key is not None and key[1]:
                return key  # only an acquire says when it acquires
        return self._named_pair(name)

    @staticmethod
    def _named_pair(name: str) -> tuple[object, bool] | None:
        for acquire, releases in _SUFFIX_PAIRS:
            if name.endswith(acquire) and len(name) > len(acquire):
                return (name[: -len(acquire)], _SAME_FAMILY.get(acquire, acquire)), True
            for release in releases:
                if name.endswith(release) and len(name) > len(release):
                    return (name[: -len(release)], acquire), False
        for acquire, releases in _PREFIX_PAIRS:
            if name.startswith(acquire) and len(name) > len(acquire):
                return (name[len(acquire):], acquire), True
            for release in releases:
                if name.startswith(release) and len(name) > len(release):
                    return (name[len(release):], acquire), False
        acquires, releases = _INFIX_PAIRS
        for infix in acquires + releases:
            at = name.find(infix, 1)
            if at > 0 and at + len(infix) < len(name):
                return (name[:at], name[at + len(infix):], "_get_"), infix in acquires
        return None

    def verdict_from_name(self, name: str) -> Effect:
        """Effects of an unknown callee judged by its name: MUTATES, NONE or UNKNOWN."""
        base = name.rsplit("->", 1)[-1].rsplit(".", 1)[-1]
        words = split_words(base)
        for i, word in enumerate(words):
            if word in self.mutating_verbs:
                if word == "load" and i + 1 < len(words) and ACCESS_WIDTH.fullmatch(words[i + 1]):
                    return Effect.NONE  # `load_32()`, `load_uint8()`: a read of memory
                return Effect.MUTATES
            if word in self.pure_verbs:
                return Effect.NONE
        return Effect.UNKNOWN
