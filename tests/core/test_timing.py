"""core.timing's readable times: what progress lines ('ETA ...') and plots show."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from raysearch.core.timing import readable_seconds, time_unit

_PER = {"s": 1.0, "min": 60.0, "h": 3600.0}


@given(st.floats(min_value=0.05, max_value=1e7))
def test_a_readable_time_reads_back_to_within_rounding(seconds: float) -> None:
    number, unit = readable_seconds(seconds).split(" ")
    assert unit == time_unit(seconds)[0]
    assert math.isclose(float(number) * _PER[unit], seconds, rel_tol=0.006)


@given(st.floats(min_value=0.5, max_value=1e7))
def test_time_left_is_never_shown_as_nothing(seconds: float) -> None:
    """30 s left read 'ETA 0 min' when minutes were the only unit."""
    assert float(readable_seconds(seconds).split(" ")[0]) > 0


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [(30.4, "30.4 s"), (5.25, "5.25 s"), (119.0, "119 s"), (150.0, "2.5 min"),
     (3000.0, "50 min"), (7200.0, "2 h"), (37800.0, "10.5 h"), (0.004, "0 s"),
     (math.inf, "inf s")],
)  # fmt: skip
def test_readable_seconds(seconds: float, shown: str) -> None:
    assert readable_seconds(seconds) == shown


@pytest.mark.parametrize(
    ("seconds", "unit"), [(30.0, "s"), (119.0, "s"), (120.0, "min"), (7199.0, "min"), (7200.0, "h")]
)
def test_a_time_reads_in_seconds_minutes_or_hours(seconds: float, unit: str) -> None:
    assert time_unit(seconds)[0] == unit
