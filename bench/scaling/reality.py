"""The simulator against real Ray Tune runs: augmented Hartmann at k = 4, same seeds
(``compare_with_ray``); and one trial at a time on every benchmark, trial for trial
(``replay_with_ray``).

The real runs are run as bench/hartmann.py runs its methods (``_ray_method``), with
raysearch's default search: ``build_searcher`` and ``build_scheduler`` in a real
``tune.Tuner`` on a local Ray, 4 trials at once, each trial a Tune function that reports
f(x, e/E) for e = 1..E (it takes milliseconds, and Ray's own timing decides the order of
events). The simulated runs drive the same objects on the simulator (epochs of 1 s +-
20%). Per seed, the best value found after the same 200 trials; the two regret
distributions are compared by their medians and quartiles and by a two-sided
Mann-Whitney U test (scipy).

One trial at a time nothing but the search orders what happens, so there the simulated and
the real run of a seed must be the same run: ``replay_with_ray`` runs the default search of
each benchmark in a real Tuner on the benchmark's own curves
(``raysearch.search.simulation.replay``) and on the simulator, and records per seed whether
they started the same trials with the same seeds and stopped each at the same epoch, or
where they first parted.
"""

from __future__ import annotations

import logging
import os
import statistics
import tempfile
import time
from typing import Any

from bench.common import ROOT, log

__all__ = ["compare_with_ray", "replay_with_ray"]

WORKERS = 4


def _method() -> Any:
    """raysearch's default as bench/hartmann.py runs a method: build_searcher +
    build_scheduler, TPE + rung-gated ASHA."""
    from bench.methods import METHODS
    from raysearch.search.settings import SearchSettings

    found = METHODS["tpe_gated_asha"]
    default = SearchSettings(num_samples=1, max_epochs=1)
    if (found.searcher, found.scheduler) != (default.searcher, default.scheduler):
        raise RuntimeError(f"{found.name} is not raysearch's default search: {default}")
    return found


def _real(seeds: list[int], trials: int, epochs: int) -> list[float]:
    import ray

    from bench.hartmann import CONCURRENT, Scale, _ray_method
    from raysearch.search.simulation.hartmann import F_STAR

    if CONCURRENT != WORKERS:
        raise RuntimeError(f"bench/hartmann.py runs {CONCURRENT} trials at once, not {WORKERS}")
    ray.init(
        num_cpus=os.cpu_count() or 2,
        include_dashboard=False,
        logging_level=logging.WARNING,
        configure_logging=False,
    )
    regrets = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-scaling-ray-") as root:
            for seed in seeds:
                scale = Scale(trials=trials, epochs=epochs, seeds=(seed,))
                res = _ray_method(_method(), seed, scale, root)
                regrets.append(float(res["records"]["value"].min()) - F_STAR)
    finally:
        ray.shutdown()
    return regrets


def _simulated(seeds: list[int], trials: int, epochs: int) -> list[float]:
    from bench.hartmann import Scale, _space
    from raysearch.search.simulation.hartmann import F_STAR, HartmannCurves
    from raysearch.search.simulation.runs import run_search

    space = _space(_method(), Scale(trials=trials, epochs=epochs, seeds=tuple(seeds)))
    source = HartmannCurves(max_epochs=epochs)
    return [run_search(space, source, WORKERS, seed).best - F_STAR for seed in seeds]


def compare_with_ray(seeds: list[int], trials: int = 200, epochs: int = 27) -> dict[str, Any]:
    """Regret after ``trials`` trials, real Ray and simulated, per seed, and how they agree."""
    from scipy.stats import mannwhitneyu

    started = time.perf_counter()
    real = _real(seeds, trials, epochs)
    real_s = time.perf_counter() - started
    simulated = _simulated(seeds, trials, epochs)
    test = mannwhitneyu(real, simulated, alternative="two-sided")

    def quartiles(values: list[float]) -> list[float]:
        q = statistics.quantiles(values, n=4)
        return [q[0], statistics.median(values), q[2]]

    return {
        "seeds": seeds,
        "trials": trials,
        "epochs": epochs,
        "workers": WORKERS,
        "real": real,
        "simulated": simulated,
        "real_quartiles": quartiles(real),
        "simulated_quartiles": quartiles(simulated),
        "mannwhitney_p": float(test.pvalue),
        "real_s": round(real_s, 1),
    }


def replay_with_ray(benches: list[str], seeds: list[int]) -> list[dict[str, Any]]:
    """Per benchmark and seed: the default search (200 trials) one trial at a time, in Ray
    Tune and on the simulator, and whether they ran the same trials (``same``) or where
    they first parted (``difference``)."""
    import ray

    from bench.scaling.benchmarks import load
    from raysearch.search.simulation.replay import first_difference, run_in_tune
    from raysearch.search.simulation.runs import run_search

    ray.init(
        num_cpus=os.cpu_count() or 2,
        include_dashboard=False,
        logging_level=logging.WARNING,
        configure_logging=False,
        # Ray's workers import the benchmarks' curve sources (bench.lcbench) from the checkout
        runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}},
    )
    records = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-scaling-replay-") as root:
            for bench in benches:
                space, source = load(bench)
                for seed in seeds:
                    real = run_in_tune(space, source, seed, root)
                    simulated = run_search(space, source, 1, seed)
                    difference = first_difference(simulated, real)
                    records.append(
                        {
                            "bench": bench,
                            "seed": seed,
                            "trials": len(real.configs),
                            "epochs": len(real.epochs),
                            "same": difference is None,
                            "difference": difference,
                            "real_s": round(real.wall_s, 1),
                        }
                    )
                    log(
                        f"replay {bench} seed {seed}: {len(real.configs)} trials, "
                        f"{len(real.epochs)} epochs in {real.wall_s:.0f} s: "
                        + ("the same run" if difference is None else difference)
                    )
    finally:
        ray.shutdown()
    return records
