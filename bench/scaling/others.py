"""The searches compared with raysearch's that are not Ray Tune objects, as simulation
policies: Optuna alone (TPE + Optuna's Hyperband pruner, ask/tell), W&B Sweeps' own engine
(the ``sweeps`` package: bayes search + hyperband early termination, run offline) and
syne-tune's asynchronous successive halving with its searchers.

All run on the same simulator, curves and space as raysearch's searches; k trials at once
means k trials asked and not yet told (Optuna: RUNNING trials, which TPE's constant liar
sees; W&B: runs in state ``running``, which its GP treats as fantasies; syne-tune: running
trials, which its model fits with their latest value once they have reported one).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["OptunaAlonePolicy", "SweepsPolicy", "SyneTunePolicy"]


class OptunaAlonePolicy:
    """Optuna without Ray: ``study.ask()``, define-by-run sampling of the space, ``report``
    and ``should_prune`` after each epoch, ``tell`` (the best value, or PRUNED)."""

    def __init__(self, space: Any, seed: int) -> None:
        import optuna

        s = space.settings
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(
                seed=seed,
                n_startup_trials=s.n_startup_trials,
                multivariate=True,
                group=True,
            )
        pruner = optuna.pruners.HyperbandPruner(
            min_resource=s.grace_period,
            max_resource=s.max_epochs,
            reduction_factor=int(s.reduction_factor),
        )
        optuna.logging.set_verbosity(optuna.logging.WARNING)
        # a fixed name: the Hyperband pruner assigns brackets by a hash of name and trial number
        self.study = optuna.create_study(
            study_name=f"sim-{seed}", direction="minimize", sampler=sampler, pruner=pruner
        )
        self.space, self.seed = space, seed
        self._trials: dict[str, Any] = {}
        self._best: dict[str, float] = {}

    def next_trial(self, trial_id: str) -> Mapping[str, Any] | None:
        from raysearch.search.simulation.engine import SEED_KEY

        trial = self.study.ask()
        self._trials[trial_id] = trial
        return {**self.space.sample(trial), SEED_KEY: self.seed + trial.number}

    def on_result(self, trial_id: str, epoch: int, value: float) -> bool:
        trial = self._trials[trial_id]
        self._best[trial_id] = min(value, self._best.get(trial_id, value))
        trial.report(value, epoch)
        return not trial.should_prune()

    def on_end(self, trial_id: str, stopped: bool) -> None:
        import optuna

        trial = self._trials.pop(trial_id)
        if stopped:
            self.study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            self.study.tell(trial, self._best[trial_id])


class SweepsPolicy:
    """W&B Sweeps' engine on raysearch's sweep config (``sweep_config(space)``: method
    bayes, hyperband early termination with ASHA's grace period and reduction factor).

    ``sweeps.next_run`` proposes each trial from all runs so far; after each epoch,
    ``sweeps.stop_runs`` says whether the reporting run stops (the W&B server checks
    running runs periodically; here at every report, which can only stop runs sooner).
    A stopped run is kept as ``finished`` with its history, which is what W&B's bayes
    search reads of a run the sweep stopped (it imputes only failed or killed runs).
    The sweeps package draws from NumPy's global generator: it is seeded once per run.
    A parameter whose ``when`` condition is false is dropped from the trial (W&B samples
    every parameter; raysearch's W&B runs drop them the same way).
    """

    def __init__(self, space: Any, seed: int) -> None:
        from raysearch.core.metrics import VAL_METRIC
        from raysearch.search.wandb_sweep import sweep_config

        self.config = sweep_config(space)
        self.metric = VAL_METRIC
        self.space, self.seed = space, seed
        self._runs: dict[str, Any] = {}
        self._numbers: dict[str, int] = {}
        np.random.seed(seed)

    def next_trial(self, trial_id: str) -> Mapping[str, Any] | None:
        import sweeps

        from raysearch.search.simulation.engine import SEED_KEY

        proposal = sweeps.next_run(self.config, list(self._runs.values()))
        if proposal is None:
            return None
        values = {k: v["value"] for k, v in proposal.config.items()}
        chosen: dict[str, Any] = {}
        for name, p in self.space.parameters.items():
            if p.allowed_by(chosen):
                value = values[name]
                chosen[name] = value.item() if isinstance(value, np.generic) else value
        run = sweeps.SweepRun(
            name=trial_id, config=proposal.config, state=sweeps.RunState.running, history=[]
        )
        self._runs[trial_id] = run
        self._numbers[trial_id] = len(self._numbers)
        return {**chosen, SEED_KEY: self.seed + self._numbers[trial_id]}

    def on_result(self, trial_id: str, epoch: int, value: float) -> bool:
        import sweeps

        run = self._runs[trial_id]
        run.history.append({self.metric: value, "_step": epoch})
        stopped = sweeps.stop_runs(self.config, list(self._runs.values()))
        return all(r.name != trial_id for r in stopped)

    def on_end(self, trial_id: str, stopped: bool) -> None:
        import sweeps

        run = self._runs[trial_id]
        run.state = sweeps.RunState.finished
        run.stopped = stopped


def _synetune_domain(p: Any) -> Any:
    """A raysearch parameter as a syne-tune domain."""
    from syne_tune import config_space as cs

    if p.type == "categorical":
        return cs.choice(list(p.choices))
    low, high = p.bounds()
    if p.type == "int":
        if p.step not in (None, 1):
            return cs.choice(list(range(int(low), int(high) + 1, int(p.step))))
        return cs.lograndint(int(low), int(high)) if p.log else cs.randint(int(low), int(high))
    if p.step is not None:
        return cs.finrange(low, high, round((high - low) / p.step) + 1)
    return cs.loguniform(low, high) if p.log else cs.uniform(low, high)


class SyneTunePolicy:
    """syne-tune's asynchronous successive halving with one of its searchers (``kde``: its
    BOHB, a model fitted on each trial's last value; ``random_search``: its ASHA). ASHA's
    grace period, reduction factor and brackets are the space's. syne-tune has no
    conditional parameters: every parameter is sampled and one whose ``when`` condition is
    false is dropped from the trial (as for W&B)."""

    METRIC, TIME = "value", "epoch"

    def __init__(self, space: Any, seed: int, searcher: str) -> None:
        from syne_tune.optimizer.schedulers.asha import AsynchronousSuccessiveHalving

        s = space.settings
        np.random.seed(seed)  # syne-tune draws each trial's bracket from NumPy's global
        self.scheduler = AsynchronousSuccessiveHalving(
            config_space={n: _synetune_domain(p) for n, p in space.parameters.items()},
            metric=self.METRIC,
            do_minimize=True,
            searcher=searcher,
            time_attr=self.TIME,
            max_t=s.max_epochs,
            grace_period=s.grace_period,
            reduction_factor=s.reduction_factor,
            brackets=s.brackets,
            random_seed=seed,
        )
        self.space, self.seed = space, seed
        self._trials: dict[str, Any] = {}
        self._last: dict[str, dict[str, float]] = {}

    def next_trial(self, trial_id: str) -> Mapping[str, Any] | None:
        import datetime

        from syne_tune.backend.trial_status import Trial

        from raysearch.search.simulation.engine import SEED_KEY

        suggestion = self.scheduler.suggest()
        if suggestion is None:
            return None
        number = len(self._trials)
        trial = Trial(number, suggestion.config, datetime.datetime.now())
        self.scheduler.on_trial_add(trial)
        self._trials[trial_id] = trial
        chosen: dict[str, Any] = {}
        for name, p in self.space.parameters.items():
            if p.allowed_by(chosen):
                value = suggestion.config[name]
                chosen[name] = value.item() if isinstance(value, np.generic) else value
        return {**chosen, SEED_KEY: self.seed + number}

    def on_result(self, trial_id: str, epoch: int, value: float) -> bool:
        from syne_tune.optimizer.scheduler import SchedulerDecision

        result = {self.METRIC: value, self.TIME: epoch}
        self._last[trial_id] = result
        decision = self.scheduler.on_trial_result(self._trials[trial_id], result)
        return bool(decision == SchedulerDecision.CONTINUE)

    def on_end(self, trial_id: str, stopped: bool) -> None:
        trial = self._trials[trial_id]
        if stopped:
            self.scheduler.on_trial_remove(trial)
        else:
            self.scheduler.on_trial_complete(trial, self._last.pop(trial_id))
