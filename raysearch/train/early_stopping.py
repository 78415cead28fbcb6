"""Early stopping that honours patience, min_delta and a minimum number of epochs.

An epoch improves when its metric is below ``best - min_delta``; ``bad_epochs`` counts the
epochs since the last improvement. Training stops after ``patience`` such epochs, but never
before ``min_epochs`` epochs have run. The state is a dict, saved in checkpoints.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import asdict, dataclass

__all__ = ["EarlyStopping", "stop_epoch"]


@dataclass
class EarlyStopping:
    patience: int
    min_delta: float
    min_epochs: int
    best: float = math.inf
    bad_epochs: int = 0
    epochs_seen: int = 0

    def update(self, value: float) -> bool:
        """Record one epoch's metric; True if training should stop now."""
        self.epochs_seen += 1
        if value < self.best - self.min_delta:
            self.best = value
            self.bad_epochs = 0
        else:
            self.bad_epochs += 1
        return self.should_stop

    @property
    def should_stop(self) -> bool:
        return self.epochs_seen >= self.min_epochs and self.bad_epochs >= self.patience

    def state_dict(self) -> dict[str, float]:
        return asdict(self)

    def load_state_dict(self, state: dict[str, float]) -> None:
        self.best = float(state["best"])
        self.bad_epochs = int(state["bad_epochs"])
        self.epochs_seen = int(state["epochs_seen"])


def stop_epoch(
    values: Iterable[float], patience: int, min_delta: float, min_epochs: int
) -> int | None:
    """The epoch (1-based) after which the trainer's early stopping ends a run whose metric
    goes ``values``, epoch by epoch; None if it never does (the run ends with its epochs)."""
    stopper = EarlyStopping(patience, min_delta, min_epochs)
    for epoch, value in enumerate(values, start=1):
        if stopper.update(value):
            return epoch
    return None
