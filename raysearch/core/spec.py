"""The shapes every layer agrees on: sources, tasks, and the batch layout.

A ``DatasetSpec`` describes a *prepared* dataset (after the correlation filter and raion
PCA), so the model is built from it and never assumes sources it was not given.

Batch layout (nested dicts of tensors; ``torch.utils.data.default_collate`` stacks them)::

    batch = {
      "daily":   {source: {"x": (B, T, F) float32, "m": (B, T, F) bool}},
      "monthly": {source: {"x": (B, M, F) float32, "m": (B, M, F) bool}},
      "raion":   {source: {"x": (B, T, R, F) float32, "m": (B, T, R, F) bool}},
      "calendar":  (B, T, 2) long   # day of week 0..6, month of year 0..11, per day
      "day_month": (B, T) long      # month slot 0..M-1 of each day of the window
      "targets": {task: {"y": ..., "m": ...}},   # shapes per TaskKind below
    }

T is the daily window, M the monthly window; the last month slot M-1 is the month that
holds the anchor day (the last day of the window). Monthly source values of that month are
not published yet on the anchor day, so they are masked. ``x`` is 0.0 wherever ``m`` is
False: an unobserved value is never a number a layer sees; the model must still not depend
on it (it replaces masked positions before any arithmetic).

Targets (``m`` False where the target is missing; a task absent from the dataset has no
key at all):

    CLASSIFICATION  y (B,) long class index        m (B,)
    BINARY          y (B,) float 0/1               m (B,)
    COUNT           y (B,) float >= 0              m (B,)
    REGRESSION      y (B,) float                   m (B,)
    FORECAST        y (B, F_month) float           m (B, F_month)   next month's monthly features
    DAILY_FORECAST  y (B, H, F_day) float          m (B, H, F_day)  next H days' daily features

Model outputs (``dict[str, Tensor]``, one key per task and nothing else; no uncertainty
estimate, since no loss would train it):

    CLASSIFICATION  (B, n_classes) logits
    BINARY          (B,) logit
    COUNT           (B, 3) ZINB parameters [pi_logit, log_mu, log_theta]
    REGRESSION      (B,) value
    FORECAST        (B, F_month)
    DAILY_FORECAST  (B, H, F_day)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

__all__ = [
    "TASK_NAMES",
    "DatasetSpec",
    "Resolution",
    "SourceSpec",
    "TaskKind",
    "TaskSpec",
]


class Resolution(str, Enum):  # noqa: UP042 (str() of members kept as is)
    DAILY = "daily"
    MONTHLY = "monthly"
    RAION = "raion"


class TaskKind(str, Enum):  # noqa: UP042
    CLASSIFICATION = "classification"
    BINARY = "binary"
    COUNT = "count"
    REGRESSION = "regression"
    FORECAST = "forecast"
    DAILY_FORECAST = "daily_forecast"


# The HAN's tasks and their kinds (SOURCES.md "Targets").
TASK_NAMES: dict[str, TaskKind] = {
    "regime": TaskKind.CLASSIFICATION,
    "transition": TaskKind.BINARY,
    "casualty": TaskKind.COUNT,
    "anomaly": TaskKind.REGRESSION,
    "forecast": TaskKind.FORECAST,
    "daily_forecast": TaskKind.DAILY_FORECAST,
}


@dataclass(frozen=True)
class SourceSpec:
    """One input source as the model sees it (features after preprocessing)."""

    name: str
    resolution: Resolution
    features: tuple[str, ...]

    @property
    def n_features(self) -> int:
        return len(self.features)


@dataclass(frozen=True)
class TaskSpec:
    """One prediction task. ``n_outputs``: classes, or feature count for forecasts."""

    name: str
    kind: TaskKind
    n_outputs: int = 1
    horizon: int = 1  # days, for DAILY_FORECAST


@dataclass(frozen=True)
class DatasetSpec:
    """What a prepared dataset holds; the model is built from this alone."""

    sources: tuple[SourceSpec, ...]
    tasks: tuple[TaskSpec, ...]
    daily_window: int
    monthly_window: int
    n_raions: int = 0
    raion_coords: tuple[tuple[float, float], ...] = field(default=(), repr=False)

    def by_resolution(self, resolution: Resolution) -> tuple[SourceSpec, ...]:
        return tuple(s for s in self.sources if s.resolution == resolution)

    @property
    def daily(self) -> tuple[SourceSpec, ...]:
        return self.by_resolution(Resolution.DAILY)

    @property
    def monthly(self) -> tuple[SourceSpec, ...]:
        return self.by_resolution(Resolution.MONTHLY)

    @property
    def raion(self) -> tuple[SourceSpec, ...]:
        return self.by_resolution(Resolution.RAION)

    def task(self, name: str) -> TaskSpec:
        for t in self.tasks:
            if t.name == name:
                return t
        raise KeyError(f"task {name!r} not in dataset (has {[t.name for t in self.tasks]})")

    @property
    def task_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tasks)
