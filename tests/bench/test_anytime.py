"""The benchmarks' pure analysis functions: anytime curves, incumbents, regret, overhead."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.anytime import (
    anytime_curve,
    curve_values,
    epochs_to_reach,
    incumbent_curve,
    median_curve,
)
from bench.bookkeeping import RAY_OVERHEAD_S, RAY_RATIO, overhead_per_slot
from bench.hartmann import F_STAR, X_STAR, augmented_hartmann, regret

finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)
FAST = settings(max_examples=30, deadline=None)  # the whole file well under 5 s


@st.composite
def records(draw: st.DrawFn, min_size: int = 1) -> pd.DataFrame:
    """Epoch records (trial, epoch, value, t) with distinct times, in shuffled order."""
    values = draw(st.lists(finite, min_size=min_size, max_size=40))
    n = len(values)
    trials = draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    order = draw(st.permutations(range(n)))
    return pd.DataFrame(
        {
            "trial": [trials[i] for i in order],
            "epoch": [1] * n,
            "value": [values[i] for i in order],
            "t": [float(i) for i in order],  # record i became known at t = i
        }
    )


@FAST
@given(records())
def test_anytime_best_is_the_running_minimum_in_time_order(rec: pd.DataFrame) -> None:
    curve = anytime_curve(rec)
    in_time = rec.sort_values("t")["value"].to_numpy()
    assert curve["epochs"].tolist() == list(range(1, len(rec) + 1))
    assert np.array_equal(curve["best"].to_numpy(), np.minimum.accumulate(in_time))
    assert (np.diff(curve["best"].to_numpy()) <= 0).all()
    assert (np.diff(curve["t"].to_numpy()) >= 0).all()


@FAST
@given(records(), finite)
def test_epochs_to_reach_is_the_first_epoch_at_or_below_the_target(
    rec: pd.DataFrame, target: float
) -> None:
    curve = anytime_curve(rec)
    best = curve["best"].to_numpy()
    reach = epochs_to_reach(curve, target)
    if best.min() > target:
        assert reach == math.inf
    else:
        first = int(np.argmax(best <= target))
        assert reach == first + 1
        assert epochs_to_reach(curve, target, axis="t") == curve["t"].iloc[first]


def test_epochs_to_reach_its_own_final_best_and_an_unreachable_target() -> None:
    curve = anytime_curve(pd.DataFrame({"value": [3.0, 1.0, 2.0, 1.0], "t": [0, 1, 2, 3]}))
    assert epochs_to_reach(curve, 1.0) == 2
    assert epochs_to_reach(curve, 0.5) == math.inf
    assert epochs_to_reach(curve, 10.0) == 1


@FAST
@given(records(), st.integers(1, 5))
def test_median_of_identical_curves_is_the_curve(rec: pd.DataFrame, copies: int) -> None:
    curve = anytime_curve(rec)
    grid = np.linspace(0, len(curve) + 2, 17)
    one = curve_values([curve], "epochs", grid)[0]
    med = median_curve([curve] * copies, "epochs", grid)
    assert np.array_equal(np.isnan(med), np.isnan(one))
    assert np.allclose(med[~np.isnan(med)], one[~np.isnan(one)])
    assert np.isnan(med[grid < 1]).all()  # before the first epoch: no value yet


def test_median_curve_is_never_inf_while_curves_start() -> None:
    """Two curves, one starting later: the median waits until more than half have a value
    (with exactly half it would be the median of a value and +inf)."""
    early = pd.DataFrame({"t": [1.0, 2.0, 3.0], "epochs": [1.0, 2.0, 3.0], "best": [5, 4, 3]})
    late = pd.DataFrame({"t": [2.5, 3.5], "epochs": [3.0, 4.0], "best": [2.0, 1.0]})
    grid = np.array([0.5, 1.0, 2.0, 3.0, 4.0, 9.0])
    med = median_curve([early, late], "epochs", grid)
    assert not np.isinf(med).any()
    assert np.isnan(med[:3]).all()
    assert med[3:].tolist() == [2.5, 2.0, 2.0]
    three = median_curve([early, late, early], "epochs", grid)
    assert np.isnan(three[0]) and three[1:].tolist() == [5.0, 4.0, 3.0, 3.0, 3.0]


@FAST
@given(st.lists(st.lists(finite, min_size=1, max_size=8), min_size=1, max_size=5))
def test_median_curve_is_finite_and_bounded_by_the_curves(values: list[list[float]]) -> None:
    curves = [anytime_curve(pd.DataFrame({"value": v, "t": range(len(v))})) for v in values]
    grid = np.arange(0, 10, dtype=float)
    med = median_curve(curves, "epochs", grid)
    vals = curve_values(curves, "epochs", grid)
    assert not np.isinf(med).any()
    for j, m in enumerate(med):
        if not np.isnan(m):
            col = vals[:, j][~np.isnan(vals[:, j])]
            assert col.min() <= m <= col.max() or np.isclose(m, col.max())


@FAST
@given(records())
def test_incumbent_is_the_trial_holding_the_running_minimum(rec: pd.DataFrame) -> None:
    calls: list[int] = []

    def score(trial: object) -> float:
        calls.append(int(trial))
        return 100.0 + int(trial)

    curve = incumbent_curve(rec, score)
    ordered = rec.sort_values("t").reset_index(drop=True)
    for i in range(len(ordered)):
        seen = ordered["value"].iloc[: i + 1]
        holder = ordered["trial"].iloc[int(np.argmin(seen.to_numpy()))]  # first on a tie
        assert curve["trial"].iloc[i] == holder
        assert curve["best"].iloc[i] == 100.0 + holder
    assert len(calls) == len(set(calls))  # each incumbent scored once


@FAST
@given(records())
def test_incumbent_scored_by_its_own_value_is_the_anytime_curve(rec: pd.DataFrame) -> None:
    rec = rec.assign(trial=range(len(rec)))  # one record per trial
    by_trial = dict(zip(rec["trial"], rec["value"], strict=True))
    curve = incumbent_curve(rec, by_trial.__getitem__)
    assert np.array_equal(curve["best"].to_numpy(), anytime_curve(rec)["best"].to_numpy())


def test_incumbent_regret_can_rise_when_a_low_fidelity_value_misleads() -> None:
    rec = pd.DataFrame({"trial": [0, 1], "value": [-1.0, -2.0], "t": [0.0, 1.0]})
    curve = incumbent_curve(rec, {0: 0.1, 1: 0.5}.__getitem__)
    assert curve["best"].tolist() == [0.1, 0.5]


def test_hartmann_optimum_and_known_values() -> None:
    assert abs(augmented_hartmann(X_STAR, 1.0) - F_STAR) < 1e-5
    assert abs(regret(X_STAR)) < 1e-5
    # BoTorch's value at the optimiser with fidelity 0 (printed from BoTorch 0.18.1)
    assert abs(augmented_hartmann(X_STAR, 0.0) - (-3.2814)) < 1e-3


@FAST
@given(
    st.lists(st.floats(0, 1), min_size=6, max_size=6),
    st.floats(0, 1),
)
def test_hartmann_lower_fidelity_is_never_better(x: list[float], s: float) -> None:
    full = augmented_hartmann(x, 1.0)
    assert augmented_hartmann(x, s) >= full - 1e-12
    assert regret(x) >= -1e-5
    assert F_STAR - 1e-5 <= full <= 0.0


@FAST
@given(st.integers(1, 10_000), st.floats(0.01, 10), st.integers(1, 64), st.floats(0, 100))
def test_overhead_per_slot_inverts_the_wall_time(n: int, d: float, k: int, extra: float) -> None:
    ideal = n * d / k
    assert math.isclose(overhead_per_slot(ideal, n, d, k), 0.0, abs_tol=1e-9)
    got = overhead_per_slot(ideal + extra * n / k, n, d, k)
    assert math.isclose(got, extra, rel_tol=1e-9, abs_tol=1e-9 * (1 + ideal))


def test_rays_release_test_figures() -> None:
    assert math.isclose(RAY_RATIO, 1.28)
    assert math.isclose(RAY_OVERHEAD_S, 0.28)
    assert math.isclose(overhead_per_slot(800, 10_000, 1.0, 16), 0.28)
