"""A command whose reader went away: ``raysearch spaces list | head -1``.

Every entry point runs its command through :func:`exit_status`, by way of
``run_as_program`` (raysearch/cli/entry_point.py); :func:`raysearch.cli.main` called from
Python does too.
"""

from __future__ import annotations

import io
import os
import select
import sys
from collections.abc import Callable

__all__ = ["READER_GONE", "exit_status"]

# The exit status when stdout's reader went away: 141, the status a shell gives a command
# that SIGPIPE killed (128 + 13). Under `set -o pipefail` a pipeline fails with its last
# failing command's status, and `seq 1 100000 | head -1` already fails with 141: a script
# that accepts an early reader accepts 141 (`|| [ $? -eq 141 ]`), for raysearch as for
# every other tool. 0 would say the command finished, but it stopped at the print that
# failed, with the rest of its work (such as a file for --out) not done; 1, the docs'
# recipe, is this command line's status for a failed command.
READER_GONE = 141


def _stdout_reader_gone() -> bool:
    """Whether stdout is a pipe (or socket) with no reader left: poll reports an error
    (POLLERR; POLLHUP for a socket) on its file descriptor."""
    try:
        fd = sys.stdout.fileno()
    except io.UnsupportedOperation:  # stdout replaced by an in-memory stream
        return False
    poller = select.poll()
    poller.register(fd, select.POLLOUT)
    return any(events & (select.POLLERR | select.POLLHUP) for _, events in poller.poll(0))


def exit_status(main: Callable[[], int]) -> int:
    """Run a command's ``main`` and flush stdout; when stdout's reader has gone away
    (BrokenPipeError), end quietly with :data:`READER_GONE`, as Python's documentation
    recommends (the note on SIGPIPE in the signal module): stdout is pointed at
    os.devnull, so the interpreter's own flush at exit does not raise again.

    A BrokenPipeError while stdout still has its reader came from another pipe or socket:
    it is raised as it was, a failure of the command.
    """
    try:
        try:
            status = main()
        except SystemExit:
            sys.stdout.flush()  # argparse's --help prints, then exits
            raise
        sys.stdout.flush()
    except BrokenPipeError:
        if not _stdout_reader_gone():
            raise
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        return READER_GONE
    return status
