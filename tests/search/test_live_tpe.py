"""LiveTPESampler: TPE that counts running trials with their latest value, on a bounded view."""

from __future__ import annotations

import warnings

import numpy as np
import optuna
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from optuna.trial import TrialState

from raysearch.search.live_tpe import LiveTPESampler, _LiveView, _rank

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)


def _objective(x: float) -> float:
    return (x - 0.3) ** 2


def _sequential(sampler: optuna.samplers.BaseSampler, n: int) -> list[float]:
    study = optuna.create_study(sampler=sampler)
    drawn = []
    for _ in range(n):
        trial = study.ask()
        x = trial.suggest_float("x", 0.0, 1.0)
        drawn.append(x)
        study.tell(trial, _objective(x))
    return drawn


def test_one_trial_at_a_time_it_draws_exactly_what_tpe_draws() -> None:
    plain = _sequential(optuna.samplers.TPESampler(seed=4, n_startup_trials=5), 30)
    live = _sequential(LiveTPESampler(seed=4, n_startup_trials=5, max_observations=None), 30)
    assert live == plain


def _study_with_a_running_star(sampler: optuna.samplers.BaseSampler) -> optuna.Study:
    """20 finished trials spread over [0, 1] (value: distance to 0.8, the optimum) except
    near 0.8, and a running trial at 0.8 that has reported 0.0 after its first epoch."""
    study = optuna.create_study(sampler=sampler)
    for x in np.linspace(0.0, 0.6, 20):
        study.add_trial(
            optuna.trial.create_trial(
                params={"x": float(x)},
                distributions={"x": optuna.distributions.FloatDistribution(0.0, 1.0)},
                value=abs(float(x) - 0.8),
            )
        )
    study.enqueue_trial({"x": 0.8})
    star = study.ask()
    assert star.suggest_float("x", 0.0, 1.0) == 0.8
    star.report(0.0, step=1)
    return study


def _draws(study: optuna.Study, n: int) -> list[float]:
    found = []
    for _ in range(n):
        trial = study.ask()
        found.append(trial.suggest_float("x", 0.0, 1.0))
        study.tell(trial, state=TrialState.FAIL)  # no feedback: each draw sees the same study
    return found


def test_a_running_trial_with_a_report_draws_the_search_to_it() -> None:
    live = _draws(_study_with_a_running_star(LiveTPESampler(seed=0, n_startup_trials=5)), 20)
    plain = _draws(
        _study_with_a_running_star(optuna.samplers.TPESampler(seed=0, n_startup_trials=5)), 20
    )
    near = lambda xs: sum(abs(x - 0.8) < 0.1 for x in xs)  # noqa: E731
    # TPE's constant liar counts the running trial as bad; the live view as the best
    assert near(live) >= 10
    assert near(plain) <= 2


def test_the_view_counts_running_trials_by_their_latest_report_and_leaves_the_rest_pending() -> (
    None
):
    study = _study_with_a_running_star(optuna.samplers.RandomSampler(seed=0))
    quiet = study.ask({"x": optuna.distributions.FloatDistribution(0.0, 1.0)})  # no report yet
    view = _LiveView(study, max_observations=None)
    complete = view._get_trials(states=(TrialState.COMPLETE,))
    assert len(complete) == 21
    assert min(t.value for t in complete) == 0.0
    running = view._get_trials(states=(TrialState.RUNNING,))
    assert [t.number for t in running] == [quiet.number]


def _finished(values: list[float], direction: str = "minimize") -> optuna.Study:
    """A study of finished trials, trial i of value ``values[i]``."""
    study = optuna.create_study(direction=direction)
    dist = {"x": optuna.distributions.FloatDistribution(0.0, 1.0)}
    for i, v in enumerate(values):
        study.add_trial(
            optuna.trial.create_trial(params={"x": i / 60}, distributions=dist, value=v)
        )
    return study


