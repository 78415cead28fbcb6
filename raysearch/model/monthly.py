"""Step 4: monthly source encoders (report 000 §2 step 4).

Each monthly source is embedded per feature with its own masks (the anchor's month arrives
fully masked and becomes the no-observation token), encoded by a causal transformer with
per-source weights (all sources batched as groups), and the sources are mixed per month by
a learned softmax gate.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from raysearch.core.model_config import ModelDims
from raysearch.core.spec import SourceSpec
from raysearch.model.blocks import GroupedTransformerBlock, sinusoid
from raysearch.model.embedding import ObservationEmbedding

__all__ = ["MonthlySourceEncoders"]


class MonthlySourceEncoders(nn.Module):
    """monthly batch {source: {"x","m": (B, M, F)}} -> (B, M, D)."""

    def __init__(self, sources: tuple[SourceSpec, ...], dims: ModelDims) -> None:
        super().__init__()
        d, g = dims.d_model, len(sources)
        self.names = [s.name for s in sources]
        self.embed = nn.ModuleList(ObservationEmbedding(s.n_features, d) for s in sources)
        self.source_type = nn.Parameter(torch.randn(g, 1, 1, d) * 0.02)
        self.blocks = nn.ModuleList(
            GroupedTransformerBlock(g, d, dims.nhead, dims.ffn_mult, dims.dropout)
            for _ in range(dims.layers)
        )
        self.score = nn.Linear(d, 1, bias=False)  # a shared bias cancels in the softmax

    def forward(self, monthly: dict[str, dict[str, Tensor]]) -> Tensor:
        toks = [
            emb(monthly[n]["x"], monthly[n]["m"])[0]
            for n, emb in zip(self.names, self.embed, strict=True)
        ]
        h = torch.stack(toks)  # (G, B, M, D)
        m, d = h.shape[2], h.shape[3]
        h = h + self.source_type.to(h.dtype) + sinusoid(m, d, h.device).to(h.dtype)
        for blk in self.blocks:
            h = blk(h, None, causal=True)  # (G, B, M, D), causal over month slots
        w = torch.softmax(self.score(h), dim=0)  # (G, B, M, 1)
        return (w * h).sum(0)  # (B, M, D)
