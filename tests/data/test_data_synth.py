from __future__ import annotations

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier, DummyRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GroupKFold, cross_val_predict

from raysearch.core.data_config import DataConfig, SynthConfig
from raysearch.data.prepared import build
from raysearch.data.raw import RawDataset
from raysearch.data.synth import MONTHLY_COUNTS, RAION_COUNTS, generate


def test_generator_is_deterministic_and_seed_matters() -> None:
    a, b = (
        generate(SynthConfig.preset("tiny", seed=3)),
        generate(SynthConfig.preset("tiny", seed=3)),
    )
    c = generate(SynthConfig.preset("tiny", seed=4))
    for name, src in a.sources.items():
        assert np.array_equal(src.values, b.sources[name].values, equal_nan=True)
    for name, y in a.targets.items():
        assert np.array_equal(y, b.targets[name], equal_nan=True)
    assert not np.array_equal(a.sources["equipment"].values, c.sources["equipment"].values)


def test_shapes_follow_the_seed(tiny_raw: RawDataset) -> None:
    res = {s.name: s.resolution for s in tiny_raw.sources.values()}
    assert sorted(n for n, r in res.items() if r == "daily") == sorted(
        ["equipment", "personnel", "deepstate", "firms", "viina"]
    )
    for name, n in MONTHLY_COUNTS.items():
        assert tiny_raw.sources[name].values.shape == (len(tiny_raw.months), n)
    for name, n in RAION_COUNTS.items():
        assert tiny_raw.sources[f"raion_{name}"].values.shape == (420, 6, n)
    assert tiny_raw.sources["equipment"].values.shape == (420, 51)
    assert len(tiny_raw.raion_coords) == 6
    lat, lon = np.asarray(tiny_raw.raion_coords).T
    assert ((44 < lat) & (lat < 53)).all() and ((22 < lon) & (lon < 41)).all()


def test_missingness_kinds(tiny_raw: RawDataset) -> None:
    seen = {k: ~np.isnan(s.values) for k, s in tiny_raw.sources.items()}
    assert not seen["deepstate"][:90].any() and seen["deepstate"][90:].any()  # late start
    feats = tiny_raw.sources["equipment"].features
    for stat in ("delta", "mean7", "std7"):
        late = seen["equipment"][:, feats.index(f"cruise_missiles_{stat}")]
        assert not late[:66].any() and late[66:].mean() > 0.9  # a class reported late
    sentinel_rows = seen["sentinel"].any(axis=1)
    assert not sentinel_rows.all()  # whole months missing
    eq = seen["equipment"]
    assert 0.0 < (~eq[200]).mean() < 0.5  # feature-level holes, not whole days
    raion_days = seen["raion_geoconfirmed"].any(axis=2)
    assert 0.0 < (~raion_days).mean() < 0.3  # raion-days without a report
    assert np.nanmin(tiny_raw.sources["equipment"].values[:, :16]) < 0  # corrections


def test_targets_kinds(tiny_raw: RawDataset) -> None:
    t = {k: v[~np.isnan(v)] for k, v in tiny_raw.targets.items()}
    assert set(np.unique(t["regime"])) <= {0, 1, 2, 3}
    assert set(np.unique(t["transition"])) <= {0, 1}
    assert 0 < t["transition"].mean() < 0.5
    assert (t["casualty"] >= 0).all() and (t["casualty"] == 0).mean() > 0.1  # excess zeros


def _window_features(data) -> tuple[np.ndarray, dict, np.ndarray]:
    """Last-30-day means of the daily losses and the monthly targets, pooled over the splits
    in time order, with block ids (30 consecutive anchors) for grouped cross-validation."""
    items = [ds[i] for ds in data.splits.values() for i in range(len(ds))]
    x = np.stack(
        [
            np.concatenate(
                [it["daily"][k]["x"][-30:].mean(0).numpy() for k in ("equipment", "personnel")]
            )
            for it in items
        ]
    )
    tg = {
        k: (
            np.array([it["targets"][k]["y"].item() for it in items]),
            np.array([it["targets"][k]["m"].item() for it in items]),
        )
        for k in ("regime", "anomaly")
    }
    return x, tg, np.arange(len(items)) // 30


@pytest.fixture(scope="module")
def small_data():
    synth = SynthConfig.preset("small", seed=1)
    cfg = DataConfig(synth=synth, daily_window=60, raion_pca_components=2)
    return build(cfg, generate(synth))


def test_planted_signal_is_learnable_where_a_constant_is_not(small_data) -> None:
    """Cross-validated over blocks of consecutive anchors (neighbours share a target month,
    so they stay in one fold), a linear probe of the daily losses predicts the monthly
    targets better than the constants the reference predictors use."""
    x, t, groups = _window_features(small_data)
    cv = GroupKFold(n_splits=5)
    y, m = t["anomaly"]
    probe = cross_val_predict(Ridge(1.0), x[m], y[m], groups=groups[m], cv=cv)
    constant = cross_val_predict(DummyRegressor(), x[m], y[m], groups=groups[m], cv=cv)
    assert ((probe - y[m]) ** 2).mean() < 0.7 * ((constant - y[m]) ** 2).mean()
    y, m = t["regime"]
    clf = LogisticRegression(C=0.1, max_iter=1000)
    probe = cross_val_predict(clf, x[m], y[m], groups=groups[m], cv=cv)
    majority = cross_val_predict(DummyClassifier(), x[m], y[m], groups=groups[m], cv=cv)
    assert (probe == y[m]).mean() > (majority == y[m]).mean() + 0.1


def test_anchors_are_positive_and_finite(small_data) -> None:
    for split in ("val", "test"):
        values = np.array(list(small_data.references[split].values()))
        assert np.isfinite(values).all() and (values > 0).all()
