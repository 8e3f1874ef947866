"""Progress on stderr (stdout stays machine-readable): a rich bar for long work, or nothing."""

from __future__ import annotations

import sys
import time
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (BarColumn, Progress, ProgressColumn, Task, TextColumn,
                           TimeRemainingColumn)
from rich.text import Text


class _RateColumn(ProgressColumn):
    """files/s and MB/s."""

    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        if elapsed <= 0:
            return Text("")
        files = task.completed / elapsed
        mb = task.fields.get("bytes", 0) / elapsed / 1e6
        return Text(f"{files:,.0f} files/s  {mb:,.1f} MB/s", style="progress.data.speed")


class Reporter:
    """Progress and notes for one command.  ``quiet`` keeps only warnings."""

    def __init__(self, quiet: bool = False, console: Console | None = None) -> None:
        self.quiet = quiet
        self.console = console or Console(stderr=True, highlight=False)
        self._progress: Progress | None = None
        self._task = None
        self._bytes = 0

    def note(self, message: str) -> None:
        if not self.quiet:
            self.console.print(message, markup=False)

    def warn(self, message: str) -> None:
        self.console.print(f"warning: {message}", markup=False, style="yellow")

    @contextmanager
    def phase(self, description: str, total: int):
        """A progress bar over ``total`` items, shown when stderr is a terminal."""
        if self.quiet or total == 0 or not self.console.is_terminal:
            started = time.monotonic()
            self._progress = None
            yield self
            if not self.quiet and total and time.monotonic() - started > 2 and \
                    not self.console.is_terminal:
                print(f"{description}: {total} done in {time.monotonic() - started:.1f} s",
                      file=sys.stderr)
            return
        self._bytes = 0
        with Progress(TextColumn("{task.description}"), BarColumn(),
                      TextColumn("{task.completed:,}/{task.total:,}"), _RateColumn(),
                      TimeRemainingColumn(), console=self.console, transient=True) as progress:
            self._progress = progress
            self._task = progress.add_task(description, total=total, bytes=0)
            try:
                yield self
            finally:
                self._progress = None

    def advance(self, items: int = 1, nbytes: int = 0) -> None:
        if self._progress is not None:
            self._bytes += nbytes
            self._progress.update(self._task, advance=items, bytes=self._bytes)
