"""Step 3: learnable monthly aggregation (report 000 §2 step 3).

Not an average: one learned query per month slot cross-attends to the days of ITS OWN month
only (``day_month`` gives each day's slot). The anchor's month (slot M-1) therefore sees its
days up to the anchor, which is all the window holds. A slot with no day in the window reads
the learned null key of ``CrossAttention`` and stays finite.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from raysearch.core.model_config import ModelDims
from raysearch.model.blocks import CrossAttention

__all__ = ["MonthlyAggregation"]


class MonthlyAggregation(nn.Module):
    """daily (B, T, D), day_month (B, T) long -> month slots (B, M, D)."""

    def __init__(self, n_months: int, dims: ModelDims) -> None:
        super().__init__()
        d = dims.d_model
        self.queries = nn.Parameter(torch.randn(n_months, d) * 0.02)
        self.attn = CrossAttention(d, dims.nhead, dims.dropout)
        self.norm = nn.LayerNorm(d)
        self.ff1 = nn.Linear(d, dims.ffn_mult * d)
        self.ff2 = nn.Linear(dims.ffn_mult * d, d)
        self.drop = nn.Dropout(dims.dropout)

    def forward(self, daily: Tensor, day_month: Tensor) -> Tensor:
        b = daily.shape[0]
        m = self.queries.shape[0]
        q = self.queries[None].expand(b, m, -1).to(daily.dtype)  # (B, M, D)
        slots = torch.arange(m, device=daily.device)
        allowed = (day_month[:, None, :] == slots[None, :, None])[:, None]  # (B, 1, M, T)
        x = self.attn(q, daily, allowed)  # (B, M, D)
        return x + self.drop(self.ff2(F.gelu(self.ff1(self.norm(x)))))  # (B, M, D)
