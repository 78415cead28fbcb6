"""The CLI end to end on the smoke space, against a real local Ray."""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import yaml

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def smoke_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[Path, subprocess.CompletedProcess[str]]:
    results = tmp_path_factory.mktemp("results")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "raysearch.run",
            "--space",
            "smoke",
            "--smoke",
            "--results",
            str(results),
            "--name",
            "it",
            "--seed",
            "3",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return results / "smoke" / "it", proc


def test_smoke_search_writes_every_result_file(
    smoke_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    run_dir, proc = smoke_run
    assert proc.returncode == 0, proc.stderr[-3000:]
    for name in (
        "trials.parquet",
        "epochs.parquet",
        "best_config.yaml",
        "summary.json",
        "summary.md",
        "metadata.json",
    ):
        assert (run_dir / name).is_file(), f"{name} missing in {run_dir}"
    assert "search finished" in proc.stdout


def test_smoke_trials_and_epochs_tables(
    smoke_run: tuple[Path, subprocess.CompletedProcess[str]],
) -> None:
    run_dir, _ = smoke_run
    trials = pd.read_parquet(run_dir / "trials.parquet")
    epochs = pd.read_parquet(run_dir / "epochs.parquet")
    assert len(trials) == 4  # --smoke: four trials
    assert set(trials["status"]) <= {"completed", "stopped", "failed"}
    assert trials["trial_id"].is_unique
    # one epochs row per trial and epoch, as many as each trial ran
    per_trial = epochs.groupby("trial_id")["epoch"].agg(["count", "max"])
    for _, row in trials.iterrows():
        if row["epochs_run"]:
            assert per_trial.loc[row["trial_id"], "count"] == row["epochs_run"]
            assert per_trial.loc[row["trial_id"], "max"] == row["epochs_run"]
    assert epochs["anchored_val_loss"].map(math.isfinite).all()
    assert "config/loss_strategy" in trials
    best = yaml.safe_load((run_dir / "best_config.yaml").read_text())
    assert best["config"]["loss_strategy"] in {"uniform", "kendall", "softplus_kendall", "a3dro"}
    assert math.isclose(best["best_anchored_val_loss"], trials["best_anchored_val_loss"].min())
