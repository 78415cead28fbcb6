"""One training epoch: micro-batches, gradient accumulation, clipping, optimiser steps.

Gradient accumulation averages: an optimiser step follows ``accumulation_steps``
micro-batches (fewer for the last group of an epoch) and each micro-batch's objective is
divided by the group's size, so with a mean-reduced objective and every target observed, k
micro-batches give the gradient of one batch k times larger. With missing targets each
micro-batch's task mean counts equally, however many targets it observed (a mean of means,
as the epoch's reported losses are): not the larger batch's mean, which ``global_view`` does
give across DDP ranks. Making it so would need the group's target counts before its first
backward pass (and, for a strategy that is not linear in the losses, such as A3DRO, whose
weights depend on them, their values). Under DDP every rank's strategy sees the global
batch's per-task means, with the rank's share of their gradient (``global_view``), so N
ranks train as one process on the whole global batch for every strategy. Clipping acts on
the true (averaged, all-reduced) gradients right before the step; bf16 autocast needs no
loss scaler, so there is nothing to unscale. Under DDP only the last micro-batch of a group
synchronises gradients, and the strategy's own parameters (outside DDP) are averaged over
ranks before the step. A group in which no global batch observed a target takes no optimiser
step (its gradients are zero; AdamW would still move the weights); the schedule steps all
the same.

A non-finite task loss (or gradient norm) raises ``NonFiniteLossError`` naming the tasks
and the epoch; under DDP the flags are all-reduced first so every rank raises together.
"""

from __future__ import annotations

import contextlib
import math
import re
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor, nn
from torch.nn.parallel import DistributedDataParallel
from torch.optim import Optimizer
from torch.optim.lr_scheduler import LRScheduler
from torch.utils.data import DataLoader

from raysearch.core.errors import TrialFailure
from raysearch.core.loss_config import LossConfig
from raysearch.core.spec import TaskSpec
from raysearch.losses.strategies.base import LossStrategy
from raysearch.losses.tasks import BatchLosses, task_losses
from raysearch.train.distributed import all_reduce_sum, rank_and_world
from raysearch.train.evaluate import to_device

__all__ = ["EpochStats", "NonFiniteLossError", "global_view", "rank_share", "train_epoch"]


class NonFiniteLossError(TrialFailure):
    """A training or evaluation loss became NaN/inf; ``stop_reason`` says which and when."""

    def __init__(self, what: str, tasks: Sequence[str], epoch: int) -> None:
        self.what, self.tasks, self.epoch = what, list(tasks), epoch
        self.stop_reason = f"non_finite: {what} of {self.tasks} at epoch {epoch}"
        super().__init__(
            f"{what} is not finite for task(s) {self.tasks} at epoch {epoch}; the trial failed"
        )

    def __reduce__(self) -> tuple[type[NonFiniteLossError], tuple[str, list[str], int]]:
        # pickled with its own arguments: Ray carries it from a worker process to the driver
        return (type(self), (self.what, self.tasks, self.epoch))


@dataclass
class EpochStats:
    """Epoch means over all ranks: raw per-task losses, strategy weights, the objective;
    the optimiser steps taken and the learning rate of the last (NaN: none taken)."""

    losses: dict[str, float]
    weights: dict[str, float]
    objective: float
    steps: int
    last_lr: float = math.nan


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


def rank_share(
    losses: Mapping[str, Tensor],
    normalisers: Mapping[str, float],
    global_normalisers: Mapping[str, float],
    world: int,
) -> dict[str, Tensor]:
    """This rank's per-task losses, scaled so that their mean over ranks is the global batch's
    mean over its observed targets (what one process computes on the whole batch).

    A rank's loss is a mean over its own observed targets; when targets are sparse the ranks
    see different numbers of them, and the plain mean of the ranks' means (what DDP's gradient
    average takes) would weight a rank's few targets like another's many. Scaling rank r's
    mean by ``world * n_r / N`` (n_r its denominator, N the sum over ranks) makes it exact."""
    return {
        name: loss * (world * normalisers[name] / global_normalisers[name])
        for name, loss in losses.items()
    }


def global_view(
    losses: Mapping[str, Tensor],
    normalisers: Mapping[str, float],
    global_means: Mapping[str, float],
    global_normalisers: Mapping[str, float],
    world: int,
    device: torch.device,
) -> dict[str, Tensor]:
    """Per task observed anywhere in the global batch, the loss the strategy sees on this
    rank: its value is the global batch's mean (``global_means``, the same on every rank:
    what one process computes on the whole batch), its gradient this rank's share of that
    mean's (``rank_share``). DDP averages the ranks' gradients, so the result is the
    gradient of the strategy's objective on the whole batch whatever the strategy does with
    the losses: uniform's 1/n over the tasks the global batch observed, A3DRO's weights and
    ratios of the means, Kendall's terms for its log-variances. A task observed only on
    other ranks is a constant here (this rank's samples add nothing to its mean), on
    ``device``."""
    shares = rank_share(losses, normalisers, global_normalisers, world)
    view = {}
    for name, mean in global_means.items():
        here = shares.get(name)
        if here is None:
            view[name] = torch.tensor(mean, dtype=torch.float32, device=device)
        else:
            view[name] = here.new_tensor(mean) + (here - here.detach())
    return view


