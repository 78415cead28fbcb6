"""Test doubles for the model layer (like ``optuna.testing``): random batches for a spec.

>>> from raysearch.model.specs import tiny_spec
>>> spec = tiny_spec()
>>> batch = random_batch(spec, batch_size=2, seed=0)
>>> batch["daily"]["equipment"]["x"].shape
torch.Size([2, 40, 4])
"""

from __future__ import annotations

import datetime as dt

import torch
from torch import Tensor

from raysearch.core.spec import DatasetSpec, TaskKind, TaskSpec

__all__ = ["random_batch"]


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
