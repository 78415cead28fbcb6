"""The numbers of a comparison: anytime curves, the best trial, per-strategy distributions.

The anytime curve is the best anchored validation loss found so far against the epochs
consumed by the whole search. Epochs are counted in the order they ran when epochs.parquet
has each epoch's time (``RAN_AT``: ``time/end_unix``, when its metrics were ready, in
sub-second Unix seconds; in a table without it, Tune's ``timestamp``, whole seconds,
epochs of one second in the order their trials were created); otherwise trial by trial in
the order the trials were created, each trial's epochs in a row: the budget a sequential
search would have spent to get there.
Every trial's epochs count as consumed, but only the values of the trials a result counts
(``scored_trials``: not a failed trial's) count towards the best so far, so the curve ends at
the best trial's value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from raysearch.core.metrics import (
    BEST_VAL_METRIC,
    INTERRUPTED,
    NOT_STARTED,
    OUT_OF_TIME,
    UNFINISHED,
)
from raysearch.results.evidence import picked_config
from raysearch.results.evidence_report import shown_number
from raysearch.results.runs import RunData
from raysearch.results.summary import INTERRUPTED_SEARCH, search_state
from raysearch.results.trials import best_row, row_config, scored_trials
from raysearch.search.names import CLI, Names

__all__ = [
    "PICK_COLUMN",
    "RAN_AT",
    "STRATEGY_COLUMNS",
    "UNENDED",
    "anytime_curve",
    "best_trial",
    "curve_order",
    "pick_cell",
    "run_overview",
    "run_state",
    "state_line",
    "strategies",
    "strategy_table",
]

STRATEGY_COLUMNS = ("config/loss_strategy", "config/loss.strategy", "config/strategy")
# the columns of trials the search's end cut (the time budget's; an interrupted search's),
# shown where a run has some
UNENDED = ("out of time", "interrupted or not started")
# the side-by-side table's column for what the run picked (its finalists' choice)
PICK_COLUMN = "pick: mean ± sd over its replicates"
# the columns of epochs.parquet saying when an epoch ran, the most precise first: when its
# metrics were ready (the trainer's clock, sub-second), and Tune's report time (whole
# seconds: epochs that ended in the same second are not ordered by it)
RAN_AT = ("time/end_unix", "timestamp")


def anytime_curve(run: RunData) -> pd.DataFrame:
    """Columns epochs_consumed (1..N), trial_id, anchored_val_loss, counted (the trial is
    one ``scored_trials`` keeps), best_so_far (over the counted epochs).

    The epochs are in the order they ran by ``time/end_unix`` where every epoch has one (a
    run written since the trainer records it), else by ``timestamp`` (whole seconds; an
    older run's table); epochs of the same time, or all of them when the table has
    neither, trial by trial in creation order (``RunData.trial_order``, else trial ids),
    each trial's by epoch. ``curve_order`` says which, in words."""
    columns = ["epochs_consumed", "trial_id", "anchored_val_loss", "counted", "best_so_far"]
    epochs = run.epochs
    if epochs.empty:
        return pd.DataFrame(columns=columns)
    if run.trial_order:
        order = run.trial_order
    else:
        ids = sorted(epochs["trial_id"].unique())
        order = {t: i for i, t in enumerate(ids)}
    ordered = epochs.assign(_order=epochs["trial_id"].map(order).fillna(len(order)))
    ran_at = _ran_at(epochs)
    keys = ["_order", "epoch"] if ran_at is None else [ran_at, "_order", "epoch"]
    ordered = ordered.sort_values(keys, kind="stable")
    values = pd.to_numeric(ordered["anchored_val_loss"], errors="coerce")
    # a failed trial's epochs were spent, but its values are never the best (best_trial)
    scored = set(scored_trials(run.trials)["trial_id"].astype(str))
    counted = ordered["trial_id"].astype(str).isin(scored)
    finite = values.where(values.map(math.isfinite) & counted)
    return pd.DataFrame(
        {
            "epochs_consumed": range(1, len(ordered) + 1),
            "trial_id": ordered["trial_id"].to_numpy(),
            "anchored_val_loss": values.to_numpy(),
            "counted": counted.to_numpy(),
            "best_so_far": finite.cummin().ffill().to_numpy(),  # NaN epochs keep the best
        }
    )


def _ran_at(epochs: pd.DataFrame) -> str | None:
    """The first of ``RAN_AT`` that every epoch has, or None."""
    for column in RAN_AT:
        if column in epochs and epochs[column].notna().all():
            return column
    return None


def curve_order(run: RunData) -> str:
    """How ``anytime_curve`` orders epochs, in words for the report."""
    ran_at = _ran_at(run.epochs)
    if ran_at == RAN_AT[0]:
        return "in the order they ran (each epoch's end time, time/end_unix)"
    created = (
        "the order the search created their trials"
        if run.trial_order
        else "trial-id order (the run's tables hold no creation order)"
    )
    if ran_at is not None:
        return (
            "in the order they ran, to the second (each epoch's report time, Tune's "
            f"timestamp: this run's epochs.parquet has no time/end_unix), epochs of the same "
            f"second in {created}"
        )
    return f"trial by trial in {created}"


def strategies(trials: pd.DataFrame) -> pd.Series:
    """The loss strategy of each trial ("(default)" when the run did not set one)."""
    for column in STRATEGY_COLUMNS:
        if column in trials:
            return trials[column].fillna("(not set)").astype(str)
    return pd.Series(["(default)"] * len(trials), index=trials.index, dtype=str)


def best_trial(run: RunData) -> dict[str, Any] | None:
    """The trial the search reports as its best (``trials.best_row``), with its config."""
    row = best_row(run.trials)
    if row is None:
        return None
    return {
        "trial_id": str(row["trial_id"]),
        BEST_VAL_METRIC: float(row[BEST_VAL_METRIC]),
        "best_epoch": int(row.get("best_epoch", 0)),
        "status": str(row["status"]),
        "config": row_config(row),
    }


def strategy_table(run: RunData) -> pd.DataFrame:
    """Per loss strategy: trials, how they ended (the columns of trials the search's end
    cut, as the side-by-side table's, only where some were: the counts add up to the
    trials), best and median of the metric (a cut trial's value so far counts)."""
    trials = run.trials.assign(strategy=strategies(run.trials))
    rows = []
    for name, group in trials.groupby("strategy", sort=True):
        finite = pd.to_numeric(scored_trials(group)[BEST_VAL_METRIC])
        rows.append(
            {
                "strategy": name,
                "trials": len(group),
                "completed": int((group["status"] == "completed").sum()),
                "stopped": int((group["status"] == "stopped").sum()),
                "failed": int((group["status"] == "failed").sum()),
                **_unended(group["status"]),
                "best": float(finite.min()) if len(finite) else math.nan,
                "median": float(finite.median()) if len(finite) else math.nan,
            }
        )
    table = pd.DataFrame(rows)
    return table.drop(columns=[c for c in UNENDED if c in table and not table[c].any()])


def _unended(status: pd.Series) -> dict[str, int]:
    """The trials the search's end cut, by how (``UNENDED``)."""
    return {
        UNENDED[0]: int((status == OUT_OF_TIME).sum()),
        UNENDED[1]: int(status.isin([INTERRUPTED, NOT_STARTED]).sum()),
    }


def run_state(run: RunData) -> str:
    """How the run's search ended (``summary.STATES``), from its tables and what its
    summary.json says it was to do, as its summary said it."""
    return search_state(
        run.trials, planned=run.planned, time_budget_s=run.time_budget_s, finalists=run.finalists
    )


def state_line(run: RunData, names: Names = CLI) -> str:
    """The run's state for its section in the report: with what is unfinished and the
    command that finishes it when it was interrupted."""
    state = run_state(run)
    if state == OUT_OF_TIME:
        return (
            f"{state}: its time budget of {run.time_budget_s:g} s ran out (a new search goes "
            f"on from its trials with `{names.option('warm_start', run.path)}`)"
        )
    if state != INTERRUPTED_SEARCH:
        return state
    status = run.trials["status"] if len(run.trials) else pd.Series(dtype=str)
    cut = int(status.isin([INTERRUPTED, NOT_STARTED]).sum())
    never = 0 if run.time_budget_s is not None else max(0, (run.planned or 0) - len(run.trials))
    replicates = run.finalists["status"] if run.finalists is not None else pd.Series(dtype=str)
    unfinished = int((replicates == UNFINISHED).sum())
    parts = [
        f"{cut} trial(s) interrupted or not started" if cut else "",
        f"{never} planned trial(s) never created" if never else "",
        f"{unfinished} of {len(replicates)} finalist replicates unfinished, nothing picked yet"
        if unfinished
        else "",
    ]
    return (
        f"{state} ({'; '.join(p for p in parts if p)}): `{names.resume(run.path)}` would "
        "finish it; its values here are those so far"
    )


def run_overview(run: RunData) -> dict[str, Any]:
    """One row of the side-by-side table."""
    trials = run.trials
    curve = anytime_curve(run)
    best = best_trial(run)
    status = trials["status"].value_counts() if len(trials) else pd.Series(dtype=int)
    to_best = math.nan
    if best is not None and len(curve):
        reached = curve[curve["best_so_far"] <= best[BEST_VAL_METRIC]]
        to_best = int(reached["epochs_consumed"].iloc[0]) if len(reached) else math.nan
    return {
        "run": run.name,
        "space": run.space_name,
        "state": run_state(run),  # how the search ended: interrupted, --resume finishes it
        "trials": len(trials),
        "completed": int(status.get("completed", 0)),
        "stopped by ASHA": int(status.get("stopped", 0)),
        "failed": int(status.get("failed", 0)),
        # trials the search ended before they did (write_report drops the column where no
        # run has any): the time budget's, and an interrupted search's
        **_unended(trials["status"] if len(trials) else pd.Series(dtype=str)),
        "epochs consumed": len(curve),
        # the search's best trial: with finalists, not what the run picked (next column)
        "search's best anchored_val_loss": best[BEST_VAL_METRIC] if best else math.nan,
        "epochs to best": to_best,
        "search's best strategy": _strategy(best["config"]) if best else "",
        "search's best trial": best["trial_id"] if best else "",
        PICK_COLUMN: pick_cell(run),
    }


def _strategy(config: Mapping[str, Any]) -> str:
    """The loss strategy in a configuration ("" when it sets none), as ``strategies``."""
    for column in STRATEGY_COLUMNS:
        if (name := column[len("config/") :]) in config:
            return str(config[name])
    return ""


def pick_cell(run: RunData) -> str:
    """The configuration the run picked, for the side-by-side table: the finalist (its loss
    strategy) and the mean ± sd of its replicates' values; "-" for a run without
    finalists, whose pick is its search's best trial. Where the finalists picked none,
    that nothing was, and that best_config.yaml holds the search's best trial
    (``writing.write_results``): until ``--resume`` picks, for an interrupted run."""
    if run.finalists is None:
        return "-"
    pick = picked_config(run.finalists)
    if pick is None:  # every replicate failed, or the run stopped before they finished
        unfinished = int((run.finalists["status"] == UNFINISHED).sum())
        if unfinished:
            return (
                f"nothing picked yet ({unfinished} of {len(run.finalists)} replicates "
                "unfinished): best_config.yaml holds the search's best trial until --resume "
                "picks"
            )
        return (
            "nothing picked (no replicate finished): best_config.yaml holds the search's best trial"
        )
    strategy = _strategy(pick["config"])
    return (
        f"finalist {pick['finalist']}"
        + (f" ({strategy})" if strategy else "")
        + f": {shown_number(pick[BEST_VAL_METRIC], 4)} ± {shown_number(pick['sd'], 4)} over "
        f"{pick['replicates']}"
    )
