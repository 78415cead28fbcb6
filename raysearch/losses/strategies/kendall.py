"""``kendall``: homoscedastic uncertainty weighting (Kendall et al. 2018), report 001's form.

    L = sum_i [0.5 exp(-s_i) L_i + 0.5 s_i] + reg sum_i s_i^2,  s_i = clamp(log_var_i, lo, hi)

over the tasks present, with ``log_var_i`` learnable (initialised at 0), clamped to
``kendall_clamp`` (default (-2, 2)) and regularised by ``kendall_reg`` (default 0.01). The
weight reported for a task is its multiplier ``0.5 * exp(-s_i)``. The objective can be
negative (``0.5 * s_i < 0``): report 000 §15.4; ``softplus_kendall`` is the variant that is not.

The clamp passes the gradient that points back inside (``inward_clamp`` from
``scoring.clamps``, shared with the ZINB likelihood): its value is ``clamp(log_var_i, lo,
hi)`` (so the weight stays within ``0.5 * exp(-hi) .. 0.5 * exp(-lo)`` and ``exp`` never
overflows); inside ``[lo, hi]`` its gradient is the identity's, and outside it the
identity's where a descent step moves the parameter back toward the bound, 0 where it would
move it further out. A plain clamp has gradient 0 outside: a task whose loss exceeds
``exp(hi)`` drove its log-variance past ``hi`` within a few steps and its weight then stayed
at ``0.5 * exp(-hi)`` for the rest of the run, however small its loss became. A
straight-through clamp (the identity's gradient everywhere) brings it back, but while the
loss stays above ``exp(hi)`` it drives the parameter ever further past ``hi``, and it takes
as many steps to come back. Passing only the inward gradient keeps it at the bound (an
optimiser's momentum aside) and lets it back the step the loss falls. Chosen over a bounded
reparametrisation ``lo + (hi - lo) * sigmoid(raw)`` because inside the clamp the parameter
is still the log-variance itself (report 001's values, its initial 0 for any clamp) and the
objective and its gradients are unchanged there.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor, nn

from raysearch.core.loss_config import LossConfig
from raysearch.losses.strategies.base import LossStrategy
from raysearch.scoring.clamps import inward_clamp

__all__ = ["KendallStrategy", "kendall_terms"]


def kendall_terms(losses: Tensor, log_vars: Tensor, clamp: tuple[float, float]) -> Tensor:
    """Per-task contributions ``0.5 * exp(-s) * L + 0.5 * s`` (without the regulariser), with
    ``s = inward_clamp(log_vars)``; losses, log_vars and result (n,)."""
    return _terms(losses, inward_clamp(log_vars, clamp))


def _terms(losses: Tensor, s: Tensor) -> Tensor:
    return 0.5 * torch.exp(-s) * losses + 0.5 * s  # (n,)


class KendallStrategy(LossStrategy):
    def __init__(self, task_names: tuple[str, ...], cfg: LossConfig) -> None:
        super().__init__(task_names, cfg)
        self.log_vars = nn.Parameter(torch.zeros(len(self.task_names)))

    def forward(self, losses: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        idx = self.index(losses)
        values = torch.stack(list(losses.values()))  # (n,) tasks present
        log_vars = self.log_vars[idx]  # (n,)
        # once, so the clamp's backward sees the whole objective's gradient
        s = inward_clamp(log_vars, self.cfg.kendall_clamp)  # (n,) bounded value
        total = _terms(values, s).sum() + self.cfg.kendall_reg * s.square().sum()
        weights = (0.5 * torch.exp(-s.detach())).tolist()
        return total, dict(zip(losses, weights, strict=True))
