"""The search's W&B logging through a real Ray: one logging actor for every trial, and a
call that failed in it raised at the driver."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psutil
import pytest
import ray

from raysearch.core.metrics import VAL_METRIC
from raysearch.search.loggers import WandbCallback

pytestmark = pytest.mark.integration


@dataclass
class FakeTrial:
    """What the callback reads of a Tune trial."""

    trial_id: str
    path: str
    config: dict[str, Any] = field(default_factory=dict)

    @property
    def local_path(self) -> str:
        return self.path

    def __str__(self) -> str:
        return f"trial_{self.trial_id}"


def _logging_actors() -> int:
    return sum(
        "ray::WandbRuns" in " ".join(p.info["cmdline"] or ())
        for p in psutil.process_iter(["cmdline"])
    )


def test_every_trial_logs_through_one_actor_and_a_failure_there_reaches_the_driver(
    ray_address: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog
) -> None:
    """(The clean end of a search, every run closed in time, is the smoke search's:
    tests/integration/test_run_smoke.py. This one ends with no time to close, to see the
    search say so and still stop its logging process.)"""
    monkeypatch.setenv("WANDB_MODE", "offline")
    callback = WandbCallback(
        init={"project": "p", "mode": "offline", "settings": {"silent": True, "console": "off"}},
        resolve=lambda config: {"loss.strategy": "uniform", **config},
        tags=lambda resolved: [f"loss:{resolved['loss.strategy']}"],
        local_storage=True,
        end_timeout_s=0.0,
    )
    trials = [FakeTrial(f"t{i}", str(tmp_path / f"t{i}")) for i in range(3)]
    ray.init(address=ray_address)
    try:
        for epoch in (1, 2):  # three trials at once, reporting in turn
            for trial in trials:
                callback.log_trial_result(
                    epoch, trial, {"training_iteration": epoch, VAL_METRIC: 1.0 / epoch}
                )
        ray.get(callback._calls)  # the actor has logged them all
        assert _logging_actors() == 1
        callback.log_trial_end(trials[0], failed=True)
        # a run W&B refuses to open: the error reaches the driver, at the next call
        bad = FakeTrial("bad", str(tmp_path / "bad"))
        callback.init = {**callback.init, "mode": "not-a-mode"}
        callback.log_trial_start(bad)
        ray.wait(callback._calls, num_returns=len(callback._calls))  # the actor got to it
        with pytest.raises(ray.exceptions.RayTaskError, match="not-a-mode"):
            callback.log_trial_result(3, trials[1], {"training_iteration": 3, VAL_METRIC: 0.1})
        with caplog.at_level("WARNING", logger="raysearch.search.loggers"):
            callback.on_experiment_end(trials)
        assert "W&B had not closed every trial's run 0 s after the search ended" in caplog.text
        deadline = time.monotonic() + 30
        while _logging_actors() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert _logging_actors() == 0  # stopped with the search
    finally:
        ray.shutdown()
    for trial in trials:
        assert len(list(Path(trial.path).glob("wandb/offline-run-*/run-*.wandb"))) == 1
