"""A gloo process group on this machine, for tests that train on two CPU ranks, and the
processes to run its ranks in."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

import torch
import torch.distributed as dist
import torch.multiprocessing as mp

__all__ = ["gloo_group", "run_ranks"]

# A rank left waiting (its peer gone) fails after this long, not gloo's 30 minutes.
TIMEOUT = timedelta(seconds=120)
# Ranks not all finished after this long are killed and the test fails: a rank stuck outside
# a collective (where TIMEOUT cannot reach it) would otherwise hold the test run, and then
# the interpreter's exit, which waits for its child processes.
RANKS_TIMEOUT_S = 300.0


@contextmanager
def gloo_group(rank: int, world: int, store: str | Path) -> Iterator[None]:
    """This process as ``rank`` of a gloo group of ``world`` ranks that meet in the file
    ``store`` (a path no earlier group used: a test's tmp_path); the group is destroyed at
    the end of the block. A file, not a TCP store: no port is picked beforehand that
    another process could take, and no rank serves a store from a thread of its own."""
    dist.init_process_group(
        "gloo",
        init_method=f"file://{Path(store).resolve()}",
        rank=rank,
        world_size=world,
        timeout=TIMEOUT,
    )
    try:
        yield
    finally:
        dist.destroy_process_group()


def _rank_main(rank: int, fn: Callable[..., None], args: tuple[object, ...]) -> None:
    torch.set_num_threads(1)  # the ranks share the machine's cores, as the tests do
    fn(rank, *args)
    # Its work done, the rank ends as a forked one did, without the interpreter's
    # finalization: in it, a spawned rank 0 aborted once after writing all it had to
    # (SIGABRT, "terminate called without an active exception": a C++ thread of the
    # process group destroyed while still running).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def run_ranks(
    fn: Callable[..., None],
    args: tuple[object, ...],
    world: int,
    timeout_s: float = RANKS_TIMEOUT_S,
) -> None:
    """Run ``fn(rank, *args)`` for each rank in ``range(world)``, each in a new process, and
    wait for all of them.

    The processes are spawned, not forked. A fork copies the parent's locks but not the
    threads holding them, and a test process that has run Ray or pytest-xdist holds many
    threads: a rank forked while one of their locks was taken waits for it for good. That
    was seen in CI, a rank still waiting after every gloo timeout had passed. So ``fn`` must
    be importable by name. A rank's exception fails the run with the rank's traceback (the
    other ranks are stopped), and leaves no file of torch's behind. Ranks still running
    after ``timeout_s`` are killed, and TimeoutError names them."""
    context = mp.start_processes(
        _rank_main, args=(fn, args), nprocs=world, join=False, start_method="spawn"
    )
    assert context is not None  # join=False returns the processes' context
    deadline = time.monotonic() + timeout_s
    try:
        while not context.join(timeout=max(0.0, deadline - time.monotonic())):
            if time.monotonic() >= deadline:
                running = [r for r, p in enumerate(context.processes) if p.is_alive()]
                raise TimeoutError(
                    f"{fn.__qualname__}: ranks {running} of {world} still running after "
                    f"{timeout_s:g} s; killed"
                )
    finally:
        for process in context.processes:
            if process.is_alive():
                process.kill()
            process.join()
        # A rank that raised wrote its traceback to a file torch named in the temporary
        # directory (tempfile.gettempdir(): start_processes takes no other), which torch
        # leaves there once read; a rank that did not raise has no file.
        for error_file in context.error_files:
            Path(error_file).unlink(missing_ok=True)
