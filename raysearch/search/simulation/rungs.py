"""How well a curve source's early epochs rank its configurations, at ASHA's rungs.

ASHA stops a trial at a rung when its value there is outside the best third of the values
the rung has recorded. That is only as good as the rung's ranking, and the ranking that
matters is among the configurations the search draws: once TPE has found the good region,
it draws there, and the rung's cut-off comes from such trials. So ``rank_rungs`` reports,
per rung, Spearman's rho of the value at the rung with the curve's best value over every
curve, and over the best tenth of the curves only (at least 5 of them: every curve where
there are 5 or fewer); and, over those best curves, with the value
at the next rung (the last epoch after the last rung), which is what ``gated_asha``'s gate
checks (search/gated_asha.py). Where the configurations that end best start slowly, the
best tenth's rho with the curve's best is low while neighbouring rungs still agree: ASHA
stops the slow starters and the gate does not see it (results/benchmarks/scaling.md, the
LCBench tasks).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna

from raysearch.search.gated_asha import spearman
from raysearch.search.simulation.curves import CurveSource
from raysearch.search.space import SearchSpace

__all__ = [
    "BEST_SHARE",
    "DRAWS",
    "RungRank",
    "RungRanks",
    "rank_rungs",
    "sample_curves",
]

BEST_SHARE = 0.1  # the share of the distinct curves, by their best value, called the best
BEST_LEAST = 5  # ... and at least this many
DRAWS = 2000  # random configurations drawn by sample_curves


@dataclass(frozen=True)
class RungRank:
    """One rung: Spearman's rho of the value at ``epoch`` with the curve's best over every
    curve (``every``) and over the best curves (``best``), and over the best curves with
    the value at ``later`` (the next rung, or the last epoch) (``best_later``)."""

    epoch: int
    later: int
    every: float
    best: float
    best_later: float


@dataclass(frozen=True)
class RungRanks:
    curves: int  # distinct curves
    best_curves: int  # of which the best, by the curve's best value
    rungs: tuple[RungRank, ...]


def rank_rungs(values: Any, rungs: list[int]) -> RungRanks:
    """The ranking at each of ``rungs`` (epochs, 1-based, below the curves' end) of the
    curves in ``values`` (curves x epochs, lower is better; identical curves count once)."""
    curves = np.unique(np.asarray(values, dtype=float), axis=0)
    if curves.ndim != 2 or len(curves) == 0:
        raise ValueError(f"rank_rungs needs curves x epochs values, got shape {curves.shape}")
    epochs = curves.shape[1]
    bad = [r for r in rungs if not 1 <= r < epochs]
    if bad:
        raise ValueError(f"rung epochs {bad} are not below the curves' {epochs} epochs")
    final = curves.min(axis=1)
    count = min(len(curves), max(BEST_LEAST, round(BEST_SHARE * len(curves))))
    best = curves[np.argsort(final, kind="stable")[:count]]
    best_final = best.min(axis=1)
    found = []
    for i, rung in enumerate(rungs):
        later = rungs[i + 1] if i + 1 < len(rungs) else epochs
        found.append(
            RungRank(
                epoch=rung,
                later=later,
                every=spearman(curves[:, rung - 1], final),
                best=spearman(best[:, rung - 1], best_final),
                best_later=spearman(best[:, rung - 1], best[:, later - 1]),
            )
        )
    return RungRanks(curves=len(curves), best_curves=count, rungs=tuple(found))


def sample_curves(
    space: SearchSpace, source: CurveSource, draws: int = DRAWS, seed: int = 0
) -> np.ndarray:
    """The curves (draws x epochs) of ``draws`` configurations drawn at random from
    ``space`` (Optuna's RandomSampler, ``seed``), the i-th trained with seed ``seed + i``."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    epochs = source.max_epochs
    rows = []
    for i in range(draws):
        trial = study.ask()
        config = space.sample(trial)
        study.tell(trial, 0.0)
        curve = source.curve(config, seed + i)
        rows.append([curve.value(e) for e in range(1, epochs + 1)])
    return np.asarray(rows, dtype=float)
