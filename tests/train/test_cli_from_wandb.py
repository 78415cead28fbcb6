"""`raysearch train --from-wandb ARGS_JSON`: what `wandb agent` runs, offline."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from raysearch.search.space import load_space
from raysearch.search.wandb_sweep import sweep_config
from raysearch.testing.wandb import offline_run, offline_summary


def _agent_args(choice: dict) -> dict:
    """The flat config `wandb agent` writes for one run of the exported smoke sweep."""
    exported = sweep_config(load_space("smoke"), smoke=True)
    values = {k: p["value"] for k, p in exported["parameters"].items() if "value" in p}
    return {**values, **choice}


@pytest.mark.slow
def test_a_sweep_run_trains_the_exported_configuration(tmp_path: Path) -> None:
    args = tmp_path / "args.json"
    # the sweep samples budget_beta always; the trainer must drop it for kendall
    args.write_text(json.dumps(_agent_args({"loss_strategy": "kendall", "budget_beta": 0.5})))
    out = tmp_path / "result.json"
    env = {**os.environ, "WANDB_MODE": "offline", "WANDB_DIR": str(tmp_path)}
    proc = subprocess.run(
        [sys.executable, "-m", "raysearch", "train", "--from-wandb", str(args), "--json", str(out),
         "--cache-dir", str(tmp_path / "cache")],
        capture_output=True, text=True, timeout=600, check=False, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(out.read_text())
    assert 1 <= result["best_epoch"] <= 3
    runs = list(tmp_path.rglob("offline-run-*"))
    assert len(runs) == 1
    config, history = offline_run(runs[0])
    assert config["loss.strategy"] == "kendall" and config["model.size"] == "tiny"
    epochs = [int(row["epoch"]) for row in history if "epoch" in row]
    assert epochs and epochs == list(range(1, len(epochs) + 1))
    assert all("anchored_val_loss" in row for row in history if "epoch" in row)
    # the run's summary is the best epoch's value (define_metric), not the last epoch's
    values = [row["anchored_val_loss"] for row in history if "anchored_val_loss" in row]
    assert offline_summary(runs[0])["anchored_val_loss"] == {"min": min(values)}
    assert min(values) == result["best_metrics"]["anchored_val_loss"]


def test_from_wandb_refuses_other_config_flags(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "raysearch", "train", "--from-wandb", "x.json", "--size", "tiny"],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 2
    assert "--from-wandb takes its configuration from the sweep" in proc.stderr
