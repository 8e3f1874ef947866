"""The index's SQLite schema.  A plain database: open it with sqlite3, sqlite-utils, datasette.

Bump SCHEMA_VERSION whenever a table, a column or a stored JSON layout changes; an index from
another version is refused with a message saying how to rebuild it.
"""

from __future__ import annotations

SCHEMA_VERSION = 4

TABLES = """
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- One row per C file seen under the indexed root.
CREATE TABLE IF NOT EXISTS files (
    id           INTEGER PRIMARY KEY,
    path         TEXT NOT NULL UNIQUE,     -- relative to the root, '/' separated
    size         INTEGER NOT NULL,
    mtime_ns     INTEGER NOT NULL,
    sha1         TEXT,
    status       TEXT NOT NULL,            -- 'parsed', 'macros' (no function bodies) or 'skipped'
    reason       TEXT,                     -- why it was skipped, or a note
    functions    INTEGER NOT NULL DEFAULT 0,
    macros       INTEGER NOT NULL DEFAULT 0,
    parse_errors INTEGER NOT NULL DEFAULT 0, -- 1 when the parse had errors anywhere in the file
    error_functions INTEGER NOT NULL DEFAULT 0 -- definitions whose parse had errors
);

-- One row per function definition (each #ifdef variant is its own row).  The body's detailed
-- facts (every call, write, return, branch) are not stored: `explain` re-reads them from the
-- file, checked against the stored hash, with the same extraction code.
CREATE TABLE IF NOT EXISTS functions (
    id          INTEGER PRIMARY KEY,
    file_id     INTEGER NOT NULL,
    name        TEXT NOT NULL,
    line        INTEGER NOT NULL,          -- of the name
    column      INTEGER NOT NULL,
    start_line  INTEGER NOT NULL,
    end_line    INTEGER NOT NULL,
    is_static   INTEGER NOT NULL,
    is_inline   INTEGER NOT NULL,
    is_exported INTEGER NOT NULL,
    return_type TEXT NOT NULL,
    return_kind TEXT NOT NULL,             -- void, bool, int, pointer, other
    signature   TEXT NOT NULL,
    has_error   INTEGER NOT NULL,
    variant     TEXT NOT NULL,             -- enclosing #if/#ifdef line, '' when none
    defined_by  TEXT NOT NULL,             -- definition macro, '' for a plain definition
    is_callback INTEGER NOT NULL,          -- installed in an ops table of its file (.free = f)
    own_effects INTEGER NOT NULL,          -- effect bits of the body alone
    callees     TEXT NOT NULL,             -- JSON: distinct names called directly
    returned    TEXT NOT NULL,             -- JSON: callees whose result is returned as is
    shape_inputs TEXT NOT NULL,            -- JSON: misnomer.analysis.local.ShapeInputs
    callee_args TEXT NOT NULL              -- JSON, aligned with callees: where writes through
                                           -- each argument land (misnomer.facts.Call.args)
);

-- #defines with their location (macros of generated register headers only when asked).
CREATE TABLE IF NOT EXISTS macros (
    file_id INTEGER NOT NULL,
    name    TEXT NOT NULL,
    line    INTEGER NOT NULL,
    column  INTEGER NOT NULL,
    params  TEXT,                          -- '(a, b)' for function-like macros, NULL otherwise
    body    TEXT NOT NULL
);

-- #defines that may be iterators or attributes: what the rewrite before parsing learns from.
CREATE TABLE IF NOT EXISTS macro_hints (
    file_id INTEGER NOT NULL,
    name    TEXT NOT NULL,
    params  TEXT,
    body    TEXT NOT NULL
);

-- Who calls a name: JSON list of function ids.
CREATE TABLE IF NOT EXISTS callers (
    name         TEXT PRIMARY KEY,
    function_ids TEXT NOT NULL
) WITHOUT ROWID;

-- Effects of function-like macros that stand in for undefined callees.
CREATE TABLE IF NOT EXISTS macro_effects (
    name    TEXT PRIMARY KEY,
    effects INTEGER NOT NULL
) WITHOUT ROWID;

-- What those macros call (callee -> macro): a change to a function reaches the functions that
-- call it through a forwarding macro (`#define bar_register(d) __bar_register(d, THIS_MODULE)`).
CREATE TABLE IF NOT EXISTS macro_calls (
    callee TEXT NOT NULL,
    macro  TEXT NOT NULL,
    PRIMARY KEY (callee, macro)
) WITHOUT ROWID;

-- The lexicon as last learnt (JSON), for check and lexicon to reuse between runs.
CREATE TABLE IF NOT EXISTS lexicon_cache (
    generation TEXT,
    verbs      TEXT NOT NULL,
    data       TEXT NOT NULL
);

-- Verdicts of the behaviour model.
CREATE TABLE IF NOT EXISTS analysis (
    function_id INTEGER PRIMARY KEY,
    shape       TEXT NOT NULL,             -- query, check, ensure, action, empty
    effects     INTEGER NOT NULL,          -- effect bits including callees (see EFFECT_BITS)
    confidence  REAL NOT NULL
);
"""

INDEXES = """
CREATE INDEX IF NOT EXISTS functions_name ON functions(name);
CREATE INDEX IF NOT EXISTS functions_file ON functions(file_id);
CREATE INDEX IF NOT EXISTS macros_name ON macros(name);
CREATE INDEX IF NOT EXISTS macros_file ON macros(file_id);
CREATE INDEX IF NOT EXISTS macro_hints_file ON macro_hints(file_id);
"""

# A readable view of the verdicts, for people exploring the database by hand.
VIEWS = """
CREATE VIEW IF NOT EXISTS function_verdicts AS
SELECT f.id, f.name, files.path AS file, f.line, a.shape, a.confidence,
       (a.effects & 1) != 0 AS mutates, (a.effects & 2) != 0 AS allocates,
       (a.effects & 4) != 0 AS frees, (a.effects & 8) != 0 AS locks,
       (a.effects & 16) != 0 AS logs, (a.effects & 64) != 0 AS can_fail,
       (a.effects & 128) != 0 AS out_params, (a.effects & 32) != 0 AS unknown_callees,
       (a.effects & 256) != 0 AS mutates_only_through_params
FROM functions f JOIN files ON files.id = f.file_id LEFT JOIN analysis a ON a.function_id = f.id;
"""

EFFECT_BITS = {"mutates": 1, "allocates": 2, "frees": 4, "locks": 8, "logs": 16,
               "unknown": 32, "can_fail": 64, "out_params": 128, "params_only": 256}
