"""Which trials a result counts: those with a finite best value that did not fail (the
best trial, per-strategy figures), and of those, the ones whose value is final, because they
ran their course or ASHA ended them (what rung reliability, seed noise and fANOVA read).

A failed trial may have reported finite values before it failed (a loss that diverged at
epoch 5): it is never the best, since its configuration does not train. A trial that the
search's end cut short (interrupted, out of time) has a value so far, not a final one.
"""

from __future__ import annotations

import math

import pandas as pd

from raysearch.core.metrics import BEST_VAL_METRIC, COMPLETED, FAILED, STOPPED

__all__ = ["FINAL_STATUSES", "scored_trials"]

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
