from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from torch.utils.data import default_collate

from raysearch.core.errors import ConfigError
from raysearch.data.prepared import PreparedData, build
from raysearch.data.raw import RawDataset
from raysearch.data.windows import anchor_days, split_anchors


def _copy(raw: RawDataset) -> RawDataset:
    out = RawDataset(**{**raw.__dict__})
    out.sources = {k: type(s)(**{**s.__dict__, "values": s.values.copy()})
                   for k, s in raw.sources.items()}  # fmt: skip
    out.targets = {k: v.copy() for k, v in raw.targets.items()}
    return out


def _inputs(item: dict) -> dict:
    return {k: v for k, v in item.items() if k != "targets"}


def _equal(a: object, b: object) -> bool:
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return torch.equal(a, b)


def test_items_follow_the_batch_layout(tiny_data: PreparedData) -> None:
    spec = tiny_data.spec
    batch = default_collate([tiny_data.splits["train"][i] for i in range(3)])
    t, mw = spec.daily_window, spec.monthly_window
    for s in spec.daily:
        assert batch["daily"][s.name]["x"].shape == (3, t, s.n_features)
        assert batch["daily"][s.name]["m"].dtype == torch.bool
    for s in spec.monthly:
        assert batch["monthly"][s.name]["x"].shape == (3, mw, s.n_features)
        assert not batch["monthly"][s.name]["m"][:, -1].any()  # current month unpublished
    for s in spec.raion:
        assert batch["raion"][s.name]["x"].shape == (3, t, spec.n_raions, s.n_features)
    assert batch["calendar"].shape == (3, t, 2) and batch["day_month"].shape == (3, t)
    assert batch["day_month"].min() >= 0 and batch["day_month"].max() == mw - 1
    assert batch["targets"]["regime"]["y"].dtype == torch.long
    h = spec.task("daily_forecast").horizon
    assert batch["targets"]["daily_forecast"]["y"].shape == (
        3,
        h,
        spec.task("daily_forecast").n_outputs,
    )
    assert batch["targets"]["forecast"]["y"].shape == (3, spec.task("forecast").n_outputs)
    for group in ("daily", "monthly", "raion"):
        for v in batch[group].values():
            assert (v["x"][~v["m"]] == 0).all()  # unobserved is 0.0, never a sentinel


def test_no_window_sees_beyond_its_anchor(
    tiny_raw: RawDataset, tiny_cfg: Callable, tiny_data: PreparedData
) -> None:
    """Change every value dated after a val anchor's day: its inputs stay identical."""
    d = int(tiny_data.split_days["val"][3])
    month = int(tiny_raw.day_month[d])
    raw = _copy(tiny_raw)
    for s in raw.sources.values():
        if s.resolution == "monthly":
            s.values[month:] += 50.0  # the anchor's month is not published on day d
        else:
            s.values[d + 1 :] += 50.0
    for k in raw.targets:
        raw.targets[k][month + 1 :] = np.where(np.isnan(raw.targets[k][month + 1 :]), np.nan, 1)
    other = build(tiny_cfg(), raw)
    i = 3
    assert _equal(_inputs(tiny_data.splits["val"][i]), _inputs(other.splits["val"][i]))
    later = int(np.flatnonzero(tiny_data.split_days["test"] > d + 40)[0])
    assert not _equal(
        _inputs(tiny_data.splits["test"][later]), _inputs(other.splits["test"][later])
    )


def test_masks_are_per_feature(tiny_data: PreparedData) -> None:
    item = tiny_data.splits["train"][5]
    m = item["daily"]["equipment"]["m"]
    partial = m.any(dim=1) & ~m.all(dim=1)
    assert partial.any()  # some days have some features and not others


def test_splits_are_ordered_with_a_gap_of_at_least_the_horizon(tiny_data: PreparedData) -> None:
    days = tiny_data.split_days
    assert days["train"].max() < days["val"].min() < days["val"].max() < days["test"].min()
    h = tiny_data.spec.task("daily_forecast").horizon
    assert days["val"].min() - days["train"].max() > h
    assert days["test"].min() - days["val"].max() > h
    assert tiny_data.train_end_day < days["val"].min()


