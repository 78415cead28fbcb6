"""Joint TPE one trial at a time; more and more independent TPE as more trials run at once.

With k trials at once, TPE draws k configurations before their results are in. Joint
(multivariate) TPE draws each near one good trial, so k draws from one model look alike;
independent TPE draws each parameter from its own model, so a draw mixes the values of
different good trials. On the scaling benchmark (results/benchmarks/scaling.md) joint TPE
is the better search on Hartmann and the HAN table one trial at a time; independent TPE
is better on LCBench, most of all with many trials at once.

:class:`MixedTPESampler` draws a trial with independent TPE with probability
r / (r + ``half``), r the other trials running when it is drawn (a coin per trial, from
the seed), and with joint TPE otherwise. Both are :class:`LiveTPESampler` fitted on every
trial. With one trial at a time nothing else is running and every draw is joint TPE's:
the search is exactly ``LiveTPESampler(multivariate=True, group=True)``'s. With 16 at once
about half the draws are independent, with 64 four in five.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from optuna.samplers import BaseSampler
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

from raysearch.core.trainer_config import wrap_seed
from raysearch.search.live_tpe import LiveTPESampler

__all__ = ["HALF", "MixedTPESampler", "independent_share"]

HALF = 16  # running trials at which half the draws are independent TPE's


def independent_share(running: int, half: int = HALF) -> float:
    """The probability that a trial drawn with ``running`` others running is drawn with
    independent TPE: 0 with none, 1/2 with ``half``, toward 1 as they grow."""
    return running / (running + half)


class MixedTPESampler(BaseSampler):
    """Joint TPE, or independent TPE with probability ``independent_share(r)``, r the
    other trials running when a trial is drawn (see the module). ``kwargs`` are those of
    ``tpe`` (LiveTPESampler, or a subclass the benchmarks compare; its ``multivariate``
    and ``group`` are set here)."""

    def __init__(
        self,
        *,
        seed: int,
        half: int = HALF,
        tpe: type[LiveTPESampler] = LiveTPESampler,
        **kwargs: Any,
    ) -> None:
        if half < 1:
            raise ValueError(f"half must be >= 1, got {half}")
        self._samplers = (
            tpe(seed=seed, **{**kwargs, "multivariate": True, "group": True}),
            tpe(seed=wrap_seed(seed + 1), **{**kwargs, "multivariate": False, "group": False}),
        )
        self._half = half
        self._coin = np.random.RandomState(wrap_seed(seed + 2))
        self._independent: dict[int, bool] = {}  # trial number -> drawn independently

    def _for(self, trial: FrozenTrial) -> LiveTPESampler:
        return self._samplers[int(self._independent.get(trial.number, False))]

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        if trial.number not in self._independent:
            running = study._get_trials(deepcopy=False, states=(TrialState.RUNNING,))
            r = sum(t.number != trial.number for t in running)
            # no coin with nothing running: one trial at a time is joint TPE, draw for draw
            self._independent[trial.number] = bool(r) and (
                self._coin.uniform() < independent_share(r, self._half)
            )
        self._for(trial).before_trial(study, trial)

    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, Any]:
        return self._for(trial).infer_relative_search_space(study, trial)

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, Any]
    ) -> dict[str, Any]:
        return self._for(trial).sample_relative(study, trial, search_space)

    def sample_independent(
        self, study: Study, trial: FrozenTrial, param_name: str, param_distribution: Any
    ) -> Any:
        return self._for(trial).sample_independent(study, trial, param_name, param_distribution)

    def after_trial(self, study: Study, trial: FrozenTrial, state: TrialState, values: Any) -> None:
        self._for(trial).after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        for sampler in self._samplers:
            sampler.reseed_rng()
