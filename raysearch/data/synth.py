"""The embedded default: a synthetic dataset with the HAN's shapes, missingness and a
planted signal, generated deterministically from ``SynthConfig.seed``.

The planted signal: a slow latent conflict intensity ``z`` (daily AR(1)) drives the daily
sources (equipment and personnel losses are Poisson in ``exp(a + b z)``), the monthly and
raion sources. Month ``m``'s regime, transition, casualty and anomaly targets are driven by
the mean of ``z`` over month ``m - 1``: a model that reads the daily window can learn them,
a class prior / constant / persistence reference cannot.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from raysearch.core.data_config import SynthConfig
from raysearch.data.raw import RawDataset, RawSource, month_index


def lfilter(b: list[float], a: list[float], x: np.ndarray, axis: int = -1) -> np.ndarray:
    """scipy.signal.lfilter, imported on first use."""
    # Deferred: scipy.signal costs ~1.5 s to import and every trial process imports this
    # module; only building the synthetic dataset (once, then cached) needs it.
    from scipy.signal import lfilter as _lfilter

    return _lfilter(b, a, x, axis=axis)


__all__ = ["GENERATOR_VERSION", "generate"]

GENERATOR_VERSION = "synth-3"  # bump whenever the output changes (cache key)

EQUIPMENT_CLASSES = (
    "aircraft", "helicopter", "tank", "apc", "field_artillery", "mrl", "drone", "naval_ship",
    "anti_aircraft", "special_equipment", "vehicles_fuel_tanks", "cruise_missiles",
    "mobile_srbm", "submarines", "ground_robotic", "military_auto",
)  # fmt: skip
# class -> first day it is reported (late starts, as in the real losses data)
LATE_START = {"special_equipment": 20, "cruise_missiles": 66, "submarines": 567,
              "ground_robotic": 1300, "mobile_srbm": 30}  # fmt: skip
MONTHLY_COUNTS = {"sentinel": 43, "hdx_conflict": 18, "hdx_food": 10, "hdx_rainfall": 6, "iom": 8}
RAION_COUNTS = {"geoconfirmed": 50, "deepstate": 48, "firms": 35}


def generate(cfg: SynthConfig) -> RawDataset:
    """Build the synthetic ``RawDataset`` for ``cfg`` (same config -> identical arrays)."""
    rng = np.random.default_rng(cfg.seed)
    start = dt.date.fromisoformat(cfg.start)
    n_days = cfg.days
    dates = pd.date_range(start, periods=n_days, freq="D")
    dm = month_index(dates, start)
    z = _latent(rng, n_days)
    zm = np.bincount(dm, weights=z) / np.bincount(dm)  # (NM,) mean intensity per month
    season = np.sin(2 * np.pi * (dates.dayofyear.to_numpy() - 80) / 365.25).astype(np.float32)

    sources: dict[str, RawSource] = {}
    for src in (
        _equipment(rng, z),
        _personnel(rng, z),
        _deepstate(rng, z),
        _firms(rng, z, season),
        _viina(rng, z),
    ):
        sources[src.name] = src
    mseason = np.bincount(dm, weights=season) / np.bincount(dm)
    for name, n_feat in MONTHLY_COUNTS.items():
        sources[f"{name}"] = _monthly(rng, name, n_feat, zm, mseason)
    coords = _coords(rng, cfg.raions)
    zr = _raion_latent(rng, z, coords)
    for name, n_feat in RAION_COUNTS.items():
        src = _raion(rng, f"raion_{name}", n_feat, zr, season)
        sources[src.name] = src
    return RawDataset(
        name=f"synthetic(days={cfg.days}, raions={cfg.raions}, seed={cfg.seed})",
        start=start,
        n_days=n_days,
        sources=sources,
        targets=_targets(rng, zm),
        raions=tuple(f"R{i:03d}" for i in range(cfg.raions)),
        raion_coords=coords,
    )


def _latent(rng: np.random.Generator, n: int, phi: float = 0.99) -> np.ndarray:
    eps = rng.normal(0.0, np.sqrt(1 - phi**2), size=n + 200)
    return lfilter([1.0], [1.0, -phi], eps)[200:].astype(np.float64)


def _rolling(x: np.ndarray, w: int) -> tuple[np.ndarray, np.ndarray]:
    """Trailing mean and std over ``w`` days along axis 0 (first rows use what exists)."""
    c1 = np.cumsum(np.nan_to_num(x), axis=0)
    c2 = np.cumsum(np.nan_to_num(x) ** 2, axis=0)
    n = np.minimum(np.arange(1, len(x) + 1), w).reshape(-1, *([1] * (x.ndim - 1)))
    s1 = c1 - np.concatenate([np.zeros((w, *x.shape[1:])), c1[:-w]])[: len(x)]
    s2 = c2 - np.concatenate([np.zeros((w, *x.shape[1:])), c2[:-w]])[: len(x)]
    mean = s1 / n
    return mean, np.sqrt(np.maximum(s2 / n - mean**2, 0.0))


def _holes(rng: np.random.Generator, x: np.ndarray, frac: float) -> np.ndarray:
    x = x.astype(np.float32)
    x[rng.random(x.shape) < frac] = np.nan
    return x


def _gap(rng: np.random.Generator, x: np.ndarray, length: int) -> None:
    """Blank a random stretch of ``length`` days (in place)."""
    if len(x) > 2 * length:
        s = int(rng.integers(length, len(x) - length))
        x[s : s + length] = np.nan


def _equipment(rng: np.random.Generator, z: np.ndarray) -> RawSource:
    n = len(EQUIPMENT_CLASSES)
    a = rng.uniform(-1.0, 3.5, n)
    b = rng.uniform(0.4, 1.0, n)
    lam = np.exp(a[None, :] + b[None, :] * z[:, None])
    delta = rng.poisson(lam).astype(np.float64)
    delta[rng.random(delta.shape) < 0.002] = -1.0  # corrections: negative deltas are data
    for name, first in LATE_START.items():
        delta[: min(first, len(z)), EQUIPMENT_CLASSES.index(name)] = np.nan
    total = np.nansum(delta, axis=1, keepdims=True)
    feats, names = [], []
    for block, classes in ((delta, EQUIPMENT_CLASSES), (total, ("total",))):
        m7, s7 = _rolling(block, 7)
        m7[np.isnan(block)] = np.nan
        s7[np.isnan(block)] = np.nan
        feats += [block, m7, s7]
        names += [f"{c}_{stat}" for stat in ("delta", "mean7", "std7") for c in classes]
    values = _holes(rng, np.concatenate(feats, axis=1), 0.005)
    return RawSource("equipment", "daily", tuple(names), values)


def _personnel(rng: np.random.Generator, z: np.ndarray) -> RawSource:
    delta = rng.poisson(np.exp(6.0 + 0.6 * z)).astype(np.float64)[:, None]
    m7, s7 = _rolling(delta, 7)
    m14, s14 = _rolling(delta, 14)
    m30, _ = _rolling(delta, 30)
    pow_ = rng.poisson(np.exp(1.0 + 0.3 * z)).astype(np.float64)[:, None]
    pow7, _ = _rolling(pow_, 7)
    pow7[62:] = np.nan  # POW reported only in the first two months
    values = np.concatenate([delta, m7, m14, m30, s7, s14, pow7], axis=1)
    names = ("delta", "mean7", "mean14", "mean30", "std7", "std14", "pow_mean7")
    return RawSource("personnel", "daily", names, _holes(rng, values, 0.003))


def _counts(rng: np.random.Generator, z: np.ndarray, n: int, base: float) -> np.ndarray:
    a = rng.uniform(base - 1.0, base + 1.0, n)
    b = rng.uniform(0.2, 0.8, n)
    return rng.poisson(np.exp(a[None, :] + b[None, :] * z[:, None])).astype(np.float64)


def _deepstate(rng: np.random.Generator, z: np.ndarray) -> RawSource:
    values = _holes(rng, _counts(rng, z, 5, 3.0), 0.01)
    values[: min(90, len(z))] = np.nan  # the map starts late
    _gap(rng, values, 20)
    names = ("polygons", "multipolygons", "points", "lines", "features")
    return RawSource("deepstate", "daily", names, values)


def _firms(rng: np.random.Generator, z: np.ndarray, season: np.ndarray) -> RawSource:
    base = _counts(rng, z + 0.8 * season, 13, 2.0)
    values = _holes(rng, base, 0.01)
    values[rng.random(len(z)) < 0.04] = np.nan  # cloudy days: nothing reported
    names = ("fire_count", "bright_mean", "bright_max", "bright_std", "t31_mean", "t31_max",
             "frp_sum", "frp_mean", "frp_max", "high_conf", "daytime", "scan_mean",
             "track_mean")  # fmt: skip
    return RawSource("firms", "daily", names, values)


def _viina(rng: np.random.Generator, z: np.ndarray) -> RawSource:
    values = _holes(rng, _counts(rng, z, 10, 1.5), 0.01)
    _gap(rng, values, 30)
    names = ("events", *(f"t_{k}" for k in ("arty", "airstrike", "armor", "control",
             "raid", "mortar", "ied", "killing", "protest")))  # fmt: skip
    return RawSource("viina", "daily", names, values)


def _monthly(
    rng: np.random.Generator, name: str, n: int, zm: np.ndarray, season: np.ndarray
) -> RawSource:
    load = rng.normal(0.0, 1.0, (3, n))
    basis = np.stack([zm, season, rng.normal(0, 1, len(zm))], axis=1)
    values = basis @ load + 0.3 * rng.normal(0, 1, (len(zm), n)) + rng.uniform(-2, 5, n)
    values = _holes(rng, values, 0.03)
    n_gone = max(1, round(0.08 * len(zm)))  # whole months missing
    values[rng.choice(len(zm), size=min(n_gone, len(zm) - 1), replace=False)] = np.nan
    if name == "iom":
        values[:3] = np.nan  # starts late
    names = tuple(f"{name}_{i:02d}" for i in range(n))
    return RawSource(name, "monthly", names, values)


def _coords(rng: np.random.Generator, r: int) -> tuple[tuple[float, float], ...]:
    lat = rng.uniform(44.5, 52.0, r)
    lon = rng.uniform(22.5, 40.0, r)
    return tuple((round(float(a), 4), round(float(o), 4)) for a, o in zip(lat, lon, strict=True))


def _raion_latent(
    rng: np.random.Generator, z: np.ndarray, coords: tuple[tuple[float, float], ...]
) -> np.ndarray:
    lon = np.asarray([c[1] for c in coords])
    front = 1.0 / (1.0 + np.exp(-(lon - 35.0) / 1.5))  # eastern raions see the war
    local = lfilter([1.0], [1.0, -0.9], rng.normal(0, 0.45, (len(z), len(coords))), axis=0)
    return (front[None, :] * z[:, None] + local).astype(np.float32)  # (D, R)


def _raion(
    rng: np.random.Generator, name: str, n: int, zr: np.ndarray, season: np.ndarray
) -> RawSource:
    d, r = zr.shape
    k = 4
    basis = np.empty((d, r, k), dtype=np.float32)
    basis[..., 0] = zr
    basis[..., 1] = np.maximum(zr, 0) ** 2
    basis[..., 2] = season[:, None]
    basis[..., 3] = rng.standard_normal((d, r), dtype=np.float32)
    load = rng.normal(0.0, 1.0, (k, n)).astype(np.float32)
    values = basis @ load  # (D, R, F)
    values += 0.5 * rng.standard_normal(values.shape, dtype=np.float32)
    n_dup = max(1, n // 10)  # near-duplicate features for the correlation filter
    src, dst = rng.choice(n, size=(2, n_dup), replace=False)
    values[..., dst] = 1.5 * values[..., src] + 0.05 * rng.standard_normal(
        (d, r, n_dup), dtype=np.float32
    )
    values[rng.random(values.shape, dtype=np.float32) < 0.02] = np.nan
    values[rng.random((d, r), dtype=np.float32) < 0.1] = np.nan  # raion-days without a report
    if name == "raion_firms":
        values[: min(30, d)] = np.nan
    names = tuple(f"{name.removeprefix('raion_')}_{i:02d}" for i in range(n))
    return RawSource(name, "raion", names, values)


def _regimes(lag: np.ndarray, margin: float = 0.3) -> np.ndarray:
    """4 classes from last month's intensity, with hysteresis so phases persist."""
    cuts = np.asarray([-0.6, 0.1, 0.8])
    out = np.full(len(lag), np.nan)
    state = -1
    for m, value in enumerate(lag):
        if np.isnan(value):
            continue
        bucket = int(np.searchsorted(cuts, value))
        low = cuts[state - 1] - margin if state > 0 else -np.inf
        high = cuts[state] + margin if 0 <= state < len(cuts) else np.inf
        if state < 0 or not low <= value <= high:
            state = bucket
        out[m] = state
    return out


def _targets(rng: np.random.Generator, zm: np.ndarray) -> dict[str, np.ndarray]:
    nm = len(zm)
    lag = np.concatenate([[np.nan], zm[:-1]])  # month m's targets follow month m-1
    regime = _regimes(lag)
    prev = np.concatenate([[np.nan], regime[:-1]])
    transition = np.where(np.isnan(regime) | np.isnan(prev), np.nan, (regime != prev) * 1.0)
    lz = np.nan_to_num(lag)
    pi = 1.0 / (1.0 + np.exp(2.0 + 2.0 * lz))
    mu = np.exp(3.0 + 1.2 * lz)
    theta = 2.0
    counts = rng.poisson(rng.gamma(theta, mu / theta)).astype(np.float64)
    casualty = np.where(rng.random(nm) < pi, 0.0, counts)
    casualty[np.isnan(lag)] = np.nan
    anomaly = -0.8 * lag + 0.25 * rng.normal(0, 1, nm)
    anomaly[rng.random(nm) < 0.1] = np.nan
    out = {"regime": regime, "transition": transition, "casualty": casualty, "anomaly": anomaly}
    return {k: v.astype(np.float32) for k, v in out.items()}
