"""Candidate fixes measured on the way to the default (issue 14: "try candidates one at a
time"), kept here so the measurements can be re-run. Each is a change to the search as it
was before the fix; the one kept is raysearch.search.live_tpe.

- ``liar_off``: TPE's constant liar off (running trials are left out, not counted as bad).
- ``told_pruned``: tell Optuna PRUNED (not COMPLETE with the truncated value) for trials
  ASHA stopped, as Optuna's own pruners record them; TPE then orders them by how far they
  got, then by value.
- ``budget_view``: a BOHB-like model: TPE compares trials at one budget, the largest epoch
  that at least 10 trials reported, running ones included; trials that ended before it
  count as pruned.
- ``final_scale``: the default's live view with every trial that has not reached the last
  epoch moved to the scale of final values: its value at epoch e plus the median change from
  epoch e to the last epoch over the trials that reached it (at least 3 of them). TPE then
  compares a running or stopped trial with finished ones like for like.
- ``final_scale_running``: the same shift for running trials only; a trial ASHA stopped
  keeps its value, so with one trial at a time the search is the default's.
- ``pending_random``: a random share of suggestions as large as the share still running.
- ``tpe_alternate``: joint and independent TPE, trial by trial.
- ``pending_mix``: independent TPE for a trial with probability r / (r + 16), r the trials
  running, joint TPE (the default's) otherwise; confirmed on fresh seeds, it is now the
  space setting ``independent_when_running`` (raysearch.search.mixed_tpe).
- ``pending_wide``: TPE draws its candidates from its density of good configurations with
  every kernel widened by 1 + 2 r / (r + 16), r the trials running (BOHB draws its
  candidates with kernels 3 times wider, at every k).
- ``promotion_asha``, ``random_promotion``: ASHA as its paper states it (Li et al. 2020,
  "A System for Massively Parallel Hyperparameter Tuning"), which promotes trials instead
  of stopping them (``PromotionASHA``), with joint TPE and with random search. Optuna's TPE
  leaves its random start-up once ``n_startup_trials`` trials have finished, and under
  promotion few do (a trial not promoted stays paused, RUNNING to Optuna): TPE there is
  ``ObservedStartTPESampler``, which counts the trials it observes, running ones with a
  value included. ``promotion_mixed``: the same with the default's TPE (joint, and
  independent for a share of the draws that grows with the trials running), each of its
  two TPEs so started (``ObservedStartMixedSampler``). To Optuna a paused trial is running,
  so under promotion most of its draws are independent, even one trial at a time.
- ``gated_cut``: the default with its gate judging a rung by what its cut costs, not by
  how well it ranks (``CutCostGatedASHA``): among the trials with a value at the rung and
  at the furthest later point that 8 of them have reached, the best later value that the
  rung's best third keeps, against the best of all, in units of the best's lead over the
  median. Where the configurations that end best start slowly, a rung's order can agree
  with the next rung's while its cut still drops the best; this gate sees that once
  trials reach the end. ``gated_next_cut``: that cost beside the default's correlation
  (a rung stops trials only if it ranks them and its cut keeps the best), which became
  the space setting ``gate_cut_cost`` (raysearch.search.gated_asha).
- ``spread_start``: the default with its first wave spread (``first_wave``): with k trials
  at once the first k start before any result is in, so TPE draws them blind, at random,
  and on a small grid many repeat. Here they are the search's start points instead: on a
  space of categorical parameters, its grid's configurations in a random order without
  repeats (cycled where k is larger); otherwise a Latin hypercube. One trial at a time
  the search is the default's.
"""

from __future__ import annotations

import functools
import heapq
from typing import Any, cast

import numpy as np
from optuna.distributions import CategoricalDistribution
from optuna.samplers import TPESampler
from optuna.samplers._tpe.parzen_estimator import _ParzenEstimator
from optuna.samplers._tpe.probability_distributions import (
    _BatchedCategoricalDistributions,
    _BatchedDistributions,
    _MixtureOfProductDistribution,
)
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState
from ray.tune.schedulers import FIFOScheduler, TrialScheduler
from ray.tune.search.optuna import OptunaSearch

