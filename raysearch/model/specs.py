"""Named dataset specs for building the HAN without data: ``tiny_spec`` (tests, smoke
runs), ``original_spec`` (the feature counts of the original HAN's run, for sizing the
model) and ``make_spec`` (any feature counts).

>>> tiny_spec().daily_window
40
"""

from __future__ import annotations

from raysearch.core.spec import TASK_NAMES, DatasetSpec, Resolution, SourceSpec, TaskSpec

__all__ = ["ORIGINAL_FEATURES", "make_spec", "original_spec", "tiny_spec"]


def _source(name: str, res: Resolution, n: int) -> SourceSpec:
    return SourceSpec(name, res, tuple(f"{name}_{i}" for i in range(n)))


def make_spec(
    daily: dict[str, int],
    monthly: dict[str, int],
    raion: dict[str, int],
    tasks: tuple[str, ...] = tuple(TASK_NAMES),
    daily_window: int = 40,
    monthly_window: int = 3,
    n_raions: int = 5,
    horizon: int = 3,
    coords: bool = True,
) -> DatasetSpec:
    """A DatasetSpec from feature counts per source. forecast predicts every monthly feature,
    daily_forecast every daily feature (so each needs sources of its resolution)."""
    sources = (
        tuple(_source(n, Resolution.DAILY, f) for n, f in daily.items())
        + tuple(_source(n, Resolution.MONTHLY, f) for n, f in monthly.items())
        + tuple(_source(n, Resolution.RAION, f) for n, f in raion.items())
    )
    n_out = {
        "regime": 4,
        "forecast": max(sum(monthly.values()), 1),
        "daily_forecast": max(sum(daily.values()), 1),
    }
    task_specs = tuple(
        TaskSpec(t, TASK_NAMES[t], n_out.get(t, 1), horizon if t == "daily_forecast" else 1)
        for t in tasks
    )
    r = n_raions if raion else 0
    xy = (
        tuple((48.0 + (i // 3) * 0.7, 30.0 + i % 3) for i in range(r)) if coords else ()
    )  # lat, lon
    return DatasetSpec(sources, task_specs, daily_window, monthly_window, r, xy)


def tiny_spec() -> DatasetSpec:
    """All three resolutions, all six tasks; T=40 days, M=3 months, R=5 raions, horizon 3."""
    return make_spec(
        daily={"equipment": 4, "personnel": 3},
        monthly={"sentinel": 4, "hdx_conflict": 3},
        raion={"geoconfirmed": 3, "firms_raion": 2},
    )


# Feature counts per source of the original HAN's run (report 000; raion sources after an
# 8-component PCA).
ORIGINAL_FEATURES: dict[str, dict[str, int]] = {
    "daily": {"equipment": 51, "personnel": 7, "deepstate": 5, "firms": 13, "viina": 20},
    "monthly": {"sentinel": 43, "hdx_conflict": 18, "hdx_food": 10, "hdx_rainfall": 6, "iom": 8},
    "raion": {"geoconfirmed_raion": 8, "deepstate_raion": 8, "firms_raion": 8},
}


def original_spec() -> DatasetSpec:
    """The original HAN's feature counts (report 000): 5 daily, 5 monthly, 3 raion sources
    x 8 PCA components x 263 raions, windows 365 days / 12 months, a 7-day daily forecast of
    every daily feature."""
    return make_spec(
        daily=ORIGINAL_FEATURES["daily"],
        monthly=ORIGINAL_FEATURES["monthly"],
        raion=ORIGINAL_FEATURES["raion"],
        daily_window=365,
        monthly_window=12,
        n_raions=263,
        horizon=7,
        coords=False,
    )
