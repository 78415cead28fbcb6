"""Step 7: the prediction heads.

Every head reads the last month slot h (B, D); the daily forecast also reads the last day's
latent. Outputs follow spec.py's MODEL OUTPUT layout:

    CLASSIFICATION (B, n_classes)   BINARY (B,)   COUNT (B, 3) [pi_logit, log_mu, log_theta]
    REGRESSION (B,)   FORECAST (B, F_month)   DAILY_FORECAST (B, H, F_day)

The daily forecast is report 000 §18.2.A's ``LatentStatePredictor``: a GRU cell rolls the
latent state H days forward and a low-rank decoder maps each latent to the F_day features
(a few tens of thousands of parameters instead of the original's 4.4M-parameter head).
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

from raysearch.core.spec import TaskKind, TaskSpec

__all__ = ["LatentStatePredictor", "TaskHead", "build_head", "zinb_moments"]

DECODER_RANK = 16


def zinb_moments(params: Tensor) -> tuple[Tensor, Tensor]:
    """Mean and variance of the casualty head's ZINB [pi_logit, log_mu, log_theta] (B, 3):
    E = (1 - pi) mu,  Var = (1 - pi) mu (1 + mu / theta + pi mu)."""
    pi = torch.sigmoid(params[..., 0])
    mu, theta = params[..., 1].exp(), params[..., 2].exp()
    mean = (1.0 - pi) * mu
    return mean, mean * (1.0 + mu / theta + pi * mu)


def _mlp(d: int, out: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.Linear(d, d), nn.GELU(), nn.Dropout(dropout), nn.Linear(d, out))


class TaskHead(nn.Module):
    """A monthly head: h (B, D) -> (B, n_out), or (B,) when ``squeeze``."""

    def __init__(self, d: int, n_out: int, dropout: float, squeeze: bool = False) -> None:
        super().__init__()
        self.net = _mlp(d, n_out, dropout)
        self.squeeze = squeeze

    def forward(self, h: Tensor, last_day: Tensor) -> Tensor:
        y = self.net(h)  # (B, n_out)
        return y.squeeze(-1) if self.squeeze else y


class LatentStatePredictor(nn.Module):
    """h (B, D), last day latent (B, D) -> (B, H, F_day) via H latent steps + low-rank decoder."""

    def __init__(self, d: int, horizon: int, n_features: int, rank: int = DECODER_RANK) -> None:
        super().__init__()
        self.init = nn.Linear(2 * d, d)
        self.step = nn.Parameter(torch.randn(horizon, d) * 0.02)  # which day ahead
        self.cell = nn.GRUCell(d, d)
        self.down = nn.Linear(d, min(rank, d), bias=False)
        self.up = nn.Linear(min(rank, d), n_features)

    def forward(self, h: Tensor, last_day: Tensor) -> Tensor:
        state = torch.tanh(self.init(torch.cat([h, last_day], dim=-1)))  # (B, D)
        latents = []
        for k in range(self.step.shape[0]):
            step = self.step[k].expand_as(state).to(state.dtype)
            state = self.cell(step, state)  # (B, D)
            latents.append(state)
        z = torch.stack(latents, dim=1)  # (B, H, D)
        return self.up(self.down(z))  # (B, H, F_day)


def build_head(task: TaskSpec, d: int, dropout: float) -> nn.Module:
    """The head for one task, by kind (spec.py's output layout)."""
    kind = TaskKind(task.kind)
    if kind is TaskKind.DAILY_FORECAST:
        return LatentStatePredictor(d, task.horizon, task.n_outputs)
    if kind in (TaskKind.CLASSIFICATION, TaskKind.FORECAST):
        return TaskHead(d, task.n_outputs, dropout)
    if kind is TaskKind.COUNT:
        return TaskHead(d, 3, dropout)
    return TaskHead(d, 1, dropout, squeeze=True)  # BINARY, REGRESSION
