"""W&B logging of every trial as a run (through Ray Tune's WandbLoggerCallback).

Offline by default, online only when the user configured W&B (``WANDB_API_KEY`` in the
environment or a W&B entry in ~/.netrc, W&B's own login); an explicit ``WANDB_MODE``
wins. The API key is never passed, logged or written by raysearch: W&B reads it itself.
"""

from __future__ import annotations

import dataclasses
import logging
import netrc
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from raysearch.core.metrics import VAL_METRIC
from raysearch.search.trainable import TrialSetup, trial_config

if TYPE_CHECKING:
    from _typeshed import DataclassInstance
    from ray.air.integrations.wandb import WandbLoggerCallback
    from ray.tune.experiment import Trial

log = logging.getLogger(__name__)

__all__ = [
    "WandbOptions",
    "define_best_summary",
    "flat_config",
    "make_wandb_callback",
    "wandb_mode",
]


@dataclass(frozen=True)
class WandbOptions:
    enabled: bool = True
    project: str = "raysearch"
    group: str | None = None  # default: <space>/<run>


def _netrc_has_wandb() -> bool:
    host = urlparse(os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai")).hostname or ""
    path = os.environ.get("NETRC", os.path.expanduser("~/.netrc"))
    if not os.path.isfile(path):
        return False
    try:
        return netrc.netrc(path).authenticators(host) is not None
    except (netrc.NetrcParseError, OSError):
        return False


def wandb_mode() -> str:
    """'online' when the user configured W&B, else 'offline'; WANDB_MODE wins."""
    explicit = os.environ.get("WANDB_MODE")
    if explicit:
        return explicit
    return "online" if os.environ.get("WANDB_API_KEY") or _netrc_has_wandb() else "offline"


def flat_config(config: DataclassInstance, prefix: str = "") -> dict[str, Any]:
    """A dataclass config as ``{"model.d_model": 64, ...}`` (every resolved value)."""
    flat: dict[str, Any] = {}
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        key = f"{prefix}{field.name}"
        if dataclasses.is_dataclass(value) and not isinstance(value, type):  # a section
            flat.update(flat_config(value, f"{key}."))
        else:
            flat[key] = (
                value if isinstance(value, (int, float, str, bool, type(None))) else str(value)
            )
    return flat


class _BestSummary:
    """The ``wandb`` module as Ray's logging process uses it, but ``init`` also defines the
    metric's summary as its minimum (``define_metric``; the process has no hook after init)."""

    def __init__(self, wandb: Any) -> None:
        self._wandb = wandb

    def init(self, *args: Any, **kwargs: Any) -> Any:
        run = self._wandb.init(*args, **kwargs)
        define_best_summary(run)
        return run

    def __getattr__(self, name: str) -> Any:
        return getattr(self._wandb, name)


def define_best_summary(run: Any) -> None:
    """Make the W&B run's summary of anchored_val_loss its lowest value (``{"min": x}``),
    in both paths: Tune's logger (this module) and the sweep trainer (wandb_sweep.py)."""
    run.define_metric(VAL_METRIC, summary="min")


def make_wandb_callback(
    options: WandbOptions, group: str, space_name: str, setup: TrialSetup
) -> WandbLoggerCallback:
    """A WandbLoggerCallback that logs the resolved config and tags space and strategy."""
    # Deferred: Ray takes seconds to import, and the command line imports this module
    # (WandbOptions) before it reports a bad flag.
    from ray.air.integrations.wandb import WandbLoggerCallback, _WandbLoggingActor

    mode = wandb_mode()
    where = {
        "offline": "written into each trial's directory (`wandb sync` uploads them)",
        "disabled": "kept nowhere (WANDB_MODE=disabled)",
    }.get(mode, f"project {options.project}")
    log.info(
        "W&B %s: a run per trial, %s, group %s; --no-wandb turns it off (each trial's run "
        "costs two W&B processes beside it: README, 'Comparing sweeps')",
        mode,
        where,
        options.group or group,
    )
    local_storage = "://" not in str(setup.storage_path)  # not s3:// or gs://
    # Ray's callback only skips its API-key check when WANDB_MODE says offline/disabled in
    # the environment (a mode= argument is not enough), so the driver states its decision.
    os.environ.setdefault("WANDB_MODE", mode)

    class _MinSummaryActor(_WandbLoggingActor):
        """Ray's per-trial W&B process, with the run's summary of anchored_val_loss set to
        its best (lowest) epoch, as raysearch's sweep trainer and Optuna see it, instead of
        the last epoch's value."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            # Ray types the attribute as the wandb module; _BestSummary stands in for it
            self._wandb = _BestSummary(self._wandb)  # type: ignore[assignment]

        def run(self) -> None:
            """Ray's loop (one W&B run), then W&B's teardown while the process is whole:
            Ray kills the process as soon as this returns, and W&B's own teardown at exit
            could then lose its service process mid-way and print a ConnectionResetError
            traceback in a search that succeeded (about one trial in four on 2 cores)."""
            try:
                super().run()
            finally:
                self._wandb.teardown()

    class _RaysearchWandb(WandbLoggerCallback):
        _logger_actor_cls = _MinSummaryActor

        def __init__(self, **kwargs: Any) -> None:
            super().__init__(**kwargs)
            self._base_kwargs = dict(self.kwargs)  # wandb.init kwargs shared by every trial

        def log_trial_start(self, trial: Trial) -> None:
            resolved = flat_config(trial_config(setup, dict(trial.config)))
            strategy = resolved.get("loss.strategy", "unknown")
            self.kwargs = {
                **self._base_kwargs,
                "tags": [space_name, f"loss:{strategy}"],
                "config": {**resolved, **dict(trial.config)},
            }
            if local_storage and trial.path:
                # Write the W&B run straight into the trial's directory under the run
                # directory. By default it goes to Ray's staging copy, and Tune's last sync
                # to the run directory can come before W&B has finished writing the last
                # trial's run (found when trials got short: the run file was left empty).
                Path(trial.path).mkdir(parents=True, exist_ok=True)
                self.kwargs["dir"] = trial.path
            super().log_trial_start(trial)

    callback = _RaysearchWandb(
        project=options.project,
        group=options.group or group,
        mode=mode,
        log_config=False,
        settings={"silent": True, "console": "off"},  # the trial table shows progress
        # each trial's process holds one run; Ray asks for reinit=True, which W&B 0.30
        # warns about in every trial's output
        reinit="finish_previous",
    )
    return callback
