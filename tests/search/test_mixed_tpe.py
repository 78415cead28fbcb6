"""MixedTPESampler: joint TPE one trial at a time, independent TPE for a share of the draws
that grows with the trials running (``independent_when_running``)."""

from __future__ import annotations

import pickle
import warnings

import optuna
import pytest
from hypothesis import given
from hypothesis import strategies as st

from raysearch.core.errors import ConfigError
from raysearch.core.trainer_config import SEED_MAX
from raysearch.search.finalists import REPLICATE_SEED_OFFSET, replicate_seed
from raysearch.search.live_tpe import LiveTPESampler
from raysearch.search.mixed_tpe import HALF, MixedTPESampler, independent_share
from raysearch.search.scheduler import build_scheduler
from raysearch.search.searcher import TRIAL_SEED, DefineByRun, build_sampler
from raysearch.search.space import load_space

optuna.logging.set_verbosity(optuna.logging.WARNING)
warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)

TPE = {"n_startup_trials": 4, "max_observations": None}


@given(st.integers(0, 10_000), st.integers(1, 100))
def test_the_independent_share_is_none_alone_half_at_half_and_grows(running: int, more: int):
    assert independent_share(0) == 0.0 and independent_share(HALF) == 0.5
    assert 0.0 <= independent_share(running) < independent_share(running + more) < 1.0


def _sequential(sampler: optuna.samplers.BaseSampler, n: int) -> list[tuple[float, float]]:
    study = optuna.create_study(sampler=sampler)
    drawn = []
    for _ in range(n):
        trial = study.ask()
        x, y = trial.suggest_float("x", 0, 1), trial.suggest_float("y", 0, 1)
        drawn.append((x, y))
        study.tell(trial, (x - 0.3) ** 2 + (y - 0.6) ** 2)
    return drawn


def test_one_trial_at_a_time_it_draws_exactly_what_joint_tpe_draws() -> None:
    joint = LiveTPESampler(seed=5, multivariate=True, group=True, **TPE)
    assert _sequential(MixedTPESampler(seed=5, **TPE), 25) == _sequential(joint, 25)


def test_the_more_trials_run_the_more_draws_are_independent() -> None:
    sampler = MixedTPESampler(seed=0, **TPE)
    study = optuna.create_study(sampler=sampler)

    def joint(trial: optuna.Trial) -> bool:  # joint TPE infers a relative search space
        frozen = study._storage.get_trial(trial._trial_id)
        return bool(sampler.infer_relative_search_space(study, frozen))

    for _ in range(8):
        trial = study.ask()
        study.tell(trial, trial.suggest_float("x", 0, 1) + trial.suggest_float("y", 0, 1))
    held = [study.ask() for _ in range(120)]  # trial i is drawn with i others running
    independent = [not joint(t) for t in held]
    assert not independent[0]  # nothing else running yet
    # P = r / (r + 16): 0.33 on average over r = 0..19, 0.87 over r = 100..119
    assert sum(independent[:20]) <= 12 < sum(independent[-20:])


def test_it_pickles_with_its_decisions_as_tune_saves_a_searcher() -> None:
    sampler = MixedTPESampler(seed=2, **TPE)
    study = optuna.create_study(sampler=sampler)
    for _ in range(6):
        study.ask()
    copy = pickle.loads(pickle.dumps(sampler))
    assert copy._independent == sampler._independent and len(copy._independent) == 6


def test_the_default_builds_it_where_there_is_joint_tpe() -> None:
    space = load_space("smoke")
    assert space.settings.independent_when_running  # on by default with joint TPE
    assert isinstance(build_sampler(space, 0), MixedTPESampler)
    off = space.with_settings(independent_when_running=False)
    assert type(build_sampler(off, 0)) is LiveTPESampler
    # left unset, it follows the other settings: off without joint TPE, and back on with it
    alone = space.with_settings(multivariate=False)
    assert not alone.settings.independent_when_running
    assert alone.with_settings(multivariate=True).settings.independent_when_running
    assert not space.with_settings(searcher="random").settings.independent_when_running
    # set false, it stays false when other settings change
    assert not off.with_settings(
        multivariate=True, grace_period=2
    ).settings.independent_when_running


def test_set_true_it_needs_joint_tpe() -> None:
    space = load_space("smoke")
    with pytest.raises(ConfigError) as err:
        space.with_settings(independent_when_running=True, multivariate=False)
    assert "independent_when_running (true)" in str(err.value)
    assert "multivariate is false" in str(err.value)
    with pytest.raises(ConfigError, match="'random' has no model"):
        space.with_settings(independent_when_running=True, searcher="random")
    with pytest.raises(ValueError, match="half must be >= 1, got 0"):
        MixedTPESampler(seed=0, half=0)


@pytest.mark.parametrize("space", ["smoke", "loss_ablation"])
def test_a_search_with_the_largest_seed_seeds_its_samplers_and_trials_in_range(
    space: str,
) -> None:
    """Every seed derived from the search's (the independent TPE's, the coin's, each trial's
    training seed, the finalists') wraps past 2**32 - 1 instead of failing in NumPy."""
    searched = load_space(space)
    sampler = build_sampler(searched, SEED_MAX)
    study = optuna.create_study(sampler=sampler)
    define = DefineByRun(searched, SEED_MAX)
    seeds = []
    for _ in range(3):
        trial = study.ask()
        seeds.append(define(trial)[TRIAL_SEED])
        study.tell(trial, 1.0)
    assert seeds == [SEED_MAX, 0, 1]
    build_scheduler(searched, SEED_MAX)  # ASHA's brackets: NumPy's RandomState(seed)
    assert [replicate_seed(SEED_MAX, r) for r in range(2)] == [
        REPLICATE_SEED_OFFSET - 1,
        REPLICATE_SEED_OFFSET,
    ]
    assert replicate_seed(3, 1) == 3 + REPLICATE_SEED_OFFSET + 1
