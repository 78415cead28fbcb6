"""Observation embedding: from (values, per-feature masks) to one token per timestep.

Report 000 §2 step 1's input side, with report 002's bug impossible by construction:

1. every masked value is replaced by 0 before any arithmetic (so -999, NaN or 1e9 in a
   masked position never reach a layer nor a gradient);
2. extreme values are log-compressed (|x| > 10 -> 10 + log1p(|x| - 10), sign kept);
3. each feature f contributes x_f * w_f + e[m_f, f]: a value projection plus a feature
   embedding per observation status (observed / unobserved), chosen by the feature's OWN
   mask bit. The masks stay per feature: the sum over features is matmuls against the
   (..., F) masks, never a reduced-then-re-expanded timestep mask;
4. a timestep with no observed feature gets the learned no-observation token (or, with
   ``no_observation_token=False``, zeros: for callers that drop such positions themselves,
   like the raion encoder, so no parameter is left without a gradient).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor, nn

__all__ = ["CalendarEmbedding", "ObservationEmbedding", "log_compress"]

COMPRESS_ABOVE = 10.0


def log_compress(x: Tensor, threshold: float = COMPRESS_ABOVE) -> Tensor:
    """Identity for |x| <= threshold, logarithmic beyond (sign kept); finite for finite x."""
    excess = (x.abs() - threshold).clamp(min=0.0)
    return torch.where(x.abs() <= threshold, x, x.sign() * (threshold + torch.log1p(excess)))


class ObservationEmbedding(nn.Module):
    """(x, m) of shape (..., F) -> tokens (..., D) and "any feature observed" (...) bool."""

    def __init__(self, n_features: int, d: int, no_observation_token: bool = True) -> None:
        super().__init__()
        self.n_features = n_features
        self.value = nn.Parameter(torch.randn(n_features, d) / math.sqrt(n_features))
        self.status = nn.Parameter(torch.randn(2, n_features, d) * 0.02)  # [unobserved, observed]
        self.norm = nn.LayerNorm(d)
        self.proj = nn.Linear(d, d)
        self.no_observation = nn.Parameter(torch.randn(d) * 0.02) if no_observation_token else None

    def forward(self, x: Tensor, m: Tensor) -> tuple[Tensor, Tensor]:
        m = m.bool()
        x = torch.where(m, x, torch.zeros((), dtype=x.dtype, device=x.device))  # before anything
        x = log_compress(x)
        mf = m.to(self.value.dtype)
        # sum_f [x_f w_f + e[m_f, f]] / sqrt(F), as matmuls over the per-feature masks
        z = x @ self.value + mf @ self.status[1] + (1.0 - mf) @ self.status[0]  # (..., D)
        z = z / math.sqrt(self.n_features)
        tok = self.proj(self.norm(z))  # (..., D)
        observed = m.any(dim=-1)  # (...) a timestep flag only; features keep their own bits
        fill = torch.zeros((), dtype=tok.dtype, device=tok.device)
        if self.no_observation is not None:
            fill = self.no_observation.to(tok.dtype)
        tok = torch.where(observed[..., None], tok, fill)
        return tok, observed


class CalendarEmbedding(nn.Module):
    """calendar (B, T, 2) long [day of week 0..6, month of year 0..11] -> (B, T, D)."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.dow = nn.Embedding(7, d)
        self.moy = nn.Embedding(12, d)
        nn.init.normal_(self.dow.weight, std=0.02)
        nn.init.normal_(self.moy.weight, std=0.02)

    def forward(self, calendar: Tensor) -> Tensor:
        return self.dow(calendar[..., 0]) + self.moy(calendar[..., 1])
