"""Step 1: daily source encoders (report 000 §2 step 1).

Each daily source is embedded (``ObservationEmbedding``); the raion sources arrive as one
pooled token per day from ``RaionEncoders`` and are encoded here like daily sources. All S
sources then run through causal self-attention with their own weights, batched as groups.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from raysearch.core.model_config import ModelDims
from raysearch.core.spec import SourceSpec
from raysearch.model.blocks import GroupedTransformerBlock, sinusoid
from raysearch.model.embedding import ObservationEmbedding

__all__ = ["DailySourceEncoders"]


class DailySourceEncoders(nn.Module):
    """daily batch (+ raion tokens) -> per-source hidden (S, B, T, D) and observed (S, B, T)."""

    def __init__(self, sources: tuple[SourceSpec, ...], n_raion_sources: int, dims: ModelDims):
        super().__init__()
        d = dims.d_model
        self.names = [s.name for s in sources]
        self.embed = nn.ModuleList(ObservationEmbedding(s.n_features, d) for s in sources)
        groups = len(sources) + n_raion_sources
        self.blocks = nn.ModuleList(
            GroupedTransformerBlock(groups, d, dims.nhead, dims.ffn_mult, dims.dropout)
            for _ in range(dims.layers)
        )

    def forward(
        self,
        daily: dict[str, dict[str, Tensor]],
        raion_tokens: Tensor | None = None,
        raion_observed: Tensor | None = None,
    ) -> tuple[Tensor, Tensor]:
        toks, obs = [], []
        for name, emb in zip(self.names, self.embed, strict=True):
            tok, o = emb(daily[name]["x"], daily[name]["m"])  # (B, T, D), (B, T)
            toks.append(tok)
            obs.append(o)
        h = torch.stack(toks) if toks else None  # (Sd, B, T, D)
        observed = torch.stack(obs) if obs else None  # (Sd, B, T)
        if raion_tokens is not None and raion_observed is not None:
            h = raion_tokens if h is None else torch.cat([h, raion_tokens.to(h.dtype)])
            observed = raion_observed if observed is None else torch.cat([observed, raion_observed])
        assert h is not None and observed is not None, "model built without daily-rate sources"
        t, d = h.shape[2], h.shape[3]
        h = h + sinusoid(t, d, h.device).to(h.dtype)  # (S, B, T, D)
        for blk in self.blocks:
            h = blk(h, None, causal=True)  # (S, B, T, D), causal self-attention
        return h, observed
