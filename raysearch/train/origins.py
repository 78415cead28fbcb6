"""One epoch's metrics over K validation origins: what a trial with ``val_origins = K``
reports to Tune, so ASHA and the searcher see one value per epoch.

Every metric is the mean over the origins that report it (a task without a target in one
origin's validation block is averaged over the others), except ``epoch`` (the one the
origins share, as they report it: a whole number), ``collapsed/<task>`` (1 if any origin's
model collapsed) and the phase seconds ``time/<phase>_s`` (summed: the origins train one
after another). With K >= 2 each origin's anchored loss is kept as
``anchored_val_loss/origin_<j>`` (j = 1 .. K, in time order). With K = 1 the metrics are
returned unchanged.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from raysearch.core.metrics import TIME_PREFIX, VAL_METRIC

__all__ = ["combine_origins", "origin_key"]


def origin_key(j: int) -> str:
    """The name of origin ``j``'s (1-based) anchored validation loss."""
    return f"{VAL_METRIC}/origin_{j}"


def combine_origins(per_origin: Sequence[dict[str, float]]) -> dict[str, float]:
    """The trial's metrics for one epoch from each origin's (in time order)."""
    if not per_origin:
        raise ValueError("combine_origins: no origin reported")
    if len(per_origin) == 1:
        return dict(per_origin[0])
    keys = list(dict.fromkeys(k for metrics in per_origin for k in metrics))
    out: dict[str, float] = {}
    for key in keys:
        values = [float(m[key]) for m in per_origin if key in m]
        if key == "epoch":  # the origins' one counter, kept as it is (an int), not averaged
            if len(set(values)) > 1:
                raise ValueError(f"combine_origins: the origins report epochs {values}")
            out[key] = next(m[key] for m in per_origin if key in m)
        elif key.startswith("collapsed/"):
            out[key] = max(values)
        elif key.startswith(TIME_PREFIX):
            out[key] = math.fsum(values)
        else:
            out[key] = math.fsum(values) / len(values)
    for j, metrics in enumerate(per_origin, start=1):
        out[origin_key(j)] = float(metrics[VAL_METRIC])
    return out
