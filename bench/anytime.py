"""Anytime curves: the best value found so far against the budget spent.

A search is a list of epoch records ``(trial, epoch, value, t)``: one trained epoch of
one trial, whose validation ``value`` was known ``t`` seconds after the search started.
Every record is one epoch of budget, whichever trial it belongs to, so a method that stops
trials early (ASHA, Hyperband) reaches a value with fewer epochs than one that does not.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

__all__ = [
    "anytime_curve",
    "curve_values",
    "epochs_to_reach",
    "incumbent_curve",
    "median_curve",
]


def anytime_curve(records: pd.DataFrame) -> pd.DataFrame:
    """Columns ``t``, ``epochs`` (cumulative, 1..n) and ``best`` (the running minimum of
    ``value``), one row per record in the order the values became known."""
    ordered = records.sort_values("t", kind="stable").reset_index(drop=True)
    return pd.DataFrame(
        {
            "t": ordered["t"].to_numpy(dtype=float),
            "epochs": np.arange(1, len(ordered) + 1, dtype=float),
            "best": ordered["value"].astype(float).cummin().to_numpy(),
        }
    )


def incumbent_curve(records: pd.DataFrame, score: Callable[[object], float]) -> pd.DataFrame:
    """Like :func:`anytime_curve`, but ``best`` is ``score(trial)`` of the incumbent: the
    trial holding the lowest ``value`` reported so far (the earliest such record on a tie).
    Also a column ``trial``: the incumbent. ``score`` is called once per distinct
    incumbent, e.g. the trial's configuration evaluated at full fidelity minus the known
    optimum (simple regret). Unlike ``anytime_curve`` it need not be non-increasing: a
    new incumbent's low-fidelity value can beat the old one's while its score is worse.
    """
    ordered = records.sort_values("t", kind="stable").reset_index(drop=True)
    values = ordered["value"].to_numpy(dtype=float)
    n = len(values)
    holder = np.zeros(n, dtype=int)  # position of the running minimum's first record
    for i in range(1, n):
        holder[i] = i if values[i] < values[holder[i - 1]] else holder[i - 1]
    trials = ordered["trial"].to_numpy()[holder] if n else np.array([])
    scores: dict[object, float] = {}
    for k in trials:
        if k not in scores:
            scores[k] = float(score(k))
    best = np.array([scores[k] for k in trials], dtype=float)
    return pd.DataFrame(
        {
            "t": ordered["t"].to_numpy(dtype=float),
            "epochs": np.arange(1, n + 1, dtype=float),
            "best": best,
            "trial": trials,
        }
    )


def epochs_to_reach(curve: pd.DataFrame, target: float, axis: str = "epochs") -> float:
    """The ``axis`` value (epochs spent, or ``t``) when the curve first got to ``target`` or
    below (inf: never)."""
    reached = np.flatnonzero(curve["best"].to_numpy(dtype=float) <= target)
    return float(curve[axis].to_numpy(dtype=float)[reached[0]]) if len(reached) else math.inf


def curve_values(curves: Sequence[pd.DataFrame], axis: str, grid: np.ndarray) -> np.ndarray:
    """Each curve's ``best`` at each ``grid`` value of ``axis`` (a step function: the
    last value at or before the grid point), one row per curve; NaN before its first."""
    grid = np.asarray(grid, dtype=float)
    values = np.full((len(curves), len(grid)), np.nan)
    for i, curve in enumerate(curves):
        x, best = curve[axis].to_numpy(dtype=float), curve["best"].to_numpy(dtype=float)
        idx = np.searchsorted(x, grid, side="right") - 1
        values[i] = np.where(idx >= 0, best[np.clip(idx, 0, None)], np.nan) if len(x) else np.nan
    return values


def median_curve(curves: Sequence[pd.DataFrame], axis: str, grid: np.ndarray) -> np.ndarray:
    """The median over ``curves`` of their best-so-far at each ``grid`` value of ``axis``
    (``epochs`` or ``t``); NaN until more than half the curves have a value.

    A curve with no value yet counts as +inf (it has found nothing), so once more than
    half have one the median is finite (with exactly half, it would be inf)."""
    values = curve_values(curves, axis, grid)
    present = np.sum(~np.isnan(values), axis=0)
    enough = present * 2 > len(curves)
    if not enough.any():
        return np.full(len(grid), np.nan)
    med = np.median(np.where(np.isnan(values), np.inf, values), axis=0)
    return np.where(enough, med, np.nan)
