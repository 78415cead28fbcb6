"""Where a recording's runs train (``raysearch.search.simulation.record``): one at a time in
this process, ``processes`` at once in a pool of this machine's processes (a GPU each, in
turn over the GPUs it sees, where the trainer may use one), or as Ray tasks on a cluster
(``run_resources`` each). Each run is trained by the trainer's own ``fit`` on one torch
thread, its data prepared once per process, and handed to ``keep`` as it finishes, which
alone writes (the driver's partial file).
"""

from __future__ import annotations

import math
import multiprocessing
import os
import queue
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from raysearch.search.names import CURVES_API, Names
from raysearch.search.simulation.curve_plan import CurvePlan

__all__ = [
    "forget_prepared",
    "prepared_here",
    "record_here",
    "record_in_pool",
    "record_on_ray",
    "run_resources",
    "worker_gpus",
]

Keep = Callable[[Mapping[str, Any], int, list[dict], float], None]  # config, seed, rows, seconds


def _rows(plan: CurvePlan, config: Mapping[str, Any], seed: int, epochs: list[dict]) -> list[dict]:
    values = {p: config.get(p, math.nan) for p in plan.params}
    return [{**values, "seed": seed, **e} for e in epochs]


def _train(plan: CurvePlan, config: Mapping[str, Any], seed: int, data: Any) -> list[dict]:
    # Deferred: torch takes seconds to import; a plan is checked before it loads.
    from raysearch.train.curves import fit_with_test_curve

    epochs, _ = fit_with_test_curve(plan.trial_config(config, seed), data)
    return epochs


_PREPARED: dict[Any, Any] = {}  # a process's prepared data, by its DataConfig


def prepared_here(cfg: Any, cache_dir: str | Path | None) -> Any:
    """The data of ``cfg`` (a DataConfig) prepared once in this process, for every run that
    trains here (by the data config: a dataset's files are hashed once); ``forget_prepared``
    lets them go."""
    # Deferred: the data pipeline imports torch (seconds).
    from raysearch.data.prepared import prepare

    if cfg not in _PREPARED:
        _PREPARED[cfg] = prepare(cfg, cache_dir)
    return _PREPARED[cfg]


def forget_prepared() -> None:
    """Let go of the data ``prepared_here`` kept in this process."""
    _PREPARED.clear()


def _record_one(
    plan: CurvePlan, config: Mapping[str, Any], seed: int, cache_dir: str | Path | None
) -> tuple[list[dict], float]:
    """One run's rows and its wall seconds, trained on one torch thread (in this process or
    a worker's; the data is prepared once per process)."""
    # Deferred: torch takes seconds to import.
    import torch

    torch.set_num_threads(1)
    data = prepared_here(plan.trial_config(config, seed).data, cache_dir)
    started = time.perf_counter()
    rows = _rows(plan, config, seed, _train(plan, config, seed, data))
    return rows, time.perf_counter() - started


def worker_gpus(processes: int, visible: str | None, count: int) -> list[str]:
    """The GPU each of ``processes`` workers is given (its CUDA_VISIBLE_DEVICES), round robin
    over the GPUs this process sees: ``visible``, its own CUDA_VISIBLE_DEVICES, or with None
    all ``count``. Empty where there are none."""
    if visible is not None:
        ids = [v.strip() for v in visible.split(",") if v.strip()]
    else:
        ids = [str(i) for i in range(count)]
    return [ids[i % len(ids)] for i in range(processes)] if ids else []


def run_resources(device: str | None, cluster_gpus: float) -> dict[str, float]:
    """What one run asks a Ray cluster for: a GPU (and a CPU to feed it) where the trainer
    may use one (``device`` None, ``auto`` or ``cuda``) and the cluster has GPUs, or where
    it must (``cuda``: an autoscaling cluster adds GPU nodes for it); else one CPU, which
    its one torch thread keeps busy."""
    if device == "cuda" or (device in (None, "auto") and cluster_gpus > 0):
        return {"num_cpus": 1, "num_gpus": 1}
    return {"num_cpus": 1}


def _take_gpu(gpus: Any) -> None:
    """A pool worker's initializer: see only the next GPU of ``gpus`` (a queue). A worker
    started after the queue ran out (one replacing a dead worker) sees what its parent saw."""
    try:
        os.environ["CUDA_VISIBLE_DEVICES"] = gpus.get_nowait()
    except queue.Empty:
        return