@settings(max_examples=30, deadline=None)
@given(
    values=st.lists(st.floats(-10, 10, allow_nan=False), min_size=1, max_size=60),
    cap=st.integers(8, 40),
    direction=st.sampled_from(["minimize", "maximize"]),
)
@example(values=[0.0, 0.1, *(1.0 + i for i in range(18))], cap=8, direction="minimize")
@example(values=[0.0, 0.1, *(1.0 + i for i in range(18))], cap=8, direction="maximize")
def test_the_cap_keeps_the_best_quarter_and_the_most_recent(
    values: list[float], cap: int, direction: str
) -> None:
    """The best quarter (the lowest values minimising, the highest maximising) and the most
    recent of the rest."""
    view = _LiveView(_finished(values, direction), max_observations=cap)
    kept = view._get_trials(states=(TrialState.COMPLETE,))
    numbers = {t.number for t in kept}
    assert len(kept) == min(cap, len(values))
    sign = 1.0 if direction == "minimize" else -1.0
    by_value = sorted(range(len(values)), key=lambda i: sign * values[i])
    best = set(by_value[: cap // 4]) if len(values) > cap else set(by_value)
    assert best <= numbers
    rest = sorted(numbers - best)
    if rest:  # the others are the most recent trials outside the best quarter
        assert all(i in numbers for i in range(rest[0], len(values)) if i not in best)


@pytest.mark.parametrize("direction", ["minimize", "maximize"])
def test_the_cap_keeps_the_two_best_of_twenty_and_the_six_most_recent_others(
    direction: str,
) -> None:
    """A cap of 8 keeps its best quarter (trials 9 and 10, the best whichever way the study
    goes) and the 6 most recent of the rest: without the cap TPE's cost grows with the
    study; without the best it forgets them; keeping the oldest instead, it learns from the
    trials of another stage of the search."""
    values = [10.0 + i for i in range(20)]
    values[9], values[10] = 0.0, 0.5
    sign = 1.0 if direction == "minimize" else -1.0
    study = _finished([sign * v for v in values], direction)
    kept = _LiveView(study, max_observations=8)._get_trials()
    assert [t.number for t in kept] == [9, 10, 14, 15, 16, 17, 18, 19]


def test_a_running_trial_counts_with_its_latest_report_not_its_first() -> None:
    """The latest report (of the highest step, whatever order the reports came in) is what
    Ray's OptunaSearch would tell Optuna if the trial stopped now; its first is what the
    trial was epochs ago."""
    study = _finished([0.5, 0.6])
    running = study.ask({"x": optuna.distributions.FloatDistribution(0.0, 1.0)})
    for value, step in ((0.9, 1), (0.1, 3), (0.4, 2)):
        running.report(value, step=step)
    complete = _LiveView(study, max_observations=None)._get_trials(states=(TrialState.COMPLETE,))
    assert [(t.number, t.value) for t in complete] == [(0, 0.5), (1, 0.6), (2, 0.1)]


def test_a_cap_below_eight_is_refused_and_eight_is_kept() -> None:
    """8 is the least cap (its best quarter is 2 trials): 7 is refused, 8 bounds the view."""
    with pytest.raises(ValueError, match="max_observations must be >= 8, got 3"):
        LiveTPESampler(max_observations=3)
    with pytest.raises(ValueError, match="max_observations must be >= 8, got 7"):
        LiveTPESampler(max_observations=7)
    sampler = LiveTPESampler(seed=0, n_startup_trials=2, max_observations=8)
    study = _finished([float(i) for i in range(12)])
    study.sampler = sampler
    trial = study.ask()
    trial.suggest_float("x", 0.0, 1.0)
    assert sampler._view is not None
    assert len(sampler._view[1]._get_trials(states=(TrialState.COMPLETE,))) == 8


def _reads_per_trial(multivariate: bool) -> list[int]:
    """How often the live view reads the study (the only reads that ask for running trials:
    TPE's constant liar is off) per suggestion of 5 parameters, past TPE's startup."""
    sampler = LiveTPESampler(
        seed=0, n_startup_trials=4, multivariate=multivariate, group=multivariate
    )
    study = optuna.create_study(sampler=sampler)
    reads = []
    real = study._get_trials

    def counted(*args: object, **kwargs: object) -> list[optuna.trial.FrozenTrial]:
        if TrialState.RUNNING in (kwargs.get("states") or ()):  # type: ignore[operator]
            reads.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    study._get_trials = counted  # type: ignore[method-assign]
    per_trial = []
    for n in range(12):
        reads.clear()
        trial = study.ask()
        xs = [trial.suggest_float(f"x{i}", 0.0, 1.0) for i in range(5)]
        per_trial.append(len(reads))
        study.tell(trial, sum(xs) + n * 1e-3)
    return per_trial[-4:]


@pytest.mark.parametrize("multivariate", [False, True])
def test_the_live_view_is_built_once_per_trial_not_once_per_parameter(multivariate: bool) -> None:
    # independent TPE samples each of the 5 parameters in its own call; the view of the
    # study is built at the first and kept for the rest of the trial
    assert _reads_per_trial(multivariate) == [1, 1, 1, 1]


def test_a_trial_sees_the_trials_that_finished_before_it_and_pickles_without_its_view() -> None:
    import pickle

    sampler = LiveTPESampler(seed=0, n_startup_trials=2, multivariate=False)
    study = optuna.create_study(sampler=sampler)
    seen = []
    for _ in range(6):
        trial = study.ask()
        trial.suggest_float("x", 0.0, 1.0)
        trial.suggest_float("y", 0.0, 1.0)
        if sampler._view is not None:
            seen.append(len(sampler._view[1]._get_trials(states=(TrialState.COMPLETE,))))
        study.tell(trial, 1.0)
    assert seen == [2, 3, 4, 5]  # each trial's view holds every trial told before it
    again = pickle.loads(pickle.dumps(sampler))
    assert again._view is None
    assert sampler._view is not None


def test_the_cap_keeps_complete_trials_then_pruned_ones_by_how_far_they_got() -> None:
    """A pruned trial that got to step 10 ranks before one stopped at step 1 with a lower
    value (the step was only a tie-break), as Optuna's TPE scores pruned trials."""

    def trial(state: TrialState, value: float | None, steps: dict[int, float]):
        return optuna.trial.create_trial(
            state=state,
            value=value,
            params={"x": 0.5},
            distributions={"x": optuna.distributions.FloatDistribution(0, 1)},
            intermediate_values=steps,
        )

    done = trial(TrialState.COMPLETE, 0.9, {})
    far, far_better = (trial(TrialState.PRUNED, None, {1: 0.2, 10: v}) for v in (0.5, 0.3))
    near = trial(TrialState.PRUNED, None, {1: 0.1})
    silent = trial(TrialState.PRUNED, None, {})
    trials = [silent, near, far, done, far_better]
    assert sorted(trials, key=lambda t: _rank(t, 1.0)) == [done, far_better, far, near, silent]
    # maximising: the better value at the same step is the higher one
    assert sorted([far, far_better], key=lambda t: _rank(t, -1.0)) == [far, far_better]
