"""The one way a trial reports to Tune.

Ray's ASHA returns CONTINUE when the metric or time attribute is missing from a report,
so a misnamed metric silently stops nothing. Every report goes through ``check_report``,
which refuses a report without them or with a non-finite metric.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from raysearch.core.metrics import BEST_VAL_METRIC, TIME_ATTR, VAL_METRIC

__all__ = ["NonFiniteMetricError", "check_report"]


class NonFiniteMetricError(RuntimeError):
    """A trial produced a non-finite metric; the trial fails with this reason."""


def check_report(metrics: Mapping[str, Any]) -> dict[str, Any]:
    """Return a copy of ``metrics`` that Tune can use, or raise naming what is wrong."""
    missing = [k for k in (VAL_METRIC, BEST_VAL_METRIC, TIME_ATTR) if k not in metrics]
    if missing:
        raise KeyError(
            f"a trial report must hold {VAL_METRIC!r}, {BEST_VAL_METRIC!r} and {TIME_ATTR!r}; "
            f"missing {missing} (got keys {sorted(metrics)})"
        )
    value = float(metrics[VAL_METRIC])
    if not math.isfinite(value):
        raise NonFiniteMetricError(f"{VAL_METRIC} is {value} at {TIME_ATTR} {metrics[TIME_ATTR]}")
    return dict(metrics)
