"""bench.scaling's han-fresh benchmark: the HAN table with each trial of a configuration on a
recorded seed it has not had yet (``FreshReplicates``), beside the table as it is."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.scaling.benchmarks import BENCHMARKS, MAIN_BENCHMARKS, FreshReplicates, load
from raysearch.search.simulation.curves import Curve
from raysearch.search.simulation.table import TableCurves


def _values(curve: Curve) -> list[float]:
    return [curve.value(epoch) for epoch in range(1, curve.epochs + 1)]


def _table(configs: int, seeds: int) -> TableCurves:
    """Curves whose one epoch says which they are: 10 * configuration + recorded seed (the
    recorded seeds 3, 5, 7, ...: not 0 to S - 1, so a seed is picked by its rank)."""
    rows = [(c, 3 + 2 * s, 1, 10.0 * c + s, 1.0) for c in range(configs) for s in range(seeds)]
    columns = ["size", "seed", "epoch", "anchored_val_loss", "epoch_time_s"]
    return TableCurves(pd.DataFrame(rows, columns=columns), ("size",))


@settings(max_examples=60, deadline=None)
@given(
    seeds=st.integers(1, 4),
    draws=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 10**6)), max_size=30),
)
def test_a_configurations_trials_go_through_its_recorded_seeds_before_any_again(
    seeds: int, draws: list[tuple[int, int]]
) -> None:
    """Whatever seeds the trials bring: a configuration's j-th trial gets the recorded seed
    j on from its first trial's (so its first S trials see S different curves, and trial
    j + S the curve of trial j), its first trial the one its own seed picks, as the table
    alone gives it; each configuration counts its own trials."""
    table = _table(3, seeds)
    fresh = FreshReplicates(table, name="fresh")
    seen: dict[int, list[int]] = {}
    for config, seed in draws:
        got = int(fresh.curve({"size": config}, seed).value(1)) - 10 * config
        had = seen.setdefault(config, [])
        if not had:
            assert got == int(table.curve({"size": config}, seed).value(1)) - 10 * config
        else:
            assert got == (had[0] + len(had)) % seeds
        had.append(got)
    for had in seen.values():
        assert len(set(had[:seeds])) == len(had[:seeds])


def test_the_table_alone_gives_a_configuration_one_curve_twice_where_fresh_ones_do_not() -> None:
    """Trial seeds 0 and 2 (the search's seed plus trial numbers 0 and 2) pick the same
    recorded seed of two in the table; the fresh view gives the second trial the other."""
    table = _table(1, 2)
    assert table.curve({"size": 0}, 0).value(1) == table.curve({"size": 0}, 2).value(1)
    fresh = FreshReplicates(table, name="fresh")
    assert [fresh.curve({"size": 0}, s).value(1) for s in (0, 2, 4)] == [0.0, 1.0, 0.0]


def test_an_unknown_configuration_is_refused_and_counts_no_trial() -> None:
    fresh = FreshReplicates(_table(1, 2), name="fresh")
    with pytest.raises(ValueError, match="no curves for"):
        fresh.curve({"size": 9}, 0)
    assert fresh.curve({"size": 0}, 1).value(1) == 1.0  # its first trial: seed 1 picks the 2nd
    assert (fresh.max_epochs, fresh.optimum) == (1, 0.0)


def test_han_fresh_gives_each_search_a_fresh_view_and_runs_only_when_named() -> None:
    """Each load is one search's: a view that counts no trial of another search. The main
    runs (no --benchmarks) leave the variant out."""
    _, first = load("han-fresh")
    _, second = load("han-fresh")
    _, han = load("han")
    assert isinstance(first, FreshReplicates) and first is not second
    config = first.configurations[0]
    seed_0, seed_1 = _values(han.curve(config, 0)), _values(han.curve(config, 1))
    assert seed_0 != seed_1  # two recorded seeds, two curves
    assert _values(first.curve(config, 0)) == seed_0
    assert _values(first.curve(config, 0)) == seed_1  # its second trial: the other seed
    assert _values(second.curve(config, 0)) == seed_0  # a new search: its first trial
    assert (first.optimum, first.max_epochs) == (han.optimum, han.max_epochs)
    assert BENCHMARKS["han-fresh"].variant_of == "han"
    assert "han-fresh" not in MAIN_BENCHMARKS and "han" in MAIN_BENCHMARKS

    from bench.scaling.__main__ import _parse

    assert _parse([]).benchmarks == MAIN_BENCHMARKS
    assert _parse(["--benchmarks", "han", "han-fresh"]).benchmarks == ["han", "han-fresh"]


def test_a_table_on_a_variant_is_introduced_as_one_unless_this_table_has_it_too() -> None:
    """Beside the main table (no han-fresh runs), the replicates' table is said to be the
    HAN table seen with fresh replicates; beside the replicates' own table, a table on
    other seeds with the same benchmarks is a run on fresh seeds."""
    from bench.scaling.report import beside_lines

    target = {"name": "k=64 ...", "figure": "han-fresh 53.7x", "met": True, "bound": None}
    other = {
        "meta": {"seeds": [0, 1], "command": "python -m bench.scaling --benchmarks han han-fresh"},
        "runs": [{"bench": "han"}, {"bench": "han-fresh"}],
        "targets": [target],
    }
    beside_main = "\n".join(beside_lines(other, "scaling_replicates", [0, 1], mine={"han"}))
    assert "a recorded seed it has not had yet (`han-fresh`)" in beside_main
    assert "on seeds 0-1, the same targets read ([scaling_replicates/" in beside_main
    mine = {"han", "han-fresh"}
    fresh = {**other, "meta": {**other["meta"], "seeds": [1000, 1001]}}
    beside_own = "\n".join(beside_lines(fresh, "scaling_fresh", [0, 1], mine=mine))
    assert "has not had yet" not in beside_own and "On fresh seeds 1000-1001" in beside_own
