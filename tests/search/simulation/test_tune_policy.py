"""Ray Tune's searcher and scheduler driven by the simulator through Tune's interfaces."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pytest
from ray.tune.schedulers import FIFOScheduler
from ray.tune.search import Searcher

from raysearch.core.metrics import VAL_METRIC
from raysearch.search.scheduler import build_scheduler
from raysearch.search.searcher import build_searcher
from raysearch.search.settings import SearchSettings
from raysearch.search.simulation.curves import Curve
from raysearch.search.simulation.engine import SimSettings, simulate
from raysearch.search.simulation.tune_policy import TunePolicy
from raysearch.search.space import ParamSpec, SearchSpace


class FlatSource:
    """A trial reports x every epoch (epochs of 1 s): ASHA keeps the small x's."""

    name = "flat"
    optimum = 0.0
    max_epochs = 9

    def curve(self, config: Mapping[str, Any], seed: int) -> Curve:
        return Curve(np.full(9, float(config["x"])), np.ones(9))


def _space(**settings: Any) -> SearchSpace:
    base = SearchSettings(num_samples=30, max_epochs=9, grace_period=1, reduction_factor=3)
    s = base.replaced(**settings)  # fifo: ASHA's settings set aside
    return SearchSpace("flat", "", s, {"x": ParamSpec(type="float", low=0.0, high=1.0)})


