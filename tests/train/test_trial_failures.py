"""A trial's permanent failures (``TrialFailure``): an unreadable checkpoint is one, named by
its file; each survives pickling (Ray carries it between processes)."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch

from raysearch.core.errors import TrialFailure
from raysearch.core.report import NonFiniteMetricError
from raysearch.train.checkpoint import (
    CHECKPOINT_FILE,
    CorruptCheckpointError,
    load_checkpoint,
    save_checkpoint,
)
from raysearch.train.epoch import NonFiniteLossError


@pytest.mark.parametrize("keep", [0.5, 0.0])
def test_a_cut_or_empty_checkpoint_is_a_trial_failure_naming_the_file(
    tmp_path: Path, keep: float
) -> None:
    save_checkpoint(tmp_path, {"epoch": 2, "w": torch.ones(100)})
    path = tmp_path / CHECKPOINT_FILE
    path.write_bytes(path.read_bytes()[: int(path.stat().st_size * keep)])
    with pytest.raises(CorruptCheckpointError, match=rf"checkpoint {path} cannot be read"):
        load_checkpoint(tmp_path)
    assert issubclass(CorruptCheckpointError, TrialFailure)


@pytest.mark.parametrize(
    "error",
    [
        NonFiniteLossError("training loss", ["regime", "casualty"], 3),
        NonFiniteMetricError("anchored_val_loss is nan at epoch 2"),
        CorruptCheckpointError("checkpoint x cannot be read"),
    ],
)
def test_trial_failures_survive_pickling(error: TrialFailure) -> None:
    back = pickle.loads(pickle.dumps(error))
    assert type(back) is type(error) and str(back) == str(error)
    assert isinstance(back, TrialFailure)