from raysearch.search.gated_asha import GatedASHA
from raysearch.search.live_tpe import LiveTPESampler, _LiveView, recast
from raysearch.search.mixed_tpe import MixedTPESampler

__all__ = [
    "AlternatingTPESampler",
    "BudgetViewSampler",
    "CutCostGatedASHA",
    "FinalScaleSampler",
    "ObservedStartMixedSampler",
    "ObservedStartTPESampler",
    "PendingRandomSampler",
    "PendingWideSampler",
    "PromotionASHA",
    "ToldPruned",
    "widening",
]

MIN_POINTS = 10
MIN_FULL = 3  # final_scale: trials that reached the last epoch before an offset is used


class ToldPruned(OptunaSearch):
    """Ray's OptunaSearch telling PRUNED for a trial whose last epoch is below max_epochs."""

    def __init__(self, *args: Any, max_epochs: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._max_epochs = max_epochs

    def on_trial_complete(
        self, trial_id: str, result: dict | None = None, error: bool = False
    ) -> None:
        epoch = (result or {}).get("epoch")
        if error or result is None or epoch is None or epoch >= self._max_epochs:
            super().on_trial_complete(trial_id, result, error)
            return
        trial = self._ot_trials[trial_id]
        # Ray's OptunaSearch types _ot_study as its initial None; it is the study once set up
        study = cast("Study | None", self._ot_study)
        assert study is not None, "set up before the trial was suggested"
        reported = study._storage.get_trial(trial._trial_id).intermediate_values
        if int(epoch) not in reported:
            trial.report(float(result[self.metric]), int(epoch))
        study.tell(trial, state=TrialState.PRUNED)
        self._completed_trials.add(trial_id)


class _BudgetView:
    def __init__(self, study: Study) -> None:
        self._study = study

    def __getattr__(self, name: str) -> Any:
        return getattr(self._study, name)

    def _get_trials(
        self, deepcopy: bool = True, states: Any = None, use_cache: bool = False
    ) -> list[FrozenTrial]:
        trials = self._study._get_trials(
            deepcopy=False,
            states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING),
            use_cache=use_cache,
        )
        counts: dict[int, int] = {}
        for t in trials:
            for step in t.intermediate_values:
                counts[step] = counts.get(step, 0) + 1
        enough = [s for s, n in counts.items() if n >= MIN_POINTS]
        budget = max(enough) if enough else None
        out = []
        for t in trials:
            if budget is not None and budget in t.intermediate_values:
                out.append(recast(t, TrialState.COMPLETE, t.intermediate_values[budget]))
            elif t.state == TrialState.RUNNING:
                out.append(t)
            elif t.intermediate_values:
                out.append(recast(t, TrialState.PRUNED, None))
            else:
                out.append(t)
        return [t for t in out if states is None or t.state in states]


class BudgetViewSampler(TPESampler):
    """TPE fitted on the study as seen at one budget (see the module)."""

    def _sample(self, study: Study, trial: FrozenTrial, search_space: dict[str, Any]) -> Any:
        # the view stands in for the study: TPE reads its trials through _get_trials
        return super()._sample(cast(Study, _BudgetView(study)), trial, search_space)


class _FinalScaleView(_LiveView):
    def __init__(
        self, study: Study, max_observations: int | None, last: int, running_only: bool
    ) -> None:
        super().__init__(study, max_observations)
        self._last = last
        self._running_only = running_only

    def _get_trials(
        self, deepcopy: bool = True, states: Any = None, use_cache: bool = False
    ) -> list[FrozenTrial]:
        trials = super()._get_trials(deepcopy=False, states=None, use_cache=use_cache)
        full = [t.intermediate_values for t in trials if self._last in t.intermediate_values]
        running = {
            t.number for t in self._study._get_trials(deepcopy=False, states=(TrialState.RUNNING,))
        }
        out = []
        for t in trials:
            steps = t.intermediate_values
            kept = self._running_only and t.number not in running
            if kept or t.state != TrialState.COMPLETE or not steps or self._last in steps:
                out.append(t)
                continue
            step = max(steps)
            changes = [c[self._last] - c[step] for c in full if step in c]
            if len(changes) < MIN_FULL:
                out.append(t)
                continue
            value = float(t.value) + float(np.median(changes))  # type: ignore[arg-type]
            out.append(recast(t, TrialState.COMPLETE, value))
        return [t for t in out if states is None or t.state in states]