class Recording:
    """A scheduler wrapper that records every decision it hands back."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.decisions: list[tuple[str, int, str]] = []

    def on_trial_add(self, controller: Any, trial: Any) -> None:
        self.inner.on_trial_add(controller, trial)

    def on_trial_result(self, controller: Any, trial: Any, result: dict) -> str:
        decision = self.inner.on_trial_result(controller, trial, result)
        self.decisions.append((trial.trial_id, result["epoch"], decision))
        return decision

    def on_trial_complete(self, controller: Any, trial: Any, result: dict) -> None:
        self.inner.on_trial_complete(controller, trial, result)


def test_asha_decisions_reach_the_trials_and_optuna_hears_every_trial() -> None:
    space = _space(gate_unmeasured="asha")  # stops at ASHA's rungs, none deferred past them
    searcher = build_searcher(space, seed=3)
    scheduler = Recording(build_scheduler(space))
    policy = TunePolicy(searcher, scheduler, workers=4)
    result = simulate(policy, FlatSource(), SimSettings(workers=4, num_trials=30, seed=3))

    stops = {(t, e) for t, e, d in scheduler.decisions if d == "STOP"}
    ran = {f"sim_{r.trial:05d}": r for r in result.trials.itertuples()}
    assert stops, "ASHA stopped nothing: the check below would be empty"
    for trial_id, row in ran.items():
        stopped_at = [e for t, e in stops if t == trial_id and e < 9]
        if stopped_at:
            assert bool(row.stopped) and row.epochs == min(stopped_at)
            assert row.epochs in (1, 3)  # ASHA's rungs below max_t
        else:
            assert not row.stopped and row.epochs == 9
    # each trial trains with the seed the searcher gave it (the run's seed + trial number)
    assert result.trials["seed"].tolist() == [3 + n for n in range(30)]
    assert all(set(c) == {"x"} for c in result.configs)
    study = searcher._ot_study
    assert len(study.trials) == 30
    assert all(t.state.name == "COMPLETE" for t in study.trials)
    # each trial was told its best value (the product's metric), here x itself
    told = sorted(t.value for t in study.trials)
    assert told == pytest.approx(sorted(c["x"] for c in result.configs))


def test_fifo_runs_every_trial_to_the_end() -> None:
    space = _space(scheduler="fifo")
    policy = TunePolicy(build_searcher(space, 0), build_scheduler(space), workers=3)
    result = simulate(policy, FlatSource(), SimSettings(workers=3, num_trials=12))
    assert (result.trials["epochs"] == 9).all() and not result.trials["stopped"].any()


class PauseAtTwo:
    """A Tune scheduler that pauses every trial at epoch 2 and resumes the oldest paused
    trial once ``after`` trials have started (choose_trial_to_run, as Tune asks it)."""

    def __init__(self, after: int) -> None:
        self.after = after

    def on_trial_add(self, controller: Any, trial: Any) -> None:
        pass

    def on_trial_result(self, controller: Any, trial: Any, result: dict) -> str:
        return "PAUSE" if result["training_iteration"] == 2 else "CONTINUE"

    def choose_trial_to_run(self, controller: Any) -> Any:
        if len(controller.get_trials()) < self.after:
            return None
        return next((t for t in controller.get_trials() if t.status == "PAUSED"), None)

    def on_trial_complete(self, controller: Any, trial: Any, result: dict) -> None:
        pass


def test_a_scheduler_that_pauses_frees_the_worker_and_resumes_the_trial_it_chooses() -> None:
    space = _space()
    searcher = build_searcher(space, 0)
    policy = TunePolicy(searcher, PauseAtTwo(after=3), workers=2, limit_concurrency=False)
    result = simulate(policy, FlatSource(), SimSettings(workers=2, num_trials=3))
    trials = result.trials
    assert (trials["epochs"] == 9).all() and not trials["stopped"].any()
    # trials 0 and 1 pause at epoch 2: trial 2 takes a worker, the other resumes trial 0
    assert trials["paused_s"].iloc[0] == 0.0 and trials["paused_s"].iloc[1] > 0
    assert trials["start"].iloc[2] == 2.0
    assert all(t.status == "TERMINATED" for t in policy.controller.get_trials())
    # the searcher heard the paused trials' results: Optuna has every epoch of each
    study = searcher._ot_study  # Ray's OptunaSearch keeps its study there
    assert [len(t.intermediate_values) for t in study.trials] == [9, 9, 9]


def test_under_the_concurrency_limit_a_paused_trial_counts_as_live() -> None:
    """Tune's max_concurrent_trials counts paused trials, so with the limiter and a
    scheduler that resumes only later, the search runs out of trials to start."""
    space = _space()
    policy = TunePolicy(build_searcher(space, 0), PauseAtTwo(after=3), workers=2)
    result = simulate(policy, FlatSource(), SimSettings(workers=2, num_trials=3))
    assert len(result.trials) == 2 and result.trials["stopped"].all()


class _Flat:
    """Two epochs per trial, the second at 1 s + x: trial 0 (x = 0.1) ends at 2.1 s."""

    name, max_epochs, optimum = "flat", 2, 0.0

    def curve(self, config: dict[str, Any], seed: int) -> Curve:
        return Curve(np.array([1.0, 0.5]), np.array([1.0, 1.0 + config["x"]]))


class _Scripted(Searcher):
    """Suggests x = 0.1, 0.2, ...; at the call numbers in ``say`` it answers what they map
    to (``Searcher.FINISHED``, or None: nothing to suggest yet) instead."""

    def __init__(self, say: dict[int, str | None]) -> None:
        super().__init__(metric=VAL_METRIC, mode="min")
        self.say, self.calls = say, 0

    def suggest(self, trial_id: str) -> dict[str, float] | str | None:
        self.calls += 1
        if self.calls in self.say:
            return self.say[self.calls]
        return {"x": 0.1 * self.calls}

    def on_trial_complete(self, trial_id: str, result: Any = None, error: bool = False) -> None:
        pass


def test_a_searcher_that_says_finished_is_asked_no_more_and_its_trials_run_out() -> None:
    """Tune's SearchGenerator stops calling suggest once it has said FINISHED; the trial it
    had started still runs to its end."""
    searcher = _Scripted({2: Searcher.FINISHED})
    policy = TunePolicy(searcher, FIFOScheduler(), workers=2)
    result = simulate(policy, _Flat(), SimSettings(workers=2, num_trials=5))
    assert searcher.calls == 2
    assert len(result.configs) == 1 and result.epochs["epoch"].tolist() == [1, 2]


def test_a_searcher_with_nothing_to_suggest_is_asked_again_at_the_next_event() -> None:
    """Tune's controller asks the searcher at each step: a None leaves a free worker idle
    until then, not until a running trial ends."""
    policy = TunePolicy(_Scripted({2: None}), FIFOScheduler(), workers=2)
    result = simulate(policy, _Flat(), SimSettings(workers=2, num_trials=2))
    first_report = result.epochs["t"].iloc[0]  # trial 0's epoch 1, at 1 s
    assert first_report < result.trials["end"].iloc[0]  # trial 0 ends at 2.1 s
    assert result.trials["start"].iloc[1] == first_report
