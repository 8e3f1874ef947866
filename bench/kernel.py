#!/usr/bin/env python3
"""Speed benchmark of `misnomer index` on the whole Linux 6.1 tree, beside baselines measured in
the same run on the same file list.

Steps (each a subprocess, measured the same way):
  (a) universal-ctags:      ctags -L FILELIST -f TMPFILE
  (b) tree-sitter parse:    read + parse every file with tree_sitter/tree_sitter_c on --jobs
                            processes, nothing else (the floor for any tree-sitter indexer)
  (b2) front-end floor:     misnomer's rewrite, the parse and the captures of its query as
                            Python objects, and no extraction: the floor of any extractor
                            written in Python over py-tree-sitter
  (c) misnomer index:       from scratch into a fresh database
  (d) misnomer index:       again, nothing changed
  (e) misnomer index:       after appending a comment to one .c file (restored afterwards, even
                            on failure or Ctrl-C; then re-indexed so the index matches the tree)
  (f) misnomer explain kvm_mmu_reload --format json: median of 5, and the shape it reports
  (g) from the database: functions, files, share of definitions with parse errors

Memory: peak RSS of the biggest single process (GNU time's "Maximum resident set size"), and
the peak over time of the summed RSS and PSS of the whole process tree (parent + workers),
sampled from /proc every 0.5 s (every 0.1 s during the first 2 s).

Do not run on the full tree on a machine someone else is measuring on; use --subset N.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import fetch_kernel  # noqa: E402

CHANGE_COMMENT = b"\n/* misnomer-bench: a harmless change, removed after the benchmark */\n"
PREFERRED_CHANGE_FILE = "arch/x86/kvm/mmu/mmu.c"
DEFAULT_EXPLAIN = "kvm_mmu_reload"
SHAPES = ("query", "check", "ensure", "action", "empty")


def _reexec_in_venv() -> None:
    """Run under the project's venv when this interpreter lacks tree_sitter or misnomer."""
    try:
        import misnomer  # noqa: F401
        import tree_sitter  # noqa: F401
        import tree_sitter_c  # noqa: F401
        return
    except ImportError:
        pass
    venv_python = REPO / ".venv" / "bin" / "python"
    in_venv = Path(sys.prefix).resolve() == (REPO / ".venv").resolve()
    if venv_python.exists() and not in_venv and not os.environ.get("MISNOMER_BENCH_REEXEC"):
        os.environ["MISNOMER_BENCH_REEXEC"] = "1"
        os.execv(str(venv_python), [str(venv_python), str(Path(__file__).resolve()),
                                    *sys.argv[1:]])
    sys.exit("kernel.py: needs tree_sitter, tree_sitter_c and misnomer importable; run it with "
             "the project's venv: .venv/bin/python bench/kernel.py")


# --------------------------------------------------------------------------------------------
# Measuring a process tree


def _proc_children() -> dict[int, list[int]]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as fh:
                stat = fh.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1:
            children.setdefault(int(fields[1]), []).append(int(entry))
    return children


def _read_kb(path: str, key: bytes) -> int | None:
    try:
        with open(path, "rb") as fh:
            for line in fh:
                if line.startswith(key):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


class TreeSampler(threading.Thread):
    """Samples the RSS/PSS of a process and all its descendants until stopped."""

    def __init__(self, root_pid: int, skip_root: bool, interval: float) -> None:
        super().__init__(daemon=True)
        self.root_pid = root_pid
        self.skip_root = skip_root  # the root is /usr/bin/time: not part of what we measure
        self.interval = interval
        self.stop_event = threading.Event()
        self.peak_sum_rss = 0
        self.peak_sum_pss: int | None = None
        self.peak_single_rss = 0
        self.peak_procs = 0
        self.samples = 0
        self.available = os.path.isdir("/proc/self")

    def run(self) -> None:
        if not self.available:
            return
        started = time.monotonic()
        while not self.stop_event.is_set():
            self.sample()
            fast = time.monotonic() - started < 2.0
            self.stop_event.wait(min(0.1, self.interval) if fast else self.interval)

    def sample(self) -> None:
        children = _proc_children()
        todo, pids = [self.root_pid], []
        while todo:
            pid = todo.pop()
            pids.append(pid)
            todo.extend(children.get(pid, ()))
        if self.skip_root:
            pids = pids[1:]
        rss_sum, pss_sum, pss_ok, biggest, alive = 0, 0, True, 0, 0
        for pid in pids:
            rss = _read_kb(f"/proc/{pid}/status", b"VmRSS:")
            if rss is None:
                continue
            alive += 1
            rss_sum += rss
            biggest = max(biggest, rss)
            pss = _read_kb(f"/proc/{pid}/smaps_rollup", b"Pss:")
            if pss is None:
                pss_ok = False
            else:
                pss_sum += pss
        if not alive:
            return
        self.samples += 1
        self.peak_sum_rss = max(self.peak_sum_rss, rss_sum)
        self.peak_single_rss = max(self.peak_single_rss, biggest)
        self.peak_procs = max(self.peak_procs, alive)
        if pss_ok:
            self.peak_sum_pss = max(self.peak_sum_pss or 0, pss_sum)

    def stop(self) -> None:
        self.stop_event.set()
        self.join(timeout=5)


