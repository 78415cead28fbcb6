"""W&B logging of every trial as a run: the options, the mode, and ``WandbRuns``, the one
process that holds every trial's run (Tune's side of it is ``loggers.WandbCallback``).

Offline by default, online only when the user configured W&B (``WANDB_API_KEY`` in the
environment or a W&B entry in ~/.netrc, W&B's own login); an explicit ``WANDB_MODE``
wins. raysearch never logs or writes the API key: W&B reads it itself, and the logging
process gets the driver's W&B settings through its Ray runtime environment, as Ray's own
W&B callback passes the key.
"""

from __future__ import annotations

import dataclasses
import netrc
import numbers
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

from raysearch.core.errors import ConfigError, ErrorCollector
from raysearch.core.metrics import VAL_METRIC
from raysearch.core.numbers import plain_fields

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

__all__ = [
    "WandbOptions",
    "WandbRuns",
    "define_best_summary",
    "flat_config",
    "split_result",
    "wandb_mode",
]


# W&B refuses a project name with these, or longer than 128 characters (wandb.Settings)
_PROJECT_CHARS = "/\\#?%:"


DEFAULT_PROJECT = "raysearch"  # W&B's project unless one is given


@dataclass(frozen=True)
class WandbOptions:
    """Whether each trial is a W&B run, and W&B's project and group for them; checked on
    construction (``enabled="no"`` would be true, W&B on)."""

    enabled: bool = True
    project: str = DEFAULT_PROJECT
    group: str | None = None  # default: <space>/<run>

    def __post_init__(self) -> None:
        plain_fields(self)  # NumPy's bool as Python's
        errs = ErrorCollector()
        errs.check(
            isinstance(self.enabled, bool),
            "enabled",
            f"must be true or false, got {self.enabled!r}",
        )
        errs.check(
            isinstance(self.project, str)
            and 0 < len(self.project) <= 128
            and not any(c in self.project for c in _PROJECT_CHARS),
            "project",
            f"must be a W&B project name (1 to 128 characters, none of "
            f"{' '.join(_PROJECT_CHARS)}), got {self.project!r}",
        )
        errs.check(
            self.group is None or (isinstance(self.group, str) and self.group != ""),
            "group",
            f"must be a non-empty string, or None for <space>/<run>, got {self.group!r}",
        )
        if self.enabled is False:  # as the command line refuses --no-wandb beside them
            where = [
                f"{name}={value!r}"
                for name, value, unset in (
                    ("project", self.project, DEFAULT_PROJECT),
                    ("group", self.group, None),
                )
                if value != unset
            ]
            errs.check(
                not where,
                " and ".join(where),
                f"{'say' if len(where) > 1 else 'says'} where W&B logs, and enabled=False "
                "turns W&B off: give one or the other",
            )
        errs.raise_if_any(ConfigError, "W&B options")


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
    """A dataclass config as ``{"model.d_model": 64, ...}`` (every resolved value), each a
    YAML/JSON value that ``build_trial_config`` takes back: a tuple (``loss.kendall_clamp``)
    as a list, not its repr ("(-2.0, 2.0)" reads back as text)."""
    flat: dict[str, Any] = {}
    for field in dataclasses.fields(config):
        value = getattr(config, field.name)
        key = f"{prefix}{field.name}"
        if dataclasses.is_dataclass(value) and not isinstance(value, type):  # a section
            flat.update(flat_config(value, f"{key}."))
        else:
            flat[key] = _plain_value(value)
    return flat


def _plain_value(value: Any) -> Any:
    """A scalar as it is, a tuple or list as a list of such values, anything else its str."""
    if isinstance(value, (int, float, str, bool, type(None))):
        return value
    if isinstance(value, (tuple, list)):
        return [_plain_value(v) for v in value]
    return str(value)


def define_best_summary(run: Any) -> None:
    """Make the W&B run's summary of anchored_val_loss its lowest value (``{"min": x}``),
    in both paths: Tune's logger (this module) and the sweep trainer (wandb_sweep.py)."""
    run.define_metric(VAL_METRIC, summary="min")


# Results that go to a run's config rather than its history (as Ray's W&B callback files
# them), and results that are not logged at all.
_TO_CONFIG = ("trial_id", "experiment_tag", "node_ip", "experiment_id", "hostname", "pid", "date")
_EXCLUDED = ("done", "should_checkpoint", "config")


def split_result(result: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A Tune result as (history row, config update): nested keys joined by "/", numbers
    logged, the bookkeeping keys (``_TO_CONFIG``) kept in the config, the rest dropped."""
    # Deferred: Ray takes seconds to import, and the command line imports this module
    # (WandbOptions) before it reports a bad flag.
    from ray.tune.utils import flatten_dict

    row: dict[str, Any] = {}  # numbers only (a numpy scalar is one)
    config: dict[str, Any] = {}
    for key, value in flatten_dict(result, delimiter="/").items():
        top = key.split("/", 1)[0]
        if top in _EXCLUDED:
            continue
        if top in _TO_CONFIG:
            config[key] = value
        elif isinstance(value, numbers.Number):
            row[key] = value
    return row, config


class WandbRuns:
    """Every trial's W&B run, held in one process (``wandb.init(reinit="create_new")``).

    Ray's own W&B callback starts a process per trial, and a queue actor beside it, both
    on the driver's node, each with W&B's service processes: about 300 MB per running
    trial on the head. W&B can hold many runs in one process, sharing one service, so
    raysearch logs every trial through this one actor, which the driver calls without
    waiting. A plain class: ``WandbCallback`` makes it a Ray actor; tests call it as is."""

    def __init__(self) -> None:
        # Deferred: W&B takes a second to import, and only the logging process needs it.
        import wandb

        self._wandb = wandb
        self._runs: dict[str, Any] = {}

    def start(self, trial_id: str, init: dict[str, Any]) -> None:
        """Open ``trial_id``'s run (``init``: wandb.init's keyword arguments); the driver
        opens each trial's run once (``WandbCallback``), and a trial Tune restarts keeps it."""
        # No system metrics: this process runs on the driver's node, so W&B's CPU, memory
        # and GPU charts would show that node, not the trial's (and each run samples them)
        settings = {**init.get("settings", {}), "x_disable_stats": True}
        run = self._wandb.init(**{**init, "settings": settings}, reinit="create_new")
        define_best_summary(run)
        self._runs[trial_id] = run

    def log(self, trial_id: str, row: dict[str, Any], config: dict[str, Any]) -> None:
        """One result of ``trial_id``'s: the history row at its training iteration."""
        run = self._runs[trial_id]
        if config:
            run.config.update(config, allow_val_change=True)
        run.log(row, step=row.get("training_iteration"))

    def finish(self, trial_id: str, failed: bool) -> None:
        """Close ``trial_id``'s run, marked failed (exit code 1) when the trial failed."""
        self._runs.pop(trial_id).finish(exit_code=int(failed))

    def close(self) -> int:
        """Close every run still open and end W&B's service; how many were still open."""
        left = list(self._runs)
        for trial_id in left:
            self.finish(trial_id, failed=False)
        self._wandb.teardown()
        return len(left)
