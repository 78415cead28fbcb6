"""Geographic (raion) source encoders (report 000 §3).

Per raion source: each raion-day's features are embedded (shared feature embedding plus a
learned raion identity), raions attend to each other on the same day with an additive bias
from the distance-based soft adjacency exp(-d / scale) (added to the logits as its log,
-d / scale, with a learnable scale), and the raions are pooled (mask-aware) to one token per
day, which then joins the daily stream like a daily source. All raion sources and all
(batch, day) pairs run as one batched attention.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.utils.checkpoint import checkpoint

from raysearch.core.model_config import ModelDims
from raysearch.core.spec import SourceSpec
from raysearch.model.blocks import GroupedTransformerBlock
from raysearch.model.embedding import ObservationEmbedding

__all__ = [
    "CHUNK_ELEMENTS",
    "WHOLE_CHUNKS",
    "GeographicAdjacency",
    "RaionEncoders",
    "great_circle_km",
]

# attention-map elements (G * chunk * heads * R * R) in each chunk of (b, t) pairs, when the
# batch's maps are more than WHOLE_CHUNKS chunks' worth; up to that, the batch runs whole
CHUNK_ELEMENTS = 1 << 25
WHOLE_CHUNKS = 2


def great_circle_km(coords: tuple[tuple[float, float], ...]) -> Tensor:
    """(R, R) haversine distances in km between (lat, lon) points in degrees."""
    ll = torch.deg2rad(torch.tensor(coords, dtype=torch.float64))  # (R, 2)
    lat, lon = ll[:, 0], ll[:, 1]
    dlat, dlon = lat[:, None] - lat[None], lon[:, None] - lon[None]
    a = torch.sin(dlat / 2) ** 2 + lat.cos()[:, None] * lat.cos()[None] * torch.sin(dlon / 2) ** 2
    return (2 * 6371.0 * torch.asin(a.clamp(0, 1).sqrt())).float()


class GeographicAdjacency(nn.Module):
    """Log soft adjacency -d_ij / scale (R, R) from raion (lat, lon) coordinates in degrees
    (the data contract's); None when the dataset has none. Distances are great-circle km in
    units of the median pairwise distance, so the learnable scale starts at 1 for any map.
    Without coordinates there is no scale either: a parameter outside the graph would get no
    gradient (DDP needs every parameter in every step's graph)."""

    raw_scale: nn.Parameter | None
    dist: Tensor | None

    def __init__(self, coords: tuple[tuple[float, float], ...]) -> None:
        super().__init__()
        if coords:
            self.raw_scale = nn.Parameter(torch.zeros(()))  # scale = softplus(raw) / softplus(0)
            dist = great_circle_km(coords)  # (R, R)
            positive = dist[dist > 0]
            unit = positive.median() if positive.numel() else torch.tensor(1.0)
            self.register_buffer("dist", dist / unit, persistent=False)
        else:
            self.raw_scale = None
            self.dist = None

    def forward(self) -> Tensor | None:
        if self.dist is None or self.raw_scale is None:
            return None
        scale = F.softplus(self.raw_scale) / F.softplus(torch.zeros(()))
        return -self.dist / scale  # (R, R) log of exp(-d / scale)


class RaionEncoders(nn.Module):
    """raion batch {source: {"x","m": (B, T, R, F)}} -> tokens (G, B, T, D), observed (G, B, T)."""

    def __init__(
        self, sources: tuple[SourceSpec, ...], n_raions: int, coords: tuple, dims: ModelDims
    ) -> None:
        super().__init__()
        g, d = len(sources), dims.d_model
        self.names = [s.name for s in sources]
        self.embed = nn.ModuleList(  # unobserved raions are dropped below, so no token
            ObservationEmbedding(s.n_features, d, no_observation_token=False) for s in sources
        )
        self.raion_id = nn.Parameter(torch.randn(g, n_raions, d) * 0.02)
        self.adjacency = GeographicAdjacency(coords)
        self.blocks = nn.ModuleList(  # no dropout per raion-day: it is applied after pooling
            GroupedTransformerBlock(g, d, dims.nhead, dims.ffn_mult, 0.0)
            for _ in range(dims.layers)
        )
        self.drop = nn.Dropout(dims.dropout)
        self.no_observation = nn.Parameter(torch.randn(g, d) * 0.02)
        self.nhead = dims.nhead
        self.chunk_elements = CHUNK_ELEMENTS

    def _attend_raions(self, h: Tensor, observed: Tensor, geo: Tensor) -> Tensor:
        """h (G, N, R, D), observed (G, N, R), geo (R, R) -> (G, N, R, D)."""
        g, n, r, _ = h.shape
        key_ok = observed.reshape(g * n, 1, 1, r)  # unobserved raions are not attended to
        self_ok = torch.eye(r, dtype=torch.bool, device=h.device)  # except by themselves
        # one additive mask for every layer; each row keeps its own raion, so never empty
        mask = geo.to(h.dtype).masked_fill(~(key_ok | self_ok), float("-inf"))  # (GN, 1, R, R)
        for blk in self.blocks:
            h = blk(h, None, mask)  # (G, N, R, D)
        return h

    def _attend_chunk(self, h: Tensor, observed: Tensor, geo: Tensor) -> Tensor:
        if not torch.is_grad_enabled():
            return self._attend_raions(h, observed, geo)
        return checkpoint(self._attend_raions, h, observed, geo, use_reentrant=False)

    def forward(self, raion: dict[str, dict[str, Tensor]]) -> tuple[Tensor, Tensor]:
        toks, obs = zip(
            *(
                emb(raion[n]["x"], raion[n]["m"])
                for n, emb in zip(self.names, self.embed, strict=True)
            ),
            strict=True,
        )
        h = torch.stack(toks)  # (G, B, T, R, D)
        observed = torch.stack(obs)  # (G, B, T, R)
        g, b, t, r, d = h.shape
        h = (h + self.raion_id[:, None, None].to(h.dtype)).view(g, b * t, r, d)  # (G, BT, R, D)
        obs_flat = observed.view(g, b * t, r)  # (G, BT, R)
        geo = self.adjacency()
        geo = torch.zeros(r, r, device=h.device) if geo is None else geo  # (R, R)
        # (b, t) pairs are independent here: at scale (hundreds of raions) run them in chunks,
        # recomputed in the backward pass, so the (R, R) attention maps never all coexist.
        # A batch whose maps fit in two chunks runs whole: recomputing a chunk costs its
        # forward pass again, and a split into one large chunk and a rest saves no memory
        # (small, 24 raions, 16 x 365 pairs, 1.2 chunks: a step took 6.2 CPU s chunked and
        # 2.1 GB, 3.8 s whole and 2.0 GB). Beyond, whole costs memory (large, 2.4 chunks:
        # 17.3 GB whole, 9.7 GB chunked, for 4% less time)
        per_pair = g * self.nhead * r * r
        chunk = max(1, self.chunk_elements // per_pair)
        if b * t * per_pair <= WHOLE_CHUNKS * self.chunk_elements:
            h = self._attend_raions(h, obs_flat, geo)
        else:
            parts = [
                self._attend_chunk(h[:, i : i + chunk], obs_flat[:, i : i + chunk], geo)
                for i in range(0, b * t, chunk)
            ]
            h = torch.cat(parts, dim=1)  # (G, BT, R, D)
        h = h.view(g, b, t, r, d)
        w = observed[..., None].to(h.dtype)  # (G, B, T, R, 1)
        pooled = self.drop((h * w).sum(3) / w.sum(3).clamp(min=1.0))  # (G, B, T, D)
        day_obs = observed.any(dim=-1)  # (G, B, T)
        nobs = self.no_observation[:, None, None].to(h.dtype)
        return torch.where(day_obs[..., None], pooled, nobs), day_obs
