"""Measured candidates (bench/scaling/candidates.py): the final-scale view (a trial that
did not reach the last epoch is shifted by the median change to the last epoch) and the
alternating TPE (joint and independent TPE, trial by trial)."""

from __future__ import annotations

import optuna
import pytest
from optuna.distributions import FloatDistribution
from optuna.trial import TrialState, create_trial

from bench.scaling.candidates import AlternatingTPESampler, _FinalScaleView

LAST = 4


def _study(curves: list[dict[int, float]]) -> optuna.Study:
    study = optuna.create_study()
    for i, curve in enumerate(curves):
        study.add_trial(
            create_trial(
                state=TrialState.COMPLETE,
                value=curve[max(curve)],
                params={"x": float(i)},
                distributions={"x": FloatDistribution(0.0, 100.0)},
                intermediate_values=curve,
            )
        )
    return study


def _values(study: optuna.Study, running_only: bool = False) -> list[float]:
    view = _FinalScaleView(study, max_observations=None, last=LAST, running_only=running_only)
    return [float(t.value) for t in view._get_trials()]  # type: ignore[arg-type]


def test_a_stopped_trial_moves_by_the_median_change_to_the_last_epoch() -> None:
    full = [{1: 3.0, 4: 2.0}, {1: 4.0, 4: 2.0}, {1: 6.0, 4: 3.0}]  # changes -1, -2, -3
    study = _study([*full, {1: 5.0}, {2: 7.0}])
    # epoch 1: shifted by -2; epoch 2: no finished trial reported it, left as it is
    assert _values(study) == [2.0, 2.0, 3.0, pytest.approx(3.0), 7.0]


def test_no_shift_before_three_trials_reach_the_last_epoch() -> None:
    study = _study([{1: 3.0, 4: 2.0}, {1: 4.0, 4: 2.0}, {1: 5.0}])
    assert _values(study) == [2.0, 2.0, 5.0]


def test_running_only_leaves_a_stopped_trial_as_it_is() -> None:
    full = [{1: 3.0, 4: 2.0}, {1: 4.0, 4: 2.0}, {1: 6.0, 4: 3.0}]
    study = _study([*full, {1: 5.0}])
    assert _values(study, running_only=True) == [2.0, 2.0, 3.0, 5.0]
    running = study.ask()
    running.report(5.0, 1)  # a running trial at epoch 1: shifted by -2
    assert _values(study, running_only=True) == [2.0, 2.0, 3.0, 5.0, pytest.approx(3.0)]


def test_alternating_tpe_draws_even_trials_jointly_and_odd_ones_one_parameter_at_a_time() -> None:
    sampler = AlternatingTPESampler(seed=0, n_startup_trials=2, max_observations=None)
    study = optuna.create_study(sampler=sampler)
    joint = []
    for _ in range(8):
        trial = study.ask()
        frozen = study._storage.get_trial(trial._trial_id)
        joint.append(bool(sampler.infer_relative_search_space(study, frozen)))
        study.tell(trial, trial.suggest_float("x", 0, 1) + trial.suggest_float("y", 0, 1))
    assert joint[2:] == [True, False] * 3  # the joint model has no space before a trial ends
