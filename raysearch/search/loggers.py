"""Tune's logger callbacks: the result files (result.json, progress.csv), kept whole across
trial restarts, and W&B (a run per trial, every run in one process: ``WandbCallback``).

Ray 2.58's JSON and CSV logger callbacks, when a trial restarts from a checkpoint, copy
the trial's file back from experiment storage over the driver's own copy. The stored copy
is synced from the driver's copy now and then, so it can lag: a trial killed just after
reporting epoch k with its checkpoint restarts from epoch k, and the copy from storage,
taken before epoch k's line was synced, drops that line for good (seen as epochs [1, 2, 4]
in epochs.parquet). The driver's copy can only be as new or newer, so these loggers keep
it when it exists and copy from storage only when it does not (a resumed driver, whose
staging directory starts empty).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ray
from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback, LoggerCallback
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from raysearch.search.names import CLI, Names
from raysearch.search.tracking import WandbOptions, WandbRuns, flat_config, split_result, wandb_mode
from raysearch.search.trainable import TrialSetup, trial_config

if TYPE_CHECKING:
    from ray.tune.experiment import Trial

log = logging.getLogger(__name__)

__all__ = [
    "KeepLocalCSVLogger",
    "KeepLocalJsonLogger",
    "WandbCallback",
    "make_wandb_callback",
    "result_loggers",
]


class _KeepLocal(LoggerCallback):
    def _restore_from_remote(self, file_name: str, trial: Trial) -> None:
        if trial.local_path is not None and Path(trial.local_path, file_name).is_file():
            return  # the driver wrote this file; the stored copy can only be older
        super()._restore_from_remote(file_name, trial)


class KeepLocalJsonLogger(_KeepLocal, JsonLoggerCallback):
    """Tune's result.json logger, without the restart that can drop the last report."""


class KeepLocalCSVLogger(_KeepLocal, CSVLoggerCallback):
    """Tune's progress.csv logger, without the restart that can drop the last report."""


def result_loggers() -> list[LoggerCallback]:
    """The loggers that replace Tune's default JSON and CSV ones (Tune adds its own only
    when no callback of their type is given)."""
    return [KeepLocalJsonLogger(), KeepLocalCSVLogger()]


