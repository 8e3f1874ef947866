"""Identifiers as words: ``__skb_vlan_pop`` -> skb, vlan, pop; ``ReadRegister32`` -> read,
register, 32."""

from __future__ import annotations

import re
from functools import lru_cache

_CAMEL = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")


@lru_cache(maxsize=65536)
def split_words(identifier: str) -> tuple[str, ...]:
    """Lower-case words of an identifier: snake_case, camelCase and digit runs split apart;
    leading and trailing underscores dropped."""
    words: list[str] = []
    for part in identifier.strip("_").split("_"):
        if not part:
            continue
        if part.isalpha() and part.islower():
            words.append(part)
        else:
            words.extend(w.lower() for w in _CAMEL.findall(part))
    return tuple(words)
