#!/usr/bin/env python3
"""Fetch the Linux 6.1 source tree that misnomer's benchmarks run on.

Debian's ``linux-source-6.1`` package carries the tree as ``usr/src/linux-source-6.1.tar.xz``.
This script, idempotently:

1. downloads the package with ``apt-get download linux-source-6.1`` (run in the cache directory;
   skipped when a ``linux-source-6.1_*.deb`` is already there),
2. extracts the .deb with ``dpkg-deb -x`` into ``<cache>/deb`` (skipped when the tarball is
   already there; a pure-Python reader of the .deb is used if dpkg-deb is missing),
3. unpacks the tarball into ``<cache>/linux-source-6.1`` (via a temporary directory, so an
   interrupted unpack never looks complete) and writes the marker
   ``<cache>/linux-source-6.1.complete``.

A tree that is already there without the marker (unpacked by hand or by an older script) is
checked against the tarball's listing -- every regular file present with its size -- and
adopted if it matches, re-unpacked otherwise.

The cache lives outside the repository: ``--cache DIR``, else ``$MISNOMER_BENCH_CACHE``, else
``~/.cache/misnomer-bench``.  Nothing is ever committed.

Usage:  python bench/fetch_kernel.py [--cache DIR] [--verify] [--quiet]
Prints the path of the tree on stdout.  Importable: ``ensure_kernel()``, ``kernel_tree()``,
``cache_dir()``.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "linux-source-6.1"
TARBALL_IN_DEB = f"usr/src/{PACKAGE}.tar.xz"
ENV_CACHE = "MISNOMER_BENCH_CACHE"
DEFAULT_CACHE = Path("~/.cache/misnomer-bench")
# A few files any complete Linux 6.1 tree has (a quick sanity check, not the verification).
SENTINELS = ("Makefile", "MAINTAINERS", "arch/x86/kvm/mmu/mmu.c", "include/linux/kernel.h",
             "kernel/sched/core.c")


class FetchError(RuntimeError):
    """Something the user must fix (no apt-get, no network, package unknown, ...)."""


@dataclass
class KernelTree:
    tree: Path  # <cache>/linux-source-6.1
    cache: Path
    deb: Path | None  # the .deb it came from, when still there
    version: str  # Debian package version, e.g. 6.1.176-1 ('' when unknown)


def cache_dir(explicit: str | os.PathLike | None = None) -> Path:
    """--cache, else $MISNOMER_BENCH_CACHE, else ~/.cache/misnomer-bench (made absolute)."""
    raw = explicit or os.environ.get(ENV_CACHE) or DEFAULT_CACHE
    return Path(raw).expanduser().resolve()


def kernel_tree(cache: str | os.PathLike | None = None) -> Path:
    """Where the tree is (or will be); does not fetch anything."""
    return cache_dir(cache) / PACKAGE


def marker_path(cache: Path) -> Path:
    return cache / f"{PACKAGE}.complete"


def is_complete(cache: str | os.PathLike | None = None) -> bool:
    c = cache_dir(cache)
    return marker_path(c).is_file() and (c / PACKAGE).is_dir()


def _say(quiet: bool, message: str) -> None:
    if not quiet:
        print(f"fetch_kernel: {message}", file=sys.stderr, flush=True)


def _find_deb(cache: Path) -> Path | None:
    debs = sorted(glob.glob(str(cache / f"{PACKAGE}_*.deb")))
    return Path(debs[-1]) if debs else None


def _deb_version(deb: Path | None) -> str:
    if deb is None:
        return ""
    # linux-source-6.1_6.1.176-1_all.deb -> 6.1.176-1 (':' of an epoch is '%3a' in file names)
    parts = deb.name[:-4].split("_")
    return parts[1].replace("%3a", ":") if len(parts) >= 2 else ""


def _download(cache: Path, quiet: bool) -> Path:
    apt_get = shutil.which("apt-get")
    if apt_get is None:
        raise FetchError(
            "apt-get is not installed, so the Debian package cannot be downloaded.  On a "
            "non-Debian system, fetch linux-source-6.1_*.deb by hand (e.g. from "
            "https://packages.debian.org/bookworm/linux-source-6.1) and put it in "
            f"{cache}, then run this again.")
    _say(quiet, f"apt-get download {PACKAGE} (in {cache}) ...")
    try:
        proc = subprocess.run([apt_get, "download", PACKAGE], cwd=cache,
                              capture_output=True, text=True)
    except OSError as exc:
        raise FetchError(f"cannot run apt-get: {exc}") from exc
    if proc.returncode != 0:
        detail = (proc.stderr or proc.stdout).strip().splitlines()
        hint = ""
        text = " ".join(detail).lower()
        if "unable to locate" in text or "no candidate" in text or "has no installation" in text:
            hint = (f"  The package lists do not know {PACKAGE}: run `apt-get update` (as root), "
                    f"and make sure a Debian bookworm (12) source with the main component is "
                    f"configured.")
        elif "temporary failure" in text or "could not resolve" in text or "failed to fetch" \
                in text:
            hint = "  The download failed: check the network and the apt proxy settings."
        raise FetchError(f"`apt-get download {PACKAGE}` failed (exit {proc.returncode}): "
                         + " | ".join(detail[-3:]) + hint)
    deb = _find_deb(cache)
    if deb is None:
        raise FetchError(f"apt-get download reported success but no {PACKAGE}_*.deb is in "
                         f"{cache}")
    return deb


def _extract_deb(deb: Path, target: Path, quiet: bool) -> None:
    """``dpkg-deb -x deb target``; a small pure-Python reader of the ar/tar layout otherwise."""
    target.mkdir(parents=True, exist_ok=True)
    dpkg_deb = shutil.which("dpkg-deb")
    if dpkg_deb is not None:
        _say(quiet, f"dpkg-deb -x {deb.name} {target} ...")
        proc = subprocess.run([dpkg_deb, "-x", str(deb), str(target)], capture_output=True,
                              text=True)
        if proc.returncode != 0:
            raise FetchError(f"dpkg-deb -x {deb} failed (exit {proc.returncode}): "
                             f"{proc.stderr.strip()}.  The .deb may be truncated: delete it "
                             f"and run this again.")
        return
    _say(quiet, f"dpkg-deb not found; reading {deb.name} with Python ...")
    _extract_deb_python(deb, target)


def _extract_deb_python(deb: Path, target: Path) -> None:
    with open(deb, "rb") as fh:
        if fh.read(8) != b"!<arch>\n":
            raise FetchError(f"{deb} is not a Debian package (no ar header)")
        while True:
            header = fh.read(60)
            if len(header) < 60:
                break
            name = header[:16].decode("ascii", "replace").strip().rstrip("/")
            size = int(header[48:58].decode("ascii").strip())
            start = fh.tell()
            if name.startswith("data.tar"):
                mode = {"data.tar.xz": "r:xz", "data.tar.gz": "r:gz", "data.tar.bz2": "r:bz2",
                        "data.tar": "r:"}.get(name)
                if mode is None:
                    raise FetchError(f"{deb}: {name} is not supported without dpkg-deb "
                                     f"(install dpkg)")

                class _Slice:  # the member's bytes only, as a file object
                    def __init__(self, f, end):
                        self.f, self.end = f, end

                    def read(self, n=-1):
                        left = self.end - self.f.tell()
                        if left <= 0:
                            return b""
                        return self.f.read(left if n is None or n < 0 else min(n, left))

                with tarfile.open(fileobj=_Slice(fh, start + size), mode=mode.replace(":", "|"))\
                        as tar:
                    _safe_extractall(tar, target)
                return
            fh.seek(start + size + (size & 1))
    raise FetchError(f"{deb} has no data.tar member")


def _safe_extractall(tar: tarfile.TarFile, target: Path) -> None:
    if hasattr(tarfile, "data_filter"):
        tar.extractall(target, filter="data")
    else:  # Python without extraction filters: refuse absolute and parent paths ourselves
        for member in tar:
            name = member.name
            if name.startswith("/") or ".." in Path(name).parts:
                raise FetchError(f"refusing to extract {name!r}")
            tar.extract(member, target)


def _untar(tarball: Path, dest: Path, quiet: bool) -> None:
    """Unpack into dest (which must not exist); system tar when present (faster)."""
    dest.mkdir(parents=True)
    tar = shutil.which("tar")
    _say(quiet, f"unpacking {tarball.name} (about 1.3 GB of sources; a minute or two) ...")
    if tar is not None:
        proc = subprocess.run([tar, "-xJf", str(tarball), "-C", str(dest)],
                              capture_output=True, text=True)
        if proc.returncode == 0:
            return
        raise FetchError(f"tar -xJf {tarball} failed (exit {proc.returncode}): "
                         f"{proc.stderr.strip()[-500:]}.  Delete {tarball.parent} to extract "
                         f"the .deb again.")
    with tarfile.open(tarball, "r:xz") as t:
        _safe_extractall(t, dest)


def verify_tree(tree: Path, tarball: Path, quiet: bool = False) -> tuple[bool, str]:
    """Every regular file of the tarball present in the tree with its size.  Decompresses the
    whole tarball (some seconds of CPU)."""
    _say(quiet, f"checking {tree} against {tarball.name} (decompresses it once) ...")
    checked = 0
    prefix = PACKAGE + "/"
    try:
        with tarfile.open(tarball, "r|xz") as t:
            for member in t:
                if not member.isfile():
                    continue
                name = member.name
                rel = name[len(prefix):] if name.startswith(prefix) else name
                try:
                    st = os.lstat(tree / rel)
                except OSError:
                    return False, f"{rel} is missing"
                if st.st_size != member.size:
                    return False, f"{rel} has {st.st_size} bytes, the tarball says {member.size}"
                checked += 1
    except (tarfile.TarError, EOFError, OSError) as exc:
        return False, f"cannot read {tarball}: {exc}"
    return (checked > 0, f"{checked:,} files match" if checked else "the tarball has no files")


def _write_marker(cache: Path, deb: Path | None, how: str) -> None:
    info = {"package": PACKAGE, "version": _deb_version(deb), "deb": deb.name if deb else None,
            "how": how, "when": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    tmp = marker_path(cache).with_suffix(".tmp")
    tmp.write_text(json.dumps(info, indent=2) + "\n")
    os.replace(tmp, marker_path(cache))


def _marker_version(cache: Path) -> str:
    try:
        return json.loads(marker_path(cache).read_text()).get("version") or ""
    except (OSError, ValueError, AttributeError):
        return ""


def ensure_kernel(cache: str | os.PathLike | None = None, *, verify: bool = False,
                  quiet: bool = False) -> KernelTree:
    """Make sure <cache>/linux-source-6.1 holds the complete tree; return where it is.

    Each step is skipped when its result is already there.  ``verify`` re-checks a tree that
    already has its marker (otherwise the marker is trusted).
    """
    c = cache_dir(cache)
    try:
        c.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise FetchError(f"cannot create the cache directory {c}: {exc}") from exc
    tree = c / PACKAGE
    deb = _find_deb(c)
    tarball = c / "deb" / TARBALL_IN_DEB

    if is_complete(c) and not verify:
        return KernelTree(tree, c, deb, _deb_version(deb) or _marker_version(c))

    def get_tarball() -> Path:
        nonlocal deb
        if tarball.is_file():
            return tarball
        if deb is None:
            deb = _download(c, quiet)
        partial = c / "deb.partial"
        shutil.rmtree(partial, ignore_errors=True)
        _extract_deb(deb, partial, quiet)
        if not (partial / TARBALL_IN_DEB).is_file():
            raise FetchError(f"{deb.name} has no {TARBALL_IN_DEB}; is it the right package?")
        shutil.rmtree(c / "deb", ignore_errors=True)
        os.replace(partial, c / "deb")
        return tarball

    if tree.is_dir():
        missing = [s for s in SENTINELS if not (tree / s).is_file()]
        if not missing:
            ok, why = verify_tree(tree, get_tarball(), quiet)
            if ok:
                _say(quiet, f"reusing the tree already at {tree} ({why})")
                _write_marker(c, deb, "adopted an existing tree after checking it")
                return KernelTree(tree, c, deb, _deb_version(deb))
            _say(quiet, f"the tree at {tree} is incomplete or changed ({why}); unpacking again")
        else:
            _say(quiet, f"the tree at {tree} lacks {missing[0]}; unpacking again")
    marker_path(c).unlink(missing_ok=True)

    source = get_tarball()
    staging = c / f".{PACKAGE}.unpacking"
    shutil.rmtree(staging, ignore_errors=True)
    _untar(source, staging, quiet)
    unpacked = staging / PACKAGE
    if not unpacked.is_dir():
        entries = [p.name for p in staging.iterdir()]
        raise FetchError(f"the tarball did not contain {PACKAGE}/ (found: {entries[:5]})")
    if tree.exists():
        # Keep an existing index (it is checked against file hashes, so it stays valid).
        old_index = tree / ".misnomer"
        if old_index.is_dir() and not (unpacked / ".misnomer").exists():
            os.replace(old_index, unpacked / ".misnomer")
        shutil.rmtree(tree)
    os.replace(unpacked, tree)
    shutil.rmtree(staging, ignore_errors=True)
    _write_marker(c, deb, "unpacked")
    _say(quiet, f"ready: {tree}")
    return KernelTree(tree, c, deb, _deb_version(deb))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description="Fetch Debian's linux-source-6.1 into a cache outside the repository "
                    "(idempotent) and print the path of the unpacked tree.")
    ap.add_argument("--cache", metavar="DIR",
                    help=f"cache directory (default: ${ENV_CACHE} or {DEFAULT_CACHE})")
    ap.add_argument("--verify", action="store_true",
                    help="check the tree against the tarball even if it is marked complete")
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    args = ap.parse_args(argv)
    try:
        kt = ensure_kernel(args.cache, verify=args.verify, quiet=args.quiet)
    except FetchError as exc:
        print(f"fetch_kernel: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fetch_kernel: interrupted (run again to resume)", file=sys.stderr)
        return 130
    print(kt.tree)
    _say(args.quiet, f"{PACKAGE} {kt.version or '(version unknown)'} in {kt.tree}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
