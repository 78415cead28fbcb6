"""Building blocks shared by every stage: grouped linear layers, masked attention, a pre-norm
transformer block, the attention masks (causal, causal window) and sinusoidal positions.

"Grouped" layers hold one weight per group (a source, a raion source) and run all groups in
one batched matmul: an input (G, N, ..., D) is G independent streams with their own weights.
Every attention goes through ``attend``: boolean masks (True = may attend) for
``F.scaled_dot_product_attention``, and a query row with no allowed key returns zeros
instead of NaN.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

__all__ = [
    "CrossAttention",
    "GroupedLayerNorm",
    "GroupedLinear",
    "GroupedTransformerBlock",
    "attend",
    "causal_mask",
    "sinusoid",
    "window_mask",
]


class GroupedLinear(nn.Module):
    """G independent linear maps: (G, ..., in) -> (G, ..., out) in one batched matmul."""

    def __init__(self, groups: int, d_in: int, d_out: int) -> None:
        super().__init__()
        bound = 1.0 / math.sqrt(d_in)
        self.weight = nn.Parameter(torch.empty(groups, d_in, d_out).uniform_(-bound, bound))
        self.bias = nn.Parameter(torch.empty(groups, 1, d_out).uniform_(-bound, bound))

    def forward(self, x: Tensor) -> Tensor:
        g, *mid, d_in = x.shape
        y = torch.baddbmm(self.bias, x.reshape(g, -1, d_in), self.weight)  # (G, N*, out)
        return y.reshape(g, *mid, -1)  # (G, ..., out)


class GroupedLayerNorm(nn.Module):
    """LayerNorm over the last dim with a separate affine per group: (G, ..., D)."""

    def __init__(self, groups: int, d: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(groups, d))
        self.bias = nn.Parameter(torch.zeros(groups, d))

    def forward(self, x: Tensor) -> Tensor:
        shape = (x.shape[0],) + (1,) * (x.dim() - 2) + (x.shape[-1],)
        y = F.layer_norm(x, x.shape[-1:])
        return y * self.weight.view(shape) + self.bias.view(shape)


def attend(
    q: Tensor,
    k: Tensor,
    v: Tensor,
    allowed: Tensor | None,
    bias: Tensor | None = None,
    causal: bool = False,
) -> Tensor:
    """Masked attention: q (N, h, Lq, hd), k/v (N, h, Lk, hd), ``allowed`` (bool, True = may
    attend) broadcastable to (N, h, Lq, Lk); ``bias`` (same broadcast) is added to the logits.
    Rows with no allowed key produce zeros, never NaN. ``allowed=None`` means the caller
    already folded its mask into ``bias`` (-inf where not allowed) and every row keeps a key.
    ``causal=True`` with neither mask nor bias is the plain causal mask, handed to the fused
    kernels as ``is_causal``. Attention probabilities are not dropped out (dropout acts on
    the residual branches).
    """
    if allowed is None:
        if causal and bias is None:
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
    has_key = allowed.any(dim=-1, keepdim=True)  # (.., Lq, 1)
    safe = allowed | ~has_key  # an empty row attends everywhere, then is zeroed
    mask: Tensor = safe
    if bias is not None:
        mask = bias.to(q.dtype).masked_fill(~safe, float("-inf"))
    out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask)
    return out.masked_fill(~has_key, 0.0)  # (N, h, Lq, hd)


def causal_mask(length: int, device: torch.device | None = None) -> Tensor:
    """(L, L) bool: position i may attend to j <= i."""
    return torch.ones(length, length, dtype=torch.bool, device=device).tril()


def window_mask(length: int, window: int, device: torch.device | None = None) -> Tensor:
    """(L, L) bool: position i may attend to i - window < j <= i (local causal window)."""
    idx = torch.arange(length, device=device)
    lag = idx[:, None] - idx[None, :]
    return (lag >= 0) & (lag < window)


def sinusoid(length: int, d: int, device: torch.device | None = None) -> Tensor:
    """(L, D) fixed sinusoidal position encoding (Vaswani et al.)."""
    pos = torch.arange(length, device=device, dtype=torch.float32)[:, None]
    freq = torch.exp(
        torch.arange(0, d, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / d)
    )
    pe = torch.zeros(length, d, device=device)
    pe[:, 0::2] = torch.sin(pos * freq)
    pe[:, 1::2] = torch.cos(pos * freq)[:, : d // 2]
    return pe


class GroupedTransformerBlock(nn.Module):
    """Pre-norm self-attention + feed-forward block with per-group weights.

    x (G, N, L, D); ``allowed`` and ``bias`` as in ``attend``, broadcastable to (G*N, h, L, L).
    """

    def __init__(self, groups: int, d: int, nhead: int, ffn_mult: int, dropout: float) -> None:
        super().__init__()
        self.nhead = nhead
        self.ln1 = GroupedLayerNorm(groups, d)
        self.qkv = GroupedLinear(groups, d, 3 * d)
        self.proj = GroupedLinear(groups, d, d)
        self.ln2 = GroupedLayerNorm(groups, d)
        self.ff1 = GroupedLinear(groups, d, ffn_mult * d)
        self.ff2 = GroupedLinear(groups, ffn_mult * d, d)
        self.drop = nn.Dropout(dropout)

    def forward(
        self, x: Tensor, allowed: Tensor | None, bias: Tensor | None = None, causal: bool = False
    ) -> Tensor:
        g, n, length, d = x.shape
        h = self.nhead
        qkv = self.qkv(self.ln1(x))  # (G, N, L, 3D)
        qkv = qkv.view(g * n, length, 3, h, d // h).permute(2, 0, 3, 1, 4)  # (3, GN, h, L, hd)
        q, k, v = qkv.unbind(0)  # unbind, not indexing: one gradient buffer, not three
        y = attend(q, k, v, allowed, bias, causal)  # (GN, h, L, hd)
        y = y.transpose(1, 2).reshape(g, n, length, d)  # (G, N, L, D)
        x = x + self.drop(self.proj(y))
        x = x + self.drop(self.ff2(F.gelu(self.ff1(self.ln2(x)))))
        return x  # (G, N, L, D)


class CrossAttention(nn.Module):
    """Pre-norm cross-attention with residual: queries (N, Lq, D) attend to keys (N, Lk, D).

    ``allowed`` is broadcastable to (N, h, Lq, Lk). A learned null key/value is always
    attendable, so a query with no allowed key reads the null value instead of NaN.
    """

    def __init__(self, d: int, nhead: int, dropout: float) -> None:
        super().__init__()
        self.nhead = nhead
        self.ln_q, self.ln_kv = nn.LayerNorm(d), nn.LayerNorm(d)
        self.q = nn.Linear(d, d)
        self.kv = nn.Linear(d, 2 * d)
        self.null_kv = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.proj = nn.Linear(d, d)
        self.drop = nn.Dropout(dropout)

    def forward(self, query: Tensor, keys: Tensor, allowed: Tensor) -> Tensor:
        n, lq, d = query.shape
        h = self.nhead
        keys = torch.cat([self.null_kv.expand(n, 1, d).to(keys.dtype), keys], 1)  # (N, 1+Lk, D)
        lk = keys.shape[1]
        q = self.q(self.ln_q(query)).view(n, lq, h, d // h).transpose(1, 2)  # (N, h, Lq, hd)
        kv = self.kv(self.ln_kv(keys)).view(n, lk, 2, h, d // h).permute(2, 0, 3, 1, 4)
        allowed = allowed.expand(*allowed.shape[:-1], lk - 1)
        null_ok = torch.ones_like(allowed[..., :1])
        allowed = torch.cat([null_ok, allowed], -1)  # (.., Lq, 1+Lk)
        k, v = kv.unbind(0)
        y = attend(q, k, v, allowed)  # (N, h, Lq, hd)
        y = y.transpose(1, 2).reshape(n, lq, d)  # (N, Lq, D)
        return query + self.drop(self.proj(y))
