"""Data-parallel training through Ray Train (V2): one TorchTrainer over N workers.

Each worker runs the same epoch loop as a single process (``raysearch.train.loop.fit``)
inside the process group Ray Train sets up (gloo on CPU, nccl on GPU); every worker
reports each epoch (Train V2 needs all ranks to report) and rank 0 attaches the
checkpoint. This module knows Ray Train, not Ray Tune: the search passes Tune's report
callback in ``callbacks``.

Every report passes ``check_report`` on the worker, as in a one-worker trial. How the fit
ended travels back as rank 0's return value (Ray Train's ``Result.return_value``, read with
``outcome_of``), not as a report:

- the final report (test metrics, stop reason, timings). Sent through Tune's report
  callback it could be lost: the callback's queue is drained by the trial's session only
  while the trial function runs, and the function returns as soon as ``fit`` does (seen:
  the last trial of a search without its test metrics). The trial function reports it.
- the fit's summary (``FitResult.summary``: also the best epoch's metrics, which no report
  holds), read with ``summary_of``: what ``raysearch train --workers N`` prints.
- a ``TrialFailure`` (a non-finite loss or metric, an unreadable checkpoint), which must not
  be retried; but Ray Train wraps any worker exception in a ``WorkerGroupError`` and retries
  it up to ``max_failures`` times. So the workers catch it (every rank raises it together:
  the non-finite flags and the metrics are all-reduced) and return its reason.

A crashed worker is still an exception, retried from the last checkpoint.
"""

from __future__ import annotations

import logging
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from raysearch.core.errors import TrialFailure
from raysearch.core.metrics import FINAL_KEY, time_key
from raysearch.core.report import check_report
from raysearch.core.signals import stopped_worker_exits_quietly
from raysearch.core.trial_config import TrialConfig

if TYPE_CHECKING:
    from ray.train import Result

    from raysearch.data.prepared import PreparedData
    from raysearch.train.loop import EpochResult, FitResult

__all__ = [
    "DistributedPlan",
    "RankZeroReports",
    "epoch_callback",
    "final_report",
    "fit_distributed",
    "outcome_of",
    "quiet_ray_worker",
    "summary_of",
    "torch_threads",
]

# The keys of rank 0's return value: the final report and the fit's summary, or why the
# trial failed for good.
_FINAL, _SUMMARY, _FAILED = "final_report", "summary", "trial_failure"


def torch_threads(cpus: float) -> int:
    """The torch threads a worker holding ``cpus`` CPUs runs: as many as it holds, rounded
    (a data-parallel worker's share is a little under a whole CPU, its trial's driver
    holding 0.01: 1.995 CPUs run 2 threads, not 1), and at least one."""
    return max(1, round(cpus))


@dataclass(frozen=True)
class DistributedPlan:
    """How one trial's training is spread: workers and what each holds."""

    workers: int
    cpus_per_worker: float = 1.0
    gpus_per_worker: float = 0.0

    @property
    def use_gpu(self) -> bool:
        return self.gpus_per_worker > 0


def _worker_loop(config: dict[str, Any]) -> dict[str, Any]:
    """Runs on every Ray Train worker; returns how the fit ended (``outcome_of``)."""
    entered = time.time()
    # Deferred (here and below): Ray Train and torch are imported on the workers. The
    # search imports this module for DistributedPlan before Ray starts, without them.
    import ray.train
    import torch

    from raysearch.data.prepared import prepare

    quiet_ray_worker()

    torch.set_num_threads(torch_threads(config["cpus_per_worker"]))
    cfg: TrialConfig = config["trial_config"]
    started = time.perf_counter()
    data = prepare(cfg.data, config["cache_dir"])
    timing = {
        time_key("data"): time.perf_counter() - started,
        # the worker group's start: from the trainer's fit() call to this worker's loop
        time_key("worker_start"): entered - config["submitted_unix"],
        "time/submitted_unix": config["submitted_unix"],
    }
    rank = ray.train.get_context().get_world_rank()
    RankZeroReports.install(rank)
    with tempfile.TemporaryDirectory(prefix=f"raysearch-rank{rank}-") as scratch:
        try:
            final, summary = _fit_and_report(cfg, data, rank, Path(scratch), timing)
            return {_FINAL: final, _SUMMARY: summary}
        except TrialFailure as err:  # not raised: Ray Train would retry it (module doc)
            return {_FAILED: f"{type(err).__name__}: {err}"}


