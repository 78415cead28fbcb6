"""``kendall``: homoscedastic uncertainty weighting (Kendall et al. 2018), report 001's form.

    L = sum_i [0.5 exp(-s_i) L_i + 0.5 s_i] + reg sum_i s_i^2,  s_i = clamp(log_var_i, lo, hi)

over the tasks present, with ``log_var_i`` learnable (initialised at 0), clamped to
``kendall_clamp`` (default (-2, 2)) and regularised by ``kendall_reg`` (default 0.01). The
weight reported for a task is its multiplier ``0.5 * exp(-s_i)``. The objective can be
negative (``0.5 * s_i < 0``): report 000 §15.4; ``softplus_kendall`` is the variant that is not.

The clamp is straight-through: its value is ``clamp(log_var_i, lo, hi)`` (so the weight
stays within ``0.5 * exp(-hi) .. 0.5 * exp(-lo)`` and ``exp`` never overflows), but its
gradient is that of the identity. A plain clamp has gradient 0 outside ``[lo, hi]``: a task
whose loss exceeds ``exp(hi)`` drove its log-variance past ``hi`` within a few steps and its
weight then stayed at ``0.5 * exp(-hi)`` for the rest of the run, however small its loss
became. Straight-through, the parameter keeps the gradient at the bound, which points back
inside as soon as the loss falls (below about ``exp(hi)``). Chosen over a bounded
reparametrisation ``lo + (hi - lo) * sigmoid(raw)`` because inside the clamp the parameter
is still the log-variance itself (report 001's values, its initial 0 for any clamp) and the
objective and its gradients are unchanged there; the cost is that while a loss stays above
``exp(hi)`` the parameter keeps moving past ``hi`` and takes as many steps to come back.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from raysearch.core.loss_config import LossConfig
from raysearch.losses.strategies.base import LossStrategy

__all__ = ["KendallStrategy", "kendall_terms", "straight_through_clamp"]


def straight_through_clamp(x: Tensor, clamp: tuple[float, float]) -> Tensor:
    """``clamp(x, lo, hi)`` in value, the identity in gradient (same shape as ``x``)."""
    return x + (x.clamp(clamp[0], clamp[1]) - x).detach()


def kendall_terms(losses: Tensor, log_vars: Tensor, clamp: tuple[float, float]) -> Tensor:
    """Per-task contributions ``0.5 * exp(-s) * L + 0.5 * s`` (without the regulariser), with
    ``s`` the straight-through clamp of ``log_vars``; losses, log_vars and result (n,)."""
    s = straight_through_clamp(log_vars, clamp)  # (n,)
    return 0.5 * torch.exp(-s) * losses + 0.5 * s


class KendallStrategy(LossStrategy):
    def __init__(self, task_names: tuple[str, ...], cfg: LossConfig) -> None:
        super().__init__(task_names, cfg)
        self.log_vars = nn.Parameter(torch.zeros(len(self.task_names)))

    def forward(self, losses: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        idx = self.index(losses)
        values = torch.stack(list(losses.values()))  # (n,) tasks present
        log_vars = self.log_vars[idx]  # (n,)
        s = straight_through_clamp(log_vars, self.cfg.kendall_clamp)  # (n,) bounded value
        total = kendall_terms(values, log_vars, self.cfg.kendall_clamp).sum()
        total = total + self.cfg.kendall_reg * s.square().sum()
        weights = (0.5 * torch.exp(-s.detach())).tolist()
        return total, dict(zip(losses, weights, strict=True))
