"""The monthly casualty count target, from a daily source of losses (the war's personnel
losses by default): a month's target is the sum of its days, NaN unless every day of it is
observed."""

from __future__ import annotations

import numpy as np

from raysearch.core.errors import DataError
from raysearch.data.raw import RawDataset

__all__ = ["monthly_casualty"]


def monthly_casualty(
    raw: RawDataset, source: str = "personnel", feature: str = "personnel", absent: str = ""
) -> np.ndarray:
    """(NM,) float32 monthly sums of ``source.feature``'s daily values; NaN for a month with
    a day off the calendar or unobserved. Raises DataError if the feature is absent (its
    message ends with ``absent``: what the caller can do about it)."""
    src = raw.sources.get(source)
    if src is None or src.resolution != "daily" or feature not in src.features:
        have = {n: list(s.features) for n, s in raw.sources.items() if s.resolution == "daily"}
        raise DataError(
            [
                f"casualty needs the daily source {source!r} with feature {feature!r}; the "
                f"dataset's daily sources are {have}{absent}"
            ]
        )
    values = src.values[:, src.features.index(feature)].astype(np.float64)
    months = raw.day_month
    n_months = len(raw.months)
    total = np.zeros(n_months)
    np.add.at(total, months, np.nan_to_num(values))
    observed = np.zeros(n_months, dtype=np.int64)
    np.add.at(observed, months, ~np.isnan(values))
    full = raw.months.days_in_month.to_numpy()
    out = np.where(observed == full, total, np.nan).astype(np.float32)
    if np.nanmin(out, initial=0.0) < 0:
        bad = raw.months[np.flatnonzero(out < 0)[0]]
        raise DataError([f"casualty: month {bad} sums to a negative count {out[out < 0][0]!r}"])
    return out
