"""A configuration drawn again trains a new curve (``ReplicateSeeds``), in the simulator
and in Ray Tune's replay of a search, as each trial of a real search has a seed of its own;
a recorded table gives a configuration each of its recorded curves before any again."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from raysearch.search.simulation.curves import ReplicateSeeds
from raysearch.search.simulation.engine import SEED_KEY, SimSettings, simulate
from raysearch.search.simulation.runs import retrained
from raysearch.search.simulation.table import TableCurves


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
    replicates = ReplicateSeeds()
    seen: dict[int, list[int]] = {}
    for config, seed in draws:
        drawn = replicates.seed({"size": config}, seed)
        got = int(table.curve({"size": config}, drawn).value(1)) - 10 * config
        had = seen.setdefault(config, [])
        if not had:
            assert drawn == seed
        else:
            assert got == (had[0] + len(had)) % seeds
        had.append(got)
    for had in seen.values():
        assert len(set(had[:seeds])) == len(had[:seeds])


class _Again:
    """Draws the configuration {"size": 0} every time, trial i with seed 2 * i: seeds that
    all pick the first of two recorded seeds."""

    def __init__(self) -> None:
        self.drawn = 0

    def next_trial(self, trial_id: str) -> Mapping[str, Any]:
        self.drawn += 1
        return {"size": 0, SEED_KEY: 2 * (self.drawn - 1)}

    def on_result(self, trial_id: str, epoch: int, value: float) -> bool:
        return True

    def on_end(self, trial_id: str, stopped: bool) -> None:
        pass


def test_the_simulator_gives_a_configuration_drawn_again_its_other_recorded_curve() -> None:
    """Trial seeds 0, 2, 4 pick the same one of two recorded seeds; with fresh replicates
    (the default) the second trial trains the other curve, and each trial's row says the
    seed its curve was drawn with beside its own."""
    table = _table(1, 2)
    fresh = simulate(_Again(), table, SimSettings(workers=1, num_trials=3))
    assert fresh.epochs.sort_values("trial")["value"].tolist() == [0.0, 1.0, 0.0]
    assert fresh.trials["seed"].tolist() == [0, 2, 4]
    assert fresh.trials["curve_seed"].tolist() == [0, 1, 2]
    same = SimSettings(workers=1, num_trials=3, fresh_replicates=False)
    alone = simulate(_Again(), table, same)
    assert alone.epochs["value"].tolist() == [0.0, 0.0, 0.0]
    assert alone.trials["curve_seed"].tolist() == [0, 2, 4]


def test_each_search_counts_its_own_trials() -> None:
    table = _table(1, 2)
    for _ in range(2):  # a second search on the same source starts from its first curve
        run = simulate(_Again(), table, SimSettings(workers=1, num_trials=2))
        assert run.epochs["value"].tolist() == [0.0, 1.0]


class _Script:
    """Draws the sizes given, in order; trial i with seed i."""

    def __init__(self, sizes: list[int]) -> None:
        self.sizes = sizes
        self.drawn = 0

    def next_trial(self, trial_id: str) -> Mapping[str, Any]:
        self.drawn += 1
        return {"size": self.sizes[self.drawn - 1], SEED_KEY: self.drawn - 1}

    def on_result(self, trial_id: str, epoch: int, value: float) -> bool:
        return True

    def on_end(self, trial_id: str, stopped: bool) -> None:
        pass


@settings(max_examples=40, deadline=None)
@given(seeds=st.integers(1, 3), sizes=st.lists(st.integers(0, 2), min_size=1, max_size=20))
def test_the_trials_that_train_a_curve_again_are_those_past_the_tables_seeds(
    seeds: int, sizes: list[int]
) -> None:
    """With fresh replicates a configuration drawn n times trains a curve again n - S times
    (S: the table's seeds of it); with each trial's own seed, it may sooner."""
    table = _table(3, seeds)
    run = simulate(_Script(sizes), table, SimSettings(workers=1, num_trials=len(sizes)))
    drawn = [sizes.count(c) for c in set(sizes)]
    assert retrained(run, table) == sum(max(0, n - seeds) for n in drawn)
    alone = SimSettings(workers=1, num_trials=len(sizes), fresh_replicates=False)
    assert retrained(simulate(_Script(sizes), table, alone), table) >= retrained(run, table)
