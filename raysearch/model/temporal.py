"""Steps 2.5 and 6: the daily temporal encoder and the causal (monthly) temporal encoder.

Daily (report 000 §2 step 2.5): calendar + sinusoidal positions, multi-scale causal convolutions
(3, 7, 14, 28 days) blended into the stream by a learned gate, then local causal attention
over a ~1-month window. Monthly (step 6): a causal transformer over the month slots.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from raysearch.core.model_config import ModelDims
from raysearch.model.blocks import GroupedTransformerBlock, sinusoid, window_mask
from raysearch.model.conv import MultiScaleCausalConv

__all__ = ["CausalTemporalEncoder", "DailyTemporalEncoder"]

DAILY_KERNELS = (3, 7, 14, 28)
ATTENTION_WINDOW = 31  # days


def _blocks(dims: ModelDims) -> nn.ModuleList:
    return nn.ModuleList(
        GroupedTransformerBlock(1, dims.d_model, dims.nhead, dims.ffn_mult, dims.dropout)
        for _ in range(dims.layers)
    )


class DailyTemporalEncoder(nn.Module):
    """(B, T, D) fused daily stream + calendar (B, T, D) -> (B, T, D), causal."""

    def __init__(self, dims: ModelDims, window: int = ATTENTION_WINDOW) -> None:
        super().__init__()
        d = dims.d_model
        self.window = window
        self.conv = MultiScaleCausalConv(d, DAILY_KERNELS)
        self.gate = nn.Linear(2 * d, d)
        self.blocks = _blocks(dims)

    def forward(self, x: Tensor, calendar: Tensor) -> Tensor:
        _, t, d = x.shape
        x = x + calendar.to(x.dtype) + sinusoid(t, d, x.device).to(x.dtype)  # (B, T, D)
        ms = self.conv(x)  # (B, T, D) multi-scale view of the past
        g = torch.sigmoid(self.gate(torch.cat([x, ms], dim=-1)))  # (B, T, D)
        x = g * ms + (1.0 - g) * x
        allowed = window_mask(t, self.window, x.device)  # (T, T)
        h = x[None]  # (1, B, T, D)
        for blk in self.blocks:
            h = blk(h, allowed)
        return h[0]  # (B, T, D)


class CausalTemporalEncoder(nn.Module):
    """(B, M, D) month slots -> (B, M, D); slot j sees slots <= j only."""

    def __init__(self, dims: ModelDims) -> None:
        super().__init__()
        self.blocks = _blocks(dims)

    def forward(self, x: Tensor) -> Tensor:
        _, m, d = x.shape
        h = (x + sinusoid(m, d, x.device).to(x.dtype))[None]  # (1, B, M, D)
        for blk in self.blocks:
            h = blk(h, None, causal=True)  # slot j attends to slots <= j
        return h[0]  # (B, M, D)
