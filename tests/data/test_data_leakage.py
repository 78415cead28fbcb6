"""No statistic is fitted on validation or test rows."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from raysearch.data.prepared import PreparedData, build
from raysearch.data.raw import RawDataset


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
    first_after_train = tiny_data.train_end_day + 1
    other = build(tiny_cfg(), _perturbed(tiny_raw, first_after_train, -2.0))
    for name, fit in tiny_data.fitted.items():
        assert fit.equals(other.fitted[name]), name


def test_changing_train_values_changes_the_fit(
    tiny_raw: RawDataset, tiny_cfg: Callable, tiny_data: PreparedData
) -> None:
    """The checks above can fail: the fit does depend on the training period."""
    other = build(tiny_cfg(), _perturbed(tiny_raw, 0, 2.0))
    assert not tiny_data.fitted["equipment"].equals(other.fitted["equipment"])
    assert not tiny_data.fitted["raion_geoconfirmed"].equals(other.fitted["raion_geoconfirmed"])
