"""The trial scheduler: ASHA on the anchored validation loss, or FIFO (every trial at full
budget, the baseline)."""

from __future__ import annotations

from ray.tune.schedulers import ASHAScheduler, FIFOScheduler, TrialScheduler

from raysearch.core.metrics import MODE, TIME_ATTR, VAL_METRIC
from raysearch.search.space import SearchSpace

__all__ = ["build_scheduler"]


def build_scheduler(space: SearchSpace) -> TrialScheduler:
    """ASHA on the anchored metric, or with ``scheduler: fifo`` every trial at full budget."""
    s = space.settings
    if s.scheduler == "fifo":
        return FIFOScheduler()
    return ASHAScheduler(
        time_attr=TIME_ATTR,
        metric=VAL_METRIC,
        mode=MODE,
        max_t=s.max_epochs,
        grace_period=min(s.grace_period, s.max_epochs),
        reduction_factor=s.reduction_factor,
        # Trials that reach max_epochs end themselves, so they evaluate the test split and
        # write their outcome; ASHA only stops trials at its rungs below that.
        stop_last_trials=False,
    )
