"""The interface every loss strategy implements.

A strategy turns per-task losses into one training objective. It is an ``nn.Module`` so
its learnable parameters (Kendall's log-variances) go to the optimiser and its state
(A3DRO's baselines) lives in buffers that ``state_dict`` saves and a checkpoint restores.
The set of tasks is fixed at construction; each call may see any non-empty subset of them
(a task without targets in a batch is absent, never filled in).
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence

from torch import Tensor, nn

from raysearch.core.loss_config import LossConfig

__all__ = ["LossStrategy"]


class LossStrategy(nn.Module, abc.ABC):
    """``forward(losses) -> (objective, weights actually applied)``; ``end_epoch`` hook."""

    def __init__(self, task_names: Sequence[str], cfg: LossConfig) -> None:
        super().__init__()
        if not task_names:
            raise ValueError(f"{type(self).__name__}: needs at least one task, got {task_names!r}")
        if len(set(task_names)) != len(task_names):
            raise ValueError(f"{type(self).__name__}: duplicate task names in {task_names!r}")
        self.task_names = tuple(task_names)
        self.cfg = cfg

    def index(self, losses: Mapping[str, Tensor]) -> list[int]:
        """Positions of the tasks in ``losses``; raises on an empty dict or an unknown task."""
        unknown = [t for t in losses if t not in self.task_names]
        if unknown or not losses:
            raise ValueError(
                f"{type(self).__name__}: losses for {sorted(losses)}; expected a non-empty "
                f"subset of {list(self.task_names)}"
            )
        return [self.task_names.index(t) for t in losses]

    @abc.abstractmethod
    def forward(self, losses: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        """(total objective, {task: weight applied}) for the tasks present in ``losses``."""

    def end_epoch(self, epoch: int, epoch_losses: Mapping[str, float]) -> None:
        """Called once per epoch with the epoch's mean raw training losses (default: no-op)."""
