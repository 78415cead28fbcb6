"""What a simulation runs, checked (``check_simulation``): the space with its settings, the
curves and the space to compare with, or one ``ConfigError`` listing every problem with the
arguments, each named as its user wrote it (``Names``: ``raysearch simulate``'s flags or
``simulate_search``'s keywords). raysearch/search/simulation/scaling.py runs the plan."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from raysearch.core.errors import ConfigError
from raysearch.core.metrics import VAL_METRIC
from raysearch.search.names import Names
from raysearch.search.settings import SearchSettings
from raysearch.search.simulation.curves import CurveSource
from raysearch.search.simulation.hartmann import HartmannCurves, hartmann_space
from raysearch.search.simulation.stopping import TrainerStopped
from raysearch.search.simulation.table import (
    TableCurves,
    TableError,
    check_space,
    not_categorical,
    read_table,
)
from raysearch.search.simulation.table_rows import listed_values
from raysearch.search.space import SearchSpace, load_space

__all__ = ["AFTER_THE_SEARCH", "CURVES", "SimulationPlan", "check_simulation"]

CURVES = ("hartmann",)  # the synthetic curve sources
# Settings of what follows a search, which a simulation of the search never runs
AFTER_THE_SEARCH = ("finalists", "replicates")
_TAKEN = tuple(k for k in SearchSettings.model_fields if k not in AFTER_THE_SEARCH)


@dataclass(frozen=True)
class SimulationPlan:
    """What a simulation runs, checked: the space (its settings given), the curves whole
    (what the rung table ranks), the source the searches run on (a table's curves end
    where the space's trainer would stop them) and the space ``against`` asks for (None:
    no comparison)."""

    space: SearchSpace
    curves: CurveSource
    source: CurveSource
    other: SearchSpace | None = None
    against: Mapping[str, Any] | None = None  # the settings ``other`` was given


def check_simulation(
    space: str | os.PathLike[str] | None,
    *,
    table: str | os.PathLike[str] | pd.DataFrame | None,
    curves: str | None,
    metric: str | None,
    against: Mapping[str, Any] | None,
    settings: Mapping[str, Any],
    names: Names,
    problems: Sequence[str] = (),
    against_said: Callable[[str | None], str] | None = None,
) -> SimulationPlan:
    """The plan of a simulation, or one ConfigError listing every problem with its
    arguments: ``problems`` (what the caller found already), ``against``'s and
    ``settings``' (each a mapping of setting to value; a None setting is one not given),
    then the space's and the curves'. ``against_said``: how a problem names ``against``'s
    setting (a key) or the whole (None) as its user wrote it (default: as Python does)."""
    said = against_said or _python_said(against)
    found = [*problems, *_settings_problems(settings, lambda key: key)]
    if against is not None:
        found += _settings_problems(against, said)
    if table is None and curves is None:
        found.append(
            f"give {names.example('table', 'CURVES_FILE')} (recorded curves) or "
            f"{names.option('curves', 'hartmann')}"
        )
    elif table is not None and curves is not None:
        found.append(f"{names.head('table')} and {names.head('curves')}: give one, not both")
    elif curves is not None and curves not in CURVES:
        found.append(f"{names.head('curves')}: expected one of {list(CURVES)}, got {curves!r}")
    else:  # the space and the curves, with the problems above
        given = {k: v for k, v in settings.items() if k in _TAKEN and v is not None}
        try:
            if curves is not None:
                space_, source = _hartmann(space, metric, given, names)
            else:
                assert table is not None  # one of the two, checked above
                space_, source = _table(space, table, metric, given, names)
        except ConfigError as err:
            raise ConfigError([*err.problems, *found], names.context) from None
    if found:
        raise ConfigError(found, names.context)
    other = None if against is None else _against(space_, source, against, names, said)
    stopped = TrainerStopped(source, space_) if table is not None else source
    return SimulationPlan(
        space_, source, stopped, other, None if against is None else dict(against)
    )


def _settings_problems(values: Mapping[str, Any], prefix: Callable[[str], str]) -> list[str]:
    """The settings in ``values`` that are not a space's search settings, or that a
    simulation would not use (what follows a search); ``prefix``: how a problem names one."""
    taken = ", ".join(_TAKEN)
    problems = []
    for key in values:
        if key in AFTER_THE_SEARCH:
            problems.append(
                f"{prefix(key)}: the simulation runs the search alone, not the finalists' "
                f"re-training after it, so {key} would change nothing; settings: {taken}"
            )
        elif key not in SearchSettings.model_fields:
            problems.append(f"{prefix(key)}: no setting {key!r}; settings: {taken}")
    return problems


def _hartmann(
    space: Any, metric: str | None, overrides: dict[str, Any], names: Names
) -> tuple[SearchSpace, CurveSource]:
    hartmann = names.option("curves", "hartmann")
    unused = [
        *(
            [f"{names.head('space')}: not used with {hartmann} (its space is x1..x6)"]
            if space is not None
            else []
        ),
        *(
            [f"{names.head('metric')}: not used with {hartmann} (it has one value, f(x))"]
            if metric is not None
            else []
        ),
    ]
    if unused:
        raise ConfigError(unused, names.context)
    source = HartmannCurves()
    space_ = hartmann_space(SearchSettings(num_samples=200, max_epochs=source.max_epochs))
    return space_.with_settings(**overrides), source


def _table(
    space: Any,
    table: str | os.PathLike[str] | pd.DataFrame,
    metric: str | None,
    overrides: dict[str, Any],
    names: Names,
) -> tuple[SearchSpace, CurveSource]:
    if space is None:
        raise ConfigError(
            [f"{names.head('space')}: required with a table (its parameters name its columns)"],
            names.context,
        )
    space_ = load_space(os.fspath(space), names=names).with_settings(**overrides)
    shown = "the DataFrame" if isinstance(table, pd.DataFrame) else str(table)
    try:
        params, listed = list(space_.parameters), listed_values(space_)
        metric = metric or VAL_METRIC
        if isinstance(table, pd.DataFrame):
            source = TableCurves(table, tuple(params), metric, name="table", listed=listed)
        else:
            source = read_table(Path(table), params, metric, listed)
    except TableError as err:
        # with what the space alone says is wrong, which may be why the table cannot be read
        problems = [f"{names.head('space')} {space}: {p}" for p in not_categorical(space_)]
        found = [f"{names.head('table')} {shown}: {p}" for p in err.problems]
        raise ConfigError([*problems, *found], names.context) from None
    if problems := check_space(source, space_):
        raise ConfigError([f"{names.head('table')} {shown}: {p}" for p in problems], names.context)
    return space_, source


def _python_said(against: Mapping[str, Any] | None) -> Callable[[str | None], str]:
    """How Python names ``against``'s settings: ``against['brackets']``, or the whole."""
    whole = f"against={dict(against or {})!r}"
    return lambda key: whole if key is None else f"against[{key!r}]"


def _against(
    space: SearchSpace,
    source: CurveSource,
    against: Mapping[str, Any],
    names: Names,
    said: Callable[[str | None], str],
) -> SearchSpace:
    head = names.head("against")
    try:
        other = space.replace_settings(**against)
    except ConfigError as err:
        raise ConfigError([f"{head}: {p}" for p in err.problems], names.context) from None
    if other.settings == space.settings:
        raise ConfigError([f"{said(None)}: the space's settings already are these"], names.context)
    if other.settings.max_epochs != source.max_epochs:  # before the first search runs
        raise ConfigError(
            [f"{said(None)}: max_epochs {other.settings.max_epochs}, but the curves have "
             f"{source.max_epochs} epochs"],
            names.context,
        )  # fmt: skip
    return other
