"""Learning-curve sources: what a simulated trial would have reported, epoch by epoch.

A source maps a sampled configuration and a trial seed to a :class:`Curve` (the metric after
each epoch, to be minimised, and the seconds each epoch took) and knows the best value any
trial could report (``optimum``), so quality is also a regret: ``best found - optimum``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

__all__ = ["Curve", "CurveSource", "ReplicateSeeds", "TrialCurve"]


@dataclass(frozen=True)
class Curve:
    """One trial's curve: ``values[e - 1]`` is the metric after epoch e (lower is better),
    ``seconds[e - 1]`` how long epoch e took."""

    values: np.ndarray = field(repr=False)
    seconds: np.ndarray = field(repr=False)

    def __post_init__(self) -> None:
        values = np.asarray(self.values, dtype=float)
        seconds = np.asarray(self.seconds, dtype=float)
        if values.ndim != 1 or len(values) == 0:
            raise ValueError(
                f"a curve needs at least one epoch, got values of shape {values.shape}"
            )
        if seconds.shape != values.shape:
            raise ValueError(
                f"a curve needs one duration per epoch: {len(values)} values, "
                f"{seconds.shape} seconds"
            )
        if not np.all(np.isfinite(values)):
            raise ValueError(f"a curve's values must be finite, got {values.tolist()}")
        if not np.all(seconds > 0):
            raise ValueError(f"epoch durations must be > 0 s, got {seconds.tolist()}")
        object.__setattr__(self, "values", values)
        object.__setattr__(self, "seconds", seconds)

    @property
    def epochs(self) -> int:
        return len(self.values)

    def value(self, epoch: int) -> float:
        """The metric after ``epoch`` (1-based)."""
        return float(self.values[epoch - 1])

    def duration(self, epoch: int) -> float:
        """How long ``epoch`` (1-based) took, in seconds."""
        return float(self.seconds[epoch - 1])


class TrialCurve(Protocol):
    """What the simulator reads of a curve; a source may compute it lazily (a trial that
    is stopped at epoch 1 never needs the rest)."""

    @property
    def epochs(self) -> int: ...

    def value(self, epoch: int) -> float: ...

    def duration(self, epoch: int) -> float: ...


class CurveSource(Protocol):
    """Where simulated trials get their curves from."""

    @property
    def name(self) -> str: ...

    @property
    def max_epochs(self) -> int:
        """The epochs a trial runs when nothing stops it."""
        ...

    @property
    def optimum(self) -> float:
        """The lowest value any trial can report (regret is measured from it)."""
        ...

    def curve(self, config: Mapping[str, Any], seed: int) -> TrialCurve:
        """The curve of ``config`` trained with ``seed``; a clear ``ValueError`` naming the
        value when the source cannot give one."""
        ...


class ReplicateSeeds:
    """The seed each trial of one search draws its curve with. A real search trains every
    trial with a seed of its own (the search's seed plus the trial's number), so a
    configuration drawn again trains a new curve. A recorded table holds a few seeds of
    each configuration and picks one by the seed modulo their number: two trials of a
    configuration whose seeds agree modulo it would train one curve (half the time with
    two recorded seeds). Here a configuration's first trial draws with its own seed and
    the j-th after it with that seed plus j, so a table gives a configuration each of its
    recorded curves before any of them again, and a source with a curve for every seed a
    new one each time. One instance per search: it counts each configuration's trials."""

    def __init__(self) -> None:
        self._drawn: dict[tuple[tuple[str, Any], ...], tuple[int, int]] = {}  # first seed, trials

    def seed(self, config: Mapping[str, Any], seed: int) -> int:
        """The seed of the curve for a new trial of ``config`` whose own seed is ``seed``."""
        key = tuple(sorted(config.items()))
        first, before = self._drawn.get(key, (seed, 0))
        self._drawn[key] = (first, before + 1)
        return first + before