class FinalScaleSampler(LiveTPESampler):
    """The default's TPE, fitted with unfinished trials moved to the final scale (module)."""

    def __init__(self, *, last_epoch: int, running_only: bool = False, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._last = last_epoch
        self._running_only = running_only

    def _sample(self, study: Study, trial: FrozenTrial, search_space: dict[str, Any]) -> Any:
        view = _FinalScaleView(study, self._max_observations, self._last, self._running_only)
        # the view stands in for the study: TPE reads its trials through _get_trials
        return TPESampler._sample(self, cast(Study, view), trial, search_space)


class PendingRandomSampler(LiveTPESampler):
    """The default's TPE, drawing a trial at random with probability running / (running +
    finished): the share of the trials started so far whose final result the model has not
    seen. With one trial at a time nothing is running, so the search is the default's; with
    k at once, the first waves are mostly random and later ones mostly TPE (``pending_random``:
    k suggestions from one model look alike, a random share spreads them)."""

    def __init__(self, *, seed: int, **kwargs: Any) -> None:
        super().__init__(seed=seed, **kwargs)
        self._coin = np.random.RandomState(seed)
        self._random_trials: set[int] = set()
        self._decided: set[int] = set()

    def _is_random(self, study: Study, trial: FrozenTrial) -> bool:
        if trial.number not in self._decided:
            self._decided.add(trial.number)
            states = (TrialState.RUNNING, TrialState.COMPLETE, TrialState.PRUNED)
            trials = study._get_trials(deepcopy=False, states=states)
            running = sum(
                t.state == TrialState.RUNNING and t.number != trial.number for t in trials
            )
            finished = sum(t.state != TrialState.RUNNING for t in trials)
            if running and self._coin.uniform() < running / (running + finished):
                self._random_trials.add(trial.number)
        return trial.number in self._random_trials

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, Any]
    ) -> Any:
        if self._is_random(study, trial):
            return {}
        return super().sample_relative(study, trial, search_space)

    def sample_independent(
        self, study: Study, trial: FrozenTrial, param_name: str, param_distribution: Any
    ) -> Any:
        if self._is_random(study, trial):
            return self._random_sampler.sample_independent(
                study, trial, param_name, param_distribution
            )
        return super().sample_independent(study, trial, param_name, param_distribution)


class AlternatingTPESampler(MixedTPESampler):
    """The default's TPE (joint) for even trial numbers, independent TPE for odd ones, both
    fitted on every trial (``tpe_alternate``: joint TPE won where parameters interact,
    Hartmann and the HAN table, and independent TPE on LCBench; half of each is a portfolio
    that needs no knowledge of the problem). MixedTPESampler's two samplers, chosen by the
    trial's number instead of a coin."""

    def _for(self, trial: FrozenTrial) -> LiveTPESampler:
        return self._samplers[trial.number % 2]

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self._for(trial).before_trial(study, trial)


def widening(running: int) -> float:
    """``pending_wide``'s kernel factor with ``running`` other trials running: 1 with none,
    2 with 16, toward BOHB's 3 as they grow."""
    return 1.0 + 2.0 * running / (running + 16)


