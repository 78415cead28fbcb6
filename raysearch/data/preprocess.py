"""Statistics fitted on the training period only, then applied to every day.

Order per raion source (report 000 §5.2-5.3): correlation filter on the raw values,
normalisation, then one PCA shared across raions. Daily and monthly sources are only
normalised. Arrays carry NaN for unobserved values; every fit ignores them. A feature the
training period never observed (one first reported later) has no statistics to scale it by:
it is unobserved (0, masked) on every day, as the model saw it in training.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from raysearch.core.errors import ConfigError

__all__ = [
    "FittedSource",
    "apply_source",
    "fit_corr_filter",
    "fit_normaliser",
    "fit_pca",
    "fit_source",
    "masked_corr",
]

_CONSTANT = 1e-12  # masked_corr: a variance this small against its second moment is 0
_MIN_STD = 1e-6


@dataclass(frozen=True)
class FittedSource:
    """What was fitted for one source: kept columns, mean/std, optional PCA (whitened)."""

    keep: tuple[int, ...]
    mean: np.ndarray  # (F_kept,)
    std: np.ndarray  # (F_kept,), 1.0 for a constant or never-observed feature
    seen: np.ndarray  # (F_kept,) bool: observed in the training period
    pca_components: np.ndarray | None = None  # (k, F_kept)
    pca_mean: np.ndarray | None = None  # (F_kept,)
    pca_scale: np.ndarray | None = None  # (k,) sqrt of explained variance

    def equals(self, other: FittedSource) -> bool:
        pairs: list[tuple[np.ndarray | None, np.ndarray | None]]
        pairs = [(self.mean, other.mean), (self.std, other.std), (self.seen, other.seen)]
        pairs += [(self.pca_components, other.pca_components), (self.pca_mean, other.pca_mean)]
        pairs += [(self.pca_scale, other.pca_scale)]
        same = all(
            (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))
            for a, b in pairs
        )
        return same and self.keep == other.keep


def masked_corr(x: np.ndarray) -> np.ndarray:
    """(F, F) Pearson correlation over rows where both features are observed (NaN = not);
    0 where it is undefined (fewer than two such rows, or a feature constant on them).

    Each feature is centred on its own observed mean first: the moments of a pair are then
    sums of values of the order of its spread, and the covariance formula below does not
    cancel away features with a large offset (values around 3e8 with a spread of 10 gave
    |r| > 1). Covariance is unchanged by the shift. A feature constant on a pair's rows (a
    count that is 0 wherever the other is observed) sits off its overall mean there, and
    its variance comes out as rounding noise of that offset squared, not 0: a variance
    within _CONSTANT (relative) of the pair's second moment is taken as 0, so the pair is
    uncorrelated rather than the noise's ratio clipped to +-1."""
    m = (~np.isnan(x)).astype(np.float64)
    v = np.nan_to_num(x.astype(np.float64))
    v = (v - (v * m).sum(axis=0) / np.maximum(m.sum(axis=0), 1.0)) * m  # centred, 0 if unseen
    n = m.T @ m  # pairs observed together
    s = v.T @ m  # s[i, j] = sum of x_i where x_j also observed
    s2 = (v * v).T @ m
    p = v.T @ v
    with np.errstate(invalid="ignore", divide="ignore"):
        mi, mj = s / n, s.T / n
        cov = p / n - mi * mj
        second = s2 / n  # x_i's second moment (about its overall mean) on the pair's rows
        vi = s2 / n - mi**2
        varies = (n >= 2) & (vi > _CONSTANT * second)
        both = varies & varies.T
        corr = np.where(both, cov / np.sqrt(np.where(both, vi * vi.T, 1.0)), 0.0)
    return np.clip(corr, -1.0, 1.0)


