"""Recording curves (``raysearch.search.simulation.record``) without training or data: a
made-up curve per (configuration, seed), and a patch that puts it in place of the training."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest

__all__ = ["fake_epochs", "fake_recording"]


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
