"""``kendall``: homoscedastic uncertainty weighting (Kendall et al. 2018), report 001's form.

    L = sum_i [0.5 exp(-s_i) L_i + 0.5 s_i] + reg sum_i s_i^2,  s_i = clamp(log_var_i, lo, hi)

over the tasks present, with ``log_var_i`` learnable (initialised at 0), clamped to
``kendall_clamp`` (default (-2, 2)) and regularised by ``kendall_reg`` (default 0.01). The
weight reported for a task is its multiplier ``0.5 * exp(-s_i)``. The objective can be
negative (``0.5 * s_i < 0``): report 000 §15.4; ``softplus_kendall`` is the variant that is not.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from raysearch.core.loss_config import LossConfig
from raysearch.losses.strategies.base import LossStrategy

__all__ = ["KendallStrategy", "kendall_terms"]


def kendall_terms(losses: Tensor, log_vars: Tensor, clamp: tuple[float, float]) -> Tensor:
    """Per-task contributions ``0.5 * exp(-s) * L + 0.5 * s`` (without the regulariser)."""
    s = log_vars.clamp(clamp[0], clamp[1])
    return 0.5 * torch.exp(-s) * losses + 0.5 * s


class KendallStrategy(LossStrategy):
    def __init__(self, task_names: tuple[str, ...], cfg: LossConfig) -> None:
        super().__init__(task_names, cfg)
        self.log_vars = nn.Parameter(torch.zeros(len(self.task_names)))

    def forward(self, losses: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        idx = self.index(losses)
        values = torch.stack(list(losses.values()))
        log_vars = self.log_vars[idx]
        total = kendall_terms(values, log_vars, self.cfg.kendall_clamp).sum()
        total = (
            total + self.cfg.kendall_reg * log_vars.clamp(*self.cfg.kendall_clamp).square().sum()
        )
        s = log_vars.detach().clamp(*self.cfg.kendall_clamp)
        weights = (0.5 * torch.exp(-s)).tolist()
        return total, dict(zip(losses, weights, strict=True))
