"""The trainer: configs, the epoch loop (``fit``), evaluation, checkpoints.

``raysearch.train.ray_train`` (the Ray Train wrapper) is imported on demand, not here, so
the trainer runs in a test with no Ray at all.

Its names are imported on first use (PEP 562), so that ``raysearch.train.ray_train`` and
the search layer above it can be imported without torch: the Tune driver and trivial
trials do not pay its import.
"""

from __future__ import annotations

import importlib
from typing import Any

_SOURCES = {
    "CHECKPOINT_FILE": "raysearch.train.checkpoint",
    "load_checkpoint": "raysearch.train.checkpoint",
    "save_checkpoint": "raysearch.train.checkpoint",
    "TaskCollapseWarning": "raysearch.train.collapse",
    "detect_collapse": "raysearch.train.collapse",
    "TrainerConfig": "raysearch.train.config",
    "TrialConfig": "raysearch.train.config",
    "EarlyStopping": "raysearch.train.early_stopping",
    "EpochStats": "raysearch.train.epoch",
    "NonFiniteLossError": "raysearch.train.epoch",
    "EvalResult": "raysearch.train.evaluate",
    "evaluate_split": "raysearch.train.evaluate",
    "EpochResult": "raysearch.train.loop",
    "FitResult": "raysearch.train.loop",
    "fit": "raysearch.train.loop",
    "lr_factor": "raysearch.train.schedule",
    "make_scheduler": "raysearch.train.schedule",
}

__all__ = [
    "CHECKPOINT_FILE",
    "EarlyStopping",
    "EpochResult",
    "EpochStats",
    "EvalResult",
    "FitResult",
    "NonFiniteLossError",
    "TaskCollapseWarning",
    "TrainerConfig",
    "TrialConfig",
    "detect_collapse",
    "evaluate_split",
    "fit",
    "load_checkpoint",
    "lr_factor",
    "make_scheduler",
    "save_checkpoint",
]


def __getattr__(name: str) -> Any:
    if name in _SOURCES:
        return getattr(importlib.import_module(_SOURCES[name]), name)
    raise AttributeError(f"module 'raysearch.train' has no attribute {name!r}")
