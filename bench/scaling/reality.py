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

With k trials at once on a benchmark whose epochs take unequal times, the order results
arrive in comes from those times: ``timed_with_ray`` runs the default search of each
benchmark 4 at once in a real Tuner, each epoch sleeping its recorded duration scaled so
that the seeds' simulated runs would take TIMED_TOTAL_S seconds together, and on the
simulator;
per seed the regret after the run's trials and the epochs it spent, both ways. As on
Hartmann, Ray's timing decides the order, so the check is of the distributions.
"""

from __future__ import annotations

import logging
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.common import ROOT, log, markdown_table, seed_ranges
from bench.scaling.analyse import quartiles, spread

__all__ = ["compare_with_ray", "replay_with_ray", "timed_lines", "timed_with_ray"]

WORKERS = 4
# the real seconds a benchmark's timed runs take together, had each its simulated length:
# its time scale is this over the sum of the simulated runs' lengths (a run's length has a
# long tail on LCBench: of seeds 0-9 at k=4, the longest run is 14 times the shortest,
# scaling.json's timed records). Tune's controller takes some ms per result here (its
# scheduler, searcher, journal and loggers), in turn for all k trials; its delays stay in
# the real runs, as part of what is checked.
TIMED_TOTAL_S = 1800.0


@contextmanager
def _local_ray(cpus: int) -> Iterator[None]:
    """A local Ray with ``cpus`` CPUs for the block, shut down after it; its workers import
    the benchmarks' curve sources (bench.lcbench) from the checkout."""
    import ray

    ray.init(
        num_cpus=cpus,
        include_dashboard=False,
        logging_level=logging.WARNING,
        configure_logging=False,
        runtime_env={"env_vars": {"PYTHONPATH": str(ROOT)}},
    )
    try:
        yield
    finally:
        ray.shutdown()


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

    from bench.hartmann import CONCURRENT, Scale, _ray_method
    from raysearch.search.simulation.hartmann import F_STAR

    if CONCURRENT != WORKERS:
        raise RuntimeError(f"bench/hartmann.py runs {CONCURRENT} trials at once, not {WORKERS}")
    regrets = []
    cpus = os.cpu_count() or 2
    with _local_ray(cpus), tempfile.TemporaryDirectory(prefix="bench-scaling-ray-") as root:
        for seed in seeds:
            scale = Scale(trials=trials, epochs=epochs, seeds=(seed,))
            res = _ray_method(_method(), seed, scale, root)
            regrets.append(float(res["records"]["value"].min()) - F_STAR)
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
    from bench.scaling.benchmarks import BENCHMARKS, load, measured_on
    from raysearch.search.simulation.replay import first_difference, run_in_tune
    from raysearch.search.simulation.runs import run_search

    records = []
    cpus = os.cpu_count() or 2
    with _local_ray(cpus), tempfile.TemporaryDirectory(prefix="bench-scaling-replay-") as root:
        for bench in benches:
            space, source = load(bench)
            fresh = BENCHMARKS[bench].fresh_replicates
            for seed in seeds:
                real = run_in_tune(space, source, seed, root, fresh_replicates=fresh)
                simulated = run_search(space, source, 1, seed, fresh_replicates=fresh)
                difference = first_difference(simulated, real)
                records.append(
                    {
                        "bench": bench,
                        **measured_on(bench),
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
    return records


def timed_with_ray(benches: list[str], seeds: list[int]) -> list[dict[str, Any]]:
    """Per benchmark and seed: the default search (200 trials) ``WORKERS`` at once in a
    real Tuner, each epoch taking its recorded duration times the benchmark's time scale
    (TIMED_TOTAL_S over the sum of the simulated runs' lengths), and on the simulator; the
    regret and epochs of each."""
    from bench.scaling.benchmarks import BENCHMARKS, load
    from raysearch.search.simulation.replay import run_in_tune
    from raysearch.search.simulation.runs import run_search

    records = []
    # the trials sleep: more at once than cores is what a cluster's GPUs give
    cpus = max(os.cpu_count() or 2, WORKERS)
    with _local_ray(cpus), tempfile.TemporaryDirectory(prefix="bench-scaling-timed-") as root:
        for bench in benches:
            space, source = load(bench)
            fresh = BENCHMARKS[bench].fresh_replicates
            simulated = {
                seed: run_search(space, source, WORKERS, seed, fresh_replicates=fresh)
                for seed in seeds
            }
            scale = TIMED_TOTAL_S / sum(r.end for r in simulated.values())
            for seed in seeds:
                sim = simulated[seed]
                real = run_in_tune(
                    space,
                    source,
                    seed,
                    Path(root) / bench,
                    workers=WORKERS,
                    time_scale=scale,
                    fresh_replicates=fresh,
                )
                records.append(
                    {
                        "bench": bench,
                        "seed": seed,
                        "workers": WORKERS,
                        "time_scale": scale,
                        "trials": len(real.configs),
                        "real_regret": real.best - source.optimum,
                        "simulated_regret": sim.best - source.optimum,
                        "real_epochs": len(real.epochs),
                        "simulated_epochs": len(sim.epochs),
                        "real_s": round(real.wall_s, 1),
                        "simulated_s": round(sim.end * scale, 1),
                    }
                )
                log(
                    f"timed {bench} seed {seed}: real {len(real.configs)} trials, "
                    f"{len(real.epochs)} epochs, regret {real.best - source.optimum:.4g} in "
                    f"{real.wall_s:.0f} s; simulated {len(sim.epochs)} epochs, regret "
                    f"{sim.best - source.optimum:.4g} ({sim.end * scale:.0f} s scaled)"
                )
    return records


def timed_lines(timed: list[dict[str, Any]], under: bool) -> list[str]:
    """The timed runs' part of 'The simulator against real Ray runs' (``under``: the section
    has begun): per benchmark, regret and epochs both ways and whether they differ."""
    if not timed:
        return []
    from scipy.stats import mannwhitneyu

    rows, parted = [], []
    for bench in dict.fromkeys(r["bench"] for r in timed):
        mine = [r for r in timed if r["bench"] == bench]
        found: dict[str, Any] = {"bench": bench, "k": mine[0]["workers"]}
        for what in ("regret", "epochs"):
            real = [float(r[f"real_{what}"]) for r in mine]
            sim = [float(r[f"simulated_{what}"]) for r in mine]
            p = float(mannwhitneyu(real, sim, alternative="two-sided").pvalue)
            fmt = ".3g" if what == "regret" else ",.0f"
            found |= {
                f"real_{what}": quartiles(spread(real), fmt),
                f"sim_{what}": quartiles(spread(sim), fmt),
                f"p_{what}": f"{p:.2f}",
            }
            if p < 0.05:
                parted.append(f"{bench} ({what}, p = {p:.2f})")
        found["scale"] = f"{statistics.median(r['time_scale'] for r in mine):.2g}"
        found["wall"] = (
            f"{statistics.median(r['real_s'] for r in mine):.0f} / "
            f"{statistics.median(r['simulated_s'] for r in mine):.0f}"
        )
        rows.append(found)
    seeds = sorted({r["seed"] for r in timed})
    trials = sorted({r["trials"] for r in timed})
    lines = [] if under else ["## The simulator against real Ray runs", ""]
    return [
        *lines,
        f"With {timed[0]['workers']} trials at once, on curves whose epochs take unequal "
        "times, those times order the results. The default search of each benchmark was "
        "run in a real Tuner on a local Ray, each trial a function trainable whose every "
        "epoch sleeps its recorded duration times the benchmark's scale (real seconds per "
        "recorded second: its seeds' simulated runs would take "
        f"{TIMED_TOTAL_S:.0f} s together), and on the simulator, with the same seeds "
        f"({', '.join(map(str, trials))} trials, seeds {seed_ranges(seeds)}; "
        f"{sum(r['real_s'] for r in timed):.0f} s of real runs; `--parts timed`). As on "
        "Hartmann the two runs of a seed need not draw the same trials, so the check is of "
        "the distributions: regret after the run's trials and the epochs it spent, median "
        "[25th, 75th percentile] over seeds, and the two-sided Mann-Whitney U p. 'Length': "
        "the median real run's seconds against the median simulated run's, scaled (Tune's own "
        "delays are in the first).",
        "",
        markdown_table(
            rows,
            {
                "bench": "benchmark",
                "k": "k",
                "scale": "scale",
                "real_regret": "regret, real",
                "sim_regret": "regret, simulated",
                "p_regret": "p",
                "real_epochs": "epochs, real",
                "sim_epochs": "epochs, simulated",
                "p_epochs": "p",
                "wall": "length, s (real / simulated)",
            },
        ),
        "",
        (
            "Where the two differ at p < 0.05: " + "; ".join(parted) + "."
            if parted
            else "No benchmark's regrets or epochs differ between the two at p < 0.05."
        ),
        "",
    ]
