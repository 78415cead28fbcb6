"""Where a fit's wall time goes, and times as a person reads them.

``PhaseClock``: seconds per phase, accumulated. The phases are those of ``fit`` (``build``,
``train``, ``val``, ``checkpoint``, ``report``, ``test``); callers add their own (``data``).
Reported under ``time/<phase>_s`` so a search can say how much of a trial was training and
validation and how much was everything else.

``time_unit`` and ``readable_seconds``: seconds in the unit that reads best (s, min, h), for
progress lines (the time left) and plots.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager

from raysearch.core.metrics import time_key

__all__ = ["PhaseClock", "readable_seconds", "time_unit"]


class PhaseClock:
    """Accumulates wall-clock seconds per named phase."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        # the innermost phase an exception (an interrupt) left, to say what it stopped
        self.left_by_exception: str | None = None

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        except BaseException:
            self.left_by_exception = self.left_by_exception or name
            raise
        finally:
            self.add(name, time.perf_counter() - started)

    def add(self, name: str, seconds: float) -> None:
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds

    def metrics(self) -> dict[str, float]:
        return {time_key(name): s for name, s in self.seconds.items()}


def time_unit(seconds: float) -> tuple[str, float]:
    """The unit a time up to ``seconds`` reads best in (seconds below 2 minutes, minutes
    below 2 hours, else hours), and its length in seconds."""
    if seconds >= 2 * 3600:
        return "h", 3600.0
    return ("min", 60.0) if seconds >= 120 else ("s", 1.0)


def readable_seconds(seconds: float) -> str:
    """``seconds`` in the unit that reads best, to three significant digits: '45.3 s',
    '12 min', '10.5 h'; '0 s' below 0.05 s."""
    if not math.isfinite(seconds):
        return f"{seconds} s"
    if abs(seconds) < 0.05:
        return "0 s"
    unit, per = time_unit(seconds)
    return f"{seconds / per:.3g} {unit}"
