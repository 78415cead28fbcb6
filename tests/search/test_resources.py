"""Resource planning: trials always fit the cluster; impossible requests are refused."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raysearch.core.errors import ConfigError
from raysearch.search.resources import (
    DRIVER_CPU,
    MIN_WORKER_CPU,
    Node,
    ResourcePlan,
    fitting_cluster,
    plan_resources,
)


def test_laptop_default_uses_both_cores_with_one_trial_per_core() -> None:
    plan = plan_resources({"CPU": 2.0}, workers_per_trial=1, max_concurrent=None)
    assert plan.max_concurrent == 2
    assert plan.trial_resources == {"cpu": 1.0, "gpu": 0.0}


def test_two_workers_on_two_cpus_fit_beside_their_driver() -> None:
    plan = plan_resources({"CPU": 2.0}, workers_per_trial=2, max_concurrent=None)
    assert plan.max_concurrent == 1
    assert plan.trial_resources == {"cpu": DRIVER_CPU}
    total = plan.max_concurrent * (plan.workers_per_trial * plan.cpus_per_worker + DRIVER_CPU)
    assert 1.9 < total <= 2.0


@pytest.mark.parametrize(
    "cpus,workers,concurrent", [(2, 4, None), (2, 2, 2), (3, 2, None), (16, 3, 4)]
)
def test_cpu_plans_never_ask_for_more_than_the_cluster(
    cpus: int, workers: int, concurrent: int | None
) -> None:
    plan = plan_resources({"CPU": float(cpus)}, workers, concurrent)
    if concurrent is not None:
        assert plan.max_concurrent == concurrent
    # Ray Train trials' drivers hold a token share; their workers share the rest.
    assert plan.trial_resources == {"cpu": DRIVER_CPU}
    used = plan.max_concurrent * (workers * plan.cpus_per_worker + DRIVER_CPU)
    assert 0 < used <= cpus + 1e-9


@pytest.mark.parametrize("cpus,workers,shared", [(2, 4, True), (2, 2, False), (4, 4, False)])
def test_the_plan_says_when_workers_share_cores(cpus: int, workers: int, shared: bool) -> None:
    """Four workers on two CPUs run, half a core each, and the plan line says so; two on
    two (beside a token driver share) or four on four do not share."""
    described = plan_resources({"CPU": float(cpus)}, workers, None).describe()
    assert ("more workers than CPUs: they share cores" in described) == shared


def test_gpu_cluster_gives_one_gpu_per_worker() -> None:
    plan = plan_resources([Node(16.0, 4.0)], 2, None)
    assert plan.gpus_per_worker == 1.0
    assert plan.max_concurrent == 2


def test_more_gpus_per_trial_than_any_node_is_refused() -> None:
    with pytest.raises(ConfigError, match="GPUs per trial"):
        plan_resources([Node(8.0, 1.0)] * 2, 4, None)


def test_more_concurrent_gpu_trials_than_gpus_is_refused() -> None:
    with pytest.raises(ConfigError, match="at most 2 trials at once fit"):
        plan_resources([Node(16.0, 4.0)], 2, 3)


def test_bad_flags_are_all_reported() -> None:
    with pytest.raises(ConfigError) as err:
        plan_resources({"CPU": 0.0}, 0, 0)
    assert len(err.value.problems) == 3


@settings(max_examples=300, deadline=None)
@given(
    cpus=st.integers(1, 128),
    workers=st.integers(1, 400),
    concurrent=st.none() | st.integers(1, 20_000),
)
def test_a_plan_never_gives_a_worker_less_than_its_least_share_and_a_refusal_says_what_fits(
    cpus: int, workers: int, concurrent: int | None
) -> None:
    """On 2 CPUs, 1000 trials of 2 workers were planned at -0.004 CPU a worker, 5000 of 1
    at 0.0, one trial of 5000 workers at 0.0. A plan gives each worker MIN_WORKER_CPU at
    least and fits the cluster; what does not fit is refused naming the flag and the most
    that fits, which then plans."""
    try:
        plan = plan_resources({"CPU": float(cpus)}, workers, concurrent)
    except ConfigError as err:
        (problem,) = err.problems
        most = int(re.search(r"at most (\d+)", problem).group(1))  # type: ignore[union-attr]
        if problem.startswith("--max-concurrent"):
            assert concurrent is not None and most < concurrent
            assert plan_resources({"CPU": float(cpus)}, workers, most).max_concurrent == most
        else:
            assert problem.startswith(f"--workers-per-trial {workers}:") and most < workers
            plan_resources({"CPU": float(cpus)}, most, None)
        return
    assert plan.cpus_per_worker >= MIN_WORKER_CPU > 0
    driver = DRIVER_CPU if workers > 1 else 0.0
    assert plan.max_concurrent * (workers * plan.cpus_per_worker + driver) <= cpus + 1e-9


@pytest.mark.parametrize(
    ("workers", "concurrent", "message"),
    [
        (2, 1000, "--max-concurrent 1000: 1000 trials of 2 worker(s) would get under 0.01 CPU "
         "each, the least a worker is given, on the cluster's 2 CPU(s); at most 66 trials at "
         "once fit"),
        (1, 5000, "--max-concurrent 5000: "),
        (5000, None, "--workers-per-trial 5000: a trial's workers would get under 0.01 CPU "
         "each, the least a worker is given, on the cluster's 2 CPU(s); at most 199 workers "
         "per trial fit"),
    ],
)  # fmt: skip
def test_more_workers_than_the_cluster_has_room_for_are_refused_naming_the_flag(
    workers: int, concurrent: int | None, message: str
) -> None:
    with pytest.raises(ConfigError) as err:
        plan_resources({"CPU": 2.0}, workers, concurrent)
    assert err.value.problems[0].startswith(message), err.value.problems


def test_the_cluster_planned_for_before_ray_starts_fits_the_flags() -> None:
    for workers, concurrent in [(1, None), (2, 1000), (1, 5000), (5000, None), (3, 7)]:
        cluster = fitting_cluster(workers, concurrent)
        plan = plan_resources(cluster, workers, concurrent)
        assert plan.cpus_per_worker >= 1.0


# -- the cluster's nodes ------------------------------------------------------------------
# Ray places each bundle (a one-worker trial; a Ray Train trial's driver; each of its
# workers) on one node, and may start every trial's driver on the same node before any
# worker. A plan must be placeable however the drivers land: checked here by exhaustive
# search, not by the plan's own arithmetic.

_UNITS = 10_000  # Ray's fixed point


def _spreads(drivers: int, nodes: int) -> Iterator[tuple[int, ...]]:
    """Every way of starting ``drivers`` drivers on ``nodes`` nodes (how many on each)."""
    if nodes == 1:
        yield (drivers,)
        return
    for here in range(drivers + 1):
        for rest in _spreads(drivers - here, nodes - 1):
            yield (here, *rest)


def _fits_every_way(plan: ResourcePlan, nodes: list[Node]) -> bool:
    """Whether every worker of the plan's concurrent trials can be placed on ``nodes``
    however Ray spreads the trials' drivers, started first (each spread tried). The workers
    are all alike, so a node holds as many as its free CPUs and GPUs each allow."""
    if plan.workers_per_trial == 1:
        cpu, gpu = plan.trial_resources["cpu"], plan.trial_resources["gpu"]
        drivers, driver = 0, 0
    else:
        cpu, gpu = plan.cpus_per_worker, plan.gpus_per_worker
        drivers, driver = plan.max_concurrent, round(plan.trial_resources["cpu"] * _UNITS)
    worker = (round(cpu * _UNITS), round(gpu * _UNITS))
    count = plan.max_concurrent * plan.workers_per_trial
    free = [(round(n.cpus * _UNITS), round(n.gpus * _UNITS)) for n in nodes]
    for spread in _spreads(drivers, len(nodes)):
        left = [(c - k * driver, g) for (c, g), k in zip(free, spread, strict=True)]
        if any(c < 0 for c, _ in left):
            continue  # Ray cannot start them so
        held = sum(min(c // worker[0], g // worker[1] if worker[1] else c) for c, g in left)
        if held < count:
            return False
    return True


_GPU_NODE = Node(4.0, 1.0)  # g5.xlarge (cluster.yaml's gpu.1x)
_HEAD = Node(0.0)  # cluster.yaml's and clusters/local.yaml's head: no trials on it


@pytest.mark.parametrize(
    ("nodes", "workers", "concurrent", "cpus_per_worker"),
    [
        # four one-GPU nodes, two trials at once: a node's 4 CPUs each, not 8 of the 16
        ([_HEAD] + [_GPU_NODE] * 4, 1, 2, 4.0),
        # data-parallel over one-GPU nodes: room on each node for both trials' drivers
        ([_HEAD] + [_GPU_NODE] * 4, 2, None, 3.98),
        ([_HEAD] + [_GPU_NODE] * 4, 4, None, 3.99),
        # clusters/local.yaml: two 1-CPU nodes
        ([_HEAD, Node(1.0), Node(1.0)], 1, 1, 1.0),
        ([_HEAD, Node(1.0), Node(1.0)], 2, None, 0.99),
    ],
)
def test_a_worker_is_given_no_more_cpus_than_a_node_holds_for_it(
    nodes: list[Node], workers: int, concurrent: int | None, cpus_per_worker: float
) -> None:
    """Found by review: planned from the cluster's totals, each of these asked for more
    CPUs per bundle than any node has (8 CPUs per trial on 4-CPU nodes), or left no node
    room for a trial's 0.01-CPU driver: the trials waited PENDING for ever."""
    plan = plan_resources(nodes, workers, concurrent)
    assert plan.cpus_per_worker == cpus_per_worker
    assert _fits_every_way(plan, nodes)


