"""No statistic is fitted on validation or test rows: neither the preprocessing nor the
reference predictors whose losses are the b_i."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from raysearch.core.spec import TASK_NAMES, TaskKind
from raysearch.data.prepared import PreparedData, build
from raysearch.data.raw import RawDataset

# each kind's target changed to a value it never keeps: the next class, the other label,
# a larger count, a larger value
_CHANGED = {
    TaskKind.CLASSIFICATION: lambda y: (y + 1) % 4,
    TaskKind.BINARY: lambda y: 1 - y,
    TaskKind.COUNT: lambda y: y + 40,
    TaskKind.REGRESSION: lambda y: y + 3,
}


def _perturbed(raw: RawDataset, first_day: int, scale: float) -> RawDataset:
    """A copy whose values dated on/after ``first_day`` (and their months) are changed."""
    first_month = int(raw.day_month[first_day])
    sources = {}
    for k, s in raw.sources.items():
        v = s.values.copy()
        cut = first_month if s.resolution == "monthly" else first_day
        v[cut:] = v[cut:] * scale + 3.0
        sources[k] = type(s)(s.name, s.resolution, s.features, v)
    targets = {}
    for k, y in raw.targets.items():
        y = y.copy()
        seen = ~np.isnan(y[first_month:])
        y[first_month:][seen] = {"regime": 3, "transition": 1}.get(k, 99.0)
        targets[k] = y
    return RawDataset(raw.name, raw.start, raw.n_days, sources, targets, raw.derived_tasks,
                      raw.raions, raw.raion_coords)  # fmt: skip


def _relabelled(raw: RawDataset, anchors: np.ndarray) -> RawDataset:
    """A copy in which only the targets of the samples at ``anchors`` (each the month after
    its anchor's) are changed: every input value, and every other month's target, stays."""
    months = np.unique(raw.day_month[anchors] + 1)
    targets = {}
    for k, y in raw.targets.items():
        y = y.copy()
        y[months] = _CHANGED[TASK_NAMES[k]](y[months])  # a missing target stays missing
        targets[k] = y
    return RawDataset(raw.name, raw.start, raw.n_days, raw.sources, targets, raw.derived_tasks,
                      raw.raions, raw.raion_coords)  # fmt: skip


def _constant_tasks(data: PreparedData) -> list[str]:
    """The tasks whose reference is a constant fitted on training targets (not persistence)."""
    return [t.name for t in data.spec.tasks if t.kind in _CHANGED]


def test_changing_test_values_leaves_every_fit_identical(
    tiny_raw: RawDataset, tiny_cfg: Callable, tiny_data: PreparedData
) -> None:
    first_test_day = int(tiny_data.split_days["test"].min())
    other = build(tiny_cfg(), _perturbed(tiny_raw, first_test_day, 7.0))
    assert other.split_days.keys() == tiny_data.split_days.keys()
    for name, fit in tiny_data.fitted.items():
        assert fit.equals(other.fitted[name]), name
    assert other.references["val"] == tiny_data.references["val"]  # references fit on train only
    assert other.references["test"] != tiny_data.references["test"]  # the test targets did change


def test_changing_validation_values_leaves_every_fit_identical(
    tiny_raw: RawDataset, tiny_cfg: Callable, tiny_data: PreparedData
) -> None:
    """Change every value from the first day after the training period on: the fitted
    preprocessing stays (the references fitted on training targets: the test below)."""
    first_after_train = tiny_data.train_end_day + 1
    other = build(tiny_cfg(), _perturbed(tiny_raw, first_after_train, -2.0))
    assert set(tiny_data.fitted) == set(other.fitted) == set(tiny_raw.sources)  # not vacuous
    for name, fit in tiny_data.fitted.items():
        assert fit.equals(other.fitted[name]), name


def test_changing_validation_targets_leaves_every_reference_fit_identical(
    tiny_raw: RawDataset, tiny_cfg: Callable, tiny_data: PreparedData
) -> None:
    """The references are fitted on the training targets alone: change only the validation
    samples' targets and the test split's b_i stay, for every task, while the validation
    split's b_i of every fitted (non-persistence) reference move with its new targets."""
    other = build(tiny_cfg(), _relabelled(tiny_raw, tiny_data.split_days["val"]))
    constant = _constant_tasks(tiny_data)
    assert {"regime", "transition", "casualty", "anomaly"} <= set(constant)  # not vacuous
    assert other.references["test"] == tiny_data.references["test"]
    assert set(other.references["test"]) == {t.name for t in tiny_data.spec.tasks}
    for name in constant:
        assert other.references["val"][name] != tiny_data.references["val"][name], name


def test_changing_train_values_changes_the_fit(
    tiny_raw: RawDataset, tiny_cfg: Callable, tiny_data: PreparedData
) -> None:
    """The checks above can fail: the fit does depend on the training period."""
    other = build(tiny_cfg(), _perturbed(tiny_raw, 0, 2.0))
    assert not tiny_data.fitted["equipment"].equals(other.fitted["equipment"])
    assert not tiny_data.fitted["raion_geoconfirmed"].equals(other.fitted["raion_geoconfirmed"])
