"""The searches compared with raysearch's that are not Ray Tune objects, as simulation
policies: Optuna alone (TPE + Optuna's Hyperband pruner, ask/tell) and W&B Sweeps' own engine
(the ``sweeps`` package: bayes search + hyperband early termination, run offline).

Both run on the same simulator, curves and space as raysearch's searches; k trials at once
means k trials asked and not yet told (Optuna: RUNNING trials, which TPE's constant liar
sees; W&B: runs in state ``running``, which its GP treats as fantasies).
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

__all__ = ["OptunaAlonePolicy", "SweepsPolicy"]


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
