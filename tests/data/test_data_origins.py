"""Validation origins (``val_origins``): where each origin trains and validates, what its
references are fitted on, and that one origin is exactly the single split."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raysearch.core.data_config import DataConfig
from raysearch.core.errors import ConfigError
from raysearch.data.prepared import PreparedData, build
from raysearch.data.raw import RawDataset
from raysearch.data.references import compute_references
from raysearch.data.windows import anchor_days, split_anchors, validation_folds
from tests.data.test_data_leakage import _perturbed, _relabelled


def _timeline(n_months: int, window: int, horizon: int, stride: int):
    dm = np.repeat(np.arange(n_months), 30)
    last = np.arange(n_months) * 30 + 29
    return anchor_days(len(dm), dm, last, window=window, horizon=horizon, stride=stride)


@settings(max_examples=60, deadline=None)
@given(
    n_months=st.integers(12, 40),
    window=st.integers(10, 90),
    horizon=st.integers(1, 14),
    stride=st.integers(1, 4),
    k=st.integers(1, 5),
    val=st.floats(0.1, 0.3),
)
def test_rolling_origins_cut_the_validation_period_into_successive_blocks(
    n_months: int, window: int, horizon: int, stride: int, k: int, val: float
) -> None:
    anchors, end = _timeline(n_months, window, horizon, stride)
    try:
        sp = split_anchors(anchors, end, val, 0.15)
        folds = validation_folds(anchors, end, sp, k, "rolling")
    except ConfigError:
        return  # too short a timeline for these settings: refused, not mis-split
    ends = dict(zip(anchors.tolist(), end.tolist(), strict=True))
    blocks = [o.val for o in folds.origins]
    assert len(blocks) == k
    assert np.array_equal(np.concatenate(blocks), sp.anchors["val"])  # in time order
    assert folds.fit_end == sp.t1 < blocks[0][0]
    for j, origin in enumerate(folds.origins):
        last_target = max(ends[int(d)] for d in origin.train)
        assert last_target < origin.val[0]  # trained only on what came before
        assert origin.val[0] - origin.train.max() > horizon  # separated by the horizon gap
        if j:
            assert set(folds.origins[j - 1].train) <= set(origin.train)  # expanding window
    if k == 1:
        assert np.array_equal(folds.origins[0].train, sp.anchors["train"])


@settings(max_examples=60, deadline=None)
@given(n_months=st.integers(14, 40), k=st.integers(2, 5), horizon=st.integers(1, 14))
def test_blocked_folds_purge_every_training_target_that_overlaps_the_block(
    n_months: int, k: int, horizon: int
) -> None:
    anchors, end = _timeline(n_months, 40, horizon, 2)
    sp = split_anchors(anchors, end, 0.15, 0.15)
    folds = validation_folds(anchors, end, sp, k, "blocked")
    ends = dict(zip(anchors.tolist(), end.tolist(), strict=True))
    pool = anchors[end <= sp.t2]
    assert np.array_equal(np.concatenate([o.val for o in folds.origins]), pool)
    assert folds.fit_end == sp.t2  # preprocessing sees the validation blocks (the docs say so)
    for origin in folds.origins:
        first, last_target = origin.val[0], max(ends[int(d)] for d in origin.val)
        assert not set(origin.train) & set(origin.val)
        for d in origin.train:  # every training sample lies wholly before or after
            assert ends[int(d)] < first or d > last_target
        assert len(origin.train) > 0


def test_too_many_origins_for_the_validation_period_is_a_config_error() -> None:
    anchors, end = _timeline(14, 40, 7, 2)
    sp = split_anchors(anchors, end, 0.15, 0.15)
    with pytest.raises(ConfigError, match="val_origins"):
        validation_folds(anchors, end, sp, len(sp.anchors["val"]) + 1, "rolling")


def test_blocked_needs_two_folds_and_the_scheme_must_exist() -> None:
    with pytest.raises(ConfigError) as info:
        DataConfig(val_origins=1, val_scheme="blocked")
    assert "val_origins" in str(info.value) and ">= 2" in str(info.value)
    with pytest.raises(ConfigError, match="'weekly'"):
        DataConfig(val_scheme="weekly")
    with pytest.raises(ConfigError, match="val_origins"):
        DataConfig(val_origins=0)


def test_one_origin_is_the_single_split_with_its_references(
    tiny_cfg: Callable, tiny_data: PreparedData
) -> None:
    """val_origins = 1 changes nothing: the splits and b_i of split_anchors + compute_references."""
    raw_days = tiny_data.split_days
    assert tiny_data.origins() == [tiny_data]
    s = tiny_data.splits["train"].s
    cfg = tiny_cfg()
    n_days = len(s.day_month)
    month_last = np.array([int(np.flatnonzero(s.day_month.numpy() == m).max())
                           for m in range(int(s.day_month.max()) + 1)])  # fmt: skip
    anchors, end = anchor_days(
        n_days, s.day_month.numpy(), month_last, cfg.daily_window, s.horizon, cfg.anchor_stride
    )
    sp = split_anchors(anchors, end, cfg.val_fraction, cfg.test_fraction)
    for split in ("train", "val", "test"):
        assert np.array_equal(raw_days[split], sp.anchors[split]), split
    assert tiny_data.train_end_day == sp.t1
    references, avail = compute_references(
        s, sp.anchors, tiny_data.spec.tasks, cfg.daily_window, cfg.monthly_window
    )
    assert tiny_data.references == references and tiny_data.availability == avail


@pytest.fixture(scope="module")
def three(tiny_raw: RawDataset, tiny_cfg: Callable) -> PreparedData:
    return build(tiny_cfg(val_origins=3), tiny_raw)


def test_each_origin_has_its_own_splits_and_references_refitted_on_its_training_part(
    three: PreparedData, tiny_data: PreparedData
) -> None:
    origins = three.origins()
    assert len(origins) == 3 and origins[-1] is three
    vals = [o.split_days["val"] for o in origins]
    assert np.array_equal(np.concatenate(vals), tiny_data.split_days["val"])
    assert three.train_end_day == tiny_data.train_end_day  # preprocessing as with one origin
    s = three.splits["train"].s
    for origin in origins:
        days = origin.split_days
        assert np.array_equal(days["test"], tiny_data.split_days["test"])
        refs, _ = compute_references(s, days, three.spec.tasks, 30, 4)
        assert origin.references == refs
        assert len(origin.splits["val"]) == len(days["val"])
    b = [o.references["val"]["casualty"] for o in origins]
    assert len(set(b)) == 3  # each origin's b_i is its own


def test_no_origins_preprocessing_sees_its_validation_block(
    three: PreparedData, tiny_raw: RawDataset, tiny_cfg: Callable
) -> None:
    """Change every value from the first validation block on: the fitted preprocessing
    stays; changing the training period would not. Change only the first block's targets:
    each origin whose training samples have none of them keeps its references (the test
    split's b_i stay, for every task), and an origin that trains on them refits its own."""
    first_block = three.origins()[0].split_days["val"]
    other = build(tiny_cfg(val_origins=3), _perturbed(tiny_raw, int(first_block[0]), -2.0))
    for name, fit in three.fitted.items():
        assert fit.equals(other.fitted[name]), name
    earlier = build(tiny_cfg(val_origins=3), _perturbed(tiny_raw, int(first_block[0]) - 60, -2.0))
    assert not three.fitted["equipment"].equals(earlier.fitted["equipment"])

    relabelled = build(tiny_cfg(val_origins=3), _relabelled(tiny_raw, first_block))
    changed = set((tiny_raw.day_month[first_block] + 1).tolist())
    kept, refitted = 0, 0
    for before, after in zip(three.origins(), relabelled.origins(), strict=True):
        trained_on = set((tiny_raw.day_month[before.split_days["train"]] + 1).tolist())
        if trained_on & changed:
            assert after.references["test"]["casualty"] != before.references["test"]["casualty"]
            refitted += 1
        else:
            assert after.references["test"] == before.references["test"]
            kept += 1
    assert kept >= 1 and refitted >= 1  # the first origin keeps, the last one refits
