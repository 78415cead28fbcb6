"""Multi-scale causal convolutions (report 000 §2, steps 2 and 2.5).

Depthwise causal convolutions at several kernel sizes (left padding only, so output t sees
inputs <= t), mixed pointwise and normalised per timestep. Report 000 normalised with
GroupNorm, whose statistics span the whole sequence and so leak the future into the past;
a per-timestep LayerNorm keeps the stage causal.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = ["MultiScaleCausalConv"]


class MultiScaleCausalConv(nn.Module):
    """(N, T, D) -> (N, T, D): sum over kernel sizes of depthwise causal convs, then mix."""

    def __init__(self, d: int, kernels: tuple[int, ...]) -> None:
        super().__init__()
        self.kernels = kernels
        self.convs = nn.ModuleList(nn.Conv1d(d, d, k, groups=d) for k in kernels)
        self.mix = nn.Linear(d * len(kernels), d)
        self.norm = nn.LayerNorm(d)

    def forward(self, x: Tensor) -> Tensor:
        xt = x.transpose(1, 2)  # (N, D, T)
        scales = [
            conv(F.pad(xt, (k - 1, 0))) for k, conv in zip(self.kernels, self.convs, strict=True)
        ]
        y = torch.cat(scales, dim=1).transpose(1, 2)  # (N, T, D * n_kernels)
        return self.norm(F.gelu(self.mix(y)))  # (N, T, D)
