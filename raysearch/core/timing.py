"""Where a fit's wall time goes: seconds per phase, accumulated.

The phases are those of ``fit`` (``build``, ``train``, ``val``, ``checkpoint``,
``report``, ``test``); callers add their own (``data``). Reported under ``time/<phase>_s``
so a search can say how much of a trial was training and validation and how much was
everything else.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from raysearch.core.metrics import time_key

__all__ = ["PhaseClock"]


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
