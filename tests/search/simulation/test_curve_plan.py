"""What a recording says it was recorded for, and how a plan that differs is said."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from raysearch.search.simulation.curve_plan import another_plan, changes, fixed_changes

# names with their other spelling (an alias and its dotted path), the field's default and a
# value that is not it
_FIELDS = [
    ("lr", "trainer.lr", 0.001, 0.01),
    ("size", "model.size", "small", "tiny"),
    ("dropout", "model.dropout", 0.1, 0.3),
    ("daily_window", "data.daily_window", 365, 60),
    ("synth_days", "data.synth.days", 1095, 420),
]
_GIVEN = st.sampled_from(["default", "other"])
_FIXED = st.dictionaries(st.integers(0, len(_FIELDS) - 1), _GIVEN, max_size=len(_FIELDS))
_CONFIGS = st.lists(st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 2)), max_size=4)


def _fixed(given: dict[int, str], dotted: set[int] = frozenset()) -> dict[str, Any]:
    """The fields ``given`` at their default or another value, named by the dotted path
    where ``dotted`` says so, by the short name otherwise."""
    fixed = {}
    for i, which in given.items():
        name, path, default, other = _FIELDS[i]
        fixed[path if i in dotted else name] = default if which == "default" else other
    return fixed


def _plan(fixed: dict[str, Any], configs: list[dict[str, Any]], seeds: int, epochs: int) -> dict:
    return {
        "configs": configs,
        "seeds": list(range(seeds)),
        "epochs": epochs,
        "fixed": fixed,
        "generator": 3,
        "data": None,
    }


@given(_FIXED, _FIXED, st.sets(st.integers(0, len(_FIELDS) - 1)))
def test_fixed_changes_name_the_fields_set_otherwise_however_they_are_named(
    before: dict[int, str], now: dict[int, str], dotted: set[int]
) -> None:
    """Compared by field: 'lr' is 'trainer.lr', and a default given is the default left
    (a space that writes size: small trains what a table recorded without it did)."""
    said = fixed_changes(_fixed(before), _fixed(now, dotted))
    differ = [i for i in range(len(_FIELDS)) if before.get(i, "default") != now.get(i, "default")]
    assert len(said) == len(differ)
    for i in differ:
        name, path, default, other = _FIELDS[i]
        shown = [line for line in said if line.split(":")[0] in (name, path)]
        assert len(shown) == 1, (said, name)
        was = default if before.get(i, "default") == "default" else other
        assert f": {'not set (' if i not in before else ''}{was!r}" in shown[0]
    assert len(fixed_changes(_fixed(now, dotted), _fixed(before))) == len(differ)


@given(_FIXED, _FIXED, _CONFIGS, _CONFIGS, st.integers(1, 3), st.integers(1, 3))
def test_a_change_is_said_for_each_part_that_differs_and_only_then(
    given: dict, other_given: dict, configs: list, other_configs: list, seeds: int, epochs: int
) -> None:
    fixed, other_fixed = _fixed(given), _fixed(other_given)
    before = _plan(fixed, configs, seeds, epochs)
    assert changes(before, before) == []
    now = _plan(other_fixed, other_configs, seeds + 1, epochs)
    said = changes(before, now)
    assert any(s.startswith("seeds: ") for s in said)
    assert not any(s.startswith("epochs: ") for s in said)
    trains_otherwise = {i: given.get(i, "default") for i in range(len(_FIELDS))} != {
        i: other_given.get(i, "default") for i in range(len(_FIELDS))
    }
    assert any(s.startswith("fixed values ") for s in said) is (fixed != other_fixed)
    assert any(s.startswith("fixed values given otherwise") for s in said) is (
        fixed != other_fixed and not trains_otherwise
    )
    grids = [{repr(sorted(c.items())) for c in g} for g in (configs, other_configs)]
    assert any(s.startswith("the grid: ") for s in said) is (grids[0] != grids[1])


def test_a_plan_that_does_not_say_what_it_was_recorded_for_is_named_by_fingerprint() -> None:
    now = _plan({"lr": 0.01}, [{"a": 1}], 1, 3)
    assert another_plan({"plan": "0123"}, "4567", now) == (
        "recorded for another grid, seeds, epochs or data (plan '0123', now '4567')"
    )
    before = {"plan": "0123", "recorded": _plan({"lr": 0.001}, [{"a": 1}], 1, 3)}
    assert another_plan(before, "4567", now) == (
        "recorded for another plan: fixed values lr: 0.001 -> 0.01"
    )
    renamed = {"plan": "0123", "recorded": _plan({"trainer.lr": 0.01}, [{"a": 1}], 1, 3)}
    assert another_plan(renamed, "4567", now) == (
        "recorded for another plan: fixed values given otherwise, to the same effect: "
        "['trainer.lr'] then, ['lr'] now"
    )
    data = {"plan": "0123", "recorded": {**now, "data": "digest-a"}}
    assert another_plan(data, "4567", {**now, "data": "digest-b"}) == (
        "recorded for another plan: the data: the dataset's files changed since"
    )
    synthetic = {"plan": "0123", "recorded": now}
    assert another_plan(synthetic, "4567", {**now, "data": "digest-b"}) == (
        "recorded for another plan: the data: synthetic then, a dataset now"
    )
