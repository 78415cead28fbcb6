"""Resource planning: trials always fit the cluster; impossible requests are refused."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raysearch.core.errors import ConfigError
from raysearch.search.resources import DRIVER_CPU, MIN_WORKER_CPU, fitting_cluster, plan_resources


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
    plan = plan_resources({"CPU": 16.0, "GPU": 4.0}, 2, None, max_node_gpus=4.0)
    assert plan.gpus_per_worker == 1.0
    assert plan.max_concurrent == 2


def test_more_gpus_per_trial_than_any_node_is_refused() -> None:
    with pytest.raises(ConfigError, match="GPUs per trial"):
        plan_resources({"CPU": 16.0, "GPU": 2.0}, 4, None, max_node_gpus=2.0)


def test_more_concurrent_gpu_trials_than_gpus_is_refused() -> None:
    with pytest.raises(ConfigError, match="at most 2 fit"):
        plan_resources({"CPU": 16.0, "GPU": 4.0}, 2, 3, max_node_gpus=4.0)


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
