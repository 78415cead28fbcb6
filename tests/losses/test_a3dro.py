"""A3DRO: weight bounds, regret clip, baseline freezing and scale invariance (log ratios)."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from raysearch.core.loss_config import LossConfig
from raysearch.losses.strategies.a3dro import A3DROStrategy, a3dro_weights, weight_cap

TASKS = ("regime", "transition", "casualty", "anomaly")


def _frozen(cfg: LossConfig, baselines: list[float]) -> A3DROStrategy:
    strategy = A3DROStrategy(TASKS, cfg)
    for epoch in range(1, cfg.a3dro_warmup_epochs + 1):
        strategy.end_epoch(epoch, dict(zip(TASKS, baselines, strict=True)))
    return strategy


@settings(max_examples=150, deadline=None)
@given(
    losses=st.lists(st.floats(1e-6, 1e6), min_size=4, max_size=4),
    baselines=st.lists(st.floats(1e-6, 1e6), min_size=4, max_size=4),
    n=st.integers(1, 4),
    beta=st.floats(0.0, 1.0),
    clip=st.floats(0.05, 10.0),
    temperature=st.floats(0.05, 10.0),
)
def test_weights_are_a_distribution_under_the_cap_and_regrets_within_clip(
    losses, baselines, n, beta, clip, temperature
) -> None:
    cfg = LossConfig(strategy="a3dro", budget_beta=beta, regret_clip=clip, temperature=temperature)
    strategy = _frozen(cfg, baselines)
    present = dict(zip(TASKS[:n], (torch.tensor(v) for v in losses), strict=False))
    _, weights = strategy(present)
    values = list(weights.values())
    assert all(w >= 0 for w in values)
    assert math.isclose(sum(values), 1.0, rel_tol=1e-5)
    assert max(values) <= weight_cap(beta, n) + 1e-6
    assert all(-clip - 1e-6 <= r <= clip + 1e-6 for r in strategy.last_regrets.values())


def test_cap_is_reached_not_one_minus_beta() -> None:
    """One task with a huge regret at a tiny temperature gets (1-beta) + beta/n, > 1-beta."""
    w = a3dro_weights(torch.tensor([3.0, -3.0, -3.0, -3.0]), temperature=0.01, beta=0.35)
    assert float(w[0]) == pytest.approx(weight_cap(0.35, 4), abs=1e-6)
    assert float(w[0]) > 1 - 0.35
    assert weight_cap(0.35, 4) == pytest.approx(0.7375)


def test_uniform_before_warm_up_ends_then_baselines_freeze_at_the_warm_up_mean() -> None:
    cfg = LossConfig(strategy="a3dro", a3dro_warmup_epochs=2)
    strategy = A3DROStrategy(TASKS, cfg)
    _, w = strategy({"regime": torch.tensor(5.0), "casualty": torch.tensor(0.1)})
    assert w == {"regime": 0.5, "casualty": 0.5}
    strategy.end_epoch(1, {"regime": 2.0, "casualty": 1.0})
    assert strategy.baselines == {}
    strategy.end_epoch(2, {"regime": 4.0, "casualty": 3.0})
    strategy.end_epoch(3, {"regime": 100.0, "casualty": 100.0})  # after warm-up: ignored
    assert strategy.baselines["regime"] == pytest.approx(3.0)
    assert strategy.baselines["casualty"] == pytest.approx(2.0)
    _, w = strategy({"regime": torch.tensor(30.0), "casualty": torch.tensor(2.0)})
    assert w["regime"] > w["casualty"]  # the task doing worse than its baseline gets more


def test_state_dict_carries_frozen_baselines() -> None:
    cfg = LossConfig(strategy="a3dro")
    strategy = _frozen(cfg, [1.0, 2.0, 3.0, 4.0])
    clone = A3DROStrategy(TASKS, cfg)
    clone.load_state_dict(strategy.state_dict())
    assert clone.baselines == strategy.baselines


def _run(
    scale_task: int, scale: float, seed: int, cfg: LossConfig
) -> tuple[list[float], list[torch.Tensor]]:
    """Three "epochs" of two steps, task ``scale_task``'s loss times ``scale`` throughout."""
    g = torch.Generator().manual_seed(seed)
    theta = torch.randn(4, generator=g, dtype=torch.float64)
    data = torch.rand(6, 4, generator=g, dtype=torch.float64) + 0.1
    strategy = A3DROStrategy(TASKS, cfg)
    totals, grads = [], []
    for epoch in range(1, 4):
        epoch_losses: dict[str, list[float]] = {t: [] for t in TASKS}
        for step in range(2):
            p = theta.clone().requires_grad_(True)
            row = data[(epoch - 1) * 2 + step]
            per_task = (p - row).square() + row  # positive, task-specific
            per_task = per_task * torch.tensor(
                [scale if i == scale_task else 1.0 for i in range(4)], dtype=torch.float64
            )
            losses = dict(zip(TASKS, per_task, strict=True))
            total, _ = strategy(losses)
            total.backward()
            totals.append(float(total.detach()))
            grads.append(p.grad.clone())
            for t in TASKS:
                epoch_losses[t].append(float(losses[t].detach()))
        strategy.end_epoch(epoch, {t: sum(v) / len(v) for t, v in epoch_losses.items()})
    return totals, grads


@settings(max_examples=40, deadline=None)
@given(
    task=st.integers(0, 3),
    scale=st.floats(1e-3, 1e3),
    seed=st.integers(0, 1000),
    beta=st.floats(0.0, 1.0),
    clip=st.floats(0.1, 5.0),
)
def test_scaling_one_tasks_loss_leaves_total_and_gradients_unchanged(
    task, scale, seed, beta, clip
) -> None:
    cfg = LossConfig(strategy="a3dro", budget_beta=beta, regret_clip=clip)
    totals, grads = _run(task, 1.0, seed, cfg)
    scaled_totals, scaled_grads = _run(task, scale, seed, cfg)
    assert totals == pytest.approx(scaled_totals, rel=1e-9, abs=1e-9)
    for a, b in zip(grads, scaled_grads, strict=True):
        assert torch.allclose(a, b, rtol=1e-9, atol=1e-12)
