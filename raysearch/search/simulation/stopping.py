"""Recorded curves as a raysearch trial would end them: where the trainer stops itself.

A table of curves (``raysearch curves``, the HAN table) is recorded with early stopping off,
every configuration to its last epoch. A real trial of the space stops itself once its
validation metric has not improved by ``min_delta`` for ``patience`` epochs (never before
``min_epochs``): the trainer's own rule, ``train.early_stopping``, with the space's trainer
settings (its fixed values, a searched value, or the trainer's defaults). A simulated trial
of :class:`TrainerStopped` ends there too, and completes as a real one does (the scheduler
and searcher hear that it ended, not that it was stopped). A space whose ``patience`` is
``max_epochs`` or more leaves every curve whole, so its scheduler alone stops trials.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from raysearch.core.params import build_trial_config, resolve_param
from raysearch.core.trainer_config import EARLY_STOPPING, TrainerConfig
from raysearch.search.simulation.curves import CurveSource, TrialCurve
from raysearch.train.early_stopping import stop_epoch

__all__ = ["TrainerStopped"]

_STOPPING = {("trainer", name) for name in EARLY_STOPPING}  # as trial config paths


@dataclass(frozen=True)
class _Ended:
    """A curve that ends after ``epochs`` of its epochs."""

    whole: TrialCurve
    epochs: int

    def value(self, epoch: int) -> float:
        return self.whole.value(epoch)

    def duration(self, epoch: int) -> float:
        return self.whole.duration(epoch)


@dataclass(frozen=True)
class TrainerStopped:
    """``source``'s curves, each ending where the trainer's early stopping would end a trial
    of ``space`` (``space.fixed``, the trial's sampled values, the trainer's defaults)."""

    source: CurveSource
    space: Any  # a SearchSpace

    @property
    def name(self) -> str:
        return self.source.name

    @property
    def max_epochs(self) -> int:
        return self.source.max_epochs

    @property
    def optimum(self) -> float:
        return self.source.optimum

    def describe(self) -> str:
        """What ends the trials, for a report: the trainer's settings the space fixes (or
        the defaults), or that the space searches them."""
        searched = {p for p in self.space.parameters if resolve_param(p)[0] in _STOPPING}
        if searched:
            return (
                "each trial ending where the trainer's early stopping ends it "
                f"({', '.join(sorted(searched))} searched)"
            )
        t = self._trainer({})
        if t.patience >= self.space.settings.max_epochs:
            return (
                "no trial stopping itself (the trainer's patience >= max_epochs: only the "
                "scheduler stops trials)"
            )
        return (
            "each trial ending where the trainer's early stopping ends it (patience "
            f"{t.patience}, min_delta {t.min_delta:g}, min_epochs {t.min_epochs})"
        )

    def _trainer(self, config: Mapping[str, Any]) -> TrainerConfig:
        values = {
            **self.space.fixed,
            **config,
            "trainer.max_epochs": self.space.settings.max_epochs,
        }
        return build_trial_config(values).trainer

    def curve(self, config: Mapping[str, Any], seed: int) -> TrialCurve:
        whole = self.source.curve(config, seed)
        trainer = self._trainer(config)
        values = (whole.value(epoch) for epoch in range(1, whole.epochs + 1))
        end = stop_epoch(values, trainer.patience, trainer.min_delta, trainer.min_epochs)
        return whole if end is None else _Ended(whole, end)