def _fit_and_report(
    cfg: TrialConfig, data: PreparedData, rank: int, scratch: Path, timing: dict[str, float]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Fit, reporting every epoch; the final report and the fit's summary."""
    # Deferred: runs on a Ray Train worker (see _worker_loop).
    import ray.train

    from raysearch.train.loop import fit

    resume_from = None
    checkpoint = ray.train.get_checkpoint()
    if checkpoint is not None:
        resume_from = Path(checkpoint.to_directory(str(scratch / "resume")))
    last_metrics: dict[str, Any] = {}

    def on_epoch(result: EpochResult) -> None:
        last_metrics.clear()
        last_metrics.update(result.metrics)
        ckpt = None
        if rank == 0 and result.checkpoint_dir is not None:
            ckpt = ray.train.Checkpoint.from_directory(str(result.checkpoint_dir))
        ray.train.report(check_report(result.metrics), checkpoint=ckpt)

    result = fit(
        cfg,
        data,
        on_epoch=on_epoch,
        checkpoint_dir=scratch / "checkpoint" if rank == 0 else None,
        resume_from=resume_from,
    )
    return check_report({**final_report(last_metrics, result), **timing}), result.summary()


def quiet_ray_worker() -> None:
    """In a trial's or a Ray Train worker's process: Ray logs every report and checkpoint
    at INFO, and the trial table already shows them; and the worker, once Ray stops it,
    leaves no traceback of the exit Ray raised (``stopped_worker_exits_quietly``)."""

    for name in ("ray.train", "ray.tune"):
        logging.getLogger(name).setLevel(logging.WARNING)
    stopped_worker_exits_quietly()


# Ray Train V2 logs every report of every rank at INFO ("Reporting training result 3:
# TrainingReport(metrics={...every metric...}) from rank 1"), from a logger named by its
# file's path, outside "ray.train": neither quiet_ray_worker nor RunConfig's LoggingConfig
# reaches it, and the worker's root logger prints INFO to the console.
_RAY_REPORT_LINE = "Reporting training result"


class RankZeroReports(logging.Filter):
    """On the console, Ray Train's line per report from rank 0 only: every rank printed
    every epoch's full metrics (the log files Ray writes keep every rank's)."""

    def __init__(self, rank: int) -> None:
        super().__init__()
        self.rank = rank

    def filter(self, record: logging.LogRecord) -> bool:
        return self.rank == 0 or not str(record.msg).startswith(_RAY_REPORT_LINE)

    @classmethod
    def install(cls, rank: int) -> None:
        """On the root logger's console handlers (Ray's worker logging config), replacing
        one installed before."""
        for handler in logging.getLogger().handlers:
            if isinstance(handler, logging.StreamHandler) and not isinstance(
                handler, logging.FileHandler
            ):
                for old in [f for f in handler.filters if isinstance(f, cls)]:
                    handler.removeFilter(old)
                handler.addFilter(cls(rank))


def final_report(last_metrics: dict[str, Any], result: FitResult) -> dict[str, Any]:
    """The report after the last epoch: that epoch's metrics (so schedulers see nothing
    new) plus why the fit stopped, its best epoch and the test-split metrics (named by the
    trainer: ``anchored_test_loss``, ``test_loss/<task>``, ``test_regret/<task>``), the
    fit's seconds per phase (``time/<phase>_s``) and when it was sent.

    ``last_metrics`` is the last epoch this process reported. A run restored from the
    checkpoint of its last epoch runs none (the process before it was stopped after that
    epoch's report, before this one): that epoch's metrics come from the checkpoint's
    history, and the final report is sent all the same. Without it the trial would end
    with no stop reason and no test score, and a finalist replicate would stay unfinished
    through every ``--resume``."""
    last = last_metrics or result.history[-1]
    return {
        **last,
        FINAL_KEY: 1,
        "stop_reason": str(result.stop_reason),
        "best_epoch": int(result.best_epoch),
        **{k: float(v) for k, v in result.test_metrics.items()},
        **{time_key(phase): float(s) for phase, s in result.timings.items()},
        "time/final_unix": time.time(),
    }


def outcome_of(result: Result) -> tuple[dict[str, Any] | None, str | None]:
    """(final report, failure reason) of a finished ``fit_distributed`` run: the final
    report to send Tune, or why it failed for good (the other None)."""
    value = _returned(result)
    return value.get(_FINAL), value.get(_FAILED)


def summary_of(result: Result) -> dict[str, Any] | None:
    """The fit's summary (``FitResult.summary``) of a finished ``fit_distributed`` run that
    did not fail (else None)."""
    return _returned(result).get(_SUMMARY)


def _returned(result: Result) -> dict[str, Any]:
    """Rank 0's return value (``_worker_loop``'s); empty if it returned none."""
    # Train V2's Result has return_value; the Result type mypy sees (Train V1's) does not.
    value = getattr(result, "return_value", None)
    return value if isinstance(value, dict) else {}


def epoch_callback(on_epoch: Callable[[dict[str, Any]], None]) -> Any:
    """A Ray Train callback calling ``on_epoch`` with each epoch's metrics once every rank
    reported them (rank 0's: every rank reports the same). It runs in Ray Train's
    controller, an actor, where it is sent pickled: ``on_epoch`` must be importable there."""
    # Deferred: see _worker_loop.
    import ray.train

    class _Epochs(ray.train.UserCallback):
        def after_report(
            self, run_context: Any, metrics: list[dict[str, Any]], checkpoint: Any
        ) -> None:
            on_epoch(metrics[0])

    return _Epochs()


def fit_distributed(
    cfg: TrialConfig,
    plan: DistributedPlan,
    cache_dir: str | os.PathLike[str],
    *,
    storage_path: str | os.PathLike[str],
    name: str,
    callbacks: Sequence[Any] = (),
    max_failures: int = 0,
) -> Result:
    """Train ``cfg`` on ``plan.workers`` Ray Train workers; returns Ray Train's Result."""
    # Deferred: see _worker_loop.
    import ray.train
    from ray.train.torch import TorchConfig, TorchTrainer

    # Ray Train keeps rank 0's return value (Result.return_value); its annotation still says
    # the loop returns None.
    loop = cast("Callable[[dict[Any, Any]], None]", _worker_loop)
    trainer = TorchTrainer(
        loop,
        train_loop_config={
            "trial_config": cfg,
            "cache_dir": str(cache_dir),
            "cpus_per_worker": plan.cpus_per_worker,
            "submitted_unix": time.time(),
        },
        torch_config=TorchConfig(backend="nccl" if plan.use_gpu else "gloo"),
        scaling_config=ray.train.ScalingConfig(
            num_workers=plan.workers,
            use_gpu=plan.use_gpu,
            resources_per_worker={"CPU": plan.cpus_per_worker, "GPU": plan.gpus_per_worker}
            if plan.use_gpu
            else {"CPU": plan.cpus_per_worker},
        ),
        run_config=ray.train.RunConfig(
            name=name,
            storage_path=str(storage_path),
            callbacks=list(callbacks),
            failure_config=ray.train.FailureConfig(max_failures=max_failures),
            checkpoint_config=ray.train.CheckpointConfig(num_to_keep=2),
        ),
    )
    return trainer.fit()


@contextmanager
def workers_failed_as(failure: Callable[[Exception], Exception]) -> Iterator[None]:
    """Ray Train's error of its workers (one raised, or its process died), met in the
    block, raised as ``failure`` of it: a command's one line, where Ray's names every
    rank's traceback."""
    # Deferred: see _worker_loop.
    from ray.train import TrainingFailedError

    try:
        yield
    except TrainingFailedError as err:
        raise failure(err) from err
