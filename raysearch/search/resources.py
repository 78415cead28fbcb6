"""Plan a search's resources from the cluster's nodes and the flags, so no trial waits forever.

A one-worker trial holds ``cpus_per_trial`` CPUs (and a GPU when the cluster has them).
A trial of N >= 2 workers runs a Ray Train job: its driver holds a token CPU share and each
worker a share of the rest, so N workers fit even on two cores (a driver holding a whole CPU plus
one CPU per worker never starts on a 2-CPU machine: measured with Ray 2.58).

Ray places each of those bundles (a one-worker trial, a driver, a worker) on one node, so a
share of the cluster's total CPUs is not enough: four 4-CPU nodes do not hold two trials of 8
CPUs. A worker's share is capped at what every node can give it: with the nodes' workers
placed, each node keeps room for all the trials' drivers, wherever Ray starts them (it starts
a trial's driver before its workers, and may start several on one node).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from raysearch.core.errors import ConfigError
from raysearch.search.names import CLI, Names
from raysearch.train.ray_train import DistributedPlan

__all__ = [
    "DRIVER_CPU",
    "MIN_WORKER_CPU",
    "ClusterShape",
    "Node",
    "ResourcePlan",
    "fitting_cluster",
    "plan_resources",
]

DRIVER_CPU = 0.01  # the CPU share a Ray Train trial's driver holds
# The least CPU share a worker is planned: as much as a Ray Train trial's driver, which only
# waits. More trials (or workers) at once than that leaves room for are refused, not planned
# at a share of 0 or less (Ray refuses a negative one, and 0 would hold no CPU at all).
MIN_WORKER_CPU = DRIVER_CPU


@dataclass(frozen=True)
class Node:
    """What one Ray node offers trials (its ``Resources`` in ``ray.nodes()``)."""

    cpus: float
    gpus: float = 0.0


# The cluster a search is planned for: its live nodes, or one machine's resources as
# ``ray.cluster_resources()`` gives them ({"CPU": 2.0}: a local Ray is one node).
ClusterShape = Mapping[str, float] | Sequence[Node]


def _nodes(cluster: ClusterShape) -> tuple[Node, ...]:
    if isinstance(cluster, Mapping):
        return (Node(float(cluster.get("CPU", 0.0)), float(cluster.get("GPU", 0.0))),)
    return tuple(cluster)


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


def fitting_cluster(
    workers_per_trial: int, max_concurrent: int | None, gpus: bool = False
) -> dict[str, float]:
    """A cluster the flags' trials fit on, a CPU (and with ``gpus`` a GPU) per worker: what a
    search is planned for before Ray starts, when the real cluster is not known (the checks
    of the flags, the space and the data need a plan, not the cluster's size). The search
    is planned again for the cluster Ray offers, which refuses what does not fit it."""
    concurrent = max_concurrent or 1
    workers = concurrent * workers_per_trial
    cluster = {"CPU": float(workers) + concurrent * _driver_cpu(workers_per_trial)}
    return cluster | {"GPU": float(workers)} if gpus else cluster


# Ray counts resources in fixed point, to 1/10,000 of a unit: placing is counted the same way.
_RAY_UNITS = 10_000


def _units(x: float) -> int:
    return round(x * _RAY_UNITS)


def _workers_placed(
    nodes: Sequence[Node], cpus_per_worker: float, gpus_per_worker: float, kept: float
) -> int:
    """How many workers of ``cpus_per_worker`` CPUs and ``gpus_per_worker`` GPUs the nodes
    hold at once, each node keeping ``kept`` CPUs free for the trials' drivers."""
    cpu, gpu = _units(cpus_per_worker), _units(gpus_per_worker)
    placed = 0
    for node in nodes:
        free = _units(node.cpus) - _units(kept)
        if free < cpu:
            continue
        by_cpu = free // cpu
        placed += min(by_cpu, _units(node.gpus) // gpu) if gpu else by_cpu
    return placed


def _most_lost(first: list[int], more: int, each: int, drivers: int) -> int:
    """The most worker slots ``drivers`` drivers can take from the nodes, at most (their
    CPUs counted in drivers): a node's first slot goes for the drivers its ``first`` cost,
    each of the ``more`` others for ``each`` (at least: a slot's CPUs over a driver's). The
    cheapest first, ignoring that a node's first goes before its others: an upper bound."""
    lost, budget, firsts = 0, drivers, iter(sorted(first))
    cost = next(firsts, None)
    while cost is not None and cost <= each and cost <= budget:
        lost, budget, cost = lost + 1, budget - cost, next(firsts, None)
    if cost is not None and cost <= each:  # the budget ran out on cheap ones
        return lost
    taken = min(more, budget // each)
    lost, budget = lost + taken, budget - taken * each
    while cost is not None and cost <= budget:
        lost, budget, cost = lost + 1, budget - cost, next(firsts, None)
    return lost


def _places(
    nodes: Sequence[Node], cpus_per_worker: float, gpus: float, concurrent: int, workers: int
) -> bool:
    """Whether ``concurrent`` trials of ``workers`` workers (``cpus_per_worker`` CPUs and
    ``gpus`` GPUs each) are placed on the nodes at once however Ray starts the trials' drivers
    (a one-worker trial has none). Either rule suffices: every node keeps room for every
    driver; or the worker slots are as many as the workers, beyond what the drivers could take
    wherever they land (``_most_lost``), so a slot is free whenever something waits."""
    needed = concurrent * workers
    drivers = concurrent if workers > 1 else 0
    if _workers_placed(nodes, cpus_per_worker, gpus, drivers * DRIVER_CPU) >= needed:
        return True
    if not drivers:
        return False
    cpu, gpu, driver = _units(cpus_per_worker), _units(gpus), _units(DRIVER_CPU)
    slots, first, more = 0, [], 0
    for node in nodes:
        free = _units(node.cpus)
        held = min(free // cpu, _units(node.gpus) // gpu) if gpu else free // cpu
        if held:
            slots += held
            first.append((free - held * cpu) // driver + 1)  # the drivers that take one
            more += held - 1
    return slots - _most_lost(first, more, cpu // driver, drivers) >= needed


def _largest(lo: int, hi: int, holds: Callable[[int], bool]) -> int:
    """The largest n in [lo, hi] for which ``holds``, given it holds at ``lo`` and, once it
    fails, fails for every larger n (a bisection)."""
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if holds(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def _placeable_share(
    nodes: Sequence[Node], share: float, concurrent: int, workers_per_trial: int, gpus: float
) -> float | None:
    """The largest CPU share up to ``share`` at which ``concurrent`` trials' workers are all
    placed on the nodes at once (``_places``); whole CPUs when a share of one or more is
    capped for a one-worker trial, as ``share`` is. None: not even MIN_WORKER_CPU places
    them."""

    def places(thousandths: int) -> bool:
        return _places(nodes, thousandths / 1000, gpus, concurrent, workers_per_trial)

    if places(round(share * 1000)):
        return share
    least = round(MIN_WORKER_CPU * 1000)
    if not places(least):
        return None
    # fewer workers are placed as the share grows: the largest that places
    capped = _largest(least, math.floor(share * 1000), places) / 1000
    return float(int(capped)) if capped >= 1 and workers_per_trial == 1 else capped


def _plans(
    nodes: Sequence[Node], cpus: float, concurrent: int, workers_per_trial: int, gpus: float
) -> bool:
    """Whether ``concurrent`` trials of ``workers_per_trial`` workers plan: their share of
    the cluster's CPUs is at least MIN_WORKER_CPU, and the nodes place them."""
    share = _cpus_per_worker(cpus, concurrent, workers_per_trial)
    return (
        share >= MIN_WORKER_CPU
        and _placeable_share(nodes, share, concurrent, workers_per_trial, gpus) is not None
    )


def _most_placed(
    nodes: Sequence[Node], cpus: float, concurrent: int, workers_per_trial: int, gpus: float
) -> int:
    """The most trials at once, up to ``concurrent``, that plan (0: not one)."""
    return _largest(
        0, concurrent, lambda n: n == 0 or _plans(nodes, cpus, n, workers_per_trial, gpus)
    )


def _shapes(nodes: Sequence[Node]) -> str:
    """The nodes as a reader counts them: '4 of 4 CPU, 1 GPU; 1 of 0 CPU'."""
    counts = Counter((n.cpus, n.gpus) for n in nodes)
    return "; ".join(
        f"{k} of {c:g} CPU" + (f", {g:g} GPU" if g else "") for (c, g), k in counts.items()
    )


@dataclass(frozen=True)
class ResourcePlan:
    workers_per_trial: int
    max_concurrent: int
    cpus_per_worker: float
    gpus_per_worker: float
    trial_resources: dict[str, float]
    shares_cores: bool = False  # more CPU workers at once than the cluster has CPUs
    # CPUs no worker is given because a worker's share is capped at what a node holds (said
    # in describe() from one whole CPU: below that it is the room kept for the drivers)
    node_capped_idle: float = 0.0

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
            + (
                f" (as much as a node holds: {self.node_capped_idle:g} of the cluster's CPUs "
                "stay idle)"
                if self.node_capped_idle >= 1
                else ""
            )
        )


def plan_resources(
    cluster: ClusterShape,
    workers_per_trial: int,
    max_concurrent: int | None,
    use_gpus: bool = True,
    names: Names = CLI,
) -> ResourcePlan:
    """Fit trials into ``cluster``; refuse what can never run. ``use_gpus`` False: the trials
    train on CPUs, and hold none of the cluster's GPUs. ``names``: how refusals name the
    options (``RunOptions.names``)."""
    nodes = _nodes(cluster)
    cpus = sum(n.cpus for n in nodes)
    gpus = sum(n.gpus for n in nodes) if use_gpus else 0.0
    max_node_gpus = max((n.gpus for n in nodes), default=0.0) if use_gpus else 0.0
    problems = []
    if workers_per_trial < 1:
        problems.append(f"{names.head('workers_per_trial')} must be >= 1, got {workers_per_trial}")
    if max_concurrent is not None and max_concurrent < 1:
        problems.append(f"{names.head('max_concurrent')} must be >= 1, got {max_concurrent}")
    if cpus < 1:
        problems.append(
            f"the Ray cluster has {cpus:g} CPUs; at least 1 is needed"
            + " (a cluster whose workers autoscale from zero has none for trials until they "
            "are asked for: run `python clusters/scale.py --gpus N` first, docs/cluster.md)"
        )
    if problems:
        raise ConfigError(problems, "resources")

    gpus_per_worker = 1.0 if gpus >= 1 else 0.0
    if gpus_per_worker and workers_per_trial > max(max_node_gpus, gpus):
        raise ConfigError(
            [
                f"{names.option('workers_per_trial', workers_per_trial)} needs "
                f"{workers_per_trial} GPUs per trial; the cluster has {gpus:g} (largest "
                f"node {max_node_gpus:g})"
            ],
            "resources",
        )
    per_trial = workers_per_trial * (gpus_per_worker or 1.0)
    fits = max(1, int((gpus if gpus_per_worker else cpus) // per_trial))
    if max_concurrent is None:  # as many as the GPUs (or CPUs) hold and the nodes place
        concurrent = _most_placed(nodes, cpus, fits, workers_per_trial, gpus_per_worker)
        if not concurrent:
            raise ConfigError(
                [_not_one(nodes, cpus, workers_per_trial, gpus_per_worker, names)], "resources"
            )
    elif gpus_per_worker and max_concurrent > fits:
        most = _most_placed(nodes, cpus, fits, workers_per_trial, gpus_per_worker)
        if not most:  # no --max-concurrent helps: what keeps one trial off the nodes
            raise ConfigError(
                [_not_one(nodes, cpus, workers_per_trial, gpus_per_worker, names, max_concurrent)],
                "resources",
            )
        raise ConfigError(
            [
                f"{names.option('max_concurrent', max_concurrent)} with {workers_per_trial} "
                f"GPU worker(s) per trial needs {max_concurrent * workers_per_trial} GPUs; the "
                f"cluster has {gpus:g}, so at most {most} trials at once fit"
                + ("" if most == fits else f" on its nodes ({_shapes(nodes)})")
            ],
            "resources",
        )
    else:
        concurrent = max_concurrent
    share = _cpus_per_worker(cpus, concurrent, workers_per_trial)
    cpus_per_worker = (
        _placeable_share(nodes, share, concurrent, workers_per_trial, gpus_per_worker)
        if share >= MIN_WORKER_CPU
        else None
    )
    if cpus_per_worker is None:  # only with --max-concurrent: without, _most_placed planned it
        raise ConfigError(
            [_too_many(nodes, cpus, workers_per_trial, concurrent, gpus_per_worker, names)],
            "resources",
        )
    if workers_per_trial == 1:
        trial_resources = {"cpu": cpus_per_worker, "gpu": gpus_per_worker}
    else:
        trial_resources = {"cpu": DRIVER_CPU}
    driver = _driver_cpu(workers_per_trial)
    idle = cpus - concurrent * (workers_per_trial * cpus_per_worker + driver)
    return ResourcePlan(
        workers_per_trial,
        concurrent,
        cpus_per_worker,
        gpus_per_worker,
        trial_resources,
        shares_cores=not gpus_per_worker and concurrent * workers_per_trial > cpus,
        node_capped_idle=round(idle, 3) if cpus_per_worker < share else 0.0,
    )


def _most_workers(
    nodes: Sequence[Node], cpus: float, upto: int, gpus: float, concurrent: int = 1
) -> int:
    """The most workers, below ``upto``, ``concurrent`` trials of which plan (0: none)."""
    return _largest(0, upto - 1, lambda n: n == 0 or _plans(nodes, cpus, concurrent, n, gpus))


def _workers_fit(
    nodes: Sequence[Node], cpus: float, workers_per_trial: int, gpus: float, concurrent: int
) -> str:
    """How many workers a trial can have, alone and, asked for ``concurrent`` at once,
    with that many trials at once."""
    alone = _most_workers(nodes, cpus, workers_per_trial, gpus)
    if not alone:
        return "not one worker fits"
    if concurrent == 1:
        return f"at most {alone} workers per trial fit"
    most = _most_workers(nodes, cpus, workers_per_trial, gpus, concurrent)
    if not most:
        return (
            f"with {concurrent} trials at once none fits, however few its workers; one trial "
            f"at a time fits at most {alone} workers"
        )
    return f"with {concurrent} trials at once at most {most} workers per trial fit" + (
        "" if most == alone else f" ({alone} with one trial at a time)"
    )


def _not_one(
    nodes: Sequence[Node],
    cpus: float,
    workers_per_trial: int,
    gpus: float,
    names: Names,
    concurrent: int = 1,
) -> str:
    """Why not one trial of ``workers_per_trial`` workers is placed, and how many workers a
    trial can have (with ``concurrent`` trials at once, as --max-concurrent asked)."""
    fit = _workers_fit(nodes, cpus, workers_per_trial, gpus, concurrent)
    if _cpus_per_worker(cpus, 1, workers_per_trial) < MIN_WORKER_CPU:
        return (
            f"{names.option('workers_per_trial', workers_per_trial)}: a trial's workers would "
            f"get under {MIN_WORKER_CPU:g} CPU each, the least a worker is given, on the cluster's "
            f"{cpus:g} CPU(s); {fit}"
        )
    kind = f"{workers_per_trial} {'GPU ' if gpus else ''}worker(s)"
    return (
        f"{names.option('workers_per_trial', workers_per_trial)}: a trial of {kind} fits the "
        f"cluster's {cpus:g} CPUs in total but not its nodes ({_shapes(nodes)}): on a node"
        + (", beside room for its driver," if workers_per_trial > 1 else "")
        + f" a worker would get under {MIN_WORKER_CPU:g} CPU; {fit}"
    )


def _too_many(
    nodes: Sequence[Node],
    cpus: float,
    workers_per_trial: int,
    concurrent: int,
    gpus: float,
    names: Names,
) -> str:
    """Why --max-concurrent ``concurrent`` trials of ``workers_per_trial`` workers do not
    plan (their share of the cluster's CPUs is under MIN_WORKER_CPU, or the nodes do not
    place them), and how many do."""
    most = _most_placed(nodes, cpus, concurrent, workers_per_trial, gpus)
    if not most:
        return _not_one(nodes, cpus, workers_per_trial, gpus, names, concurrent)
    flag = names.option("max_concurrent", concurrent)
    if _cpus_per_worker(cpus, concurrent, workers_per_trial) < MIN_WORKER_CPU:
        return (
            f"{flag}: {concurrent} trials of {workers_per_trial} worker(s) would get under "
            f"{MIN_WORKER_CPU:g} CPU each, the least a worker is given, on the cluster's "
            f"{cpus:g} CPU(s); at most {most} trials at once fit"
        )
    kind = f"{workers_per_trial} {'GPU ' if gpus else ''}worker(s)"
    return (
        f"{flag}: {concurrent} trials of {kind} at once fit the cluster's {cpus:g} CPUs in "
        f"total but not its nodes ({_shapes(nodes)}): on a node"
        + (", beside room for the trials' drivers," if workers_per_trial > 1 else "")
        + f" a worker would get under {MIN_WORKER_CPU:g} CPU; at most {most} trials at once fit"
    )
