"""Facts: what the front end saw in a C file, before anything is judged.

These records are plain observations (a call at this line, a write to this target, an early
return on this condition).  Verdicts such as "mutates" or "ensure-shaped" are computed later,
in ``misnomer.analysis``, from these facts and the whole tree's call graph.

The front end produces each body fact as a *row* (a tuple in the column order given by the
record's ``ROW`` layout) because the Linux tree has tens of millions of them and a tuple costs a
fraction of an object; rows are also how the index stores them.  Code that reads facts uses the
typed records: ``FunctionFacts.calls`` and friends build them from the rows.  A change to a
layout is a change to the index schema (bump ``SCHEMA_VERSION``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum, IntFlag


class Region(IntFlag):
    """Where in its function a call, write or return sits."""

    NONE = 0
    CONDITIONAL = 1  # inside an if/else arm, a switch body or an arm of ?:
    LOOP = 2  # inside a loop (including kernel iterator macros)
    ERROR_PATH = 4  # inside an arm that ends in a failure exit, or after an error label
    CONDITION = 8  # inside the condition of an if
    RETURNED = 16  # the call is the value of a return statement
    INDIRECT = 32  # a call through a function pointer (ptr->member(...))
    GLOBAL_ARG = 64  # a call whose first argument is a file-scope variable or its address


class ReturnKind(str, Enum):
    SUCCESS = "success"  # 0 or true
    FAILURE = "failure"  # -E..., false, NULL, ERR_PTR(...)
    BOOL = "bool-expr"  # a comparison or logical expression
    CALL = "call"  # the result of a call
    CONSTANT = "constant"  # another literal or an upper-case constant
    VALUE = "value"  # a variable or other computed value
    VOID = "void"  # a bare "return;"


class TargetKind(str, Enum):
    LOCAL = "local"  # a local variable (or a by-value parameter, which is a local copy)
    PARAM = "param"  # memory reached through a pointer parameter
    POINTER = "pointer"  # memory reached through a local pointer
    GLOBAL = "global"  # a global or static variable


class ExitKind(str, Enum):
    RETURN = "return"
    GOTO = "goto"
    CONTINUE = "continue"
    BREAK = "break"


@dataclass(frozen=True, slots=True)
class Param:
    name: str  # "" for an unnamed parameter
    type: str
    is_pointer: bool

    ROW = ("name", "type", "is_pointer")

    @classmethod
    def from_row(cls, r) -> Param:
        return cls(r[0], r[1], bool(r[2]))


@dataclass(frozen=True, slots=True)
class Call:
    callee: str  # "name", or "base->member" for an indirect call
    line: int  # 1-based
    column: int  # 1-based, in bytes
    region: Region
    branch: int  # index in FunctionFacts.branches of the innermost enclosing arm, or -1
    arg0: str | None  # the first argument when it is a plain identifier or &identifier
    arg_base: str | None  # the variable the first argument starts from (`dev` in &dev->list)
    # where a write through each argument would land, one character per argument (see
    # ARG_LOCAL, ARG_ELSEWHERE, arg_param): "" for no arguments, missing ones are elsewhere
    args: str = ""
    # for a release (`put_device(dev)`): the function whose result the argument last held
    # (`dev = bus_find_device(...)`): the reference it took is given back here
    acquired_from: str | None = None

    ROW = ("callee", "line", "column", "region", "branch", "arg0", "arg_base", "args",
           "acquired_from")

    @classmethod
    def from_row(cls, r) -> Call:
        return cls(r[0], r[1], r[2], Region(r[3]), r[4], r[5], r[6], r[7], r[8])


# What a callee's write through an argument reaches, as recorded in Call.args.
ARG_LOCAL = "."  # the caller's own frame: `&len`, a local array, a by-value argument, a constant
ARG_ELSEWHERE = "*"  # memory others see: a global, a pointer read from memory, a call's result
# what a local pointer points to: often a buffer the caller just set up, sometimes shared state;
# a write through it by a primitive (memcpy) counts as local, by a function as elsewhere
ARG_POINTER = "?"
MAX_PARAMS = 14  # parameters tracked by position (`a`..`n`); later ones count as elsewhere


def arg_param(index: int) -> str:
    """The code of an argument reached through the caller's own parameter ``index``."""
    return chr(97 + index) if index < MAX_PARAMS else ARG_ELSEWHERE


def param_of_arg(code: str) -> int:
    """The caller's parameter index an argument code stands for, or -1."""
    return ord(code) - 97 if "a" <= code <= "n" else -1


@dataclass(frozen=True, slots=True)
class Write:
    target: str  # source text of the written lvalue, whitespace collapsed
    base: str  # the variable the lvalue is reached from ("" when it is not a plain name)
    kind: TargetKind
    op: str  # "=", "+=", "++", ...
    line: int
    column: int
    region: Region
    branch: int

    ROW = ("target", "base", "kind", "op", "line", "column", "region", "branch")

    @classmethod
    def from_row(cls, r) -> Write:
        return cls(r[0], r[1], TargetKind(r[2]), r[3], r[4], r[5], Region(r[6]), r[7])


@dataclass(frozen=True, slots=True)
class Return:
    kind: ReturnKind
    text: str  # the returned expression, whitespace collapsed ("" for a bare return)
    callee: str | None  # for kind CALL: the called function
    line: int
    column: int
    region: Region
    branch: int

    ROW = ("kind", "text", "callee", "line", "column", "region", "branch")

    @classmethod
    def from_row(cls, r) -> Return:
        return cls(ReturnKind(r[0]), r[1], r[2], r[3], r[4], Region(r[5]), r[6])


