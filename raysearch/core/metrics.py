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
    "FINAL_KEY",
    "MODE",
    "TEST_METRIC",
    "TIME_ATTR",
    "TIME_PREFIX",
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


def time_key(phase: str) -> str:
    """The metric name of a phase's seconds: ``time/<phase>_s``."""
    return f"{TIME_PREFIX}{phase}_s"


def is_test_metric(name: str) -> bool:
    """True for the test split's metrics (``anchored_test_loss``, ``test_loss/<task>``, ...)."""
    return name.startswith((TEST_METRIC, "test_loss/", "test_regret/"))
