"""Tune's result files (result.json, progress.csv), kept whole across trial restarts.

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

from pathlib import Path
from typing import TYPE_CHECKING

from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback, LoggerCallback

if TYPE_CHECKING:
    from ray.tune.experiment import Trial

__all__ = ["KeepLocalCSVLogger", "KeepLocalJsonLogger", "result_loggers"]


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
