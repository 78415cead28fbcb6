from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from raysearch.core.errors import ConfigError
from raysearch.data.preprocess import (
    apply_source,
    fit_corr_filter,
    fit_normaliser,
    fit_source,
    masked_corr,
)


def _with_holes(seed: int, shape: tuple[int, ...], frac: float = 0.2) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=shape).astype(np.float32)
    x[rng.random(shape) < frac] = np.nan
    return x


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(3, 6))
def test_masked_corr_is_pandas_pairwise_complete(seed: int, f: int) -> None:
    x = _with_holes(seed, (40, f))
    x[:, 1] = x[:, 0] * 2 + 0.1 * np.nan_to_num(x[:, 2])  # a correlated pair
    ours = masked_corr(x)
    ref = pd.DataFrame(x.astype(np.float64)).corr(min_periods=2).to_numpy()
    ok = ~np.isnan(ref)
    assert np.allclose(ours[ok], ref[ok], atol=1e-6)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from([1e4, 3e8, -2e9]), st.sampled_from([1e-2, 10.0]))
def test_masked_corr_is_a_correlation_for_features_far_from_zero(
    seed: int, offset: float, spread: float
) -> None:
    """The covariance was E[xy] - E[x]E[y] over the raw values: around 3e8 with a spread of
    10 it cancelled to noise (r = -1.41 for independent features), and the correlation
    filter dropped an independent feature as a duplicate of the other."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(500, 3)) * spread + offset
    x[:, 2] = x[:, 0] + 0.5 * (x[:, 1] - offset)  # correlated with feature 0 (r = 0.89)
    x[rng.random(x.shape) < 0.1] = np.nan
    ours = masked_corr(x)
    assert np.all(np.abs(ours) <= 1.0)
    for i, j in [(0, 1), (0, 2), (1, 2)]:  # centred on the pair's means, rows both observed
        both = x[~np.isnan(x[:, i]) & ~np.isnan(x[:, j])][:, [i, j]]
        assert abs(ours[i, j] - np.corrcoef(both.T)[0, 1]) < 1e-7
    # and pandas, whose own rounding reaches 2e-5 at -2e9 +- 0.01
    assert np.allclose(ours, pd.DataFrame(x).corr().to_numpy(), atol=1e-4)
    assert fit_corr_filter(x[:, None, :2], 0.85) == (0, 1)  # independent: both kept


@settings(max_examples=50, deadline=None)
@given(
    st.integers(0, 10_000),
    st.floats(-1e9, 1e9, allow_nan=False).filter(lambda c: c != 0),
    st.floats(0.0, 1e9, allow_nan=False),
    st.sampled_from([1.0, 1e-3, 1e3]),
)
def test_a_feature_constant_where_another_is_observed_is_uncorrelated_with_it(
    seed: int, elsewhere: float, there: float, spread: float
) -> None:
    """A count that is ``there`` (0: no events) on every row where another feature is
    observed, and varies elsewhere, has no correlation with it (its variance on those rows
    is 0), and the filter keeps both: centring on its overall mean left that variance as
    rounding noise of the offset squared, whose ratio was clipped to r = +-1, and the lower
    variance feature was dropped as a duplicate."""
    rng = np.random.default_rng(seed)
    n = 200
    count = np.full(n, there)
    count[100:] = elsewhere + spread * rng.normal(size=100)  # varies where the other is unseen
    other = np.full(n, np.nan)
    other[:100] = rng.normal(size=100) * spread
    x = np.column_stack([count, other])
    assert masked_corr(x)[0, 1] == 0.0 == masked_corr(x)[1, 0]
    assert fit_corr_filter(x[:, None, :], 0.95) == (0, 1)
    # a plain constant too, with holes: uncorrelated with every feature
    y = np.column_stack([np.full(n, there), rng.normal(size=n)])
    y[rng.random(y.shape) < 0.1] = np.nan
    assert masked_corr(y)[0, 1] == 0.0


def test_corr_filter_keeps_the_higher_variance_feature_of_a_pair() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(size=500)
    x = np.stack([a, 3 * a + 0.01 * rng.normal(size=500), rng.normal(size=500)], axis=1)
    assert fit_corr_filter(x, 0.85) == (1, 2)  # 3a has the larger variance
    assert fit_corr_filter(x, 1.0) == (0, 1, 2)
    # works on (D, R, F) raion arrays too (rows = day x raion)
    assert fit_corr_filter(x.reshape(50, 10, 3), 0.85) == (1, 2)


@settings(max_examples=25, deadline=None)
@given(arrays(np.float32, (30, 4), elements=st.floats(-1e3, 1e3, width=32)), st.integers(0, 99))
def test_normaliser_ignores_missing_values(x: np.ndarray, seed: int) -> None:
    """Mean and (population) std over each feature's observed values: numpy's nanmean and
    nanstd, holes counted in neither the sums nor the counts; a feature constant (or never
    observed) in training gets std 1."""
    holes = np.random.default_rng(seed).random(x.shape) < 0.3
    y = x.copy()
    y[holes] = np.nan
    mean, std = fit_normaliser(y)
    for j in range(4):
        col = y[:, j].astype(np.float64)
        if (~holes[:, j]).any():
            assert np.isclose(mean[j], np.nanmean(col), rtol=1e-4, atol=1e-3)
            expected = np.nanstd(col)
            assert np.isclose(std[j], expected if expected > 1e-6 else 1.0, rtol=1e-5)
        else:
            assert std[j] == 1.0


def test_a_feature_constant_in_training_is_centred_only() -> None:
    """Its std is 1, not the 1e-6 floor: a later change of 1 stays 1 (not 1e6) once
    normalised. By hand: training mean 4, so 5 later is (5 - 4) / 1 = 1."""
    x = np.full((30, 1), 4.0, dtype=np.float32)
    x[20:] = 5.0
    fit = fit_source(x, 20, "daily", 0.85, 0, "flat")
    assert fit.std.tolist() == [1.0]
    z, _ = apply_source(x, fit)
    assert z[:20, 0].tolist() == [0.0] * 20
    assert z[25, 0] == pytest.approx(1.0)


def test_apply_zeroes_unobserved_and_masks_per_feature() -> None:
    x = _with_holes(1, (20, 3))
    fit = fit_source(x, 20, "daily", 0.85, 0, "d")
    z, m = apply_source(x, fit)
    assert np.array_equal(m, ~np.isnan(x))
    assert (z[~m] == 0.0).all() and np.isfinite(z).all()
    assert np.allclose(z[m[:, 0], 0].mean(), 0.0, atol=1e-5)


def test_raion_pca_is_shared_masked_and_ignores_masked_raw_values() -> None:
    x = _with_holes(2, (60, 5, 6), frac=0.1)
    x[3, 2] = np.nan  # a raion-day with no report
    fit = fit_source(x, 40, "raion", 0.99, 3, "r")
    z, m = apply_source(x, fit)
    assert z.shape == (60, 5, 3) and m.shape == (60, 5, 3)
    assert not m[3, 2].any() and (z[3, 2] == 0).all()
    assert m[4, 2].all()
    # fitted on the first 40 days only: later days do not move it
    x2 = x.copy()
    x2[40:] *= 100.0
    fit2 = fit_source(x2, 40, "raion", 0.99, 3, "r")
    assert fit.equals(fit2)
    assert not np.array_equal(apply_source(x2, fit2)[0][40:], z[40:])


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    days=st.integers(20, 60),
    raions=st.integers(2, 5),
    f=st.integers(2, 6),
    data=st.data(),
)
def test_the_raion_pca_components_are_whitened_on_the_training_rows(
    seed: int, days: int, raions: int, f: int, data: st.DataObject
) -> None:
    """The shared PCA is whitened: over the training (day, raion) rows its components have
    mean 0 and covariance the identity (numpy's sample covariance, as sklearn's explained
    variance divides by n - 1), whatever the features' scales."""
    k = data.draw(st.integers(1, f), label="components")
    rng = np.random.default_rng(seed)
    scales = rng.uniform(0.1, 10.0, f)
    x = (rng.normal(size=(days, raions, f)) * scales).astype(np.float32)
    fit = fit_source(x, days, "raion", 1.0, k, "r")
    z, m = apply_source(x, fit)
    assert m.all()
    rows = z.reshape(-1, k).astype(np.float64)
    np.testing.assert_allclose(rows.mean(axis=0), 0.0, atol=1e-4)
    np.testing.assert_allclose(np.cov(rows, rowvar=False).reshape(k, k), np.eye(k), atol=1e-3)


