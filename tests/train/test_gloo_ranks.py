"""raysearch.testing.gloo.run_ranks: the processes the two-rank gloo tests run in."""

from __future__ import annotations

import multiprocessing
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from torch.multiprocessing import ProcessContext, ProcessRaisedException

from raysearch.testing import gloo
from raysearch.testing.gloo import run_ranks

# Held by a thread of the test process while the ranks run: a rank forked from it would
# inherit the lock taken, with no thread left to release it.
_LOCK = threading.Lock()


def _take_the_lock(rank: int, out: str) -> None:
    taken = _LOCK.acquire(timeout=5)
    Path(out, f"rank{rank}").write_text(str(taken))


def _fail_on_rank_one(rank: int) -> None:
    if rank == 1:
        raise ValueError("rank one's own error")


def _never_end(rank: int) -> None:
    time.sleep(3600)


def test_ranks_do_not_inherit_a_lock_another_thread_of_the_test_process_holds(
    tmp_path: Path,
) -> None:
    release = threading.Event()
    holder = threading.Thread(target=lambda: _LOCK.acquire() and release.wait())
    holder.start()
    try:
        while not _LOCK.locked():
            time.sleep(0.01)
        run_ranks(_take_the_lock, (str(tmp_path),), 2)
    finally:
        release.set()
        holder.join()
        _LOCK.release()
    assert [(tmp_path / f"rank{r}").read_text() for r in (0, 1)] == ["True", "True"]


def test_a_ranks_error_fails_the_run_with_that_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """The error reaches the test process in a file torch names in the temporary directory
    (torch.multiprocessing.start_processes), which the run removes: each failed run left
    one pytorch-errorfile-*.pickle there."""
    started: list[ProcessContext] = []
    start = gloo.mp.start_processes

    def start_and_keep(*args: Any, **kwargs: Any) -> ProcessContext | None:
        started.append(context := start(*args, **kwargs))
        return context

    monkeypatch.setattr(gloo.mp, "start_processes", start_and_keep)
    with pytest.raises(ProcessRaisedException, match="rank one's own error"):
        run_ranks(_fail_on_rank_one, (), 2)
    assert multiprocessing.active_children() == []
    (context,) = started
    assert [f for f in context.error_files if Path(f).exists()] == []


def test_ranks_still_running_at_the_timeout_are_named_and_killed() -> None:
    assert multiprocessing.active_children() == []
    with pytest.raises(TimeoutError, match=r"_never_end: ranks \[0, 1\] of 2 still running"):
        run_ranks(_never_end, (), 2, timeout_s=2)
    assert multiprocessing.active_children() == []  # none left for the interpreter's exit
