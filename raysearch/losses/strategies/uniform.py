"""``uniform``: the mean of the task losses present in the batch."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import Tensor

from raysearch.losses.strategies.base import LossStrategy

__all__ = ["UniformStrategy"]


class UniformStrategy(LossStrategy):
    """``L = (1/n) * sum_i L_i`` over the n tasks present; each weight is 1/n."""

    def forward(self, losses: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        self.index(losses)
        n = len(losses)
        total = torch.stack(list(losses.values())).sum() / n
        return total, dict.fromkeys(losses, 1.0 / n)
