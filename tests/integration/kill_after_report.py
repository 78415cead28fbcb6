"""``python -m tests.integration.kill_after_report EPOCH [raysearch.run flags]``.

The search CLI's driver, with one more Tune callback: the moment the driver has taken in
the first trial's report of epoch EPOCH and is handed its checkpoint, it SIGKILLs that trial's
process, once. This is the worst moment for a kill (nothing about that epoch has been
synced to storage yet), and reaching it does not depend on timing.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any

from ray.tune import Callback

from raysearch.api import run_search
from raysearch.cli.run import parse_args
from raysearch.core.metrics import FINAL_KEY, TIME_ATTR

__all__ = ["KillAfterReport"]


class KillAfterReport(Callback):
    def __init__(self, epoch: int) -> None:
        self.epoch = epoch
        self.killed: str | None = None

    def on_checkpoint(
        self, iteration: int, trials: list, trial: Any, checkpoint: Any, **info: Any
    ) -> None:
        result = trial.last_result
        if (
            self.killed is None
            and result.get(TIME_ATTR) == self.epoch
            and not result.get(FINAL_KEY)
        ):
            self.killed = trial.trial_id
            print(f"killing trial {trial.trial_id} (pid {result['pid']}) after epoch {self.epoch}")
            os.kill(result["pid"], signal.SIGKILL)


def main(argv: list[str]) -> int:
    killer = KillAfterReport(int(argv[0]))
    run_search(options=parse_args(argv[1:]), callbacks=[killer])
    if killer.killed is None:
        print(f"no trial checkpointed epoch {killer.epoch}: nothing was killed", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    sys.exit(main(sys.argv[1:]))
