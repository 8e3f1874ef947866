"""Which files to index: .c and .h under the root, .gitignore honoured inside git trees,
--exclude globs, and every file we cannot read reported rather than fatal."""

from __future__ import annotations

import errno
import fnmatch
import os
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_EXTENSIONS = (".c", ".h")
_ALWAYS_SKIPPED_DIRS = {".git", ".hg", ".svn", ".misnomer"}


@dataclass
class Discovery:
    files: list[str] = field(default_factory=list)  # paths relative to the root, '/' separated
    problems: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    used_git: bool = False


def matches_exclude(relpath: str, patterns: list[str]) -> bool:
    """gitignore-like: a pattern without '/' matches any path component or the file name;
    with '/' it matches the path from the root (a trailing '/' means a directory)."""
    parts = relpath.split("/")
    for pattern in patterns:
        pat = pattern.strip()
        if not pat:
            continue
        if pat.endswith("/"):
            pat = pat.rstrip("/")
            if "/" in pat:
                if relpath.startswith(pat.lstrip("/") + "/"):
                    return True
            elif any(fnmatch.fnmatchcase(p, pat) for p in parts[:-1]):
                return True
            continue
        if "/" in pat:
            pat = pat.lstrip("/")
            if fnmatch.fnmatchcase(relpath, pat) or relpath.startswith(pat.rstrip("*") + "/") \
                    or fnmatch.fnmatchcase(relpath, pat + "/*"):
                return True
        elif any(fnmatch.fnmatchcase(p, pat) for p in parts):
            return True
    return False


def discover(root: Path, excludes: list[str],
             extensions: tuple[str, ...] = DEFAULT_EXTENSIONS) -> Discovery:
    found = _git_files(root, extensions)
    if found is None:
        found = _walk(root, extensions)
    found.files = sorted(p for p in found.files if not matches_exclude(p, excludes)
                         and not p.startswith(".misnomer/"))
    return found


def _git_files(root: Path, extensions: tuple[str, ...]) -> Discovery | None:
    """Tracked and untracked-but-not-ignored files, when the root is inside a git work tree."""
    git = shutil.which("git")
    if git is None:
        return None
    try:
        inside = subprocess.run([git, "-C", str(root), "rev-parse", "--is-inside-work-tree"],
                                capture_output=True, text=True, timeout=60)
        if inside.returncode != 0 or inside.stdout.strip() != "true":
            return None
        listing = subprocess.run(
            [git, "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard",
             "--", *[f"*{ext}" for ext in extensions]],
            capture_output=True, timeout=600)
    except (OSError, subprocess.SubprocessError):
        return None
    if listing.returncode != 0:
        return None
    result = Discovery(used_git=True)
    seen = set()
    for raw in listing.stdout.split(b"\0"):
        if not raw:
            continue
        rel = os.fsdecode(raw)
        if rel in seen or not rel.endswith(extensions):
            continue
        seen.add(rel)
        full = root / rel
        if full.is_symlink() or not full.is_file():
            reason = _link_problem(full)
            if reason:
                result.problems.append((rel, reason))
            continue  # deleted from the work tree but still tracked: not there to index
        result.files.append(rel)
    return result


def _walk(root: Path, extensions: tuple[str, ...]) -> Discovery:
    result = Discovery()

    def on_error(exc: OSError) -> None:
        path = Path(exc.filename) if exc.filename else root
        try:
            rel = path.relative_to(root).as_posix()
        except ValueError:
            rel = str(path)
        result.problems.append((rel + "/", f"directory not readable ({exc.strerror})"))

    for dirpath, dirnames, filenames in os.walk(root, onerror=on_error, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in _ALWAYS_SKIPPED_DIRS)
        base = Path(dirpath)
        for name in filenames:
            if not name.endswith(extensions):
                continue
            full = base / name
            rel = full.relative_to(root).as_posix()
            if full.is_symlink():
                reason = _link_problem(full)
                if reason:
                    result.problems.append((rel, reason))
                    continue
                if not _inside(full.resolve(), root):
                    result.problems.append((rel, "symbolic link to a file outside the root"))
                    continue
            result.files.append(rel)
    return result


def _link_problem(path: Path) -> str | None:
    """Why a symbolic link cannot be indexed, or None when it points to a regular file."""
    try:
        path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "symbolic link loop"
        if exc.errno == errno.ENOENT:
            return "broken symbolic link" if path.is_symlink() else None
        return f"cannot follow link ({exc.strerror})"
    return None


def _inside(path: Path, root: Path) -> bool:
    try:
        path.relative_to(root.resolve())
        return True
    except ValueError:
        return False
