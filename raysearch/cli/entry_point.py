"""A command as the process's program: every way in (the ``raysearch`` console script,
``python -m raysearch``, the ``python -m`` forms of a command and the deprecated aliases)
runs its command through :func:`run_as_program`, which ends the process. A command's
``main(argv)`` called from Python (a notebook, a test) returns its status and leaves the
process's signal handling as it found it.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Callable
from typing import NoReturn

from raysearch.cli.pipe import exit_status

__all__ = ["INTERRUPTED", "run_as_program"]

# The exit status of a command a Ctrl+C stopped: the status a shell gives a command SIGINT
# killed (128 + 2), which raysearch's commands return when they stop at a Ctrl+C themselves.
INTERRUPTED = 130


def _ctrl_c_ends_the_process() -> None:
    """From here on a Ctrl+C ends the process as SIGINT's default action does (a shell
    reports status 130), without running Python's handler: the command has said its last
    word, and what runs after it (the interpreter's exit: torch's and Ray's finalizers,
    a second or more for a search) would take the KeyboardInterrupt as an exception it
    ignores, and print it with a traceback under the command's own output."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, signal.SIG_DFL)


def _ctrl_c_in_a_finalizer(unraisable: sys.UnraisableHookArgs) -> None:
    """``sys.unraisablehook``: a Ctrl+C that landed while Python finalized an object (a
    ``__del__``, a weakref callback: Ray's and torch's run during a search, at moments no one
    chooses) cannot stop the command there; Python loses it and prints a traceback of the
    finalizer under the command's output. It is said in one line instead. Every other
    exception Python cannot raise is printed as Python prints it."""
    if unraisable.exc_type is KeyboardInterrupt:
        print(
            "note: a Ctrl+C came while Python was cleaning up an object, where it cannot "
            "stop the command, and was lost there; press Ctrl+C again to stop it",
            file=sys.stderr,
        )
        return
    sys.__unraisablehook__(unraisable)


def run_as_program(main: Callable[[], int]) -> NoReturn:
    """Run ``main`` and exit the process with its status.

    Its stdout's reader gone, quietly with status 141 (:func:`exit_status`). A Ctrl+C the
    command did not take itself ends it with one line and status 130, not Python's
    traceback, and one that Python lost in a finalizer is said in one line
    (:func:`_ctrl_c_in_a_finalizer`). Once ``main`` has returned (or raised), a Ctrl+C ends
    the process at once (:func:`_ctrl_c_ends_the_process`).
    """
    sys.unraisablehook = _ctrl_c_in_a_finalizer
    try:
        status = exit_status(main)
    except KeyboardInterrupt:
        _ctrl_c_ends_the_process()  # before the line: a second Ctrl+C there ends it too
        print("interrupted", file=sys.stderr)
        status = INTERRUPTED
    finally:
        _ctrl_c_ends_the_process()
    sys.exit(status)
