"""Data-parallel task losses: the ranks' scaled means average to the whole batch's mean.

With sparse targets each rank sees a different number of observed elements; ``rank_share``
weights each rank's mean by its share, so DDP's average of the ranks' losses (and gradients)
is what one process gets on the whole global batch, on any world size.
"""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from raysearch.core.loss_config import LossConfig
from raysearch.core.spec import TaskKind, TaskSpec
from raysearch.losses.tasks import task_losses
from raysearch.train.epoch import rank_share

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
