"""`misnomer index`: bring the index in line with the tree, then redo the analysis.

Incremental by content: a file whose size and mtime are unchanged is not read; one whose hash is
unchanged is not parsed.  Two parallel phases over the files that changed: (1) hash and collect
the #defines the macro rewrite learns from, (2) parse with what was learnt.  Results go to one
writer in batched transactions, so an interrupted run leaves every file either fully indexed or
untouched, and the next run resumes.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from ..analysis.primitives import PrimitiveTable
from ..analysis.incremental import NeedFullAnalysis, analyze_changes
from ..analysis.run import analyze
from ..c.frontend import analysis_fingerprint, code_fingerprint
from ..c.macros import MacroKnowledge, builtin_knowledge, learn_macros
from ..config import Config
from ..errors import MisnomerError
from ..progress import Reporter
from . import worker
from .discover import discover
from .lock import IndexLock
from .store import Index
from .writer import Writer

DEFAULT_MAX_FILE_SIZE = 32 * 1024 * 1024


class Interrupted(Exception):
    """Ctrl-C during indexing; the index is consistent and the next run resumes."""


@dataclass
class IndexOptions:
    root: Path
    db: Path
    jobs: int = 0  # 0: all cores
    excludes: list[str] = field(default_factory=list)
    max_file_size: int = DEFAULT_MAX_FILE_SIZE
    all_macros: bool = False
    lock_wait: float = 600.0
    config: Config = field(default_factory=Config)


@dataclass
class IndexSummary:
    files: int = 0  # C files under the root
    parsed: int = 0  # read and parsed in this run
    unchanged: int = 0
    removed: int = 0
    functions: int = 0  # in the index after the run
    macros: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    seconds: float = 0.0
    analysed: int = 0
    error_functions: int = 0  # definitions whose parse had errors (whole index)
    generated: int = 0  # generated headers whose #defines were counted, not listed
    analysis: str = ""  # 'full', 'incremental', 'none'

    def line(self) -> str:
        parts = [f"{self.files:,} files", f"{self.functions:,} functions",
                 f"{self.parsed:,} parsed", f"{self.unchanged:,} unchanged"]
        if self.removed:
            parts.append(f"{self.removed:,} removed")
        if self.skipped:
            reasons = Counter(_reason_kind(r) for _, r in self.skipped)
            parts.append(f"{len(self.skipped):,} skipped (" + ", ".join(
                f"{n} {kind}" for kind, n in reasons.most_common()) + ")")
        if self.generated:
            parts.append(f"{self.generated:,} generated headers (#defines counted, not listed)")
        if self.functions:
            parts.append(f"{100 * self.error_functions / self.functions:.1f}% of definitions "
                         f"with parse errors")
        return "indexed: " + ", ".join(parts) + f" in {self.seconds:.1f} s"


def _reason_kind(reason: str) -> str:
    return reason.split(" (")[0].split(":")[0]


def run_index(options: IndexOptions, reporter: Reporter) -> IndexSummary:
    started = time.monotonic()
    root = options.root.resolve()
    if options.db.is_dir():
        raise MisnomerError(f"{options.db} is a directory; --db names the index file")
    # The lock first: two runs creating one database at once must not race on its creation.
    with IndexLock(options.db, options.lock_wait, reporter.note):
        index = Index.create_or_open(options.db, root)
        if index.rebuilt_from is not None:
            reporter.note(f"{options.db} was built by an older misnomer (index schema "
                          f"{index.rebuilt_from}); building it again")
        try:
            summary = _Run(options, root, index, reporter).run()
        finally:
            index.close()
    summary.seconds = time.monotonic() - started
    return summary


class _Run:
    def __init__(self, options: IndexOptions, root: Path, index: Index,
                 reporter: Reporter) -> None:
        self.options = options
        self.root = root
        self.index = index
        self.reporter = reporter
        self.summary = IndexSummary()
        self.jobs = options.jobs or os.cpu_count() or 1
        self.table = PrimitiveTable(options.config.primitives or None)

    def run(self) -> IndexSummary:
        opts, index, summary = self.options, self.index, self.summary
        found = discover(self.root, opts.excludes + opts.config.exclude)
        summary.files = len(found.files)
        summary.skipped.extend(found.problems)
        stored = index.files()
        fingerprint = f"{code_fingerprint()}:{self.table.fingerprint}"
        if stored and index.meta("parse_fingerprint") != fingerprint:
            # Another version of the extraction code or of the primitives: every file's rows
            # must be made again.
            self.reporter.note("the index was built by other extraction code or primitives; "
                               "re-indexing every file")
            index.conn.execute("UPDATE files SET mtime_ns = -1, sha1 = NULL")
            index.set_meta("analysis_state", "stale")  # stored facts are another code's
            stored = index.files()
        index.set_meta("parse_fingerprint", fingerprint)
        to_read: list[str] = []
        present = set(found.files)
        for rel in found.files:
            row = stored.get(rel)
            try:
                st = os.stat(self.root / rel)
            except OSError:
                present.discard(rel)  # vanished between listing and stat: deleted below
                summary.skipped.append((rel, "disappeared while indexing"))
                continue
            if row is not None and row.size == st.st_size and row.mtime_ns == st.st_mtime_ns \
                    and not _retry(row, st.st_size, opts.max_file_size):
                if row.status == "skipped":
                    summary.skipped.append((rel, row.reason or "skipped"))
                else:
                    summary.unchanged += 1
            else:
                to_read.append(rel)
        summary.files = len(present)
        deleted = [row for path, row in stored.items() if path not in present]

        writer = Writer(index, first_run=not stored)
        analysis_stale = index.meta("analysis_state") != "ok" or \
            index.meta("primitives_fingerprint") != self.table.fingerprint or \
            index.meta("analysis_fingerprint") != analysis_fingerprint()
        if analysis_stale:
            writer.track_changes = False  # a full analysis follows anyway
        try:
            if deleted:
                with writer.transaction():
                    writer.mark_stale()
                    for row in deleted:
                        writer.delete_file(row.id)
                summary.removed = len(deleted)
            hint_results = self._hints(to_read, stored, writer) if to_read else {}
            knowledge = self._knowledge(hint_results)
            to_parse = [r.path for r in hint_results.values() if r.status == "changed"]
            to_parse += self._reparse_for_macros(knowledge, stored, set(to_parse))
            if len(to_parse) > max(2000, len(present) // 10):
                writer.track_changes = False  # too much changed: analyse everything afresh
            if to_parse:
                # Largest first, so that no process is left with a big file at the end.
                sizes = {p: r.size for p, r in hint_results.items()}
                to_parse = sorted(set(to_parse), key=lambda p: (-sizes.get(p, 0), p))
                self._parse(to_parse, knowledge, writer)
            if to_parse or deleted or analysis_stale:
                writer.finish_bulk()
                self._analyse(writer, analysis_stale)
            else:
                summary.analysis = "none"
        except KeyboardInterrupt:
            writer.abort()
            raise Interrupted(f"interrupted: {writer.files_written:,} files were indexed; the "
                              f"index is consistent and the next run resumes") from None
        counts = index.counts()
        summary.functions = counts["functions"]
        summary.macros = counts["macros"]
        summary.error_functions = index.conn.execute(
            "SELECT coalesce(sum(error_functions), 0) FROM files").fetchone()[0]
        summary.skipped.extend(writer.skipped)
        summary.generated = index.conn.execute(
            "SELECT count(*) FROM files WHERE reason LIKE 'generated header%'").fetchone()[0]
        summary.parsed = writer.files_parsed
        return summary

    def _analyse(self, writer: Writer, stale_before: bool) -> None:
        """Incremental when this run's changes are all we need to account for, else full."""
        index, summary = self.index, self.summary
        if not stale_before and not writer.first_run and writer.track_changes and \
                writer.changes:
            try:
                summary.analysed = analyze_changes(index, self.table, writer.changes)
                summary.analysis = "incremental"
            except NeedFullAnalysis as why:
                self.reporter.note(f"analysing the whole tree: {why}")
        if summary.analysis != "incremental":
            summary.analysis = "full"
            summary.analysed = analyze(index, self.table, self.reporter)
        index.set_meta("primitives_fingerprint", self.table.fingerprint)
        index.set_meta("analysis_fingerprint", analysis_fingerprint())
        index.set_meta("analysis_state", "ok")

    # --- phase one: hashes and macro hints -------------------------------------------------
    def _hints(self, paths: list[str], stored: dict, writer: Writer) -> dict:
        results: dict[str, worker.FileResult] = {}
        unchanged_content = []
        with self._pool(None) as pool, self.reporter.phase("scanning", len(paths)):
            for res in pool.imap_unordered(worker.hints, paths, chunksize=_chunk(paths, self.jobs)):
                self.reporter.advance(1, res.size)
                row = stored.get(res.path)
                if res.status == "scanned":
                    if row is not None and row.sha1 == res.sha1 and row.status != "skipped":
                        unchanged_content.append((res, row))
                        res.status = "same"
                    else:
                        res.status = "changed"
                results[res.path] = res
        if unchanged_content:
            with writer.transaction():
                for res, row in unchanged_content:
                    writer.touch(row.id, res.size, res.mtime_ns)
            self.summary.unchanged += len(unchanged_content)
        problems = [r for r in results.values() if r.status in ("skipped", "vanished")]
        if problems:
            with writer.transaction():
                writer.mark_stale()
                for res in problems:
                    writer.record_problem(res, stored.get(res.path))
        return results

    def _knowledge(self, hint_results: dict) -> MacroKnowledge:
        """What the rewrite must neutralise: built-ins plus every file's macro hints.  Learning
        it reads every #define of the tree (seconds on Linux), so when no file's hints changed
        the knowledge stored by the last run is taken as it is."""
        fresh = {path: res.hints for path, res in hint_results.items() if res.status == "changed"}
        base = builtin_knowledge(self.options.config.macros or None)
        stored = self.index.meta("macro_knowledge")
        if stored is not None and self.index.meta("macro_knowledge_base") == base.fingerprint() \
                and len(fresh) <= _REUSE_KNOWLEDGE_MAX and self._same_hints(fresh):
            known = base.copy()
            data = json.loads(stored)
            for name in MacroKnowledge.SETS:
                setattr(known, name, set(data.get(name, ())))
            return known
        rows = self.index.hints_except(set(fresh))
        for path, hints in fresh.items():
            rows.extend((path, *h) for h in hints)
        in_headers = {name for path, name, _, _ in rows if not path.endswith(".c")}
        private = {name for _, name, _, _ in rows} - in_headers
        self.index.set_meta("macro_knowledge_base", base.fingerprint())
        return learn_macros([row[1:] for row in rows], base, private)

    def _same_hints(self, fresh: dict) -> bool:
        """Are the new macro hints of these files the ones the index holds for them?"""
        for path, hints in fresh.items():
            old = self.index.conn.execute(
                "SELECT h.name, h.params, h.body FROM macro_hints h JOIN files ON "
                "files.id = h.file_id WHERE files.path = ?", (path,)).fetchall()
            if sorted(old, key=repr) != sorted((tuple(h) for h in hints), key=repr):
                return False
        return True

    def _reparse_for_macros(self, knowledge: MacroKnowledge, stored: dict,
                            already: set[str]) -> list[str]:
        """Files whose rewrite changes because the tree's iterators or attributes changed."""
        previous = self.index.meta("macro_knowledge")
        self.index.set_meta("macro_knowledge", _knowledge_json(knowledge))
        if previous is None or not stored:
            return []
        old = json.loads(previous)
        new = json.loads(_knowledge_json(knowledge))
        changed = set()
        for key in new:
            changed |= set(old.get(key, [])) ^ set(new[key])
        if not changed:
            return []
        candidates = [p for p, row in stored.items()
                      if p not in already and row.status == "parsed"]
        self.reporter.note(f"{len(changed)} iterator/attribute macro(s) changed; looking for "
                           f"files that use them")
        hits = []
        with self._pool(None) as pool:
            args = [(p, sorted(changed)) for p in candidates]
            for path, uses in pool.imap_unordered(worker.uses_any, args,
                                                  chunksize=_chunk(args, self.jobs)):
                if uses:
                    hits.append(path)
        return hits

    # --- phase two: parse -----------------------------------------------------------------------
    def _parse(self, paths: list[str], knowledge: MacroKnowledge, writer: Writer) -> None:
        with writer.transaction():
            writer.mark_stale()
        with self._pool(knowledge) as pool, self.reporter.phase("indexing", len(paths)):
            batch = writer.batch()
            for res in pool.imap_unordered(worker.parse, paths, chunksize=_chunk(paths, self.jobs)):
                batch.add(res)
                self.reporter.advance(1, res.size)
            batch.flush()

    def _pool(self, knowledge: MacroKnowledge | None):
        ctx = multiprocessing.get_context("fork" if "fork" in
                                          multiprocessing.get_all_start_methods() else "spawn")
        return ctx.Pool(self.jobs, initializer=worker.init, initargs=(
            str(self.root), self.options.max_file_size, self.options.all_macros, knowledge,
            self.options.config.primitives or None))


def _retry(row, size: int, max_bytes: int) -> bool:
    """A file skipped as too large is worth reading again once the limit allows it."""
    return row.status == "skipped" and (row.reason or "").startswith("too large") and \
        size <= max_bytes


def _chunk(items: list, jobs: int) -> int:
    return max(1, min(64, len(items) // (jobs * 16) or 1))


_REUSE_KNOWLEDGE_MAX = 200  # changed files whose hints are compared one by one


def _knowledge_json(k: MacroKnowledge) -> str:
    return json.dumps({name: sorted(getattr(k, name)) for name in MacroKnowledge.SETS})
