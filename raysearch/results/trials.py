"""Which trials a result counts: those with a finite best value that did not fail (the
best trial, per-strategy figures), and of those, the ones whose value is final, because they
ran their course or ASHA ended them (what rung reliability, seed noise and fANOVA read).

A failed trial may have reported finite values before it failed (a loss that diverged at
epoch 5): it is never the best, since its configuration does not train. A trial that the
search's end cut short (interrupted, out of time) has a value so far, not a final one.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from raysearch.core.metrics import BEST_VAL_METRIC, COMPLETED, FAILED, STOPPED
from raysearch.core.numbers import is_unset, plain

__all__ = [
    "FINAL_STATUSES",
    "best_row",
    "plain",
    "ranked_trials",
    "row_config",
    "scored_trials",
]

FINAL_STATUSES = (COMPLETED, STOPPED)


def scored_trials(trials: pd.DataFrame, *, final: bool = False) -> pd.DataFrame:
    """The rows of ``trials`` with a finite best value that did not fail; ``final``: only
    those whose value is final (``FINAL_STATUSES``)."""
    if trials.empty or BEST_VAL_METRIC not in trials:
        return trials.iloc[:0]
    values = pd.to_numeric(trials[BEST_VAL_METRIC], errors="coerce")
    keep = values.map(math.isfinite) & (trials["status"] != FAILED)
    if final:
        keep &= trials["status"].isin(FINAL_STATUSES)
    return trials[keep]


def ranked_trials(trials: pd.DataFrame) -> pd.DataFrame:
    """``scored_trials``, best first (ties in table order): the order a search's best trial
    is picked in."""
    finite = scored_trials(trials)
    if finite.empty:
        return finite
    return finite.iloc[np.argsort(pd.to_numeric(finite[BEST_VAL_METRIC]), kind="stable")]


def best_row(trials: pd.DataFrame) -> pd.Series | None:
    """The trial a search reports as its best (the first of ``ranked_trials``); None when
    no trial counts."""
    ranked = ranked_trials(trials)
    return None if ranked.empty else ranked.iloc[0]


def row_config(row: pd.Series) -> dict[str, Any]:
    """A trial row's configuration (its ``config/`` columns) as plain values, without the
    parameters it did not use (NaN or None: a conditional parameter left out)."""
    return {
        str(k)[len("config/") :]: plain(v)
        for k, v in row.items()
        if str(k).startswith("config/") and not is_unset(v)
    }
