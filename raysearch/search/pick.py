"""Which finalist a search picks: the order of its finalists (pandas only, no Ray), shared
by the finalists' run (``search.finalists``) and the evidence every summary gives
(``results.evidence_report``: the pick's margin over the next in this order).

A finalist is ranked by how many of its replicates failed (a configuration that failed with
one seed may fail again when trained anew), then by the mean best_anchored_val_loss of
those that finished, then by its rank in the search (1: the search's best).
"""

from __future__ import annotations

import math

import pandas as pd

from raysearch.core.metrics import BEST_VAL_METRIC, COMPLETED, FAILED

__all__ = ["failed_replicates", "finalist_order"]


def finalist_order(replicates: pd.DataFrame) -> list[int]:
    """The finalists of ``replicates`` (finalists.parquet's rows: ``finalist``, ``status``,
    best_anchored_val_loss) with a finished replicate, best first; the pick is the first."""
    finished = replicates["status"] == COMPLETED
    done = replicates[finished & replicates[BEST_VAL_METRIC].map(math.isfinite)]
    means = done.groupby("finalist")[BEST_VAL_METRIC].mean()
    failed = failed_replicates(replicates)
    key = {int(f): (failed[int(f)], float(means[f]), int(f)) for f in means.index}
    return sorted(key, key=key.__getitem__)


def failed_replicates(replicates: pd.DataFrame) -> dict[int, int]:
    """How many of each finalist's replicates failed."""
    failed = (replicates["status"] == FAILED).groupby(replicates["finalist"]).sum()
    return {int(f): int(failed[f]) for f in failed.index.to_list()}
