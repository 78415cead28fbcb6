"""Numbers as the configs, the checks and the JSON records take them.

``is_int`` (an int, never a bool), ``is_number`` (a finite int or float, never a bool),
``is_unset`` (None or NaN: a parameter a trial did not draw), ``plain`` (NumPy's scalar as
Python's), ``plain_fields`` (a frozen config's NumPy fields as Python's) and ``counted`` (a
count and its noun, for messages). NumPy is not imported here:
a value can only be one of NumPy's if NumPy is loaded.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from typing import Any, TypeGuard

__all__ = ["counted", "is_int", "is_number", "is_unset", "plain", "plain_fields"]


def is_int(value: object) -> TypeGuard[int]:
    """An int that is not a bool: True is an int to Python, never a count to a config."""
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> TypeGuard[int | float]:
    """A finite int or float that is not a bool."""
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def is_unset(value: object) -> bool:
    """None or a float NaN: a conditional parameter a trial did not draw, as a trial's
    config leaves it (None) or a table of trials shows it (NaN)."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def plain(value: Any) -> Any:
    """NumPy's scalar (``np.int64``, ``np.float32``, ``np.bool_``, ``np.str_``: what a
    DataFrame or ``np.arange`` holds) as Python's int, float, bool or str, which the checks
    and the JSON records take; any other value as it is."""
    numpy = sys.modules.get("numpy")
    if numpy is not None and isinstance(value, numpy.generic):
        return value.item()
    return value


def plain_fields(config: Any) -> None:
    """Each field of a dataclass ``config`` that holds NumPy's scalar (a value taken from a
    DataFrame's row or ``np.arange``), as Python's, set in place: a frozen config calls it
    first in ``__post_init__``, so its checks, its pickle and its JSON see Python's values.
    A NumPy value of the wrong kind stays wrong (``np.float64(0.5)`` for an int field is
    ``0.5``, refused by the field's check)."""
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        if (taken := plain(value)) is not value:
            object.__setattr__(config, field.name, taken)


def counted(n: int, thing: str) -> str:
    """``n`` and its noun, plural unless one: '1 seed', '2 seeds', '0 runs'."""
    return f"{n} {thing}{'s' * (n != 1)}"
