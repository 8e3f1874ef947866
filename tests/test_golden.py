"""Golden tests: `misnomer explain NAME --format json` for selected fixture functions, compared
with tests/golden/<fixture>.<name>.json.

Regenerate with `pytest tests/test_golden.py --update-golden`, then read every changed file
before committing it: a golden file states what a careful C reader expects, not whatever the
tool printed.  Cases listed in KNOWN_WRONG hold the *correct* expectation, written by hand; the
tool's output differs, so they are strict xfails and --update-golden never overwrites them.
"""

from __future__ import annotations

import json

import pytest

from helpers import GOLDEN, index_tree

CASES = {
    "idioms": [
        "ring_count", "ring_is_full", "ring_reset",
        "table_load", "table_prepare", "table_slot",
        "gadget_setup",
        "knob_level", "knob_set_level",
        "sys_countwrite", "sys_countzero",
        "probe_is_ready", "probe_early_setup", "probe_flags",
        "bag_weight", "bag_mark_heavy",
        "knr_add",
        "meter_read_clamped", "meter_update_peak",
        "clock_rate",
        "engine_kick", "engine_idle",
        "blob_get_len", "blob_get_info", "blob_bump_len",
        "stats_packets", "stats_lock", "stats_count",
    ],
    "shapes": [
        "dict_count", "dict_is_full", "dict_find", "dict_value_or", "dict_is_empty",
        "request_validate", "request_check_flags", "request_warn_empty",
        "tree_load_root", "tree_ensure_root", "pool_ensure_buf", "shelf_ensure_capacity",
        "tree_prepare", "tree_prepare_checked", "pool_ensure_buf_short",
        "port_set_speed", "port_enable", "port_alloc_ring", "port_note_event", "port_register",
        "widget_nop", "widget_stub_init", "widget_max_children",
    ],
}

# (fixture, name) -> why the tool's output is wrong.  The golden file holds the right answer.
KNOWN_WRONG: dict[tuple[str, str], str] = {}


def golden_path(fixture: str, name: str):
    return GOLDEN / f"{fixture}.{name}.json"


def normalise(obj: dict, root) -> dict:
    """Nothing in the explain output may depend on where the tree was indexed."""
    text = json.dumps(obj, indent=2, ensure_ascii=False)
    assert str(root) not in text, "explain output contains the absolute path of the tree"
    return json.loads(text)


def _params():
    for fixture, names in CASES.items():
        for name in names:
            reason = KNOWN_WRONG.get((fixture, name))
            marks = [pytest.mark.xfail(strict=True, reason=f"tool bug: {reason}")] if reason \
                else []
            yield pytest.param(fixture, name, marks=marks, id=f"{fixture}.{name}")


@pytest.mark.parametrize("fixture, name", list(_params()))
def test_explain_matches_golden(indexed, update_golden, fixture, name):
    tree = indexed(fixture)
    path = golden_path(fixture, name)
    if update_golden and (fixture, name) not in KNOWN_WRONG:
        actual = normalise(tree.explain(name), tree.root)
        path.write_text(json.dumps(actual, indent=2, ensure_ascii=False) + "\n")
        return
    assert path.is_file(), f"no golden file {path.name}; run pytest --update-golden"
    expected = json.loads(path.read_text())
    actual = normalise(tree.explain(name), tree.root)
    assert actual == expected


def test_every_golden_file_belongs_to_a_case():
    wanted = {golden_path(f, n).name for f, names in CASES.items() for n in names}
    present = {p.name for p in GOLDEN.glob("*.json")}
    assert present == wanted


def test_known_wrong_cases_are_cases():
    assert set(KNOWN_WRONG) <= {(f, n) for f, names in CASES.items() for n in names}


def test_golden_files_are_explain_version_1():
    for path in sorted(GOLDEN.glob("*.json")):
        data = json.loads(path.read_text())
        assert data["version"] == 1, path.name
        assert data["definitions"], path.name
        assert all(d["name"] == data["name"] for d in data["definitions"]), path.name


def test_explain_does_not_depend_on_where_or_how_often_the_tree_is_indexed(indexed,
                                                                             fresh_index):
    fresh = fresh_index("shapes")
    first = fresh.explain("tree_ensure_root")
    assert first == indexed("shapes").explain("tree_ensure_root")
    index_tree(fresh.root)  # a second, incremental run over the unchanged tree
    assert fresh.explain("tree_ensure_root") == first
