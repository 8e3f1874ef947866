"""Configuration: defaults, then ``[tool.misnomer]`` in pyproject.toml or ``.misnomer.toml`` at
the root of the tree, then command-line flags (applied by the CLI)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .errors import ConfigError
from .names import VerbVocabulary
from .resources import parse_toml

KNOWN_KEYS = {
    "exclude": "list of glob patterns of paths not to index",
    "primitives": "additions to the base lexicon of primitives (same keys as primitives.toml)",
    "macros": "additions to the built-in macro list (same keys as c_macros.toml)",
    "select": "rules to report (IDs or symbols, or prefixes)",
    "ignore": "rules not to report",
    "verbs": "extra words to read as verbs",
    "promises": "extra verbs per promise (unconditional_action = [\"load\"], predicate, check, "
                "...: the lists of data/verbs.toml)",
    "min_confidence": "findings below this confidence are not reported",
}


@dataclass
class Config:
    source: Path | None = None
    exclude: list[str] = field(default_factory=list)
    primitives: dict = field(default_factory=dict)
    macros: dict = field(default_factory=dict)
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    verbs: list[str] = field(default_factory=list)
    promises: dict[str, list[str]] = field(default_factory=dict)
    min_confidence: float = 0.0


def load_config(root: Path) -> Config:
    """The configuration of the tree at ``root`` (``.misnomer.toml`` wins over pyproject)."""
    for name in (".misnomer.toml", "pyproject.toml"):
        path = root / name
        if not path.is_file():
            continue
        try:
            data = parse_toml(path.read_text("utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise ConfigError(f"{path}: cannot read the configuration: {exc}") from exc
        if name == "pyproject.toml":
            data = data.get("tool", {}).get("misnomer")
            if data is None:
                continue
        return _from_mapping(data, path)
    return Config()


def _from_mapping(data: dict, path: Path) -> Config:
    unknown = sorted(set(data) - set(KNOWN_KEYS))
    if unknown:
        known = ", ".join(sorted(KNOWN_KEYS))
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(unknown)} (known: {known})")
    config = Config(source=path)
    for key in ("exclude", "select", "ignore", "verbs"):
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{path}: `{key}` must be a list of strings")
        setattr(config, key, value)
    for key in ("primitives", "macros"):
        value = data.get(key, {})
        if not isinstance(value, dict):
            raise ConfigError(f"{path}: `{key}` must be a table")
        setattr(config, key, value)
    promises = data.get("promises", {})
    if not isinstance(promises, dict) or not all(
            isinstance(v, list) and all(isinstance(w, str) for w in v) for v in promises.values()):
        raise ConfigError(f"{path}: `promises` must be a table of lists of verbs")
    known_promises = set(VerbVocabulary.load().promise_sets)
    if set(promises) - known_promises:
        raise ConfigError(f"{path}: unknown promise(s) "
                          f"{', '.join(sorted(set(promises) - known_promises))} "
                          f"(known: {', '.join(sorted(known_promises))})")
    config.promises = promises
    confidence = data.get("min_confidence", 0.0)
    if not isinstance(confidence, (int, float)) or not 0 <= confidence <= 1:
        raise ConfigError(f"{path}: `min_confidence` must be a number from 0 to 1")
    config.min_confidence = float(confidence)
    return config