class WandbCallback(LoggerCallback):
    """Tune's side of ``WandbRuns``: one run per trial (id = trial id, name = trial name,
    the resolved config, tags), fed every result; the driver never waits on W&B except
    at the end of the search, and a call that failed in the actor is raised here, at the
    next result."""

    def __init__(
        self,
        init: dict[str, Any],
        resolve: Callable[[dict[str, Any]], dict[str, Any]],
        tags: Callable[[dict[str, Any]], list[str]],
        local_storage: bool,
        end_timeout_s: float = 1800.0,  # Ray's own W&B callback waits as long
    ) -> None:
        self.init = init  # wandb.init keyword arguments shared by every trial
        self._resolve = resolve
        self._tags = tags
        self._local_storage = local_storage
        self._end_timeout_s = end_timeout_s
        self._actor: Any = None
        self._started: set[str] = set()
        self._calls: list[Any] = []  # ObjectRefs of calls not yet checked

    def _runs(self) -> Any:
        if self._actor is None:
            # W&B's settings as the driver has them (mode, project, entity, base URL and,
            # as Ray's own W&B callback passes it, the key): the actor's process inherits
            # the environment of the node's Ray, not the driver's
            env = {k: v for k, v in os.environ.items() if k.startswith("WANDB_")}
            self._actor = (
                ray.remote(WandbRuns)
                .options(
                    num_cpus=0,
                    # on the driver's node, so runs written to local trial directories
                    # are on the disk that holds the run directory
                    scheduling_strategy=NodeAffinitySchedulingStrategy(
                        ray.get_runtime_context().get_node_id(), soft=False
                    ),
                    runtime_env={"env_vars": env},
                )
                .remote()
            )
        return self._actor

    def _call(self, method: str, *args: Any) -> None:
        self._calls.append(getattr(self._runs(), method).remote(*args))
        done, self._calls = ray.wait(self._calls, num_returns=len(self._calls), timeout=0)
        ray.get(done)  # raises what failed in the actor

    def log_trial_start(self, trial: Trial) -> None:
        if trial.trial_id in self._started:
            return
        config = dict(trial.config)
        resolved = self._resolve(config)
        init = {
            **self.init,
            "id": trial.trial_id,
            "name": str(trial),
            "allow_val_change": True,
            "tags": self._tags(resolved),
            "config": {**resolved, **config},
        }
        if self._local_storage and trial.path:
            # Write the W&B run straight into the trial's directory under the run
            # directory. Ray's staging copy would be synced there before W&B has finished
            # writing the last trial's run (found when trials got short: the run file
            # was left empty).
            Path(trial.path).mkdir(parents=True, exist_ok=True)
            init["dir"] = trial.path
        else:  # remote storage: the staging directory, which Tune syncs
            init["dir"] = trial.local_path
        self._started.add(trial.trial_id)
        self._call("start", trial.trial_id, init)

    def log_trial_result(self, iteration: int, trial: Trial, result: dict[str, Any]) -> None:
        if trial.trial_id not in self._started:
            self.log_trial_start(trial)
        row, config = split_result(result)
        self._call("log", trial.trial_id, row, config)

    def log_trial_end(self, trial: Trial, failed: bool = False) -> None:
        if trial.trial_id in self._started:
            self._started.discard(trial.trial_id)
            self._call("finish", trial.trial_id, failed)

    def on_experiment_end(self, trials: list[Trial], **info: Any) -> None:
        if self._actor is None:
            return
        calls = [*self._calls, self._actor.close.remote()]
        done, left = ray.wait(calls, num_returns=len(calls), timeout=self._end_timeout_s)
        if left:
            log.warning(
                "W&B had not closed every trial's run %.0f s after the search ended; its "
                "logging process is stopped now, and what it had written is in the trial "
                "directories (`wandb sync` uploads offline runs)",
                self._end_timeout_s,
            )
        self._calls = []
        ray.kill(self._actor)
        self._actor = None
        ray.get(done)  # raises what failed in the actor


def make_wandb_callback(
    options: WandbOptions, group: str, space_name: str, setup: TrialSetup, names: Names = CLI
) -> WandbCallback:
    """The search's W&B logging: a run per trial, in ``group``, with every resolved
    hyperparameter in its config, tagged with the space and the loss strategy (``names``:
    how the line that says so names what turns it off)."""
    mode = wandb_mode()
    where = {
        "offline": "written into each trial's directory (`wandb sync` uploads them)",
        "disabled": "kept nowhere (WANDB_MODE=disabled)",
    }.get(mode, f"project {options.project}")
    log.info(
        "W&B %s: a run per trial, %s, group %s; %s turns it off (every trial's run is held "
        "by one W&B process on this node: README, 'Comparing sweeps')",
        mode,
        where,
        options.group or group,
        names.wandb_off(),
    )

    def resolve(config: dict[str, Any]) -> dict[str, Any]:
        return flat_config(trial_config(setup, config))

    def tags(resolved: dict[str, Any]) -> list[str]:
        return [space_name, f"loss:{resolved.get('loss.strategy', 'unknown')}"]

    return WandbCallback(
        init={
            "project": options.project,
            "group": options.group or group,
            "mode": mode,
            "settings": {"silent": True, "console": "off"},  # the trial table shows progress
            # a trial Tune restarts (--resume, a lost node) logs on into its run, whose id is
            # the trial's; without it W&B starts another run with that id. Offline, W&B
            # ignores resume (with a warning) and each start is a run of its own
            **({"resume": "allow"} if mode == "online" else {}),
        },
        resolve=resolve,
        tags=tags,
        local_storage="://" not in str(setup.storage_path),  # not s3:// or gs://
    )
