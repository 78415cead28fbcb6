"""Fake run directories (raysearch.results.testing), written once per test module."""

from __future__ import annotations

from pathlib import Path

import pytest

from raysearch.testing.results import write_fake_run


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("runs") / "loss_ablation"
    return [
        write_fake_run(root / "a", seed=0, n_trials=12),
        write_fake_run(root / "b", seed=1, n_trials=9),
    ]
