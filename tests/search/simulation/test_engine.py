"""The simulator's clock: event order, k busy workers, stops that free workers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raysearch.search.simulation.curves import Curve
from raysearch.search.simulation.engine import SEED_KEY, SimSettings, simulate


class ScriptedSource:
    """Trial i's curve: the values and durations given for configuration {"i": i}."""

    name = "scripted"
    optimum = 0.0

    def __init__(self, durations: list[list[float]], values: list[list[float]] | None = None):
        self.durations = durations
        self.values = values or [[1.0 + i] * len(d) for i, d in enumerate(durations)]
        self.max_epochs = max(len(d) for d in durations)

    def curve(self, config: Mapping[str, Any], seed: int) -> Curve:
        i = int(config["i"])
        return Curve(np.array(self.values[i]), np.array(self.durations[i]))


class ScriptedPolicy:
    """Proposes trials 0, 1, 2, ...; stops trial i after epoch stop_at[i] (if given)."""

    def __init__(self, stop_at: dict[int, int] | None = None):
        self.stop_at = stop_at or {}
        self.calls: list[tuple[str, Any]] = []

    def next_trial(self, trial_id: str) -> Mapping[str, Any] | None:
        number = sum(1 for c in self.calls if c[0] == "next")
        self.calls.append(("next", trial_id))
        return {"i": number, SEED_KEY: 100 + number}

    def on_result(self, trial_id: str, epoch: int, value: float) -> bool:
        self.calls.append(("result", (trial_id, epoch, value)))
        return self.stop_at.get(int(trial_id.split("_")[1]), 10**9) > epoch

    def on_end(self, trial_id: str, stopped: bool) -> None:
        self.calls.append(("end", (trial_id, stopped)))


def test_events_are_heard_in_time_order_ties_in_schedule_order() -> None:
    # trial 0: epochs end at 2, 3; trial 1: at 1, 3 (a tie at 3: trial 1 scheduled it first)
    source = ScriptedSource([[2.0, 1.0], [1.0, 2.0]])
    result = simulate(ScriptedPolicy(), source, SimSettings(workers=2, num_trials=2))
    heard = [(r.trial, r.epoch, r.t) for r in result.epochs.itertuples()]
    assert heard == [(1, 1, 1.0), (0, 1, 2.0), (1, 2, 3.0), (0, 2, 3.0)]
    assert result.end == 3.0


def test_k_workers_stay_busy_and_a_freed_worker_starts_the_next_trial_at_once() -> None:
    durations = [[1.0 + (i % 3)] * 3 for i in range(9)]
    result = simulate(ScriptedPolicy(), ScriptedSource(durations), SimSettings(3, 9))
    trials = result.trials
    assert len(trials) == 9
    assert (trials["start"].iloc[:3] == 0.0).all()
    # every later trial starts the moment an earlier one ended
    ends = set(trials["end"].iloc[:-1])
    assert all(s in ends for s in trials["start"].iloc[3:])
    for t in np.linspace(0, result.end, 50, endpoint=False):
        running = ((trials["start"] <= t) & (trials["end"] > t)).sum()
        assert running == 3 or t >= trials["start"].max()


def test_a_stopped_trial_ends_and_frees_its_worker() -> None:
    source = ScriptedSource([[1.0] * 5, [1.0] * 5])
    policy = ScriptedPolicy(stop_at={0: 2})
    result = simulate(policy, source, SimSettings(workers=1, num_trials=2))
    first, second = result.trials.iloc[0], result.trials.iloc[1]
    assert (first["epochs"], bool(first["stopped"]), first["end"]) == (2, True, 2.0)
    assert second["start"] == 2.0 and not second["stopped"] and second["epochs"] == 5
    assert ("end", ("sim_00000", True)) in policy.calls
    assert ("end", ("sim_00001", False)) in policy.calls
    assert result.trials["seed"].tolist() == [100, 101]


def test_target_and_epoch_budget_end_the_run() -> None:
    source = ScriptedSource([[1.0] * 4] * 3, values=[[5, 4, 3, 2], [5, 1, 0, 0], [9] * 4])
    reached = simulate(ScriptedPolicy(), source, SimSettings(2, 3, target=1.0))
    assert reached.reached and reached.end == 2.0 and reached.best == 1.0
    budget = simulate(ScriptedPolicy(), source, SimSettings(1, 3, epoch_budget=6))
    assert len(budget.epochs) == 6 and not budget.reached
    assert budget.trials["epochs"].tolist() == [4, 2]


@settings(max_examples=40, deadline=None)
@given(
    workers=st.integers(1, 4),
    durations=st.lists(
        st.lists(st.floats(0.1, 5.0), min_size=1, max_size=6), min_size=1, max_size=12
    ),
    stops=st.dictionaries(st.integers(0, 11), st.integers(1, 6)),
)
def test_invariants_hold_for_any_durations_and_stops(
    workers: int, durations: list[list[float]], stops: dict[int, int]
) -> None:
    source = ScriptedSource(durations)
    result = simulate(ScriptedPolicy(stops), source, SimSettings(workers, len(durations)))
    assert len(result.trials) == len(durations)
    for row in result.trials.itertuples():
        mine = result.epochs[result.epochs["trial"] == row.trial]
        expected = min(len(durations[row.trial]), stops.get(row.trial, 10**9))
        assert mine["epoch"].tolist() == list(range(1, expected + 1))
        # epoch e ends at the trial's start plus its first e durations
        ends = row.start + np.cumsum(durations[row.trial][:expected])
        np.testing.assert_allclose(mine["t"].to_numpy(), ends)
        assert bool(row.stopped) == (expected < len(durations[row.trial]))
    assert result.epochs["t"].is_monotonic_increasing
    starts, ends = result.trials["start"].to_numpy(), result.trials["end"].to_numpy()
    for t in starts:
        assert ((starts <= t) & (ends > t)).sum() <= workers


def test_settings_refuse_bad_values_naming_them() -> None:
    with pytest.raises(ValueError, match="workers must be >= 1, got 0"):
        SimSettings(workers=0, num_trials=1)
    with pytest.raises(ValueError, match="epoch_budget must be >= 1, got 0"):
        SimSettings(workers=1, num_trials=1, epoch_budget=0)
