"""A search's summary: the short summary printed at the end, summary.json's contents
and summary.md's text (``results.writing`` writes them, with the results directory).

The summary is honest however the search ended: ``state`` says whether it finished (or its
time budget ended it), was interrupted (Ctrl+C, a dead driver, in the search or as its
finalists re-trained: ``--resume`` continues it), ended with every trial failed, or gave no
result (no trial's finite value: some were cut before their first epoch); trials the search
never ran are "not started" (never "stopped by ASHA"); ``files`` names only files that
exist.

summary.md is a list of sections (``SECTIONS``): each is a function of the summary and the
trials table returning its lines (or none); a new section is one more function in the list.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from raysearch.core.metrics import (
    BEST_VAL_METRIC,
    COMPLETED,
    FAILED,
    INTERRUPTED,
    NOT_STARTED,
    OUT_OF_TIME,
    STOPPED,
    UNFINISHED,
)
from raysearch.core.numbers import plain
from raysearch.results.evidence import SEED_PARAMETER
from raysearch.results.evidence_report import VALUE_FORMAT, evidence_markdown, shown_number
from raysearch.results.summary_lines import gate_line, warm_start_line
from raysearch.results.tables import markdown_table
from raysearch.results.trials import best_row, row_config
from raysearch.search.names import CLI, Names

__all__ = [
    "ALL_FAILED",
    "FINISHED",
    "INTERRUPTED_SEARCH",
    "NO_RESULT",
    "OUT_OF_TIME",
    "SECTIONS",
    "STATES",
    "Section",
    "counts_line",
    "finalists_line",
    "gate_line",
    "markdown",
    "search_state",
    "summarize",
    "warm_start_line",
]

# How a search ended (summary["state"]).
FINISHED, ALL_FAILED = "finished", "every trial failed"
INTERRUPTED_SEARCH = INTERRUPTED  # the word of a trial the search stopped first (core.metrics)
# OUT_OF_TIME (core.metrics, also a trial's status): its time budget ran out first.
# It ended with no trial's finite value, and not every trial failed: some were cut (by the
# time budget) before their first epoch. Like ALL_FAILED, a search that gave no result:
# nothing to use, nor to start a new search from (--warm-start).
NO_RESULT = "gave no result"
STATES = (FINISHED, INTERRUPTED_SEARCH, ALL_FAILED, NO_RESULT, OUT_OF_TIME)

Section = Callable[[dict[str, Any], pd.DataFrame], list[str]]


def _best(trials: pd.DataFrame) -> dict[str, Any] | None:
    row = best_row(trials)  # not a failed trial's: its configuration does not train
    if row is None:
        return None
    return {
        "trial_id": row["trial_id"],
        BEST_VAL_METRIC: float(row[BEST_VAL_METRIC]),
        "best_epoch": int(row["best_epoch"]),
        "status": str(row["status"]),
        "config": row_config(row),
        "test": {
            k[len("test/") :]: plain(v)
            for k, v in row.items()
            if isinstance(k, str) and k.startswith("test/") and not pd.isna(v)
        },
    }


def search_state(
    trials: pd.DataFrame,
    *,
    planned: int | None = None,
    time_budget_s: float | None = None,
    finalists: pd.DataFrame | None = None,
) -> str:
    """How the search ended (one of ``STATES``), from its tables and what it was to do
    (``summarize`` says what each argument is): interrupted while a trial or a finalist
    replicate is unfinished, or a planned trial was never created (but for the time
    budget's end); then every trial failed, no result, out of time or finished."""
    counts = trials["status"].value_counts().to_dict() if not trials.empty else {}
    planned = max(planned or 0, len(trials))
    never = 0 if time_budget_s is not None else planned - len(trials)
    unfinished = int(counts.get(INTERRUPTED, 0)) + int(counts.get(NOT_STARTED, 0)) + never
    if finalists is not None:
        unfinished += int((finalists["status"] == UNFINISHED).sum())
    if unfinished:
        return INTERRUPTED_SEARCH
    if len(trials) and int(counts.get(FAILED, 0)) == len(trials):
        return ALL_FAILED
    if best_row(trials) is None:  # whatever cut the trials: no value to use or to start from
        return NO_RESULT
    return OUT_OF_TIME if time_budget_s is not None else FINISHED


def summarize(
    trials: pd.DataFrame,
    run_dir: Path,
    planned: int | None = None,
    *,
    time_budget_s: float | None = None,
    gate_held: Mapping[int, int] | None = None,
    finalists: pd.DataFrame | None = None,
    warm_start: Mapping[str, Any] | None = None,
    gate: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """What the user reads first: how the search ended, how each trial ended, the best
    trial. ``planned``: the trials the search was to run; those Tune never created count
    as not started, unless ``time_budget_s`` is given: the search's time budget (seconds)
    ran out, and ended it before it created them. ``gate_held``: the stops ASHA made that
    its rung gate held, per epoch (None: no gate); ``gate``: what the gate judges a rung by
    (``tuner.gate_record``: its least number of trials, its threshold, what it compares,
    whether it weighs the cut's cost and what it does with ASHA's stops at a rung with too
    few trials to judge, ``unmeasured``; and how each of those epochs stood when the search
    ended: its trials, Spearman and cut cost). ``finalists``: the finalists' replicates
    (finalists.parquet); one left unfinished makes the search interrupted, as an
    unfinished trial does. ``warm_start``: what a warm start put first in the run's Optuna
    study (``study.warm_start_record``: the run it came from, how many trials, how many
    ran there and where the others ran, their best value), None for a search started from
    scratch. ``files`` is filled in by ``write_results`` with what it wrote."""
    counts = trials["status"].value_counts().to_dict() if not trials.empty else {}
    planned = max(planned or 0, len(trials))
    never = 0 if time_budget_s is not None else planned - len(trials)
    not_started = int(counts.get(NOT_STARTED, 0)) + never
    failed = int(counts.get(FAILED, 0))
    replicates = 0 if finalists is None else len(finalists)
    unfinished_replicates = (
        0 if finalists is None else int((finalists["status"] == UNFINISHED).sum())
    )
    best = _best(trials)
    state = search_state(trials, planned=planned, time_budget_s=time_budget_s, finalists=finalists)
    failures = trials[trials["status"] == FAILED] if not trials.empty else trials
    failed_replicates = (
        finalists[finalists["status"] == FAILED] if finalists is not None else pd.DataFrame()
    )
    return {
        "run_dir": str(run_dir),
        "state": state,
        "planned": planned,
        "n_trials": len(trials),
        "completed": int(counts.get(COMPLETED, 0)),
        "stopped_by_asha": int(counts.get(STOPPED, 0)),
        "failed": failed,
        "interrupted": int(counts.get(INTERRUPTED, 0)),
        "not_started": not_started,
        "out_of_time": int(counts.get(OUT_OF_TIME, 0)),
        "time_budget_s": time_budget_s,
        "replicates": replicates,  # the finalists' (0: no finalists)
        "unfinished_replicates": unfinished_replicates,  # --resume trains them
        # JSON keys are text: {"1": 12} is 12 stops held at epoch 1
        "gate_held": None if gate_held is None else {str(e): n for e, n in gate_held.items()},
        "gate": None if gate is None else _gate_record(gate),
        # the search's failed trials, then the finalists' failed replicates
        "failures": [
            {"trial_id": r["trial_id"], "reason": r["stop_reason"]} for _, r in failures.iterrows()
        ]
        + [_replicate_failure(r) for _, r in failed_replicates.iterrows()],
        "best": best,
        "warm_start": None if warm_start is None else dict(warm_start),
        "files": {},
    }


def _replicate_failure(row: pd.Series) -> dict[str, Any]:
    """A failed finalist replicate in the summary's failures: named by its finalist and seed
    (its Tune trial id too, when it reported), with its reason (finalists.parquet's
    ``stop_reason``; a table written before it has none)."""
    name = f"finalist {int(row['finalist'])} (seed {int(row['seed'])})"
    trial_id = row.get("trial_id")
    reason = row.get("stop_reason")
    return {
        "trial_id": f"{name}, trial {trial_id}" if isinstance(trial_id, str) and trial_id else name,
        "reason": str(reason) if isinstance(reason, str) else "no reason recorded",
    }


def counts_line(summary: dict[str, Any]) -> str:
    """ "4 of 4 trials created: 1 completed, 2 stopped early by ASHA, 1 failed" (zero counts
    left out): how the created trials ended, then the planned trials never created ("2 of 4
    trials created: 2 not started; 2 never created")."""
    never = summary["planned"] - summary["n_trials"]
    # "not_started" counts the trials never created too, unless the time budget ended the
    # search (``summarize``); then the state may still be another (every trial failed)
    ran_out = summary.get("time_budget_s") is not None
    created_not_started = summary["not_started"] - (0 if ran_out else never)
    parts = [
        (summary["completed"], "completed"),
        (summary["stopped_by_asha"], "stopped early by ASHA"),
        (summary["failed"], "failed"),
        (summary["interrupted"], "interrupted (resume continues them)"),
        (created_not_started, "not started"),
        # .get: a summary.json written before the time budget has no such count
        (summary.get("out_of_time", 0), "cut when the time budget ran out"),
    ]
    shown = ", ".join(f"{n} {what}" for n, what in parts if n) or "none ran"
    why = " (the time budget ran out first)" if ran_out else ""
    return f"{summary['n_trials']} of {summary['planned']} trials created: {shown}" + (
        f"; {never} never created{why}" if never else ""
    )


def no_result_line(summary: dict[str, Any], names: Names = CLI) -> str:
    """Why a search ``gave no result``, and that nothing can start from it (``names``: the
    options as its user gives them, flags or run_search's keywords)."""
    budget = summary.get("time_budget_s")
    when = f" before its time budget of {budget:g} s ran out" if budget is not None else ""
    return (
        f"No trial reported a finite {BEST_VAL_METRIC}{when}: there is no result, and no "
        f"trial a new search could start from ({names.option('warm_start')})."
        + (f" Give it a longer {names.option('time_budget_s')}." if budget is not None else "")
    )


def finalists_line(summary: dict[str, Any], names: Names = CLI) -> str | None:
    """ "3 of 4 finalist replicates unfinished: nothing is picked until --resume trains
    them" (``names``: as no_result_line's), or None when none is (or a summary written
    before the count)."""
    n = summary.get("unfinished_replicates", 0)
    if not n:
        return None
    return (
        f"{n} of {summary['replicates']} finalist replicates unfinished: nothing is picked "
        f"until {names.option('resume')} trains them"
    )


def _gate_record(gate: Mapping[str, Any]) -> dict[str, Any]:
    """``gate`` as summary.json holds it: its epochs as text, as ``gate_held``'s."""
    per_epoch = {k: {str(e): v for e, v in gate[k].items()} for k in _PER_EPOCH if k in gate}
    return {**gate, **per_epoch, "trials": {str(e): int(n) for e, n in gate["trials"].items()}}


# the gate record's values per epoch where it held a stop (``tuner.gate_record``)
_PER_EPOCH = ("spearman", "cost")


def _headline(summary: dict[str, Any], trials: pd.DataFrame) -> list[str]:
    run_dir = Path(summary["run_dir"])  # shown as <space>/<run>: no machine path in the file
    name = f"{run_dir.parent.name}/{run_dir.name}"
    lines = [f"# Search results: {name}", "", f"Search {summary['state']}."]
    # the file is read by whoever comes to the run: said for the command line and Python
    if summary["state"] == INTERRUPTED_SEARCH:
        lines.append(
            f"Continue it with: raysearch run --resume RESULTS/{name} (from Python: "
            f"raysearch.run_search(resume='RESULTS/{name}'))"
        )
    if summary["state"] == OUT_OF_TIME:
        lines.append(
            f"Its time budget of {summary['time_budget_s']:g} s ran out. Go on from its trials "
            f"in a new search with: raysearch run --warm-start RESULTS/{name} ... "
            f"(from Python: raysearch.run_search(..., warm_start='RESULTS/{name}'))"
        )
    if summary["state"] == NO_RESULT:
        lines.append(no_result_line(summary))
    gate, finalists = gate_line(summary), finalists_line(summary)
    warm = warm_start_line(summary, run_dir.parent.parent)  # its results root
    more = [f"{finalists}." if finalists else None, gate, warm]
    return [*lines, "", counts_line(summary) + ".", *[m for m in more if m]]


def _pick_section(summary: dict[str, Any], trials: pd.DataFrame) -> list[str]:
    """The finalists' pick, first: what best_config.yaml holds (``writing.write_results``);
    none without one (best_config.yaml then holds the search's best trial)."""
    pick = summary.get("pick")
    if not pick:
        return []
    lines = [
        "",
        f"Pick (what best_config.yaml holds): finalist {pick['finalist']}, {BEST_VAL_METRIC} "
        f"= {shown_number(pick[BEST_VAL_METRIC], 4)} ± {shown_number(pick['sd'], 4)}, the "
        f"mean over its {pick['replicates']} replicates re-trained with fresh seeds after the "
        "search (best_config.yaml holds these values with the search's fixed ones)",
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in pick["config"].items()]
    if pick.get("seed") is not None:  # a summary written before it was kept has none
        lines.append(f"- {SEED_PARAMETER}: {pick['seed']} (its first finished replicate's)")
    if pick["test"]:
        unscored = pick.get("test_not_finite") or []  # a summary written before it: none
        left_out = (
            f"; seed(s) {', '.join(map(str, unscored))} left out: no finite value"
            if unscored
            else ""
        )
        lines += [
            "",
            f"Test split (same metric, mean over its replicates' best checkpoints{left_out}):",
            "",
        ]
        lines += [f"- {k}: {shown_number(v, 4)}" for k, v in pick["test"].items()]
    return lines


# why the search's best trial is not the pick, beside it
_NOT_THE_PICK = (
    " (one training, picked as the best of many: the pick above is chosen on the mean of "
    "re-trainings)"
)


def _best_section(summary: dict[str, Any], trials: pd.DataFrame) -> list[str]:
    best = summary["best"]
    if not best:
        return ["", f"No trial produced a finite {BEST_VAL_METRIC}."]
    so_far = " so far" if summary["state"] == INTERRUPTED_SEARCH else ""
    picked = bool(summary.get("pick"))  # then best_config.yaml holds the pick, not this trial
    whose = "Search's best" if picked else "Best"
    lines = [
        "",
        f"{whose}{so_far}: trial {best['trial_id']} ({best['status']}), {BEST_VAL_METRIC} = "
        f"{best[BEST_VAL_METRIC]:.4f} at epoch {best['best_epoch']}"
        + (_NOT_THE_PICK if picked else ""),
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in best["config"].items()]
    if best["test"]:
        lines += ["", "Test split (same metric, best checkpoint):", ""]
        lines += [f"- {k}: {v:.4f}" for k, v in best["test"].items()]
    return lines


def _failures_section(summary: dict[str, Any], trials: pd.DataFrame) -> list[str]:
    if not summary["failures"]:
        return []
    return ["", "Failed trials:", ""] + [
        f"- {f['trial_id']}: {f['reason']}" for f in summary["failures"]
    ]


def _table_section(summary: dict[str, Any], trials: pd.DataFrame) -> list[str]:
    if trials.empty:
        return []
    shown = [
        c
        for c in ("trial_id", "status", "epochs_run", BEST_VAL_METRIC, "stop_reason")
        if c in trials
    ]
    # the values that differ between trials; a conditional parameter drawn by one trial
    # only differs from the others' "not drawn"
    params = [
        c for c in trials.columns if c.startswith("config/") and trials[c].nunique(dropna=False) > 1
    ]
    table = trials[shown + params].copy()
    # a parameter the trial did not sample (a conditional one) shows as "-", not "nan"
    table[params] = table[params].astype(object).where(table[params].notna(), None)
    for c in params:  # an int column with undrawn rows is float: 12345 showed as 1.234e+04
        if _integral(trials[c]):
            table[c] = pd.Series([_as_int(v) for v in table[c]], index=table.index, dtype=object)
    # a searched value to 4 significant digits, as the terminal shows it (shown_value): a
    # learning rate of 8.559e-06 is not 0.0000, nor 1e+30 thirty-one digits; the metric to
    # 4 decimals, as the rest of the file
    formats = [VALUE_FORMAT if c in params else ".4f" for c in table.columns]
    return ["", markdown_table(table, floatfmt=formats, missingval="-")]


# the largest magnitude below which every integer is a float exactly (2**53)
_EXACT_INTS = float(2**53)


def _integral(column: pd.Series) -> bool:
    """A float column whose drawn (finite) values are all integers that a float holds
    exactly: an int parameter that some trials did not draw (NaN made the column float)."""
    if not pd.api.types.is_float_dtype(column):
        return False
    drawn = column.dropna()
    return bool(((drawn % 1 == 0) & (drawn.abs() < _EXACT_INTS)).all())


def _as_int(value: Any) -> Any:
    """A drawn value of an ``_integral`` column as an int; "not drawn" (None) stays."""
    return None if value is None else int(value)


def _files_section(summary: dict[str, Any], trials: pd.DataFrame) -> list[str]:
    return ["", "Files:", ""] + [f"- {name}" for name in summary["files"]]


def _evidence_section(summary: dict[str, Any], trials: pd.DataFrame) -> list[str]:
    """Issue 15: can the pick be trusted (rung reliability, val-to-test, seed noise)."""
    if "evidence" not in summary:
        return []
    return ["", *evidence_markdown(summary["evidence"], summary.get("pick"))]


SECTIONS: list[Section] = [
    _headline,
    _pick_section,
    _best_section,
    _failures_section,
    _evidence_section,
    _table_section,
    _files_section,
]


def markdown(summary: dict[str, Any], trials: pd.DataFrame) -> str:
    return "\n".join(line for section in SECTIONS for line in section(summary, trials)) + "\n"
