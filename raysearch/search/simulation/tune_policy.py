"""Ray Tune's searcher and trial scheduler as a simulation policy, through Tune's interfaces.

The same calls, in the same order, as Tune's controller makes them (ray 2.58,
``TuneController._process_trial_result`` and ``stop_trial``): the searcher is wrapped in a
``ConcurrencyLimiter`` (what ``TuneConfig(max_concurrent_trials=k)`` does); a new trial is
``searcher.suggest(trial_id)`` then ``scheduler.on_trial_add``; each result goes to
``scheduler.on_trial_result`` and, unless the decision is STOP, to
``searcher.on_trial_result``; a trial that ends (stopped, or all epochs run) goes to
``scheduler.on_trial_complete`` and ``searcher.on_trial_complete`` with its last result.
Not replayed: the duplicate of the last result Tune re-sends when a function trainable
returns (ASHA has already recorded it; Optuna ignores a second report of a step).

A scheduler may pause trials (PAUSE): as Tune's controller does, the searcher still hears
the result, the trial is PAUSED and frees its worker, and a free worker runs the trial the
scheduler's ``choose_trial_to_run`` picks among the PAUSED ones (the simulator creates new
trials only when a worker asks, so none is PENDING then), or else a new one. Under a
scheduler that pauses, Tune's ``max_concurrent_trials`` counts paused trials as live: pass
``limit_concurrency=False`` unless the scheduler resumes a paused trial whenever k are.

Trials are :class:`SimTrial` objects carrying what Ray's schedulers and searchers read of
a ``ray.tune.experiment.Trial``: ``trial_id``, ``config``, ``evaluated_params``, ``status``,
``last_result``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from ray.tune.schedulers import TrialScheduler
from ray.tune.search import ConcurrencyLimiter, Searcher
from ray.tune.utils import flatten_dict

from raysearch.core.metrics import BEST_VAL_METRIC, TIME_ATTR, VAL_METRIC
from raysearch.search.simulation.engine import FINISHED, PAUSE

__all__ = ["SimController", "SimTrial", "TunePolicy"]

_ITERATION = "training_iteration"  # Tune adds it to every result; OptunaSearch reads it


@dataclass(eq=False)
class SimTrial:
    """The parts of Tune's Trial that schedulers and searchers read: ``config`` as the
    searcher suggested it (nested), ``evaluated_params`` flattened ("trainer.seed")."""

    trial_id: str
    config: dict[str, Any]
    evaluated_params: dict[str, Any]
    status: str = "PENDING"
    last_result: dict[str, Any] = field(default_factory=dict)

    def is_finished(self) -> bool:
        return self.status in ("TERMINATED", "ERROR")

    def __str__(self) -> str:
        return self.trial_id


class SimController:
    """What a scheduler may ask of Tune's controller: the trials so far."""

    def __init__(self) -> None:
        self.trials: list[SimTrial] = []

    def get_trials(self) -> list[SimTrial]:
        return self.trials

    def get_live_trials(self) -> list[SimTrial]:
        return [t for t in self.trials if not t.is_finished()]


class TunePolicy:
    """Drive a Tune ``Searcher`` and ``TrialScheduler`` (built by raysearch for a Tuner),
    the searcher behind a ``ConcurrencyLimiter`` of ``workers`` trials (what
    ``max_concurrent_trials=workers`` does) unless ``limit_concurrency`` is False."""

    def __init__(
        self, searcher: Any, scheduler: Any, workers: int, *, limit_concurrency: bool = True
    ) -> None:
        self._stop, self._pause = TrialScheduler.STOP, TrialScheduler.PAUSE
        self.searcher: Searcher = (
            ConcurrencyLimiter(searcher, max_concurrent=workers) if limit_concurrency else searcher
        )
        self.scheduler = scheduler
        self.controller = SimController()
        self._trials: dict[str, SimTrial] = {}
        self._best: dict[str, float] = {}

    def next_trial(self, trial_id: str) -> Mapping[str, Any] | Literal["finished"] | None:
        config = self.searcher.suggest(trial_id)
        if config == Searcher.FINISHED:  # Tune's SearchGenerator asks it no more
            return FINISHED
        if config is None:
            return None
        trial = SimTrial(trial_id, dict(config), flatten_dict(dict(config)))
        self._trials[trial_id] = trial
        self.controller.trials.append(trial)
        self.scheduler.on_trial_add(self.controller, trial)
        trial.status = "RUNNING"
        return trial.evaluated_params

    def on_result(self, trial_id: str, epoch: int, value: float) -> bool | Literal["pause"]:
        trial = self._trials[trial_id]
        best = min(value, self._best.get(trial_id, value))
        self._best[trial_id] = best
        result = {
            TIME_ATTR: epoch,
            VAL_METRIC: value,
            BEST_VAL_METRIC: best,
            _ITERATION: epoch,
            "trial_id": trial_id,
        }
        decision = self.scheduler.on_trial_result(self.controller, trial, result)
        trial.last_result = result
        if decision == self._stop:
            return False
        self.searcher.on_trial_result(trial_id, result)
        if decision == self._pause:
            trial.status = "PAUSED"
            return PAUSE
        return True

    def resume(self) -> str | None:
        """The PAUSED trial the scheduler chooses to run, if it chooses one."""
        chosen = self.scheduler.choose_trial_to_run(self.controller)
        if chosen is None or chosen.status != "PAUSED":
            return None
        chosen.status = "RUNNING"
        return str(chosen.trial_id)

    def on_end(self, trial_id: str, stopped: bool) -> None:
        trial = self._trials[trial_id]
        self.scheduler.on_trial_complete(self.controller, trial, trial.last_result)
        self.searcher.on_trial_complete(trial_id, result=trial.last_result)
        trial.status = "TERMINATED"
