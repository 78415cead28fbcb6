"""A searched parameter of a space: its type, its range or choices, and the condition
(``when``) under which a trial draws it. Loaded and checked with its space
(``space_file``); drawn by ``SearchSpace.sample``."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ParamSpec", "Scalar", "same_value"]

Scalar = str | int | float | bool


class ParamSpec(BaseModel):
    """One searched parameter."""

    # strict: ``low: '0.1'`` or ``log: 'yes'`` is refused, not coerced (as SearchSettings)
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)

    type: Literal["float", "int", "categorical"]
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: list[Scalar] | None = None
    when: dict[str, Scalar | list[Scalar]] = Field(default_factory=dict)

    def allowed_by(self, values: Mapping[str, Any]) -> bool:
        """True when every condition in ``when`` holds for the values sampled so far."""
        for name, expected in self.when.items():
            allowed = expected if isinstance(expected, list) else [expected]
            if name not in values or not any(same_value(values[name], a) for a in allowed):
                return False
        return True

    def bounds(self) -> tuple[float, float]:
        """(low, high) of a float or int parameter; loading a space checks both are set."""
        if self.low is None or self.high is None:
            raise ValueError(f"a {self.type} parameter has no low/high; load it with load_space")
        return self.low, self.high


def same_value(value: Any, expected: Any) -> bool:
    """``value == expected``, a float to within rounding: Optuna draws 0.3 of a float's
    steps of 0.1 as 0.30000000000000004."""
    pair = (value, expected)
    numbers = all(isinstance(v, int | float) and not isinstance(v, bool) for v in pair)
    if numbers and any(isinstance(v, float) for v in pair):
        return math.isclose(value, expected, rel_tol=1e-9, abs_tol=1e-12)
    return bool(value == expected)
