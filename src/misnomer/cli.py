"""The `misnomer` command line.  A thin layer over the library: parse flags, call, print.

Exit status: 0 success (and, for check, no findings), 1 findings or an unknown name, 2 a usage
or internal error, 130 interrupted.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import click

from . import __version__
from .analysis.primitives import PrimitiveTable
from .config import Config, load_config
from .errors import MisnomerError
from .index.indexer import DEFAULT_MAX_FILE_SIZE, IndexOptions, Interrupted, run_index
from .index.store import DEFAULT_DB, Index
from .progress import Reporter

EXIT_OK, EXIT_FINDINGS, EXIT_ERROR, EXIT_INTERRUPTED = 0, 1, 2, 130


def _fail(message: str, status: int = EXIT_ERROR) -> None:
    click.echo(f"misnomer: {message}", err=True)
    sys.exit(status)


def find_db(explicit: Path | None, start: Path | None = None) -> Path:
    """--db, else the nearest .misnomer/index.db in this directory or a parent."""
    if explicit is not None:
        return explicit
    here = (start or Path.cwd()).resolve()
    for directory in (here, *here.parents):
        candidate = directory / DEFAULT_DB
        if candidate.exists():
            return candidate
    return here / DEFAULT_DB


def _config_for(index: Index) -> Config:
    root = index.root
    return load_config(root) if root.is_dir() else Config()


class _Group(click.Group):
    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except MisnomerError as exc:
            _fail(str(exc))
        except Interrupted as exc:
            _fail(str(exc), EXIT_INTERRUPTED)
        except KeyboardInterrupt:
            _fail("interrupted", EXIT_INTERRUPTED)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="misnomer")
def main() -> None:
    """Say when a C function's name says something other than what its body does.

    misnomer reads every function of a C tree (up to the whole Linux kernel), works out what
    each one actually does (its shape: query, check, ensure, action or empty, and its effects),
    and judges names against what the tree's own verbs mean.

    Start with `misnomer index PATH`, then `misnomer explain NAME`.
    """


db_option = click.option(
    "--db", type=click.Path(path_type=Path, dir_okay=False),
    help="The index database (default: the nearest .misnomer/index.db; for `index`, "
         "PATH/.misnomer/index.db).")


@main.command()
@click.argument("path", type=click.Path(exists=True, file_okay=False, path_type=Path),
                default=".")
@db_option
@click.option("-j", "--jobs", type=click.IntRange(0, 256), default=0, show_default=True,
              help="Parallel parsing processes (0: one per core).")
@click.option("--exclude", "excludes", multiple=True, metavar="GLOB",
              help="Paths not to index (gitignore-like globs; repeatable).")
@click.option("--max-file-size", type=click.IntRange(1, 4096),
              default=DEFAULT_MAX_FILE_SIZE // (1024 * 1024), show_default=True,
              help="Skip files larger than this many MiB.")
@click.option("--all-macros", is_flag=True,
              help="Also list every #define of generated register headers in the index.")
@click.option("--wait", "lock_wait", type=click.FloatRange(0), default=600, show_default=True,
              help="Seconds to wait for another run writing the same index.")
@click.option("-q", "--quiet", is_flag=True, help="No progress and no summary line.")
def index(path: Path, db: Path | None, jobs: int, excludes: tuple[str, ...], max_file_size: int,
          all_macros: bool, lock_wait: float, quiet: bool) -> None:
    """Index the C files under PATH (default: the current directory).

    Reads .c and .h files (honouring .gitignore inside git trees), parses them in parallel,
    and stores facts and verdicts in an SQLite database.  Runs are incremental: only files
    whose content changed are parsed again, and an interrupted run resumes where it stopped.
    """
    root = path.resolve()
    reporter = Reporter(quiet=quiet)
    options = IndexOptions(root=root, db=(db or root / DEFAULT_DB).resolve(), jobs=jobs,
                           excludes=list(excludes), max_file_size=max_file_size * 1024 * 1024,
                           all_macros=all_macros, lock_wait=lock_wait, config=load_config(root))
    summary = run_index(options, reporter)
    if not quiet:
        for rel, reason in summary.skipped[:20]:
            click.echo(f"warning: {rel}: {reason}", err=True)
        if len(summary.skipped) > 20:
            click.echo(f"warning: ... and {len(summary.skipped) - 20} more files skipped", err=True)
        click.echo(summary.line(), err=True)


@main.command()
@click.argument("name")
@db_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format (json is a versioned contract).")
def explain(name: str, db: Path | None, fmt: str) -> None:
    """Explain what the function NAME does, from its body and its callees.

    For each definition: where it is, its shape and why, its effects with the lines that show
    them, its guards, its callees (with their shapes) and its callers.
    """
    from .explain import UnknownFunction, explain as run_explain, render_text

    index = Index.open_existing(find_db(db))
    try:
        try:
            config = _config_for(index)
            exp = run_explain(index, PrimitiveTable(config.primitives or None), name,
                              config.macros or None)
        except UnknownFunction as exc:
            hint = f"; did you mean: {', '.join(exc.suggestions)}?" if exc.suggestions else ""
            _fail(f"no function named {name!r} in {index.path}{hint}", EXIT_FINDINGS)
            return
    finally:
        index.close()
    if fmt == "json":
        click.echo(json.dumps(exp.to_json_obj(), indent=2))
    else:
        click.echo(render_text(exp), nl=False)


if __name__ == "__main__":  # pragma: no cover
    main()
