"""The tree's lexicon: what each verb means *here* -- the shapes and effects of the functions
that use it.

A verb is ambiguous when two shapes each hold a substantial share (the kernel's "ensure" acts
if needed in some functions and only checks in others).  The lexicon is what the rules stand
on: a name is judged against its verb's meaning in its own tree, not against a word list.

JSON for one verb is a versioned contract (LEXICON_VERSION).
"""

from __future__ import annotations

import heapq
import json
import posixpath
import sqlite3
from collections import Counter, defaultdict
from dataclasses import asdict, dataclass, field

from .analysis.shape import Shape
from .index.schema import EFFECT_BITS
from .index.store import Index
from .names import NameModel, NameParts, VerbVocabulary

LEXICON_VERSION = 1
EXAMPLES = 5  # per shape
AMBIGUOUS_SHARE = 0.25  # two shapes each holding at least this share...
AMBIGUOUS_MIN = 2  # ... and at least this many functions
_SHAPE_ORDER = [s.value for s in Shape]


@dataclass
class Example:
    name: str
    file: str
    line: int
    callers: int


@dataclass
class Sense:
    shape: str
    count: int
    share: float
    examples: list[Example] = field(default_factory=list)


@dataclass
class VerbEntry:
    verb: str
    functions: int
    ambiguous: bool
    senses: list[Sense]
    effects: dict[str, int]  # functions with each effect

    def share(self, shape: str) -> float:
        return next((s.share for s in self.senses if s.shape == shape), 0.0)

    def count(self, shape: str) -> int:
        return next((s.count for s in self.senses if s.shape == shape), 0)

    @property
    def dominant(self) -> str:
        return self.senses[0].shape if self.senses else ""

    def to_json_obj(self) -> dict:
        return {"version": LEXICON_VERSION, "verb": self.verb, "functions": self.functions,
                "ambiguous": self.ambiguous,
                "senses": [asdict(s) for s in self.senses], "effects": self.effects}


class Lexicon:
    def __init__(self, entries: dict[str, VerbEntry], model: NameModel) -> None:
        self.entries = entries
        self.model = model
        self._parts: dict[tuple[str, str], NameParts] = {}

    def parse(self, name: str, directory: str) -> NameParts:
        """The name's parts (cached: the tree parses each name once)."""
        key = (name, directory)
        parts = self._parts.get(key)
        if parts is None:
            parts = self._parts[key] = self.model.parse(name, directory)
        return parts

    def to_json(self) -> str:
        return json.dumps({
            "entries": {v: asdict(e) for v, e in self.entries.items()},
            "model": self.model.to_json_obj()}, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str, vocabulary: VerbVocabulary) -> Lexicon:
        data = json.loads(text)
        entries = {}
        for verb, e in data["entries"].items():
            senses = [Sense(s["shape"], s["count"], s["share"],
                            [Example(**x) for x in s["examples"]]) for s in e["senses"]]
            entries[verb] = VerbEntry(e["verb"], e["functions"], e["ambiguous"], senses,
                                      e["effects"])
        return cls(entries, NameModel.from_json_obj(data["model"], vocabulary))

    def entry(self, verb: str) -> VerbEntry | None:
        return self.entries.get(verb)

    def verbs_for_shape(self, shape: str, min_functions: int = 20,
                        min_share: float = 0.5) -> list[VerbEntry]:
        """Verbs whose dominant meaning in this tree is ``shape``, most used first."""
        found = [e for e in self.entries.values()
                 if e.functions >= min_functions and e.share(shape) >= min_share]
        return sorted(found, key=lambda e: (-e.count(shape), e.verb))

    def overview(self, limit: int = 40) -> dict:
        top = sorted(self.entries.values(), key=lambda e: (-e.functions, e.verb))
        return {
            "version": LEXICON_VERSION,
            "verbs": len(self.entries),
            "functions": sum(e.functions for e in self.entries.values()),
            "top": [{"verb": e.verb, "functions": e.functions, "dominant": e.dominant,
                     "share": round(e.share(e.dominant), 3), "ambiguous": e.ambiguous}
                    for e in top[:limit]],
            "ambiguous": [{"verb": e.verb, "functions": e.functions,
                           "senses": {s.shape: s.count for s in e.senses}}
                          for e in top if e.ambiguous][:limit],
            "prefixes_learnt": len(self.model.global_prefixes) + sum(
                len(p) for p in self.model.dir_prefixes.values()),
            "tree_verbs": sorted(self.model.tree_verbs),
        }


def function_rows(index: Index):
    """(id, name, path, line, shape, effects, static, return_kind, exported, confidence,
    column, end_line, variant, is_callback) of every analysed function, in id order."""
    return index.conn.execute(
        "SELECT f.id, f.name, files.path, f.line, a.shape, a.effects, f.is_static, "
        "f.return_kind, f.is_exported, a.confidence, f.column, f.end_line, f.variant, "
        "f.is_callback "
        "FROM functions f JOIN files ON files.id = f.file_id "
        "JOIN analysis a ON a.function_id = f.id ORDER BY f.id")


def learn_names(index: Index, extra_verbs: list[str] | None = None) -> NameModel:
    by_dir: dict[str, list[str]] = defaultdict(list)
    for name, path in index.conn.execute(
            "SELECT f.name, files.path FROM functions f JOIN files ON files.id = f.file_id"):
        by_dir[posixpath.dirname(path)].append(name)
    return NameModel.learn(by_dir, VerbVocabulary.load(extra_verbs))


