"""Re-evaluation of a search's finalists: a second, small, fixed Tune run after the search.

The top ``settings.finalists`` distinct configurations of the search (by their best
anchored validation loss; the training seed does not make a configuration distinct) are
trained again with ``settings.replicates`` fresh seeds each, at full budget (FIFO, every
replicate to ``max_epochs``), with the test split left alone. The pick is the finalist with
the lowest mean validation value over its replicates, among those that failed with the
fewest seeds (``search.pick``); then, and only for the pick, each
replicate's best model is scored on the test split, once. A finalist's value in the search
itself was selected as the best of many, so it is optimistic; the replicates' mean is not.

The table (finalists.parquet) has one row per replicate: ``finalist`` (1 = the search's
best), ``seed``, ``status`` (completed, failed, or unfinished: the run was interrupted before
the replicate ended, or before Tune created it; then nothing is picked and ``--resume``
trains it), ``stop_reason`` (worded as trials.parquet's: a failed replicate's error),
``epochs_run``, ``best_anchored_val_loss``, ``best_epoch``,
``search_value`` (the configuration's value in the search), ``pick``, ``config/<name>`` for
every searched parameter, and ``test/<metric>`` on the pick's rows only.
"""

from __future__ import annotations

import dataclasses
import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import ray.tune
from ray import tune
from ray.tune.schedulers import FIFOScheduler

from raysearch.core.metrics import (
    BEST_VAL_METRIC,
    COMPLETED,
    FAILED,
    FINAL_KEY,
    TIME_ATTR,
    UNFINISHED,
    VAL_METRIC,
)
from raysearch.core.numbers import is_unset, plain
from raysearch.core.trainer_config import wrap_seed
from raysearch.search.collect import (
    best_report,
    config_table,
    epoch_reports,
    failure_reason,
    grid_trials,
    trial_error,
)
from raysearch.search.loggers import result_loggers
from raysearch.search.pick import finalist_order
from raysearch.search.plan import SearchPlan
from raysearch.search.resume import experiment_saved
from raysearch.search.searcher import TRIAL_SEED
from raysearch.search.session import fit
from raysearch.search.trainable import TrialSetup, run_trial, trial_config
from raysearch.search.tuner import RunTable

__all__ = [
    "FINALISTS_RUN",
    "REPLICATE_SEED_OFFSET",
    "FinalistsResult",
    "pick_finalist",
    "replicate_seed",
    "run_finalists",
    "select_finalists",
]

FINALISTS_RUN = "finalists"  # Tune's experiment name beside the search's ("tune")
# Replicate r of every finalist trains with seed (run seed + offset + r): never a seed the
# search itself used (those are run seed + Optuna trial number); both wrap past 2**32 - 1.
REPLICATE_SEED_OFFSET = 100_000


def replicate_seed(seed: int, replicate: int) -> int:
    """The training seed of every finalist's replicate ``replicate`` in a search seeded
    with ``seed``."""
    return wrap_seed(seed + REPLICATE_SEED_OFFSET + replicate)


@dataclass(frozen=True)
class FinalistsResult:
    """The replicates' table and how many replicates did not finish (an interrupted run:
    they are ``unfinished`` in the table, which then has no pick)."""

    table: pd.DataFrame
    unfinished: int = 0


def select_finalists(trials: pd.DataFrame, parameters: list[str], n: int) -> list[dict[str, Any]]:
    """The ``n`` best distinct configurations (searched values only, conditional ones left
    out where unset), best first, each with its value in the search (``search_value``)."""
    if n <= 0 or trials.empty or BEST_VAL_METRIC not in trials:
        return []
    values = pd.to_numeric(trials[BEST_VAL_METRIC], errors="coerce")
    usable = trials[(trials["status"] != "failed") & values.map(math.isfinite)]
    # values of the usable rows only: assigning a longer Series to an empty frame would
    # give the frame that Series' index (pandas 3), i.e. rows for the failed trials
    usable = usable.assign(_value=values.loc[usable.index]).sort_values("_value", kind="stable")
    chosen: dict[tuple[tuple[str, Any], ...], dict[str, Any]] = {}
    for _, row in usable.iterrows():
        params = {
            name: plain(row[f"config/{name}"])
            for name in parameters
            if name != TRIAL_SEED
            and f"config/{name}" in row
            and not is_unset(row[f"config/{name}"])
        }
        key = tuple(sorted(params.items()))
        if key not in chosen:
            chosen[key] = {"params": params, "search_value": float(row["_value"])}
        if len(chosen) == n:
            break
    return list(chosen.values())


