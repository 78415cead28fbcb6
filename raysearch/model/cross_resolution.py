"""Step 5: bidirectional cross-resolution fusion with gating (report 000 §2 step 5).

The aggregated daily stream attends to the monthly sources (coarser context) and the monthly
stream attends to the aggregated daily one (finer detail), both causally over month slots
(slot j reads slots <= j). A learned per-channel gate blends the two directions.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from raysearch.core.model_config import ModelDims
from raysearch.model.blocks import CrossAttention, causal_mask

__all__ = ["CrossResolutionFusion"]


class CrossResolutionFusion(nn.Module):
    """aggregated daily (B, M, D), monthly (B, M, D) -> fused month slots (B, M, D)."""

    def __init__(self, dims: ModelDims) -> None:
        super().__init__()
        d, h, p = dims.d_model, dims.nhead, dims.dropout
        self.daily_to_monthly = nn.ModuleList(CrossAttention(d, h, p) for _ in range(dims.layers))
        self.monthly_to_daily = nn.ModuleList(CrossAttention(d, h, p) for _ in range(dims.layers))
        self.gate = nn.Linear(2 * d, d)

    def forward(self, daily: Tensor, monthly: Tensor) -> Tensor:
        allowed = causal_mask(daily.shape[1], daily.device)  # (M, M)
        monthly = monthly.to(daily.dtype)
        for d2m, m2d in zip(self.daily_to_monthly, self.monthly_to_daily, strict=True):
            daily, monthly = d2m(daily, monthly, allowed), m2d(monthly, daily, allowed)
        g = torch.sigmoid(self.gate(torch.cat([daily, monthly], dim=-1)))  # (B, M, D)
        return g * daily + (1.0 - g) * monthly  # (B, M, D)
