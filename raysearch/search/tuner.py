"""The Ray Tune set-up: a Tuner over the trial function with the searcher, the scheduler,
the result loggers and the trial table; or the same search restored for ``--resume``;
``run_tune`` fits it and turns Tune's results into the run's tables."""

from __future__ import annotations

import gc
import logging
import math
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import pandas as pd
import ray.tune
from ray import tune
from ray.tune.experiment import Trial

from raysearch.core.errors import ConfigError
from raysearch.core.files import OPTUNA_STUDY
from raysearch.core.metrics import (
    BEST_VAL_METRIC,
    INTERRUPTED,
    NOT_STARTED,
    OUT_OF_TIME,
    TEST_NOT_SCORED,
    TIME_ATTR,
    VAL_METRIC,
)
from raysearch.search.collect import collect_results
from raysearch.search.gated_asha import GatedASHA
from raysearch.search.loggers import result_loggers
from raysearch.search.names import CLI, Names
from raysearch.search.plan import SearchPlan
from raysearch.search.resume import experiment_saved, results_without_experiment
from raysearch.search.scheduler import SchedulerMemory, build_scheduler
from raysearch.search.searcher import build_searcher, study_in
from raysearch.search.session import fit
from raysearch.search.space import SearchSpace
from raysearch.search.study import open_storage, settle_cut_trials, warm_start_trials
from raysearch.search.trainable import run_trial

__all__ = [
    "RunTable",
    "TuneCallback",
    "TuneOutcome",
    "build_tuner",
    "discard_unsaved_search",
    "gate_held",
    "gate_record",
    "restore_tuner",
    "run_tune",
    "tune_state_saved",
]

log = logging.getLogger(__name__)

# What run_search's ``callbacks`` are: Ray Tune callbacks (named here, so the layers above
# search type them without importing Tune).
TuneCallback: TypeAlias = tune.Callback


def _trainable(plan: SearchPlan, function: Any = None) -> Any:
    return tune.with_resources(
        tune.with_parameters(function or run_trial, setup=plan.setup),
        plan.setup.resources.trial_resources,
    )


def _experiment_path(plan: SearchPlan) -> str:
    return f"{plan.storage_path.rstrip('/')}/{plan.run_name}"


def tune_state_saved(plan: SearchPlan) -> bool:
    """Whether Ray Tune saved the search's state, which ``--resume`` restores
    (``resume.experiment_saved``)."""
    return experiment_saved(_experiment_path(plan))


def discard_unsaved_search(plan: SearchPlan) -> None:
    """Remove what a search that Tune never saved left (its study, Tune's directory where
    it is local), so the search can start over in its run directory."""
    (Path(plan.run_dir) / OPTUNA_STUDY).unlink(missing_ok=True)
    if "://" not in plan.storage_path:
        shutil.rmtree(_experiment_path(plan), ignore_errors=True)


def restore_tuner(plan: SearchPlan, function: Any = None) -> tune.Tuner:
    """Continue an interrupted search: finished trials stay, unfinished ones restart from
    their last checkpoint, errored ones stay failed; the searcher's state is restored, and
    ASHA's rungs (``SchedulerMemory``, which Tune does not do itself). ``function``: the
    trial function, ``run_trial`` unless a test gives a stand-in."""
    return tune.Tuner.restore(
        _experiment_path(plan),
        trainable=_trainable(plan, function),
        resume_unfinished=True,
        resume_errored=False,
        restart_errored=False,
    )


def build_tuner(
    plan: SearchPlan, callbacks: list[TuneCallback] | None = None, function: Any = None
) -> tune.Tuner:
    """The Tuner of a new search (``function``: as in ``restore_tuner``)."""
    resources = plan.setup.resources
    trainable = _trainable(plan, function)
    scheduler = build_scheduler(plan.space, plan.seed)
    warm_start = warm_start_trials(plan.warm_start, plan.space) if plan.warm_start else []
    searcher = build_searcher(
        plan.space, plan.seed, storage=open_storage(plan.run_dir), warm_start=warm_start
    )
    return tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(
            search_alg=searcher,
            scheduler=scheduler,
            num_samples=plan.space.settings.num_samples,
            max_concurrent_trials=resources.max_concurrent,
            reuse_actors=plan.reuse_actors,
            time_budget_s=plan.time_budget_s,
        ),
        run_config=ray.tune.RunConfig(
            name=plan.run_name,
            storage_path=plan.storage_path,
            # The memory comes before the caller's callbacks: Tune restores callback states
            # by position.
            callbacks=[*result_loggers(), SchedulerMemory(scheduler), *(callbacks or [])],
            failure_config=ray.tune.FailureConfig(max_failures=plan.setup.tune_max_failures),
            checkpoint_config=ray.tune.CheckpointConfig(num_to_keep=2),
            progress_reporter=_progress_reporter(plan.space, plan.run_dir),
            verbose=1,
        ),
    )


