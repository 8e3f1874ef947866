"""Package data (TOML files shipped in ``misnomer/data``)."""

from __future__ import annotations

import sys
from functools import lru_cache
from importlib import resources

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib


@lru_cache(maxsize=None)
def load_toml(name: str) -> dict:
    text = resources.files("misnomer").joinpath("data", name).read_text("utf-8")
    return tomllib.loads(text)


def parse_toml(text: str) -> dict:
    return tomllib.loads(text)
