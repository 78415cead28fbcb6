"""The plain per-task loss: the one definition behind L_i (model) and b_i (reference).

Exact: no label smoothing, class weights, focal terms, floors or penalties. It sums over
observed target elements only (``m`` True) and returns the count, so a split's loss is
``sum over batches / count over batches`` (batch-size independent, all-reducible).

    CLASSIFICATION  cross-entropy                  per observed sample
    BINARY          binary cross-entropy (logits)  per observed sample
    COUNT           ZINB negative log-likelihood   per observed sample
    REGRESSION      squared error                  per observed sample
    FORECAST        squared error                  per observed (sample, feature)
    DAILY_FORECAST  squared error                  per observed (sample, day, feature)
"""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from raysearch.core.spec import TaskKind, TaskSpec
from raysearch.scoring.zinb import zinb_nll

__all__ = ["observed", "plain_loss_elements", "plain_loss_sum"]


def observed(task: TaskSpec, output: Tensor, target: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
    """(output, y) restricted to observed targets (boolean indexing; never reads a missing y)."""
    y, m = target["y"], target["m"].bool()
    expected = tuple(y.shape) + ((task.n_outputs,) if task.kind == TaskKind.CLASSIFICATION else ())
    if task.kind == TaskKind.COUNT:
        expected = (*y.shape, 3)
    if tuple(output.shape) != expected or tuple(m.shape) != tuple(y.shape):
        raise ValueError(
            f"task {task.name!r} ({task.kind}): output shape {tuple(output.shape)}, target y "
            f"{tuple(y.shape)}, m {tuple(m.shape)}; expected output {expected} and m like y"
        )
    return output[m], y[m]


def plain_loss_elements(task: TaskSpec, output: Tensor, target: dict[str, Tensor]) -> Tensor:
    """The plain loss of every observed target element, shape (n_observed,)."""
    out, y = observed(task, output, target)
    out = out.float()
    if task.kind == TaskKind.CLASSIFICATION:
        return F.cross_entropy(out, y.long(), reduction="none")
    if task.kind == TaskKind.BINARY:
        return F.binary_cross_entropy_with_logits(out, y.float(), reduction="none")
    if task.kind == TaskKind.COUNT:
        return zinb_nll(out, y.float())
    return (out - y.float()).square()


def plain_loss_sum(
    task: TaskSpec, output: Tensor, target: dict[str, Tensor]
) -> tuple[Tensor, Tensor]:
    """(sum of the task's plain loss over observed targets, number of observed targets)."""
    elements = plain_loss_elements(task, output, target)
    return elements.sum(), target["m"].bool().sum()