def pick_finalist(table: pd.DataFrame) -> int | None:
    """The finalist first in ``search.pick.finalist_order``: the lowest mean
    best_anchored_val_loss over its finished replicates, among those with the fewest failed
    ones; None if none finished."""
    order = finalist_order(table)
    return order[0] if order else None


def run_finalist(config: dict[str, Any], setup: TrialSetup) -> None:
    """The Tune trainable: one replicate, the search's trial function on its values."""
    run_trial(config["point"]["params"], setup)


def _tuner(plan: SearchPlan, points: list[dict[str, Any]], resume: bool) -> Any:
    setup = dataclasses.replace(plan.setup, fixed={**plan.setup.fixed, "trainer.score_test": False})
    trainable = tune.with_resources(
        tune.with_parameters(run_finalist, setup=setup), setup.resources.trial_resources
    )
    path = f"{plan.storage_path.rstrip('/')}/{FINALISTS_RUN}"
    # Tuner.can_restore also accepts a run stopped before Tune's first save (a tuner.pkl
    # only), which Tuner.restore cannot use: such a start begins again, as the search does
    if resume and experiment_saved(path):
        return tune.Tuner.restore(path, trainable=trainable, resume_unfinished=True)
    if resume and "://" not in path:
        shutil.rmtree(path, ignore_errors=True)  # what the unsaved start left, if anything
    return tune.Tuner(
        trainable,
        param_space={"point": tune.grid_search(points)},
        tune_config=tune.TuneConfig(
            scheduler=FIFOScheduler(),
            max_concurrent_trials=setup.resources.max_concurrent,
            reuse_actors=plan.reuse_actors,
        ),
        run_config=ray.tune.RunConfig(
            name=FINALISTS_RUN,
            storage_path=plan.storage_path,
            callbacks=[*result_loggers()],
            failure_config=ray.tune.FailureConfig(max_failures=setup.tune_max_failures),
            checkpoint_config=ray.tune.CheckpointConfig(num_to_keep=1),
            progress_reporter=RunTable(
                plan.run_dir,
                metric_columns={TIME_ATTR: "epoch", VAL_METRIC: "anchored_val"},
                parameter_columns={"point/finalist": "finalist", "point/seed": "seed"},
                max_report_frequency=15,
            ),
            verbose=1,
        ),
    )


