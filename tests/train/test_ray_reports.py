"""What the Ray Train path hands Ray: the checkpoint class each API wants (no deprecation
warning), without a real multi-process run."""

from __future__ import annotations

import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import ray.train
import ray.train._internal.session as train_session
import ray.tune.integration.ray_train as tune_ray_train
import ray.tune.trainable.trainable_fn_utils as tune_fn_utils
from ray import tune

import raysearch.search.trainable as trainable
import raysearch.train.ray_train as ray_train
from raysearch.core.trial_config import TrialConfig
from raysearch.search.resources import ResourcePlan


class _Session:
    """The Tune session a trial function reports to: keeps what it was given."""

    world_rank = None  # a Tune function trainable, not a Ray Train worker

    def __init__(self) -> None:
        self.reports: list[tuple[dict[str, Any], Any]] = []

    def report(self, metrics: dict[str, Any], checkpoint: Any = None) -> None:
        self.reports.append((metrics, checkpoint))


def test_the_final_report_of_a_data_parallel_trial_passes_tune_a_tune_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The trial function reported Ray Train's Result.checkpoint (a ``ray.train.Checkpoint``)
    to ``tune.report``, which warned "The `Checkpoint` class should be imported from
    `ray.tune`" (a RayDeprecationWarning) once per data-parallel trial."""
    session = _Session()
    monkeypatch.setattr(train_session, "get_session", lambda: session)
    monkeypatch.setattr(tune_fn_utils, "get_session", lambda: session)
    monkeypatch.setattr(tune_ray_train, "TuneReportCallback", lambda: None)  # fit is faked
    (tmp_path / "ckpt").mkdir()
    final = {"anchored_val_loss": 0.5, "best_anchored_val_loss": 0.5, "epoch": 2}
    result = SimpleNamespace(
        error=None,
        checkpoint=ray.train.Checkpoint.from_directory(str(tmp_path / "ckpt")),
        return_value={"final_report": final},
    )
    monkeypatch.setattr(ray_train, "fit_distributed", lambda *a, **k: result)
    plan = ResourcePlan(2, 1, 1.0, 0.0, {"CPU": 2.0})
    setup = trainable.TrialSetup(TrialConfig(), {}, 2, str(tmp_path), str(tmp_path), plan)

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a RayDeprecationWarning fails the test
        trainable._fit_with_ray_train(TrialConfig(), setup, "t1", tmp_path / "failed.json")

    [(metrics, checkpoint)] = session.reports
    assert metrics == final
    assert isinstance(checkpoint, tune.Checkpoint)
    assert checkpoint.path == result.checkpoint.path  # the same files, not a copy
    assert checkpoint.filesystem is result.checkpoint.filesystem
