"""Evaluate one split: the same function for validation and test (report 001's lesson).

Per task it accumulates ``plain_loss_sum`` sums and counts over every batch (all-reduced
across ranks when a process group is initialised), so ``L_i = sum / count`` is the exact
split loss whatever the batch size or number of ranks, then scores ``anchored_loss``
against the split's reference losses b_i. It also accumulates each output's first and
second moments for collapse detection (constant predictions).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, overload

import torch
from torch import Tensor, nn

from raysearch.core.errors import TrialFailure
from raysearch.core.spec import TaskKind, TaskSpec
from raysearch.scoring.anchored import anchored_loss
from raysearch.scoring.plain import plain_loss_sum
from raysearch.train.distributed import all_reduce_sum

__all__ = ["EvalResult", "UnscorableSplitError", "evaluate_split", "output_size", "to_device"]


class UnscorableSplitError(TrialFailure):
    """A split none of whose tasks has an observed target: there is nothing to score it by,
    and a retry reads the same data."""


@dataclass
class EvalResult:
    """One split's evaluation: the anchored loss, and per task L_i, r_i and spread."""

    split: str
    anchored: float
    losses: dict[str, float]
    regrets: dict[str, float]
    prediction_std: dict[str, float] = field(default_factory=dict)

    def metrics(self) -> dict[str, float]:
        """``anchored_<split>_loss``, ``<split>_loss/<task>``, ``<split>_regret/<task>``."""
        out = {f"anchored_{self.split}_loss": self.anchored}
        out.update({f"{self.split}_loss/{t}": v for t, v in self.losses.items()})
        out.update({f"{self.split}_regret/{t}": v for t, v in self.regrets.items()})
        return out


def output_size(task: TaskSpec) -> int:
    """Numbers per sample in the task's model output (spec.py's MODEL OUTPUT layout)."""
    kind = TaskKind(task.kind)
    if kind is TaskKind.COUNT:
        return 3
    if kind in (TaskKind.CLASSIFICATION, TaskKind.FORECAST):
        return task.n_outputs
    if kind is TaskKind.DAILY_FORECAST:
        return task.horizon * task.n_outputs
    return 1


@overload
def to_device(batch: Mapping[str, Any], device: torch.device) -> dict[str, Any]: ...
@overload
def to_device(batch: object, device: torch.device) -> object: ...
def to_device(batch: object, device: torch.device) -> object:
    """The batch (nested dicts of tensors) on ``device``."""
    if isinstance(batch, Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, Mapping):
        return {k: to_device(v, device) for k, v in batch.items()}
    return batch


def _autocast(device: torch.device, dtype: torch.dtype | None) -> contextlib.AbstractContextManager:
    if dtype is None:
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.type, dtype=dtype)


@torch.no_grad()
def evaluate_split(
    model: nn.Module,
    batches: Iterable[dict],
    tasks: Sequence[TaskSpec],
    references: Mapping[str, float],
    split: str,
    device: torch.device,
    amp_dtype: torch.dtype | None = None,
) -> EvalResult:
    """Plain losses of ``model`` on every batch of a split, then the anchored loss."""
    was_training = model.training
    model.eval()
    n = len(tasks)
    sums = torch.zeros(n, dtype=torch.float64)
    counts = torch.zeros(n, dtype=torch.float64)
    # task -> (3, D): count, sum, sum of squares of each output dimension
    moments = {t.name: torch.zeros(3, output_size(t), dtype=torch.float64) for t in tasks}
    for batch in batches:
        batch = to_device(batch, device)
        with _autocast(device, amp_dtype):
            outputs = model(batch)
        for i, task in enumerate(tasks):
            target = batch["targets"].get(task.name)
            out = outputs[task.name].float()
            flat = out.reshape(out.shape[0], -1).double().cpu()
            stats = torch.stack(
                [torch.full_like(flat[0], flat.shape[0]), flat.sum(0), flat.square().sum(0)]
            )
            moments[task.name] += stats
            if target is None:
                continue
            s, c = plain_loss_sum(task, out, target)
            sums[i] += float(s)
            counts[i] += float(c)
    model.train(was_training)
    all_reduce_sum(sums)
    all_reduce_sum(counts)
    losses = {t.name: float(sums[i] / counts[i]) for i, t in enumerate(tasks) if counts[i] > 0}
    spread = {}
    for task in tasks:
        stats = all_reduce_sum(moments[task.name])
        if stats[0, 0] > 0:
            mean = stats[1] / stats[0]
            var = (stats[2] / stats[0] - mean.square()).clamp_min(0.0)
            spread[task.name] = float(var.sqrt().mean())
    if not losses:
        raise UnscorableSplitError(
            f"no task has an observed target in the {split} split "
            f"({', '.join(t.name for t in tasks)}): there is nothing to score it by"
        )
    if all(math.isfinite(v) for v in losses.values()):
        anchored, regrets = anchored_loss(losses, dict(references))
    else:  # the trainer turns a non-finite evaluation into NonFiniteLossError
        anchored, regrets = math.nan, {}
    return EvalResult(split, anchored, losses, regrets, spread)
