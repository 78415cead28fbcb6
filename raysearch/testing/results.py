"""A fake-but-realistic run directory, for tests and demos of the comparison report.

It has the files a real search leaves (``raysearch.results.files``): trials.parquet with
completed, ASHA-stopped and failed trials over four loss strategies, epochs.parquet with
per-epoch metrics, best_config.yaml, summary.json and metadata.json naming the space.
The numbers are drawn from a seeded generator (strategies differ in level, losses
decrease with epochs), so plots look like a real search without running one.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from raysearch.core.files import METADATA, write_json
from raysearch.results.writing import write_results

__all__ = ["STRATEGIES", "write_fake_run"]

STRATEGIES = ("uniform", "kendall", "softplus_kendall", "a3dro")
_TASKS = ("regime", "transition", "casualty", "anomaly", "forecast", "daily_forecast")
# the searched parameters as metadata.json records them (search.resume.space_record)
_PARAMETERS = {
    "loss_strategy": {"type": "categorical", "choices": list(STRATEGIES)},
    "budget_beta": {"type": "float", "low": 0.0, "high": 0.9, "when": {"loss_strategy": "a3dro"}},
    "regret_clip": {"type": "float", "low": 0.5, "high": 5.0, "when": {"loss_strategy": "a3dro"}},
}
_LEVEL = {"uniform": 0.05, "kendall": -0.05, "softplus_kendall": -0.1, "a3dro": -0.2}


def _curve(rng: np.random.Generator, level: float, epochs: int) -> np.ndarray:
    """A decreasing-then-flat anchored loss with noise, for ``epochs`` epochs."""
    t = np.arange(1, epochs + 1)
    return level + 0.6 * np.exp(-t / 2.5) + rng.normal(0.0, 0.03, size=epochs)


def _epoch_rows(trial_id: str, losses: np.ndarray, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    best = math.inf
    for epoch, value in enumerate(losses, start=1):
        best = min(best, float(value))
        row: dict[str, Any] = {
            "trial_id": trial_id,
            "epoch": epoch,
            "anchored_val_loss": float(value),
            "best_anchored_val_loss": best,
            "train_objective": float(value + 0.1 + rng.normal(0, 0.02)),
            "lr": 1e-3 * 0.9 ** (epoch - 1),
            "epoch_time_s": float(rng.uniform(2.0, 3.0)),
            "n_params": 12_345,
        }
        for task in _TASKS:
            row[f"val_loss/{task}"] = float(np.exp(value + rng.normal(0, 0.1)))
            row[f"weight/{task}"] = 1.0 / len(_TASKS)
        rows.append(row)
    return pd.DataFrame(rows)


def _add_timestamps(trial_rows: list[dict[str, Any]], epoch_frames: list[pd.DataFrame]) -> None:
    """Each epoch's report time, as the search records it: two slots running trials in
    creation order, so epochs of different trials interleave."""
    frames = {str(f["trial_id"].iloc[0]): f for f in epoch_frames}
    clock = {0: 1_795_000_000.0, 1: 1_795_000_000.0}
    for row in sorted(trial_rows, key=lambda r: r["created"]):
        slot = min(clock, key=lambda s: clock[s])
        frame = frames.get(str(row["trial_id"]))
        if frame is not None:
            ends = clock[slot] + frame["epoch_time_s"].cumsum()
            frame["timestamp"] = ends.astype(int)
            clock[slot] = float(ends.iloc[-1])
        clock[slot] += 1.0


def write_fake_run(
    run_dir: str | Path,
    *,
    seed: int = 0,
    n_trials: int = 10,
    max_epochs: int = 6,
    grace_period: int = 1,
    reduction_factor: float = 2.0,
    space: str = "loss_ablation",
    timestamps: bool = True,
) -> Path:
    """Write a run directory with ``n_trials`` trials (>= 5): returns its path.

    Trial 0 failed before its first report; every third of the others was stopped by
    ASHA after ``grace_period`` (or twice that) epochs; the rest completed. Trials carry
    their creation order (``created``); with ``timestamps``, each epoch its report time too,
    as two trials running at a time would give (epochs interleaved).
    """
    if n_trials < 5:
        raise ValueError(
            f"n_trials must be >= 5 (one failed, stopped and completed), got {n_trials}"
        )
    run_dir = Path(run_dir)
    rng = np.random.default_rng(seed)
    trial_rows: list[dict[str, Any]] = []
    epoch_frames: list[pd.DataFrame] = []
    for k in range(n_trials):
        trial_id = f"{rng.integers(0, 16**8):08x}"  # Tune's ids: 8 hex digits
        strategy = STRATEGIES[k % len(STRATEGIES)]
        config: dict[str, Any] = {"loss_strategy": strategy, "dropout": 0.1}
        if strategy == "a3dro":
            config["budget_beta"] = float(rng.uniform(0.0, 0.9))
            config["regret_clip"] = float(rng.uniform(0.5, 5.0))
        level = _LEVEL[strategy] + 0.2 * abs(config.get("budget_beta", 0.45) - 0.35)
        row: dict[str, Any] = {"trial_id": trial_id, "created": k + 1}
        if k == 0:
            row.update(status="failed", stop_reason="NonFiniteLossError: loss is nan at epoch 1")
            row.update(epochs_run=0, best_anchored_val_loss=math.nan, best_epoch=0)
        else:
            stopped = k % 3 == 0
            epochs = grace_period * (1 + (k % 2)) if stopped else max_epochs
            losses = _curve(rng, level, epochs)
            frame = _epoch_rows(trial_id, losses, rng)
            epoch_frames.append(frame)
            row.update(
                status="stopped" if stopped else "completed",
                stop_reason=f"asha (after {epochs} of {max_epochs} epochs)"
                if stopped
                else "max_epochs",
                epochs_run=epochs,
                best_anchored_val_loss=float(losses.min()),
                best_epoch=int(losses.argmin()) + 1,
            )
            if not stopped:
                row["test/anchored_loss"] = float(losses.min() + rng.normal(0, 0.05))
        row.update({f"config/{name}": value for name, value in config.items()})
        trial_rows.append(row)
    if timestamps:
        _add_timestamps(trial_rows, epoch_frames)
    trials = pd.DataFrame(trial_rows)
    trials = trials.sort_values("best_anchored_val_loss", na_position="last")
    trials = trials.reset_index(drop=True)
    epochs_table = pd.concat(epoch_frames, ignore_index=True)
    write_results(run_dir, trials, epochs_table)
    settings = {
        "num_samples": n_trials,
        "max_epochs": max_epochs,
        "grace_period": grace_period,
        "reduction_factor": reduction_factor,
        "n_startup_trials": 2,
    }
    write_json(
        run_dir / METADATA,
        {
            "command": f"raysearch run --space {space} --seed {seed}",
            "space": space,
            "space_file": f"raysearch/search/spaces/{space}.yaml",
            "settings": settings,
            "fixed": {"dropout": 0.1},
            "parameters": _PARAMETERS,  # as the search drew them
            "seed": seed,
            "smoke": False,
            "data_fingerprint": f"fake{seed}",
        },
    )
    return run_dir