def test_a_plan_capped_by_its_nodes_says_how_many_cpus_stay_idle() -> None:
    described = plan_resources([_HEAD] + [_GPU_NODE] * 4, 1, 2).describe()
    assert "as much as a node holds: 8 of the cluster's CPUs stay idle" in described
    # a cap of a few hundredths (the drivers' room) is not worth a word
    assert "idle" not in plan_resources([_HEAD] + [_GPU_NODE] * 4, 2, None).describe()


def test_a_trial_that_fits_the_totals_but_no_node_is_refused_naming_the_nodes() -> None:
    with pytest.raises(ConfigError) as err:
        plan_resources([Node(8.0), Node(0.0, 1.0), Node(0.0, 1.0)], 1, None)
    (problem,) = err.value.problems
    assert problem.startswith("--workers-per-trial 1: a trial of 1 GPU worker(s) fits the ")
    assert "(1 of 8 CPU; 2 of 0 CPU, 1 GPU)" in problem and "not one worker fits" in problem


def test_a_refusal_by_the_nodes_names_the_most_trials_that_place() -> None:
    """Two GPU trials fit the cluster's GPUs and CPUs, but one GPU node has no CPU."""
    nodes = [Node(8.0), Node(0.0, 1.0), Node(1.0, 1.0)]
    with pytest.raises(ConfigError) as err:
        plan_resources(nodes, 1, 2)
    (problem,) = err.value.problems
    assert problem.startswith("--max-concurrent 2: 2 trials of 1 GPU worker(s) at once fit")
    assert problem.endswith("at most 1 trials at once fit")
    assert _fits_every_way(plan_resources(nodes, 1, 1), nodes)


