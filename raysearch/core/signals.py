"""SIGTERM taken as Ctrl+C: a search stopped by ``kill``, a batch scheduler or ``ray job
stop`` ends as one interrupted by Ctrl+C does (Ray Tune saves its state and ends, the
trials are recorded as interrupted, ``--resume`` continues); a second SIGTERM is a second
Ctrl+C. So whatever SIGINT's disposition: with SIGINT ignored, as a background job of a
shell script inherits it, SIGTERM is KeyboardInterrupt still. ``raysearch run`` takes
SIGTERM so for the whole command, and the Ray session (``search/session.py``) while its Ray
is up, where ``ray.init`` would make SIGTERM a ``sys.exit`` that Tune does not catch; within
``ray.init`` itself, which installs Ray's handler first thing, the session turns the exit
that handler raises into Ctrl+C's KeyboardInterrupt (``rays_sigterm_exit_as_ctrl_c``).
In a Ray worker (a trial's process), the exit Ray's SIGTERM handler raises where Python
cannot raise it, in an object's finalizer, is dropped without a traceback
(``stopped_worker_exits_quietly``)."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

__all__ = [
    "command_takes_sigterm_as_ctrl_c",
    "ctrl_c_held_off",
    "rays_sigterm_exit_as_ctrl_c",
    "sigterm_as_ctrl_c",
    "stopped_worker_exits_quietly",
]

log = logging.getLogger(__name__)

STOPPING = "SIGTERM: stopping as Ctrl+C does"


def sigterm_as_ctrl_c(signum: int, frame: FrameType | None) -> None:
    """A SIGTERM handler: what Ctrl+C does. SIGINT's handler runs (Tune's during a fit,
    else Python's, which raises KeyboardInterrupt); where SIGINT has none, KeyboardInterrupt
    is raised as Python's would: SIGINT ignored (a driver started with ``&`` from a shell
    script inherits it so) or left to its default action (which ends the process without
    a word, saving nothing). SIGINT's disposition is left as it is."""
    log.warning(STOPPING)
    ctrl_c = signal.getsignal(signal.SIGINT)
    if not callable(ctrl_c):  # SIG_IGN, SIG_DFL, or None: not set from Python
        raise KeyboardInterrupt
    ctrl_c(signal.SIGINT, frame)


@contextmanager
def rays_sigterm_exit_as_ctrl_c() -> Iterator[None]:
    """A SIGTERM within the block (``ray.init``) is Ctrl+C too: ``ray.init`` first makes
    SIGTERM ``sys.exit(SIGTERM)`` (Ray's handler), which would end the driver with status 15
    and no word; that exit leaves the block as the KeyboardInterrupt Ctrl+C gives there."""
    try:
        yield
    except SystemExit as ended:
        if ended.code != signal.SIGTERM:
            raise
        log.warning(STOPPING)
        raise KeyboardInterrupt from None


@contextmanager
def command_takes_sigterm_as_ctrl_c() -> Iterator[None]:
    """A command's SIGTERM is Ctrl+C (``sigterm_as_ctrl_c``) while it runs, and afterwards
    what it was before: its ``main`` called from Python (a notebook, a service) leaves the
    process's own handling as it found it. Outside the main thread, where Python sets no
    signal handler, the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGTERM, sigterm_as_ctrl_c)
    try:
        yield
    finally:  # None: a handler not set from Python, which Python cannot put back
        signal.signal(signal.SIGTERM, signal.SIG_DFL if before is None else before)


@contextmanager
def ctrl_c_held_off(what: str) -> Iterator[None]:
    """A Ctrl+C (or a SIGTERM taken as one) within the block stops nothing: for the
    command's last word, said after its work has ended (what an interrupted or finished
    search left: a file checked, an error built, milliseconds), where there is nothing left
    to stop and a KeyboardInterrupt would only cut the word off midway, to reach the command
    as one that came before anything ran. The block runs to its end, its outcome (its
    return, its error) stands, and the Ctrl+C is logged, naming ``what`` the block did.
    SIGINT ignored or at its default action is left so (Python raises nothing for it);
    outside the main thread, where no signal handler runs, the block runs as it is."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    came: list[int] = []

    def held_off(signum: int, frame: FrameType | None) -> None:
        came.append(signum)

    replaced = {
        signum: handler
        for signum, handler in (
            (signal.SIGINT, signal.getsignal(signal.SIGINT)),
            (signal.SIGTERM, signal.getsignal(signal.SIGTERM)),
        )
        # Python's or Tune's Ctrl+C handler, and SIGTERM taken as Ctrl+C
        if callable(handler) and (signum == signal.SIGINT or handler is sigterm_as_ctrl_c)
    }
    for signum in replaced:
        signal.signal(signum, held_off)
    try:
        yield
    finally:
        for signum, handler in replaced.items():
            signal.signal(signum, handler)
        if came:
            log.warning(
                "%s came as %s, after the command's work had ended: it stopped nothing",
                " and ".join(signal.Signals(signum).name for signum in came),
                what,
            )


def _drop_exit_in_a_finalizer(unraisable: sys.UnraisableHookArgs) -> None:
    if unraisable.exc_type is SystemExit:
        return
    _PREVIOUS_HOOK(unraisable)


_PREVIOUS_HOOK = sys.unraisablehook


def stopped_worker_exits_quietly() -> None:
    """For a Ray worker process (a trial's, a Ray Train worker's): Ray stops a worker with
    SIGTERM, whose handler raises SystemExit wherever the worker is. Raised in an object's
    finalizer (a weakref callback), the SystemExit cannot stop anything there: Python
    printed it as "Exception ignored in ..." with a traceback, which Ray forwarded under
    the search's output after its trials had ended (seen once in eight searches), while
    Ray ends the worker all the same. Such a SystemExit is dropped; every other exception
    Python cannot raise is printed as before."""
    global _PREVIOUS_HOOK
    if sys.unraisablehook is not _drop_exit_in_a_finalizer:
        _PREVIOUS_HOOK = sys.unraisablehook
        sys.unraisablehook = _drop_exit_in_a_finalizer
