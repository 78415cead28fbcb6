"""A clamp that bounds a value but still passes the gradient that points back inside.

A plain ``clamp(x, lo, hi)`` has gradient 0 outside ``[lo, hi]``: a parameter or a
network output that drifts past a bound gets no signal back and stays there. A
straight-through clamp (the identity's gradient everywhere) brings it back, but while the
loss keeps pushing outward it drives ``x`` ever further past the bound, and it takes as
many steps to come back. ``inward_clamp`` passes the gradient only where a descent step
moves ``x`` back toward ``[lo, hi]``, so its value is the plain clamp's and, inside the
bounds, so is its gradient.

Used by the ZINB likelihood (``zinb``: its ``log_mu`` and ``log_theta``) and by the
``kendall`` loss strategy (its log-variances).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

__all__ = ["inward_clamp"]


class _InwardClamp(torch.autograd.Function):
    @staticmethod
    def forward(ctx: Any, x: Tensor, lo: float, hi: float) -> Tensor:
        ctx.save_for_backward(x)
        ctx.bounds = (lo, hi)
        return x.clamp(lo, hi)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor, None, None]:
        (x,) = ctx.saved_tensors
        lo, hi = ctx.bounds
        # a descent step moves x by -grad: back toward [lo, hi] above hi when grad > 0,
        # below lo when grad < 0
        passes = ((x >= lo) & (x <= hi)) | ((x > hi) & (grad > 0)) | ((x < lo) & (grad < 0))
        return torch.where(passes, grad, torch.zeros_like(grad)), None, None


def inward_clamp(x: Tensor, clamp: tuple[float, float]) -> Tensor:
    """``clamp(x, lo, hi)`` in value; in gradient the identity inside ``[lo, hi]``, and
    outside it only where a descent step moves ``x`` back toward it (0 where it would move
    it further out). Same shape as ``x``."""
    out: Tensor = _InwardClamp.apply(x, clamp[0], clamp[1])
    return out
