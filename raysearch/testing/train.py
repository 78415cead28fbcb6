"""Tiny stand-ins for the data and model layers, in spec.py's layouts, for trainer tests.

The dataset has one daily source (T=4, F=3) and all six tasks, each target a simple
function of the inputs (a planted, learnable signal), with a fraction of targets missing.
The model is a small MLP with one head per task. Anchors are the plain losses of the
all-zero output (the "reference" here), so a model that learns scores below 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import Tensor, nn
from torch.utils.data import Dataset

from raysearch.core.spec import TASK_NAMES, DatasetSpec, Resolution, SourceSpec, TaskSpec
from raysearch.scoring.plain import plain_loss_sum

T, F, H, F_MONTH = 4, 3, 2, 2


def fake_spec(tasks: tuple[str, ...] = tuple(TASK_NAMES)) -> DatasetSpec:
    n_out = {"regime": 3, "forecast": F_MONTH, "daily_forecast": F}
    specs = tuple(
        TaskSpec(t, TASK_NAMES[t], n_out.get(t, 1), H if t == "daily_forecast" else 1)
        for t in tasks
    )
    source = SourceSpec("d", Resolution.DAILY, tuple(f"f{i}" for i in range(F)))
    return DatasetSpec((source,), specs, daily_window=T, monthly_window=1)


class FakeDataset(Dataset):
    """``n`` samples; each target observed with probability ``1 - missing``."""

    def __init__(self, spec: DatasetSpec, n: int, seed: int, missing: float = 0.2) -> None:
        g = torch.Generator().manual_seed(seed)
        self.spec, self.n = spec, n
        self.x = torch.randn(n, T, F, generator=g)
        z = self.x.mean(1)  # (n, F)
        ys = {
            "regime": (z[:, 0] > 0).long() + (z[:, 1] > 0.5).long(),
            "transition": (z[:, 2] > 0.3).float(),
            "casualty": torch.poisson((1.0 + z[:, 0]).exp(), generator=g),
            "anomaly": 2.0 * z[:, 1] - z[:, 2],
            "forecast": z[:, :F_MONTH] * 1.5,
            "daily_forecast": self.x[:, -H:, :] * 0.8,
        }
        self.targets = {}
        for task in spec.tasks:
            y = ys[task.name]
            m = torch.rand(y.shape, generator=g) >= missing
            self.targets[task.name] = {"y": torch.where(m, y, torch.zeros_like(y)), "m": m}

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int) -> dict:
        x = self.x[i]
        return {
            "daily": {"d": {"x": x, "m": torch.ones_like(x, dtype=torch.bool)}},
            "targets": {k: {"y": v["y"][i], "m": v["m"][i]} for k, v in self.targets.items()},
        }


class FakeModel(nn.Module):
    """MLP -> one head per task. ``nan_task``/``nan_after``: that task outputs NaN after that
    many training forwards; ``constant_task``: that task's output ignores the input."""

    def __init__(
        self,
        spec: DatasetSpec,
        dropout: float = 0.0,
        nan_task: str | None = None,
        nan_after: int = 0,
        constant_task: str | None = None,
    ) -> None:
        super().__init__()
        self.spec = spec
        self.body = nn.Sequential(
            nn.Flatten(), nn.Linear(T * F, 16), nn.Tanh(), nn.Dropout(dropout)
        )
        sizes = {"classification": None, "count": 3, "daily_forecast": H * F}
        self.heads = nn.ModuleDict()
        for t in spec.tasks:
            size = sizes.get(t.kind.value, t.n_outputs) or t.n_outputs
            self.heads[t.name] = nn.Linear(16, size)
        self.constant = nn.Parameter(torch.zeros(1))
        self.nan_task, self.nan_after, self.constant_task = nan_task, nan_after, constant_task
        self.train_calls = 0

    def forward(self, batch: dict) -> dict[str, Tensor]:
        x = batch["daily"]["d"]["x"]
        h = self.body(x)
        out: dict[str, Tensor] = {}
        for t in self.spec.tasks:
            o = self.heads[t.name](h)
            if t.name == self.constant_task:
                o = self.constant.expand_as(o) + 0.0 * o.detach()
            if t.kind.value in ("binary", "regression"):
                o = o.squeeze(-1)
            elif t.kind.value == "daily_forecast":
                o = o.reshape(-1, H, F)
            out[t.name] = o
        if self.training:
            self.train_calls += 1
            if self.nan_task and self.train_calls > self.nan_after:
                out[self.nan_task] = out[self.nan_task] * float("nan")
        return out


def zero_references(spec: DatasetSpec, dataset: FakeDataset) -> dict[str, float]:
    """Plain loss of the all-zero output on ``dataset`` (the fake reference predictor)."""
    references = {}
    for task in spec.tasks:
        target = dataset.targets[task.name]
        shape = {"classification": (dataset.n, task.n_outputs), "count": (dataset.n, 3)}
        out = torch.zeros(shape.get(task.kind.value, tuple(target["y"].shape)))
        s, c = plain_loss_sum(task, out, target)
        references[task.name] = float(s / c)
    return references


@dataclass
class FakePrepared:
    """Duck-typed ``raysearch.data.PreparedData``."""

    spec: DatasetSpec
    splits: dict[str, FakeDataset]
    references: dict[str, dict[str, float]]
    availability: dict[str, dict[str, float]] = field(default_factory=dict)
    fingerprint: str = "fake"
    earlier: list[FakePrepared] = field(default_factory=list)
    test_unscorable: tuple[str, ...] = ()

    def origins(self) -> list[FakePrepared]:
        return [*self.earlier, self]

    def fewest_train_samples(self) -> int:
        return min(len(origin.splits["train"]) for origin in self.origins())


def fake_data(
    n_train: int = 64, n_eval: int = 32, missing: float = 0.2, seed: int = 0
) -> FakePrepared:
    spec = fake_spec()
    splits = {
        "train": FakeDataset(spec, n_train, seed, missing),
        "val": FakeDataset(spec, n_eval, seed + 1, missing),
        "test": FakeDataset(spec, n_eval, seed + 2, missing),
    }
    references = {s: zero_references(spec, splits[s]) for s in ("val", "test")}
    availability = {
        s: {t: float(d.targets[t]["m"].float().mean()) for t in d.targets}
        for s, d in splits.items()
    }
    return FakePrepared(spec, splits, references, availability)


def fake_origins(k: int, n_train: int = 64, n_eval: int = 32, seed: int = 0) -> FakePrepared:
    """``k`` validation origins, each its own ``fake_data`` (different samples), sharing
    the last one's test split."""
    views = [fake_data(n_train, n_eval, seed=seed + 10 * j) for j in range(k)]
    last = views[-1]
    for view in views[:-1]:
        view.splits["test"], view.references["test"] = last.splits["test"], last.references["test"]
    last.earlier = views[:-1]
    return last


def factory(**kwargs: Any) -> Callable[[DatasetSpec, object], FakeModel]:
    """A model_factory for ``fit`` building ``FakeModel(spec, **kwargs)``."""

    def build(spec: DatasetSpec, _cfg: object) -> FakeModel:
        torch.manual_seed(0)
        return FakeModel(spec, **kwargs)

    return build


class Crash(RuntimeError):
    """Raised by ``crash_at``: a training killed mid-run, for resume tests."""


def crash_at(epoch: int) -> Callable[[Any], None]:
    """An ``on_epoch`` callback that raises ``Crash`` once epoch ``epoch`` is reported."""

    def on_epoch(result: Any) -> None:
        if result.metrics["epoch"] == epoch:
            raise Crash

    return on_epoch