@dataclass
class Measure:
    label: str
    cmd: list[str]
    wall_s: float
    returncode: int
    stdout: str = field(repr=False, default="")
    stderr: str = field(repr=False, default="")
    max_rss_kb: int | None = None  # GNU time: the biggest single process of the tree
    user_s: float | None = None  # CPU of the process and its reaped children
    sys_s: float | None = None
    peak_sum_rss_kb: int | None = None  # sampled: peak of the summed RSS of the tree
    peak_sum_pss_kb: int | None = None  # sampled: peak of the summed PSS (shared pages split)
    peak_single_rss_kb: int | None = None  # sampled
    peak_procs: int = 0
    samples: int = 0

    @property
    def cpu_s(self) -> float | None:
        if self.user_s is None or self.sys_s is None:
            return None
        return self.user_s + self.sys_s

    @property
    def peak_one_kb(self) -> int | None:
        """Biggest single process: GNU time when we have it, else the sampled figure."""
        values = [v for v in (self.max_rss_kb, self.peak_single_rss_kb) if v]
        return max(values) if values else None

    @property
    def peak_sum_kb(self) -> int | None:
        """Summed RSS of the tree; never below the biggest single process (short runs may end
        between two samples)."""
        values = [v for v in (self.peak_sum_rss_kb, self.max_rss_kb) if v]
        return max(values) if values else None

    def to_json(self) -> dict:
        d = asdict(self)
        d.pop("stdout")
        d.pop("stderr")
        d["cpu_s"] = self.cpu_s
        d["peak_sum_kb"] = self.peak_sum_kb  # what the table shows
        d["peak_one_kb"] = self.peak_one_kb
        return d


def _gnu_time() -> str | None:
    path = shutil.which("time") or ("/usr/bin/time" if os.path.exists("/usr/bin/time") else None)
    for candidate in ("/usr/bin/time", path):
        if not candidate or not os.path.exists(candidate):
            continue
        try:
            proc = subprocess.run([candidate, "-v", "-o", os.devnull, "true"],
                                  capture_output=True, timeout=10)
        except (OSError, subprocess.SubprocessError):
            continue
        if proc.returncode == 0:
            return candidate
    return None


_TIME_FIELDS = {"Maximum resident set size (kbytes)": ("max_rss_kb", int),
                "User time (seconds)": ("user_s", float),
                "System time (seconds)": ("sys_s", float)}


class Runner:
    def __init__(self, interval: float, verbose: bool) -> None:
        self.time = _gnu_time()
        self.interval = interval
        self.verbose = verbose

    def run(self, label: str, cmd: list[str], cwd: Path | None = None,
            env: dict | None = None) -> Measure:
        timefile = None
        full = list(cmd)
        if self.time:
            fd, timefile = tempfile.mkstemp(prefix="misnomer-bench-time-")
            os.close(fd)
            full = [self.time, "-v", "-o", timefile, *cmd]
        if self.verbose:
            print(f"  $ {' '.join(cmd)}", file=sys.stderr, flush=True)
        before = None if self.time else _children_usage()
        try:
            started = time.perf_counter()
            # Its own process group, so that an abort stops the workers too, not just the top.
            proc = subprocess.Popen(full, cwd=cwd, env=env, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, errors="replace",
                                    start_new_session=True)
            sampler = TreeSampler(proc.pid, skip_root=bool(self.time), interval=self.interval)
            sampler.start()
            try:
                out, err = proc.communicate()
            except BaseException:
                _stop_group(proc)
                sampler.stop()
                raise
            wall = time.perf_counter() - started
            sampler.stop()
            text = Path(timefile).read_text(errors="replace") if timefile else ""
        finally:
            if timefile:
                with contextlib.suppress(OSError):
                    os.unlink(timefile)
        m = Measure(label, list(cmd), wall, proc.returncode, out, err,
                    peak_sum_rss_kb=sampler.peak_sum_rss or None,
                    peak_sum_pss_kb=sampler.peak_sum_pss,
                    peak_single_rss_kb=sampler.peak_single_rss or None,
                    peak_procs=sampler.peak_procs, samples=sampler.samples)
        if timefile:
            for line in text.splitlines():
                key, _, value = line.strip().rpartition(": ")
                if key in _TIME_FIELDS:
                    attr, conv = _TIME_FIELDS[key]
                    with contextlib.suppress(ValueError):
                        setattr(m, attr, conv(value))
        elif before is not None:
            after = _children_usage()
            m.user_s = after[0] - before[0]
            m.sys_s = after[1] - before[1]
        return m


