"""One training epoch: micro-batches, gradient accumulation, clipping, optimiser steps.

Gradient accumulation averages: an optimiser step follows ``accumulation_steps``
micro-batches (fewer for the last group of an epoch) and each micro-batch's objective is
divided by the group's size, so with a mean-reduced objective k micro-batches give the
gradient of one batch k times larger. Clipping acts on the true (averaged, all-reduced)
gradients right before the step; bf16 autocast needs no loss scaler, so there is nothing
to unscale. Under DDP only the last micro-batch of a group synchronises gradients, and the
strategy's own parameters (outside DDP) are averaged over ranks before the step.

A non-finite task loss (or gradient norm) raises ``NonFiniteLossError`` naming the tasks
and the epoch; under DDP the flags are all-reduced first so every rank raises together.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler
from torch.utils.data import DataLoader

from raysearch.core.loss_config import LossConfig
from raysearch.core.spec import TaskSpec
from raysearch.losses.strategies.base import LossStrategy
from raysearch.losses.tasks import task_losses
from raysearch.train.distributed import all_reduce_sum, rank_and_world
from raysearch.train.evaluate import to_device

__all__ = ["EpochStats", "NonFiniteLossError", "train_epoch"]


class NonFiniteLossError(RuntimeError):
    """A training or evaluation loss became NaN/inf; ``stop_reason`` says which and when."""

    def __init__(self, what: str, tasks: Sequence[str], epoch: int) -> None:
        self.what, self.tasks, self.epoch = what, list(tasks), epoch
        self.stop_reason = f"non_finite: {what} of {self.tasks} at epoch {epoch}"
        super().__init__(
            f"{what} is not finite for task(s) {self.tasks} at epoch {epoch}; the trial failed"
        )


@dataclass
class EpochStats:
    """Epoch means over all ranks: raw per-task losses, strategy weights, the objective."""

    losses: dict[str, float]
    weights: dict[str, float]
    objective: float
    steps: int


@dataclass
class TrainParts:
    """What an epoch needs (built once by ``fit``)."""

    model: nn.Module  # possibly DDP-wrapped
    strategy: LossStrategy
    optimizer: Optimizer
    scheduler: LRScheduler
    tasks: Sequence[TaskSpec]
    loss_cfg: LossConfig
    class_weights: Mapping[str, Tensor]
    device: torch.device
    amp_dtype: torch.dtype | None
    accumulation_steps: int
    grad_clip: float


def _no_sync(model: nn.Module) -> contextlib.AbstractContextManager:
    """DDP's context that skips the gradient all-reduce (for all but a group's last batch)."""
    if not isinstance(model, DistributedDataParallel):
        raise TypeError(f"{type(model).__name__} is not DDP-wrapped: it cannot skip a sync")
    return model.no_sync()


def _check_finite(losses: Mapping[str, Tensor], tasks: Sequence[TaskSpec], epoch: int) -> None:
    flags = torch.tensor(
        [float(t.name in losses and not bool(torch.isfinite(losses[t.name]))) for t in tasks]
    )
    all_reduce_sum(flags, op="max")
    if flags.any():
        bad = [t.name for t, f in zip(tasks, flags.tolist(), strict=True) if f]
        raise NonFiniteLossError("training loss", bad, epoch)


def _autocast(parts: TrainParts) -> contextlib.AbstractContextManager:
    if parts.amp_dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=parts.device.type, dtype=parts.amp_dtype)


def _sync_strategy_grads(strategy: LossStrategy, world: int) -> None:
    """Average the strategy's gradients over ranks (DDP wraps only the model, so Kendall's
    log-variances would otherwise drift apart between ranks)."""
    for p in strategy.parameters():
        if p.grad is None:
            p.grad = torch.zeros_like(p)
        all_reduce_sum(p.grad).div_(world)


def _step(parts: TrainParts, params: list[Tensor], epoch: int, world: int) -> None:
    if world > 1:
        _sync_strategy_grads(parts.strategy, world)
    if parts.grad_clip > 0:
        norm = torch.nn.utils.clip_grad_norm_(params, parts.grad_clip)
        if not math.isfinite(float(norm)):
            raise NonFiniteLossError("gradient norm", [t.name for t in parts.tasks], epoch)
    parts.optimizer.step()
    parts.scheduler.step()
    parts.optimizer.zero_grad(set_to_none=True)


def train_epoch(
    parts: TrainParts,
    loader: DataLoader,
    epoch: int,
    on_batch: Callable[[int], None] | None = None,
) -> EpochStats:
    """Run one epoch over ``loader``; returns the epoch means (identical on every rank)."""
    model, k = parts.model, parts.accumulation_steps
    world = rank_and_world()[1]
    params = [p for g in parts.optimizer.param_groups for p in g["params"]]
    n = len(parts.tasks)
    # per task: loss sum, batches, weight sum; then objective sum, batches
    acc = torch.zeros(3 * n + 2, dtype=torch.float64)
    n_batches, steps = len(loader), 0
    model.train()
    parts.optimizer.zero_grad(set_to_none=True)
    for b, batch in enumerate(loader):
        start = (b // k) * k
        group = min(k, n_batches - start)
        last = b - start == group - 1
        batch = to_device(batch, parts.device)
        sync = _no_sync(model) if world > 1 and not last else contextlib.nullcontext()
        with sync:
            with _autocast(parts):
                outputs = model(batch)
            result = task_losses(
                parts.tasks, outputs, batch["targets"], parts.loss_cfg, parts.class_weights
            )
            _check_finite(result.losses, parts.tasks, epoch)
            if result.losses:
                objective, weights = parts.strategy(result.losses)
                acc[3 * n] += float(objective.detach())
                acc[3 * n + 1] += 1
                for i, t in enumerate(parts.tasks):
                    if t.name in result.losses:
                        acc[i] += float(result.losses[t.name].detach())
                        acc[n + i] += 1
                        acc[2 * n + i] += weights[t.name]
            else:  # no targets at all: contributes nothing, but keeps DDP's graph in step
                objective = sum(o.float().sum() for o in outputs.values()) * 0.0
            (objective / group).backward()
        if last:
            _step(parts, params, epoch, world)
            steps += 1
        if on_batch is not None:
            on_batch(b)
    all_reduce_sum(acc)
    losses = {t.name: float(acc[i] / acc[n + i]) for i, t in enumerate(parts.tasks) if acc[n + i]}
    weights = {
        t.name: float(acc[2 * n + i] / acc[n + i]) for i, t in enumerate(parts.tasks) if acc[n + i]
    }
    objective = float(acc[3 * n] / acc[3 * n + 1]) if acc[3 * n + 1] else math.nan
    return EpochStats(losses, weights, objective, steps)
