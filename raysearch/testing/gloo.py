"""A gloo process group on this machine, for tests that train on two CPU ranks."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

import torch.distributed as dist

__all__ = ["free_port", "gloo_group"]

# A rank left waiting (its peer gone) fails after this long, not gloo's 30 minutes.
TIMEOUT = timedelta(seconds=120)


def free_port() -> int:
    """A port on 127.0.0.1 that was free: the group's store listens on it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gloo_group(rank: int, world: int, port: int) -> Iterator[None]:
    """This process as ``rank`` of a gloo group of ``world`` ranks whose store is at
    ``port`` (rank 0 serves it); the group is destroyed at the end of the block."""
    dist.init_process_group(
        "gloo",
        init_method=f"tcp://127.0.0.1:{port}",
        rank=rank,
        world_size=world,
        timeout=TIMEOUT,
    )
    try:
        yield
    finally:
        dist.destroy_process_group()
