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
import signal
import time
from collections.abc import Callable, Mapping
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, cast

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


def _work_in_turn(conn: Connection, gpu: str | None) -> None:
    """A recording process: with ``gpu``, see only that GPU; then train each run the driver
    sends on ``conn`` (its own pipe) and send back its result, until it sends None. A run's
    error ends the process with its traceback (the driver names the run). A Ctrl+C at the
    terminal reaches every process of the group: the driver alone answers it (it ends this
    process), so no run prints a KeyboardInterrupt's traceback."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if gpu is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = gpu
    while (work := conn.recv()) is not None:
        conn.send(_record_task(*work))


def record_in_pool(
    plan: CurvePlan,
    todo: list[tuple[dict[str, Any], int]],
    processes: int,
    cache_dir: str | Path | None,
    keep: Keep,
    log: Callable[[str], None],
) -> None:
    """``todo``'s runs in ``processes`` processes of this machine (no more than there are
    runs; a GPU each, in turn over the GPUs it sees, where the trainer may use one), each
    kept as it finishes; a run that fails stops the others (a RuntimeError naming it).

    Each process has a pipe of its own, not a queue all share (multiprocessing.Pool's): a
    SIGTERM to the process group (a batch scheduler's, timeout's) ended a pool worker that
    was waiting for its next run while it held the shared queue's lock, and the pool's
    terminate then waited on that lock for good. Here the driver ends every process it
    started, whatever state each is in, and waits on nothing they hold."""
    # Deferred: torch takes seconds to import.
    import torch

    context = multiprocessing.get_context("spawn")  # no fork of a process holding torch
    count = min(processes, len(todo))
    gpus = []
    if plan.device in (None, "auto", "cuda"):  # N runs on one GPU would share it
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        gpus = worker_gpus(count, visible, torch.cuda.device_count())
    if gpus:
        log(f"curves: one GPU per worker (CUDA_VISIBLE_DEVICES {', '.join(gpus)})")
    waiting = [(plan, config, seed, cache_dir) for config, seed in todo]
    started: list[tuple[BaseProcess, Connection]] = []
    done = False
    try:
        for i in range(count):
            mine, theirs = context.Pipe()
            gpu = gpus[i] if gpus else None
            spawned = context.Process(target=_work_in_turn, args=(theirs, gpu), daemon=True)
            spawned.start()
            theirs.close()  # the process's end: an EOF here once the process is gone
            started.append((spawned, mine))
        busy: dict[Connection, tuple[BaseProcess, tuple[Any, ...]]] = {}
        for process, conn in started:
            work = waiting.pop(0)
            conn.send(work)
            busy[conn] = (process, work)
        while busy:
            for ready in wait(list(busy)):
                conn = cast(Connection, ready)
                process, work = busy.pop(conn)
                try:
                    result = conn.recv()
                except EOFError:  # the process ended in its run: an error, killed
                    process.join()
                    raise RuntimeError(
                        f"the process recording {dict(work[1])} seed {work[2]} ended "
                        f"before the run did (exit code {process.exitcode}; an error's "
                        "traceback is above)"
                    ) from None
                keep(*result)
                if waiting:
                    work = waiting.pop(0)
                    conn.send(work)
                    busy[conn] = (process, work)
                else:
                    conn.send(None)  # no more work: it ends
        done = True
    finally:  # an error or Ctrl+C: every process is ended, its run in flight dropped
        for process, conn in started:
            if not done:
                process.kill()
            conn.close()
        for process, _ in started:
            process.join()  # done: each ends once told there is no more work


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
