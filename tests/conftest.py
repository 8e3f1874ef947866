"""Shared fixtures: indexed copies of the fixture trees and the --update-golden option."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # so test modules can `import helpers`

from helpers import FIXTURES, explain_json, index_tree  # noqa: E402


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="rewrite tests/golden/*.json from the current explain output "
                          "(except for cases marked as known tool bugs)")


@pytest.fixture(scope="session")
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden"))


class IndexedTree:
    """A fixture directory copied to a temporary place and indexed."""

    def __init__(self, root: Path, db: Path) -> None:
        self.root = root
        self.db = db

    def explain(self, name: str) -> dict:
        return explain_json(self.db, name)

    def definition(self, name: str) -> dict:
        defs = self.explain(name)["definitions"]
        assert len(defs) == 1, f"{name}: expected one definition, got {len(defs)}"
        return defs[0]


@pytest.fixture(scope="session")
def indexed(tmp_path_factory: pytest.TempPathFactory):
    """``indexed("idioms")``: tests/fixtures/idioms copied and indexed once per session."""
    cache: dict[str, IndexedTree] = {}

    def get(fixture: str) -> IndexedTree:
        if fixture not in cache:
            root = tmp_path_factory.mktemp(fixture) / fixture
            shutil.copytree(FIXTURES / fixture, root)
            cache[fixture] = IndexedTree(root, index_tree(root))
        return cache[fixture]

    return get


@pytest.fixture
def copy_fixture(tmp_path: Path):
    """``copy_fixture("idioms")``: a fresh copy of a fixture directory (not indexed), for
    tests that modify the tree."""

    def copy(fixture: str) -> Path:
        dest = tmp_path / fixture
        shutil.copytree(FIXTURES / fixture, dest)
        return dest

    return copy


@pytest.fixture
def fresh_index(copy_fixture):
    """``fresh_index("idioms")``: a fresh copy of a fixture directory, indexed, for tests that
    change the tree or the index (the session-wide ``indexed`` trees must stay untouched)."""

    def make(fixture: str) -> IndexedTree:
        root = copy_fixture(fixture)
        return IndexedTree(root, index_tree(root))

    return make