def fit_corr_filter(x: np.ndarray, threshold: float) -> tuple[int, ...]:
    """Columns kept: by descending variance, drop any with |r| > threshold to a kept one."""
    f = x.shape[-1]
    if threshold >= 1.0 or f < 2:
        return tuple(range(f))
    flat = x.reshape(-1, f)
    corr = np.abs(masked_corr(flat))
    var = np.nan_to_num(np.nanvar(flat, axis=0), nan=0.0)
    kept: list[int] = []
    for j in np.argsort(-var, kind="stable"):
        if all(corr[j, k] <= threshold for k in kept):
            kept.append(int(j))
    return tuple(sorted(kept))


def fit_normaliser(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per-feature mean and std over observed entries (last axis = features)."""
    flat = x.reshape(-1, x.shape[-1]).astype(np.float64)
    seen = (~np.isnan(flat)).sum(axis=0)
    mean = np.where(seen > 0, np.nansum(flat, axis=0) / np.maximum(seen, 1), 0.0)
    var = np.nansum((flat - mean) ** 2, axis=0) / np.maximum(seen, 1)
    std = np.sqrt(var)
    std = np.where(std > _MIN_STD, std, 1.0)  # constant feature: centred only
    return mean.astype(np.float32), std.astype(np.float32)


def fit_pca(z: np.ndarray, n_components: int, name: str) -> tuple[np.ndarray, ...]:
    """One PCA over every (day, raion) row with at least one observed feature.

    ``z`` is normalised with NaN for holes; holes are filled with 0 (the training mean).
    """
    flat = z.reshape(-1, z.shape[-1])
    rows = flat[~np.isnan(flat).all(axis=1)]
    f = flat.shape[1]
    if n_components > f or n_components > len(rows):
        raise ConfigError(
            [
                f"raion_pca_components: {n_components} exceeds what source {name!r} allows "
                f"({f} features after the correlation filter, {len(rows)} observed rows)"
            ]
        )
    # Deferred: scikit-learn (and the SciPy it loads) takes a second to import, in every
    # process that imports the data package: each Ray Train worker of each trial, which
    # reads the prepared cache and fits nothing.
    from sklearn.decomposition import PCA

    pca = PCA(n_components=n_components, svd_solver="full", random_state=0)
    pca.fit(np.nan_to_num(rows))
    scale = np.sqrt(np.maximum(pca.explained_variance_, _MIN_STD))
    return (
        pca.components_.astype(np.float32),
        pca.mean_.astype(np.float32),
        scale.astype(np.float32),
    )


def fit_source(
    values: np.ndarray, train_days: int, resolution: str, threshold: float, n_pca: int, name: str
) -> FittedSource:
    """Fit one source on its first ``train_days`` rows (days, or months for monthly)."""
    train = values[:train_days]
    keep = tuple(range(values.shape[-1]))
    if resolution == "raion":
        keep = fit_corr_filter(train, threshold)
    train = train[..., list(keep)]
    mean, std = fit_normaliser(train)
    seen = (~np.isnan(train.reshape(-1, train.shape[-1]))).any(axis=0)
    if resolution != "raion" or n_pca == 0:
        return FittedSource(keep, mean, std, seen)
    comps, pmean, scale = fit_pca((train - mean) / std, n_pca, name)
    return FittedSource(keep, mean, std, seen, comps, pmean, scale)


def apply_source(values: np.ndarray, fit: FittedSource) -> tuple[np.ndarray, np.ndarray]:
    """(x, m): float32 values with 0.0 where unobserved, and the bool mask."""
    x = values[..., list(fit.keep)]
    m = ~np.isnan(x) & fit.seen  # a feature training never saw stays unobserved
    z = np.where(m, (x - fit.mean) / fit.std, 0.0).astype(np.float32)
    if fit.pca_components is None:
        return z, m
    assert fit.pca_mean is not None and fit.pca_scale is not None
    row_seen = m.any(axis=-1, keepdims=True)  # a (day, raion) with any report
    pcs = ((z - fit.pca_mean) @ fit.pca_components.T) / fit.pca_scale  # (..., k)
    mk = np.broadcast_to(row_seen, pcs.shape).copy()
    return np.where(mk, pcs, 0.0).astype(np.float32), mk
