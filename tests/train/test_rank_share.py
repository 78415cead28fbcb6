"""Data-parallel task losses: the ranks' scaled means average to the whole batch's mean,
and every loss strategy trains as one process does on the whole global batch.

With sparse targets each rank sees a different number of observed elements; ``rank_share``
weights each rank's mean by its share, so DDP's average of the ranks' losses (and gradients)
is what one process gets on the whole global batch, on any world size. A strategy is not
linear in the losses (uniform's 1/n counts the tasks present, A3DRO takes their log,
Kendall adds a term per task), so each rank's strategy sees ``global_view``: the global
batch's means, with the rank's share of their gradient.
"""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from raysearch.core.loss_config import LossConfig
from raysearch.core.spec import TaskKind, TaskSpec
from raysearch.losses.strategies.base import LossStrategy
from raysearch.losses.strategies.registry import STRATEGIES, build_strategy
from raysearch.losses.tasks import task_losses
from raysearch.train.epoch import global_view, rank_share

REGIME = TaskSpec("regime", TaskKind.CLASSIFICATION, 3)
TRANSITION = TaskSpec("transition", TaskKind.BINARY)
ANOMALY = TaskSpec("anomaly", TaskKind.REGRESSION)
TASKS = [REGIME, TRANSITION, ANOMALY]


def _batch(seed: int, size: int, observed: float) -> tuple[dict, dict]:
    g = torch.Generator().manual_seed(seed)
    outputs = {
        "regime": torch.randn(size, 3, generator=g),
        "transition": torch.randn(size, generator=g),
        "anomaly": torch.randn(size, generator=g),
    }
    targets = {
        "regime": {"y": torch.randint(0, 3, (size,), generator=g)},
        "transition": {"y": (torch.rand(size, generator=g) > 0.5).float()},
        "anomaly": {"y": torch.randn(size, generator=g)},
    }
    for target in targets.values():
        target["m"] = torch.rand(size, generator=g) < observed
    return outputs, targets


def _shard(tree: dict, rank: int, world: int) -> dict:
    return {
        k: _shard(v, rank, world) if isinstance(v, dict) else v[rank::world]
        for k, v in tree.items()
    }


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    world=st.integers(2, 4),
    per_rank=st.integers(1, 6),
    observed=st.floats(0.05, 1.0),
    weighted=st.booleans(),
)
def test_the_mean_of_rank_shares_is_the_global_batch_mean(
    seed: int, world: int, per_rank: int, observed: float, weighted: bool
) -> None:
    outputs, targets = _batch(seed, world * per_rank, observed)
    cfg = LossConfig(label_smoothing=0.1 if weighted else 0.0, regime_class_weights=weighted)
    class_weights = {"regime": torch.tensor([0.5, 2.0, 1.5])} if weighted else None
    whole = task_losses(TASKS, outputs, targets, cfg, class_weights)
    ranks = [
        task_losses(TASKS, _shard(outputs, r, world), _shard(targets, r, world), cfg, class_weights)
        for r in range(world)
    ]
    totals: dict[str, float] = {}
    for r in ranks:
        for name, norm in r.normalisers.items():
            totals[name] = totals.get(name, 0.0) + norm
    assert set(totals) == set(whole.losses)
    shares = [rank_share(r.losses, r.normalisers, totals, world) for r in ranks]
    for name, expected in whole.losses.items():
        mean = sum(s[name] for s in shares if name in s) / world
        torch.testing.assert_close(mean, expected, rtol=1e-5, atol=1e-6)


def _frozen(strategy: LossStrategy, frozen: bool) -> LossStrategy:
    """A3DRO past its warm-up (baselines set, regret weights) when ``frozen``; others as built."""
    if frozen:
        warmup = strategy.cfg.a3dro_warmup_epochs
        for epoch in range(1, warmup + 1):
            strategy.end_epoch(epoch, {"regime": 1.3, "transition": 0.4, "anomaly": 2.0})
    return strategy


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    world=st.integers(2, 4),
    per_rank=st.integers(1, 6),
    observed=st.floats(0.05, 1.0),
    name=st.sampled_from(sorted(STRATEGIES)),
    frozen=st.booleans(),
)
def test_every_strategy_trains_on_n_ranks_as_one_process_on_the_global_batch(
    seed: int, world: int, per_rank: int, observed: float, name: str, frozen: bool
) -> None:
    """DDP's gradient (the mean of the ranks' gradients, the strategy's own parameters'
    averaged as train_epoch averages them) and the objective each rank reports are what one
    process gets on the whole batch, with sparse targets: some task may be observed on one
    rank only, or on none."""
    cfg = LossConfig(strategy=name)
    outputs, targets = _batch(seed, world * per_rank, observed)
    heads = {k: v.clone().requires_grad_() for k, v in outputs.items()}  # one process's
    shards = {k: v.clone().requires_grad_() for k, v in outputs.items()}  # the ranks'
    whole = task_losses(TASKS, heads, targets, cfg)
    if not whole.losses:
        return  # no target anywhere: train_epoch calls no strategy
    one = _frozen(build_strategy(cfg, [t.name for t in TASKS]), frozen)
    expected, expected_weights = one(whole.losses)
    expected.backward()
    ranks = [
        task_losses(TASKS, _shard(shards, r, world), _shard(targets, r, world), cfg)
        for r in range(world)
    ]
    totals: dict[str, float] = {}
    sums: dict[str, float] = {}
    for r in ranks:  # what train_epoch's all-reduce adds up
        for task, norm in r.normalisers.items():
            totals[task] = totals.get(task, 0.0) + norm
            sums[task] = sums.get(task, 0.0) + float(r.losses[task].detach()) * norm
    means = {task: sums[task] / totals[task] for task in totals}
    each = [_frozen(build_strategy(cfg, [t.name for t in TASKS]), frozen) for _ in range(world)]
    for strategy, r in zip(each, ranks, strict=True):  # each rank's backward
        objective, weights = strategy(
            global_view(r.losses, r.normalisers, means, totals, world, torch.device("cpu"))
        )
        torch.testing.assert_close(objective, expected, rtol=1e-5, atol=1e-6)
        assert weights == pytest.approx(expected_weights, rel=1e-5, abs=1e-7)
        if objective.requires_grad:  # not when this rank observed nothing (and A3DRO, uniform)
            objective.backward(retain_graph=True)
    for name, head in heads.items():  # DDP's average of the ranks' gradients
        ranks_mean = shards[name].grad / world if shards[name].grad is not None else None
        if head.grad is None:
            assert ranks_mean is None or not ranks_mean.any()
            continue
        assert ranks_mean is not None
        torch.testing.assert_close(ranks_mean, head.grad, rtol=1e-4, atol=1e-6)
    for own, *theirs in zip(one.parameters(), *(s.parameters() for s in each), strict=True):
        grads = [torch.zeros_like(p) if p.grad is None else p.grad for p in theirs]
        averaged = sum(grads) / world  # _sync_strategy_grads
        torch.testing.assert_close(averaged, own.grad, rtol=1e-4, atol=1e-6)
