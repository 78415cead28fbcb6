from __future__ import annotations

import itertools
import json
from pathlib import Path

import pandas as pd
import pytest

from raysearch.errors import ConfigError
from raysearch.results.analysis import anytime_curve, curve_order
from raysearch.results.files import EPOCHS, METADATA, TRIALS, TUNE_DIR
from raysearch.results.runs import load_run, load_runs
from raysearch.results.testing import write_fake_run


def test_fake_run_has_every_kind_of_trial(two_runs):
    run = load_run(two_runs[0])
    assert set(run.trials["status"]) == {"completed", "stopped", "failed"}
    assert run.trials["config/loss_strategy"].nunique() == 4
    stopped = run.trials[run.trials["status"] == "stopped"]
    assert (stopped["epochs_run"] < run.settings["max_epochs"]).all()
    # every epoch row belongs to a trial that reported, and counts match epochs_run
    counts = run.epochs.groupby("trial_id").size()
    expected = run.trials.set_index("trial_id")["epochs_run"]
    assert (counts == expected[counts.index]).all()


def test_searched_excludes_fixed_and_constant_params(two_runs):
    run = load_run(two_runs[0])
    assert set(run.searched) == {"loss_strategy", "budget_beta", "regret_clip"}
    assert run.name == "loss_ablation/a"


def test_fake_runs_tune_directories_give_an_interleaved_wall_clock(two_runs):
    run = load_run(two_runs[0])
    assert run.epochs["timestamp"].notna().all()
    assert sorted(run.trial_order.values()) == list(range(1, len(run.trials) + 1))
    ids = anytime_curve(run)["trial_id"].tolist()
    switches = sum(a != b for a, b in itertools.pairwise(ids))
    assert switches > run.epochs["trial_id"].nunique() - 1  # two trials at a time


def test_final_report_duplicates_are_dropped(tmp_path):
    path = write_fake_run(tmp_path / "r", n_trials=5)
    epochs = pd.read_parquet(path / EPOCHS)
    last = epochs.groupby("trial_id").tail(1).assign(final=1)
    pd.concat([epochs, last]).to_parquet(path / EPOCHS)
    run = load_run(path)
    assert len(run.epochs) == len(epochs)
    assert not run.epochs.duplicated(["trial_id", "epoch"]).any()


def test_every_bad_directory_is_named_with_its_missing_file(tmp_path):
    good = write_fake_run(tmp_path / "good", n_trials=5)
    no_trials = write_fake_run(tmp_path / "no_trials", n_trials=5)
    (no_trials / TRIALS).unlink()
    (no_trials / METADATA).unlink()
    with pytest.raises(ConfigError) as err:
        load_runs([good, no_trials, tmp_path / "absent"])
    text = str(err.value)
    assert len(err.value.problems) == 2
    assert str(no_trials) in text and TRIALS in text and METADATA in text
    assert str(tmp_path / "absent") in text and "not a directory" in text
    assert "good" not in text


def test_a_space_directory_points_at_its_runs(two_runs):
    with pytest.raises(ConfigError, match=r"holds run directories a, b: pass those"):
        load_runs([two_runs[0].parent])


def test_missing_columns_are_reported(tmp_path):
    path = write_fake_run(tmp_path / "r", n_trials=5)
    pd.read_parquet(path / TRIALS).drop(columns=["status"]).to_parquet(path / TRIALS)
    with pytest.raises(ConfigError, match=r"missing column\(s\) \['status'\]"):
        load_run(path)


def test_same_names_are_made_unique(two_runs):
    runs = load_runs([two_runs[0], two_runs[0]])
    assert runs[0].name != runs[1].name


def test_needs_at_least_one_directory():
    with pytest.raises(ConfigError, match="at least one"):
        load_runs([])


def _tune_trial(tune: Path, trial_id: str, index: int, stamps: dict[int, int]) -> None:
    trial_dir = tune / f"run_trial_{trial_id}_{index}_loss_strategy=uniform_2026-11-23_20-06-04"
    trial_dir.mkdir(parents=True)
    lines = [
        json.dumps({"trial_id": trial_id, "epoch": e, "timestamp": t}) for e, t in stamps.items()
    ]
    (trial_dir / "result.json").write_text("\n".join([*lines, '{"epoch": 9, "tim']) + "\n")


def test_wall_clock_order_comes_from_tunes_trial_directories(tmp_path):
    path = write_fake_run(tmp_path / "r", n_trials=5, tune_dir=False)
    trials = pd.read_parquet(path / TRIALS)
    epochs = pd.read_parquet(path / EPOCHS)
    ran = trials[trials["epochs_run"] > 0]["trial_id"].tolist()
    for index, trial_id in enumerate(sorted(ran), start=1):
        n = int(trials.set_index("trial_id").loc[trial_id, "epochs_run"])
        # trials interleave: epoch e of trial k at time 10*e + k
        _tune_trial(path / TUNE_DIR, trial_id, index, {e: 10 * e + index for e in range(1, n + 1)})
    run = load_run(path)
    assert run.trial_order == {t: i for i, t in enumerate(sorted(ran), start=1)}
    assert run.epochs["timestamp"].notna().all() and len(run.epochs) == len(epochs)
    curve = anytime_curve(run)
    assert "wall clock" in curve_order(run)
    merged = curve.merge(run.epochs, on=["trial_id", "anchored_val_loss"])
    assert merged["timestamp"].is_monotonic_increasing


def test_without_timestamps_trials_follow_creation_order(tmp_path):
    path = write_fake_run(tmp_path / "r", n_trials=5, tune_dir=False)
    ran = pd.read_parquet(path / EPOCHS)["trial_id"].unique().tolist()
    created = sorted(ran, reverse=True)  # creation order unrelated to the ids' string order
    for index, trial_id in enumerate(created, start=1):
        (path / TUNE_DIR / f"run_trial_{trial_id}_{index}_x=1_2026").mkdir(parents=True)
    run = load_run(path)
    assert "timestamp" not in run.epochs and "creat" in curve_order(run)
    assert list(dict.fromkeys(anytime_curve(run)["trial_id"])) == created
