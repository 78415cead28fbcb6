"""What a recording says it was recorded for, and how a plan that differs is said."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from raysearch.search.simulation.curve_plan import another_plan, changes, fixed_changes

_NAMES = st.sampled_from(["lr", "size", "dropout", "daily_window", "data.synth.days"])
_VALUES = st.one_of(st.integers(0, 3), st.sampled_from(["tiny", "small"]), st.none())
_FIXED = st.dictionaries(_NAMES, _VALUES, max_size=4)
_CONFIGS = st.lists(st.dictionaries(st.sampled_from(["a", "b"]), st.integers(0, 2)), max_size=4)


def _plan(fixed: dict[str, Any], configs: list[dict[str, Any]], seeds: int, epochs: int) -> dict:
    return {
        "configs": configs,
        "seeds": list(range(seeds)),
        "epochs": epochs,
        "fixed": fixed,
        "generator": 3,
        "data": None,
    }


@given(_FIXED, _FIXED)
def test_fixed_changes_name_exactly_the_values_that_differ(
    before: dict[str, Any], now: dict[str, Any]
) -> None:
    said = fixed_changes(before, now)
    differ = sorted(
        n for n in {*before, *now} if n not in before or n not in now or before[n] != now[n]
    )
    assert [line.split(":")[0] for line in said] == differ
    for line in said:
        name = line.split(":")[0]
        shown = repr(now[name]) if name in now else "not set"
        assert line.endswith(f"-> {shown}")


@given(_FIXED, _FIXED, _CONFIGS, _CONFIGS, st.integers(1, 3), st.integers(1, 3))
def test_a_change_is_said_for_each_part_that_differs_and_only_then(
    fixed: dict, other_fixed: dict, configs: list, other_configs: list, seeds: int, epochs: int
) -> None:
    before = _plan(fixed, configs, seeds, epochs)
    assert changes(before, before) == []
    now = _plan(other_fixed, other_configs, seeds + 1, epochs)
    said = changes(before, now)
    assert any(s.startswith("seeds: ") for s in said)
    assert not any(s.startswith("epochs: ") for s in said)
    assert any(s.startswith("fixed values ") for s in said) is (fixed != other_fixed)
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
    data = {"plan": "0123", "recorded": {**now, "data": "digest-a"}}
    assert another_plan(data, "4567", {**now, "data": "digest-b"}) == (
        "recorded for another plan: the data: the dataset's files changed since"
    )
    synthetic = {"plan": "0123", "recorded": now}
    assert another_plan(synthetic, "4567", {**now, "data": "digest-b"}) == (
        "recorded for another plan: the data: synthetic then, a dataset now"
    )
