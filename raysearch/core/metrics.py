"""Metric names: the one place that says what every report, table and summary calls them.

A trial reports ``VAL_METRIC`` every epoch (what ASHA compares at its rungs) and
``BEST_VAL_METRIC``, its best so far (what the searcher is told the trial achieved); both
are the anchored loss on the validation split (``raysearch.scoring.anchored``), lower is
better. ``TIME_ATTR`` counts epochs. The report after the last epoch carries ``FINAL_KEY``
and the test split's metrics under ``TEST_METRIC`` and the ``test_`` prefixes.
"""

from __future__ import annotations

__all__ = [
    "ANCHORED_CLIP",
    "BEST_VAL_METRIC",
    "COMPLETED",
    "FAILED",
    "FINAL_KEY",
    "INTERRUPTED",
    "MODE",
    "NOT_STARTED",
    "OUT_OF_TIME",
    "STOPPED",
    "TEST_METRIC",
    "TEST_NOT_SCORED",
    "TIME_ATTR",
    "TIME_PREFIX",
    "TRIAL_STATUSES",
    "UNFINISHED",
    "VAL_METRIC",
    "is_test_metric",
    "time_key",
]

VAL_METRIC = "anchored_val_loss"  # the anchored loss on the validation split, every epoch
BEST_VAL_METRIC = "best_anchored_val_loss"  # its minimum over the epochs so far
TEST_METRIC = "anchored_test_loss"  # the same metric on the test split, best checkpoint
MODE = "min"
TIME_ATTR = "epoch"
FINAL_KEY = "final"  # marks the one report sent after the last epoch
ANCHORED_CLIP = 3.0  # C in clip(log(L_i / b_i), -C, C): fixed for a whole search
TIME_PREFIX = "time/"

# A trial's status in trials.parquet and the summary: how it ended, or that it did not.
COMPLETED = "completed"  # ran to max_epochs or the trainer's early stopping; test split scored
# ... unless the search's time budget ran out as it scored it: its stop_reason ends so
TEST_NOT_SCORED = "the time budget ran out before its test split was scored"
STOPPED = "stopped"  # stopped by ASHA at a rung
FAILED = "failed"  # an error; the reason is in stop_reason
INTERRUPTED = "interrupted"  # ran some epochs; the search stopped first (--resume continues it)
NOT_STARTED = "not started"  # created, but the search stopped before it reported an epoch
# Cut when the search's time budget (--time-budget) ran out; also how such a search ended.
OUT_OF_TIME = "out of time"
TRIAL_STATUSES = (COMPLETED, STOPPED, FAILED, INTERRUPTED, NOT_STARTED, OUT_OF_TIME)
# A finalist replicate's status in finalists.parquet (beside completed and failed) when the
# run stopped before it ended or before Tune created it: --resume trains it.
UNFINISHED = "unfinished"


def time_key(phase: str) -> str:
    """The metric name of a phase's seconds: ``time/<phase>_s``."""
    return f"{TIME_PREFIX}{phase}_s"


def is_test_metric(name: str) -> bool:
    """True for the test split's metrics (``anchored_test_loss``, ``test_loss/<task>``, ...)."""
    return name.startswith((TEST_METRIC, "test_loss/", "test_regret/"))
