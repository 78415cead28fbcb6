"""Step 2: daily cross-source fusion with the temporal source gate (report 000 §2 step 2).

On each day the S source tokens (plus a learned source-type embedding) attend to each other
(a source unobserved that day is not attended to, except by itself). A temporal source gate
then scores every source per day from multi-scale causal convolutions over its own recent
history plus the calendar (day of week, month), and the day's fused token is the
temperature-scaled softmax mixture of the sources. The mixture takes every source, an
unobserved one too: its token that day is its no-observation embedding with what it saw of
the others and of its own past through the convolutions, never a masked value, and the gate
learns how much such a day is worth. (Masking its gate weight instead is a model change that
every recorded curve and result would have to be run again for.)
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from raysearch.core.model_config import ModelDims
from raysearch.model.blocks import GroupedTransformerBlock
from raysearch.model.conv import MultiScaleCausalConv

__all__ = ["DailyCrossSourceFusion", "TemporalSourceGate"]

GATE_KERNELS = (3, 7, 14)


class TemporalSourceGate(nn.Module):
    """(S, B, T, D) source streams + calendar (B, T, D) -> mixture weights (S, B, T)."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.conv = MultiScaleCausalConv(d, GATE_KERNELS)
        self.score = nn.Linear(d, 1, bias=False)  # a shared bias cancels in the softmax
        self.log_temperature = nn.Parameter(torch.zeros(()))

    def forward(self, h: Tensor, calendar: Tensor) -> Tensor:
        s, b, t, d = h.shape
        x = (h + calendar.to(h.dtype)).reshape(s * b, t, d)  # (SB, T, D)
        logits = self.score(self.conv(x)).view(s, b, t)  # (S, B, T)
        return torch.softmax(logits / self.log_temperature.exp(), dim=0)


class DailyCrossSourceFusion(nn.Module):
    """(S, B, T, D), observed (S, B, T), calendar (B, T, D) -> fused daily stream (B, T, D)."""

    def __init__(self, n_sources: int, dims: ModelDims) -> None:
        super().__init__()
        d = dims.d_model
        self.source_type = nn.Parameter(torch.randn(n_sources, 1, 1, d) * 0.02)
        self.blocks = nn.ModuleList(
            GroupedTransformerBlock(1, d, dims.nhead, dims.ffn_mult, dims.dropout)
            for _ in range(dims.layers)
        )
        self.gate = TemporalSourceGate(d)

    def forward(self, h: Tensor, observed: Tensor, calendar: Tensor) -> Tensor:
        s, b, t, d = h.shape
        h = h + self.source_type.to(h.dtype)  # (S, B, T, D)
        x = h.permute(1, 2, 0, 3).reshape(1, b * t, s, d)  # (1, BT, S, D): sources as tokens
        key_ok = observed.permute(1, 2, 0).reshape(b * t, 1, 1, s)  # (BT, 1, 1, S)
        allowed = key_ok | torch.eye(s, dtype=torch.bool, device=h.device)  # (BT, 1, S, S)
        for blk in self.blocks:
            x = blk(x, allowed)  # (1, BT, S, D)
        h = x.view(b, t, s, d).permute(2, 0, 1, 3)  # (S, B, T, D)
        w = self.gate(h, calendar)  # (S, B, T)
        return (w[..., None].to(h.dtype) * h).sum(0)  # (B, T, D)
