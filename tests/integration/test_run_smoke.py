"""The CLI end to end on the smoke space, against a real local Ray, with W&B offline."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import optuna
import pandas as pd
import pytest
import yaml

from raysearch.search.study import STUDY_NAME, open_storage
from raysearch.testing.cli import traceback_of, without_ray_sigterm_noise
from raysearch.testing.cluster import LocalCluster
from raysearch.testing.wandb import offline_run, offline_summary

pytestmark = pytest.mark.integration

SECRET = "rs-test-secret-5f2a9c0e7b1d4c3a8e6f0a9b2c4d6e8f01234567"


@pytest.fixture(scope="module")
def smoke_run(
    tmp_path_factory: pytest.TempPathFactory, shared_ray: LocalCluster
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    results = tmp_path_factory.mktemp("results")
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_API_KEY": SECRET}
    with shared_ray.joined() as address:
        proc = subprocess.run(
            [sys.executable, "-m", "raysearch.run", "--space", "smoke", "--smoke",
             "--results", str(results), "--name", "it", "--seed", "3", "--address", address],
            capture_output=True, text=True, timeout=900, check=False, env=env,
        )  # fmt: skip
    return results / "smoke" / "it", proc


def test_smoke_search_writes_every_result_file(smoke_run) -> None:
    run_dir, proc = smoke_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in ("trials.parquet", "epochs.parquet", "best_config.yaml", "summary.json",
                 "summary.md", "metadata.json"):  # fmt: skip
        assert (run_dir / name).is_file(), f"{name} missing in {run_dir}"
    assert "search finished" in proc.stdout
    # one-second epochs snapshot Tune's state often; its advice is not the user's to take
    assert "Experiment state snapshotting" not in proc.stderr, proc.stderr[-3000:]


def test_smoke_trials_and_epochs_tables(smoke_run) -> None:
    run_dir, _ = smoke_run
    trials = pd.read_parquet(run_dir / "trials.parquet")
    epochs = pd.read_parquet(run_dir / "epochs.parquet")
    assert len(trials) == 4  # --smoke: four trials
    assert set(trials["status"]) <= {"completed", "stopped", "failed"}
    assert trials["trial_id"].is_unique
    per_trial = epochs.groupby("trial_id")["epoch"].agg(["count", "max"])
    for _, row in trials.iterrows():  # one epochs row per trial and epoch it ran
        assert per_trial.loc[row["trial_id"], "count"] == row["epochs_run"]
        assert per_trial.loc[row["trial_id"], "max"] == row["epochs_run"]
    assert epochs["anchored_val_loss"].map(math.isfinite).all()
    # what the report needs from Tune is in the tables: creation order and report times
    created = sorted(trials["created"])
    assert created == list(range(created[0], created[0] + 4)) and created[0] >= 0
    assert epochs["timestamp"].notna().all()
    assert (epochs.groupby("trial_id")["timestamp"].diff().dropna() >= 0).all()
    finished = trials[trials["status"] == "completed"]
    assert not finished.empty and finished["test/anchored_test_loss"].map(math.isfinite).all()
    best = yaml.safe_load((run_dir / "best_config.yaml").read_text())
    assert best["config"]["loss_strategy"] in {"uniform", "kendall", "softplus_kendall", "a3dro"}
    assert math.isclose(best["best_anchored_val_loss"], trials["best_anchored_val_loss"].min())
    assert best["resolved"]["model.size"] == "tiny"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["n_trials"] == 4
    assert summary["stopped_by_asha"] == int((trials["status"] == "stopped").sum())


def test_wandb_offline_runs_hold_config_and_every_epoch(smoke_run) -> None:
    run_dir, proc = smoke_run
    # the search's W&B process neither warns nor leaves a traceback behind (with Ray's
    # W&B callback, its reinit=True warned in every trial, and W&B's teardown, cut off by
    # Ray's kill of the trial's logging actor, left one in some). Ray stopping a finished
    # or cut trial's process may print its own SIGTERM race (Python was in a callback when
    # Ray's handler raised SystemExit); that is Ray's, not W&B's, and is set aside.
    stderr = without_ray_sigterm_noise(proc.stderr)
    assert "wandb: WARNING" not in stderr, stderr[-3000:]
    assert "Traceback" not in stderr, traceback_of(stderr)
    trials = pd.read_parquet(run_dir / "trials.parquet")
    runs = sorted(run_dir.glob("tune/*/wandb/offline-run-*"))
    assert len(runs) == len(trials)
    for run_path in runs:
        trial_id = run_path.name.rsplit("-", 1)[-1]
        config, history = offline_run(run_path)
        for key in ("model.size", "loss.strategy", "data.daily_window", "trainer.lr"):
            assert key in config, f"{key} not in the W&B config of {trial_id}"
        epochs = sorted({int(row["epoch"]) for row in history if "epoch" in row})
        ran = int(trials.loc[trials["trial_id"] == trial_id, "epochs_run"].iloc[0])
        assert epochs == list(range(1, ran + 1))
        assert all("anchored_val_loss" in row for row in history if "epoch" in row)
        # the summary is the best epoch's value (what Optuna is told), not the last one's
        values = [row["anchored_val_loss"] for row in history if "anchored_val_loss" in row]
        best = float(trials.loc[trials["trial_id"] == trial_id, "best_anchored_val_loss"].iloc[0])
        assert offline_summary(run_path)["anchored_val_loss"] == {"min": min(values)}
        assert math.isclose(min(values), best)


def test_the_optuna_study_is_in_the_run_directory(smoke_run) -> None:
    run_dir, _ = smoke_run
    study = optuna.load_study(study_name=STUDY_NAME, storage=open_storage(run_dir))
    trials = pd.read_parquet(run_dir / "trials.parquet")
    assert len(study.trials) == len(trials) == 4
    assert {t.state.name for t in study.trials} == {"COMPLETE"}
    assert sorted(t.value for t in study.trials) == pytest.approx(
        sorted(trials["best_anchored_val_loss"])
    )
    assert study.trials[0].params == {"loss_strategy": "a3dro", "budget_beta": 0.35}  # start


def test_a_warm_started_search_holds_the_old_trials(
    smoke_run, tmp_path: Path, ray_address: str
) -> None:
    old_dir, _ = smoke_run
    old = optuna.load_study(study_name=STUDY_NAME, storage=open_storage(old_dir)).trials
    proc = subprocess.run(
        [sys.executable, "-m", "raysearch", "run", "--space", "smoke", "--smoke", "--no-wandb",
         "--num-samples", "2", "--max-epochs", "2", "--results", str(tmp_path), "--name", "warm",
         "--warm-start", str(old_dir), "--address", ray_address],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    run_dir = tmp_path / "smoke" / "warm"
    trials = optuna.load_study(study_name=STUDY_NAME, storage=open_storage(run_dir)).trials
    assert len(trials) == len(old) + 2
    seeded, new = trials[: len(old)], trials[len(old) :]
    assert [(t.params, t.value) for t in seeded] == [(t.params, t.value) for t in old]
    assert all(t.user_attrs["warm_start_from"] == str(old_dir) for t in seeded)
    assert [t.state.name for t in new] == ["COMPLETE", "COMPLETE"]
    assert len(pd.read_parquet(run_dir / "trials.parquet")) == 2  # the tables: this run only
    options = json.loads((run_dir / "options.json").read_text())
    assert options["warm_start"] == str(old_dir)


def test_no_secret_is_written_anywhere(smoke_run) -> None:
    run_dir, proc = smoke_run
    assert proc.returncode == 0, proc.stderr[-3000:]  # a run that wrote nothing proves nothing
    assert SECRET not in proc.stdout + proc.stderr
    scanned = [path for path in run_dir.parent.parent.rglob("*") if path.is_file()]
    # the run's tables and, where a key would go, every trial's offline W&B run
    names = {path.name for path in scanned}
    assert {"trials.parquet", "summary.json", "metadata.json", "options.json"} <= names
    runs = {path.parent for path in scanned if path.suffix == ".wandb"}
    assert len(runs) == 4, f"expected the 4 trials' W&B run files, found {sorted(runs)}"
    for path in scanned:
        assert SECRET.encode() not in path.read_bytes(), f"the API key leaked into {path}"
