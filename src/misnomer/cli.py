"""The `misnomer` command line.  A thin layer over the library: parse flags, call, print.

Exit status: 0 success (and, for check, no findings), 1 findings or an unknown name, 2 a usage
or internal error, 130 interrupted.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from pathlib import Path

import click

from . import __version__
from .analysis.primitives import PrimitiveTable
from .config import Config, load_config
from .errors import MisnomerError
from .index.indexer import DEFAULT_MAX_FILE_SIZE, IndexOptions, Interrupted, run_index
from .index.store import DEFAULT_DB, Index, recorded_root
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
        except BrokenPipeError:
            # the reader went away (`misnomer lexicon | head`): not an error of ours; point
            # stdout at nothing so that the interpreter's final flush does not fail again
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(0)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except Exception:  # a bug: say so, with the traceback for the report, and exit 2
            traceback.print_exc()
            _fail("internal error (the traceback above is worth reporting)")


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


def _check_root(paths: tuple[Path, ...], db: Path | None) -> tuple[Path, Path]:
    """The tree to index and its database: --db's recorded root, else an index found at or
    above the path, else the path itself (a directory) or the current directory."""
    if db is not None and db.exists():
        root = recorded_root(db)
        if root is not None:
            return root.resolve(), db.resolve()
    start = (paths[0] if paths else Path.cwd()).resolve()
    start = start if start.is_dir() else start.parent
    if db is None:
        found = find_db(None, start)
        root = recorded_root(found) if found.exists() else None
        if root is not None:
            return root.resolve(), found.resolve()
    # No index yet: the nearest directory with a .misnomer.toml (a project of its own inside a
    # larger work tree), else the git work tree around the paths, else the directory they share.
    common = Path(os.path.commonpath([str(p.resolve() if p.is_dir() else p.resolve().parent)
                                      for p in paths])) if paths else Path.cwd().resolve()
    top = _git_top(common)
    root = _marked_root(common, top) or top or common
    return root, (db or root / DEFAULT_DB).resolve()


def _marked_root(start: Path, top: Path | None) -> Path | None:
    """The nearest directory at or above ``start`` (not above ``top``) with a .misnomer.toml."""
    stop = top.resolve() if top is not None else None
    for directory in (start, *start.parents):
        if (directory / ".misnomer.toml").is_file():
            return directory
        if directory == stop:
            break
    return None


def _git_top(path: Path) -> Path | None:
    import subprocess
    try:
        done = subprocess.run(["git", "-C", str(path), "rev-parse", "--show-toplevel"],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return Path(done.stdout.strip()) if done.returncode == 0 and done.stdout.strip() else None


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, path_type=Path))
@db_option
@click.option("--format", "fmt", type=click.Choice(["text", "json", "sarif"]), default="text",
              show_default=True, help="text: one line per finding (path:line:col: ID symbol "
              "message); json: versioned; sarif: SARIF 2.1.0 for code scanning.")
@click.option("--statistics", is_flag=True, help="Count findings per rule instead of listing "
              "them.")
@click.option("--select", multiple=True, metavar="RULE",
              help="Report only these rules (IDs, ID prefixes or symbols; comma-separated "
                   "or repeated).")
@click.option("--ignore", multiple=True, metavar="RULE", help="Do not report these rules.")
@click.option("--min-confidence", type=click.FloatRange(0, 1), default=None,
              help="Hide findings below this confidence (default from config, else 0).")
@click.option("--diff", "diff_rev", metavar="REV",
              help="Only functions added or changed since this git revision.")
@click.option("--changed", is_flag=True,
              help="Only functions changed in the working tree (same as --diff HEAD).")
@click.option("--baseline", type=click.Path(dir_okay=False, path_type=Path),
              help="Report only findings not in this file; if it does not exist, record "
                   "today's findings in it and report none.")
@click.option("--update-baseline", is_flag=True, help="Rewrite --baseline with today's "
              "findings.")
@click.option("--no-index", is_flag=True, help="Use the index as it is; do not update it.")
@click.option("-j", "--jobs", type=click.IntRange(0, 256), default=0,
              help="Parallel parsing processes when indexing (0: one per core).")
@click.option("-q", "--quiet", is_flag=True, help="No progress on stderr.")
def check(paths: tuple[Path, ...], db: Path | None, fmt: str, statistics: bool,
          select: tuple[str, ...], ignore: tuple[str, ...], min_confidence: float | None,
          diff_rev: str | None, changed: bool, baseline: Path | None, update_baseline: bool,
          no_index: bool, jobs: int, quiet: bool) -> None:
    """Report functions whose names say something other than what they do.

    Indexes PATHS as needed (incrementally), learns what each verb means in this tree, and
    reports names that contradict their functions' behaviour, with evidence.  Exit status: 0
    when nothing is reported, 1 when something is, 2 on errors.
    """
    from .check import CheckOptions, run_check
    from .reporters import REPORTERS, render_statistics
    from .rules import ALL_RULES

    root, db_path = _check_root(paths, db)
    config = load_config(root)
    reporter = Reporter(quiet=True if quiet else False)
    if not no_index:
        run_index(IndexOptions(root=root, db=db_path, jobs=jobs, config=config),
                  Reporter(quiet=True) if quiet else reporter)
    scope = []
    for p in paths:
        try:
            scope.append(p.resolve().relative_to(root).as_posix())
        except ValueError:
            _fail(f"{p} is outside the indexed tree {root}")
    options = CheckOptions(select=list(select), ignore=list(ignore),
                           min_confidence=min_confidence, scope=scope,
                           diff="HEAD" if changed and not diff_rev else diff_rev,
                           baseline=baseline, update_baseline=update_baseline)
    index = Index.open_existing(db_path)
    try:
        result = run_check(index, config, options)
    finally:
        index.close()
    if statistics and fmt == "text":
        click.echo(render_statistics(result.findings), nl=False)
    else:
        out = REPORTERS[fmt]().render(result.findings, ALL_RULES, str(root), __version__)
        if out:
            click.echo(out, nl=not out.endswith("\n"))
    if not quiet:
        notes = [f"{len(result.findings)} finding(s) in {result.functions:,} functions"]
        for what, n in (("suppressed inline", result.suppressed),
                        ("below the confidence threshold", result.below_confidence),
                        ("in the baseline", result.baselined),
                        ("outside the diff", result.outside_diff)):
            if n:
                notes.append(f"{n} {what}")
        if result.baseline_written:
            notes.append(f"baseline written to {baseline}")
        click.echo("; ".join(notes), err=True)
    sys.exit(EXIT_FINDINGS if result.findings else EXIT_OK)


@main.command()
@click.argument("verb", required=False)
@db_option
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text",
              show_default=True, help="Output format (json is a versioned contract).")
def lexicon(verb: str | None, db: Path | None, fmt: str) -> None:
    """What each verb means in this tree.

    With VERB: how many functions use it, how their shapes and effects are distributed, and
    the most-called examples of each sense; an ambiguous verb (two substantial senses) is said
    to be so.  Without: the top verbs, their dominant sense, and the ambiguous ones.
    """
    from .lexicon import cached_lexicon, render_entry, render_overview

    index = Index.open_existing(find_db(db))
    try:
        config = _config_for(index)
        lex = cached_lexicon(index, config.verbs)
    finally:
        index.close()
    if verb is None:
        data = lex.overview()
        click.echo(json.dumps(data, indent=2) if fmt == "json" else render_overview(data),
                   nl=fmt == "json")
        return
    entry = lex.entry(verb.lower())
    if entry is None:
        known = sorted(lex.entries, key=lambda v: -lex.entries[v].functions)
        import difflib
        close = difflib.get_close_matches(verb.lower(), known, n=5)
        hint = f"; did you mean: {', '.join(close)}?" if close else ""
        _fail(f"no function name in this tree uses the verb {verb!r}{hint}", EXIT_FINDINGS)
    if fmt == "json":
        click.echo(json.dumps(entry.to_json_obj(), indent=2))
    else:
        click.echo(render_entry(entry), nl=False)


@main.command()
@click.argument("rule", required=False)
def rules(rule: str | None) -> None:
    """The rules `check` applies.

    Without RULE: one line per rule (id, symbol, whether it runs by default, what it flags).
    With RULE (an id such as MN101, or a symbol such as conditional-action): its description,
    its message, and a C example it reports beside the same code named so it does not.
    """
    from .rules import ALL_RULES, BY_ID, BY_SYMBOL

    if rule is None:
        for r in ALL_RULES:
            state = "on " if r.default else "off"
            first = r.description.split(".  ")[0].rstrip(".") + "."
            head = f"{r.id}  {state}  {r.symbol:24}  "
            room = 100 - len(head)
            click.echo(head + (first if len(first) <= room else first[:room - 3] + "..."))
        click.echo("\n'off': runs only when selected (--select ID, or `select` in the config).\n"
                   "`misnomer rules ID` explains one rule, with examples.")
        return
    found = BY_ID.get(rule.upper()) or BY_SYMBOL.get(rule.lower())
    if found is None:
        _fail(f"no rule {rule!r}; `misnomer rules` lists them", EXIT_ERROR)
    default = "runs by default" if found.default else "runs only when selected"
    click.echo(f"{found.id} {found.symbol} ({found.family} rule; {default})\n")
    click.echo(click.wrap_text(found.description, width=88, preserve_paragraphs=True))
    click.echo(f"\nMessage: {found.message}\n\nReported:\n")
    click.echo("    " + found.bad_example.rstrip().replace("\n", "\n    "))
    click.echo("\nNot reported:\n")
    click.echo("    " + found.good_example.rstrip().replace("\n", "\n    "))


if __name__ == "__main__":  # pragma: no cover
    main()
