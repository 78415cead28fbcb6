"""core.numbers: the one place that says what an int, a finite number, an unset parameter
and a plain (JSON-ready) value are."""

from __future__ import annotations

import json
import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from raysearch.core.numbers import counted, is_int, is_number, is_unset, plain

_NUMPY_INTS = (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint32)
_NUMPY_FLOATS = (np.float16, np.float32, np.float64)


@given(st.integers(min_value=-100, max_value=100), st.sampled_from(_NUMPY_INTS))
def test_numpy_ints_become_python_ints_of_the_same_value(value: int, kind: type) -> None:
    if value < 0 and np.iinfo(kind).min == 0:
        value = -value
    number = plain(kind(value))
    assert type(number) is int and number == value
    assert is_int(number) and is_number(number)
    assert json.dumps(number) == str(value)


@given(st.floats(allow_nan=True, allow_infinity=True, width=16), st.sampled_from(_NUMPY_FLOATS))
def test_numpy_floats_become_python_floats_of_the_same_value(value: float, kind: type) -> None:
    number = plain(kind(value))
    assert type(number) is float
    assert number == value or (math.isnan(number) and math.isnan(value))
    assert is_number(number) is math.isfinite(value)
    assert not is_int(number)
    assert is_unset(number) is math.isnan(value)


@given(st.booleans())
def test_a_bool_is_neither_an_int_nor_a_number_numpy_s_or_python_s(value: bool) -> None:
    for given_value in (value, np.bool_(value)):
        flag = plain(given_value)
        assert type(flag) is bool and flag is value
        assert not is_int(flag) and not is_number(flag)


@given(
    st.one_of(
        st.none(),
        st.text(max_size=5),
        st.integers(),
        st.floats(),
        st.lists(st.integers(), max_size=3),
        st.tuples(st.integers(), st.floats()),
    )
)
def test_python_values_are_kept_as_they_are(value: object) -> None:
    assert plain(value) is value


def test_numpy_strings_and_arrays() -> None:
    text = plain(np.str_("tiny"))
    assert type(text) is str and text == "tiny"
    array = np.array([1, 2])
    assert plain(array) is array  # an array is no scalar: its caller decides


def test_only_none_and_nan_are_unset() -> None:
    assert is_unset(None) and is_unset(math.nan) and is_unset(np.float64("nan"))
    for value in (0, 0.0, "", False, math.inf, "nan"):
        assert not is_unset(value), value


@given(st.integers(min_value=0, max_value=10**6), st.sampled_from(["seed", "run", "epoch"]))
def test_a_count_is_plural_unless_one(n: int, thing: str) -> None:
    assert counted(n, thing) == (f"1 {thing}" if n == 1 else f"{n} {thing}s")
