"""What the Ray Train path hands Ray: the checkpoint class each API wants (no deprecation
warning), without a real multi-process run."""

from __future__ import annotations

import io
import logging
import warnings
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import ray.train
import ray.train._internal.session as train_session
import ray.tune.integration.ray_train as tune_ray_train
import ray.tune.trainable.trainable_fn_utils as tune_fn_utils
import torch
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


# Ray Train V2's line per report (ray/train/v2/_internal/execution/context.py), logged at
# INFO by every rank from a logger named by that file's path
_CONTEXT_LOGGER = "/site-packages/ray/train/v2/_internal/execution/context.py"


def _report_line(rank: int) -> str:
    return (
        f"Reporting training result 3: TrainingReport(metrics={{'epoch': 3, "
        f"'anchored_val_loss': 0.5}}, checkpoint=None) from rank {rank}"
    )


@pytest.mark.parametrize(("rank", "shown"), [(0, True), (1, False), (3, False)])
def test_only_rank_0_prints_ray_trains_report_lines(rank: int, shown: bool) -> None:
    """Every rank printed every epoch's full metrics dictionary."""
    keep = ray_train.RankZeroReports(rank)
    record = logging.LogRecord(
        _CONTEXT_LOGGER, logging.INFO, __file__, 1, _report_line(rank), (), None
    )
    assert keep.filter(record) is shown
    other = logging.LogRecord("raysearch", logging.WARNING, __file__, 1, "task collapsed", (), None)
    assert keep.filter(other)  # anything else a rank logs is still shown


def test_the_filter_goes_on_the_workers_console_handler_once() -> None:
    """As Ray's worker logging config sets it up: the root logger at INFO, a console
    handler; installed twice (a restarted loop), it is there once."""
    root = logging.getLogger()
    saved = root.level, list(root.handlers)
    console = io.StringIO()
    handler = logging.StreamHandler(console)
    try:
        root.handlers = [handler]
        root.setLevel(logging.INFO)
        ray_train.RankZeroReports.install(1)
        ray_train.RankZeroReports.install(1)
        assert sum(isinstance(f, ray_train.RankZeroReports) for f in handler.filters) == 1
        logging.getLogger(_CONTEXT_LOGGER).info(_report_line(1))
        logging.getLogger("raysearch.test").warning("kept")
        assert console.getvalue() == "kept\n"
        ray_train.RankZeroReports.install(0)
        logging.getLogger(_CONTEXT_LOGGER).info(_report_line(0))
        assert _report_line(0) in console.getvalue()
    finally:
        root.handlers = saved[1]
        root.setLevel(saved[0])


class _RestoredSession(_Session):
    """A Tune session restoring the trial from ``loaded_checkpoint``."""

    def __init__(self, loaded_checkpoint: Any) -> None:
        super().__init__()
        self.loaded_checkpoint = loaded_checkpoint


def test_a_trial_restored_from_its_last_epochs_checkpoint_still_sends_its_final_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Stopped after its last epoch's report and before its final one (a Ctrl+C, a dead
    node), a trial restored from that epoch's checkpoint has no epoch left to run. It sent
    nothing more, so it ended with no stop reason and no test score, and a finalist
    replicate stayed unfinished through every --resume (a flaky integration test showed it)."""
    from raysearch.core.metrics import FINAL_KEY, TEST_METRIC, VAL_METRIC
    from raysearch.core.trainer_config import TrainerConfig
    from raysearch.testing.train import factory, fake_data
    from raysearch.train import loop

    cfg = TrialConfig(trainer=TrainerConfig(max_epochs=2, batch_size=8, warmup_epochs=0))
    data = fake_data(n_train=16, n_eval=8)
    first = loop.fit(cfg, data, checkpoint_dir=tmp_path / "ckpt", model_factory=factory())
    real_fit = loop.fit
    monkeypatch.setattr(loop, "fit", lambda *a, **k: real_fit(*a, **k, model_factory=factory()))
    monkeypatch.setattr("raysearch.data.prepared.prepare", lambda *a, **k: data)
    session = _RestoredSession(tune.Checkpoint.from_directory(str(tmp_path / "ckpt")))
    monkeypatch.setattr(train_session, "get_session", lambda: session)
    monkeypatch.setattr(tune_fn_utils, "get_session", lambda: session)
    plan = ResourcePlan(1, 1, 1.0, 0.0, {"cpu": 1.0, "gpu": 0.0})
    setup = trainable.TrialSetup(cfg, {}, 2, str(tmp_path), str(tmp_path), plan)

    trainable._fit_in_process(cfg, setup, entered=0.0)

    [(final, _)] = session.reports  # no epoch ran: the final report alone
    assert final[FINAL_KEY] == 1 and final["epoch"] == 2
    assert final[VAL_METRIC] == pytest.approx(first.history[-1][VAL_METRIC])
    assert final["stop_reason"] == first.stop_reason
    assert final[TEST_METRIC] == pytest.approx(first.test_metrics[TEST_METRIC])


class _Stop(Exception):
    """Raised where the worker would load its data: the threads are set by then."""


@pytest.mark.parametrize(("cpus", "workers", "expected"), [(4, 2, 2), (8, 2, 4), (16, 4, 4)])
def test_a_data_parallel_worker_runs_as_many_threads_as_the_cpus_it_books(
    monkeypatch: pytest.MonkeyPatch, cpus: int, workers: int, expected: int
) -> None:
    """A trial's driver holds 0.01 CPU, so each worker's share is a little under a whole
    CPU (4 CPUs, 2 workers: 1.995 each); the worker ran int() of it, 1 thread on 2 booked
    CPUs (found by a review helper)."""
    from raysearch.search.resources import plan_resources

    plan = plan_resources({"CPU": float(cpus)}, workers, 1)

    def stop(*args: object, **kwargs: object) -> None:
        raise _Stop

    monkeypatch.setattr("raysearch.data.prepared.prepare", stop)
    before = torch.get_num_threads()
    try:
        with pytest.raises(_Stop):
            ray_train._worker_loop(
                {
                    "cpus_per_worker": plan.cpus_per_worker,
                    "trial_config": TrialConfig(),
                    "cache_dir": "",
                    "submitted_unix": 0.0,
                }
            )
        threads = torch.get_num_threads()
    finally:
        torch.set_num_threads(before)
    assert threads == expected, plan.describe()
