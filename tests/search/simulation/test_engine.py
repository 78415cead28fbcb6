"""The simulator's clock: event order, k busy workers, stops that free workers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raysearch.search.simulation.curves import Curve
from raysearch.search.simulation.engine import PAUSE, SEED_KEY, SimSettings, simulate


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


class PausingScript(ScriptedPolicy):
    """ScriptedPolicy that also pauses trial i after epoch pause_at[i] and resumes paused
    trials, oldest first, once ``wait`` other trials have started since it paused."""

    def __init__(self, pause_at: dict[int, int], stop_at: dict[int, int] | None = None):
        super().__init__(stop_at)
        self.pause_at = pause_at
        self.waiting: list[str] = []

    def on_result(self, trial_id: str, epoch: int, value: float) -> Any:
        go_on = super().on_result(trial_id, epoch, value)
        if go_on and self.pause_at.get(int(trial_id.split("_")[1])) == epoch:
            self.waiting.append(trial_id)
            return PAUSE
        return go_on

    def on_end(self, trial_id: str, stopped: bool) -> None:
        super().on_end(trial_id, stopped)
        if trial_id in self.waiting:  # paused at its last epoch: it ended instead
            self.waiting.remove(trial_id)

    def resume(self) -> str | None:
        started = sum(1 for c in self.calls if c[0] == "next")
        if self.waiting and started >= len(self.pause_at) + 1:
            self.calls.append(("resume", self.waiting[0]))
            return self.waiting.pop(0)
        return None


def test_a_paused_trial_frees_its_worker_and_resumes_from_its_next_epoch() -> None:
    # one worker: trial 0 pauses after epoch 1; trial 1 runs; then trial 0 resumes at epoch 2
    source = ScriptedSource([[1.0, 2.0, 2.0], [1.0, 1.0]])
    policy = PausingScript({0: 1})
    result = simulate(policy, source, SimSettings(workers=1, num_trials=2, start_s=0.5))
    heard = [(r.trial, r.epoch, r.t) for r in result.epochs.itertuples()]
    # 0.5 start + 1; trial 1 from 1.5: 3.0, 4.0; trial 0 restarts at 4.0: +0.5 +2, +2
    assert heard == [(0, 1, 1.5), (1, 1, 3.0), (1, 2, 4.0), (0, 2, 6.5), (0, 3, 8.5)]
    first = result.trials.iloc[0]
    assert (first["start"], first["end"], first["paused_s"]) == (0.0, 8.5, 2.5)
    assert (first["epochs"], bool(first["stopped"])) == (3, False)
    assert result.busy_fraction() == pytest.approx(1.0)
    assert ("resume", "sim_00000") in policy.calls
    assert [c[1] for c in policy.calls if c[0] == "end"] == [
        ("sim_00001", False),
        ("sim_00000", False),
    ]


def test_trials_still_paused_when_the_trials_run_out_end_as_stopped() -> None:
    source = ScriptedSource([[1.0] * 3, [1.0] * 3])
    policy = PausingScript({0: 1, 1: 2})
    policy.resume = lambda: None  # type: ignore[method-assign]  # never resumes
    result = simulate(policy, source, SimSettings(workers=1, num_trials=2))
    assert result.trials["epochs"].tolist() == [1, 2]
    assert result.trials["stopped"].tolist() == [True, True]
    assert result.trials["end"].tolist() == [1.0, 3.0]  # when each paused
    ends = [c[1] for c in policy.calls if c[0] == "end"]
    assert sorted(ends) == [("sim_00000", True), ("sim_00001", True)]


def test_a_policy_that_pauses_without_resume_is_refused_by_name() -> None:
    class Pauser(ScriptedPolicy):
        def on_result(self, trial_id: str, epoch: int, value: float) -> Any:
            return PAUSE

    with pytest.raises(ValueError, match="Pauser paused sim_00000 but has no resume"):
        simulate(Pauser(), ScriptedSource([[1.0] * 2]), SimSettings(1, 1))


@settings(max_examples=40, deadline=None)
@given(
    workers=st.integers(1, 4),
    durations=st.lists(
        st.lists(st.floats(0.1, 5.0), min_size=1, max_size=6), min_size=1, max_size=10
    ),
    pauses=st.dictionaries(st.integers(0, 9), st.integers(1, 5)),
    start_s=st.sampled_from([0.0, 0.7]),
)
def test_pausing_keeps_each_curve_whole_and_never_runs_more_than_k_at_once(
    workers: int, durations: list[list[float]], pauses: dict[int, int], start_s: float
) -> None:
    source = ScriptedSource(durations)
    policy = PausingScript(pauses)
    result = simulate(policy, source, SimSettings(workers, len(durations), start_s=start_s))
    assert len(result.trials) == len(durations)
    busy = []  # (from, to) of every stretch a trial held a worker
    for row in result.trials.itertuples():
        mine = result.epochs[result.epochs["trial"] == row.trial]
        epochs = mine["epoch"].tolist()
        assert epochs == list(range(1, len(epochs) + 1))  # no epoch lost or repeated
        assert row.epochs == len(epochs)
        # a trial not paused for good runs to its end; one paused for good stops there
        if not row.stopped:
            assert len(epochs) == len(durations[row.trial])
        own = []  # (from, to) of every stretch this trial held a worker
        t, held_from = row.start + start_s, row.start
        for epoch, heard in zip(epochs, mine["t"], strict=True):
            took = durations[row.trial][epoch - 1]
            if heard - (t + took) > 1e-9:  # it waited paused, and restarted start_s before
                own.append((held_from, t))
                held_from = heard - took - start_s
                assert held_from >= t - 1e-9
            t = heard
        own.append((held_from, t))
        assert row.end == pytest.approx(t)
        assert row.paused_s == pytest.approx(row.end - row.start - sum(b - a for a, b in own))
        busy += own
    for t in sorted({a + 1e-6 for a, _ in busy}):  # just after each stretch began
        assert sum(a <= t < b for a, b in busy) <= workers
    ends = [c[1][0] for c in policy.calls if c[0] == "end"]
    assert sorted(ends) == sorted(f"sim_{i:05d}" for i in range(len(durations)))
