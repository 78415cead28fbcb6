"""Every way in ends the process through run_as_program (raysearch/cli/entry_point.py): a
Ctrl+C after the command's last word, while Python exits, ends the process without a
traceback; a Ctrl+C the command did not take is one line and status 130; a command's main
called from Python leaves the process's Ctrl+C handling as it was."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from raysearch.cli import main
from raysearch.cli.entry_point import INTERRUPTED

# Python runs this script's exit hook last (atexit runs its hooks in reverse): it stands
# for the seconds of torch's and Ray's finalizers after a search's last word. It runs the
# way in as `python -m` would, with the command line after "--".
_SLOW_EXIT = """
import atexit, pathlib, runpy, sys, time
marker = pathlib.Path(sys.argv[1])
def slow_exit():
    marker.write_text("exiting")
    time.sleep(60)
atexit.register(slow_exit)
way_in = sys.argv[2]
sys.argv = [way_in, *sys.argv[3:]]
if way_in == "console script":
    from raysearch.cli import command_line
    command_line()
runpy.run_module(way_in, run_name="__main__", alter_sys=True)
"""

WAYS_IN = [
    ["console script", "spaces", "list"],
    ["raysearch", "spaces", "list"],  # python -m raysearch
    ["raysearch.spaces", "list"],  # a deprecated alias
    ["raysearch.cli.spaces", "list"],
    ["raysearch.run", "--help"],  # argparse ends it with SystemExit
    ["raysearch.simulate", "--help"],
]


@pytest.mark.parametrize("way_in", WAYS_IN, ids=[" ".join(w) for w in WAYS_IN])
def test_a_ctrl_c_while_python_exits_ends_the_process_without_a_traceback(
    tmp_path: Path, way_in: list[str]
) -> None:
    marker = tmp_path / "exiting"
    proc = subprocess.Popen(
        [sys.executable, "-c", _SLOW_EXIT, str(marker), *way_in],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert marker.exists(), proc.communicate(timeout=60)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=30)  # not the exit hook's 60 s
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert out.strip(), err  # the command said its word first
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert proc.returncode == -signal.SIGINT, err  # a shell reports 130


def test_a_ctrl_c_the_command_did_not_take_is_one_line_and_status_130() -> None:
    script = textwrap.dedent(
        """
        from raysearch.cli.entry_point import run_as_program
        def main():
            print("working", flush=True)
            raise KeyboardInterrupt
        run_as_program(main)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == INTERRUPTED == 130, proc.stderr
    assert proc.stdout == "working\n"
    assert proc.stderr == "interrupted\n"


def test_a_commands_main_called_from_python_leaves_ctrl_c_as_it_was(
    capsys: pytest.CaptureFixture[str],
) -> None:
    before = signal.getsignal(signal.SIGINT)
    assert main(["spaces", "list"]) == 0
    assert "smoke" in capsys.readouterr().out
    assert signal.getsignal(signal.SIGINT) is before


def test_a_ctrl_c_lost_in_a_finalizer_is_one_line_other_errors_as_python_prints_them() -> None:
    """A second Ctrl+C landed in Ray's PlacementGroupResourceManager.__del__ as Tune stopped:
    Python cannot raise it there, and printed "Exception ignored in: ..." with a traceback
    in the middle of the search's output. An object whose __del__ raises stands for it."""
    script = textwrap.dedent(
        """
        from raysearch.cli.entry_point import run_as_program
        class Finalized:
            def __init__(self, error):
                self.error = error
            def __del__(self):
                raise self.error
        def main():
            Finalized(KeyboardInterrupt())
            Finalized(ValueError("a real bug"))
            print("done", flush=True)
            return 0
        run_as_program(main)
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=False
    )
    assert proc.returncode == 0 and proc.stdout == "done\n", proc.stderr
    before, _, after = proc.stderr.partition("ValueError: a real bug")
    assert after.strip() == "", proc.stderr  # the bug's traceback, as Python prints it, last
    note, python = before.split("\n", 1)
    assert note.startswith("note: a Ctrl+C came while Python was cleaning up an object"), note
    assert "KeyboardInterrupt" not in python and "Exception ignored in" in python, proc.stderr
