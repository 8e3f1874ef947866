"""Opening the index and reading it back.  Writing during indexing lives in ``writer.py``."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..errors import IncompatibleIndex, IndexMissing, MisnomerError
from .schema import INDEXES, SCHEMA_VERSION, TABLES, VIEWS

DEFAULT_DB = Path(".misnomer") / "index.db"

FUNCTION_COLUMNS = ("id", "file_id", "name", "line", "column", "start_line", "end_line",
                    "is_static", "is_inline", "is_exported", "return_type", "return_kind",
                    "signature", "has_error", "variant", "defined_by", "is_callback",
                    "own_effects", "callees", "returned", "shape_inputs")


@dataclass(frozen=True, slots=True)
class FileRow:
    id: int
    path: str
    size: int
    mtime_ns: int
    sha1: str | None
    status: str
    reason: str | None


@dataclass(frozen=True, slots=True)
class FunctionRow:
    """A function as stored (FUNCTION_COLUMNS), with its file's path and hash."""

    id: int
    file_id: int
    name: str
    line: int
    column: int
    start_line: int
    end_line: int
    is_static: bool
    is_inline: bool
    is_exported: bool
    return_type: str
    return_kind: str
    signature: str
    has_error: bool
    variant: str
    defined_by: str
    is_callback: bool
    own_effects: int
    callees: str  # JSON
    returned: str  # JSON
    shape_inputs: str  # JSON
    path: str
    sha1: str | None

    @property
    def visible(self) -> bool:
        """Callable from other files: not static, or defined in a header."""
        return not self.is_static or self.path.endswith(".h")


