"""A raysearch search on simulated curves, and what its runs say per number of workers."""

from __future__ import annotations

import dataclasses
import math
import statistics
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.stats import binomtest

from raysearch.search.gated_asha import GatedASHA
from raysearch.search.scheduler import build_scheduler
from raysearch.search.searcher import build_searcher
from raysearch.search.simulation.curves import CurveSource
from raysearch.search.simulation.engine import SimResult, SimSettings, simulate
from raysearch.search.simulation.tune_policy import TunePolicy

__all__ = [
    "best_by",
    "check_epochs",
    "held_stops",
    "median_found",
    "paired",
    "resampled_speedups",
    "retrained",
    "run_search",
    "sign_p",
    "summarise",
    "time_to_reach",
    "whole_curve_bests",
]

RESAMPLES = 2000  # bootstrap resamples of the seeds behind a speed-up's spread


def check_epochs(space: Any, source: CurveSource) -> None:
    """A ValueError unless the space runs as many epochs as the source's curves have."""
    if space.settings.max_epochs != source.max_epochs:
        raise ValueError(
            f"the space runs {space.settings.max_epochs} epochs but {source.name}'s curves "
            f"have {source.max_epochs}: set max_epochs to {source.max_epochs}"
        )


def run_search(
    space: Any,
    source: CurveSource,
    workers: int,
    seed: int,
    *,
    num_trials: int | None = None,
    target: float | None = None,
    epoch_budget: int | None = None,
    start_s: float = 0.0,
    time_limit: float | None = None,
    fresh_replicates: bool = True,
) -> SimResult:
    """Simulate the search ``python -m raysearch.run`` would run on ``space`` (its searcher
    and scheduler, built as the product builds them) with ``workers`` trials at once;
    ``start_s``: simulated seconds each trial spends before its first epoch (and a paused
    one before it resumes), beside its epochs; ``time_limit``: simulated seconds after which
    the search ends (``SimSettings``), as ``--time-budget`` ends a real one;
    ``fresh_replicates``: a configuration drawn again draws a curve with a seed it has not
    had yet (``SimSettings``). With gated_asha, the result's ``gate_held`` counts the
    stops its gate held, by rung epoch."""
    check_epochs(space, source)
    scheduler = build_scheduler(space, seed)
    policy = TunePolicy(build_searcher(space, seed), scheduler, workers)
    settings = SimSettings(
        workers=workers,
        num_trials=num_trials or space.settings.num_samples,
        seed=seed,
        target=target,
        epoch_budget=epoch_budget,
        start_s=start_s,
        time_limit=time_limit,
        fresh_replicates=fresh_replicates,
    )
    result = simulate(policy, source, settings)
    if isinstance(scheduler, GatedASHA):  # the stops its gate held, by rung epoch
        held = {int(milestone): n for milestone, n in sorted(scheduler.held.items())}
        return dataclasses.replace(result, gate_held=held)
    return result


def median_found(bests: Sequence[float]) -> float:
    """The median of searches' best values as one of them found it (lower is better): with
    an even number, the worse of the two middle ones. At least half the searches reached
    it. The mean of the two may be a value no curve takes, which then only the searches at
    the better one reach: on a table of a few curves, half the searches never do."""
    return float(np.quantile(np.asarray(bests, dtype=float), 0.5, method="higher"))


def time_to_reach(result: SimResult, value: float) -> float:
    """Simulated seconds until a trial first reported ``value`` or lower (inf: never)."""
    hit = np.flatnonzero(result.epochs["value"].to_numpy() <= value)
    return float(result.epochs["t"].iloc[hit[0]]) if len(hit) else math.inf


def resampled_speedups(
    first: Sequence[float], at_k: Sequence[float], resamples: int = RESAMPLES, seed: int = 0
) -> np.ndarray:
    """How far the seeds pin a speed-up down: for each of ``resamples`` bootstrap resamples
    of the seeds (``first``'s times to the target and ``at_k``'s, each drawn with
    replacement), the median of ``first`` over the median of ``at_k``. A time not reached
    is inf: a resample whose median at k is inf reads 0 (it did not get there), one whose
    median at k is finite while ``first``'s is inf reads inf."""
    rng = np.random.default_rng(seed)
    a, b = np.asarray(first, dtype=float), np.asarray(at_k, dtype=float)
    m1 = np.median(a[rng.integers(len(a), size=(resamples, len(a)))], axis=1)
    mk = np.median(b[rng.integers(len(b), size=(resamples, len(b)))], axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):  # x / 0 is a k that started there
        return np.where(np.isfinite(mk), m1 / mk, 0.0)


def best_by(result: SimResult, seconds: float) -> float:
    """The best value reported by ``seconds`` simulated seconds (inf: none yet)."""
    reported = result.epochs["value"].to_numpy()[result.epochs["t"].to_numpy() <= seconds]
    return float(reported.min()) if len(reported) else math.inf


def sign_p(better: int, worse: int) -> float:
    """Two-sided sign test: how likely a split this uneven is if neither search is better
    (ties left out)."""
    return float(binomtest(better, better + worse).pvalue) if better + worse else 1.0


