"""Helpers for running inside a torch.distributed process group (or not at all)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import torch
import torch.distributed as dist
from torch.utils.data import Sampler

__all__ = [
    "GlobalBatchSampler",
    "ShardSampler",
    "all_gather_objects",
    "all_reduce_sum",
    "rank_and_world",
]


def rank_and_world() -> tuple[int, int]:
    """(rank, world size); (0, 1) without an initialised process group."""
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def all_gather_objects(value: Any) -> list[Any]:
    """Every rank's ``value``, in rank order (``[value]`` without a process group). A
    collective: every rank must call it."""
    world = rank_and_world()[1]
    if world == 1:
        return [value]
    gathered: list[Any] = [None] * world
    dist.all_gather_object(gathered, value)
    return gathered


def all_reduce_sum(tensor: torch.Tensor, op: str = "sum") -> torch.Tensor:
    """All-reduce in place (sum or max) when a process group is initialised; returns it."""
    if rank_and_world()[1] > 1:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM if op == "sum" else dist.ReduceOp.MAX)
    return tensor


class ShardSampler(Sampler[int]):
    """Indices ``rank, rank + world, ...`` in order: every sample exactly once over all
    ranks, with no padding (``DistributedSampler`` pads, which would bias summed losses)."""

    def __init__(self, length: int, rank: int, world: int) -> None:
        self.length, self.rank, self.world = length, rank, world

    def __iter__(self) -> Iterator[int]:
        return iter(range(self.rank, self.length, self.world))

    def __len__(self) -> int:
        return len(range(self.rank, self.length, self.world))


class GlobalBatchSampler(Sampler[int]):
    """Shuffled training indices, sharded so every global batch is the same for any world size.

    Each epoch draws one permutation from ``(seed, epoch)``; global batch ``j`` is
    ``perm[j*B:(j+1)*B]`` and rank ``r`` takes its ``r``-th slice of ``B // world``. The last
    incomplete global batch is dropped (on every world size alike): with equal per-rank
    batches DDP's gradient average is the global batch's mean, so 1 and N workers follow the
    same curve. Use with a DataLoader whose ``batch_size`` is ``B // world``.
    """

    def __init__(self, length: int, global_batch: int, rank: int, world: int, seed: int) -> None:
        if global_batch % world or global_batch > length:
            raise ValueError(
                f"global batch {global_batch} must divide by the {world} ranks and not exceed "
                f"the {length} training samples"
            )
        self.length, self.global_batch, self.rank, self.world = length, global_batch, rank, world
        self.seed, self.epoch = seed, 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __iter__(self) -> Iterator[int]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        perm = torch.randperm(self.length, generator=g).tolist()
        per = self.global_batch // self.world
        for j in range(self.length // self.global_batch):
            start = j * self.global_batch + self.rank * per
            yield from perm[start : start + per]

    def __len__(self) -> int:
        return (self.length // self.global_batch) * (self.global_batch // self.world)
