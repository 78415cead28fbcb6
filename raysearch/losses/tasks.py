"""Training task losses: the plain losses plus the options the issue asks for.

``task_losses`` returns a loss only for tasks with at least one observed target in the
batch; a task without targets contributes nothing and is reported unavailable (its
availability fraction is 0), never replaced by a synthetic stand-in. Options:

- regime (CLASSIFICATION): label smoothing, class weights (a weighted mean, as
  ``F.cross_entropy`` computes it);
- transition (BINARY): focal loss (Lin et al. 2017) with ``alpha`` on positives and
  ``1 - alpha`` on negatives, ``(1 - p_t)^gamma`` focusing;
- casualty (COUNT): ZINB NLL; anomaly, forecast, daily_forecast: MSE on observed elements;
- availability gating (report 000 §18.2.C): ``gated_tasks`` names the tasks whose target
  availability on the training split is below the threshold; the trainer leaves them out
  of the objective for the whole run (they are still evaluated and reported).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from raysearch.core.loss_config import LossConfig
from raysearch.core.spec import TaskKind, TaskSpec
from raysearch.scoring.plain import observed, plain_loss_elements

__all__ = ["BatchLosses", "focal_loss", "gated_tasks", "inverse_frequency_weights", "task_losses"]


@dataclass
class BatchLosses:
    """Per-task training losses of one batch (only tasks with targets) and availability."""

    losses: dict[str, Tensor]  # task -> scalar mean loss over observed targets
    # task -> the mean's denominator: observed elements, or for class-weighted cross-entropy
    # their classes' weight sum (what a data-parallel trainer needs to weight ranks' means)
    normalisers: dict[str, float]
    availability: dict[str, float]  # every requested task -> fraction of elements observed


def focal_loss(logits: Tensor, y: Tensor, alpha: float, gamma: float) -> Tensor:
    """Per-element binary focal loss; ``alpha=0.5, gamma=0`` is half the BCE.

    ``1 - p_t`` is raised to at least the dtype's smallest normal number before the power:
    a confident right logit (|logit| above about 17.3 in float32, 37.4 in float64) rounds
    ``p_t`` to exactly 1, where ``x^gamma`` has an infinite derivative for ``0 < gamma < 1``
    and the gradient would be NaN. Only that exact 0 is raised (any other ``1 - p_t`` is at
    least half the dtype's epsilon), and there the loss moves by at most the element's BCE,
    itself below the dtype's epsilon.
    """
    bce = F.binary_cross_entropy_with_logits(logits, y, reduction="none")
    p_t = torch.exp(-bce)
    alpha_t = alpha * y + (1.0 - alpha) * (1.0 - y)
    one_minus_p_t = (1.0 - p_t).clamp_min(torch.finfo(p_t.dtype).tiny)
    return alpha_t * one_minus_p_t.pow(gamma) * bce


def _training_loss(
    task: TaskSpec,
    output: Tensor,
    target: dict[str, Tensor],
    cfg: LossConfig,
    class_weights: Tensor | None,
) -> tuple[Tensor, float]:
    """(mean training loss over the observed targets, the mean's denominator)."""
    kind = TaskKind(task.kind)
    if kind is TaskKind.CLASSIFICATION and (cfg.label_smoothing > 0 or class_weights is not None):
        out, y = observed(task, output, target)
        weight = class_weights.to(out.device) if class_weights is not None else None
        loss = F.cross_entropy(
            out.float(), y.long(), weight=weight, label_smoothing=cfg.label_smoothing
        )
        # cross_entropy's weighted mean divides by the targets' class weights
        norm = float(weight[y.long()].sum()) if weight is not None else float(y.numel())
        return loss, norm
    if kind is TaskKind.BINARY and cfg.focal:
        out, y = observed(task, output, target)
        focal = focal_loss(out.float(), y.float(), cfg.focal_alpha, cfg.focal_gamma)
        return focal.mean(), float(focal.numel())
    elements = plain_loss_elements(task, output, target)
    return elements.mean(), float(elements.numel())


def task_losses(
    tasks: Iterable[TaskSpec],
    outputs: Mapping[str, Tensor],
    targets: Mapping[str, dict[str, Tensor]],
    cfg: LossConfig,
    class_weights: Mapping[str, Tensor] | None = None,
) -> BatchLosses:
    """Training losses of ``tasks`` on one batch; tasks without observed targets are left out."""
    result = BatchLosses({}, {}, {})
    for task in tasks:
        target = targets.get(task.name)
        if target is None:
            result.availability[task.name] = 0.0
            continue
        m = target["m"].bool()
        count = int(m.sum())
        result.availability[task.name] = count / max(m.numel(), 1)
        if count == 0:
            continue
        weights = (class_weights or {}).get(task.name)
        loss, norm = _training_loss(task, outputs[task.name], target, cfg, weights)
        result.losses[task.name], result.normalisers[task.name] = loss, norm
    return result


def gated_tasks(availability: Mapping[str, float], threshold: float) -> set[str]:
    """Tasks whose target availability is below ``threshold`` (none when it is 0)."""
    if threshold <= 0:
        return set()
    return {task for task, frac in availability.items() if frac < threshold}


def inverse_frequency_weights(counts: Tensor) -> Tensor:
    """Class weights ``N / (K * n_k)`` from class counts (K classes); an absent class gets 0."""
    counts = counts.double()
    k = counts.numel()
    safe = counts.clamp_min(1.0)
    weights = torch.where(counts > 0, counts.sum() / (k * safe), torch.zeros_like(counts))
    return weights.float()