def best_trial_line(trials: list[Trial], parameters: list[str]) -> str | None:
    """ "Current best trial: ..." by best anchored loss so far, a parameter the trial did not
    sample (a conditional one) shown as '-'; None before any trial reported."""
    scored = [
        (t.last_result[BEST_VAL_METRIC], t)
        for t in trials
        if t.last_result and t.last_result.get(BEST_VAL_METRIC) is not None
    ]
    if not scored:
        return None
    value, best = min(scored, key=lambda pair: pair[0])
    config = best.last_result.get("config") or best.config
    shown = ", ".join(f"{p}={config.get(p, '-')}" for p in parameters)
    return f"Current best trial: {best.trial_id} with {BEST_VAL_METRIC}={value:.4f} ({shown})"


class RunTable(tune.CLIReporter):
    """Ray's trial table, with Tune's "Result logdir: ..." line (its staging directory under
    Ray's temporary directory, which the user never needs) shown as "Results: <the run
    directory>", where the tables and the summary are written."""

    # None: a table Tune pickled before raysearch kept the run directory in it (a search
    # interrupted then, resumed now), whose header stays Ray's.
    results: str | None = None

    def __init__(self, results: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.results = results

    def _progress_str(self, trials: list[Trial], done: bool, *sys_info: str, **kwargs: Any) -> str:
        text = str(super()._progress_str(trials, done, *sys_info, **kwargs))
        if self.results is None:
            return text
        return "\n".join(
            f"Results: {self.results}" if line.startswith("Result logdir: ") else line
            for line in text.split("\n")
        )


class _TrialTable(RunTable):
    """The search's table, with our own best-trial line. Ray's line looks up every parameter
    column without a default and crashes the driver when the best trial lacks a
    conditional parameter (a kendall trial has no budget_beta), so it is switched off and
    ``best_trial_line`` is shown below the status header instead."""

    def _current_best_trial(self, trials: list[Trial]) -> tuple[None, None]:
        return None, None  # Ray's line: off

    def _progress_str(self, trials: list[Trial], done: bool, *sys_info: str, **kwargs: Any) -> str:
        best = best_trial_line(trials, list(self._parameter_columns))
        return super()._progress_str(trials, done, *sys_info, *([best] if best else []), **kwargs)


def _progress_reporter(space: SearchSpace, run_dir: str) -> tune.CLIReporter:
    """The trial table: epoch, anchored loss, best so far per trial, and the best trial."""
    return _TrialTable(
        run_dir,
        metric_columns={TIME_ATTR: "epoch", VAL_METRIC: "anchored_val", BEST_VAL_METRIC: "best"},
        parameter_columns=list(space.parameters),
        max_report_frequency=15,
    )


@dataclass(frozen=True)
class TuneOutcome:
    """What Tune left: the run's tables, and how many trials did not finish."""

    trials: pd.DataFrame
    epochs: pd.DataFrame
    started: int  # trials Tune created
    unfinished: int  # created but neither terminated nor errored (an interrupted search)
    # The time budget ran out before the search ended: it cut trials, or left some of
    # num_samples uncreated (not an interruption: nothing is left to resume).
    out_of_time: bool = False
    # The stops ASHA made that the rung gate held, per epoch (``gate_held``); None: the
    # search's scheduler has no gate (fifo, asha).
    gate_held: dict[int, int] | None = None
    # What the gate judges a rung by, and how each of those epochs stood by it when the
    # search ended (``gate_record``); None: no gate.
    gate: dict[str, Any] | None = None


def _gate(tuner: tune.Tuner) -> GatedASHA | None:
    """The scheduler of ``tuner``'s search if it has the rung gate, else None."""
    # The Tuner keeps its scheduler in its (private) local tuner; the SchedulerMemory among
    # its callbacks holds that very object, also after Tuner.restore (one pickle holds both).
    local = tuner._local_tuner
    assert local is not None, "a Tuner run through Ray Client"  # raysearch never does
    memory = [c for c in local.get_run_config().callbacks or [] if isinstance(c, SchedulerMemory)]
    scheduler = memory[0].scheduler if memory else None
    return scheduler if isinstance(scheduler, GatedASHA) else None


def gate_held(tuner: tune.Tuner) -> dict[int, int] | None:
    """The stops ASHA made in ``tuner``'s search that the rung gate held, per epoch (every
    one so far, across ``--resume``s: ``SchedulerMemory`` keeps them), or None when its
    scheduler has no gate."""
    if (scheduler := _gate(tuner)) is None:
        return None
    return {int(m): int(n) for m, n in sorted(scheduler.held.items()) if n}


def gate_record(tuner: tune.Tuner) -> dict[str, Any] | None:
    """What the rung gate of ``tuner``'s search judged by, as the summary says it: the
    least number of trials it judges a rung by (``min_trials``), the least it asks of them
    (``threshold``), what it compares (``against``: the Spearman of a rung with the
    ``next`` rung, with the ``final`` epoch, or the product of those along the ``chain`` of
    rungs to the last epoch), whether it also weighs what a rung's cut costs
    (``cut_cost``, the space's gate_cut_cost: a rung then opens only if the smaller of its
    Spearman and 1 - that cost reaches the threshold), what it does with ASHA's stops at a
    rung of too few trials (``unmeasured``, the space's gate_unmeasured); and per epoch
    where it held a stop, as the gate judged that rung when the search ended: how many
    trials it had (``trials``), their Spearman (``spearman``: the chain's product with
    ``against: chain``) and the cost of its cut (``cost``: None without ``cut_cost``, or
    with too few trials), None where there is none to compute. None when there is no
    gate."""
    if (scheduler := _gate(tuner)) is None:
        return None
    judged = {int(m): scheduler.judged(m) for m, n in sorted(scheduler.held.items()) if n}
    return {
        "min_trials": scheduler.n_min,
        "threshold": scheduler.threshold,
        "against": scheduler.against,
        "cut_cost": scheduler.cut_cost,
        "unmeasured": scheduler.unmeasured,
        "trials": {e: pairs for e, (_, _, pairs) in judged.items()},
        "spearman": {e: _number(rho) for e, (rho, _, _) in judged.items()},
        "cost": {e: _number(cost) for e, (_, cost, _) in judged.items()},
    }


def _number(value: float) -> float | None:
    """A computed value as summary.json holds it: None for NaN (none to compute)."""
    return None if math.isnan(value) else float(value)


def run_tune(
    plan: SearchPlan, *, resume: bool, callbacks: list[TuneCallback], names: Names = CLI
) -> TuneOutcome:
    """Build (or restore) the Tuner, fit it, and collect the trials and epochs tables. A
    resumed search that Tune never saved starts over, unless the run has results to lose
    (ConfigError, as the plan gave before Ray started: ``resume.results_without_experiment``;
    ``names``: how it names options, ``RunOptions.names``)."""
    if resume and not tune_state_saved(plan):
        if lost := results_without_experiment(Path(plan.run_dir), _experiment_path(plan), names):
            raise ConfigError(lost, names.context)
        log.warning(
            "%s: Ray Tune saved nothing of this search before it stopped (it was interrupted "
            "as it started); starting it over",
            plan.run_dir,
        )
        discard_unsaved_search(plan)
        resume = False
    tuner = restore_tuner(plan) if resume else build_tuner(plan, callbacks)
    began = time.monotonic()
    with study_in(plan.run_dir):  # Tune restores the searcher inside fit
        grid = fit(tuner)
    held = gate_held(tuner)
    gate = gate_record(tuner) if held is not None else None
    # Tune's TimeoutStopper starts its clock at its first check, after this one: when it
    # stopped the search, at least the budget has passed here too.
    spent = plan.time_budget_s is not None and time.monotonic() - began >= plan.time_budget_s
    # Drop Tune's objects (and W&B's callback) while Ray is still up, not at exit.
    del tuner
    callbacks.clear()
    gc.collect()
    if spent:
        settle_cut_trials(plan.run_dir)
    settings = plan.space.settings
    trials, epochs = collect_results(grid, settings.max_epochs, plan.setup.fixed, out_of_time=spent)
    # not grid.num_terminated: Tune's clean-up after Ctrl+C marks live trials TERMINATED
    unfinished = int(trials["status"].isin([INTERRUPTED, NOT_STARTED]).sum()) if len(trials) else 0
    # the budget cut a trial: in its epochs, or as it scored its test split (completed)
    cut = bool(len(trials)) and bool(
        (
            (trials["status"] == OUT_OF_TIME)
            | trials["stop_reason"].astype(str).str.endswith(f"({TEST_NOT_SCORED})")
        ).any()
    )
    return TuneOutcome(
        trials,
        epochs,
        started=len(grid),
        unfinished=unfinished,
        out_of_time=spent and (cut or len(grid) < settings.num_samples),
        gate_held=held,
        gate=gate,
    )
