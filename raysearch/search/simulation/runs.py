"""A raysearch search on simulated curves, and what its runs say per number of workers."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from typing import Any

import numpy as np

from raysearch.search.scheduler import build_scheduler
from raysearch.search.searcher import build_searcher
from raysearch.search.simulation.curves import CurveSource
from raysearch.search.simulation.engine import SimResult, SimSettings, simulate
from raysearch.search.simulation.tune_policy import TunePolicy

__all__ = ["run_search", "summarise", "time_to_reach"]


def run_search(
    space: Any,
    source: CurveSource,
    workers: int,
    seed: int,
    *,
    num_trials: int | None = None,
    target: float | None = None,
    epoch_budget: int | None = None,
) -> SimResult:
    """Simulate the search ``python -m raysearch.run`` would run on ``space`` (its searcher
    and scheduler, built as the product builds them) with ``workers`` trials at once."""
    if space.settings.max_epochs != source.max_epochs:
        raise ValueError(
            f"the space runs {space.settings.max_epochs} epochs but {source.name}'s curves "
            f"have {source.max_epochs}: set max_epochs to {source.max_epochs}"
        )
    policy = TunePolicy(build_searcher(space, seed), build_scheduler(space, seed), workers)
    settings = SimSettings(
        workers=workers,
        num_trials=num_trials or space.settings.num_samples,
        seed=seed,
        target=target,
        epoch_budget=epoch_budget,
    )
    return simulate(policy, source, settings)


def time_to_reach(result: SimResult, value: float) -> float:
    """Simulated seconds until a trial first reported ``value`` or lower (inf: never)."""
    hit = np.flatnonzero(result.epochs["value"].to_numpy() <= value)
    return float(result.epochs["t"].iloc[hit[0]]) if len(hit) else math.inf


def summarise(results: Sequence[SimResult], optimum: float) -> dict[str, Any]:
    """Medians (and the spread: 25th and 75th percentiles) over seeds of one setting."""

    def spread(values: list[float]) -> dict[str, float]:
        q1, q3 = np.quantile(values, [0.25, 0.75])
        return {"median": statistics.median(values), "q25": float(q1), "q75": float(q3)}

    return {
        "seeds": len(results),
        "regret": spread([r.best - optimum for r in results]),
        "best": spread([r.best for r in results]),
        "hours": spread([r.end / 3600 for r in results]),
        "epochs": spread([float(len(r.epochs)) for r in results]),
        "busy": spread([r.busy_fraction() for r in results]),
        "decide_ms": spread([1000 * float(r.trials["decide_s"].mean()) for r in results]),
    }
