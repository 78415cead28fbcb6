"""The synthetic regime process: every window of ``revisit`` months holds every class."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raysearch.data.regimes import N_CLASSES, REVISIT, covers_every_class, phases


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_months=st.integers(1, 80),
    n_classes=st.integers(2, 6),
    slack=st.integers(0, 4),
    stay=st.floats(0.0, 1.0),
)
def test_every_window_of_revisit_months_holds_every_class(
    seed: int, n_months: int, n_classes: int, slack: int, stay: float
) -> None:
    revisit = n_classes + slack
    p = phases(np.random.default_rng(seed), n_months, n_classes, revisit, stay)
    assert p.shape == (n_months,) and p.dtype == np.int64
    assert ((0 <= p) & (p < n_classes)).all()
    for start in range(n_months - revisit + 1):
        assert set(p[start : start + revisit].tolist()) == set(range(n_classes))
    assert covers_every_class(p, revisit, n_classes)


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_stay_sets_how_often_a_phase_persists(seed: int) -> None:
    """stay=0 changes phase every month; stay=1 keeps it whenever the deadlines allow, so
    it changes less often; both still cover every class."""
    never = phases(np.random.default_rng(seed), 48, stay=0.0)
    always = phases(np.random.default_rng(seed), 48, stay=1.0)
    assert (never[1:] != never[:-1]).all()
    assert (always[1:] == always[:-1]).sum() > 0
    for p in (never, always):
        assert covers_every_class(p, REVISIT, N_CLASSES)


def test_the_draw_is_random_and_reproducible() -> None:
    a, b = (phases(np.random.default_rng(7), 36) for _ in range(2))
    assert np.array_equal(a, b)
    draws = {tuple(phases(np.random.default_rng(s), 36)) for s in range(20)}
    assert len(draws) == 20  # not one fixed cycle


def test_covers_every_class_sees_a_missing_class() -> None:
    assert covers_every_class(np.array([0, 1, 2, 3, 0]), 4, 4)
    assert not covers_every_class(np.array([0, 1, 2, 2, 0, 3]), 4, 4)


@pytest.mark.parametrize(("revisit", "stay"), [(3, 0.5), (5, 1.5), (5, -0.1)])
def test_impossible_settings_are_refused(revisit: int, stay: float) -> None:
    with pytest.raises(ValueError, match=r"revisit|stay"):
        phases(np.random.default_rng(0), 12, 4, revisit, stay)
