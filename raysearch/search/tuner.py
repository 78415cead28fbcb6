"""Build the Ray Tune search: OptunaSearch (TPE, seeded) + ASHA on the anchored metric."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

from raysearch.search.report import BEST_METRIC, METRIC, MODE, TIME_ATTR
from raysearch.search.space import SearchSpace
from raysearch.search.trainable import TrialSetup, run_trial

__all__ = [
    "REUSE_ACTORS",
    "TRIAL_SEED",
    "DefineByRun",
    "SearchPlan",
    "build_tuner",
    "restore_tuner",
]

TRIAL_SEED = "trainer.seed"  # set per trial by the searcher
MAX_OBSERVATIONS = 400  # TPE fits on at most this many trials (bounds a suggestion's cost)
REUSE_ACTORS = True  # a trial process runs trial after trial: imports and first-call costs once


@dataclass(frozen=True)
class SearchPlan:
    """A resolved search: the space (with CLI overrides), the seed, where results go."""

    space: SearchSpace
    setup: TrialSetup
    seed: int
    run_name: str
    storage_path: str  # Tune's experiment storage: the run directory, or --storage URI
    run_dir: str  # results/<space>/<run>: the tables and summary


def build_sampler(
    space: SearchSpace, seed: int, max_observations: int | None = MAX_OBSERVATIONS
) -> Any:
    """TPE (seeded, multivariate, grouped) that also learns from running trials and fits on
    at most ``max_observations`` trials (raysearch.search.live_tpe), or, with
    ``searcher: random``, random sampling."""
    import optuna

    from raysearch.search.live_tpe import LiveTPESampler

    if space.settings.searcher == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    with warnings.catch_warnings():  # group= is "experimental" in Optuna; we opt in
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return LiveTPESampler(
            max_observations=max_observations,
            seed=seed,
            n_startup_trials=space.settings.n_startup_trials,
            multivariate=True,
            group=True,  # conditional parameters (a3dro's budget_beta) get their own groups
        )


@dataclass(frozen=True)
class DefineByRun:
    """The define-by-run function: suggest the space's values, and set the trial's seed.
    A module-level class, not a closure: Tune pickles the searcher to save its state."""

    space: SearchSpace
    seed: int

    def __call__(self, trial: Any) -> dict[str, Any]:
        self.space.sample(trial)  # suggests through the trial; Ray collects the values
        return {TRIAL_SEED: self.seed + trial.number}


def build_searcher(space: SearchSpace, seed: int, sampler: Any | None = None) -> Any:
    """OptunaSearch told each trial's best anchored loss (not its last).

    Every trial also gets its own training seed (the run's seed plus the Optuna trial
    number): when TPE draws a configuration again (a loss ablation has only four
    configurations outside A3DRO) the trial is a replicate that measures seed variance,
    not a byte-identical re-run.
    """
    from ray.tune.search.optuna import OptunaSearch

    return OptunaSearch(
        space=DefineByRun(space, seed),
        metric=BEST_METRIC,
        mode=MODE,
        sampler=sampler if sampler is not None else build_sampler(space, seed),
        points_to_evaluate=[dict(p) for p in space.start] or None,
    )


def build_scheduler(space: SearchSpace) -> Any:
    """ASHA on the anchored metric, or with ``scheduler: fifo`` every trial at full budget."""
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

    s = space.settings
    if s.scheduler == "fifo":
        return FIFOScheduler()
    return ASHAScheduler(
        time_attr=TIME_ATTR,
        metric=METRIC,
        mode=MODE,
        max_t=s.max_epochs,
        grace_period=min(s.grace_period, s.max_epochs),
        reduction_factor=s.reduction_factor,
        # Trials that reach max_epochs end themselves, so they evaluate the test split and
        # write their outcome; ASHA only stops trials at its rungs below that.
        stop_last_trials=False,
    )


def _trainable(plan: SearchPlan) -> Any:
    from ray import tune

    return tune.with_resources(
        tune.with_parameters(run_trial, setup=plan.setup), plan.setup.resources.trial_resources
    )


def restore_tuner(plan: SearchPlan) -> Any:
    """Continue an interrupted search: finished trials stay, unfinished ones restart from
    their last checkpoint, errored ones stay failed; the searcher's state is restored."""
    from ray import tune

    path = f"{plan.storage_path.rstrip('/')}/{plan.run_name}"
    return tune.Tuner.restore(
        path,
        trainable=_trainable(plan),
        resume_unfinished=True,
        resume_errored=False,
        restart_errored=False,
    )


def build_tuner(plan: SearchPlan, callbacks: list[Any] | None = None) -> Any:
    import ray.tune
    from ray import tune

    from raysearch.search.loggers import result_loggers

    resources = plan.setup.resources
    trainable = _trainable(plan)
    return tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(
            search_alg=build_searcher(plan.space, plan.seed),
            scheduler=build_scheduler(plan.space),
            num_samples=plan.space.settings.num_samples,
            max_concurrent_trials=resources.max_concurrent,
            reuse_actors=REUSE_ACTORS,
        ),
        run_config=ray.tune.RunConfig(
            name=plan.run_name,
            storage_path=plan.storage_path,
            callbacks=[*result_loggers(), *(callbacks or [])],
            # One-worker trials are retried by Tune; Ray Train trials by their own trainer.
            failure_config=ray.tune.FailureConfig(
                max_failures=plan.setup.max_failures
                if plan.setup.resources.workers_per_trial == 1
                else 0
            ),
            checkpoint_config=ray.tune.CheckpointConfig(num_to_keep=2),
            progress_reporter=_progress_reporter(plan.space),
            verbose=1,
        ),
    )


def _progress_reporter(space: SearchSpace) -> Any:
    """The trial table. It is given no metric on purpose: Ray's "current best trial" line
    looks up every parameter column without a default and crashes the driver when the best
    trial lacks a conditional parameter (e.g. a kendall trial has no budget_beta)."""
    from ray import tune

    return tune.CLIReporter(
        metric_columns={TIME_ATTR: "epoch", METRIC: "anchored_val", BEST_METRIC: "best"},
        parameter_columns=list(space.parameters),
        max_report_frequency=15,
    )
