"""What runs in the indexing processes: read a file, and scan or parse it.

Each task returns plain tuples ready for the writer (pickling objects would cost the main
process, the single writer, more than the tuples).  Nothing here touches the database.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import stat
from dataclasses import dataclass, field

from ..analysis.local import summarize
from ..analysis.primitives import PrimitiveTable
from ..c.frontend import CFrontEnd
from ..c.macros import MacroKnowledge, scan_hints
from ..facts import Region

_INDIRECT = int(Region.INDIRECT)
GENERATED_DEFINES = 2000
MIB = 1024 * 1024  # a brace-less header with more #defines than this is generated
_JSON = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False).encode


@dataclass
class FileResult:
    path: str
    status: str  # 'parsed', 'macros', 'skipped', 'vanished'
    reason: str | None = None
    size: int = 0
    mtime_ns: int = 0
    sha1: str | None = None
    has_errors: bool = False
    functions: list[tuple] = field(default_factory=list)  # functions table rows, no ids
    macros: list[tuple] = field(default_factory=list)
    hints: list[tuple] = field(default_factory=list)
    macro_count: int = 0
    error_functions: int = 0


@dataclass
class _State:
    root: str = ""
    max_bytes: int = 0
    all_macros: bool = False
    front: CFrontEnd | None = None
    table: PrimitiveTable | None = None


_state = _State()


def init(root: str, max_bytes: int, all_macros: bool, knowledge: MacroKnowledge | None,
         primitives_extra: dict | None) -> None:
    """Pool initializer: Ctrl-C is the main process's business; compile things once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _state.root = root
    _state.max_bytes = max_bytes
    _state.all_macros = all_macros
    if knowledge is not None:
        _state.table = PrimitiveTable(primitives_extra)
        _state.front = CFrontEnd(knowledge, _state.table.argument_free())


def _read(path: str) -> tuple[bytes | None, FileResult | None, os.stat_result | None]:
    full = os.path.join(_state.root, path)
    try:
        st = os.stat(full)
        if not stat.S_ISREG(st.st_mode):
            what = "is a directory" if stat.S_ISDIR(st.st_mode) else \
                "not a regular file (a FIFO, socket or device)"
            return None, FileResult(path, "skipped", what, 0, st.st_mtime_ns), st
        if st.st_size > _state.max_bytes:
            return None, FileResult(path, "skipped", f"too large ({st.st_size / MIB:.1f} MiB; "
                                    f"the limit is {_state.max_bytes / MIB:g} MiB, "
                                    f"--max-file-size)", st.st_size, st.st_mtime_ns), st
        with open(full, "rb") as fh:
            data = fh.read(_state.max_bytes + 1)
    except FileNotFoundError:
        return None, FileResult(path, "vanished", "disappeared while indexing"), None
    except PermissionError:
        return None, FileResult(path, "skipped", "not readable (permission denied)"), None
    except IsADirectoryError:
        return None, FileResult(path, "skipped", "is a directory"), None
    except OSError as exc:
        return None, FileResult(path, "skipped", f"not readable ({exc.strerror or exc})"), None
    return data, None, st


def hints(path: str) -> FileResult:
    """Phase one: the file's hash and the #defines the rewrite must learn from."""
    data, problem, st = _read(path)
    if problem is not None:
        return problem
    result = FileResult(path, "scanned", size=len(data), mtime_ns=st.st_mtime_ns,
                        sha1=hashlib.sha1(data).hexdigest())
    if b"\0" not in data:
        result.hints = scan_hints(data)
    return result


def parse(path: str) -> FileResult:
    """Phase two: the file's facts as rows for the index."""
    data, problem, st = _read(path)
    if problem is not None:
        return problem
    result = FileResult(path, "parsed", size=len(data), mtime_ns=st.st_mtime_ns,
                        sha1=hashlib.sha1(data).hexdigest())
    nul = data.find(b"\0")
    if nul >= 0:
        result.status = "skipped"
        result.reason = f"binary file (NUL byte at offset {nul})"
        return result
    result.hints = scan_hints(data)
    if b"{" not in data:
        defines = data.count(b"#define")
        if defines > GENERATED_DEFINES and not _state.all_macros:
            result.status = "macros"
            result.reason = (f"generated header: {defines} #defines not listed one by one "
                             f"(--all-macros lists them)")
            result.macro_count = defines
            return result
    facts = _state.front.facts(data)
    result.macros = facts.macro_rows
    result.macro_count = len(facts.macro_rows)
    result.has_errors = facts.has_errors
    if not facts.parsed:
        result.status = "macros"
        return result
    table = _state.table
    rows = result.functions
    for ff in facts.functions:
        local = summarize(ff, table)
        if ff.has_error:
            result.error_functions += 1
        callees = sorted({r[0] for r in ff.call_rows if not r[3] & _INDIRECT})
        args = [local.callee_args.get(c, "") for c in callees] if local.callee_args else None
        rows.append((
            ff.name, ff.line, ff.column, ff.start_line, ff.end_line, int(ff.is_static),
            int(ff.is_inline), int(ff.is_exported), ff.return_type, ff.return_kind, ff.signature,
            int(ff.has_error), ff.variant, ff.defined_by, int(ff.is_callback), int(local.effects),
            _JSON(callees), _JSON(local.returned), local.inputs.to_json(),
            _JSON(args) if args else "[]"))
    return result


def uses_any(task: tuple[str, list[str]]) -> tuple[str, bool]:
    """Does the file mention any of the names (whole words)?"""
    path, names = task
    data, problem, _ = _read(path)
    if problem is not None:
        return path, True  # let the parse phase report it
    pattern = re.compile(rb"(?<![\w$])(?:" + b"|".join(re.escape(n.encode()) for n in names)
                         + rb")(?![\w$])")
    return path, pattern.search(data) is not None
