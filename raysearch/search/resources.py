"""Plan a search's resources from the cluster and the flags, so no trial waits forever.

A one-worker trial holds ``cpus_per_trial`` CPUs (and a GPU when the cluster has them).
A trial of N >= 2 workers runs a Ray Train job: its driver holds a token CPU share and each
worker a share of the rest, so N workers fit even on two cores (a driver holding a whole CPU plus
one CPU per worker never starts on a 2-CPU machine: measured with Ray 2.58).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from raysearch.core.errors import ConfigError
from raysearch.train.ray_train import DistributedPlan

__all__ = ["DRIVER_CPU", "MIN_WORKER_CPU", "ResourcePlan", "fitting_cluster", "plan_resources"]

DRIVER_CPU = 0.01  # the CPU share a Ray Train trial's driver holds
# The least CPU share a worker is planned: as much as a Ray Train trial's driver, which only
# waits. More trials (or workers) at once than that leaves room for are refused, not planned
# at a share of 0 or less (Ray refuses a negative one, and 0 would hold no CPU at all).
MIN_WORKER_CPU = DRIVER_CPU


def _floor3(x: float) -> float:
    return math.floor(x * 1000) / 1000


def _driver_cpu(workers_per_trial: int) -> float:
    # A Ray Train trial's driver only waits on its workers: it holds a token CPU share
    # (Tune refuses zero) and its workers share the rest.
    return 0.0 if workers_per_trial == 1 else DRIVER_CPU


def _cpus_per_worker(cpus: float, concurrent: int, workers_per_trial: int) -> float:
    """Each worker's CPU share with ``concurrent`` trials of ``workers_per_trial`` workers on
    ``cpus`` CPUs: whole CPUs where they divide evenly; a fractional share when more workers
    than CPUs are asked for (CPU trials then share cores rather than wait)."""
    driver = _driver_cpu(workers_per_trial)
    share = (cpus - concurrent * driver) / (concurrent * workers_per_trial)
    return float(int(share)) if share >= 1 and driver == 0 else _floor3(share)


def _most_that_fit(cpus: float, workers_per_trial: int) -> int:
    """The most trials of ``workers_per_trial`` workers that fit on ``cpus`` CPUs at once,
    each worker given at least MIN_WORKER_CPU (0: not even one)."""
    each = _driver_cpu(workers_per_trial) + workers_per_trial * MIN_WORKER_CPU
    most = int(cpus / each) + 1  # then down to the first that the plan's own arithmetic fits
    while most > 0 and _cpus_per_worker(cpus, most, workers_per_trial) < MIN_WORKER_CPU:
        most -= 1
    return most


def fitting_cluster(workers_per_trial: int, max_concurrent: int | None) -> dict[str, float]:
    """A CPU cluster the flags' trials fit on, a CPU per worker: what a search is planned for
    before Ray starts, when the real cluster is not known (the checks of the flags, the
    space and the data need a plan, not the cluster's size). The search is planned again
    for the cluster Ray offers, which refuses what does not fit it."""
    concurrent = max_concurrent or 1
    workers = concurrent * workers_per_trial
    return {"CPU": float(workers) + concurrent * _driver_cpu(workers_per_trial)}


@dataclass(frozen=True)
class ResourcePlan:
    workers_per_trial: int
    max_concurrent: int
    cpus_per_worker: float
    gpus_per_worker: float
    trial_resources: dict[str, float]
    shares_cores: bool = False  # more CPU workers at once than the cluster has CPUs

    @property
    def distributed(self) -> DistributedPlan:
        return DistributedPlan(self.workers_per_trial, self.cpus_per_worker, self.gpus_per_worker)

    def describe(self) -> str:
        kind = "in-process" if self.workers_per_trial == 1 else "Ray Train (DDP)"
        gpu = f", {self.gpus_per_worker:g} GPU" if self.gpus_per_worker else ""
        return (
            f"{self.max_concurrent} trial(s) at once, {self.workers_per_trial} worker(s) each "
            f"({kind}), {self.cpus_per_worker:g} CPU{gpu} per worker"
            + (
                " (more workers than CPUs: they share cores, each slower)"
                if self.shares_cores
                else ""
            )
        )


def plan_resources(
    cluster: dict[str, float],
    workers_per_trial: int,
    max_concurrent: int | None,
    max_node_gpus: float = 0.0,
) -> ResourcePlan:
    """Fit trials into ``cluster`` (``ray.cluster_resources()``); refuse what can never run."""
    cpus = float(cluster.get("CPU", 0.0))
    gpus = float(cluster.get("GPU", 0.0))
    problems = []
    if workers_per_trial < 1:
        problems.append(f"--workers-per-trial must be >= 1, got {workers_per_trial}")
    if max_concurrent is not None and max_concurrent < 1:
        problems.append(f"--max-concurrent must be >= 1, got {max_concurrent}")
    if cpus < 1:
        problems.append(f"the Ray cluster has {cpus:g} CPUs; at least 1 is needed")
    if problems:
        raise ConfigError(problems, "resources")

    gpus_per_worker = 1.0 if gpus >= 1 else 0.0
    if gpus_per_worker and workers_per_trial > max(max_node_gpus, gpus):
        raise ConfigError(
            [
                f"--workers-per-trial {workers_per_trial} needs {workers_per_trial} GPUs per "
                f"trial; the cluster has {gpus:g} (largest node {max_node_gpus:g})"
            ],
            "resources",
        )
    per_trial = workers_per_trial * (gpus_per_worker or 1.0)
    fits = max(1, int((gpus if gpus_per_worker else cpus) // per_trial))
    if gpus_per_worker and max_concurrent is not None and max_concurrent > fits:
        raise ConfigError(
            [
                f"--max-concurrent {max_concurrent} with {workers_per_trial} GPU worker(s) per "
                f"trial needs {max_concurrent * workers_per_trial} GPUs; the cluster has "
                f"{gpus:g}, so at most {fits} fit"
            ],
            "resources",
        )
    concurrent = max_concurrent or fits
    cpus_per_worker = _cpus_per_worker(cpus, concurrent, workers_per_trial)
    if cpus_per_worker < MIN_WORKER_CPU:
        raise ConfigError([_too_many(cpus, workers_per_trial, concurrent)], "resources")
    if workers_per_trial == 1:
        trial_resources = {"cpu": cpus_per_worker, "gpu": gpus_per_worker}
    else:
        trial_resources = {"cpu": DRIVER_CPU}
    return ResourcePlan(
        workers_per_trial,
        concurrent,
        cpus_per_worker,
        gpus_per_worker,
        trial_resources,
        shares_cores=not gpus_per_worker and concurrent * workers_per_trial > cpus,
    )


def _too_many(cpus: float, workers_per_trial: int, concurrent: int) -> str:
    """Why ``concurrent`` trials of ``workers_per_trial`` workers do not fit on ``cpus``
    CPUs (each worker would get less than MIN_WORKER_CPU), and what does."""
    least = f"under {MIN_WORKER_CPU:g} CPU each, the least a worker is given, on the cluster's"
    if _most_that_fit(cpus, workers_per_trial) == 0:  # not one such trial fits
        most = int((cpus - DRIVER_CPU) / MIN_WORKER_CPU) + 1
        while most > 1 and _cpus_per_worker(cpus, 1, most) < MIN_WORKER_CPU:
            most -= 1
        return (
            f"--workers-per-trial {workers_per_trial}: a trial's workers would get {least} "
            f"{cpus:g} CPU(s); at most {most} workers per trial fit"
        )
    return (
        f"--max-concurrent {concurrent}: {concurrent} trials of {workers_per_trial} worker(s) "
        f"would get {least} {cpus:g} CPU(s); at most {_most_that_fit(cpus, workers_per_trial)} "
        "trials at once fit"
    )
