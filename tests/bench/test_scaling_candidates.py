"""Measured candidates (bench/scaling/candidates.py): the final-scale view (a trial that
did not reach the last epoch is shifted by the median change to the last epoch), the
alternating TPE (joint and independent TPE, trial by trial) and the pending-widened TPE
(candidates from wider kernels the more trials are running). The pending mix is the space
setting ``independent_when_running`` now: tests/search/test_mixed_tpe.py."""

from __future__ import annotations

import numpy as np
import optuna
import pytest
from hypothesis import given
from hypothesis import strategies as st
from optuna.distributions import FloatDistribution
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator, _ParzenEstimatorParameters
from optuna.trial import TrialState, create_trial

from bench.scaling.candidates import (
    AlternatingTPESampler,
    PendingWideSampler,
    _FinalScaleView,
    _WideParzenEstimator,
    widening,
)
from raysearch.search.live_tpe import LiveTPESampler

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


@given(st.integers(0, 10_000), st.integers(1, 100))
def test_widening_is_one_with_nothing_running_and_grows_toward_three(running: int, more: int):
    assert widening(0) == 1.0
    assert 1.0 <= widening(running) < widening(running + more) < 3.0


def test_wide_estimator_draws_from_wider_kernels_and_scores_as_the_plain_one() -> None:
    observations = {"x": np.full(200, 0.5)}  # kernels of width 1 / 100, the least
    space = {"x": FloatDistribution(0.0, 1.0)}
    parameters = _ParzenEstimatorParameters(
        prior_weight=1e-9,  # the kernels only, nearly: the prior spans the whole range
        consider_magic_clip=True,
        consider_endpoints=False,
        weights=np.ones,
        multivariate=True,
    )
    plain = _ParzenEstimator(observations, space, parameters)
    wide = _WideParzenEstimator(observations, space, parameters, factor=3.0)
    spread = [np.std(e.sample(np.random.RandomState(0), 4000)["x"]) for e in (plain, wide)]
    assert spread[1] > 2.5 * spread[0]
    points = {"x": np.linspace(0.0, 1.0, 11)}
    np.testing.assert_array_equal(wide.log_pdf(points), plain.log_pdf(points))


def _suggestions(sampler: optuna.samplers.BaseSampler, running: int) -> list[float]:
    """Ten trials told x**2 one at a time, then ``running`` left running, then one more."""
    study = optuna.create_study(sampler=sampler)
    for _ in range(10):
        trial = study.ask()
        study.tell(trial, trial.suggest_float("x", -1, 1) ** 2)
    held = [study.ask() for _ in range(running)]
    drawn = [t.suggest_float("x", -1, 1) for t in held]
    return [*drawn, study.ask().suggest_float("x", -1, 1)]


def test_pending_wide_is_the_default_tpe_with_nothing_running_and_not_with_trials_running():
    def tpe(cls: type) -> optuna.samplers.BaseSampler:
        return cls(seed=3, n_startup_trials=4, multivariate=True, max_observations=None)

    assert _suggestions(tpe(PendingWideSampler), 0) == _suggestions(tpe(LiveTPESampler), 0)
    assert _suggestions(tpe(PendingWideSampler), 8) != _suggestions(tpe(LiveTPESampler), 8)
