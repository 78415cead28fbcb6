"""``python -m tests.integration.kill_ddp_worker KILLS [raysearch.run flags]``.

The search CLI's driver with one more Tune callback: when the trial created N-th (from 0)
reports epoch E to Tune, it SIGKILLs one of that trial's Ray Train workers. KILLS lists
``N:E`` pairs, e.g. ``0:1,1:1,1:2`` (trial 0 after epoch 1; trial 1 after epochs 1 and 2).
Tune hears of an epoch only after Ray Train registered its checkpoint, so the restarted
workers have that epoch's checkpoint to resume from. Run one trial at a time
(``--max-concurrent 1``): the workers alive are then the reporting trial's.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

import ray
from ray.tune import Callback
from ray.util.state import list_actors

from raysearch.api import run_search
from raysearch.cli.run import parse_args
from raysearch.core.metrics import FINAL_KEY, TIME_ATTR

__all__ = ["KillDDPWorker"]


class KillDDPWorker(Callback):
    def __init__(self, kills: set[tuple[int, int]]) -> None:
        self.kills = kills
        self.done: list[tuple[int, int]] = []

    def on_trial_result(
        self, iteration: int, trials: list[Any], trial: Any, result: dict[str, Any], **info: Any
    ) -> None:
        key = (trials.index(trial), int(result.get(TIME_ATTR, 0)))
        if key not in self.kills or key in self.done or result.get(FINAL_KEY):
            return
        workers = list_actors(  # this search's Ray: other Rays may run on the machine
            address=ray.get_runtime_context().gcs_address,
            filters=[("class_name", "=", "RayTrainWorker"), ("state", "=", "ALIVE")],
        )
        if not workers:
            return
        self.done.append(key)
        pid = int(workers[0]["pid"])
        print(f"killing a Ray Train worker (pid {pid}) of trial {key[0]} after epoch {key[1]}")
        os.kill(pid, signal.SIGKILL)


def main(argv: list[str]) -> int:
    kills = {(int(n), int(e)) for n, e in (pair.split(":") for pair in argv[0].split(","))}
    killer = KillDDPWorker(kills)
    run_search(options=parse_args(argv[1:]), callbacks=[killer])
    if set(killer.done) != kills:
        print(f"killed at {sorted(killer.done)}, asked for {sorted(kills)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    sys.exit(main(sys.argv[1:]))
