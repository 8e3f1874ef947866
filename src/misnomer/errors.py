"""Errors a user can act on.  The CLI prints their message and exits with status 2."""

from __future__ import annotations


class MisnomerError(Exception):
    """A problem with the user's input or environment, explained in its message."""


class IndexMissing(MisnomerError):
    pass


class IncompatibleIndex(MisnomerError):
    pass


class IndexBusy(MisnomerError):
    pass


class ConfigError(MisnomerError):
    pass
