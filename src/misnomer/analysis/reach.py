"""Which of a callee's state changes reach its caller, argument by argument.

A function whose only state changes are writes through its pointer parameters (`nla_parse(tb,
...)` filling the array `tb`) changes, for a caller, exactly what that caller passed there: its
own local array (nothing), its own parameter (the caller's argument, and so on up) or anything
else (state).  Effect bits record such a function with ``Effect.PARAMS_ONLY`` and the positions
of the parameters written from ``PARAM_SHIFT`` up (the *stored* form, where ``MUTATES`` means
"changes anything").  While effects propagate over the call graph they are kept in a *working*
form where ``MUTATES`` means "changes something other than memory behind its parameters" and
the parameter bits stand for the rest.
"""

from __future__ import annotations

from ..facts import ARG_ELSEWHERE, ARG_LOCAL, MAX_PARAMS, param_of_arg
from .primitives import PARAM_SHIFT, PROPAGATED, Effect

# a callee_args value: what the calls to this callee take (a reference, memory) the function
# gives back before returning (`dev = bus_find_device(..); ..; put_device(dev);`), so nothing
# of them reaches its callers
GIVEN_BACK = "~"

_MUTATES = int(Effect.MUTATES)
_PARAMS_ONLY = int(Effect.PARAMS_ONLY)
_PARAMS = ((1 << MAX_PARAMS) - 1) << PARAM_SHIFT
_FLOWING = int(PROPAGATED)  # what a call passes to its caller, besides what its arguments decide


def params_mask(bits: int) -> int:
    """The positions of the pointer parameters written through, as a mask."""
    return (bits & _PARAMS) >> PARAM_SHIFT


def finished(working: int) -> int:
    """Working form to stored form."""
    if working & _PARAMS and not working & _MUTATES:
        return working | _MUTATES | _PARAMS_ONLY
    return working


def working(stored: int) -> int:
    """Stored form to working form."""
    if stored & _PARAMS_ONLY:
        return stored & ~(_MUTATES | _PARAMS_ONLY)
    return stored


_MAPPED: dict[tuple[int, str], tuple[bool, int]] = {}


def map_arguments(mask: int, args: str) -> tuple[bool, int]:
    """For a callee writing through the parameters in ``mask``, called with argument codes
    ``args``: (whether a write lands elsewhere, the caller's parameters written as a mask)."""
    key = (mask, args)
    hit = _MAPPED.get(key)
    if hit is not None:
        return hit
    elsewhere, mine, k = False, 0, 0
    while mask:
        if mask & 1:
            code = args[k] if k < len(args) else ARG_ELSEWHERE
            if code != ARG_LOCAL:
                index = param_of_arg(code)
                if index >= 0:
                    mine |= 1 << index
                else:
                    elsewhere = True  # a global, a local pointer's target, ...
        mask >>= 1
        k += 1
    if len(_MAPPED) < 100_000:
        _MAPPED[key] = (elsewhere, mine)
    return elsewhere, mine


def passed_up(callee: int, args: str) -> int:
    """What a call brings to its caller's effects, both in working form."""
    mask = params_mask(callee)
    bits = callee & _FLOWING
    if not mask:
        return bits
    elsewhere, mine = map_arguments(mask, args)
    if elsewhere:
        bits |= _MUTATES
    return bits | (mine << PARAM_SHIFT)


def at_call(callee: int, args: str | None) -> int:
    """The stored effects of a callee as one call with argument codes ``args`` sees them: a
    state change only when a write reaches beyond the caller's own locals (``args`` None: as
    if every argument reached elsewhere)."""
    if not callee & _PARAMS_ONLY or args is None:
        return callee
    elsewhere, mine = map_arguments(params_mask(callee), args)
    if elsewhere or mine:
        return callee
    return callee & ~(_MUTATES | _PARAMS_ONLY | _PARAMS)


def merge_arguments(a: str, b: str) -> str:
    """Argument codes that cover two calls of the same callee (two parameters of the caller
    at one position: elsewhere)."""
    if a == b:
        return a
    out = []
    for k in range(max(len(a), len(b))):
        x = a[k] if k < len(a) else ARG_ELSEWHERE
        y = b[k] if k < len(b) else ARG_ELSEWHERE
        if x == y or y == ARG_LOCAL:
            out.append(x)
        elif x == ARG_LOCAL:
            out.append(y)
        else:
            out.append(ARG_ELSEWHERE)
    return "".join(out).rstrip(ARG_ELSEWHERE)


__all__ = ["GIVEN_BACK", "params_mask", "finished", "working", "map_arguments", "passed_up",
           "at_call", "merge_arguments"]
