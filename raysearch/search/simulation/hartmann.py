"""Augmented Hartmann 6-D as a curve source: a known optimum and curves that improve with
budget.

BoTorch's ``AugmentedHartmann`` (``botorch.test_functions.multi_fidelity``): six inputs
``x1..x6`` in [0, 1] and a fidelity s in [0, 1], minimised; the optimum is f* = -3.32237
at s = 1. Lower fidelity is pessimistic (f(x, s) >= f(x, 1)). Epoch e of E reports
f(x, e/E), without noise. An epoch takes 1 s on average: the trial seed draws each epoch's
duration uniformly in [0.8, 1.2] s, so trials do not move in lockstep (real ones do not).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, overload

import numpy as np

from raysearch.search.settings import SearchSettings
from raysearch.search.simulation.curves import Curve
from raysearch.search.space import ParamSpec, SearchSpace

__all__ = ["F_STAR", "PARAMS", "X_STAR", "HartmannCurves", "augmented_hartmann", "hartmann_space"]

# AugmentedHartmann's constants (BoTorch 0.18.1; P already scaled by 1e-4).
_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])
_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381.0],
    ]
)
F_STAR = -3.32237
X_STAR = (0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573)
PARAMS = tuple(f"x{i}" for i in range(1, 7))
JITTER = 0.2  # an epoch lasts 1 s +- this fraction


@overload
def augmented_hartmann(x: Sequence[float], s: float) -> float: ...
@overload
def augmented_hartmann(x: Sequence[float], s: np.ndarray) -> np.ndarray: ...
def augmented_hartmann(x: Sequence[float], s: float | np.ndarray) -> float | np.ndarray:
    """BoTorch's AugmentedHartmann at inputs ``x`` (6 values in [0, 1]) and fidelity ``s``
    (a number, or an array of fidelities: then one value per fidelity)."""
    inner = np.sum(_A * (np.asarray(x, dtype=float)[None, :] - _P) ** 2, axis=1)
    terms = np.exp(-inner)  # (4,)
    fidelity = np.asarray(s, dtype=float)
    first = (1.0 - 0.1 * (1.0 - fidelity)) * terms[0]
    value = -(first + np.sum(_ALPHA[1:] * terms[1:]))
    return float(value) if value.ndim == 0 else value


@dataclass(frozen=True)
class HartmannCurves:
    """Curves of augmented Hartmann 6-D over ``max_epochs`` epochs."""

    max_epochs: int = 27
    name: str = "hartmann"
    optimum: float = F_STAR

    def curve(self, config: Mapping[str, Any], seed: int) -> Curve:
        missing = [p for p in PARAMS if p not in config]
        if missing:
            raise ValueError(f"hartmann: configuration {dict(config)} lacks {missing}")
        x = [float(config[p]) for p in PARAMS]
        bad = {p: v for p, v in zip(PARAMS, x, strict=True) if not 0.0 <= v <= 1.0}
        if bad:
            raise ValueError(f"hartmann: inputs must be in [0, 1], got {bad}")
        fidelity = np.arange(1, self.max_epochs + 1) / self.max_epochs
        rng = np.random.default_rng(seed)
        seconds = rng.uniform(1.0 - JITTER, 1.0 + JITTER, self.max_epochs)
        return Curve(np.asarray(augmented_hartmann(x, fidelity)), seconds)


def hartmann_space(settings: SearchSettings) -> SearchSpace:
    """The search space: x1..x6 uniform in [0, 1], with ``settings``."""
    params = {name: ParamSpec(type="float", low=0.0, high=1.0) for name in PARAMS}
    return SearchSpace("hartmann", "", settings, params)
