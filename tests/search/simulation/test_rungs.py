"""How a curve source's rungs rank its configurations: over every curve, over the best
tenth, and over the best tenth against the next rung (what gated_asha's gate checks)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raysearch.search.settings import SearchSettings
from raysearch.search.simulation.hartmann import HartmannCurves, hartmann_space
from raysearch.search.simulation.rungs import rank_rungs, sample_curves

quality = st.lists(
    st.floats(0.0, 1.0, allow_nan=False), min_size=10, max_size=40, unique=True
).filter(lambda q: min(np.diff(np.sort(q))) > 1e-6)


@settings(max_examples=25, deadline=None)
@given(quality=quality, bad=st.integers(90, 300))
def test_slow_starters_among_the_best_rank_poorly_though_neighbouring_rungs_agree(
    quality: list[float], bad: int
) -> None:
    epochs = 12  # rungs 1, 3, 9; after 9 the last epoch
    q = np.asarray(quality)
    # the best curves: slow starters, the better at the end the worse at every rung
    good = np.repeat((5.0 - q)[:, None], epochs, axis=1)
    good[:, -1] = q
    # many worse curves, ranked perfectly by every rung, that the best must leave out
    worse = 2.0 + np.arange(bad, dtype=float)[:, None] + np.linspace(1.0, 0.0, epochs)[None, :]
    ranks = rank_rungs(np.vstack([worse, good, good]), [1, 3, 9])  # duplicates count once
    assert ranks.curves == len(q) + bad
    assert ranks.best_curves == max(5, round(0.1 * (len(q) + bad)))
    assert [r.epoch for r in ranks.rungs] == [1, 3, 9]
    assert [r.later for r in ranks.rungs] == [3, 9, epochs]
    for r in ranks.rungs:
        assert r.every > 0.5  # over every curve the worse ones dominate the ranking
    if ranks.best_curves <= len(q):  # only slow starters among the best
        for r in ranks.rungs:
            assert r.best == pytest.approx(-1.0)
        assert ranks.rungs[0].best_later == pytest.approx(1.0)
        assert ranks.rungs[1].best_later == pytest.approx(1.0)
        assert ranks.rungs[2].best_later == pytest.approx(-1.0)  # against the last epoch


@settings(max_examples=25, deadline=None)
@given(
    shift=st.lists(st.integers(-300, 300), min_size=20, max_size=60, unique=True),
    scale=st.floats(0.1, 5.0),
)
def test_curves_ordered_alike_at_every_epoch_rank_perfectly(
    shift: list[float], scale: float
) -> None:
    epochs = 10
    shape = scale / np.arange(1, epochs + 1)  # every curve falls, the same shape
    values = np.asarray(shift)[:, None] / 100 + shape[None, :]
    for r in rank_rungs(values, [1, 3, 9]).rungs:
        assert r.every == pytest.approx(1.0)
        assert r.best == pytest.approx(1.0)
        assert r.best_later == pytest.approx(1.0)


def test_a_constant_side_has_no_correlation_and_rungs_must_lie_below_the_end() -> None:
    flat = np.tile(np.array([[1.0, 1.0, 0.5]]), (6, 1)) + np.arange(6)[:, None] * [0, 0, 1]
    assert math.isnan(rank_rungs(flat, [1]).rungs[0].every)  # epoch 1 is the same for all
    with pytest.raises(ValueError, match=r"rung epochs \[3\] are not below the curves' 3"):
        rank_rungs(flat, [1, 3])


@pytest.mark.parametrize(
    ("grace", "factor", "max_epochs", "expected"),
    [
        (1, 3.0, 27, [1, 3, 9]),
        (1, 3.0, 50, [1, 3, 9, 27]),
        (2, 2.0, 20, [2, 4, 8, 16]),
        (1, 1.5, 6, [1, 2, 3, 4]),
        (3, 3.0, 3, []),
    ],
)
def test_rung_epochs_are_asha_milestones_at_whole_epochs_below_the_end(
    grace: int, factor: float, max_epochs: int, expected: list[int]
) -> None:
    s = SearchSettings(
        num_samples=4, max_epochs=max_epochs, grace_period=grace, reduction_factor=factor
    )
    assert s.rung_epochs() == expected
    assert s.replaced(scheduler="fifo").rung_epochs() == []


def test_sample_curves_reads_the_sources_curves_of_random_configurations() -> None:
    source = HartmannCurves(max_epochs=9)
    space = hartmann_space(SearchSettings(num_samples=4, max_epochs=9))
    values = sample_curves(space, source, draws=30, seed=3)
    assert values.shape == (30, 9)
    assert np.array_equal(values, sample_curves(space, source, draws=30, seed=3))
    assert len(np.unique(values, axis=0)) == 30
    # Hartmann's epochs are the same function at growing fidelity: every rung ranks
    for r in rank_rungs(values, [1, 3]).rungs:
        assert r.every > 0.9
