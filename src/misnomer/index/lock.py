"""One writer per index: an advisory lock beside the database file.

A second `misnomer index` on the same database waits for the first (saying so), up to a limit.
Readers (explain, lexicon, check without re-indexing) do not take the lock: SQLite's WAL mode
gives them a consistent snapshot.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path

from ..errors import IndexBusy

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None


class IndexLock:
    def __init__(self, db_path: Path, wait_seconds: float,
                 on_wait: Callable[[str], None] | None = None) -> None:
        self.path = db_path.with_name(db_path.name + ".lock")
        self.wait_seconds = wait_seconds
        self.on_wait = on_wait
        self.fd: int | None = None

    def __enter__(self) -> IndexLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise IndexBusy(f"cannot create the lock file {self.path} ({exc.strerror or exc}); "
                            f"choose another place for the index with --db") from exc
        if fcntl is None:  # pragma: no cover
            return self
        deadline = time.monotonic() + self.wait_seconds
        told = False
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                holder = self._holder()
                if not told and self.on_wait is not None:
                    self.on_wait(f"another misnomer run is writing this index{holder}; waiting "
                                 f"for it to finish (up to {self.wait_seconds:.0f} s)")
                    told = True
                if time.monotonic() >= deadline:
                    os.close(self.fd)
                    self.fd = None
                    raise IndexBusy(f"another misnomer run is still writing {self.path.name[:-5]}"
                                    f"{holder}; try again when it has finished") from None
                time.sleep(0.2)
        os.ftruncate(self.fd, 0)
        os.write(self.fd, str(os.getpid()).encode())
        return self

    def _holder(self) -> str:
        try:
            pid = self.path.read_text().strip()
        except OSError:
            return ""
        return f" (process {pid})" if pid else ""

    def __exit__(self, *exc: object) -> None:
        if self.fd is not None:
            try:
                os.ftruncate(self.fd, 0)
            except OSError:
                pass
            if fcntl is not None:
                fcntl.flock(self.fd, fcntl.LOCK_UN)
            os.close(self.fd)
            self.fd = None