@dataclass(frozen=True, slots=True)
class Branch:
    """One arm of a conditional: the then- or else-part of an if, a switch body, a ?: arm."""

    kind: str  # "then", "else", "switch", "ternary"
    condition: str  # the controlling condition, likely()/unlikely() removed
    line: int
    column: int
    end_line: int
    exit: ExitKind | None  # how the arm ends, when it ends in a jump
    exit_value: ReturnKind | None  # for a return exit: what it returns
    exit_text: str  # for a return exit the value, for a goto the label
    error_path: bool  # the arm ends in a failure return or a goto to an error label
    top_level: bool  # the if is a statement of the function body itself
    loop_level: bool  # the if is a statement of a loop body (so `continue` skips an element)
    if_line: int  # the line of the condition (the arm's own line is `line`)
    end_column: int  # just past the arm's last character (`{ if (x) return 0; f(); }` on a line)

    ROW = ("kind", "condition", "line", "column", "end_line", "exit", "exit_value", "exit_text",
           "error_path", "top_level", "loop_level", "if_line", "end_column")

    @classmethod
    def from_row(cls, r) -> Branch:
        return cls(r[0], r[1], r[2], r[3], r[4], ExitKind(r[5]) if r[5] else None,
                   ReturnKind(r[6]) if r[6] else None, r[7], bool(r[8]), bool(r[9]), bool(r[10]),
                   r[11], r[12])

    @property
    def is_guard_shaped(self) -> bool:
        """An if-arm at function (or loop-body) level that leaves early: a candidate guard."""
        if self.kind != "then" or self.exit is None:
            return False
        return self.top_level or (self.loop_level and self.exit in (ExitKind.CONTINUE,
                                                                     ExitKind.BREAK))


@dataclass(frozen=True, slots=True)
class Loop:
    kind: str  # "for", "while", "do", or the iterator macro's name
    line: int
    column: int

    ROW = ("kind", "line", "column")

    @classmethod
    def from_row(cls, r) -> Loop:
        return cls(r[0], r[1], r[2])


@dataclass(frozen=True, slots=True)
class Label:
    name: str
    line: int
    is_error: bool

    ROW = ("name", "line", "is_error")

    @classmethod
    def from_row(cls, r) -> Label:
        return cls(r[0], r[1], bool(r[2]))


@dataclass(slots=True)
class FunctionFacts:
    """One function definition.  Body facts are kept as rows (see the module docstring); the
    properties of the same name without ``_rows`` give typed records."""

    name: str
    line: int  # of the name
    column: int
    end_line: int
    end_column: int
    is_static: bool
    is_inline: bool
    is_exported: bool
    return_type: str
    return_kind: str  # "void", "bool", "int", "pointer", "other"
    params: list[Param]
    has_error: bool  # the parse around the definition contains errors
    variant: str  # the enclosing #if/#ifdef line, "" when unconditional
    defined_by: str  # the definition macro (SYSCALL_DEFINE3, ...), "" for a plain definition
    signature: str
    start_line: int = 0  # first line of the definition (return type)
    call_rows: list[tuple] = field(default_factory=list)
    write_rows: list[tuple] = field(default_factory=list)
    return_rows: list[tuple] = field(default_factory=list)
    branch_rows: list[tuple] = field(default_factory=list)
    loop_rows: list[tuple] = field(default_factory=list)
    label_rows: list[tuple] = field(default_factory=list)
    gotos: int = 0
    asm: int = 0  # inline assembly statements
    # occurrences in the body of each pointer parameter that is written through or passed
    # first to a call (what tells an out-parameter from an in-out one); 0 when its first use
    # is a plain store through it, so that later uses read back what the function wrote
    param_uses: dict[str, int] = field(default_factory=dict)
    # installed in an operations table of its file (`.free = foo_free`): the name is dictated
    is_callback: bool = False

    @property
    def calls(self) -> list[Call]:
        return [Call.from_row(r) for r in self.call_rows]

    @property
    def writes(self) -> list[Write]:
        return [Write.from_row(r) for r in self.write_rows]

    @property
    def returns(self) -> list[Return]:
        return [Return.from_row(r) for r in self.return_rows]

    @property
    def branches(self) -> list[Branch]:
        return [Branch.from_row(r) for r in self.branch_rows]

    @property
    def loops(self) -> list[Loop]:
        return [Loop.from_row(r) for r in self.loop_rows]

    @property
    def labels(self) -> list[Label]:
        return [Label.from_row(r) for r in self.label_rows]

    def body_json_obj(self) -> dict:
        """The body facts stored as JSON in the index (calls have a table of their own)."""
        return {
            "params": [[p.name, p.type, int(p.is_pointer)] for p in self.params],
            "writes": self.write_rows,
            "returns": self.return_rows,
            "branches": self.branch_rows,
            "loops": self.loop_rows,
            "labels": self.label_rows,
            "gotos": self.gotos,
            "asm": self.asm,
            "param_uses": self.param_uses,
        }


@dataclass(frozen=True, slots=True)
class MacroDef:
    name: str
    line: int
    column: int
    params: str | None  # "(a, b)" for a function-like macro, None for an object-like one
    body: str  # continuation lines joined, whitespace collapsed, truncated

    ROW = ("name", "line", "column", "params", "body")

    @classmethod
    def from_row(cls, r) -> MacroDef:
        return cls(r[0], r[1], r[2], r[3], r[4])


@dataclass(slots=True)
class FileFacts:
    functions: list[FunctionFacts]
    macro_rows: list[tuple]  # MacroDef rows
    parsed: bool  # False when only macros were extracted (no function bodies possible)
    has_errors: bool = False  # the parse of the file contains errors anywhere

    @property
    def macros(self) -> list[MacroDef]:
        return [MacroDef.from_row(r) for r in self.macro_rows]
