"""``a3dro``: budgeted, anchored distributionally robust weighting (report 000 §19).

Baselines. During the first ``a3dro_warmup_epochs`` epochs ``end_epoch`` accumulates each
task's epoch-mean training loss; when warm-up ends, ``b_i`` is the mean of those epoch means
and freezes (buffers, saved in ``state_dict``). Epoch means rather than a batch median: the
trainer all-reduces them, so every data-parallel rank freezes the same baselines.

Weights (after warm-up; uniform before)::

    r_i  = clamp(log L_i - log b_i, -c, c)        c = regret_clip
    q    = softmax(r / lambda)                    lambda = temperature (uniform prior)
    q_b  = (1 - beta) * q + beta / n              beta = budget_beta, n = tasks present

A task's weight is at most ``(1 - beta) + beta / n`` (q_i -> 1 for one task): mixing with
uniform adds ``beta/n`` to every weight, so the cap is not ``1 - beta`` as report 000 states.
The weights are detached (standard DRO practice: the adversary's distribution is chosen,
not differentiated through).

Objective: ``sum_i q_b_i * L_i / b_i``, each task's loss as a ratio to its baseline. A
task's gradient is ``q_b_i * grad(L_i) / b_i``: its weight is its share of the gradient of
the anchored losses, which is what the budget caps (report 000: no task beyond its share of
the gradient budget). Multiplying one task's loss by a constant ``k`` throughout training
(so its baseline is ``k * b_i`` too) leaves the regrets, the weights, the objective and every
gradient unchanged, which is the point of anchoring.

Not ``sum_i q_b_i * log(L_i / b_i)``, the log form (report 000's, whose negative totals it
shows, and raysearch's earlier one). There a task's gradient is ``q_b_i * grad(L_i) / L_i``,
and the ``1 / L_i`` undoes the weights: at temperature 1 and within the clip ``q_i`` is
proportional to ``L_i / b_i``, so every task's gradient is ``grad(L_i) / b_i`` times one
shared factor, whatever its regret; beyond the clip a task far below its baseline gets more
gradient than one far above it; and a loss that is already small is pushed towards 0
without bound (its ``1 / L_i`` grows), the collapse report 000 shows.

The ratio is of the unclipped loss, so a task beyond the clip still gets gradient (the clip
bounds the weights, not the signal). The objective is >= 0, and 1 where every task is at its
baseline. Before the baselines freeze, ``b_i`` is provisionally the mean of the task's
losses seen so far, this call's included (detached, as the weights are; all scaled by
``k``), so the invariance holds during warm-up too: a mean, not the first loss seen, whose
one batch would set the task's share of the gradient for the whole warm-up (a first loss of
1e-6, then 0.5: a gradient 5e5 times the other tasks'). A task with no warm-up epoch loss
keeps that mean as its frozen baseline; a task first seen after warm-up ends (no targets in
any warm-up batch) takes the first loss seen then, at that call (before it, ``b_i = 0``
would pin its regret at ``+c`` whatever its loss). A state saved before ``seen`` was kept
loads with one loss seen per task it had seen.
Under data parallelism the strategy sees the global batch's per-task means
(train.epoch.global_view), so the running means, like the epoch means, are the same on
every rank.
``log`` is taken of ``max(L_i, 1e-12)`` and ``b_i`` is at least 1e-12: scale invariance is
exact whenever losses exceed it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import torch
from torch import Tensor, nn

from raysearch.core.loss_config import LossConfig
from raysearch.losses.strategies.base import LossStrategy

__all__ = ["A3DROStrategy", "a3dro_weights", "weight_cap"]

_EPS = 1e-12


def weight_cap(beta: float, n: int) -> float:
    """The largest weight budgeted A3DRO can give one of ``n`` tasks: ``(1-beta) + beta/n``."""
    return (1.0 - beta) + beta / n


def a3dro_weights(regrets: Tensor, temperature: float, beta: float) -> Tensor:
    """``(1-beta) * softmax(regrets / temperature) + beta / n`` (regrets (n,), already clipped).

    The regrets are shifted by their max before the division (softmax is shift-invariant):
    ``regrets / temperature`` overflows to inf for a tiny accepted temperature (3.0 / 1e-39 in
    float32) and ``softmax`` of inf is NaN; shifted, the largest is 0 and the rest at most 0
    (-inf gives weight 0), so tied maxima still share.
    """
    q = torch.softmax((regrets - regrets.max()) / temperature, dim=0)  # (n,)
    return (1.0 - beta) * q + beta / regrets.numel()


def _seen_once_where_missing(
    module: nn.Module, state_dict: dict[str, Any], prefix: str, *_: Any
) -> None:
    """``load_state_dict``'s pre-hook: a state saved before ``seen`` was kept (its
    ``provisional`` then the first loss seen) counts one loss for each task it had seen."""
    if prefix + "seen" not in state_dict and prefix + "provisional" in state_dict:
        state_dict[prefix + "seen"] = (state_dict[prefix + "provisional"] > 0).double()


class A3DROStrategy(LossStrategy):
    # buffers (register_buffer below): saved in the state dict, moved with the module
    baseline: Tensor
    provisional: Tensor
    seen: Tensor
    warm_sum: Tensor
    warm_count: Tensor
    frozen: Tensor

    def __init__(self, task_names: tuple[str, ...], cfg: LossConfig) -> None:
        super().__init__(task_names, cfg)
        n = len(self.task_names)
        self.register_buffer("baseline", torch.zeros(n, dtype=torch.float64))
        self.register_buffer("provisional", torch.zeros(n, dtype=torch.float64))
        self.register_buffer("seen", torch.zeros(n, dtype=torch.float64))  # losses per task
        self.register_buffer("warm_sum", torch.zeros(n, dtype=torch.float64))
        self.register_buffer("warm_count", torch.zeros(n, dtype=torch.float64))
        self.register_buffer("frozen", torch.zeros((), dtype=torch.bool))
        self.last_regrets: dict[str, float] = {}
        self.register_load_state_dict_pre_hook(_seen_once_where_missing)

    def forward(self, losses: Mapping[str, Tensor]) -> tuple[Tensor, dict[str, float]]:
        idx = self.index(losses)
        values = torch.stack(list(losses.values()))  # (n,) tasks present
        log_l = values.detach().clamp_min(_EPS).log()  # (n,) for the regrets only
        with torch.no_grad():  # every call: the running mean of each task's losses
            loss = values.detach().clamp_min(_EPS).to(self.provisional.dtype)
            self.seen[idx] += 1
            self.provisional[idx] += (loss - self.provisional[idx]) / self.seen[idx]
            if bool(self.frozen):  # a task first seen after the freeze takes its first loss
                late = (self.warm_count[idx] == 0) & (self.baseline[idx] == 0)
                self.baseline[idx] = torch.where(late, self.provisional[idx], self.baseline[idx])
        if bool(self.frozen):
            base = self.baseline[idx].clamp_min(_EPS).to(values.dtype)  # (n,)
            regrets = (log_l - base.log()).clamp(-self.cfg.regret_clip, self.cfg.regret_clip)
            weights = a3dro_weights(regrets, self.cfg.temperature, self.cfg.budget_beta)
            self.last_regrets = dict(zip(losses, regrets.tolist(), strict=True))
        else:
            base = self.provisional[idx].clamp_min(_EPS).to(values.dtype)  # (n,)
            weights = torch.full_like(values, 1.0 / len(idx))
            self.last_regrets = {}
        total = (weights.detach() * values / base).sum()  # the anchored losses, weighted
        return total, dict(zip(losses, weights.tolist(), strict=True))

    def end_epoch(self, epoch: int, epoch_losses: Mapping[str, float]) -> None:
        if bool(self.frozen) or epoch > self.cfg.a3dro_warmup_epochs:
            return
        for task, value in epoch_losses.items():
            if task in self.task_names:
                i = self.task_names.index(task)
                self.warm_sum[i] += float(value)
                self.warm_count[i] += 1
        if epoch == self.cfg.a3dro_warmup_epochs:
            seen = self.warm_count > 0
            # a task never seen in warm-up keeps its provisional (first-seen) baseline
            self.baseline.copy_(
                torch.where(seen, self.warm_sum / self.warm_count.clamp_min(1), self.provisional)
            )
            self.frozen.fill_(True)

    @property
    def baselines(self) -> dict[str, float]:
        """The frozen baselines (empty before warm-up ends)."""
        if not bool(self.frozen):
            return {}
        return dict(zip(self.task_names, self.baseline.tolist(), strict=True))
