"""``raysearch train --workers N`` (N >= 2): the fit through Ray Train (DDP, gloo on CPU),
and the line per epoch either path prints.

What the workers cannot honour is refused with the command line's other problems, before
Ray starts (``distributed_problems``). Each epoch's line is printed by Ray Train's
controller (``ray_train.epoch_callback``), an actor: Ray shows it here after the actor's
name, ``(TrainController pid=...)``. The workers return how the fit ended as rank 0's
return value (``raysearch.train.ray_train.outcome_of``), not as Ray Train's
``Result.error``: a failure for good on them (a non-finite loss) is ``WorkersFailed``,
which the command reports in one line with exit status 1, as it does one on one process.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import tempfile
from collections.abc import Callable
from typing import Any

from raysearch.core.errors import ConfigError, DataError, TrialFailure
from raysearch.core.trial_config import TrialConfig

__all__ = ["WorkersFailed", "distributed_problems", "print_epoch", "run_distributed"]


class WorkersFailed(TrialFailure):
    """The fit failed for good on the Ray Train workers; the reason they returned names
    the error they met (``NonFiniteLossError: ...``)."""


def print_epoch(metrics: dict[str, float]) -> None:
    """One epoch's line: its validation value, the best so far, the training objective,
    the learning rate of its last step and its seconds."""
    m = metrics
    print(
        f"epoch {int(m['epoch']):3d}  anchored_val_loss {m['anchored_val_loss']:+.4f}  "
        f"best {m['best_anchored_val_loss']:+.4f}  train_objective {m['train_objective']:.4f}  "
        f"lr {m['lr']:.2e}  {m['epoch_time_s']:.1f}s",
        flush=True,
    )


def distributed_problems(args: argparse.Namespace, cfg: TrialConfig | None) -> list[str]:
    """The flags --workers >= 2 (Ray Train) cannot honour, and a batch of ``cfg`` (None: not
    built) the workers cannot share: refused, not ignored or met once Ray started. A
    --resume is refused with what its checkpoint says (``train_resume.resume_problems``)."""
    if args.workers < 2:
        return []
    problems = []
    batch = cfg.trainer.batch_size if cfg is not None else 0
    if batch % args.workers:  # each rank takes batch // workers (train.distributed)
        problems.append(
            f"{_batch_named(args, batch)}: each of the --workers {args.workers} takes an "
            f"equal share of a batch, and {batch} is not divisible by {args.workers}; give a "
            "batch size that is"
        )
    if args.threads is not None:
        problems.append(
            f"--threads {args.threads}: with --workers {args.workers} each Ray Train worker "
            "sets its own threads (one per CPU it reserves); --threads would set only this "
            "driver's, which does not train: drop it, or train with --workers 1"
        )
    return problems


def _batch_named(args: argparse.Namespace, batch: int) -> str:
    """The batch size as its user gave it: the --config file's, or --batch-size (or the
    default)."""
    if args.config is not None and "batch_size" not in getattr(args, "given", ()):
        return f"--config {args.config}: trainer.batch_size {batch}"
    return f"--batch-size {batch} (trainer.batch_size)"


def _check_prepared(cfg: TrialConfig, args: argparse.Namespace, cache_dir: str | None) -> None:
    """Refuse, before Ray starts, what every worker would fail on: a test split scored
    with no target, a batch larger than the training split (each validation origin's; the
    earliest has the fewest samples). The data prepared here is cached for the workers."""
    # Deferred: torch takes seconds to import; a bad flag or value is reported first.
    from raysearch.data.prepared import prepare, test_problems

    data = prepare(cfg.data, cache_dir)
    if problems := test_problems(data, cfg.trainer.score_test):
        raise DataError(problems, "dataset")
    if cfg.trainer.batch_size > (fewest := data.fewest_train_samples()):
        raise ConfigError(
            [f"{_batch_named(args, cfg.trainer.batch_size)}: exceeds the {fewest} training "
             f"samples (the workers train on whole batches of them); give at most {fewest}"],
            "arguments",
        )  # fmt: skip


def run_distributed(
    cfg: TrialConfig,
    args: argparse.Namespace,
    on_ready: Callable[[TrialConfig], None] = lambda cfg: None,
) -> dict[str, Any]:
    """Train ``cfg`` on ``args.workers`` Ray Train workers; the summary of the fit. A
    failure for good on the workers raises ``WorkersFailed``. ``on_ready`` is called with
    the config the workers train (its paths absolute) once its data is prepared and checked,
    before Ray starts."""
    # Absolute: a Ray Train worker runs in a directory of Ray's own, where a relative
    # --data or --cache-dir names nothing (the data the driver prepared would go unused)
    if cfg.data.path is not None:
        cfg = dataclasses.replace(
            cfg, data=dataclasses.replace(cfg.data, path=os.path.abspath(cfg.data.path))
        )
    cache_dir = os.path.abspath(args.cache_dir)
    _check_prepared(cfg, args, cache_dir)
    on_ready(cfg)
    # Deferred: Ray Train takes seconds to import; a bad flag or value is reported first.
    from raysearch.search.collect import failure_reason
    from raysearch.train.ray_train import (
        DistributedPlan,
        epoch_callback,
        fit_distributed,
        outcome_of,
        summary_of,
        workers_failed_as,
    )

    # a worker raised, or its process died: one line, as a search's trial words it
    with workers_failed_as(lambda err: WorkersFailed(failure_reason(err))):
        # Ray Train's storage (every epoch's checkpoint): --checkpoint-dir, else a directory
        # removed at the end, as the one-process path's
        with tempfile.TemporaryDirectory(prefix="raysearch-train-") as scratch:
            result = fit_distributed(
                cfg,
                DistributedPlan(workers=args.workers),
                cache_dir,
                storage_path=os.path.abspath(args.checkpoint_dir or scratch),
                name="debug",
                callbacks=[epoch_callback(print_epoch)],
            )
        if result.error is not None:
            raise result.error
    _, reason = outcome_of(result)
    if reason is not None:  # returned, not raised: Ray Train would have retried it
        raise WorkersFailed(reason)
    # rank 0's return value: Result.metrics is only the last epoch's report
    summary = summary_of(result)
    if summary is None:
        raise WorkersFailed("the Ray Train workers returned no summary of the fit")
    return summary
