"""A reader that goes away (``raysearch spaces list | head -1``) ends the command quietly
with status 141, as SIGPIPE ends other tools, by every entry point (raysearch/cli/pipe.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from raysearch.cli.pipe import READER_GONE

# Each way in: raysearch/__main__.py and the console script (raysearch.cli.main), a
# deprecated alias (run_alias), a command module itself, and the two python -m forms that
# call a command's main directly. With PYTHONUNBUFFERED each print writes, so the print
# fails; without it the output waits in stdout's buffer, so the flush at the end fails.
# --help is asked buffered only: argparse ignores a failed write of its help.
CASES = [
    (["-m", "raysearch", "spaces", "list"], True),
    (["-m", "raysearch", "spaces", "list"], False),
    (["-m", "raysearch.spaces", "list"], True),
    (["-m", "raysearch.cli.spaces", "list"], True),
    (["-m", "raysearch.cli.spaces", "list"], False),
    (["-m", "raysearch.simulate", "--curves", "hartmann", "--seeds", "1", "--workers", "1"], True),
    (["-m", "raysearch.run", "--help"], False),
]


def _env(unbuffered: bool) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    return {**env, "PYTHONUNBUFFERED": "1"} if unbuffered else env


def _with_reader_gone(args: list[str], unbuffered: bool) -> subprocess.CompletedProcess[str]:
    """Run python with ``args``, its stdout a pipe whose reader closed before the command
    wrote anything: every write to stdout fails (a reader that closes after one line, as
    head -1 does, fails the writes after it, or none if the command wrote everything
    before it closed)."""
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(unbuffered),
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)


@pytest.mark.parametrize(
    ("args", "unbuffered"),
    CASES,
    ids=[" ".join(args[1:4]) + (" unbuffered" if u else " buffered") for args, u in CASES],
)
def test_a_command_whose_reader_went_away_ends_quietly_with_status_141(
    args: list[str], unbuffered: bool
) -> None:
    proc = _with_reader_gone(args, unbuffered)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "BrokenPipeError" not in proc.stderr, proc.stderr
    assert proc.returncode == READER_GONE == 141, proc.stderr


def test_a_broken_pipe_that_is_not_stdout_fails_the_command_with_its_traceback() -> None:
    """stdout still has its reader: the BrokenPipeError came from another pipe, a failure
    the command must not hide as a reader that went away."""
    code = textwrap.dedent(
        """
        import sys
        from raysearch.cli.pipe import exit_status

        def main() -> int:
            print("working")
            raise BrokenPipeError(32, "a worker's pipe")

        sys.exit(exit_status(main))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.stdout == "working\n"
    assert "BrokenPipeError: [Errno 32] a worker's pipe" in proc.stderr
    assert proc.returncode == 1
