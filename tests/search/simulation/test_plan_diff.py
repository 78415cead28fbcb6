"""How two recordings' plans differ: what changes the curves, and what only writes the same
plan otherwise; and how a space trains otherwise than a table's curves."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from raysearch.search.simulation.plan_diff import (
    changes,
    fixed_changes,
    held_plan,
    unlike_space,
    written_otherwise,
)

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
    assert any(s.startswith("fixed values ") for s in said) is trains_otherwise
    grids = [{repr(sorted(c.items())) for c in g} for g in (configs, other_configs)]
    assert any(s.startswith("the grid: ") for s in said) is (grids[0] != grids[1])


@given(_FIXED, _CONFIGS, st.sets(st.integers(0, len(_FIELDS) - 1)), st.randoms())
def test_the_same_plan_written_otherwise_is_one_recording(
    given: dict, configs: list, dotted: set[int], random
) -> None:
    """Another order of the grid, 0 for 0.0, lr for trainer.lr, a default given: another
    fingerprint, the same curves. Such a recording was refused, and with it hours of
    training."""
    before = _plan(_fixed(given), configs, 2, 3)
    respelled = [{k: float(v) for k, v in c.items()} for c in configs]
    random.shuffle(respelled)
    defaults = {_FIELDS[i][1]: _FIELDS[i][2] for i in range(len(_FIELDS)) if i not in given}
    now = _plan({**_fixed(given, dotted), **defaults}, respelled, 2, 3)
    assert changes(before, now) == []
    why, otherwise = held_plan({"plan": "a", "recorded": before}, "b", now)
    assert (
        why is None
        and otherwise == f"written otherwise ({'; '.join(written_otherwise(before, now))})"
    )
    assert held_plan({"plan": "b", "recorded": before}, "b", now) == (None, None)


def test_what_is_written_otherwise_is_named() -> None:
    before = _plan({"lr": 0.001, "size": "tiny"}, [{"a": 0.0}, {"a": 1.0}], 1, 3)
    now = _plan({"trainer.lr": 0.001, "size": "tiny", "dropout": 0.1}, [{"a": 1}, {"a": 0}], 1, 3)
    assert written_otherwise(before, now) == [
        "the grid's configurations in another order",
        "grid values written otherwise ({'a': 1} for {'a': 1.0})",
        "fixed values dropout, lr, trainer.lr given otherwise, to the same curves",
    ]


def test_fields_that_change_no_curve_and_defaults_given_as_lists_are_no_change() -> None:
    """A YAML list is a tuple default (kendall_clamp), and where a run trains, its loader
    processes, test scoring and seed change no curve: each was refused as another model."""
    given = {"kendall_clamp": [-2.0, 2.0], "num_workers": 2, "device": "cpu",
             "score_test": False, "seed": 7}  # fmt: skip
    assert fixed_changes({}, given) == []
    assert fixed_changes({"kendall_clamp": [-1.0, 1.0]}, given) == [
        "kendall_clamp: [-1.0, 1.0] -> [-2.0, 2.0]"
    ]


def test_a_plan_that_does_not_say_what_it_was_recorded_for_is_named_by_fingerprint() -> None:
    now = _plan({"lr": 0.01}, [{"a": 1}], 1, 3)
    assert held_plan({"plan": "0123"}, "4567", now) == (
        "recorded for another grid, seeds, epochs, fixed values or data (plan '0123', now '4567')",
        None,
    )
    before = {"plan": "0123", "recorded": _plan({"lr": 0.001}, [{"a": 1}], 1, 3)}
    assert held_plan(before, "4567", now)[0] == (
        "recorded for another plan: fixed values lr: 0.001 -> 0.01"
    )
    data = {"plan": "0123", "recorded": {**now, "data": "digest-a"}}
    assert held_plan(data, "4567", {**now, "data": "digest-b"})[0] == (
        "recorded for another plan: the data: the dataset's files changed since"
    )
    synthetic = {"plan": "0123", "recorded": now}
    assert held_plan(synthetic, "4567", {**now, "data": "digest-b"})[0] == (
        "recorded for another plan: the data: synthetic then, a dataset now"
    )


_HAN = _plan({"lr": 0.001}, [{"size": s, "dropout": d} for s in ("tiny", "small")
                             for d in (0.1, 0.3)], 2, 27)  # fmt: skip


def test_a_space_fixing_what_the_grid_varied_is_checked_against_the_tables_column() -> None:
    """A table cut to size tiny, simulated with a space that fixes size: tiny, was refused
    ('size: not set ('small' by default) -> 'tiny''); cut to dropout 0.3 with the column
    dropped, the space fixing dropout 0.3 was refused and one training 0.1 accepted; then
    any value was accepted, though the table could not say which its curves trained with.
    A grid that trained it with the space's value alone can say it."""
    tiny = {"size": ["tiny"], "dropout": [0.1, 0.3]}
    assert unlike_space(_HAN, {"lr": 0.001, "size": "tiny"}, ["dropout"], tiny) == []
    zero = {"size": ["tiny"], "dropout": [0.0]}  # the space writes 0 for the column's 0.0
    assert unlike_space(_HAN, {"size": "tiny", "dropout": 0}, [], zero) == []
    assert unlike_space(_HAN, {"size": "small"}, ["dropout"], tiny) == [
        "its column size holds 'tiny', but the space does not search size and trains with "
        "'small' (fixed as size): search it, or keep the rows of one value and fix it to that "
        "value"
    ]
    assert unlike_space(_HAN, {}, ["dropout"], tiny)[0].endswith(
        "trains with 'small' (its default): search it, or keep the rows of one value and fix "
        "it to that value"
    )
    both = {"size": ["small", "tiny"]}  # a column the space does not search, not cut
    assert "holds 'small', 'tiny'" in unlike_space(_HAN, {"size": "tiny"}, ["dropout"], both)[0]
    no_column = {"size": ["tiny"]}  # dropout's column dropped: what it held cannot be told
    for dropout in (0.3, 0.1):
        assert unlike_space(_HAN, {"size": "tiny", "dropout": dropout}, [], no_column) == [
            "the table has no column dropout, but its recording (the table's metadata) "
            f"trained dropout with 0.1, 0.3, and the space does not search dropout and trains "
            f"with {dropout!r} (fixed as dropout): the table cannot say which of its curves "
            "trained with that; keep its column dropout (cut to the rows of one value) and fix "
            "dropout to that value, or search it"
        ]
    assert "trains with 0.1 (its default)" in unlike_space(_HAN, {"size": "tiny"}, [], no_column)[0]
    one = _plan({}, [{"size": "tiny", "dropout": 0.3}], 2, 27)  # a grid of one dropout
    assert unlike_space(one, {"size": "tiny", "dropout": 0.3}, [], no_column) == []
    assert "trained dropout with 0.3, and" in unlike_space(one, {"size": "tiny"}, [], no_column)[0]
    assert unlike_space(_HAN, {"lr": 0.01, "size": "tiny"}, ["dropout"], tiny) == [
        "its curves were recorded with other fixed values than the space's (the table's -> "
        "the space's: lr: 0.001 -> 0.01); record the space's own curves (raysearch curves), "
        "or set its fixed values to the table's"
    ]
