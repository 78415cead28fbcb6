"""The one way a trial reports to Tune.

Ray's ASHA returns CONTINUE when the metric or time attribute is missing from a report,
so a misnamed metric silently stops nothing. Every report goes through ``check_report``,
which refuses a report without them or with a non-finite metric.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

__all__ = ["BEST_METRIC", "METRIC", "MODE", "TIME_ATTR", "NonFiniteMetricError", "check_report"]

METRIC = "anchored_val_loss"  # what ASHA compares at each rung
BEST_METRIC = "best_anchored_val_loss"  # what Optuna is told a trial achieved
MODE = "min"
TIME_ATTR = "epoch"


class NonFiniteMetricError(RuntimeError):
    """A trial produced a non-finite metric; the trial fails with this reason."""


def check_report(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of ``metrics`` that Tune can use, or raise naming what is wrong."""
    missing = [k for k in (METRIC, BEST_METRIC, TIME_ATTR) if k not in metrics]
    if missing:
        raise KeyError(
            f"a trial report must hold {METRIC!r}, {BEST_METRIC!r} and {TIME_ATTR!r}; "
            f"missing {missing} (got keys {sorted(metrics)})"
        )
    value = float(metrics[METRIC])
    if not math.isfinite(value):
        raise NonFiniteMetricError(f"{METRIC} is {value} at {TIME_ATTR} {metrics[TIME_ATTR]}")
    return dict(metrics)