class _WideParzenEstimator(_ParzenEstimator):
    """Optuna's Parzen estimator that draws from kernels ``factor`` times wider (numerical
    parameters; the prior kernel, already the whole range, stays) and scores as it is."""

    def __init__(self, *args: Any, factor: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._factor = factor

    def sample(self, rng: np.random.RandomState, size: int) -> dict[str, np.ndarray]:
        mixture = self._mixture_distribution
        wide: list[_BatchedDistributions] = []
        for d in mixture.distributions:
            if isinstance(d, _BatchedCategoricalDistributions):
                wide.append(d)
                continue
            sigma = d.sigma.copy()
            sigma[:-1] = np.minimum(sigma[:-1] * self._factor, sigma[-1])
            wide.append(d._replace(sigma=sigma))
        sampled = _MixtureOfProductDistribution(mixture.weights, wide).sample(rng, size)
        return self._untransform(sampled)


class PendingWideSampler(LiveTPESampler):
    """The default's TPE drawing its EI candidates from wider kernels the more trials are
    running (``widening``), scoring them with its own densities. With one trial at a time
    nothing is running and the search is the default's; with k at once, the k draws made
    from one model spread out (``pending_wide``)."""

    def _sample(self, study: Study, trial: FrozenTrial, search_space: dict[str, Any]) -> Any:
        states = (TrialState.RUNNING,)
        running = study._get_trials(deepcopy=False, states=states, use_cache=False)
        factor = widening(sum(t.number != trial.number for t in running))
        numeric = any(not isinstance(d, CategoricalDistribution) for d in search_space.values())
        if factor > 1.0 and numeric:
            # Optuna types the attribute as the class it defaults to, but only calls it to
            # build an estimator (its own note: users may replace it); a partial builds one
            wide = functools.partial(_WideParzenEstimator, factor=factor)
            self._parzen_estimator_cls = wide  # type: ignore[assignment]
        else:
            self._parzen_estimator_cls = _ParzenEstimator
        return super()._sample(study, trial, search_space)


class ObservedStartTPESampler(LiveTPESampler):
    """LiveTPESampler (joint) whose random start-up ends once ``n_startup_trials`` trials are
    observed: finished, or running with a reported value (Optuna counts finished ones)."""

    def _observed(self, study: Study) -> int:
        states = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.RUNNING)
        trials = study._get_trials(deepcopy=False, states=states, use_cache=False)
        return sum(t.state != TrialState.RUNNING or bool(t.intermediate_values) for t in trials)

    def _sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, Any]
    ) -> dict[str, Any]:
        if search_space == {} or self._observed(study) < self._n_startup_trials:
            return {}
        return self._sample(study, trial, search_space)

    def sample_independent(
        self, study: Study, trial: FrozenTrial, param_name: str, param_distribution: Any
    ) -> Any:
        if self._observed(study) < self._n_startup_trials:
            return self._random_sampler.sample_independent(
                study, trial, param_name, param_distribution
            )
        return self._sample(study, trial, {param_name: param_distribution})[param_name]