def test_trials_on_cpus_hold_none_of_the_clusters_gpus() -> None:
    plan = plan_resources([_HEAD] + [_GPU_NODE] * 4, 1, None, use_gpus=False)
    assert plan.gpus_per_worker == 0.0 and plan.trial_resources["gpu"] == 0.0
    assert plan.max_concurrent == 16  # a CPU each, on every node's CPUs


_node = st.builds(
    Node,
    cpus=st.sampled_from([0.0, 1.0, 2.0, 4.0, 6.0, 8.0]),
    gpus=st.sampled_from([0.0, 0.0, 1.0, 2.0]),
)


@settings(max_examples=300, deadline=None)
@given(
    nodes=st.lists(_node, min_size=1, max_size=4),
    workers=st.integers(1, 4),
    concurrent=st.none() | st.integers(1, 12),
)
def test_every_plan_places_on_the_nodes_however_the_drivers_land(
    nodes: list[Node], workers: int, concurrent: int | None
) -> None:
    try:
        plan = plan_resources(nodes, workers, concurrent)
    except ConfigError:
        return
    assert plan.cpus_per_worker >= MIN_WORKER_CPU
    assert _fits_every_way(plan, nodes), plan.describe()
    # no more than the cluster's totals would give: the nodes only ever cap the share
    one_node = plan_resources(
        {"CPU": sum(n.cpus for n in nodes), "GPU": sum(n.gpus for n in nodes)},
        workers,
        plan.max_concurrent,
    )
    assert plan.cpus_per_worker <= one_node.cpus_per_worker


