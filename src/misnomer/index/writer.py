"""The single writer: file results into the index, in batched transactions.

A file's old rows are deleted and its new rows inserted in the same transaction, so a file is
either fully indexed or not at all; Ctrl-C rolls back the open batch only.
"""

from __future__ import annotations

import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from .store import Index
from .worker import FileResult


@dataclass(frozen=True, slots=True)
class OldFunction:
    """A function as it was before its file changed (what incremental analysis compares)."""

    id: int
    name: str
    file_id: int
    is_static: int
    path: str
    own_effects: int
    callees: str
    returned: str
    shape_inputs: str
    shape: str | None
    effects: int | None
    confidence: float | None


@dataclass
class ChangeLog:
    """What this run changed, for incremental analysis."""

    removed: list[OldFunction] = field(default_factory=list)
    added: list[int] = field(default_factory=list)  # new function ids
    macro_names: set[str] = field(default_factory=set)  # macros defined or undefined

    def __bool__(self) -> bool:
        return bool(self.removed or self.added or self.macro_names)

_BATCH_FILES = 400
_BATCH_SECONDS = 3.0


class Writer:
    def __init__(self, index: Index, first_run: bool) -> None:
        self.index = index
        self.conn: sqlite3.Connection = index.conn
        self.first_run = first_run
        self.files_written = 0
        self.files_parsed = 0
        self.skipped: list[tuple[str, str]] = []
        self._in_tx = False
        self.changes = ChangeLog()
        self.track_changes = not first_run
        self.file_ids = {path: fid for fid, path in self.conn.execute(
            "SELECT id, path FROM files")}
        self.next_file_id = (self.conn.execute("SELECT max(id) FROM files").fetchone()[0] or 0) + 1
        self.next_function_id = (self.conn.execute(
            "SELECT max(id) FROM functions").fetchone()[0] or 0) + 1
        if first_run:
            # Secondary indexes are built once after the bulk load: far cheaper than keeping
            # them up to date row by row.
            for name in ("functions_name", "functions_file", "macros_name", "macros_file",
                         "macro_hints_file"):
                self.conn.execute(f"DROP INDEX IF EXISTS {name}")

    @contextmanager
    def transaction(self):
        self.conn.execute("BEGIN IMMEDIATE")
        self._in_tx = True
        try:
            yield
        except BaseException:
            self.conn.execute("ROLLBACK")
            self._in_tx = False
            raise
        self.conn.execute("COMMIT")
        self._in_tx = False

    def abort(self) -> None:
        if self._in_tx:
            self.conn.execute("ROLLBACK")
            self._in_tx = False

    def mark_stale(self) -> None:
        self.index.set_meta("analysis_state", "stale")

    def finish_bulk(self) -> None:
        self.index.ensure_indexes()

    # --- rows ----------------------------------------------------------------------------
    def delete_contents(self, file_id: int) -> None:
        if self.first_run:
            return
        c = self.conn
        if self.track_changes:
            self._remember(file_id)
        c.execute("DELETE FROM analysis WHERE function_id IN "
                  "(SELECT id FROM functions WHERE file_id = ?)", (file_id,))
        c.execute("DELETE FROM functions WHERE file_id = ?", (file_id,))
        c.execute("DELETE FROM macros WHERE file_id = ?", (file_id,))
        c.execute("DELETE FROM macro_hints WHERE file_id = ?", (file_id,))

    def _remember(self, file_id: int) -> None:
        """What incremental analysis compares against: the file's functions and macros."""
        c = self.conn
        self.changes.removed.extend(OldFunction(*row) for row in c.execute(
            "SELECT f.id, f.name, f.file_id, f.is_static, files.path, f.own_effects, f.callees, "
            "f.returned, f.shape_inputs, a.shape, a.effects, a.confidence FROM functions f "
            "JOIN files ON files.id = f.file_id LEFT JOIN analysis a ON a.function_id = f.id "
            "WHERE f.file_id = ?", (file_id,)))
        self.changes.macro_names.update(r[0] for r in c.execute(
            "SELECT name FROM macros WHERE file_id = ?", (file_id,)))

    def delete_file(self, file_id: int) -> None:
        self.delete_contents(file_id)
        self.conn.execute("DELETE FROM files WHERE id = ?", (file_id,))
        self.file_ids = {p: i for p, i in self.file_ids.items() if i != file_id}

    def touch(self, file_id: int, size: int, mtime_ns: int) -> None:
        self.conn.execute("UPDATE files SET size = ?, mtime_ns = ? WHERE id = ?",
                          (size, mtime_ns, file_id))

    def record_problem(self, res: FileResult, stored_row) -> None:
        if res.status == "vanished":
            if stored_row is not None:
                self.delete_file(stored_row.id)
            self.skipped.append((res.path, res.reason or "vanished"))
            return
        self._file_row(res)
        self.skipped.append((res.path, res.reason or "skipped"))

    def _file_row(self, res: FileResult) -> int:
        fid = self.file_ids.get(res.path)
        values = (res.size, res.mtime_ns, res.sha1, res.status, res.reason, len(res.functions),
                  res.macro_count, int(res.has_errors), res.error_functions)
        if fid is None:
            fid = self.next_file_id
            self.next_file_id += 1
            self.file_ids[res.path] = fid
            self.conn.execute(
                "INSERT INTO files(id, path, size, mtime_ns, sha1, status, reason, functions, "
                "macros, parse_errors, error_functions) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (fid, res.path) + values)
        else:
            self.delete_contents(fid)
            self.conn.execute(
                "UPDATE files SET size = ?, mtime_ns = ?, sha1 = ?, status = ?, reason = ?, "
                "functions = ?, macros = ?, parse_errors = ?, error_functions = ? WHERE id = ?",
                values + (fid,))
        return fid

    def write(self, results: list[FileResult]) -> None:
        """Write a batch of parse results (the caller holds the transaction)."""
        functions, macros, hints = [], [], []
        for res in results:
            if res.status in ("skipped", "vanished"):
                self.record_problem(res, None if res.path not in self.file_ids else
                                    _Stored(self.file_ids[res.path]))
                continue
            fid = self._file_row(res)
            for row in res.functions:
                functions.append((self.next_function_id, fid) + row)
                if self.track_changes:
                    self.changes.added.append(self.next_function_id)
                self.next_function_id += 1
            if self.track_changes:
                self.changes.macro_names.update(m[0] for m in res.macros)
            macros.extend((fid,) + m for m in res.macros)
            hints.extend((fid,) + h for h in res.hints)
        c = self.conn
        c.executemany(
            "INSERT INTO functions(id, file_id, name, line, column, start_line, end_line, "
            "is_static, is_inline, is_exported, return_type, return_kind, signature, has_error, "
            "variant, defined_by, is_callback, own_effects, callees, returned, shape_inputs, "
            f"callee_args) VALUES ({', '.join('?' * 22)})", functions)
        c.executemany("INSERT INTO macros(file_id, name, line, column, params, body) "
                      "VALUES (?, ?, ?, ?, ?, ?)", macros)
        c.executemany("INSERT INTO macro_hints(file_id, name, params, body) VALUES (?, ?, ?, ?)",
                      hints)

    def batch(self) -> _Batch:
        return _Batch(self)


class _Stored:
    def __init__(self, fid: int) -> None:
        self.id = fid


class _Batch:
    """Collects results and writes them a few hundred files (or seconds) at a time."""

    def __init__(self, writer: Writer) -> None:
        self.writer = writer
        self.pending: list[FileResult] = []
        self.since = time.monotonic()

    def add(self, res: FileResult) -> None:
        self.pending.append(res)
        if len(self.pending) >= _BATCH_FILES or time.monotonic() - self.since > _BATCH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            with self.writer.transaction():
                self.writer.write(self.pending)
            done = sum(1 for r in self.pending if r.status not in ("skipped", "vanished"))
            self.writer.files_written += done
            self.writer.files_parsed += done
            self.pending = []
        self.since = time.monotonic()
