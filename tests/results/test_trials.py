"""Which trials a result counts (results/trials.py): a failed trial is never the best, and
a trial the search's end cut short has no final value for the evidence and fANOVA."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raysearch.core.files import TRIALS
from raysearch.core.metrics import BEST_VAL_METRIC, TRIAL_STATUSES
from raysearch.results.analysis import best_trial
from raysearch.results.evidence import final_values
from raysearch.results.importance import param_importance
from raysearch.results.runs import load_run
from raysearch.results.summary import summarize
from raysearch.results.trials import (
    FINAL_STATUSES,
    best_row,
    ranked_trials,
    row_config,
    scored_trials,
)
from raysearch.testing.results import write_fake_run


@pytest.fixture
def run(tmp_path: Path):
    """A fake run whose three best values belong to a failed, an interrupted and an
    out-of-time trial (each reported epochs before it ended)."""
    path = write_fake_run(tmp_path / "loss_ablation" / "r", n_trials=12)
    trials = pd.read_parquet(path / TRIALS)
    done = trials.index[trials["status"] == "completed"][:3]
    for row, status, value in zip(
        done, ("failed", "interrupted", "out of time"), (-9, -8, -7), strict=True
    ):
        trials.loc[row, ["status", BEST_VAL_METRIC]] = status, value
    trials.to_parquet(path / TRIALS)
    return load_run(path)


def test_a_failed_trial_is_never_the_best(run, tmp_path: Path) -> None:
    statuses = run.trials.set_index("trial_id")["status"]
    best = summarize(run.trials, tmp_path)["best"]
    assert statuses[best["trial_id"]] == "interrupted"  # its value so far still counts
    assert best[BEST_VAL_METRIC] == -8
    assert statuses[best_trial(run)["trial_id"]] == "interrupted"


def test_the_evidence_and_fanova_read_final_values_only(run) -> None:
    final = run.trials[run.trials["status"].isin(["completed", "stopped"])]
    assert set(final_values(run.trials).index) == set(final["trial_id"])
    assert param_importance(run).n_trials == len(final)


@pytest.mark.parametrize("final", [False, True])
def test_scored_trials_keep_finite_values_of_trials_that_did_not_fail(run, final: bool) -> None:
    every = pd.concat([run.trials] * 2, ignore_index=True)
    for i, status in enumerate(TRIAL_STATUSES):  # every status, with and without a value
        every.loc[i, "status"] = status
        every.loc[len(TRIAL_STATUSES) + i, ["status", BEST_VAL_METRIC]] = status, float("nan")
    kept = scored_trials(every, final=final)
    allowed = FINAL_STATUSES if final else tuple(s for s in TRIAL_STATUSES if s != "failed")
    expected = every[every["status"].isin(allowed) & every[BEST_VAL_METRIC].notna()]
    assert kept.index.equals(expected.index)
    assert scored_trials(every.iloc[:0]).empty


@settings(max_examples=80, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(TRIAL_STATUSES),
            st.one_of(st.sampled_from([0.5, 1.0, 2.0]), st.just(math.nan), st.just(math.inf)),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_the_best_is_the_first_lowest_counted_trial_in_the_summary_and_the_report(
    rows: list[tuple[str, float]],
) -> None:
    """One pick for summary.json's best, the compare report's best and the search margin's:
    the lowest finite value of a trial that did not fail, the first in table order on a
    tie (values repeat here on purpose)."""
    trials = pd.DataFrame(
        {
            "trial_id": [f"t{i}" for i in range(len(rows))],
            "status": [s for s, _ in rows],
            BEST_VAL_METRIC: [v for _, v in rows],
            "best_epoch": 1,
            "config/dropout": [0.1 * i for i in range(len(rows))],
        }
    )
    counted = [i for i, (s, v) in enumerate(rows) if s != "failed" and math.isfinite(v)]
    ranked = ranked_trials(trials)
    assert list(ranked["trial_id"]) == [
        f"t{i}" for i in sorted(counted, key=lambda i: rows[i][1])
    ]  # sorted() is stable: table order on ties
    best = best_row(trials)
    if not counted:
        assert best is None
        return
    expected = f"t{min(counted, key=lambda i: rows[i][1])}"
    assert best is not None and best["trial_id"] == expected
    assert row_config(best) == {
        "dropout": trials.set_index("trial_id").loc[expected, "config/dropout"]
    }