def run_finalists(
    plan: SearchPlan, trials: pd.DataFrame, *, resume: bool
) -> FinalistsResult | None:
    """Re-train the search's finalists (None when ``settings.finalists`` is 0 or no trial
    has a finite value), pick on the mean, and score the pick's replicates on test."""
    settings = plan.space.settings
    if not settings.finalists:
        return None
    finalists = select_finalists(trials, list(plan.space.parameters), settings.finalists)
    if not finalists:
        return None
    points = [
        {
            "finalist": rank,
            "seed": replicate_seed(plan.seed, r),
            "search_value": f["search_value"],
            "params": {**f["params"], TRIAL_SEED: replicate_seed(plan.seed, r)},
        }
        for rank, f in enumerate(finalists, start=1)
        for r in range(settings.replicates)
    ]
    grid = fit(_tuner(plan, points, resume))
    parameters = list(plan.space.parameters)
    results = [grid[i] for i in range(len(grid))]  # a ResultGrid indexes, not iterates
    # each replicate's point from its trial: a Result's config is its last report's, and a
    # replicate that never reported has none
    rows = [
        _row(result, trial.config["point"], parameters, trial_error(result, trial))
        for result, trial in zip(results, grid_trials(grid), strict=True)
    ]
    checkpoints = [result.checkpoint for result in results]
    created = {(row["finalist"], row["seed"]) for row in rows}
    # the replicates Tune never created (the run was interrupted first): --resume trains them
    rows += [
        _row(None, p, parameters, None) for p in points if (p["finalist"], p["seed"]) not in created
    ]
    table = config_table(rows)
    # from the rows, not grid.num_terminated: Tune's clean-up after Ctrl+C marks the live
    # trials TERMINATED, and the replicates never created are not in the grid at all
    unfinished = int((table["status"] == UNFINISHED).sum())
    # no pick on part of the replicates, and the test split is scored once: after --resume
    pick = None if unfinished else pick_finalist(table)
    table["pick"] = table["finalist"] == pick
    for i in table.index[table["pick"] & (table["status"] == "completed")]:
        params = {
            k[len("config/") :]: v for k, v in table.loc[i].items() if k.startswith("config/")
        }
        params = {k: plain(v) for k, v in params.items() if not is_unset(v)}
        params[TRIAL_SEED] = int(table.loc[i, "seed"])
        for key, value in _score_test(plan.setup, params, checkpoints[i]).items():
            table.loc[i, f"test/{key}"] = value
    table = table.sort_values(["finalist", "seed"]).reset_index(drop=True)
    return FinalistsResult(table, unfinished)


def _row(
    result: Any, point: dict[str, Any], parameters: list[str], error: BaseException | None
) -> dict[str, Any]:
    """One replicate's row; ``result`` None: Tune never created it; ``error``: what it
    failed with (``collect.trial_error``)."""
    frame = result.metrics_dataframe if result is not None else None
    # as the search's trials are read: a restored replicate's repeated epoch, its last report
    epochs = epoch_reports(frame) if frame is not None and len(frame) else None
    best, best_epoch, epochs_run = math.nan, 0, 0
    if epochs is not None and VAL_METRIC in epochs and len(epochs):
        best, best_epoch = best_report(epochs)
        epochs_run = int(epochs[TIME_ATTR].max())
    status, reason = _why_stopped(error, frame, epochs_run)
    row = {
        "finalist": int(point["finalist"]),
        "seed": int(point["seed"]),
        "trial_id": str(frame["trial_id"].iloc[0]) if frame is not None and epochs_run else "",
        "status": status,
        "stop_reason": reason,
        "epochs_run": epochs_run,
        BEST_VAL_METRIC: best,
        "best_epoch": best_epoch,
        "search_value": float(point["search_value"]),
    }
    params = point["params"]
    row.update({f"config/{n}": params.get(n, math.nan) for n in parameters if n != TRIAL_SEED})
    return row


def _why_stopped(
    error: BaseException | None, frame: pd.DataFrame | None, epochs: int
) -> tuple[str, str]:
    """(status, stop_reason) of a replicate, the reason worded as trials.parquet's."""
    if error is not None:
        return FAILED, failure_reason(error)
    finals = frame[frame[FINAL_KEY] == 1] if frame is not None and FINAL_KEY in frame else None
    if finals is not None and len(finals):
        reason = finals["stop_reason"].iloc[-1] if "stop_reason" in finals else None
        return COMPLETED, "finished" if is_unset(reason) else str(reason)
    if epochs:
        return UNFINISHED, f"after {epochs} epochs (--resume continues it)"
    return (
        UNFINISHED,
        "the run stopped before this replicate reported an epoch (--resume trains it)",
    )


def _score_test(setup: TrialSetup, params: dict[str, Any], checkpoint: Any) -> dict[str, float]:
    """The pick's replicate on the test split, from its last checkpoint (best weights)."""
    # Deferred: torch and the model load only when a search has finalists to score.
    from raysearch.data.prepared import prepare
    from raysearch.train.final_test import score_checkpoint_test

    cfg = trial_config(setup, params)
    data = prepare(cfg.data, setup.cache_dir)
    with checkpoint.as_directory() as directory:
        return score_checkpoint_test(cfg, data, Path(directory))
