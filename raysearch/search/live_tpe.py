"""TPE that learns from the trials still running, for searches with many trials at once.

Optuna's TPE fits on finished trials and treats running ones as pending: its constant liar
counts them among the bad trials, so the sampler proposes away from them. With ASHA and k
trials at once that is backwards. The trials ASHA stopped at the first rung finish first,
while the promising ones keep running; a sampler that sees only finished trials learns from
the worst ones, and the liar pushes it away from the best. The simulator measured what this
costs as k grows (results/benchmarks/scaling.md: "Why quality dropped with k").

:class:`LiveTPESampler` fits TPE on a view of the study in which every running trial that
has reported at least one epoch counts as an observation with its latest reported value:
what Ray's OptunaSearch would tell Optuna if the trial were stopped now (it tells a trial
ASHA stopped its last best value, too). A running trial with no report yet stays pending
(the constant liar). With one trial at a time nothing changes: no trial is running when the
next one is drawn.

The view also bounds the cost of a suggestion as the study grows: TPE fits on at most
``max_observations`` trials (the best quarter and the most recent rest), since Optuna's
TPE costs time in proportion to the trials it fits on. It is built once per trial: TPE
samples a trial in several calls (one per parameter with independent TPE, one per group
with grouped TPE), and the study does not change between them.
"""

from __future__ import annotations

from collections.abc import Container
from typing import Any

from optuna.samplers import TPESampler
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

__all__ = ["LiveTPESampler", "recast"]

_STATES = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)


def recast(trial: FrozenTrial, state: TrialState, value: float | None) -> FrozenTrial:
    """The trial as a sampler should see it: in ``state`` with ``value``, the rest kept."""
    return FrozenTrial(
        number=trial.number,
        state=state,
        value=value,
        datetime_start=trial.datetime_start,
        datetime_complete=None,
        params=trial.params,
        distributions=trial.distributions,
        user_attrs=trial.user_attrs,
        system_attrs=trial.system_attrs,
        intermediate_values=trial.intermediate_values,
        trial_id=trial._trial_id,
    )


def _observed(trial: FrozenTrial) -> FrozenTrial:
    """A running trial as a finished one with its latest reported value."""
    return recast(
        trial, TrialState.COMPLETE, trial.intermediate_values[max(trial.intermediate_values)]
    )


def _rank(trial: FrozenTrial, sign: float) -> tuple[int, float, float]:
    """Better first: complete trials by value, then pruned ones by how far they got and,
    at the same step, by their value there (as Optuna's TPE scores pruned trials)."""
    if trial.state == TrialState.COMPLETE:
        return (0, sign * float(trial.value), 0.0)  # type: ignore[arg-type]
    if not trial.intermediate_values:
        return (2, 0.0, 0.0)
    step = max(trial.intermediate_values)
    return (1, -float(step), sign * trial.intermediate_values[step])


class _LiveView:
    """The study as TPE's ``_sample`` reads it (everything else is the study's), as it was
    when first read."""

    def __init__(self, study: Study, max_observations: int | None) -> None:
        self._study = study
        self._max_observations = max_observations
        self._kept: list[FrozenTrial] | None = None

    def __getattr__(self, name: str) -> Any:
        return getattr(self._study, name)

    def _get_trials(
        self,
        deepcopy: bool = True,
        states: Container[TrialState] | None = None,
        use_cache: bool = False,
    ) -> list[FrozenTrial]:
        if self._kept is None:
            trials = self._study._get_trials(deepcopy=False, states=_STATES, use_cache=False)
            observed, pending = [], []
            for t in trials:
                if t.state != TrialState.RUNNING:
                    observed.append(t)
                elif t.intermediate_values:
                    observed.append(_observed(t))
                else:
                    pending.append(t)
            self._kept = sorted(self._cap(observed) + pending, key=lambda t: t.number)
        return [t for t in self._kept if states is None or t.state in states]

    def _cap(self, observed: list[FrozenTrial]) -> list[FrozenTrial]:
        cap = self._max_observations
        if cap is None or len(observed) <= cap:
            return observed
        sign = 1.0 if self._study.direction == StudyDirection.MINIMIZE else -1.0
        ranked = sorted(observed, key=lambda t: _rank(t, sign))
        best = ranked[: cap // 4]
        chosen = {t.number for t in best}
        recent = [t for t in sorted(observed, key=lambda t: t.number) if t.number not in chosen]
        return best + recent[len(recent) - (cap - len(best)) :]


class LiveTPESampler(TPESampler):
    """Optuna's TPESampler fitted on a view of the study where running trials count with
    their latest value, and at most ``max_observations`` trials (see the module)."""

    def __init__(self, *, max_observations: int | None = 400, **kwargs: Any) -> None:
        if max_observations is not None and max_observations < 8:
            raise ValueError(f"max_observations must be >= 8, got {max_observations}")
        super().__init__(**kwargs)
        self._max_observations = max_observations
        self._view: tuple[int, _LiveView] | None = None  # (trial number, its view)

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        super().before_trial(study, trial)
        self._view = None  # a new trial reads the study afresh

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_view"] = None  # Tune pickles the searcher: the view holds the study (and
        # recursed when unpickled); the next trial builds its own
        return state

    def _sample(self, study: Study, trial: FrozenTrial, search_space: dict[str, Any]) -> Any:
        if study._is_multi_objective():
            raise ValueError("LiveTPESampler is for single-objective studies")
        if self._view is None or self._view[0] != trial.number:
            self._view = (trial.number, _LiveView(study, self._max_observations))
        return super()._sample(self._view[1], trial, search_space)  # type: ignore[arg-type]
