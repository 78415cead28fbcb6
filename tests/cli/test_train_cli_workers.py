"""raysearch train --workers N: what the command makes of Ray Train's Result, and what it
refuses before Ray starts. Ray Train is stood in for (``fit_distributed`` faked): no Ray."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import raysearch.cli.train as train_cli
import raysearch.train.ray_train as ray_train

# a tiny synthetic run, as the README's example
ARGV = ["--synth", "tiny", "--size", "tiny", "--daily-window", "60", "--monthly-window", "3"]
# the last epoch's report: what Ray Train's Result.metrics holds
LAST_EPOCH = {"epoch": 2, "anchored_val_loss": 0.5, "best_anchored_val_loss": 0.4}


def _ray_train_returns(monkeypatch: pytest.MonkeyPatch, value: dict[str, Any]) -> None:
    """fit_distributed as Ray Train ends: no error, the last report in ``metrics``, rank
    0's return value in ``return_value``."""
    result = SimpleNamespace(
        error=None, metrics=dict(LAST_EPOCH), checkpoint=None, return_value=value
    )
    monkeypatch.setattr(ray_train, "fit_distributed", lambda *a, **k: result)


def test_a_trial_failure_on_the_workers_fails_the_command_with_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A non-finite loss on the workers comes back as rank 0's return value, not as
    Result.error (Ray Train would retry an exception): the command printed the last
    epoch's metrics as its result and exited 0."""
    reason = "NonFiniteLossError: training loss is not finite at epoch 1 (daily_forecast)"
    _ray_train_returns(monkeypatch, {"trial_failure": reason})
    out = tmp_path / "out.json"
    argv = [*ARGV, "--workers", "2", "--cache-dir", str(tmp_path / "c"), "--json", str(out)]
    assert train_cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err == f"error: the run failed: {reason}\n", err  # as --workers 1 words it
    assert not out.exists()
