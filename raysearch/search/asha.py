"""Ray's ASHA with Hyperband brackets whose draws are seeded and survive ``--resume``.

With ``brackets`` > 1, Ray's ASHAScheduler puts each new trial in one of its brackets
(bracket s has its first rung at ``grace_period * reduction_factor**s``), drawn with
weights ``e**(rungs - most rungs)``, so most trials go to the most aggressive bracket. Ray
draws from NumPy's global generator, which nothing seeds: two searches with the same
``--seed`` would put their trials in different brackets. ``SeededASHA`` makes the same
draw from its own generator, seeded by the search's seed, and remembers each trial's
bracket (``bracket_of``): ``scheduler.asha_rungs`` saves it, and after ``--resume`` a trial
goes back to its bracket and the draws for new trials go on where they stopped.

With one bracket (the default) every trial is in it, exactly as in Ray's ASHA.

``window``: a rung's cut-off (the value a trial must beat there to go on) is set by the last
``window`` values recorded at the rung, not by all of them. Ray's cut-off is the
(1 - 1/reduction_factor) quantile of every value the rung has seen. Under a model-based
searcher the trials get better as the search goes on, so a late trial beats that cut-off
more and more often and ASHA stops fewer and fewer trials; with a window the cut-off keeps
up with the trials the searcher draws now. None (the default): Ray's cut-off.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from ray.tune.schedulers import ASHAScheduler, TrialScheduler
from ray.tune.schedulers.async_hyperband import _Bracket

__all__ = ["SeededASHA"]


class _WindowBracket(_Bracket):
    """Ray's bracket whose cut-off at a rung is set by the last ``window`` values recorded
    there (a rung's values are a dict in the order they were recorded)."""

    window: int

    @classmethod
    def of(cls, bracket: _Bracket, window: int) -> _WindowBracket:
        """``bracket`` (its rungs and settings, as Ray built it) with a window."""
        found = cls.__new__(cls)
        found.__dict__.update(vars(bracket))
        found.window = window
        return found

    def cutoff(self, recorded: dict[str, float]) -> Any:
        if not recorded:
            return None
        recent = list(recorded.values())[-self.window :]
        return np.nanpercentile(recent, (1 - 1 / self.rf) * 100)


class SeededASHA(ASHAScheduler):
    """Ray's ASHAScheduler drawing each trial's bracket from a generator seeded by ``seed``,
    with ``window``: each rung's cut-off from its last ``window`` values (see the module)."""

    def __init__(self, *args: Any, seed: int = 0, window: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if window is not None:
            if isinstance(window, bool) or not isinstance(window, int) or window < 3:
                raise ValueError(f"window must be a whole number >= 3 or None, got {window!r}")
            self._brackets = [_WindowBracket.of(b, window) for b in self._brackets]
        self.window = window
        self.seed = seed
        self.bracket_of: dict[str, int] = {}  # trial id -> index into self._brackets
        self._draws = np.random.RandomState(seed)

    def _weights(self) -> np.ndarray:
        sizes = np.array([len(b._rungs) for b in self._brackets], dtype=float)
        weights = np.e ** (sizes - sizes.max())
        return weights / weights.sum()

    def _draw(self) -> int:
        return int(self._draws.choice(len(self._brackets), p=self._weights()))

    def on_trial_add(self, tune_controller: Any, trial: Any) -> None:
        if not self._metric or not self._metric_op:  # Ray's own error names what is missing
            super().on_trial_add(tune_controller, trial)
        index = self.bracket_of.get(trial.trial_id)
        if index is None:
            index = self.bracket_of[trial.trial_id] = self._draw()
        self._trial_info[trial.trial_id] = self._brackets[index]

    def on_trial_result(self, tune_controller: Any, trial: Any, result: dict[str, Any]) -> str:
        """Ray's decision, except that a trial at max_t is never stopped: it ends itself
        there, with its final report (the test split, its outcome), which a STOP would cut
        off. Ray has a rung at max_t itself where log_rf(max_t / grace) is whole (grace 4,
        factor 2, 16 epochs: rungs 4, 8, 16); it still records the trial's value there."""
        action = super().on_trial_result(tune_controller, trial, result)
        if action == TrialScheduler.STOP and self._at_max_t(result):
            self._num_stopped -= 1
            return TrialScheduler.CONTINUE
        return action

    def on_trial_error(self, tune_controller: Any, trial: Any) -> None:
        """A trial that failed for good reports no more: Ray's ASHA kept its entry."""
        self._trial_info.pop(trial.trial_id, None)
        super().on_trial_error(tune_controller, trial)

    def _at_max_t(self, result: dict[str, Any]) -> bool:
        return self._time_attr in result and result[self._time_attr] >= self._max_t

    def restore_brackets(self, bracket_of: dict[str, int]) -> None:
        """Put saved bracket memberships back, and move the generator past their draws."""
        if any(not 0 <= i < len(self._brackets) for i in bracket_of.values()):
            raise ValueError(
                f"saved bracket indices {sorted(set(bracket_of.values()))} do not fit this "
                f"scheduler's {len(self._brackets)} bracket(s): the search's settings changed"
            )
        self.bracket_of = {str(k): int(v) for k, v in bracket_of.items()}
        self._draws = np.random.RandomState(self.seed)
        for _ in self.bracket_of:
            self._draw()
