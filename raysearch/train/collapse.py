"""Task-collapse detection (report 000 §13.3): reported as a metric and a warning, never acted on.

A task has collapsed on a split when its plain loss is below ``loss_threshold`` (a loss of
~1e-5 on a real task is a model predicting the target trivially, or a missing target
replaced by a stand-in) or when its predictions are constant across the split (the mean
over output dimensions of the per-dimension standard deviation is below ``std_threshold``).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

__all__ = ["TaskCollapseWarning", "detect_collapse", "warn_collapse"]


class TaskCollapseWarning(UserWarning):
    """A task's validation loss is ~0 or its predictions are constant."""


def detect_collapse(
    losses: Mapping[str, float],
    prediction_std: Mapping[str, float],
    loss_threshold: float,
    std_threshold: float,
) -> dict[str, bool]:
    """{task: collapsed} for every task in ``losses`` or ``prediction_std``."""
    tasks = sorted(set(losses) | set(prediction_std))
    return {
        t: (t in losses and losses[t] < loss_threshold)
        or (t in prediction_std and prediction_std[t] < std_threshold)
        for t in tasks
    }


def warn_collapse(
    collapsed: Mapping[str, bool],
    epoch: int,
    losses: Mapping[str, float],
    prediction_std: Mapping[str, float],
) -> None:
    """One TaskCollapseWarning per collapsed task, with its loss and prediction spread."""
    for task, flag in collapsed.items():
        if flag:
            loss = losses.get(task, float("nan"))
            std = prediction_std.get(task, float("nan"))
            warnings.warn(
                f"epoch {epoch}: task {task!r} collapsed (val loss {loss:.3g}, "
                f"prediction std {std:.3g})",
                TaskCollapseWarning,
                stacklevel=2,
            )
