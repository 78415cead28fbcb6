"""The runs of the scaling benchmark: which (benchmark, method, k, seed) and how each runs.

``trials`` runs: every method, 200 trials (the space's num_samples). ``reach`` runs: the
default only, trials keep coming until the target (the default's median best at k=1 after
200 trials) is reached, up to a time limit. ``budget`` runs: a search that spends fewer
epochs than the default gets as many trials as it takes to spend the default's epochs
(seed by seed, at the same k). ``decisions`` and ``cap`` runs: the driver's
decision time to 2,000 trials, and the observation cap's effect (bench.scaling.decisions).
A run's record keeps its improvements (each new best: epochs spent, simulated seconds,
value), so the best at any budget of epochs or time can be read back.
"""

from __future__ import annotations

import multiprocessing
import os
import time
import warnings
from dataclasses import asdict, dataclass
from typing import Any

from bench.common import log
from bench.scaling.analyse import TIME_DECIMALS

__all__ = ["Job", "pool_map", "run_job", "simulate_job"]

REACH_TRIALS = 3  # a reach run at k=1 starts at most this many times the space's trials
BUDGET_TRIALS = 100  # a budget run starts at most this many times the space's trials


@dataclass(frozen=True)
class Job:
    bench: str
    method: str
    workers: int
    seed: int
    kind: str = "trials"  # or "reach", "budget", "draws" (bench.scaling.draws)
    target: float | None = None  # reach: the value to reach
    time_limit: float | None = None  # reach: simulated seconds
    trials: int | None = None  # instead of the space's num_samples
    epoch_budget: int | None = None  # budget: end the run after this many epochs
    against: str | None = None  # reach: whose k=1 target and time (None: the baseline's)
    start_s: float = 0.0  # simulated seconds each trial takes before its first epoch


def _quiet() -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore")
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def simulate_job(job: Job) -> tuple[Any, Any, float]:
    """Run one simulated search: its curve source, its ``SimResult`` and the real seconds
    it took."""
    import numpy as np

    from bench.scaling.benchmarks import BENCHMARKS, load
    from bench.scaling.methods import METHODS
    from raysearch.search.simulation.engine import SimSettings, simulate

    _quiet()
    space, source = load(job.bench)
    policy = METHODS[job.method].policy(space, job.seed, job.workers)
    trials = job.trials or space.settings.num_samples
    if job.kind == "reach":
        trials *= REACH_TRIALS * job.workers
    elif job.kind == "budget":
        trials *= BUDGET_TRIALS
    settings = SimSettings(
        workers=job.workers,
        num_trials=trials,
        seed=job.seed,
        target=job.target,
        time_limit=job.time_limit,
        epoch_budget=job.epoch_budget,
        start_s=job.start_s,
        fresh_replicates=BENCHMARKS[job.bench].fresh_replicates,
    )
    # Ray's ASHA drew a trial's bracket from NumPy's global generator; raysearch's draws
    # from its own (search/asha.py). Seeded still, for any library that draws from it.
    np.random.seed(job.seed)
    started = time.perf_counter()
    result = simulate(policy, source, settings)
    return source, result, time.perf_counter() - started


def run_job(job: Job) -> dict[str, Any]:
    """Run one simulated search; its record (plain JSON types)."""
    import numpy as np

    from bench.scaling.benchmarks import measured_on

    source, result, spent = simulate_job(job)
    values = result.epochs["value"].to_numpy()
    best = np.minimum.accumulate(values)
    new = np.flatnonzero(np.r_[True, best[1:] < best[:-1]])
    decide = result.trials["decide_s"].to_numpy()
    cpu = result.trials["decide_cpu_s"].to_numpy()
    record = {
        **asdict(job),
        "source": source.name,
        **measured_on(job.bench),
        "optimum": float(source.optimum),
        "trials": len(result.configs),
        "epochs": len(values),
        "end": float(result.end),
        "best": float(best[-1]),
        "reached": bool(result.reached),
        "busy": float(result.busy_fraction()),
        "improvements": [
            [
                int(i) + 1,
                round(float(result.epochs["t"].iloc[i]), TIME_DECIMALS),
                float(f"{best[i]:.6g}"),
            ]
            for i in new
        ],
        "decide_ms_mean": round(1000 * float(decide.mean()), 3),
        "decide_ms_max": round(1000 * float(decide.max()), 3),
        # per trial, in trial order, for the decision-time runs only (the others: the mean)
        "decide_ms": [round(1000 * float(x), 3) for x in decide] if job.kind == "decisions" else [],
        "decide_cpu_ms": [round(1000 * float(x), 3) for x in cpu]
        if job.kind == "decisions"
        else [],
        "cpu_s": round(spent, 2),
    }
    if job.kind == "draws":
        from bench.scaling.draws import drawn

        record["drawn"] = drawn(result, source)
        # per improvement: the epoch of its own trial it was reported at
        record["depths"] = [int(result.epochs["epoch"].iloc[i]) for i in new]
    return record


def pool_map(jobs: list[Job], processes: int) -> list[dict[str, Any]]:
    """Run ``jobs`` in ``processes`` niced worker processes (spawned), logging progress."""
    log(f"scaling: {len(jobs)} runs on {processes} processes")
    done: list[dict[str, Any]] = []
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(
        processes, initializer=os.nice, initargs=(10,)
    ) as pool:
        for record in pool.imap_unordered(run_job, jobs):
            done.append(record)
            if len(done) % 20 == 0 or len(done) == len(jobs):
                spent = time.perf_counter() - started
                log(f"scaling: {len(done)}/{len(jobs)} runs, {spent:.0f} s")
    return done
