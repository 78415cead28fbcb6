"""One trial: build the trial config from the sampled values, prepare data, train, report.

With one worker the epoch loop runs in the trial's own process; with two or more it runs
through a Ray Train TorchTrainer whose reports Tune receives via ``TuneReportCallback``
(the Train V2 pattern: the trial function builds and fits the trainer).
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from raysearch.core.errors import TrialFailure
from raysearch.core.files import write_json
from raysearch.core.metrics import time_key
from raysearch.core.params import build_trial_config
from raysearch.core.report import check_report
from raysearch.core.trial_config import TrialConfig
from raysearch.search.resources import ResourcePlan
from raysearch.train.ray_train import quiet_ray_worker

if TYPE_CHECKING:
    from raysearch.train.loop import EpochResult

__all__ = [
    "FAILED_FILE",
    "TrialFailedError",
    "TrialSetup",
    "run_trial",
    "trial_config",
]

FAILED_FILE = "failed.json"  # in the trial directory: why a trial failed for good


@dataclass(frozen=True)
class TrialSetup:
    """Everything a trial needs besides its sampled values (pickled to the trial)."""

    base_config: TrialConfig  # with the run's data and seed applied
    fixed: dict[str, Any]
    max_epochs: int
    cache_dir: str
    storage_path: str
    resources: ResourcePlan
    max_failures: int = 1  # worker failures retried from the last checkpoint

    @property
    def tune_max_failures(self) -> int:
        """The retries Tune gives a failed trial (the search's and the finalists'): a
        one-process trial's failures are retried by Tune; a data-parallel trial's by its own
        trainer (Ray Train restarts its workers from the last checkpoint), so Tune's are 0,
        or each of the trainer's failures would start the trainer again with retries of
        its own."""
        return self.max_failures if self.resources.workers_per_trial == 1 else 0


def trial_config(setup: TrialSetup, params: dict[str, Any]) -> TrialConfig:
    """The trial's config: the space's fixed values, the sampled ``params``, the budget."""
    return build_trial_config(
        {**setup.fixed, **params, "trainer.max_epochs": setup.max_epochs}, setup.base_config
    )


class TrialFailedError(RuntimeError):
    """A trial that cannot succeed (a ``TrialFailure``: non-finite loss or metric, unreadable
    checkpoint), on either path: recorded in the trial directory once, never retried."""


def run_trial(params: dict[str, Any], setup: TrialSetup) -> None:
    """The Tune function trainable (``tune.with_parameters(run_trial, setup=...)``)."""
    # Deferred (here and below): these run in the trial's process. The driver and the
    # command line import this module for TrialSetup and trial_config, before Ray starts,
    # and do not pay torch's and Ray's imports for it.
    from ray import tune

    entered = time.time()
    quiet_ray_worker()
    context = tune.get_context()
    trial_dir = Path(context.get_trial_dir())
    failed = trial_dir / FAILED_FILE
    if failed.is_file():  # a retry of a trial that failed for good: fail again at once
        raise TrialFailedError(json.loads(failed.read_text())["reason"])
    cfg = trial_config(setup, params)
    try:
        if setup.resources.workers_per_trial == 1:
            _fit_in_process(cfg, setup, entered)
        else:
            _fit_with_ray_train(cfg, setup, context.get_trial_id(), failed)
    except TrialFailure as err:
        _fail(failed, f"{type(err).__name__}: {err}", err)


def _fail(record: Path, reason: str, cause: BaseException | None = None) -> None:
    """Record why the trial failed for good (a retry reads it and fails at once), and fail."""
    write_json(record, {"reason": reason})
    raise TrialFailedError(reason) from cause


def _fit_in_process(cfg: TrialConfig, setup: TrialSetup, entered: float) -> None:
    # Deferred: runs in the trial's process (see run_trial).
    import torch
    from ray import tune

    from raysearch.data.prepared import prepare
    from raysearch.train.loop import fit
    from raysearch.train.ray_train import final_report, torch_threads

    torch.set_num_threads(torch_threads(setup.resources.cpus_per_worker))
    started = time.perf_counter()
    data = prepare(cfg.data, setup.cache_dir)
    timing = {time_key("data"): time.perf_counter() - started, "time/entered_unix": entered}

    last_metrics: dict[str, Any] = {}

    def on_epoch(result: EpochResult) -> None:
        last_metrics.clear()
        last_metrics.update(result.metrics)
        checkpoint = None
        if result.checkpoint_dir is not None:
            checkpoint = tune.Checkpoint.from_directory(str(result.checkpoint_dir))
        tune.report(check_report(result.metrics), checkpoint=checkpoint)

    with tempfile.TemporaryDirectory(prefix="raysearch-trial-") as scratch:
        resume_from = None
        restored = tune.get_checkpoint()
        if restored is not None:
            resume_from = Path(restored.to_directory(os.path.join(scratch, "resume")))
        result = fit(
            cfg,
            data,
            on_epoch=on_epoch,
            checkpoint_dir=Path(scratch) / "checkpoint",
            resume_from=resume_from,
        )
    # also after a restore with no epoch left (final_report: the process that ran the last
    # epoch was stopped before it sent this)
    tune.report(check_report({**final_report(last_metrics, result), **timing}))


def _fit_with_ray_train(cfg: TrialConfig, setup: TrialSetup, trial_id: str, failed: Path) -> None:
    """Fit on Ray Train workers (their epochs reach Tune through its report callback), then
    report the final report they returned, or fail with the TrialFailure they returned.
    A crash the trainer could not recover from (its retries used up) is raised."""
    # Deferred: runs in the trial's process (see run_trial).
    from ray import tune
    from ray.tune.integration.ray_train import TuneReportCallback

    from raysearch.train.ray_train import fit_distributed, outcome_of

    result = fit_distributed(
        cfg,
        setup.resources.distributed,
        setup.cache_dir,
        storage_path=os.path.join(setup.storage_path, "train"),
        name=f"trial-{trial_id}",
        callbacks=[TuneReportCallback()],
        max_failures=setup.max_failures,
    )
    if result.error is not None:
        raise result.error
    final, reason = outcome_of(result)
    if reason is not None:
        _fail(failed, reason)
    if final is not None:
        # with the workers' last checkpoint, as the one-process path reports one each
        # epoch: the finalists score their pick's replicates from it on the test split.
        # Ray Train's Result holds a ray.train.Checkpoint; tune.report wants a tune.Checkpoint
        # (Ray 2.58 warns otherwise): the same files (path and filesystem), Tune's class.
        ckpt = result.checkpoint
        if ckpt is not None:
            ckpt = tune.Checkpoint(ckpt.path, filesystem=ckpt.filesystem)
        tune.report(check_report(final), checkpoint=ckpt)
