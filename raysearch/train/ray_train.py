"""Data-parallel training through Ray Train (V2): one TorchTrainer over N workers.

Each worker runs the same epoch loop as a single process (``raysearch.train.loop.fit``)
inside the process group Ray Train sets up (gloo on CPU, nccl on GPU); every worker
reports each epoch (Train V2 needs all ranks to report) and rank 0 attaches the
checkpoint. This module knows Ray Train, not Ray Tune: the search passes Tune's report
callback in ``callbacks``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["OUTCOME_FILE", "DistributedPlan", "fit_distributed", "outcome_of", "write_outcome"]

OUTCOME_FILE = "outcome.json"


@dataclass(frozen=True)
class DistributedPlan:
    """How one trial's training is spread: workers and what each holds."""

    workers: int
    cpus_per_worker: float = 1.0
    gpus_per_worker: float = 0.0

    @property
    def use_gpu(self) -> bool:
        return self.gpus_per_worker > 0


def _worker_loop(config: dict[str, Any]) -> None:
    """Runs on every Ray Train worker."""
    import ray.train
    import torch

    from raysearch.data import prepare
    from raysearch.train.loop import fit

    threads = max(1, int(config["cpus_per_worker"]))
    torch.set_num_threads(threads)
    cfg = config["trial_config"]
    data = prepare(cfg.data, config["cache_dir"])
    context = ray.train.get_context()
    rank = context.get_world_rank()
    local_dir = Path(config["scratch_dir"]) / f"rank{rank}"
    local_dir.mkdir(parents=True, exist_ok=True)

    resume_from = None
    checkpoint = ray.train.get_checkpoint()
    if checkpoint is not None:
        resume_from = Path(checkpoint.to_directory(str(local_dir / "resume")))

    def on_epoch(result: Any) -> None:
        ckpt = None
        if rank == 0 and result.checkpoint_dir is not None:
            ckpt = ray.train.Checkpoint.from_directory(str(result.checkpoint_dir))
        ray.train.report(dict(result.metrics), checkpoint=ckpt)

    result = fit(
        cfg,
        data,
        on_epoch=on_epoch,
        checkpoint_dir=local_dir / "checkpoint" if rank == 0 else None,
        resume_from=resume_from,
    )
    if rank == 0:
        write_outcome(Path(config["scratch_dir"]) / OUTCOME_FILE, result)


def outcome_of(result: Any) -> dict[str, Any]:
    """What a finished fit tells the search: why it stopped, its best epoch, test metrics."""
    return {
        "stop_reason": result.stop_reason,
        "best_epoch": result.best_epoch,
        "test_metrics": dict(result.test_metrics),
    }


def write_outcome(path: Path, result: Any) -> None:
    """Write ``outcome_of(result)`` atomically as JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(outcome_of(result), indent=1, default=float))
    os.replace(tmp, path)


def fit_distributed(
    cfg: Any,
    plan: DistributedPlan,
    cache_dir: str | os.PathLike[str],
    *,
    storage_path: str | os.PathLike[str],
    name: str,
    callbacks: Sequence[Any] = (),
    max_failures: int = 0,
) -> tuple[Any, dict[str, Any] | None]:
    """Train ``cfg`` on ``plan.workers`` workers: (Ray Train's Result, the fit's outcome)."""
    import ray.train
    from ray.train.torch import TorchConfig, TorchTrainer

    scratch = Path(storage_path) / name / "scratch"
    trainer = TorchTrainer(
        _worker_loop,
        train_loop_config={
            "trial_config": cfg,
            "cache_dir": str(cache_dir),
            "cpus_per_worker": plan.cpus_per_worker,
            "scratch_dir": str(scratch),
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
    result = trainer.fit()
    outcome_path = scratch / OUTCOME_FILE
    outcome = json.loads(outcome_path.read_text()) if outcome_path.is_file() else None
    return result, outcome
