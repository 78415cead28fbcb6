"""PASHA (bench/scaling/pasha.py): its noise estimate against a plain reading of the
paper's rule, its soft ranking, and the scheduler: the top rung stays where rankings hold
and rises where they do not."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.scaling.pasha import PASHA, PERCENTILE, noisy_gap, ranking_holds
from raysearch.core.metrics import TIME_ATTR, VAL_METRIC
from raysearch.search.simulation.curves import Curve
from tests.bench.test_scaling_candidates import promoting


def _gap_by_pairs(curves: dict[str, list[float]], low: int, high: int) -> float | None:
    """The rule pair by pair: each pair at the last epoch both reached (at most ``high``,
    above ``low``); going back from it, an epoch with the other order, then an earlier one
    with the same order again."""
    ids, gaps = list(curves), []
    for n, a in enumerate(ids):
        for b in ids[n + 1 :]:
            e = min(len(curves[a]), len(curves[b]), high)
            if e <= low:
                continue
            first = curves[a][e - 1] > curves[b][e - 1]
            flipped = False
            for p in range(e - 1, 0, -1):
                order = curves[a][p - 1] > curves[b][p - 1]
                flipped = flipped or order != first
                if flipped and order == first:
                    gaps.append(abs(curves[a][e - 1] - curves[b][e - 1]))
                    break
    return float(np.percentile(gaps, PERCENTILE)) if gaps else None


_curve = st.lists(st.integers(0, 6).map(float), min_size=1, max_size=9)


@settings(max_examples=150, deadline=None)
@given(curves=st.lists(_curve, min_size=0, max_size=7), low=st.integers(1, 4), up=st.integers(1, 5))
def test_the_noise_estimate_is_the_papers_rule_pair_by_pair(
    curves: list[list[float]], low: int, up: int
) -> None:
    named = {f"t{i}": c for i, c in enumerate(curves)}
    assert noisy_gap(named, low, low + up) == _gap_by_pairs(named, low, low + up)


def test_a_pair_that_flips_and_flips_back_is_noise_and_one_that_flips_once_is_not() -> None:
    # b leads at epochs 1 and 3, a at epoch 2: noise, their gap at epoch 3 is 1
    assert noisy_gap({"a": [5.0, 1.0, 4.0], "b": [3.0, 2.0, 3.0]}, 1, 3) == 1.0
    # a overtakes b once and stays ahead: no noise
    assert noisy_gap({"a": [5.0, 1.0, 1.0], "b": [3.0, 2.0, 3.0]}, 1, 3) is None


@settings(max_examples=100, deadline=None)
@given(values=st.lists(st.tuples(st.floats(0, 1), st.floats(0, 1)), min_size=1, max_size=8))
def test_a_ranking_holds_without_slack_exactly_when_both_rungs_order_the_trials_alike(
    values: list[tuple[float, float]],
) -> None:
    top = {f"t{i}": v for i, (v, _) in enumerate(values)}
    below = {f"t{i}": v for i, (_, v) in enumerate(values)}
    order_top = sorted(top, key=lambda t: (top[t], t))
    alike = [below[t] for t in order_top] == sorted(below.values())
    assert ranking_holds(top, below, 0.0) == alike
    assert ranking_holds(top, below, 1.0)  # every value within 1 of every other


class _Crossing:
    """Trial with configuration x reports x at epochs 1 and 2 and ``sign`` * x from epoch 3
    on (epochs of 1 s): with sign -1 rung 3 orders the trials against rung 1."""

    name, optimum, max_epochs = "crossing", -10.0, 9

    def __init__(self, sign: float) -> None:
        self.sign = sign

    def curve(self, config: dict, seed: int) -> Curve:
        x = float(config["x"])
        return Curve(np.array([x, x] + [self.sign * x] * 7), np.ones(9))


def _pasha(values: list[float], sign: float, workers: int = 1) -> tuple[Any, PASHA]:
    return promoting(PASHA, values, workers, _Crossing(sign))


VALUES = [5.0, 4.0, 3.0, 2.0, 1.0, 9.0, 8.0, 7.0, 6.0]


@pytest.mark.parametrize("workers", [1, 3])
def test_where_rungs_agree_the_top_stays_at_the_second_rung(workers: int) -> None:
    result, scheduler = _pasha(VALUES, sign=1.0, workers=workers)
    assert scheduler.cap == 3 and scheduler.raised_at == []
    assert result.trials["epochs"].max() == 3


@pytest.mark.parametrize("workers", [1, 3])
def test_where_rung_three_reverses_rung_one_the_top_rises_and_trials_run_on(workers: int) -> None:
    result, scheduler = _pasha(VALUES, sign=-1.0, workers=workers)
    assert scheduler.cap == 9 and len(scheduler.raised_at) == 1
    assert result.trials["epochs"].max() == 9


def test_pasha_needs_two_rungs() -> None:
    with pytest.raises(ValueError, match=r"two rungs below max_t at least; the space gives \[1\]"):
        PASHA(
            time_attr=TIME_ATTR, metric=VAL_METRIC, mode="min", max_t=3, grace_period=1,
            reduction_factor=3,
        )  # fmt: skip
