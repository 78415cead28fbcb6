from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from raysearch.core.metrics import BEST_VAL_METRIC
from raysearch.results.analysis import (
    anytime_curve,
    best_trial,
    run_overview,
    run_state,
    state_line,
    strategy_table,
)
from raysearch.results.runs import RunData, load_run
from raysearch.testing.results import write_fake_run


def _run(epochs: pd.DataFrame, trials: pd.DataFrame | None = None) -> RunData:
    if trials is None:
        ids = epochs["trial_id"].unique()
        trials = pd.DataFrame(
            {
                "trial_id": ids,
                "status": "completed",
                "epochs_run": [int((epochs["trial_id"] == t).sum()) for t in ids],
                BEST_VAL_METRIC: [
                    epochs.loc[epochs["trial_id"] == t, "anchored_val_loss"].min() for t in ids
                ],
            }
        )
    return RunData("x/y", Path("."), trials, epochs, {"space": "x"})


losses = st.lists(
    st.lists(st.one_of(st.floats(-3, 3), st.just(math.nan)), min_size=1, max_size=6),
    min_size=1,
    max_size=6,
)


@settings(max_examples=40, deadline=None)
@given(losses)
def test_anytime_curve_is_the_running_minimum_of_finite_losses(per_trial):
    rows = [
        {"trial_id": f"t_{k:05d}", "epoch": e + 1, "anchored_val_loss": v}
        for k, values in enumerate(per_trial)
        for e, v in enumerate(values)
    ]
    curve = anytime_curve(_run(pd.DataFrame(rows)))
    assert list(curve["epochs_consumed"]) == list(range(1, len(rows) + 1))
    assert list(curve["trial_id"]) == [r["trial_id"] for r in rows]  # trial by trial
    # at each epoch, the least finite loss up to and including it; NaN before the first one
    values = np.array([r["anchored_val_loss"] for r in rows])
    running = np.fmin.accumulate(values)  # fmin skips a NaN, so a NaN epoch keeps the best
    np.testing.assert_array_equal(curve["best_so_far"].to_numpy(), running)


def test_trials_are_counted_in_creation_order_not_string_order():
    rows = [
        {"trial_id": "abc_00010", "epoch": 1, "anchored_val_loss": -1.0},
        {"trial_id": "abc_00002", "epoch": 1, "anchored_val_loss": 0.5},
        {"trial_id": "abc_00002", "epoch": 2, "anchored_val_loss": 0.2},
    ]
    curve = anytime_curve(_run(pd.DataFrame(rows)))
    assert list(curve["trial_id"]) == ["abc_00002", "abc_00002", "abc_00010"]
    assert list(curve["best_so_far"]) == [0.5, 0.2, -1.0]


def test_with_each_reports_time_epochs_are_counted_in_the_order_they_ran():
    """Two trials trained side by side: their epochs interleave. Counted trial by trial,
    the curve credited trial b's epochs to a later budget than they were spent at."""
    rows = [
        {"trial_id": "a", "epoch": 1, "anchored_val_loss": 0.5, "timestamp": 10.0},
        {"trial_id": "a", "epoch": 2, "anchored_val_loss": 0.4, "timestamp": 30.0},
        {"trial_id": "b", "epoch": 1, "anchored_val_loss": 0.3, "timestamp": 20.0},
        {"trial_id": "b", "epoch": 2, "anchored_val_loss": 0.2, "timestamp": 40.0},
    ]
    curve = anytime_curve(_run(pd.DataFrame(rows)))
    assert list(curve["trial_id"]) == ["a", "b", "a", "b"]
    assert list(curve["best_so_far"]) == [0.5, 0.3, 0.3, 0.2]


def test_best_trial_ignores_failed_and_nan(two_runs):
    run = load_run(two_runs[0])
    best = best_trial(run)
    finite = run.trials[run.trials[BEST_VAL_METRIC].notna()]
    assert best[BEST_VAL_METRIC] == finite[BEST_VAL_METRIC].min()
    assert best["status"] != "failed"
    assert "loss_strategy" in best["config"]
    # a non-a3dro best has no conditional parameters (NaN columns are left out)
    if best["config"]["loss_strategy"] != "a3dro":
        assert "budget_beta" not in best["config"]


def test_strategy_table_accounts_for_every_trial(two_runs):
    run = load_run(two_runs[1])
    table = strategy_table(run)
    assert table["trials"].sum() == len(run.trials)
    assert (table["completed"] + table["stopped"] + table["failed"] == table["trials"]).all()
    assert (table["best"] <= table["median"]).all()


def test_a_strategys_median_is_the_median_of_its_trials_values_not_their_mean():
    """Three kendall trials at -1.0, -0.2 and -0.1: the median is -0.2 (the mean, -0.433,
    is pulled by the one outlier)."""
    trials = pd.DataFrame(
        {"trial_id": ["a", "b", "c"], "status": "completed", BEST_VAL_METRIC: [-1.0, -0.2, -0.1],
         "config/loss_strategy": "kendall"}
    )  # fmt: skip
    row = strategy_table(_run(pd.DataFrame(), trials)).set_index("strategy").loc["kendall"]
    assert (row["best"], row["median"]) == (-1.0, -0.2)