def _stop_group(proc: subprocess.Popen) -> None:
    """Interrupt the measured process group (misnomer leaves its index consistent on SIGINT),
    then kill it if it does not stop within 10 s."""
    for sig, grace in ((signal.SIGINT, 10.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            break
        try:
            proc.wait(timeout=grace)
            break
        except subprocess.TimeoutExpired:
            continue


def _children_usage() -> tuple[float, float]:
    import resource
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime, ru.ru_stime


# --------------------------------------------------------------------------------------------
# The parse-only pass (runs as `kernel.py --parse-only-worker FILELIST`, measured from outside)

_PARSER = None
_FRONT = None  # with --floor: misnomer's front end, for its rewrite and its query


def _po_init(floor: bool = False) -> None:
    global _PARSER, _FRONT
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import tree_sitter
    import tree_sitter_c
    _PARSER = tree_sitter.Parser(tree_sitter.Language(tree_sitter_c.language()))
    if floor:
        from misnomer.c.frontend import CFrontEnd
        from misnomer.c.macros import MacroKnowledge
        _FRONT = CFrontEnd(MacroKnowledge())


def _po_parse(path: str) -> tuple[int, bool]:
    with open(path, "rb") as fh:
        data = fh.read()
    if _FRONT is None:
        tree = _PARSER.parse(data)
        return len(data), tree.root_node.has_error
    # The floor of the front end: the rewrite, the parse and the captures of the extractor's
    # query as Python objects -- what any extraction in Python pays before it reads a node.
    from misnomer.c.treesitter import captures, query
    src, _ = _FRONT.rewriter.rewrite(data)
    tree = _PARSER.parse(src)
    captures(query("functions"), tree.root_node)
    return len(data), tree.root_node.has_error


def parse_only_worker(filelist: str, jobs: int, floor: bool = False) -> int:
    import multiprocessing
    paths = [p for p in Path(filelist).read_text().splitlines() if p]
    # Largest first, as misnomer schedules its parse, so no process idles at the end.
    paths.sort(key=lambda p: -os.path.getsize(p))
    chunk = max(1, min(64, len(paths) // (jobs * 16) or 1))
    method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
    started = time.perf_counter()
    nbytes = errors = 0
    with multiprocessing.get_context(method).Pool(jobs, initializer=_po_init,
                                                  initargs=(floor,)) as pool:
        for size, has_error in pool.imap_unordered(_po_parse, paths, chunksize=chunk):
            nbytes += size
            errors += has_error
    print(json.dumps({"files": len(paths), "bytes": nbytes, "files_with_errors": errors,
                      "inner_s": time.perf_counter() - started}))
    return 0


# --------------------------------------------------------------------------------------------
# The tree, the file list, the change


def discover_files(root: Path) -> list[str]:
    """The .c/.h files misnomer itself would index (same discovery code, same excludes)."""
    from misnomer.config import load_config
    from misnomer.index.discover import discover
    try:
        excludes = list(load_config(root).exclude)
    except Exception:  # a broken config is misnomer's business, not the benchmark's
        excludes = []
    found = discover(root, excludes)
    return found.files


def make_subset(root: Path, files: list[str], n: int, tmp_parent: str | None) -> Path:
    """The first n files of the sorted list, hard-linked (copied if that fails) into a temp
    tree.  Nothing in it is ever written in place (see replace_bytes), so the links are safe."""
    dest = Path(tempfile.mkdtemp(prefix="misnomer-bench-subset-", dir=tmp_parent))
    linked = copied = 0
    for rel in files[:n]:
        src, dst = root / rel, dest / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(src, dst)
            linked += 1
        except OSError:
            shutil.copy2(src, dst)
            copied += 1
    print(f"subset: first {min(n, len(files)):,} of {len(files):,} files in {dest} "
          f"({linked} hard links, {copied} copies)", file=sys.stderr)
    return dest


def replace_bytes(path: Path, data: bytes, mode: int) -> None:
    """Write by rename, so a hard-linked original (a --subset tree) is never touched."""
    tmp = path.with_name(f".{path.name}.misnomer-bench-tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.chmod(tmp, mode & 0o7777)
    os.replace(tmp, path)


def recover_pending(backup_dir: Path) -> None:
    """Put back a file left changed by a run that was killed before it could restore it."""
    info_file = backup_dir / "info.json"
    if not info_file.is_file():
        return
    info = json.loads(info_file.read_text())
    path = Path(info["path"])
    original = (backup_dir / "original").read_bytes()
    if len(original) != info["size"]:
        raise SystemExit(f"kernel.py: the backup in {backup_dir} is damaged; check {path} by "
                         f"hand (it may end with a misnomer-bench comment) and delete "
                         f"{backup_dir}")
    if path.exists() and path.read_bytes() != original:
        replace_bytes(path, original, info["mode"])
        os.utime(path, ns=(info["atime_ns"], info["mtime_ns"]))
        print(f"kernel.py: restored {path}, left changed by an interrupted run",
              file=sys.stderr)
    shutil.rmtree(backup_dir, ignore_errors=True)


@contextlib.contextmanager
def changed_file(path: Path, backup_dir: Path):
    """Append a comment to path; restore its bytes, mode and times afterwards, whatever
    happens.  A copy of the original waits in backup_dir in case this process is killed."""
    original = path.read_bytes()
    st = path.stat()
    backup_dir.mkdir(parents=True, exist_ok=True)
    (backup_dir / "original").write_bytes(original)
    (backup_dir / "info.json").write_text(json.dumps(
        {"path": str(path), "size": len(original), "mode": st.st_mode,
         "atime_ns": st.st_atime_ns, "mtime_ns": st.st_mtime_ns}))
    try:
        replace_bytes(path, original + CHANGE_COMMENT, st.st_mode)
        yield
    finally:
        replace_bytes(path, original, st.st_mode)
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
        shutil.rmtree(backup_dir, ignore_errors=True)


def pick_change_file(root: Path, files: list[str], explicit: str | None) -> str:
    if explicit:
        if explicit not in files:
            raise SystemExit(f"kernel.py: --change-file {explicit} is not among the indexed files")
        return explicit
    if PREFERRED_CHANGE_FILE in files:
        return PREFERRED_CHANGE_FILE
    sources = sorted((os.path.getsize(root / f), f) for f in files if f.endswith(".c"))
    if not sources:
        sources = sorted((os.path.getsize(root / f), f) for f in files)
    return sources[len(sources) // 2][1]


def index_busy(db: Path) -> str | None:
    """Why the index cannot be replaced now (another misnomer run holds its lock), or None."""
    lock = db.with_name(db.name + ".lock")
    if not lock.exists():
        return None
    try:
        import fcntl
    except ImportError:
        return None
    fd = os.open(lock, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    except BlockingIOError:
        holder = lock.read_text().strip()
        return f"another misnomer run{f' (process {holder})' if holder else ''} is writing {db}"
    finally:
        os.close(fd)


def remove_db(db: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        p = db.with_name(db.name + suffix)
        if p.exists():
            p.unlink()


def misnomer_command() -> list[str]:
    beside = Path(sys.executable).parent / "misnomer"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("misnomer")
    if found:
        return [found]
    return [sys.executable, "-m", "misnomer"]


def db_figures(db: Path) -> dict:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        q = conn.execute
        functions, err_share = q("SELECT count(*), avg(has_error) FROM functions").fetchone()
        files = q("SELECT count(*) FROM files").fetchone()[0]
        by_status = dict(q("SELECT status, count(*) FROM files GROUP BY status").fetchall())
        files_with_errors = q("SELECT count(*) FROM files WHERE parse_errors").fetchone()[0]
        shapes = dict(q("SELECT shape, count(*) FROM analysis GROUP BY shape "
                        "ORDER BY count(*) DESC").fetchall())
        return {"functions": functions, "files": files, "files_by_status": by_status,
                "functions_with_parse_errors_share": err_share or 0.0,
                "functions_with_parse_errors": q(
                    "SELECT count(*) FROM functions WHERE has_error").fetchone()[0],
                "files_with_parse_errors": files_with_errors, "shapes": shapes,
                "db_bytes": sum(p.stat().st_size for p in db.parent.glob(db.name + "*")
                                if p.is_file())}
    finally:
        conn.close()


def summary_line(stderr: str) -> str:
    lines = [ln for ln in stderr.splitlines() if ln.startswith("indexed:")]
    return lines[-1] if lines else ""


# --------------------------------------------------------------------------------------------
# Output


def _mib(kb: int | None) -> str:
    return "-" if not kb else f"{kb / 1024:,.0f} MiB"


def _num(v: float | None, fmt: str) -> str:
    return "-" if v is None else format(v, fmt)


def print_table(rows: list[tuple[str, Measure | None, int | None, str]],
                ctags_wall: float | None) -> None:
    headers = ("step", "wall s", "files/s", "x ctags", "CPU s", "peak RSS sum", "peak PSS sum",
               "peak 1 proc", "note")
    table = []
    for label, m, nfiles, note in rows:
        if m is None:
            table.append((label, "-", "-", "-", "-", "-", "-", "-", note))
            continue
        rate = nfiles / m.wall_s if nfiles and m.wall_s > 0 else None
        ratio = m.wall_s / ctags_wall if ctags_wall and nfiles else None
        table.append((label, f"{m.wall_s:,.2f}", _num(rate, ",.0f"),
                      _num(ratio, ".1f") + ("x" if ratio is not None else ""),
                      _num(m.cpu_s, ",.1f"), _mib(m.peak_sum_kb), _mib(m.peak_sum_pss_kb),
                      _mib(m.peak_one_kb), note))
    widths = [max(len(str(r[i])) for r in [headers, *table]) for i in range(len(headers))]
    right = {1, 2, 3, 4, 5, 6, 7}

    def fmt(row):
        return "  ".join(str(c).rjust(w) if i in right else str(c).ljust(w)
                         for i, (c, w) in enumerate(zip(row, widths))).rstrip()
    print(fmt(headers))
    print("  ".join("-" * w for w in widths))
    for row in table:
        print(fmt(row))


# --------------------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(
        description="Benchmark `misnomer index` on the Linux 6.1 tree beside universal-ctags and "
                    "a bare tree-sitter parse, all measured in this run on the same files.",
        epilog="The full tree takes many minutes on 2 cores; try --subset 300 first.  "
               "The full run replaces <tree>/.misnomer/index.db (or --db) with a fresh index.")
    ap.add_argument("--cache", metavar="DIR", help="kernel cache (default: $MISNOMER_BENCH_CACHE "
                    "or ~/.cache/misnomer-bench); fetched there if missing")
    ap.add_argument("--tree", metavar="DIR", help="benchmark this C tree instead of the kernel")
    ap.add_argument("--db", metavar="PATH", help="index to build (default: <tree>/.misnomer/"
                    "index.db; with --subset, inside the temporary tree)")
    ap.add_argument("-j", "--jobs", type=int, default=2,
                    help="processes for misnomer index and the parse-only pass (default: 2)")
    ap.add_argument("--skip-ctags", action="store_true", help="no ctags baseline")
    ap.add_argument("--skip-parse-only", action="store_true", help="no tree-sitter baseline")
    ap.add_argument("--skip-floor", action="store_true",
                    help="no front-end floor (rewrite + parse + query captures, no extraction)")
    ap.add_argument("--subset", type=int, metavar="N",
                    help="only the first N files of the sorted list, hard-linked into a "
                         "temporary tree (quick trials)")
    ap.add_argument("--tmpdir", metavar="DIR", help="where the --subset tree goes")
    ap.add_argument("--keep-subset", action="store_true", help="keep the --subset tree")
    ap.add_argument("--change-file", metavar="REL", help="file changed in step (e) (default: "
                    f"{PREFERRED_CHANGE_FILE} if indexed, else the median-sized .c file)")
    ap.add_argument("--explain", metavar="NAME", default=DEFAULT_EXPLAIN,
                    help=f"function for step (f) (default: {DEFAULT_EXPLAIN})")
    ap.add_argument("--explain-runs", type=int, default=5, metavar="N",
                    help="explain runs to take the median of (default: 5)")
    ap.add_argument("--ctags", default="ctags", metavar="CMD", help="ctags binary")
    ap.add_argument("--interval", type=float, default=0.5, metavar="S",
                    help="RSS sampling interval in seconds (default: 0.5)")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    ap.add_argument("-v", "--verbose", action="store_true", help="show commands and output")
    ap.add_argument("--parse-only-worker", metavar="FILELIST", help=argparse.SUPPRESS)
    ap.add_argument("--floor-worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.jobs < 1:
        ap.error("--jobs must be at least 1")
    if args.subset is not None and args.subset < 1:
        ap.error("--subset must be at least 1")
    if args.explain_runs < 1:
        ap.error("--explain-runs must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.parse_only_worker:
        return parse_only_worker(args.parse_only_worker, args.jobs, args.floor_worker)
    _reexec_in_venv()

    def on_term(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, on_term)
    with contextlib.suppress(AttributeError, ValueError):
        signal.signal(signal.SIGHUP, on_term)

    cache = fetch_kernel.cache_dir(args.cache)
    backup_dir = cache / ".kernel-bench-restore"
    recover_pending(backup_dir)
    version = ""
    if args.tree:
        source_root = Path(args.tree).expanduser().resolve()
        if not source_root.is_dir():
            raise SystemExit(f"kernel.py: --tree {source_root} is not a directory")
        tree_name = str(source_root)
    else:
        try:
            kt = fetch_kernel.ensure_kernel(cache)
        except fetch_kernel.FetchError as exc:
            print(f"kernel.py: cannot get the kernel tree: {exc}", file=sys.stderr)
            return 2
        source_root, version = kt.tree, kt.version
        tree_name = f"{fetch_kernel.PACKAGE} {version}".strip()

    print(f"listing the C files of {source_root} ...", file=sys.stderr, flush=True)
    all_files = discover_files(source_root)
    if not all_files:
        raise SystemExit(f"kernel.py: no .c or .h files under {source_root}")
    subset_root: Path | None = None
    root = source_root
    if args.subset:
        subset_root = make_subset(source_root, all_files, args.subset, args.tmpdir)
        root = subset_root
        files = discover_files(root)
        if files != all_files[:args.subset]:
            print(f"kernel.py: warning: misnomer sees {len(files)} files in the subset tree, "
                  f"expected {min(args.subset, len(all_files))}", file=sys.stderr)
    else:
        files = all_files
    db = Path(args.db).expanduser().resolve() if args.db else root / ".misnomer" / "index.db"
    runner = Runner(args.interval, args.verbose)
    mis = misnomer_command()
    results: dict = {"version": 1, "tree": tree_name, "root": str(root),
                     "subset": args.subset, "files": len(files), "jobs": args.jobs,
                     "steps": {}, "environment": environment(args, runner, mis)}
    work = Path(tempfile.mkdtemp(prefix="misnomer-bench-"))
    exit_status = 0
    rows: list[tuple[str, Measure | None, int | None, str]] = []
    ctags_wall = None
    try:
        filelist = work / "files.txt"
        filelist.write_text("".join(f + "\n" for f in files))
        total_bytes = sum(os.path.getsize(root / f) for f in files)
        results["bytes"] = total_bytes
        print(f"{len(files):,} files, {total_bytes / 1e6:,.1f} MB; jobs {args.jobs}; "
              f"{os.cpu_count()} cores; RSS from "
              f"{'GNU time + ' if runner.time else ''}/proc sampling", file=sys.stderr)

        def step(key: str, label: str, m: Measure, nfiles: int | None, note: str = "") -> None:
            rows.append((label, m, nfiles, note))
            entry = m.to_json()
            entry["files_per_s"] = nfiles / m.wall_s if nfiles and m.wall_s > 0 else None
            entry["x_ctags"] = m.wall_s / ctags_wall if ctags_wall and nfiles else None
            entry["note"] = note
            results["steps"][key] = entry
            print(f"  {label}: {m.wall_s:.2f} s, peak {_mib(m.peak_sum_kb)} "
                  f"(biggest process {_mib(m.peak_one_kb)})", file=sys.stderr, flush=True)

        def failed(m: Measure, what: str) -> None:
            tail = "\n".join((m.stderr or m.stdout).strip().splitlines()[-15:])
            raise RuntimeError(f"{what} failed (exit {m.returncode}):\n{tail}")

        # (a) ctags
        if args.skip_ctags:
            rows.append(("ctags (baseline)", None, None, "skipped"))
        elif not shutil.which(args.ctags):
            rows.append(("ctags (baseline)", None, None, f"{args.ctags} not found"))
            print(f"kernel.py: warning: {args.ctags} not found; no ctags baseline "
                  f"(apt-get install universal-ctags)", file=sys.stderr)
        else:
            tagfile = work / "tags"
            print("(a) ctags ...", file=sys.stderr, flush=True)
            m = runner.run("ctags", [args.ctags, "-L", str(filelist), "-f", str(tagfile)],
                           cwd=root)
            if m.returncode != 0:
                failed(m, "ctags")
            tags = 0
            with open(tagfile, "rb") as fh:
                tags = sum(1 for line in fh if not line.startswith(b"!_"))
            ctags_wall = m.wall_s
            results["ctags_tags"] = tags
            step("ctags", "ctags (baseline)", m, len(files), f"{tags:,} tags")
            tagfile.unlink()

        # (b) parse only
        if args.skip_parse_only:
            rows.append((f"tree-sitter parse only ({args.jobs}p)", None, None, "skipped"))
        else:
            print("(b) tree-sitter parse only ...", file=sys.stderr, flush=True)
            m = runner.run("parse-only", [sys.executable, str(Path(__file__).resolve()),
                                          "--parse-only-worker", str(filelist),
                                          "--jobs", str(args.jobs)], cwd=root)
            if m.returncode != 0:
                failed(m, "the parse-only pass")
            info = json.loads(m.stdout.strip().splitlines()[-1])
            results["parse_only"] = info
            step("parse_only", f"tree-sitter parse only ({args.jobs}p)", m, len(files),
                 f"{info['files_with_errors']:,} files with errors")

        # (b2) the front end's floor: what extraction in Python pays before reading a node
        if args.skip_floor:
            rows.append((f"front-end floor ({args.jobs}p)", None, None, "skipped"))
        else:
            print("(b2) front-end floor: rewrite, parse, query captures ...", file=sys.stderr,
                  flush=True)
            m = runner.run("floor", [sys.executable, str(Path(__file__).resolve()),
                                     "--parse-only-worker", str(filelist), "--floor-worker",
                                     "--jobs", str(args.jobs)], cwd=root)
            if m.returncode != 0:
                failed(m, "the front-end floor pass")
            results["floor"] = json.loads(m.stdout.strip().splitlines()[-1])
            step("floor", f"front-end floor ({args.jobs}p)", m, len(files),
                 "rewrite + parse + captures, no extraction")

        # (c) misnomer index from scratch
        busy = index_busy(db)
        if busy:
            raise RuntimeError(f"{busy}; wait for it to finish, or pass --db elsewhere")
        if db.exists():
            print(f"removing {db} to index from scratch", file=sys.stderr)
        remove_db(db)
        index_cmd = [*mis, "index", str(root), "--db", str(db), "-j", str(args.jobs)]
        print("(c) misnomer index, fresh database ...", file=sys.stderr, flush=True)
        m = runner.run("index", index_cmd, cwd=root)
        if m.returncode != 0:
            failed(m, "misnomer index")
        results["index_summary"] = summary_line(m.stderr)
        found = re.search(r"([\d,]+) functions", results["index_summary"])
        step("index", "misnomer index (fresh db)", m, len(files),
             f"{found.group(1)} functions" if found else "")

        # (d) no change
        print("(d) misnomer index, no change ...", file=sys.stderr, flush=True)
        m = runner.run("reindex_nochange", index_cmd, cwd=root)
        if m.returncode != 0:
            failed(m, "misnomer index (no change)")
        step("reindex_nochange", "re-index, no change", m, len(files),
             _parsed_note(summary_line(m.stderr)))

        # (e) one file changed, restored
        change = pick_change_file(root, files, args.change_file)
        results["changed_file"] = change
        print(f"(e) misnomer index, {change} changed ...", file=sys.stderr, flush=True)
        with changed_file(root / change, work / "restore" if subset_root else backup_dir):
            m = runner.run("reindex_onefile", index_cmd, cwd=root)
        if m.returncode != 0:
            failed(m, "misnomer index (one file changed)")
        step("reindex_onefile", "re-index, 1 file changed", m, len(files),
             _parsed_note(summary_line(m.stderr)) + f" ({change})")
        m = runner.run("reindex_restored", index_cmd, cwd=root)
        if m.returncode != 0:
            failed(m, "misnomer index (after restoring the file)")
        step("reindex_restored", "re-index, file restored", m, len(files),
             _parsed_note(summary_line(m.stderr)))

        # (f) explain
        figures = db_figures(db)
        name, note = explain_target(db, args.explain)
        print(f"(f) misnomer explain {name} x{args.explain_runs} ...", file=sys.stderr,
              flush=True)
        runs = [runner.run("explain", [*mis, "explain", name, "--db", str(db), "--format",
                                       "json"], cwd=root) for _ in range(args.explain_runs)]
        bad = [r for r in runs if r.returncode != 0]
        if bad:
            failed(bad[0], f"misnomer explain {name}")
        median = statistics.median(r.wall_s for r in runs)
        mid = min(runs, key=lambda r: abs(r.wall_s - median))
        shown = Measure(mid.label, mid.cmd, median, 0, max_rss_kb=mid.max_rss_kb,
                        user_s=mid.user_s, sys_s=mid.sys_s, peak_sum_rss_kb=mid.peak_sum_rss_kb,
                        peak_sum_pss_kb=mid.peak_sum_pss_kb,
                        peak_single_rss_kb=mid.peak_single_rss_kb, peak_procs=mid.peak_procs,
                        samples=mid.samples)
        shapes = explain_shapes(runs[-1].stdout)
        step("explain", f"explain {name} (median of {len(runs)})", shown, None,
             note or f"min {min(r.wall_s for r in runs):.2f} s, max "
                     f"{max(r.wall_s for r in runs):.2f} s")
        results["steps"]["explain"]["runs_s"] = [r.wall_s for r in runs]
        results["explain"] = {"name": name, "definitions": shapes, "note": note}

        # (g) database figures
        results["index"] = figures
    except (RuntimeError, sqlite3.Error, OSError) as exc:
        print(f"\nkernel.py: error: {exc}", file=sys.stderr)
        exit_status = 2
    except KeyboardInterrupt:
        print("\nkernel.py: interrupted", file=sys.stderr)
        exit_status = 130
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if subset_root is not None and not args.keep_subset:
            shutil.rmtree(subset_root, ignore_errors=True)
        elif subset_root is not None:
            print(f"kept the subset tree: {subset_root}", file=sys.stderr)

    report(results, rows, ctags_wall)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2) + "\n")
        print(f"\nfigures written to {args.json}")
    return exit_status


def _parsed_note(line: str) -> str:
    found = re.search(r"([\d,]+) parsed", line)
    if not found:
        return ""
    return f"{found.group(1)} file{'' if found.group(1) == '1' else 's'} parsed"


def explain_target(db: Path, wanted: str) -> tuple[str, str]:
    """wanted if indexed; else (a --subset index without it) a stand-in, said so."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        if conn.execute("SELECT 1 FROM functions WHERE name = ? LIMIT 1", (wanted,)).fetchone():
            return wanted, ""
        row = conn.execute(
            "SELECT f.name FROM functions f JOIN analysis a ON a.function_id = f.id "
            "ORDER BY a.shape = 'ensure' DESC, f.name LIMIT 1").fetchone() or \
            conn.execute("SELECT name FROM functions ORDER BY name LIMIT 1").fetchone()
    finally:
        conn.close()
    if row is None:
        raise RuntimeError("the index has no functions to explain")
    return row[0], f"stand-in: {wanted} is not in this index"


def explain_shapes(stdout: str) -> list[dict]:
    data = json.loads(stdout)
    out = []
    for d in data.get("definitions", []):
        out.append({"file": d.get("file"), "line": d.get("line"), "shape": d.get("shape"),
                    "confidence": d.get("confidence"), "summary": d.get("summary"),
                    "valid_shape": d.get("shape") in SHAPES})
    return out


def environment(args, runner: Runner, mis: list[str]) -> dict:
    env = {"python": platform.python_version(), "platform": platform.platform(),
           "cores": os.cpu_count(), "gnu_time": runner.time, "misnomer_cmd": mis}
    try:
        import importlib.metadata as md
        for pkg in ("misnomer", "tree-sitter", "tree-sitter-c"):
            env[pkg] = md.version(pkg)
    except Exception:
        pass
    if not args.skip_ctags and shutil.which(args.ctags):
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            out = subprocess.run([args.ctags, "--version"], capture_output=True, text=True,
                                 timeout=10).stdout
            env["ctags"] = out.splitlines()[0].split(",")[0].strip() if out else ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                env["cpu"] = line.split(":", 1)[1].strip()
                break
    return env


def report(results: dict, rows, ctags_wall: float | None) -> None:
    env = results["environment"]
    subset = f" (subset: first {results['subset']:,})" if results.get("subset") else ""
    print()
    print(f"misnomer kernel benchmark: {results['tree']}")
    print(f"  {results['files']:,} .c/.h files{subset}, "
          f"{results.get('bytes', 0) / 1e6:,.1f} MB; {env.get('cores')} cores "
          f"({env.get('cpu', 'cpu unknown')}); --jobs {results['jobs']}")
    print(f"  misnomer {env.get('misnomer', '?')}, tree-sitter {env.get('tree-sitter', '?')}, "
          f"tree-sitter-c {env.get('tree-sitter-c', '?')}, Python {env['python']}; "
          f"{env.get('ctags', 'ctags: not run')}")
    print()
    if rows:
        print_table(rows, ctags_wall)
    print()
    print("  peak RSS sum / PSS sum: the whole process tree, sampled from /proc; "
          "peak 1 proc: the biggest single process (GNU time max RSS)")
    if results.get("index_summary"):
        print(f"  misnomer: {results['index_summary']}")
    idx = results.get("index")
    if idx:
        print(f"  index: {idx['functions']:,} function definitions in {idx['files']:,} files "
              f"({', '.join(f'{n:,} {s}' for s, n in sorted(idx['files_by_status'].items()))}); "
              f"database {idx['db_bytes'] / 1e6:,.0f} MB")
        share = 100 * idx["functions_with_parse_errors_share"]
        print(f"  definitions with parse errors: {share:.2f}%"
              f" ({idx['functions_with_parse_errors']:,}); files with parse errors: "
              f"{idx['files_with_parse_errors']:,}")
        total = sum(idx["shapes"].values()) or 1
        print("  shapes: " + ", ".join(f"{s} {100 * n / total:.1f}%"
                                       for s, n in idx["shapes"].items()))
    ex = results.get("explain")
    if ex:
        print(f"  explain {ex['name']}" + (f" ({ex['note']})" if ex.get("note") else "") + ":")
        for d in ex["definitions"]:
            ok = "" if d["valid_shape"] else "  <- not a known shape!"
            print(f"    {d['file']}:{d['line']}: shape {d['shape']} (confidence "
                  f"{d['confidence']:.2f}){ok}")
            print(f"      does: {d['summary']}")


if __name__ == "__main__":
    sys.exit(main())
