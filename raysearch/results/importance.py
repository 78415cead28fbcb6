"""Parameter importance of one run: Optuna's fANOVA on an in-memory study of its trials.

The per-trial training seed is left out (a replicate, not a hyperparameter).
Every trial that ended with a finite best_anchored_val_loss (completed or stopped by ASHA)
becomes a finished Optuna trial with that value. Conditional parameters (``when``) are
missing from the trials where their condition fails, and fANOVA needs every parameter in
every trial: importance is evaluated over the parameters present in all those trials, and
the report names the ones left out. Each parameter's distribution is its range or choices
as the run searched them (metadata.json's ``parameters``, ``run_space``), not the space file
as it may have been edited since; the observed values' where they fall outside.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from raysearch.core.errors import ConfigError
from raysearch.core.metrics import BEST_VAL_METRIC
from raysearch.core.numbers import plain
from raysearch.results.runs import RunData
from raysearch.results.trials import scored_trials
from raysearch.search.optuna_log import optuna_warnings_only
from raysearch.search.space import ParamSpec, load_space

__all__ = [
    "Importance",
    "RunSpace",
    "branch_importance",
    "conditional_groups",
    "param_importance",
    "run_space",
]

MIN_TRIALS = 3


@dataclass
class Importance:
    """fANOVA importances (summing to 1) and what was left out, and why."""

    values: dict[str, float] = field(default_factory=dict)
    n_trials: int = 0
    excluded: dict[str, str] = field(default_factory=dict)  # parameter -> reason
    note: str = ""  # why nothing could be evaluated, or where distributions came from


@dataclass(frozen=True)
class RunSpace:
    """The parameters a run searched, as fANOVA's distributions take them, and where they
    come from (the report says it)."""

    parameters: Mapping[str, ParamSpec]
    source: str


def run_space(run: RunData) -> RunSpace | None:
    """The parameters as the run searched them: metadata.json's record of them. A run that
    records none (from before they were recorded) gets its space file's, or its shipped
    space's, as they are now (its source says so); None when neither is found."""
    if run.parameters is not None:
        return RunSpace(run.parameters, "metadata.json's parameters, as the run searched them")
    now = "as it is now: metadata.json records no parameters (a run from before they were)"
    space_file = run.metadata.get("space_file")
    # a relative path is relative to where the search ran: found only from there
    if space_file and str(space_file).endswith((".yaml", ".yml")):
        if Path(space_file).is_file():
            with contextlib.suppress(ConfigError):  # edited since into no space at all
                space = load_space(str(space_file))
                return RunSpace(space.parameters, f"the space file {space.path} {now}")
    if name := run.metadata.get("space"):
        with contextlib.suppress(ConfigError):  # no shipped space of that name (any more)
            space = load_space(str(name))
            return RunSpace(space.parameters, f"the space {name} ({space.path}) {now}")
    return None


def _distribution(values: pd.Series, spec: Any | None) -> Any | None:
    """The Optuna distribution for ``values``: the space's when it holds them all."""
    # Deferred (and in _evaluate): Optuna takes a second to import, and `from raysearch
    # import *` reaches this module through compare_runs without the search stack
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    if spec is not None:
        if spec.type == "categorical" and set(values) <= set(spec.choices or []):
            return CategoricalDistribution(list(spec.choices))
        numeric = pd.to_numeric(values, errors="coerce")
        if spec.type != "categorical" and numeric.between(spec.low, spec.high).all():
            if spec.type == "int":
                return IntDistribution(int(spec.low), int(spec.high), log=spec.log)
            return FloatDistribution(float(spec.low), float(spec.high), log=spec.log)
    numeric = pd.to_numeric(values, errors="coerce")
    if numeric.notna().all() and values.map(lambda v: not isinstance(v, (bool, str))).all():
        low, high = float(numeric.min()), float(numeric.max())
        return FloatDistribution(low, high) if low < high else None
    choices = sorted({plain(v) for v in values}, key=str)
    return CategoricalDistribution(choices) if len(choices) > 1 else None


def _usable(run: RunData) -> pd.DataFrame:
    return scored_trials(run.trials, final=True)  # completed or stopped by ASHA


def param_importance(run: RunData, space: Any | None = None, seed: int = 0) -> Importance:
    """fANOVA importance of the parameters searched in ``run`` (``space``: its parameters,
    ``run_space``'s or a SearchSpace's; None: the observed ranges)."""
    return _evaluate(_usable(run), run.searched, space, seed)


def branch_importance(
    run: RunData, excluded: list[str], space: Any | None = None, seed: int = 0
) -> Importance:
    """Importance within the trials where every parameter in ``excluded`` (conditional
    ones left out of ``param_importance``) is set, e.g. among the a3dro trials."""
    usable = _usable(run)
    columns = [f"config/{name}" for name in excluded]
    subset = usable[usable[columns].notna().all(axis=1)] if columns else usable.iloc[:0]
    varying = [name for name in run.searched if subset[f"config/{name}"].astype(str).nunique() > 1]
    return _evaluate(subset, varying, space, seed)


def conditional_groups(run: RunData, names: list[str]) -> list[list[str]]:
    """``names`` grouped by the trials they are set in (one group per branch of a ``when``)."""
    usable = _usable(run)
    groups: dict[tuple[bool, ...], list[str]] = {}
    for name in names:
        key = tuple(usable[f"config/{name}"].notna())
        groups.setdefault(key, []).append(name)
    return list(groups.values())


def _evaluate(usable: pd.DataFrame, params: list[str], space: Any | None, seed: int) -> Importance:
    result = Importance(n_trials=len(usable))
    if not params:
        result.note = "no parameter varies across trials"
        return result
    if len(usable) < MIN_TRIALS:
        result.note = (
            f"needs >= {MIN_TRIALS} trials with a finite {BEST_VAL_METRIC}, got {len(usable)}"
        )
        return result
    distributions = {}
    for name in params:
        column = usable[f"config/{name}"]
        if column.isna().any():
            present = int(column.notna().sum())
            result.excluded[name] = f"conditional: set in {present} of {len(usable)} trials"
            continue
        spec = space.parameters.get(name) if space is not None else None
        dist = _distribution(column, spec)
        if dist is None:
            result.excluded[name] = "takes one value in the scored trials"
            continue
        distributions[name] = dist
    if not distributions:
        result.note = "no parameter is set in every scored trial"
        return result
    import optuna  # Deferred: see _distribution
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances

    study_trials = [
        optuna.trial.create_trial(
            params={n: plain(row[f"config/{n}"]) for n in distributions},
            distributions=distributions,
            value=float(row[BEST_VAL_METRIC]),
        )
        for _, row in usable.iterrows()
    ]
    with optuna_warnings_only():
        study = optuna.create_study(direction="minimize")
        study.add_trials(study_trials)
        found = get_param_importances(study, evaluator=FanovaImportanceEvaluator(seed=seed))
    result.values = {name: float(v) for name, v in found.items()}
    if len(result.values) == 1:
        result.note = "only one parameter: its importance is 1 by construction"
    if space is None:
        missing = (
            "metadata.json records no parameters and the run's space was not found: "
            "distributions are the observed ranges"
        )
        result.note = "; ".join(filter(None, [result.note, missing]))
    return result
