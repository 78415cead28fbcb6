"""Turn Tune's ResultGrid into plain tables: one row per trial, one row per trial-epoch.

Everything later readers need from Tune is copied into the tables here, so nothing above
the search layer reads Tune's own files: ``created`` (the order Tune created the trials,
from the index in their directory names) in trials.parquet, and each epoch's report time
(``timestamp``, whole Unix seconds) in epochs.parquet, beside the trainer's own
``time/end_unix`` (when the epoch's metrics were ready, in sub-second Unix seconds).

Where a trial's time went (``time/...``): a trial's final report, sent once it ran its
course, holds its fit's seconds per phase (``time/<phase>_s``: data, build, train, val,
checkpoint, report, and test where it scored the test split; worker_start for a
data-parallel trial) and ``time/..._unix`` times (when it started, when its last epoch
ended, when it sent the report). Each epoch's report holds only ``time/train_s``,
``time/val_s`` and ``time/end_unix``: epochs.parquet keeps those three and leaves out the
final report's other ``time/`` keys, empty in every epoch's row (``epoch_columns``). A
trial without a final report (stopped by ASHA, failed, cut short by the search's end) has
in trials.parquet what its epochs say (``epochs_time``): its train and validation seconds
summed over them and its last epoch's ``time/end_unix``, as a final report gives them; its
other phases were not recorded and stay empty (NaN).
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from raysearch.core.metrics import (
    BEST_VAL_METRIC,
    COMPLETED,
    FAILED,
    FINAL_KEY,
    INTERRUPTED,
    NOT_STARTED,
    OUT_OF_TIME,
    STOPPED,
    TEST_NOT_SCORED,
    TIME_ATTR,
    TIME_PREFIX,
    VAL_METRIC,
    is_test_metric,
)
from raysearch.core.numbers import is_int, is_unset, plain
from raysearch.core.params import build_trial_config
from raysearch.train.early_stopping import stop_epoch

if TYPE_CHECKING:
    from ray.tune import Result, ResultGrid

__all__ = [
    "best_report",
    "collect_results",
    "config_table",
    "epoch_columns",
    "epoch_reports",
    "epochs_time",
    "failure_reason",
    "grid_trials",
    "trial_error",
]

_ERROR = "ERROR"  # Tune's status of a trial that failed for good (ray.tune.experiment.Trial)

# Tune's bookkeeping columns that are not the trainer's metrics.
_TUNE_COLUMNS = {
    "checkpoint_dir_name",
    "done",
    "training_iteration",
    "trial_id",
    "date",
    "time_this_iter_s",
    "time_total_s",
    "pid",
    "hostname",
    "node_ip",
    "time_since_restore",
    "iterations_since_restore",
    "should_checkpoint",
    "checkpoint_path",
}


_OUTCOME_COLUMNS = {FINAL_KEY, "stop_reason", "best_epoch"}


# A traceback's line that names the exception raised: "ValueError: ...",
# "raysearch.core.errors.ConfigError: ..." (its message may go on over the next lines).
_RAISED = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Failure|Interrupt|Exit)\b")
_MODULE = re.compile(r"^(?:[A-Za-z_]\w*\.)+(?=\w+:)")
# Ray Train's error of failed workers: a heading, then one snippet per error in rank order,
# the ranks that met the same error named together ("[Rank 1,2 Error Snippet]:").
_SNIPPET = re.compile(r"^\[Rank ([\d,]+) Error Snippet\]:")
# A worker's error that follows another worker's end: its collective lost a peer (gloo's
# "Connection closed by peer", NCCL's "remote process exited").
_LOST_PEER = re.compile(r"gloo/transport|by peer|NCCL|DistBackendError|DistNetworkError")


def failure_reason(error: BaseException) -> str:
    """A failed trial's reason, as trials.parquet's ``stop_reason`` words it: the reason the
    trial recorded (its ``TrialFailedError`` line, e.g. "NonFiniteLossError: ..."), else
    for Ray Train's error of its workers ``_workers_reason``'s, else the last exception
    Tune's error names, with its message's lines joined (a ConfigError's problems, a
    RuntimeError over several lines); 300 characters at most."""
    message = [line.strip() for line in str(error).strip().splitlines() if line.strip()]
    recorded = [line for line in message if "TrialFailedError" in line]
    if recorded:
        return recorded[-1].split("TrialFailedError:", 1)[-1].strip()[:300]
    if not message:
        return type(error).__name__
    if any(_SNIPPET.match(line) for line in message):
        return _workers_reason(message)[:300]
    return _raised(message)[:300]


def _raised(lines: list[str]) -> str:
    """The last exception ``lines`` name, with its message's lines ("ConfigError: ...", not
    "raysearch.core.errors.ConfigError: ..."); without one, the last line."""
    raised = [i for i, line in enumerate(lines) if _RAISED.match(line)]
    start = raised[-1] if raised else len(lines) - 1
    return _MODULE.sub("", " ".join(lines[start:]))


def _workers_reason(message: list[str]) -> str:
    """The reason of Ray Train's error of its workers (``message``): the error that
    ended the trial, named with its workers ("worker 0: OSError: ..."), then how many other
    workers failed and the next error. That error is the first worker's whose collective did
    not just lose a peer, which follows another worker's end (a gloo "Connection closed by
    peer" on every rank after one rank's process died). The other workers failed "after it"
    when each of them only lost a peer, else "too"."""
    snippets: list[tuple[list[str], list[str]]] = []  # (ranks, lines) of each, in rank order
    for line in message:
        if opened := _SNIPPET.match(line):
            snippets.append((opened.group(1).split(","), []))
        elif snippets:
            snippets[-1][1].append(line)
    errors = [  # a snippet naming no exception (a health check's) is worded by its first line
        (ranks, _raised(lines) if any(map(_RAISED.match, lines)) else " ".join(lines[:1]))
        for ranks, lines in snippets
    ]
    cause = next((e for e in errors if not _LOST_PEER.search(e[1])), errors[0])
    ranks, error = cause
    reason = f"worker{'s' * (len(ranks) > 1)} {', '.join(ranks)}: {error}"
    others = [e for e in errors if e is not cause]
    if not others:
        return reason
    count = sum(len(r) for r, _ in others)
    said = "after it" if all(_LOST_PEER.search(e) for _, e in others) else "too"
    return f"{reason} ({count} other worker{'s' * (count > 1)} failed {said}: {others[0][1]})"


def _why_stopped(
    error: BaseException | None,
    outcome: dict[str, Any] | None,
    epochs: int,
    max_epochs: int,
    done: bool,
    out_of_time: bool = False,
    stopped_itself: bool = False,
) -> tuple[str, str]:
    """(status, reason) of a trial. ``done``: Tune marked its last result done (it ended,
    or ASHA stopped it); a trial live when the search stopped is not, though Tune's
    clean-up then calls it TERMINATED like the others. ``out_of_time``: the search's time
    budget stopped it, so a trial not done was cut by the budget, not interrupted; one that
    had reported its last epoch (its ``max_epochs``th, or ``stopped_itself``: the one its
    trainer's early stopping ends it after) was not cut: it has its final value, not its
    test scores (``TEST_NOT_SCORED``)."""
    if error is not None:
        return FAILED, failure_reason(error)
    if outcome is not None:
        return COMPLETED, str(outcome.get("stop_reason", "finished"))
    if not done and out_of_time:
        if epochs >= max_epochs or stopped_itself:  # cut between its last epoch and its end
            why = "max_epochs" if epochs >= max_epochs else "early_stopping"
            return COMPLETED, f"{why} ({TEST_NOT_SCORED})"
        if epochs == 0:
            return OUT_OF_TIME, "the time budget ran out before this trial reported an epoch"
        return OUT_OF_TIME, f"the time budget ran out after {epochs} of {max_epochs} epochs"
    if not done:  # the search stopped first (Ctrl+C, a dead driver)
        if epochs == 0:
            return NOT_STARTED, "the search stopped before this trial reported an epoch"
        return INTERRUPTED, f"after {epochs} of {max_epochs} epochs (--resume continues it)"
    if epochs >= max_epochs:
        return COMPLETED, "max_epochs"
    return STOPPED, f"asha (after {epochs} of {max_epochs} epochs)"


def epoch_reports(frame: pd.DataFrame) -> pd.DataFrame:
    """A trial's reports (Tune's ``metrics_dataframe``) as epochs.parquet keeps them: one
    per epoch, without the final report (which repeats the last epoch's values). A trial
    restored from its checkpoint may report an epoch again (its first report went with the
    process, and the restored model never reached that value): the epoch's last report."""
    if TIME_ATTR not in frame:
        return frame.iloc[:0]
    kept = frame[frame[TIME_ATTR].notna()]
    if FINAL_KEY in kept:
        kept = kept[kept[FINAL_KEY] != 1]
    return kept.drop_duplicates(TIME_ATTR, keep="last")


def epoch_columns(reports: pd.DataFrame) -> list[str]:
    """The columns of a trial's ``epoch_reports`` that epochs.parquet keeps: its metrics,
    not Tune's bookkeeping, the final report's outcome and test metrics, nor a ``time/``
    column empty in every epoch (Tune's table has a column for every key any report sent:
    the final report's ``time/<phase>_s`` and ``time/..._unix`` of the phases an epoch does
    not time, which no epoch's report holds)."""
    return [
        c
        for c in reports.columns
        if c not in _TUNE_COLUMNS | _OUTCOME_COLUMNS
        and not is_test_metric(c)
        and not (str(c).startswith(TIME_PREFIX) and reports[c].isna().all())
    ]


def epochs_time(reports: pd.DataFrame) -> dict[str, float]:
    """A trial's ``time/`` values as its ``epoch_reports`` give them, for a trial that sent
    no final report: each ``time/<phase>_s`` every epoch holds, summed over the epochs (as
    the fit sums them for its final report), and each ``time/..._unix``, the last epoch's."""
    times: dict[str, float] = {}
    for column in reports.columns:
        name = str(column)
        values = pd.to_numeric(reports[column], errors="coerce")
        if not name.startswith(TIME_PREFIX) or values.empty or values.isna().any():
            continue
        if name.endswith("_s"):
            times[name] = math.fsum(values)
        elif name.endswith("_unix"):
            times[name] = float(values[reports[TIME_ATTR] == reports[TIME_ATTR].max()].iloc[-1])
    return times


def best_report(epochs: pd.DataFrame) -> tuple[float, int]:
    """(best value, the first epoch that reached it) of ``epoch_reports``' rows; (NaN, 0)
    without a value."""
    values = pd.to_numeric(epochs[VAL_METRIC]).to_numpy(dtype=float)
    if np.isnan(values).all():
        return math.nan, 0
    first = int(np.nanargmin(values))  # the first of equal values
    return float(values[first]), int(epochs[TIME_ATTR].iloc[first])


def trial_error(result: Any, trial: Any) -> BaseException | None:
    """The error ``trial`` ended with; None when it did not end failing. Ray's ResultGrid
    gives a trial its last attempt's error whatever its status: a trial requeued for a
    retry (``--max-failures``: Tune keeps it PENDING, say while a lost node is replaced)
    when the search stopped still carries it, though Tune keeps it live and ``--resume``
    runs it on."""
    return result.error if trial.status == _ERROR else None


def config_table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """``rows`` (one per trial) as a table whose ``config/`` columns keep an int parameter's
    values ints. pandas makes a column of ints float when a row lacks it (a conditional
    parameter its trial did not sample: NaN), and a trial configuration refuses 64.0 for an
    int ("must be an int"): best_config.yaml, the finalists and their test scores could not
    be built from the table. Such a column holds the ints as objects, NaN where unset."""
    table = pd.DataFrame(rows)
    for column in table.columns:
        if not str(column).startswith("config/") or table[column].dtype.kind != "f":
            continue
        values = [row.get(column, math.nan) for row in rows]
        set_values = [v for v in values if not is_unset(v)]
        if set_values and all(is_int(plain(v)) for v in set_values):
            table[column] = pd.Series(values, index=table.index, dtype=object)
    return table


def grid_trials(grid: ResultGrid) -> list[Any]:
    """Tune's trials in the grid's order. A trial's id and config are read from these, not
    from its results: a trial that failed before its first report has none, and Result's
    config is its last result's. ResultGrid keeps its trials private
    (``_experiment_analysis.trials``; the Ray pin holds it in place)."""
    return list(grid._experiment_analysis.trials)


def collect_results(
    grid: ResultGrid, max_epochs: int, fixed: dict[str, Any], *, out_of_time: bool = False
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(trials, epochs) tables from a ``ray.tune.ResultGrid``; ``out_of_time``: the search's
    time budget stopped it (``_why_stopped``)."""
    trial_rows: list[dict[str, Any]] = []
    epoch_frames: list[pd.DataFrame] = []
    trials_of = grid_trials(grid)
    for index in range(len(grid)):  # ResultGrid is indexed; it declares no __iter__
        result, trial = grid[index], trials_of[index]
        trial_id = str(trial.trial_id)
        frame = result.metrics_dataframe
        config = dict(trial.config or {})
        outcome: dict[str, Any] | None = None
        if frame is not None and FINAL_KEY in frame:
            finals = frame[frame[FINAL_KEY] == 1]
            if not finals.empty:
                outcome = {str(k): v for k, v in finals.iloc[-1].items()}
        reports = epoch_reports(frame) if frame is not None else None
        if reports is not None and not reports.empty:
            epochs_frame = reports[epoch_columns(reports)].copy()
            epochs_frame.insert(0, "trial_id", trial_id)
            epoch_frames.append(epochs_frame)
            epochs_run = int(reports[TIME_ATTR].max())
            # from the epochs as epochs.parquet keeps them (a repeated epoch's last report)
            best, best_epoch = best_report(reports)
        else:
            epochs_run, best, best_epoch = 0, math.nan, 0
        done = bool((result.metrics or {}).get("done"))
        stopped_itself = (
            out_of_time
            and not done
            and outcome is None
            and reports is not None
            and 0 < epochs_run < max_epochs
            and _stops_itself(reports, {**fixed, **config, "trainer.max_epochs": max_epochs})
        )
        status, reason = _why_stopped(
            trial_error(result, trial),
            outcome,
            epochs_run,
            max_epochs,
            done,
            out_of_time,
            stopped_itself,
        )
        row = {
            "trial_id": trial_id,
            "created": _created(result, trial_id),
            "status": status,
            "stop_reason": reason,
            "epochs_run": epochs_run,
            BEST_VAL_METRIC: best,
            "best_epoch": best_epoch,
            **{f"config/{k}": v for k, v in {**fixed, **config}.items()},
        }
        for key, value in (outcome or {}).items():
            if is_test_metric(key):
                row[f"test/{key}"] = value
            elif key.startswith(TIME_PREFIX):  # where the trial's wall time went
                row[key] = value
        if outcome is None and reports is not None:  # ASHA stopped it, or it never ended
            row.update(epochs_time(reports))
        trial_rows.append(row)
    trials = config_table(trial_rows)
    if not trials.empty:
        trials = trials.sort_values(BEST_VAL_METRIC, na_position="last").reset_index(drop=True)
    epochs = pd.concat(epoch_frames, ignore_index=True) if epoch_frames else pd.DataFrame()
    return trials, epochs


def _stops_itself(reports: pd.DataFrame, values: dict[str, Any]) -> bool:
    """Whether the trainer's early stopping ends, after its last reported epoch, a trial of
    the space's fixed and sampled ``values`` (with the search's max_epochs, beside which a
    warm-up is valid) that reported ``reports`` (epoch_reports')."""
    trainer = build_trial_config(values).trainer
    curve = reports.sort_values(TIME_ATTR)[VAL_METRIC].to_numpy(dtype=float)
    stopped = stop_epoch(curve, trainer.patience, trainer.min_delta, trainer.min_epochs)
    return stopped == len(curve)


def _created(result: Result, trial_id: str) -> int:
    """The order Tune created the trial: the index in its directory's name
    (``<trainable>_<trial_id>_<index>_<params>_<date>``), -1 if it cannot be read."""
    name = Path(result.path).name if result.path else ""
    index = name.partition(f"_{trial_id}_")[2].split("_", 1)[0]
    return int(index) if index.isdigit() else -1
