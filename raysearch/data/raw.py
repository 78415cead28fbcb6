"""The in-memory form of a dataset before preprocessing: dense arrays with NaN = unobserved.

The contract loader (``contract.py``) and the synthetic generator (``synth.py``) both produce
a ``RawDataset``; everything downstream (preprocessing, windows, anchors, describe) reads it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = [
    "MONTHLY_TASKS",
    "RawDataset",
    "RawSource",
    "iso_day",
    "month_index",
    "month_range",
]

# Tasks whose targets come from a file keyed by month; forecast tasks derive from sources.
MONTHLY_TASKS: tuple[str, ...] = ("regime", "transition", "casualty", "anomaly")


@dataclass
class RawSource:
    """One source on the dataset's timeline. ``values``: (D, F) daily, (NM, F) monthly,
    (D, R, F) raion; float32, NaN where the source did not report."""

    name: str
    resolution: str
    features: tuple[str, ...]
    values: np.ndarray


@dataclass
class RawDataset:
    """A whole dataset on one calendar: days ``start .. start + n_days - 1``."""

    name: str
    start: dt.date
    n_days: int
    sources: dict[str, RawSource]
    targets: dict[str, np.ndarray]  # monthly task -> (NM,) float32, NaN = no target
    derived_tasks: tuple[str, ...] = ("forecast", "daily_forecast")
    raions: tuple[str, ...] = ()
    raion_coords: tuple[tuple[float, float], ...] = field(default=(), repr=False)

    @property
    def dates(self) -> pd.DatetimeIndex:
        return pd.date_range(self.start, periods=self.n_days, freq="D")

    @property
    def months(self) -> pd.PeriodIndex:
        return month_range(self.start, self.n_days)

    @property
    def day_month(self) -> np.ndarray:
        """(D,) month index (0 = the start's month) of every day."""
        return month_index(self.dates, self.start)

    @property
    def month_last_day(self) -> np.ndarray:
        """(NM,) the calendar's last day of each month as a day offset (may pass the end)."""
        ends = self.months.to_timestamp(how="end").normalize()
        return (ends - pd.Timestamp(self.start)).days.to_numpy(np.int64)

    def by_resolution(self, resolution: str) -> list[RawSource]:
        return [s for s in self.sources.values() if s.resolution == resolution]


def month_range(start: dt.date, n_days: int) -> pd.PeriodIndex:
    """Every calendar month touched by ``n_days`` days from ``start``."""
    end = pd.Timestamp(start) + pd.Timedelta(days=n_days - 1)
    return pd.period_range(pd.Period(pd.Timestamp(start), "M"), pd.Period(end, "M"), freq="M")


def month_index(dates: pd.DatetimeIndex, start: dt.date) -> np.ndarray:
    """Month offset of each date from the month holding ``start`` (int64)."""
    s = pd.Timestamp(start)
    return ((dates.year - s.year) * 12 + (dates.month - s.month)).to_numpy(np.int64)


def iso_day(text: str) -> dt.date:
    """The day ``text`` writes as YYYY-MM-DD; a ValueError for anything else (a time of day,
    which would shift the days, and ISO's other forms: 20220224, 2022-W08-4)."""
    day = dt.date.fromisoformat(text)
    if day.isoformat() != text:
        raise ValueError(f"{text!r} is not YYYY-MM-DD")
    return day
