"""The trainer: configs, the epoch loop (``fit``), evaluation, checkpoints.

``raysearch.train.ray_train`` (the Ray Train wrapper) is imported on demand, not here, so
the trainer runs in a test with no Ray at all.
"""

from raysearch.train.checkpoint import CHECKPOINT_FILE, load_checkpoint, save_checkpoint
from raysearch.train.collapse import TaskCollapseWarning, detect_collapse
from raysearch.train.config import TrainerConfig, TrialConfig
from raysearch.train.early_stopping import EarlyStopping
from raysearch.train.epoch import EpochStats, NonFiniteLossError
from raysearch.train.evaluate import EvalResult, evaluate_split
from raysearch.train.loop import EpochResult, FitResult, fit
from raysearch.train.schedule import lr_factor, make_scheduler

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
