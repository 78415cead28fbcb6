"""SIGTERM taken as Ctrl+C: a search stopped by ``kill``, a batch scheduler or ``ray job
stop`` ends as one interrupted by Ctrl+C does (Ray Tune saves its state and ends, the
trials are recorded as interrupted, ``--resume`` continues); a second SIGTERM is a second
Ctrl+C. ``raysearch run`` takes SIGTERM so for the whole command, and the Ray session
(``search/session.py``) while its Ray is up, where ``ray.init`` would make SIGTERM a
``sys.exit`` that Tune does not catch."""

from __future__ import annotations

import logging
import signal
from types import FrameType

__all__ = ["sigterm_as_ctrl_c"]

log = logging.getLogger(__name__)


def sigterm_as_ctrl_c(signum: int, frame: FrameType | None) -> None:
    """A SIGTERM handler: raise SIGINT, which Tune (or Python, as KeyboardInterrupt) takes."""
    log.warning("SIGTERM: stopping the search as Ctrl+C does")
    signal.raise_signal(signal.SIGINT)
