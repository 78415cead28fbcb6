"""The Tune set-up: searcher, scheduler and trial table agree on metric and time attribute."""

from __future__ import annotations

import pytest

from raysearch.core.metrics import BEST_VAL_METRIC, TIME_ATTR, VAL_METRIC
from raysearch.search.scheduler import build_scheduler
from raysearch.search.searcher import TRIAL_SEED, build_searcher
from raysearch.search.space import load_space
from raysearch.search.tuner import _progress_reporter


def test_scheduler_and_searcher_watch_the_anchored_metric() -> None:
    space = load_space("loss_ablation")
    scheduler = build_scheduler(space)
    assert (scheduler._metric, scheduler._time_attr) == (VAL_METRIC, TIME_ATTR)
    assert scheduler._max_t == space.settings.max_epochs
    searcher = build_searcher(space, seed=0)
    assert searcher.metric == BEST_VAL_METRIC and searcher.mode == "min"
    # the seed's configuration is the first trial, with the run's seed
    assert searcher.suggest("t0") == {**space.start[0], TRIAL_SEED: 0}


def test_every_trial_gets_its_own_training_seed() -> None:
    searcher = build_searcher(load_space("smoke"), seed=7)
    seeds = [searcher.suggest(f"t{i}")[TRIAL_SEED] for i in range(5)]
    assert seeds == [7, 8, 9, 10, 11]


def test_searcher_state_saves_and_restores(tmp_path) -> None:
    """Tune pickles the searcher at every experiment checkpoint (and --resume reads it)."""
    searcher = build_searcher(load_space("smoke"), seed=1)
    first = [searcher.suggest(f"t{i}") for i in range(3)]
    searcher.save(str(tmp_path / "searcher.pkl"))
    restored = build_searcher(load_space("smoke"), seed=1)
    restored.restore(str(tmp_path / "searcher.pkl"))
    assert restored._ot_study.trials[2].params == searcher._ot_study.trials[2].params
    assert [t.params for t in restored._ot_study.trials] == [
        {k: v for k, v in f.items() if k != TRIAL_SEED} for f in first
    ]


def test_trial_table_has_no_best_trial_line_that_could_crash_the_driver() -> None:
    """Ray's best-trial line looks up every parameter column without a default: with a
    conditional parameter it raises KeyError when the best trial lacks it (seen with
    kendall best and budget_beta a column). The table must not ask for that line."""
    from ray.tune.progress_reporter import _best_trial_str

    space = load_space("loss_ablation")
    reporter = _progress_reporter(space)
    best, _ = reporter._current_best_trial([_FakeTrial({"loss_strategy": "kendall"})])
    assert best is None  # no metric and mode: Ray never formats the line
    with pytest.raises(KeyError, match="budget_beta"):  # what it would do otherwise
        _best_trial_str(
            _FakeTrial({"loss_strategy": "kendall"}), VAL_METRIC, list(space.parameters)
        )


class _FakeTrial:
    def __init__(self, config: dict) -> None:
        self.trial_id = "t0"
        self.status = "RUNNING"
        self.last_result = {VAL_METRIC: 0.0, BEST_VAL_METRIC: 0.0, TIME_ATTR: 1, "config": config}


def test_baselines_random_search_and_full_budget_fifo() -> None:
    import optuna
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

    space = load_space("loss_ablation")
    assert isinstance(build_scheduler(space), ASHAScheduler)
    assert isinstance(build_searcher(space, 0)._sampler, optuna.samplers.TPESampler)
    baseline = space.with_settings(searcher="random", scheduler="fifo")
    scheduler = build_scheduler(baseline)
    assert isinstance(scheduler, FIFOScheduler) and not isinstance(scheduler, ASHAScheduler)
    searcher = build_searcher(baseline, seed=3)
    assert isinstance(searcher._sampler, optuna.samplers.RandomSampler)
    # random draws are seeded: the same seed gives the same trials
    again = build_searcher(baseline, seed=3)
    draws = [searcher.suggest(f"t{i}") for i in range(6)]
    assert draws == [again.suggest(f"t{i}") for i in range(6)]
    assert len({d["loss_strategy"] for d in draws[1:]}) > 1  # after the start point


def test_an_unknown_searcher_or_scheduler_is_one_error_naming_both() -> None:
    from raysearch.core.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        load_space("smoke").with_settings(searcher="grid", scheduler="pbt")
    message = str(err.value)
    assert "searcher" in message and "scheduler" in message
    assert "'tpe'" in message and "'asha'" in message
