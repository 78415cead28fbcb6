"""Windows and splits: a ``Dataset`` that slices each sample from full-series tensors.

A sample is an anchor day ``d``: the daily window is days ``d - T + 1 .. d``; the monthly
window is the ``M`` months ending at the month holding ``d`` (that month is masked: not
published on day ``d``); monthly tasks target the month after; ``daily_forecast`` targets
days ``d + 1 .. d + H``. Nothing in the inputs is dated after ``d``. ``day_month`` gives
each day its month slot; days older than the first slot (a 365-day window can touch 13
months) get slot 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from raysearch.core.errors import ConfigError

__all__ = [
    "Folds",
    "Origin",
    "SeriesTensors",
    "Splits",
    "WindowDataset",
    "anchor_days",
    "calendar_of",
    "split_anchors",
    "validation_folds",
]


@dataclass
class SeriesTensors:
    """Every preprocessed series on the dataset's calendar (no batch dimension).

    ``monthly`` tensors are padded with ``pad`` masked months in front so that every
    monthly window is a plain slice; month ``k`` of the calendar is row ``k + pad``.
    """

    daily: dict[str, tuple[torch.Tensor, torch.Tensor]]  # (D, F), (D, F)
    monthly: dict[str, tuple[torch.Tensor, torch.Tensor]]  # (pad + NM, F)
    raion: dict[str, tuple[torch.Tensor, torch.Tensor]]  # (D, R, F)
    calendar: torch.Tensor  # (D, 2) long: weekday, month of year
    day_month: torch.Tensor  # (D,) long: month index of each day
    targets: dict[str, tuple[torch.Tensor, torch.Tensor]]  # monthly task -> (NM,), (NM,)
    forecast: tuple[torch.Tensor, torch.Tensor] | None  # (pad + NM, F_month) all monthly
    daily_forecast: tuple[torch.Tensor, torch.Tensor] | None  # (D, F_day) all daily
    horizon: int
    pad: int


def anchor_days(
    n_days: int,
    day_month: np.ndarray,
    month_last_day: np.ndarray,
    window: int,
    horizon: int,
    stride: int,
) -> tuple[np.ndarray, np.ndarray]:
    """(anchors, target_end): every ``stride``-th day with a full window and a next month.

    ``month_last_day[k]`` is the calendar's last day of month ``k`` as a day offset (it may
    lie past the data's end); a sample's targets end on the next month's last day, or on
    ``d + H`` if that is later.
    """
    n_months = len(month_last_day)
    days = np.arange(window - 1, n_days - horizon, dtype=np.int64)
    days = days[day_month[days] + 1 < n_months][::stride]
    return days, np.maximum(month_last_day[day_month[days] + 1], days + horizon)


@dataclass(frozen=True)
class Splits:
    anchors: dict[str, np.ndarray]  # split -> anchor days
    t1: int  # last day of the training period (fit statistics on days <= t1)
    t2: int


def split_anchors(
    anchors: np.ndarray, target_end: np.ndarray, val_fraction: float, test_fraction: float
) -> Splits:
    """By time: the last ``test_fraction`` anchors are test (after ``t2``), the
    ``val_fraction`` before them whose targets end by ``t2`` are val (after ``t1``), and
    train holds the anchors whose targets end by ``t1``. Gaps fall between the splits."""
    n = len(anchors)
    n_test, n_val = round(n * test_fraction), round(n * val_fraction)
    problems = []
    if n_test < 1 or n_val < 1:
        problems.append(f"{n} anchors leave val {n_val} and test {n_test} samples")
    else:
        t2 = int(anchors[n - n_test]) - 1
        val_ok = np.flatnonzero(target_end <= t2)
        if len(val_ok) >= n_val:
            val_idx = val_ok[-n_val:]
            t1 = int(anchors[val_idx[0]]) - 1
            train = anchors[target_end <= t1]
            if len(train):
                return Splits(
                    {"train": train, "val": anchors[val_idx], "test": anchors[n - n_test :]},
                    t1,
                    t2,
                )
        problems.append(f"{n} anchors leave no training sample after the gaps")
    raise ConfigError(
        [
            f"splits: {p} (days, daily_window, forecast_horizon_days, anchor_stride or "
            "val/test_fraction leave too few anchors)"
            for p in problems
        ],
        "data splits",
    )


@dataclass(frozen=True)
class Origin:
    """One validation origin: a model trained on ``train`` is scored on ``val``."""

    train: np.ndarray  # anchor days
    val: np.ndarray


@dataclass(frozen=True)
class Folds:
    """The K origins in time order (the last one also scores the test split)."""

    origins: tuple[Origin, ...]
    fit_end: int  # preprocessing statistics are fitted on days 0 .. fit_end


def validation_folds(
    anchors: np.ndarray, target_end: np.ndarray, splits: Splits, k: int, scheme: str
) -> Folds:
    """K origins over the time before the test split.

    ``rolling``: the validation anchors are cut into K successive blocks; origin j trains on
    the anchors whose targets end before block j's first day (so the gap is at least the
    horizon, as between train and val), and preprocessing is fitted before the first block.
    K = 1 is ``splits`` itself. ``blocked``: every anchor whose targets end by ``t2`` is cut
    into K blocks; fold j trains on the anchors whose targets end before the block or that
    come after every target of the block (purged), and preprocessing is fitted on days up
    to ``t2``, validation blocks included.
    """
    if scheme == "rolling":
        pool, fit_end = splits.anchors["val"], splits.t1
    else:
        pool, fit_end = anchors[target_end <= splits.t2], splits.t2
    if len(pool) < k:
        raise ConfigError(
            [
                f"val_origins: {k} {scheme} origins need >= {k} anchors to validate on, "
                f"got {len(pool)} (raise val_fraction or lower anchor_stride)"
            ],
            "data splits",
        )
    ends = dict(zip(anchors.tolist(), target_end.tolist(), strict=True))
    origins = []
    for block in np.array_split(pool, k):
        before = anchors[target_end < block[0]]
        if scheme == "blocked":
            last_target = max(ends[int(d)] for d in block)
            after = pool[pool > last_target]
            before = np.concatenate([pool[np.isin(pool, before)], after])
        if not len(before):
            raise ConfigError(
                [f"val_origins: the {scheme} origin validating from day {block[0]} has no "
                 "training sample (lower val_origins or raise the data's length)"],
                "data splits",
            )  # fmt: skip
        origins.append(Origin(before, block))
    return Folds(tuple(origins), fit_end)


def calendar_of(start: pd.Timestamp, n_days: int) -> torch.Tensor:
    dates = pd.date_range(start, periods=n_days, freq="D")
    cal = np.stack([dates.dayofweek.to_numpy(), dates.month.to_numpy() - 1], axis=1)
    return torch.from_numpy(cal.astype(np.int64))


class WindowDataset(Dataset):
    """Items follow spec.py's batch layout without the batch dimension."""

    def __init__(
        self, series: SeriesTensors, anchors: np.ndarray, daily_window: int, monthly_window: int
    ) -> None:
        self.s = series
        self.anchors = np.asarray(anchors, dtype=np.int64)
        self.T = daily_window
        self.M = monthly_window

    def __len__(self) -> int:
        return len(self.anchors)

    def __getitem__(self, i: int) -> dict:
        s, d = self.s, int(self.anchors[i])
        lo, hi = d - self.T + 1, d + 1
        mi = int(s.day_month[d])
        mlo, mhi = mi - self.M + 1 + s.pad, mi + 1 + s.pad  # padded rows
        item: dict = {
            "daily": {k: {"x": x[lo:hi], "m": m[lo:hi]} for k, (x, m) in s.daily.items()},
            "monthly": {k: _monthly(x, m, mlo, mhi) for k, (x, m) in s.monthly.items()},
            "raion": {k: {"x": x[lo:hi], "m": m[lo:hi]} for k, (x, m) in s.raion.items()},
            "calendar": s.calendar[lo:hi],
            "day_month": (s.day_month[lo:hi] - (mi - self.M + 1)).clamp(min=0),
        }
        targets = {k: {"y": y[mi + 1], "m": m[mi + 1]} for k, (y, m) in s.targets.items()}
        if s.forecast is not None:
            fx, fm = s.forecast
            targets["forecast"] = {"y": fx[mi + 1 + s.pad], "m": fm[mi + 1 + s.pad]}
        if s.daily_forecast is not None:
            dx, dm = s.daily_forecast
            h = slice(hi, hi + s.horizon)
            targets["daily_forecast"] = {"y": dx[h], "m": dm[h]}
        item["targets"] = targets
        return item


def _monthly(x: torch.Tensor, m: torch.Tensor, lo: int, hi: int) -> dict[str, torch.Tensor]:
    mx, mm = x[lo:hi].clone(), m[lo:hi].clone()
    mx[-1] = 0.0  # the anchor's own month is not published yet
    mm[-1] = False
    return {"x": mx, "m": mm}