def _global_batch_losses(
    result: BatchLosses, tasks: Sequence[TaskSpec], epoch: int, world: int, device: torch.device
) -> dict[str, Tensor]:
    """``global_view`` of this batch's losses (with one process: the losses themselves);
    one all-reduce carries the non-finite flags, the denominators and the loss sums."""
    n = len(tasks)
    stats = torch.zeros(3 * n, dtype=torch.float64)
    for i, t in enumerate(tasks):
        if t.name in result.losses:
            loss = float(result.losses[t.name].detach())
            stats[i] = float(not math.isfinite(loss))
            stats[n + i] = result.normalisers[t.name]
            stats[2 * n + i] = loss * result.normalisers[t.name]
    all_reduce_sum(stats)
    if stats[:n].any():
        bad = [t.name for t, f in zip(tasks, stats[:n].tolist(), strict=True) if f]
        raise NonFiniteLossError("training loss", bad, epoch)
    if world == 1:
        return dict(result.losses)
    totals = {t.name: float(stats[n + i]) for i, t in enumerate(tasks) if stats[n + i] > 0}
    means = {t.name: float(stats[2 * n + i]) / totals[t.name] for i, t in enumerate(tasks)
             if t.name in totals}  # fmt: skip
    return global_view(result.losses, result.normalisers, means, totals, world, device)


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
    else:  # measured all the same: a NaN step would go into the weights unsaid
        norm = torch.nn.utils.get_total_norm([p.grad for p in params if p.grad is not None])
    if not math.isfinite(float(norm)):
        raise NonFiniteLossError("gradient norm", [t.name for t in parts.tasks], epoch)
    parts.optimizer.step()
    parts.scheduler.step()
    parts.optimizer.zero_grad(set_to_none=True)


def _skip_step(parts: TrainParts) -> None:
    """An accumulation group none of whose global batches observed a target: its gradients
    are zero, and a step on them would still move the weights (AdamW's weight decay and
    moments), on no evidence. The optimiser does not step; the schedule does, so its last
    step is still the one at its floor. Every rank skips together (``losses`` is the global
    batch's)."""
    parts.optimizer.zero_grad(set_to_none=True)
    with warnings.catch_warnings():  # the run's first group: the optimiser never stepped
        warnings.filterwarnings("ignore", re.escape("Detected call of `lr_scheduler.step()`"))
        parts.scheduler.step()


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
    # per task: loss sum, global batches, weight sum, weights; then objective sum, batches.
    # Each rank adds its scaled loss / world and 1 / world per global batch that observed the
    # task, so the all-reduced ratio is the mean of the global batches' means on any world.
    acc = torch.zeros(4 * n + 2, dtype=torch.float64)
    n_batches, steps, last_lr = len(loader), 0, math.nan
    observed = False  # whether the accumulation group's global batches observed a target
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
            losses = _global_batch_losses(result, parts.tasks, epoch, world, parts.device)
            for i, t in enumerate(parts.tasks):
                if t.name in losses:  # the global batch's mean, the same on every rank
                    acc[i] += float(losses[t.name].detach()) / world
                    acc[n + i] += 1.0 / world
            objective = torch.zeros((), device=parts.device)
            if losses:
                observed = True
                objective, weights = parts.strategy(losses)
                acc[4 * n] += float(objective.detach())
                acc[4 * n + 1] += 1
                for i, t in enumerate(parts.tasks):
                    if t.name in losses:
                        acc[2 * n + i] += weights[t.name]
                        acc[3 * n + i] += 1
            if not result.losses:  # no targets here: adds nothing, but keeps DDP's graph in step
                objective = objective + sum(o.float().sum() for o in outputs.values()) * 0.0
            (objective / group).backward()
        if last:
            if observed:
                last_lr = float(parts.optimizer.param_groups[0]["lr"])  # this step's rate
                _step(parts, params, epoch, world)
                steps += 1
            else:
                _skip_step(parts)
            observed = False  # the next group starts
        if on_batch is not None:
            on_batch(b)
    all_reduce_sum(acc)
    means = {t.name: float(acc[i] / acc[n + i]) for i, t in enumerate(parts.tasks) if acc[n + i]}
    weights = {
        t.name: float(acc[2 * n + i] / acc[3 * n + i])
        for i, t in enumerate(parts.tasks)
        if acc[3 * n + i]
    }
    mean_objective = float(acc[4 * n] / acc[4 * n + 1]) if acc[4 * n + 1] else math.nan
    return EpochStats(means, weights, mean_objective, steps, last_lr)
