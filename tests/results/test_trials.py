"""Which trials a result counts (results/trials.py): a failed trial is never the best, and
a trial the search's end cut short has no final value for the evidence and fANOVA."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from raysearch.core.files import TRIALS
from raysearch.core.metrics import BEST_VAL_METRIC, TRIAL_STATUSES
from raysearch.results.analysis import best_trial
from raysearch.results.evidence import final_values
from raysearch.results.importance import param_importance
from raysearch.results.runs import load_run
from raysearch.results.summary import summarize
from raysearch.results.trials import FINAL_STATUSES, scored_trials
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
