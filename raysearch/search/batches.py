"""The batch sizes a space's trials may take, and what each must fit before Ray starts: the
trial's workers (each takes an equal share of a batch: ``check_batches``) and the training
split (whole batches of it: ``search.plan.check_data_extremes``)."""

from __future__ import annotations

from typing import Any

from raysearch.core.errors import ConfigError
from raysearch.core.params import resolve_param
from raysearch.search.options import RunOptions
from raysearch.search.parameter import ParamSpec
from raysearch.search.space import SearchSpace
from raysearch.search.trainable import TrialSetup, trial_config

__all__ = ["batch_sizes", "check_batches", "edges"]


def check_batches(space: SearchSpace, setup: TrialSetup, options: RunOptions) -> None:
    """Every batch size a trial may take must split evenly over the trial's workers: the
    fixed or default one, each choice of a searched one, every draw of a searched range."""
    workers = options.workers_per_trial
    problems = []
    for where, batch, spec in batch_sizes(space, setup):
        if batch % workers and (spec is None or spec.type != "int"):  # a range's: below
            problems.append(
                f"{options.names.option('workers_per_trial', workers)}: each worker takes an "
                f"equal share of a batch, and batch_size {batch} ({where}) is not divisible "
                f"by {workers}"
            )
    for name, spec in _searched_batch(space):
        step = int(spec.step or 1)
        if spec.type == "int" and (int(spec.bounds()[0]) % workers or step % workers):
            problems.append(
                f"{options.names.option('workers_per_trial', workers)}: each worker takes an "
                f"equal share of a batch, and search space parameter {name!r} draws batch "
                f"sizes from {int(spec.bounds()[0])} in steps of {step}, not all divisible by "
                f"{workers}; give a low and a step that are"
            )
    if problems:
        raise ConfigError(problems, options.names.context)


def _searched_batch(space: SearchSpace) -> list[tuple[str, ParamSpec]]:
    """The space's parameters that search the batch size (with its name there)."""
    return [
        (name, spec)
        for name, spec in space.parameters.items()
        if resolve_param(name)[0] == ("trainer", "batch_size")
    ]


def batch_sizes(space: SearchSpace, setup: TrialSetup) -> list[tuple[str, int, ParamSpec | None]]:
    """Every batch size a trial may take at its edges, with where it comes from and the
    parameter searching it (None: a value taken as it is): a searched batch size's choices,
    or the least and greatest a range draws (its high lowered to its step's grid, as
    Optuna does); each start point's (Optuna takes one off the grid as it is); the fixed
    value or the default where nothing searches it, or only under a condition (the other
    trials take it)."""
    searched = _searched_batch(space)
    sizes: list[tuple[str, int, ParamSpec | None]] = [
        (f"search space parameter {name!r}: {value}", value, spec)
        for name, spec in searched
        for value in _drawn_edges(spec)
    ]
    sizes += [  # named as the space file's own checks name them
        (f"start[{i}]: {point[name]}", point[name], None)
        for i, point in enumerate(space.start)
        for name, _ in searched
        if name in point
    ]
    if not searched or any(spec.when for _, spec in searched):
        fixed = trial_config(setup, {}).trainer.batch_size
        sizes.append(("the space's fixed value or the default", fixed, None))
    return sizes


def _drawn_edges(spec: ParamSpec) -> list[Any]:
    """The least and greatest values a parameter draws: each choice, or a range's bounds
    (an int range's high lowered to its step's grid, as Optuna lowers it)."""
    if spec.type != "int":
        return edges(spec)
    low, high = (int(b) for b in spec.bounds())
    step = int(spec.step or 1)
    return [low, low + (high - low) // step * step]


def edges(spec: ParamSpec) -> list[Any]:
    """The values of a parameter at its edges: each choice, or its two bounds."""
    if spec.type == "categorical":
        return list(spec.choices or [])
    return [int(b) if spec.type == "int" else b for b in spec.bounds()]