def test_the_raion_pca_fills_a_raion_days_missing_features_with_the_training_mean() -> None:
    """What README and docs/design.md say: a raion-day with some features observed is
    projected with the others at their training mean (0 once normalised), and its components
    are observed; a raion-day with none stays masked."""
    x = _with_holes(4, (60, 5, 6), frac=0.0)
    fit = fit_source(x, 40, "raion", 1.0, 3, "r")
    filled = x.copy()
    filled[50, 1, [0, 4]] = fit.mean[[0, 4]]
    x[50, 1, [0, 4]] = np.nan
    x[51, 1] = np.nan
    z, m = apply_source(x, fit)
    assert m[50, 1].all()
    np.testing.assert_allclose(z[50, 1], apply_source(filled, fit)[0][50, 1], atol=1e-5)
    assert not m[51, 1].any() and (z[51, 1] == 0).all()


def test_pca_components_beyond_features_is_a_config_error() -> None:
    x = _with_holes(3, (30, 4, 3))
    with pytest.raises(ConfigError, match="raion_pca_components: 5"):
        fit_source(x, 30, "raion", 1.0, 5, "raion_x")


@pytest.mark.parametrize(("resolution", "pca"), [("daily", 0), ("raion", 2)])
def test_a_feature_training_never_saw_stays_unobserved_on_every_day(
    resolution: str, pca: int
) -> None:
    """A feature first reported after the training period (the full synthetic preset's
    ground_robotic, from day 1300) had no statistics and reached the model on its raw
    scale (hundreds) on validation and test days, while training saw it masked at 0."""
    rng = np.random.default_rng(0)
    days, train = 200, 100
    shape = (days, 3, 3) if resolution == "raion" else (days, 3)
    values = rng.normal(5.0, 2.0, shape).astype(np.float32)
    values[..., 2] = np.nan
    values[150:, ..., 2] = rng.normal(400.0, 50.0, values[150:, ..., 2].shape)
    fit = fit_source(values, train, resolution, 0.99, pca, "late")
    assert fit.seen.tolist() == [True, True, False]
    x, m = apply_source(values, fit)
    if pca == 0:
        assert not m[..., 2].any() and (x[..., 2] == 0).all()
    # the features training saw give the same inputs as without the late one
    early = fit_source(values[..., :2], train, resolution, 0.99, pca, "early")
    assert np.allclose(apply_source(values[..., :2], early)[0], x if pca else x[..., :2])
