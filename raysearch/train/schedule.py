"""Learning-rate schedule: linear warm-up from a fraction of the rate, then cosine decay.

Per optimiser step ``s`` of ``total`` (warm-up ``w`` steps), the rate is ``lr * factor(s)``::

    s < w:              start + (1 - start) * s / w      (start = warmup_start_factor, e.g. 0.1)
    w <= s < total - 1: floor + (1 - floor) * 0.5 * (1 + cos(pi * (s - w) / (total - 1 - w)))
    s >= total - 1:     floor

so the first step uses ``start * lr`` (not 1% of it, report 000 §12.1), the rate reaches ``lr``
at the end of warm-up and ``floor * lr`` (min_lr_factor) at the last step, ``total - 1``
(the scheduler steps after each optimiser step, so step ``total`` is never taken). The last
step is at the floor even when it is the first after warm-up (``w = total - 1``: one step an
epoch, warm-up of every epoch but the last) or the only step (``total = 1``): the cosine has
no step to reach ``lr`` on then.
"""

from __future__ import annotations

import math

from torch.optim import Optimizer
from torch.optim.lr_scheduler import LambdaLR

__all__ = ["lr_factor", "make_scheduler", "set_rates"]


def lr_factor(step: int, warmup_steps: int, total_steps: int, start: float, floor: float) -> float:
    """The multiplier of the base rate at optimiser step ``step`` (0-based)."""
    if step < warmup_steps:
        return start + (1.0 - start) * step / warmup_steps
    if step >= total_steps - 1:  # the last step (and any after it): the floor
        return floor
    progress = (step - warmup_steps) / (total_steps - 1 - warmup_steps)
    return floor + (1.0 - floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


def make_scheduler(
    optimizer: Optimizer, warmup_steps: int, total_steps: int, start: float, floor: float
) -> LambdaLR:
    """A ``LambdaLR`` stepped once per optimiser step with ``lr_factor``."""
    return LambdaLR(
        optimizer, lambda step: lr_factor(step, warmup_steps, total_steps, start, floor)
    )


def set_rates(scheduler: LambdaLR) -> None:
    """Each parameter group's rate for the scheduler's step, by its own factors. After a
    resume's ``load_state_dict`` the optimiser's state holds the rate the checkpoint's
    schedule set for the next step, and LambdaLR sets its own only after that step: a
    resume for another length (max_epochs) takes the new schedule's rate from its first
    step this way; for the same schedule it is the same rate."""
    step = scheduler.last_epoch
    for group, base, factor in zip(
        scheduler.optimizer.param_groups, scheduler.base_lrs, scheduler.lr_lambdas, strict=True
    ):
        group["lr"] = base * factor(step)
