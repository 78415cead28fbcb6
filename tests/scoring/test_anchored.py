"""anchored_loss: clipped log ratios against shared anchors, mean over scorable tasks."""

from __future__ import annotations

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raysearch.scoring.anchored import anchored_loss

positive = st.floats(1e-6, 1e6)


def test_half_the_reference_loss_is_minus_log_two() -> None:
    value, regrets = anchored_loss({"a": 1.0, "b": 4.0}, {"a": 2.0, "b": 8.0})
    assert value == pytest.approx(-math.log(2))
    assert regrets == pytest.approx({"a": -math.log(2), "b": -math.log(2)})


def test_only_tasks_present_in_both_are_scored() -> None:
    """The mean is over the tasks scored: b (no reference) and c (no loss) count in neither
    the sum nor the count. By hand: a scores log(4/2) = log 2 and d log(3/1) = log 3, so the
    value is (log 2 + log 3) / 2 = log(6) / 2 (over the 3 tasks with a loss: log(6) / 3)."""
    value, regrets = anchored_loss({"a": 4.0, "b": 1.0, "d": 3.0}, {"a": 2.0, "c": 5.0, "d": 1.0})
    assert set(regrets) == {"a", "d"}
    assert regrets == pytest.approx({"a": math.log(2.0), "d": math.log(3.0)})
    assert value == pytest.approx(math.log(6.0) / 2)


def test_zero_loss_scores_minus_clip_and_inf_plus_clip() -> None:
    value, regrets = anchored_loss({"a": 0.0, "b": math.inf}, {"a": 1.0, "b": 1.0}, clip=2.5)
    assert regrets == {"a": -2.5, "b": 2.5} and value == 0.0


def test_nothing_scorable_raises_naming_both_sides() -> None:
    with pytest.raises(ValueError, match=r"no task is scorable.*\['a'\].*\['b'\]"):
        anchored_loss({"a": 1.0}, {"b": 1.0})


def test_bad_values_are_all_reported() -> None:
    with pytest.raises(ValueError, match=r"'a'.*nan.*'b'.*0\.0"):
        anchored_loss({"a": math.nan, "b": 1.0}, {"a": 1.0, "b": 0.0})


@settings(max_examples=100, deadline=None)
@given(
    pairs=st.dictionaries(st.sampled_from("abcdef"), st.tuples(positive, positive), min_size=1),
    clip=st.floats(0.1, 5.0),
    scale=positive,
)
def test_bounded_and_invariant_to_a_common_scale(pairs, clip, scale) -> None:
    losses = {t: p[0] for t, p in pairs.items()}
    anchors = {t: p[1] for t, p in pairs.items()}
    value, regrets = anchored_loss(losses, anchors, clip)
    eps = 1e-12
    assert -clip - eps <= value <= clip + eps
    assert all(-clip <= r <= clip for r in regrets.values())
    scaled, _ = anchored_loss(
        {t: v * scale for t, v in losses.items()}, {t: v * scale for t, v in anchors.items()}, clip
    )
    assert math.isclose(value, scaled, abs_tol=1e-9)
