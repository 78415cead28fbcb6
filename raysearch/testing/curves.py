"""Recording curves (``raysearch.search.simulation.record``) without training or data: a
made-up curve per (configuration, seed), and a patch that puts it in place of the training;
and a small grid space with a table of its curves, for the simulator (``GRID_SPACE``,
``grid_curves``)."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

__all__ = ["GRID_SPACE", "fake_epochs", "fake_recording", "grid_curves"]

# A space file's content: 2 x 3 categorical configurations, 12 trials of 6 epochs
GRID_SPACE: dict[str, Any] = {
    "description": "a small categorical grid of the HAN table's shape",
    "settings": {"num_samples": 12, "max_epochs": 6, "grace_period": 1, "reduction_factor": 3},
    "parameters": {
        "size": {"type": "categorical", "choices": ["tiny", "small"]},
        "dropout": {"type": "categorical", "choices": [0.0, 0.15, 0.3]},
    },
}


def grid_curves(
    epochs: int = 6, skip: tuple[str, float] | None = None, slow: bool = False
) -> pd.DataFrame:
    """GRID_SPACE's curves, 2 seeds each, as ``raysearch simulate --table`` reads them:
    (size, dropout) = (tiny, 0.0) is best, and the value falls as 1 / epoch; ``skip``: a
    configuration left out; ``slow``: the configurations that end best are the worst until
    the last epoch. An epoch takes 1 s (tiny) or 2 s (small)."""
    rows = []
    for i, size in enumerate(["tiny", "small"]):
        for j, dropout in enumerate([0.0, 0.15, 0.3]):
            if skip == (size, dropout):
                continue
            for seed in (0, 1):
                for e in range(1, epochs + 1):
                    value = 0.1 * (i + j) + 1.0 / e + 0.01 * seed
                    if slow and e < epochs:
                        value = 2.0 - 0.1 * (i + j) - 0.01 * seed
                    rows.append((size, dropout, seed, e, value, 1.0 + i))
    columns = ["size", "dropout", "seed", "epoch", "anchored_val_loss", "epoch_time_s"]
    return pd.DataFrame(rows, columns=columns)


def fake_epochs(config: dict[str, Any], seed: int, epochs: int) -> list[dict[str, float]]:
    """A made-up curve: decreasing, shifted by the configuration and the seed."""
    shift = 0.1 * len(json.dumps(config)) % 0.7 + 0.01 * seed
    return [
        {
            "epoch": e,
            "anchored_val_loss": shift + 1.0 / e,
            "anchored_test_loss": shift + 1.2 / e,
            "epoch_time_s": 0.5,
            "epoch_wall_s": 0.7,
        }
        for e in range(1, epochs + 1)
    ]


def fake_recording(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """Record with ``fake_epochs`` in place of the training and no data; returns the list of
    every (configuration as JSON, seed) trained, in order."""
    trained: list[tuple[str, int]] = []

    def train(plan: Any, config: dict[str, Any], seed: int, data: Any) -> list[dict[str, float]]:
        trained.append((json.dumps(config, sort_keys=True), seed))
        return fake_epochs(config, seed, plan.epochs)

    monkeypatch.setattr("raysearch.search.simulation.record_runs._train", train)
    monkeypatch.setattr("raysearch.search.simulation.record_runs._PREPARED", {})
    # data with a test split to score (record_curves checks it before anything trains)
    monkeypatch.setattr(
        "raysearch.data.prepared.prepare",
        lambda cfg, cache_dir: SimpleNamespace(test_unscorable=()),
    )
    return trained