def _record_any(
    work: tuple[CurvePlan, Mapping[str, Any], int, str | Path | None],
) -> tuple[Mapping[str, Any], int, list[dict], float]:
    """``_record_one`` in a pool's worker: (config, seed, rows, wall seconds)."""
    return _record_task(*work)


def _record_task(
    plan: CurvePlan, config: Mapping[str, Any], seed: int, cache_dir: str | Path | None
) -> tuple[Mapping[str, Any], int, list[dict], float]:
    """``_record_one`` as a Ray task: (config, seed, rows, wall seconds). Ray passes the
    plan, put in its object store once, as the plan itself."""
    return (config, seed, *_record_one(plan, config, seed, cache_dir))


def record_here(
    plan: CurvePlan,
    todo: list[tuple[dict[str, Any], int]],
    cache_dir: str | Path | None,
    keep: Keep,
) -> None:
    """``todo``'s runs one at a time in this process (its torch threads restored after)."""
    # Deferred: torch takes seconds to import.
    import torch

    threads = torch.get_num_threads()
    try:
        for config, seed in todo:
            keep(config, seed, *_record_one(plan, config, seed, cache_dir))
    finally:
        torch.set_num_threads(threads)
        forget_prepared()


def record_in_pool(
    plan: CurvePlan,
    todo: list[tuple[dict[str, Any], int]],
    processes: int,
    cache_dir: str | Path | None,
    keep: Keep,
    log: Callable[[str], None],
) -> None:
    """``todo``'s runs in ``processes`` processes of this machine (a GPU each, in turn over
    the GPUs it sees, where the trainer may use one), each kept as it finishes."""
    # Deferred: torch takes seconds to import.
    import torch

    context = multiprocessing.get_context("spawn")  # no fork of a process holding torch
    gpus = []
    if plan.device in (None, "auto", "cuda"):  # N runs on one GPU would share it
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        gpus = worker_gpus(processes, visible, torch.cuda.device_count())
    if gpus:
        log(f"curves: one GPU per worker (CUDA_VISIBLE_DEVICES {', '.join(gpus)})")
        given = context.Queue()
        for gpu in gpus:
            given.put(gpu)
        pool = context.Pool(processes, initializer=_take_gpu, initargs=(given,))
    else:
        pool = context.Pool(processes)
    try:
        work = [(plan, config, seed, cache_dir) for config, seed in todo]
        for finished_run in pool.imap_unordered(_record_any, work):
            keep(*finished_run)
        pool.close()
    finally:  # an error or Ctrl+C: the runs in flight and not started are dropped
        pool.terminate()
        pool.join()


def record_on_ray(
    plan: CurvePlan,
    todo: list[tuple[dict[str, Any], int]],
    address: str,
    processes: int | None,
    cache_dir: str | Path | None,
    keep: Keep,
    log: Callable[[str], None],
    names: Names = CURVES_API,
) -> None:
    """``todo``'s runs as Ray tasks on the cluster at ``address`` (``run_resources`` each, at
    most ``processes`` in flight, None: all), each kept as it finishes; on an error or
    Ctrl+C the tasks not finished are cancelled. ``names``: how an error names ``address``."""
    # Deferred: Ray takes seconds to import, and only a recording on a cluster needs it.
    import ray

    from raysearch.search.session import ray_session

    if cache_dir is not None:  # a task's working directory is not the driver's
        cache_dir = Path(cache_dir).resolve()
    with ray_session(address, names=names) as cluster:
        resources = run_resources(plan.device, cluster.gpus)
        units = {"num_cpus": "CPU", "num_gpus": "GPU"}
        each = " and ".join(f"{v:g} {units[k]}" for k, v in resources.items())
        log(
            f"curves: on the Ray cluster at {address} ({cluster.cpus:g} CPUs, "
            f"{cluster.gpus:g} GPUs), {each} per run"
        )
        task = ray.remote(_record_task).options(**resources)
        shared = ray.put(plan)  # once, not pickled again for each of its runs
        waiting = list(todo)
        limit = len(waiting) if processes is None else processes
        running: list[Any] = []
        try:
            while waiting or running:
                while waiting and len(running) < limit:
                    config, seed = waiting.pop(0)
                    running.append(task.remote(shared, config, seed, cache_dir))
                ready, running = ray.wait(running, num_returns=1)
                keep(*ray.get(ready[0]))
        finally:  # an error or Ctrl+C: what is still queued or training is cancelled
            for ref in running:
                ray.cancel(ref, force=True)