def paired(base: Sequence[SimResult], other: Sequence[SimResult]) -> dict[str, Any]:
    """``other`` against ``base``, seed by seed (the i-th of each ran with the same seed):
    in how many seeds its best value is lower, higher or the same after all its trials
    (``better``, ``worse``, ``same``), and at equal simulated wall time (``time_better``,
    ``time_worse``, ``time_same``) (by the end of the shorter of the two searches, so
    a search that spends longer per trial gets no more time for it); sign-test p of each."""
    if len(base) != len(other):
        raise ValueError(f"paired needs one run of each per seed: {len(base)} against {len(other)}")
    better = sum(o.best < b.best for b, o in zip(base, other, strict=True))
    worse = sum(o.best > b.best for b, o in zip(base, other, strict=True))
    at_time = [
        (best_by(b, min(b.end, o.end)), best_by(o, min(b.end, o.end)))
        for b, o in zip(base, other, strict=True)
    ]
    time_better = sum(o < b for b, o in at_time)
    time_worse = sum(o > b for b, o in at_time)
    return {
        "seeds": len(base),
        "better": better,
        "worse": worse,
        "same": len(base) - better - worse,
        "p": sign_p(better, worse),
        "time_better": time_better,
        "time_worse": time_worse,
        "time_same": len(base) - time_better - time_worse,
        "time_p": sign_p(time_better, time_worse),
    }


def whole_curve_bests(result: SimResult, source: CurveSource) -> np.ndarray:
    """Per trial of ``result`` (a run on ``source``), in trial order: the best value its
    configuration's whole curve reaches (the curve the trial drew), as if it had run to its
    last epoch. Their least is what the search would have found had its stops, and its
    end, cut off nothing it drew."""
    seeds = result.trials.set_index("trial")["curve_seed"]
    bests = []
    for number, config in enumerate(result.configs):
        curve = source.curve(config, int(seeds[number]))
        bests.append(min(curve.value(e) for e in range(1, curve.epochs + 1)))
    return np.asarray(bests, dtype=float)


def retrained(result: SimResult, source: CurveSource) -> int:
    """How many trials of ``result`` (a run on ``source``) trained a curve that an earlier
    trial of the same configuration had trained. A table gives a configuration drawn again
    its next recorded seed (``ReplicateSeeds``); once a configuration has been drawn more
    often than the table has seeds of it, its curves come round again, where a real search
    would train a new one."""
    seeds = result.trials.set_index("trial")["curve_seed"]
    seen: set[tuple[tuple[tuple[str, Any], ...], tuple[float, ...]]] = set()
    count = 0
    for number, config in enumerate(result.configs):
        curve = source.curve(config, int(seeds[number]))
        key = (
            tuple(sorted(config.items())),
            tuple(curve.value(e) for e in range(1, curve.epochs + 1)),
        )
        count += key in seen
        seen.add(key)
    return count


def held_stops(results: Sequence[SimResult]) -> dict[int, int]:
    """Per rung epoch, the trials ASHA stopped there that gated_asha's gate let go on, over
    ``results`` (``SimResult.gate_held``); empty for another scheduler."""
    total: dict[int, int] = {}
    for result in results:
        for epoch, n in result.gate_held.items():
            total[epoch] = total.get(epoch, 0) + n
    return dict(sorted(total.items()))


def _stopped_early(result: SimResult, max_epochs: int) -> int:
    """The trials that ended before ``max_epochs``, stopped by the scheduler or the trainer's
    own early stopping (a curve the trainer would end sooner ends there, as ``stopped``
    False): not those the run's end cut off."""
    t = result.trials
    return int(((t["epochs"] < max_epochs) & ~t["cut"].astype(bool)).sum())


def summarise(
    results: Sequence[SimResult], optimum: float, source: CurveSource | None = None
) -> dict[str, Any]:
    """Medians (and the spread: 25th and 75th percentiles) over seeds of one setting; with
    the runs' ``source``, also of the best value drawn (``whole_curve_bests``), the trials
    stopped early and the trials that trained a curve again (``retrained``)."""

    def spread(values: list[float]) -> dict[str, float]:
        q1, q3 = np.quantile(values, [0.25, 0.75])
        return {"median": statistics.median(values), "q25": float(q1), "q75": float(q3)}

    return {
        "seeds": len(results),
        "regret": spread([r.best - optimum for r in results]),
        "best": spread([r.best for r in results]),
        "hours": spread([r.end / 3600 for r in results]),
        "epochs": spread([float(len(r.epochs)) for r in results]),
        "trials": spread([float(len(r.trials)) for r in results]),
        "busy": spread([r.busy_fraction() for r in results]),
        "decide_ms": spread([1000 * float(r.trials["decide_s"].mean()) for r in results]),
        **(
            {
                "drawn": spread([float(whole_curve_bests(r, source).min()) for r in results]),
                # ended before max_epochs by the scheduler or the trainer's early stopping,
                # not by the run's end (its target, epoch budget or time limit)
                "stopped": spread([float(_stopped_early(r, source.max_epochs)) for r in results]),
                "retrained": spread([float(retrained(r, source)) for r in results]),
            }
            if source is not None
            else {}
        ),
    }
