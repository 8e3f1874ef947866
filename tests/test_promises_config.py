"""`promises` in the configuration: a tree that holds more verbs to a promise than the defaults
(here `load` to acting every time) gets them judged so."""

from __future__ import annotations

import json

import pytest

from helpers import run_cli

CACHE = """\
struct cache { int valid; void *data; };

static int cache_fill(struct cache *c)
{
	c->data = (void *)1;
	c->valid = 1;
	return 0;
}

int cache_load(struct cache *c)
{
	if (c->valid)
		return 0;
	return cache_fill(c);
}

int cache_reload(struct cache *c)
{
	if (c->valid)
		return 0;
	return cache_fill(c);
}
"""


def _findings(tree) -> set[tuple[str, str]]:
    result = run_cli("check", str(tree), "--format", "json", "-q")
    assert result.exit_code in (0, 1), result.output
    return {(f["function"], f["rule"]) for f in json.loads(result.stdout)["findings"]}


def test_load_is_not_held_to_acting_every_time_by_default(tmp_path):
    (tmp_path / "cache.c").write_text(CACHE)
    (tmp_path / ".misnomer.toml").write_text("")
    assert _findings(tmp_path) == {("cache_reload", "MN101")}


def test_a_tree_can_hold_load_to_acting_every_time(tmp_path):
    (tmp_path / "cache.c").write_text(CACHE)
    (tmp_path / ".misnomer.toml").write_text('[promises]\nunconditional_action = ["load"]\n')
    assert _findings(tmp_path) == {("cache_reload", "MN101"), ("cache_load", "MN101")}


@pytest.mark.parametrize("text, message", [
    ('promises = ["load"]\n', "`promises` must be a table of lists of verbs"),
    ('[promises]\nunconditonal = ["load"]\n', "unknown promise(s) unconditonal"),
])
def test_bad_promises_are_a_clear_configuration_error(tmp_path, text, message):
    (tmp_path / "cache.c").write_text(CACHE)
    (tmp_path / ".misnomer.toml").write_text(text)
    result = run_cli("check", str(tmp_path), "-q")
    assert result.exit_code == 2
    assert message in result.output
