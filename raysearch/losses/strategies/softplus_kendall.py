"""``softplus_kendall``: Kendall weighting that is never negative (report 000 §18.2.B).

    L = sum_i [exp(-c_i) * L_i + c_i],   c_i = softplus(raw_i) >= 0

Each term is >= 0 whenever ``L_i >= 0`` (both summands are), so the objective is too. The
raw parameters start at 0 (``c_i = log 2``); the reported weight is ``exp(-c_i)`` in (0, 1].
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from raysearch.core.loss_config import LossConfig
from raysearch.losses.strategies.base import LossStrategy

__all__ = ["SoftplusKendallStrategy"]


class SoftplusKendallStrategy(LossStrategy):
    def __init__(self, task_names: tuple[str, ...], cfg: LossConfig) -> None:
        super().__init__(task_names, cfg)
        self.raw_scales = nn.Parameter(torch.zeros(len(self.task_names)))

    def forward(self, losses: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        idx = self.index(losses)
        values = torch.stack(list(losses.values()))
        scale = F.softplus(self.raw_scales[idx])
        total = (torch.exp(-scale) * values + scale).sum()
        weights = torch.exp(-scale.detach()).tolist()
        return total, dict(zip(losses, weights, strict=True))
