"""How ``raysearch run`` ends when the search cannot give a result: exit status 1 with one
message when every trial failed or the disk is full, and nothing left half-written. The
command line runs in this process; the search itself is replaced where Ray would start."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

import raysearch.api
from raysearch.cli.run import main
from raysearch.results.summary import summarize
from raysearch.search.tuner import TuneOutcome

SPACE = """
settings: {num_samples: 2, max_epochs: 2}
fixed: {size: tiny, daily_window: 60, monthly_window: 3, raion_pca_components: 2,
        anchor_stride: 3, data.synth.days: 420, data.synth.raions: 6}
"""


def _args(tmp_path: Path) -> list[str]:
    space = tmp_path / "s.yaml"
    space.write_text(SPACE)
    return ["--space", str(space), "--results", str(tmp_path / "results"), "--name", "r",
            "--no-wandb"]  # fmt: skip


def test_every_trial_failed_exits_1_naming_a_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    failed = pd.DataFrame(
        [
            {"trial_id": t, "status": "failed", "stop_reason": f"NonFiniteLossError: {t}",
             "epochs_run": 0, "best_anchored_val_loss": float("nan"), "best_epoch": 0}
            for t in ("a", "b")
        ]
    )  # fmt: skip

    def search(*args: Any, **kwargs: Any) -> tuple[dict[str, Any], TuneOutcome]:
        summary = summarize(failed, tmp_path, planned=2)
        return summary, TuneOutcome(failed, pd.DataFrame(), started=2, unfinished=0)

    monkeypatch.setattr(raysearch.api, "_search", search)
    assert main(_args(tmp_path)) == 1
    err = capsys.readouterr().err
    assert "every trial failed (2); trial a: NonFiniteLossError: a" in err


def test_a_full_disk_while_caching_the_data_exits_1_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real = Path.write_bytes

    def full(self: Path, data: Any) -> int:  # half the bytes fit
        real(self, bytes(data)[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_bytes", full)
    monkeypatch.setattr(raysearch.api, "_search", None)  # never reached
    assert main(_args(tmp_path)) == 1
    err = capsys.readouterr().err
    assert "could not write the prepared data's cache" in err and "No space left" in err
    assert not (tmp_path / "results").exists()  # no cache file, lock or directory left
