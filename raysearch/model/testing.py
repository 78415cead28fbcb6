"""Test doubles for the model layer (like ``optuna.testing``): small specs and random batches.

>>> spec = tiny_spec()
>>> batch = random_batch(spec, batch_size=2, seed=0)
>>> batch["daily"]["equipment"]["x"].shape
torch.Size([2, 40, 4])
"""

from __future__ import annotations

import datetime as dt

import torch
from torch import Tensor

from raysearch.data.spec import TASK_NAMES, DatasetSpec, Resolution, SourceSpec, TaskKind, TaskSpec

__all__ = ["SEED_FEATURES", "make_spec", "random_batch", "seed_spec", "tiny_spec"]


def _source(name: str, res: Resolution, n: int) -> SourceSpec:
    return SourceSpec(name, res, tuple(f"{name}_{i}" for i in range(n)))


def make_spec(
    daily: dict[str, int],
    monthly: dict[str, int],
    raion: dict[str, int],
    tasks: tuple[str, ...] = tuple(TASK_NAMES),
    daily_window: int = 40,
    monthly_window: int = 3,
    n_raions: int = 5,
    horizon: int = 3,
    coords: bool = True,
) -> DatasetSpec:
    """A DatasetSpec from feature counts per source. forecast predicts every monthly feature,
    daily_forecast every daily feature (so each needs sources of its resolution)."""
    sources = (
        tuple(_source(n, Resolution.DAILY, f) for n, f in daily.items())
        + tuple(_source(n, Resolution.MONTHLY, f) for n, f in monthly.items())
        + tuple(_source(n, Resolution.RAION, f) for n, f in raion.items())
    )
    n_out = {
        "regime": 4,
        "forecast": max(sum(monthly.values()), 1),
        "daily_forecast": max(sum(daily.values()), 1),
    }
    task_specs = tuple(
        TaskSpec(t, TASK_NAMES[t], n_out.get(t, 1), horizon if t == "daily_forecast" else 1)
        for t in tasks
    )
    r = n_raions if raion else 0
    xy = (
        tuple((48.0 + (i // 3) * 0.7, 30.0 + i % 3) for i in range(r)) if coords else ()
    )  # lat, lon
    return DatasetSpec(sources, task_specs, daily_window, monthly_window, r, xy)


def tiny_spec() -> DatasetSpec:
    """All three resolutions, all six tasks; T=40 days, M=3 months, R=5 raions, horizon 3."""
    return make_spec(
        daily={"equipment": 4, "personnel": 3},
        monthly={"sentinel": 4, "hdx_conflict": 3},
        raion={"geoconfirmed": 3, "firms_raion": 2},
    )


# Feature counts per source of the seed's run (raion sources after an 8-component PCA).
SEED_FEATURES: dict[str, dict[str, int]] = {
    "daily": {"equipment": 51, "personnel": 7, "deepstate": 5, "firms": 13, "viina": 20},
    "monthly": {"sentinel": 43, "hdx_conflict": 18, "hdx_food": 10, "hdx_rainfall": 6, "iom": 8},
    "raion": {"geoconfirmed_raion": 8, "deepstate_raion": 8, "firms_raion": 8},
}


def seed_spec() -> DatasetSpec:
    """Seed 000's feature counts: 5 daily, 5 monthly, 3 raion sources x 8 PCA components x
    263 raions, windows 365 days / 12 months, 7-day daily forecast of every daily feature."""
    return make_spec(
        **SEED_FEATURES,
        daily_window=365,
        monthly_window=12,
        n_raions=263,
        horizon=7,
        coords=False,
    )


def _masked(g: torch.Generator, shape: tuple[int, ...], missing: float) -> dict[str, Tensor]:
    m = torch.rand(shape, generator=g) >= missing  # per feature
    rows = torch.rand(shape[:-1], generator=g) < missing / 2  # whole timesteps unobserved
    m &= ~rows[..., None]
    x = torch.where(m, torch.randn(shape, generator=g), torch.zeros(()))
    return {"x": x, "m": m}


def _calendar(g: torch.Generator, b: int, t: int, m: int) -> tuple[Tensor, Tensor]:
    cal = torch.zeros(b, t, 2, dtype=torch.long)
    day_month = torch.zeros(b, t, dtype=torch.long)
    for i in range(b):
        anchor = dt.date(2022, 6, 1) + dt.timedelta(
            days=int(torch.randint(0, 900, (1,), generator=g))
        )
        for j in range(t):
            day = anchor - dt.timedelta(days=t - 1 - j)
            cal[i, j, 0], cal[i, j, 1] = day.weekday(), day.month - 1
            back = (anchor.year - day.year) * 12 + anchor.month - day.month
            day_month[i, j] = max(m - 1 - back, 0)  # days before the window join slot 0
    return cal, day_month


def _targets(g: torch.Generator, task: TaskSpec, b: int, missing: float) -> dict[str, Tensor]:
    kind = TaskKind(task.kind)
    shape: tuple[int, ...] = (b,)
    if kind is TaskKind.FORECAST:
        shape = (b, task.n_outputs)
    elif kind is TaskKind.DAILY_FORECAST:
        shape = (b, task.horizon, task.n_outputs)
    m = torch.rand(shape, generator=g) >= missing
    if kind is TaskKind.CLASSIFICATION:
        y = torch.randint(0, task.n_outputs, shape, generator=g)
    elif kind is TaskKind.BINARY:
        y = (torch.rand(shape, generator=g) < 0.3).float()
    elif kind is TaskKind.COUNT:
        y = torch.poisson(torch.full(shape, 3.0), generator=g) * (
            torch.rand(shape, generator=g) > 0.3
        )
    else:
        y = torch.randn(shape, generator=g)
    return {"y": y, "m": m}


def random_batch(spec: DatasetSpec, batch_size: int, seed: int, missing: float = 0.3) -> dict:
    """A random batch in spec.py's layout: each value missing with probability ``missing``
    (per feature), some whole timesteps missing, the anchor month's monthly values masked,
    x == 0.0 wherever m is False, and targets for every task of ``spec``."""
    g = torch.Generator().manual_seed(seed)
    b, t, mo, r = batch_size, spec.daily_window, spec.monthly_window, spec.n_raions
    batch: dict = {
        "daily": {s.name: _masked(g, (b, t, s.n_features), missing) for s in spec.daily},
        "monthly": {s.name: _masked(g, (b, mo, s.n_features), missing) for s in spec.monthly},
        "raion": {s.name: _masked(g, (b, t, r, s.n_features), missing) for s in spec.raion},
    }
    for src in batch["monthly"].values():  # the anchor's month is not published yet
        src["m"][:, -1] = False
        src["x"][:, -1] = 0.0
    batch["calendar"], batch["day_month"] = _calendar(g, b, t, mo)
    batch["targets"] = {task.name: _targets(g, task, b, missing) for task in spec.tasks}
    return batch