CACHE_STALE_SHARE = 0.01  # re-learn once this share of functions was re-analysed since


def cached_lexicon(index: Index, extra_verbs: list[str] | None = None) -> Lexicon:
    """The lexicon, rebuilt only when the tree's meaning may have moved: after a full analysis,
    or once incremental analyses have re-analysed more than 1% of the functions since it was
    learnt (a few edited functions do not change what a verb means in a large tree)."""
    vocab = VerbVocabulary.load(extra_verbs)
    key = json.dumps(sorted(vocab.words))
    row = index.conn.execute("SELECT generation, verbs, data FROM lexicon_cache").fetchone()
    total = index.conn.execute("SELECT count(*) FROM analysis").fetchone()[0] or 1
    full = index.meta("full_analysis_generation")
    drift = int(index.meta("analysed_since_full") or 0)
    if row is not None and row[0] == full and row[1] == key and drift <= CACHE_STALE_SHARE * total:
        return Lexicon.from_json(row[2], vocab)
    lexicon = build_lexicon(index, extra_verbs)
    try:
        index.conn.execute("BEGIN IMMEDIATE")
        index.conn.execute("DELETE FROM lexicon_cache")
        index.conn.execute("INSERT INTO lexicon_cache(generation, verbs, data) VALUES (?, ?, ?)",
                           (full, key, lexicon.to_json()))
        index.set_meta("analysed_since_full", "0")
        index.conn.execute("COMMIT")
    except sqlite3.OperationalError:  # a read-only index, or another writer: no cache then
        if index.conn.in_transaction:
            index.conn.execute("ROLLBACK")
    return lexicon


def build_lexicon(index: Index, extra_verbs: list[str] | None = None) -> Lexicon:
    model = learn_names(index, extra_verbs)
    callers = dict(index.conn.execute(
        "SELECT name, json_array_length(function_ids) FROM callers"))
    shapes: dict[str, Counter] = defaultdict(Counter)
    effects: dict[str, Counter] = defaultdict(Counter)
    best: dict[tuple[str, str], list] = defaultdict(list)  # (verb, shape) -> heap of examples
    lexicon = Lexicon({}, model)
    for fid, name, path, line, shape, bits, *_ in function_rows(index):
        verb = lexicon.parse(name, posixpath.dirname(path)).verb
        if verb is None:
            continue
        shapes[verb][shape] += 1
        for effect, bit in EFFECT_BITS.items():
            if bits & bit:
                effects[verb][effect] += 1
        heap = best[(verb, shape)]
        item = (callers.get(name, 0), _neg(name), path, line, name)
        if len(heap) < EXAMPLES:
            heapq.heappush(heap, item)
        elif item > heap[0]:
            heapq.heapreplace(heap, item)
    entries = {}
    for verb, counts in shapes.items():
        total = sum(counts.values())
        senses = []
        for shape, n in sorted(counts.items(), key=lambda kv: (-kv[1], _SHAPE_ORDER.index(kv[0]))):
            examples = sorted(best[(verb, shape)], reverse=True)
            senses.append(Sense(shape, n, round(n / total, 3),
                                [Example(e[4], e[2], e[3], e[0]) for e in examples]))
        substantial = [s for s in senses
                       if s.share >= AMBIGUOUS_SHARE and s.count >= AMBIGUOUS_MIN]
        entries[verb] = VerbEntry(verb, total, len(substantial) >= 2, senses,
                                  dict(sorted(effects[verb].items())))
    lexicon.entries = entries
    return lexicon


def _neg(name: str) -> tuple:
    """Sort key that puts names in ascending order inside a max-first ordering."""
    return tuple(-ord(c) for c in name) + (1,)


def render_entry(entry: VerbEntry) -> str:
    lines = [f"{entry.verb}: {entry.functions} functions"
             + ("  (ambiguous: it means different things in this tree)" if entry.ambiguous
                else "")]
    for s in entry.senses:
        lines.append(f"  {s.shape:7} {s.count:6}  {100 * s.share:5.1f}%")
        for e in s.examples:
            callers = "1 caller" if e.callers == 1 else f"{e.callers} callers"
            lines.append(f"      {e.name}  {e.file}:{e.line}  ({callers})")
    if entry.effects:
        lines.append("  effects: " + ", ".join(f"{k} {v}" for k, v in entry.effects.items()))
    return "\n".join(lines) + "\n"


def render_overview(data: dict) -> str:
    lines = [f"{data['verbs']} verbs over {data['functions']} functions "
             f"({data['prefixes_learnt']} prefixes learnt)", "", "top verbs:"]
    for v in data["top"]:
        flag = "  ambiguous" if v["ambiguous"] else ""
        lines.append(f"  {v['verb']:16} {v['functions']:7}  mostly {v['dominant']} "
                     f"({100 * v['share']:.0f}%){flag}")
    if data["ambiguous"]:
        lines += ["", "ambiguous verbs:"]
        for v in data["ambiguous"]:
            senses = ", ".join(f"{k} {n}" for k, n in v["senses"].items())
            lines.append(f"  {v['verb']:16} {v['functions']:7}  {senses}")
    if data["tree_verbs"]:
        lines += ["", "verbs learnt from the tree: " + ", ".join(data["tree_verbs"])]
    return "\n".join(lines) + "\n"


def lexicon_json(entry: VerbEntry) -> str:
    return json.dumps(entry.to_json_obj(), indent=2)