def test_a_trial_not_started_is_counted_per_strategy_with_those_the_search_cut():
    """A trial the search stopped before its first epoch is 'interrupted or not started':
    left out, the strategy's counts no longer added up to its trials."""
    trials = pd.DataFrame(
        {"trial_id": ["a", "b"], "status": ["completed", "not started"],
         BEST_VAL_METRIC: [-1.0, math.nan], "config/loss_strategy": "kendall"}
    )  # fmt: skip
    row = strategy_table(_run(pd.DataFrame(), trials)).set_index("strategy").loc["kendall"]
    assert row.reindex(["trials", "completed", "interrupted or not started"]).tolist() == [2, 1, 1]


def test_overview_counts_and_epochs_to_best(two_runs):
    run = load_run(two_runs[0])
    row = run_overview(run)
    assert row["trials"] == len(run.trials)
    assert row["epochs consumed"] == len(run.epochs) == run.trials["epochs_run"].sum()
    assert row["search's best anchored_val_loss"] == best_trial(run)[BEST_VAL_METRIC]
    curve = anytime_curve(run)
    at = curve[curve["epochs_consumed"] == row["epochs to best"]]["best_so_far"].iloc[0]
    before = curve[curve["epochs_consumed"] == row["epochs to best"] - 1]["best_so_far"]
    assert at == row["search's best anchored_val_loss"]
    assert before.empty or before.iloc[0] > at


def _failed_first() -> RunData:
    """Trial a diverged at epoch 2 after a very good epoch 1 (failed: its epoch 2 was never
    reported); trial b, created after it, completed at 0.1."""
    epochs = pd.DataFrame(
        [
            {"trial_id": "a", "epoch": 1, "anchored_val_loss": -1.0},
            {"trial_id": "b", "epoch": 1, "anchored_val_loss": 0.3},
            {"trial_id": "b", "epoch": 2, "anchored_val_loss": 0.1},
        ]
    )
    trials = pd.DataFrame(
        {
            "trial_id": ["b", "a"],
            "created": [1, 0],
            "status": ["completed", "failed"],
            "stop_reason": ["max_epochs", "NonFiniteLossError: training loss"],
            "epochs_run": [2, 1],
            BEST_VAL_METRIC: [0.1, -1.0],
            "best_epoch": [2, 1],
        }
    )
    return RunData("x/y", Path("."), trials, epochs, {"space": "x"}, {"a": 0, "b": 1})


def test_a_failed_trials_epochs_are_consumed_but_its_values_are_never_the_best_so_far():
    run = _failed_first()
    curve = anytime_curve(run)
    assert list(curve["trial_id"]) == ["a", "b", "b"]
    assert curve["best_so_far"].tolist()[1:] == [0.3, 0.1] and math.isnan(curve["best_so_far"][0])
    assert curve["best_so_far"].iloc[-1] == best_trial(run)[BEST_VAL_METRIC]
    assert list(curve["counted"]) == [False, True, True]
    row = run_overview(run)
    # a's epoch, then b's two: b reached the best at the third epoch the search consumed
    assert (
        row["epochs consumed"],
        row["search's best anchored_val_loss"],
        row["epochs to best"],
    ) == (
        3,
        0.1,
        3,
    )


def test_a_runs_state_is_how_its_summary_said_it_ended(tmp_path):
    """From the tables and summary.json's planned trials and time budget, as summarize."""
    run = load_run(write_fake_run(tmp_path / "r", n_trials=6))
    assert run_state(run) == state_line(run) == "finished"
    run.time_budget_s = 600.0
    assert state_line(run) == (
        "out of time: its time budget of 600 s ran out (a new search goes on from its "
        f"trials with `--warm-start {run.path}`)"
    )
    run.time_budget_s, run.planned = None, 8  # two trials never created: interrupted
    first = run.trials.index[run.trials["status"] == "completed"][0]
    run.trials.loc[first, "status"] = "interrupted"
    assert state_line(run) == (
        "interrupted (1 trial(s) interrupted or not started; 2 planned trial(s) never "
        f"created): `raysearch run --resume {run.path}` would finish it; its "
        "values here are those so far"
    )


def test_the_per_strategy_counts_add_up_to_the_trials_with_those_the_search_cut(
    example_run, two_runs
):
    """Two a3dro trials cut by the time budget, one kendall trial interrupted: the row said
    9 trials, 7 completed, 1 stopped, 0 failed, and nowhere what became of the other 2."""
    path = example_run("war_losses", "w")
    trials = pd.read_parquet(path / "trials.parquet")
    completed = trials["status"] == "completed"
    a3dro = trials.index[(trials["config/loss_strategy"] == "a3dro") & completed]
    kendall = trials.index[(trials["config/loss_strategy"] == "kendall") & completed]
    trials.loc[a3dro[-2:], "status"] = "out of time"
    trials.loc[kendall[-1:], "status"] = "interrupted"
    trials.to_parquet(path / "trials.parquet")
    table = strategy_table(load_run(path)).set_index("strategy")
    counts = ["completed", "stopped", "failed", "out of time", "interrupted or not started"]
    assert list(table.columns) == ["trials", *counts, "best", "median"]
    assert (table[counts].sum(axis=1) == table["trials"]).all()
    assert table.loc["a3dro", "out of time"] == 2
    assert table.loc["kendall", "interrupted or not started"] == 1
    finished = strategy_table(load_run(two_runs[0]))  # none cut: no such columns
    assert list(finished.columns) == ["strategy", "trials", *counts[:3], "best", "median"]