class ObservedStartMixedSampler(MixedTPESampler):
    """MixedTPESampler whose joint and independent TPEs are ObservedStartTPESamplers."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(tpe=ObservedStartTPESampler, **kwargs)


class PromotionASHA(FIFOScheduler):
    """ASHA that promotes (the paper's algorithm), where Ray's ASHA stops. A trial that
    reaches a rung pauses there, unless it is the trial a free worker would take anyway.
    A free worker takes, from the top rung down, a paused trial among the best
    1 / ``reduction_factor`` of every value its rung has recorded (``choose_trial_to_run``);
    if none is, a new trial. Where Ray's ASHA decides a trial's fate once, when it reaches
    the rung, against the values recorded by then, a paused trial here can still be
    promoted later, as its rung fills with worse trials. Trials never promoted stay paused
    until the search ends. Under Tune it needs ``max_concurrent_trials`` unset: paused
    trials count as live. One bracket (the space's ``brackets: 1``)."""

    def __init__(
        self,
        *,
        time_attr: str,
        metric: str,
        mode: str,
        max_t: int,
        grace_period: int,
        reduction_factor: float,
    ) -> None:
        super().__init__()
        if mode != "min":
            raise ValueError(f"PromotionASHA minimises; got mode={mode!r}")
        self.time_attr, self.eta = time_attr, reduction_factor
        self._metric, self._metric_op = metric, 1.0  # what Tune's schedulers keep
        self.rungs: list[int] = []
        rung = grace_period
        while rung < max_t:
            self.rungs.append(rung)
            rung = round(rung * reduction_factor)
        self.recorded: dict[int, dict[str, float]] = {r: {} for r in self.rungs}
        self.paused_at: dict[str, int] = {}  # trial id -> the rung it waits at

    def _best(self, rung: int) -> list[str]:
        """The trials among the rung's best 1 / reduction_factor of every value it has
        recorded, best first (ties broken by trial id)."""
        values = self.recorded[rung]
        top = int(len(values) / self.eta)
        return [t for t, _ in heapq.nsmallest(top, values.items(), key=lambda i: (i[1], i[0]))]

    def _candidate(self, trials: list[Any]) -> Any:
        """The paused trial a free worker takes: from the highest rung down, the best paused
        trial among the rung's best (None if there is none)."""
        paused = {t.trial_id: t for t in trials if t.status == "PAUSED"}
        for rung in reversed(self.rungs):
            for trial_id in self._best(rung):
                if trial_id in paused and self.paused_at.get(trial_id) == rung:
                    return paused[trial_id]
        return None

    def on_trial_result(self, tune_controller: Any, trial: Any, result: dict) -> str:
        epoch = int(result[self.time_attr])
        if epoch not in self.recorded:
            return TrialScheduler.CONTINUE
        self.recorded[epoch][trial.trial_id] = float(result[self._metric])
        self.paused_at.pop(trial.trial_id, None)
        if trial.trial_id in self._best(epoch):
            waiting = self._candidate(tune_controller.get_trials())
            if waiting is None or self.paused_at[waiting.trial_id] <= epoch:
                return TrialScheduler.CONTINUE
        self.paused_at[trial.trial_id] = epoch
        return TrialScheduler.PAUSE

    def choose_trial_to_run(self, tune_controller: Any) -> Any:
        trials = tune_controller.get_trials()
        waiting = self._candidate(trials)
        return waiting or next((t for t in trials if t.status == "PENDING"), None)

    def on_trial_complete(self, tune_controller: Any, trial: Any, result: dict) -> None:
        self.paused_at.pop(trial.trial_id, None)

    def on_trial_remove(self, tune_controller: Any, trial: Any) -> None:
        self.paused_at.pop(trial.trial_id, None)


class CutCostGatedASHA(GatedASHA):
    """The default's gated ASHA (its stops at an unmeasured rung deferred) whose gate judges
    a rung by the cost of its cut alone (raysearch.search.gated_asha.cut_cost, against the
    furthest later point with ``n_min`` pairs), not by a correlation: its reliability is
    1 - that cost, unmeasured while the next point has fewer than ``n_min`` pairs. (Beside
    the correlation, as ``gated_next_cut`` measured it, it is the space setting
    ``gate_cut_cost``.)"""

    def reliability(self, bracket: Any, milestone: float) -> tuple[float, int]:
        here, later = self._values_at(milestone), self._values_at(self._later(bracket, milestone))
        pairs = len(here.keys() & later.keys())
        if pairs < self.n_min:
            return float("nan"), pairs
        return 1.0 - self._furthest_cut_cost(bracket, milestone), pairs


def first_wave(space: Any, seed: int, points: int) -> list[dict[str, Any]]:
    """``points`` configurations of ``space`` spread over it, for ``seed``: on a space
    whose parameters are all categorical, its grid (``simulation.grid.grid``, ``when``
    kept) in a random order, each configuration once before any repeats; otherwise a Latin
    hypercube, each dimension's [0, 1) mapped onto a parameter's values (its choices, or
    its range: geometric where ``log``, on its step), a parameter whose ``when`` fails
    left out."""
    from scipy.stats import qmc

    from raysearch.search.simulation.grid import grid

    params = space.parameters
    rng = np.random.default_rng(seed)
    if all(p.type == "categorical" for p in params.values()):
        configs = grid(params)
        order: list[int] = []
        while len(order) < points:
            order += list(rng.permutation(len(configs)))
        return [dict(configs[i]) for i in order[:points]]
    cube = qmc.LatinHypercube(d=len(params), seed=rng).random(points)
    drawn = []
    for row in cube:
        config: dict[str, Any] = {}
        for u, (name, p) in zip(row, params.items(), strict=True):
            if p.allowed_by(config):
                config[name] = _at(p, float(u))
        drawn.append(config)
    return drawn


def _at(p: Any, u: float) -> Any:
    """The value of parameter ``p`` at ``u`` in [0, 1)."""
    if p.type == "categorical":
        return p.choices[min(int(u * len(p.choices)), len(p.choices) - 1)]
    low, high = p.bounds()
    if p.log:
        value = float(np.exp(np.log(low) + u * (np.log(high) - np.log(low))))
    else:
        value = low + u * (high - low)
    if p.step:
        value = min(low + round((value - low) / p.step) * p.step, high)
    if p.type == "int":
        return int(min(max(round(value), low), high))
    return float(value)