@pytest.mark.parametrize(
    ("nodes", "workers", "concurrent"),
    [
        ([Node(32.0)] * 200, 2, 3200),  # every CPU a worker's, as on one machine
        ([Node(8.0)] * 1000, 4, 2000),
        ([_HEAD] + [_GPU_NODE] * 1000, 2, 499),  # one trial less than the GPUs hold
    ],
)
def test_without_max_concurrent_a_large_cluster_runs_as_many_trials_as_it_places(
    nodes: list[Node], workers: int, concurrent: int
) -> None:
    """Found by review: the default (the trials the totals hold) was refused where every
    node could not keep room for all those drivers, telling the user to pass
    --max-concurrent; the README says the default is as many as the cluster fits. With
    1000 one-GPU nodes, 400 drivers started on one node would leave its GPU no worker."""
    assert plan_resources(nodes, workers, None).max_concurrent == concurrent


@pytest.mark.parametrize(("nodes", "concurrent", "least"), [(100, None, 0.95), (200, 3000, 1.0)])
def test_many_nodes_keep_room_for_the_drivers_without_leaving_cpus_idle(
    nodes: int, concurrent: int | None, least: float
) -> None:
    """Found by review: keeping room for every driver on every node set 1600 CPUs of 200
    nodes aside for 16 CPUs of drivers (0.5 CPU a worker; 0.066 with --max-concurrent
    3000). A driver takes at most one worker's slot wherever it lands."""
    plan = plan_resources([Node(32.0)] * nodes, 2, concurrent)
    assert plan.cpus_per_worker >= least, plan.describe()


@pytest.mark.parametrize(
    ("nodes", "workers", "concurrent"),
    [
        ([Node(1.0), Node(1.0)], 2, 1000),
        ([Node(8.0), Node(4.0, 1.0), Node(0.0, 1.0)], 1, 3),  # a GPU node with no CPU
        ([Node(1.0), Node(1.0)], 5000, None),
        ([Node(0.0, 4.0), Node(8.0), Node(4.0, 4.0)], 5, 2),  # workers, with 2 trials at once
    ],
)
def test_the_most_a_refusal_names_plans(
    nodes: list[Node], workers: int, concurrent: int | None
) -> None:
    """Found by review: 'at most N' counted the cluster's total CPUs or GPUs, not its
    nodes, so N was refused in turn."""
    with pytest.raises(ConfigError) as err:
        plan_resources(nodes, workers, concurrent)
    (problem,) = err.value.problems
    found = re.search(r"at most (\d+) (trials|workers)", problem)
    assert found, problem
    most = int(found.group(1))
    if found.group(2) == "workers":  # with the trials at once asked for
        plan_resources(nodes, most, concurrent)
        with pytest.raises(ConfigError):
            plan_resources(nodes, most + 1, concurrent)
    else:
        assert plan_resources(nodes, workers, most).max_concurrent == most
        with pytest.raises(ConfigError):
            plan_resources(nodes, workers, most + 1)


def test_a_cluster_with_no_cpu_yet_is_refused_saying_how_to_get_its_workers() -> None:
    """cluster.yaml's head holds no CPU for trials, and its workers autoscale from zero."""
    with pytest.raises(ConfigError) as err:
        plan_resources([_HEAD], 1, None)
    (problem,) = err.value.problems
    assert problem.startswith("the Ray cluster has 0 CPUs; at least 1 is needed")
    assert "python clusters/scale.py" in problem


@pytest.mark.parametrize(
    ("nodes", "workers", "concurrent", "message"),
    [
        ([Node(8.0), Node(0.0, 1.0), Node(0.0, 1.0)], 1, 3, "not one worker fits"),
        (
            [Node(0.0, 2.0), Node(8.0), Node(4.0, 2.0)],
            3,
            3,
            "with 3 trials at once none fits, however few its workers; one trial at a time "
            "fits at most 2 workers",
        ),
        (
            [Node(0.0, 4.0), Node(8.0), Node(4.0, 4.0)],
            5,
            2,
            "with 2 trials at once at most 2 workers per trial fit (4 with one trial at a time)",
        ),
    ],
)
def test_gpu_trials_no_node_places_are_refused_for_what_keeps_them_off(
    nodes: list[Node], workers: int, concurrent: int, message: str
) -> None:
    """Found by review: more GPU trials than the GPUs hold, where not one trial places (a
    GPU node with no CPU), said 'at most 0 trials at once fit': no --max-concurrent helps.
    The workers that fit are counted with the trials at once asked for: they were counted
    for one trial alone, so the fewer workers said could still not fit."""
    with pytest.raises(ConfigError) as err:
        plan_resources(nodes, workers, concurrent)
    (problem,) = err.value.problems
    assert problem.startswith(f"--workers-per-trial {workers}: ") and problem.endswith(message)
    assert "at most 0" not in problem