def test_split_targets_end_before_the_next_split() -> None:
    """Test is the last 20% of anchors, t2 the day before it; val the last 20% (of all
    anchors) of those whose targets end by t2, right before the test gap; train the anchors
    whose targets end by t1, the day before val."""
    dm = np.repeat(np.arange(20), 30)
    last = np.arange(20) * 30 + 29
    anchors, end = anchor_days(600, dm, last, window=50, horizon=7, stride=2)
    assert (np.diff(anchors) == 2).all() and anchors[0] == 49
    sp = split_anchors(anchors, end, 0.2, 0.2)
    n = round(0.2 * len(anchors))
    assert sp.anchors["test"].tolist() == anchors[-n:].tolist()
    assert sp.t2 == anchors[-n] - 1
    assert sp.anchors["val"].tolist() == anchors[end <= sp.t2][-n:].tolist()
    assert sp.t1 == sp.anchors["val"][0] - 1
    assert sp.anchors["train"].tolist() == anchors[end <= sp.t1].tolist()
    train_end = end[np.isin(anchors, sp.anchors["train"])]
    val_end = end[np.isin(anchors, sp.anchors["val"])]
    assert train_end.max() <= sp.t1 < sp.anchors["val"].min()
    assert val_end.max() <= sp.t2 < sp.anchors["test"].min()
    assert abs(len(sp.anchors["test"]) - 0.2 * len(anchors)) <= 1


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.data())
def test_items_are_slices_ending_at_the_anchor(tiny_data: PreparedData, data) -> None:
    split = data.draw(st.sampled_from(["train", "val", "test"]))
    ds = tiny_data.splits[split]
    i = data.draw(st.integers(0, len(ds) - 1))
    d = int(tiny_data.split_days[split][i])
    item = ds[i]
    s = ds.s
    x, m = s.daily["personnel"]
    assert torch.equal(item["daily"]["personnel"]["x"], x[d - ds.T + 1 : d + 1])
    assert torch.equal(item["daily"]["personnel"]["m"], m[d - ds.T + 1 : d + 1])
    mi = int(s.day_month[d])
    xm, mm = s.monthly["sentinel"]
    row = mi - 1 + s.pad  # the last published month sits in slot M-2
    assert torch.equal(item["monthly"]["sentinel"]["x"][-2], xm[row])
    assert torch.equal(item["monthly"]["sentinel"]["m"][-2], mm[row])
    assert int(item["day_month"][-1]) == ds.M - 1
    y, _ = s.targets["casualty"]
    assert item["targets"]["casualty"]["y"] == y[mi + 1]
    dx, _ = s.daily_forecast
    assert torch.equal(item["targets"]["daily_forecast"]["y"], dx[d + 1 : d + 1 + s.horizon])


def test_a_masked_value_has_no_effect_on_the_model_inputs(
    tiny_raw: RawDataset, tiny_cfg: Callable, tiny_data: PreparedData
) -> None:
    """The anchor's own month is on disk but masked: any value there gives the same item."""
    i = 2
    d = int(tiny_data.split_days["test"][i])
    month = int(tiny_raw.day_month[d])
    raw = _copy(tiny_raw)
    raw.sources["sentinel"].values[month] = 1e6
    other = build(tiny_cfg(), raw)
    a, b = tiny_data.splits["test"][i], other.splits["test"][i]
    assert _equal(_inputs(a), _inputs(b))
    assert not b["monthly"]["sentinel"]["m"][-1].any()
    assert (b["monthly"]["sentinel"]["x"][-1] == 0).all()


def test_too_few_anchors_is_a_config_error(tiny_raw: RawDataset, tiny_cfg: Callable) -> None:
    with pytest.raises(ConfigError, match="daily_window") as info:
        build(tiny_cfg(daily_window=400), tiny_raw)
    assert "anchors" in str(info.value)
