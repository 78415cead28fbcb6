"""Tune's result files survive a trial restart whole (raysearch.search.loggers).

The race these guard against: a trial killed right after reporting epoch k with its
checkpoint restarts from epoch k, and Ray's stock loggers copy the trial's result file
back from experiment storage, synced before epoch k's line reached it. The line is lost.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.fs
import pytest
from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback
from ray.tune.utils.callback import _create_default_callbacks

from raysearch.search.loggers import KeepLocalCSVLogger, KeepLocalJsonLogger, result_loggers


class _Storage:
    def __init__(self, path: Path) -> None:
        self.trial_fs_path = str(path)
        self.storage_filesystem = pyarrow.fs.LocalFileSystem()


class _Trial:
    """What the loggers read of a Tune trial: its driver-side and stored directories."""

    def __init__(self, local: Path, stored: Path) -> None:
        self.local_path = str(local)
        self.storage = _Storage(stored)
        self.config = {"loss_strategy": "kendall"}
        self.checkpoint = object()  # restarting from a checkpoint

    def init_local_path(self) -> None:
        Path(self.local_path).mkdir(parents=True, exist_ok=True)


def _lines(epochs: range) -> str:
    return "".join(json.dumps({"epoch": e}) + "\n" for e in epochs)


@pytest.fixture
def lagging_trial(tmp_path: Path) -> _Trial:
    """Driver's result.json holds epochs 1-3; the stored copy was synced after epoch 2."""
    trial = _Trial(tmp_path / "driver", tmp_path / "stored")
    for where, epochs in (
        (trial.local_path, range(1, 4)),
        (trial.storage.trial_fs_path, range(1, 3)),
    ):
        Path(where).mkdir(parents=True)
        Path(where, "result.json").write_text(_lines(epochs))
    return trial


def _epochs(path: Path) -> list[int]:
    return [json.loads(x)["epoch"] for x in path.read_text().splitlines()]


def test_a_restarted_trial_keeps_the_drivers_newer_result_file(lagging_trial: _Trial) -> None:
    logger = KeepLocalJsonLogger()
    logger.log_trial_start(lagging_trial)  # the restart
    logger.log_trial_result(4, lagging_trial, {"epoch": 4})
    logger.log_trial_end(lagging_trial)
    assert _epochs(Path(lagging_trial.local_path, "result.json")) == [1, 2, 3, 4]


def test_rays_stock_logger_drops_the_line_the_fix_is_for(lagging_trial: _Trial) -> None:
    """If this starts failing, Ray fixed the race and raysearch.search.loggers can go."""
    logger = JsonLoggerCallback()
    logger.log_trial_start(lagging_trial)
    logger.log_trial_end(lagging_trial)
    assert _epochs(Path(lagging_trial.local_path, "result.json")) == [1, 2]


def test_a_resumed_driver_with_an_empty_staging_directory_restores_from_storage(
    tmp_path: Path,
) -> None:
    trial = _Trial(tmp_path / "driver", tmp_path / "stored")
    Path(trial.storage.trial_fs_path).mkdir(parents=True)
    Path(trial.storage.trial_fs_path, "result.json").write_text(_lines(range(1, 3)))
    trial.init_local_path()  # Tune creates the trial's staging directory, empty
    logger = KeepLocalJsonLogger()
    logger.log_trial_start(trial)
    logger.log_trial_end(trial)
    assert _epochs(Path(trial.local_path, "result.json")) == [1, 2]


def test_csv_logger_keeps_the_drivers_file_too(tmp_path: Path) -> None:
    trial = _Trial(tmp_path / "driver", tmp_path / "stored")
    for where, rows in (
        (trial.local_path, "epoch\n1\n2\n3\n"),
        (trial.storage.trial_fs_path, "epoch\n1\n"),
    ):
        Path(where).mkdir(parents=True)
        Path(where, "progress.csv").write_text(rows)
    KeepLocalCSVLogger()._restore_from_remote("progress.csv", trial)
    assert Path(trial.local_path, "progress.csv").read_text() == "epoch\n1\n2\n3\n"


def test_tune_uses_these_loggers_instead_of_its_defaults() -> None:
    callbacks = _create_default_callbacks(result_loggers())
    json_loggers = [c for c in callbacks if isinstance(c, JsonLoggerCallback)]
    csv_loggers = [c for c in callbacks if isinstance(c, CSVLoggerCallback)]
    assert [type(c) for c in json_loggers] == [KeepLocalJsonLogger]
    assert [type(c) for c in csv_loggers] == [KeepLocalCSVLogger]