def connect(path: Path, wait: float = 60.0) -> sqlite3.Connection:
    try:
        conn = sqlite3.connect(str(path), timeout=wait, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout={int(wait * 1000)}")
        _journal_mode_wal(conn, wait)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA temp_store=MEMORY")
        conn.execute("PRAGMA cache_size=-65536")
    except sqlite3.DatabaseError as exc:
        raise IncompatibleIndex(f"{path} is not a usable SQLite database ({exc}); name another "
                                f"file with --db, or delete it and run `misnomer index`") from exc
    return conn


def recorded_root(path: Path) -> Path | None:
    """The tree an index file was built for (any schema version), or None."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = 'root'").fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return Path(row[0]) if row else None


def _journal_mode_wal(conn: sqlite3.Connection, wait: float) -> None:
    """Switching to WAL needs the database to itself, and SQLite does not wait for that on its
    own: another process writing a new database answers 'database is locked' at once."""
    deadline = time.monotonic() + wait
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.1)


class Index:
    """An open index database."""

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self.conn = conn
        self.rebuilt_from: int | None = None  # the older schema an index was rebuilt from

    # --- opening -------------------------------------------------------------------------
    @classmethod
    def create_or_open(cls, path: Path, root: Path) -> Index:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MisnomerError(f"cannot create the index's directory {path.parent} "
                                f"({exc.strerror or exc}); choose another place with --db") from exc
        if path.is_dir():
            raise MisnomerError(f"{path} is a directory; --db names the index file")
        conn = connect(path)
        index = cls(path, conn)
        found = index._schema_version()
        if found is None:
            conn.executescript(TABLES + VIEWS)
            index.set_meta("schema_version", str(SCHEMA_VERSION))
            index.set_meta("misnomer_version", __version__)
            index.set_meta("root", str(root))
        elif 0 < found < SCHEMA_VERSION:
            # an index from an older misnomer is a cache: build it again
            conn.close()
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
            conn = connect(path)
            index = cls(path, conn)
            conn.executescript(TABLES + VIEWS)
            index.set_meta("schema_version", str(SCHEMA_VERSION))
            index.set_meta("misnomer_version", __version__)
            index.set_meta("root", str(root))
            index.rebuilt_from = found
        elif found != SCHEMA_VERSION:
            conn.close()
            raise IncompatibleIndex(
                f"{path} was written by another version of misnomer (index schema {found}, "
                f"this version reads schema {SCHEMA_VERSION}); delete it and run "
                f"`misnomer index` again")
        else:
            conn.executescript(TABLES + VIEWS)  # caches added within a schema version
        return index

    @classmethod
    def open_existing(cls, path: Path) -> Index:
        if not path.exists():
            raise IndexMissing(f"no index at {path}; run `misnomer index PATH` first "
                               f"(or name one with --db)")
        conn = connect(path)
        index = cls(path, conn)
        found = index._schema_version()
        if found is None:
            conn.close()
            raise IndexMissing(f"{path} is not a misnomer index (or it was never completed); "
                               f"run `misnomer index PATH`")
        if found != SCHEMA_VERSION:
            conn.close()
            raise IncompatibleIndex(
                f"{path} was written by another version of misnomer (index schema {found}, "
                f"this version reads schema {SCHEMA_VERSION}); delete it and run "
                f"`misnomer index` again")
        try:
            conn.executescript(TABLES + VIEWS)  # caches added within a schema version
        except sqlite3.OperationalError:
            pass  # read-only, or busy: the reader does without the caches
        return index

    def _schema_version(self) -> int | None:
        try:
            row = self.conn.execute(
                "SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        except sqlite3.DatabaseError as exc:
            if "no such table" in str(exc):
                return None
            raise IncompatibleIndex(f"{self.path} is not a usable SQLite database ({exc}); "
                                    f"delete it and run `misnomer index` again") from exc
        if not row:
            return None
        try:
            return int(row[0])
        except ValueError:
            return -1  # unreadable: reported as another version

    def close(self) -> None:
        self.conn.close()

    def ensure_indexes(self) -> None:
        self.conn.executescript(INDEXES)

    # --- meta ----------------------------------------------------------------------------
    def meta(self, key: str, default: str | None = None) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    @property
    def root(self) -> Path:
        return Path(self.meta("root") or ".")

    # --- reading -------------------------------------------------------------------------
    def files(self) -> dict[str, FileRow]:
        return {r[1]: FileRow(*r) for r in self.conn.execute(
            "SELECT id, path, size, mtime_ns, sha1, status, reason FROM files")}

    def function_ids_named(self, name: str) -> list[int]:
        return [r[0] for r in self.conn.execute(
            "SELECT id FROM functions WHERE name = ? ORDER BY file_id, line", (name,))]

    def function(self, function_id: int) -> FunctionRow:
        row = self.conn.execute(
            f"SELECT {', '.join('f.' + c for c in FUNCTION_COLUMNS)}, files.path, files.sha1 "
            f"FROM functions f JOIN files ON files.id = f.file_id WHERE f.id = ?",
            (function_id,)).fetchone()
        if row is None:
            raise KeyError(function_id)
        return FunctionRow(*row)

    def callers(self, name: str) -> list[int]:
        row = self.conn.execute("SELECT function_ids FROM callers WHERE name = ?",
                                (name,)).fetchone()
        return json.loads(row[0]) if row else []

    def verdict(self, function_id: int) -> tuple[str, int, float] | None:
        return self.conn.execute(
            "SELECT shape, effects, confidence FROM analysis WHERE function_id = ?",
            (function_id,)).fetchone()

    def hints_except(self, paths: set[str]) -> list[tuple[str, str, str | None, str]]:
        """Macro hints of every indexed file but ``paths``, as (path, name, params, body)."""
        rows = self.conn.execute(
            "SELECT files.path, h.name, h.params, h.body FROM macro_hints h "
            "JOIN files ON files.id = h.file_id")
        return [row for row in rows if row[0] not in paths]

    def names_like(self, pattern: str, limit: int = 2000) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT DISTINCT name FROM functions WHERE name LIKE ? LIMIT ?", (pattern, limit))]

    def counts(self) -> dict[str, int]:
        c = self.conn
        return {
            "files": c.execute("SELECT count(*) FROM files").fetchone()[0],
            "functions": c.execute("SELECT count(*) FROM functions").fetchone()[0],
            "macros": c.execute("SELECT count(*) FROM macros").fetchone()[0],
        }
