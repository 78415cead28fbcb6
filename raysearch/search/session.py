"""The Ray a search runs on: a local one started for it (and shut down after), or an existing
cluster joined with ``address``; what it offers is what the resource plan fits trials into."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import ray

__all__ = ["HEALTH_CHECK_ENV", "HEALTH_CHECK_INTERVAL_S", "Cluster", "ray_session"]

# Ray Train's controller polls its workers (and forwards their reports) every 2 s by
# default; each Ray Train trial waits for a poll to see its workers start and finish
# (bench/overhead.py measures it). A local Ray started by the driver polls every 0.5 s
# unless the variable is already set; on a cluster, set it where `ray start` runs.
HEALTH_CHECK_ENV = "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S"
HEALTH_CHECK_INTERVAL_S = "0.5"


@dataclass(frozen=True)
class Cluster:
    """What the Ray cluster offers: ``ray.cluster_resources()`` and its largest node's GPUs."""

    resources: dict[str, float]
    max_node_gpus: float
    init_s: float  # seconds spent starting (or joining) Ray; 0 when it was already up


@contextmanager
def ray_session(address: str | None) -> Iterator[Cluster]:
    """Start a local Ray (``address`` None) or join one; shut down only a Ray started here.
    A Ray already initialised in this process (a notebook, a test) is used as it is."""
    started = not ray.is_initialized()
    began = time.perf_counter()
    if started:
        if address is None:  # the Ray we start inherits this process's environment
            os.environ.setdefault(HEALTH_CHECK_ENV, HEALTH_CHECK_INTERVAL_S)
        ray.init(address=address, logging_level=logging.WARNING, configure_logging=False)
    try:
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        max_gpus = max((n["Resources"].get("GPU", 0.0) for n in nodes), default=0.0)
        init_s = time.perf_counter() - began if started else 0.0
        yield Cluster(dict(ray.cluster_resources()), float(max_gpus), init_s)
    finally:
        if started:
            ray.shutdown()
