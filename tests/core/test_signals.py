"""raysearch.core.signals: SIGTERM is Ctrl+C whatever SIGINT's disposition. A driver started
in the background of a non-interactive shell (``raysearch run ... &`` in a batch script)
inherits SIGINT ignored; a SIGTERM to it stops the search as Ctrl+C would (it used to be
logged and then ignored outside Tune's fit, and the search ran to its end)."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from raysearch.core.signals import (
    ctrl_c_held_off,
    sigterm_as_ctrl_c,
    stopped_worker_exits_quietly,
)

CODE = """
import os, signal, time
from raysearch.core.signals import sigterm_as_ctrl_c
signal.signal(signal.SIGTERM, sigterm_as_ctrl_c)   # as raysearch.cli.run.main does
try:
    os.kill(os.getpid(), signal.SIGTERM)
    time.sleep(1)
    print("SIGTERM ignored: still running")
except KeyboardInterrupt:
    print("stopped as Ctrl+C does")
print("SIGINT ignored after:", signal.getsignal(signal.SIGINT) is signal.SIG_IGN)
"""


def test_sigterm_stops_a_driver_that_inherited_sigint_ignored() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CODE],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),  # `cmd &` in sh -c
    )
    assert done.stdout.splitlines() == ["stopped as Ctrl+C does", "SIGINT ignored after: True"], (
        done.stdout + done.stderr
    )
    assert "SIGTERM: stopping as Ctrl+C does" in done.stderr


@pytest.fixture
def sigterm_as_ctrl_c_installed() -> Iterator[None]:
    sigterm = signal.signal(signal.SIGTERM, sigterm_as_ctrl_c)
    sigint = signal.getsignal(signal.SIGINT)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, sigterm)
        signal.signal(signal.SIGINT, sigint)


@pytest.mark.parametrize(
    "disposition",
    [signal.SIG_IGN, signal.SIG_DFL, signal.default_int_handler],
    ids=["ignored", "default", "pythons"],
)
@pytest.mark.usefixtures("sigterm_as_ctrl_c_installed")
def test_sigterm_is_a_keyboard_interrupt_where_sigint_has_no_handler_of_its_own(
    disposition: signal.Handlers,
) -> None:
    """Ignored or its default action (which would kill the process, saving nothing): a
    SIGTERM is Python's KeyboardInterrupt still, and SIGINT's disposition is left as it
    was."""
    signal.signal(signal.SIGINT, disposition)
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGTERM)
    assert signal.getsignal(signal.SIGINT) is disposition


@pytest.mark.usefixtures("sigterm_as_ctrl_c_installed")
def test_sigterm_runs_the_ctrl_c_handler_in_place() -> None:
    """Tune's handler during a fit (it stops the search and saves it): a SIGTERM runs it as
    a Ctrl+C would, and raises nothing where it raises nothing."""
    seen: list[int] = []
    signal.signal(signal.SIGINT, lambda signum, frame: seen.append(signum))
    signal.raise_signal(signal.SIGTERM)
    assert seen == [signal.SIGINT]


@pytest.mark.parametrize(
    ("command", "argv"),
    [("curves", ["--space", "no_such_space"]), ("run", ["--space", "smoke", "--seed", "x"])],
)
def test_a_command_called_from_python_leaves_sigterm_as_it_found_it_in_any_thread(
    command: str, argv: list[str]
) -> None:
    """raysearch curves' main set its SIGTERM handler for good (a notebook's or a service's
    later SIGTERM became a KeyboardInterrupt) and, called from a thread other than the main
    one, raised ValueError (signal only works in main thread) before reading its flags; run's
    main left its handler behind too. Found by a review helper."""
    import importlib

    main = importlib.import_module(f"raysearch.cli.{command}").main

    def refused() -> object:
        try:
            return main(argv)
        except SystemExit as exited:  # the parser's refusal
            return exited.code

    def mine(signum: int, frame: object) -> None:
        raise AssertionError("not called")

    before = signal.signal(signal.SIGTERM, mine)
    try:
        assert refused() == 2
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, before)
    outcome: list[object] = []
    thread = threading.Thread(target=lambda: outcome.append(refused()))
    thread.start()
    thread.join()
    assert outcome == [2]


class _RaisesWhenCollected:
    def __init__(self, error: BaseException) -> None:
        self.error = error

    def __del__(self) -> None:
        raise self.error


def test_a_stopped_workers_exit_in_a_finalizer_leaves_no_traceback_and_other_errors_do(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ray's SIGTERM handler raised SystemExit in a weakref callback of a trial's process
    as Tune stopped it: 'Exception ignored in ... SystemExit: 1' with a traceback under the
    search's output. Installed twice, the hook still prints the others once."""
    monkeypatch.setattr(sys, "unraisablehook", sys.__unraisablehook__)
    stopped_worker_exits_quietly()
    stopped_worker_exits_quietly()
    _RaisesWhenCollected(SystemExit(1))  # collected at once: nothing holds it
    _RaisesWhenCollected(ValueError("still said"))
    err = capsys.readouterr().err
    assert "SystemExit" not in err
    assert err.count("ValueError: still said") == 1


@pytest.mark.parametrize("raises", [False, True], ids=["returns", "raises"])
@pytest.mark.usefixtures("sigterm_as_ctrl_c_installed")
def test_a_ctrl_c_held_off_stops_nothing_and_is_logged_and_handlers_come_back(
    raises: bool, caplog: pytest.LogCaptureFixture
) -> None:
    """A Ctrl+C and a SIGTERM within the block: it runs to its end, its outcome (a return,
    an error) stands, both are logged, and the handlers are what they were."""
    signal.signal(signal.SIGINT, signal.default_int_handler)  # the fixture puts it back
    done: list[str] = []
    with contextlib.ExitStack() as outcome:
        if raises:
            outcome.enter_context(pytest.raises(LookupError, match="its own error"))
        with ctrl_c_held_off("the test's work ended"):
            signal.raise_signal(signal.SIGINT)
            signal.raise_signal(signal.SIGTERM)
            done.append("ran to its end")
            if raises:
                raise LookupError("its own error")
    assert done == ["ran to its end"]
    assert "SIGINT and SIGTERM came as the test's work ended" in caplog.text
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert signal.getsignal(signal.SIGTERM) is sigterm_as_ctrl_c
    with pytest.raises(KeyboardInterrupt):
        signal.raise_signal(signal.SIGINT)


def test_a_ctrl_c_held_off_leaves_sigint_ignored_so_and_needs_no_main_thread() -> None:
    """SIGINT ignored stays ignored (nothing would have been raised for it); outside the
    main thread, where Python sets no handler, the block runs as it is."""
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with ctrl_c_held_off("nothing"):
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)
    ran: list[bool] = []

    def in_a_thread() -> None:
        with ctrl_c_held_off("nothing"):
            ran.append(True)

    thread = threading.Thread(target=in_a_thread)
    thread.start()
    thread.join()
    assert ran == [True]
