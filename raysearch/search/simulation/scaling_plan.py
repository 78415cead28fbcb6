"""What a simulation runs, checked (``check_simulation``): the space with its settings, the
curves and the space to compare with, or one ``ConfigError`` listing every problem with the
arguments, each named as its user wrote it (``Names``: ``raysearch simulate``'s flags or
``simulate_search``'s keywords). raysearch/search/simulation/scaling.py runs the plan."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from raysearch.core.errors import ConfigError, close_names, did_you_mean
from raysearch.core.files import why_no_file
from raysearch.core.metrics import VAL_METRIC
from raysearch.core.numbers import plain
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
    not_found,
    read_table,
)
from raysearch.search.simulation.table_rows import listed_values
from raysearch.search.space import SearchSpace, load_space

__all__ = [
    "AFTER_THE_SEARCH",
    "CURVES",
    "FORMATS",
    "SimulationPlan",
    "check_simulation",
    "plain",
    "plot_problem",
]

CURVES = ("hartmann",)  # the synthetic curve sources
HARTMANN_METRIC = "f(x)"  # what augmented Hartmann's curves report
# Settings of what follows a search, which a simulation of the search never runs
AFTER_THE_SEARCH = ("finalists", "replicates")
FORMATS = ("png", "pdf", "svg")  # a plot's file, told by its suffix


def plot_problem(path: str | os.PathLike[str]) -> str | None:
    """Why the figure cannot be written to ``path`` (None: it can): a suffix that names no
    format it is written in, a directory there, or a file in the way of one to make."""
    suffix = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
    if suffix not in FORMATS:
        return f"expected a file ending in {', '.join('.' + f for f in FORMATS)}, got {path}"
    return why_no_file(path)


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
    metric: str = HARTMANN_METRIC  # what the curves' values are (a table's column)


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
    keywords: Sequence[str] = (),
) -> SimulationPlan:
    """The plan of a simulation, or one ConfigError listing every problem with its
    arguments: ``problems`` (what the caller found already), ``settings``' (the search
    settings given, each set to its value, None included) and ``against``'s, the space's,
    the curves' and the compared space's. ``against_said``: how a problem names
    ``against``'s setting (a key) or the whole (None) as its user wrote it (default: as
    Python does); ``keywords``: the caller's other arguments, which a misspelt setting may
    have meant."""
    found = list(problems)
    given = {k: plain(v) for k, v in settings.items()}
    found += _settings_problems(given, lambda key: key, keywords)
    if against is not None and not isinstance(against, Mapping):
        found.append(
            f"{names.head('against')}: expected a dict of setting to value, e.g. "
            f"{{'scheduler': 'asha'}}, got {against!r}"
        )
        against = None
    said = against_said or _python_said(against)
    if against is not None:
        against = {k: plain(v) for k, v in against.items()}
        found += _settings_problems(against, said)
    typed = [
        (name, kinds)
        for name, value, kinds, ok in (
            ("space", space, "a space's name or a path", (str, os.PathLike)),
            ("table", table, "a path or a DataFrame of curves", (str, os.PathLike, pd.DataFrame)),
            ("curves", curves, f"one of {list(CURVES)}", (str,)),
            ("metric", metric, "a column's name", (str,)),
        )
        if value is not None and not isinstance(value, ok)
    ]
    if typed:  # what there is to read is unknown
        shown = {"space": space, "table": table, "curves": curves, "metric": metric}
        found += [f"{names.head(n)}: expected {kinds}, got {shown[n]!r}" for n, kinds in typed]
        _raise(found, names)
    settable = {k: v for k, v in given.items() if k in _TAKEN}
    space_: SearchSpace | None = None  # with the settings given
    base: SearchSpace | None = None  # as its file has it: against is checked on it if need be
    source: CurveSource | None = None
    if table is None and curves is None:
        found.append(
            f"give {names.example('table', 'CURVES_FILE')} (recorded curves) or "
            f"{names.option('curves', 'hartmann')}"
        )
    elif table is not None and curves is not None:
        found.append(f"{names.head('table')} and {names.head('curves')}: give one, not both")
    elif curves is not None and curves not in CURVES:
        found.append(f"{names.head('curves')}: expected one of {list(CURVES)}, got {curves!r}")
    elif curves is not None:
        space_, source, base = _hartmann(space, metric, settable, names, found)
    else:
        assert table is not None  # one of the two, checked above
        space_, source, base = _table(space, table, metric, settable, names, found)
    other = None
    checked = space_ or base
    if against is not None and checked is not None:
        other = _against(checked, source, against, names, said, found)
    if found or space_ is None or source is None:
        return _raise(found, names)
    stopped = TrainerStopped(source, space_) if table is not None else source
    metric_ = source.metric if isinstance(source, TableCurves) else HARTMANN_METRIC
    return SimulationPlan(space_, source, stopped, other, against, metric_)


def _raise(found: list[str], names: Names) -> NoReturn:
    raise ConfigError(found, names.context)


def _settings_problems(
    values: Mapping[str, Any], prefix: Callable[[str], str], keywords: Sequence[str] = ()
) -> list[str]:
    """The settings in ``values`` that are not a space's search settings, or that a
    simulation would not use (what follows a search); ``prefix``: how a problem names one;
    ``keywords``: other names a misspelt one may mean."""
    taken = ", ".join(_TAKEN)
    problems = []
    for key in values:
        if key in AFTER_THE_SEARCH:
            problems.append(
                f"{prefix(key)}: the simulation runs the search alone, not the finalists' "
                f"re-training after it, so {key} would change nothing; settings: {taken}"
            )
        elif key not in SearchSettings.model_fields:
            close = close_names(key, [*keywords, *_TAKEN])
            hint = did_you_mean(close) if close else f"settings: {taken}"
            problems.append(f"{prefix(key)}: no setting {key!r}; {hint}")
    return problems


def _hartmann(
    space: Any, metric: str | None, settings: dict[str, Any], names: Names, found: list[str]
) -> tuple[SearchSpace | None, CurveSource, SearchSpace]:
    """Augmented Hartmann's space with ``settings`` (None: they are wrong), its curves and
    its space as it is; problems to ``found``."""
    hartmann = names.option("curves", "hartmann")
    if space is not None:
        found.append(f"{names.head('space')}: not used with {hartmann} (its space is x1..x6)")
    if metric is not None:
        found.append(f"{names.head('metric')}: not used with {hartmann} (it has one value, f(x))")
    source = HartmannCurves()
    base = hartmann_space(SearchSettings(num_samples=200, max_epochs=source.max_epochs))
    space_ = _with_settings(base, settings, names, found)
    if space_ is not None and space_.settings.max_epochs != source.max_epochs:
        epochs = space_.settings.max_epochs
        found.append(
            f"{names.option('max_epochs', epochs)}: the {hartmann} curves have "
            f"{source.max_epochs} epochs"
        )
    return space_, source, base


def _with_settings(
    space: SearchSpace, settings: dict[str, Any], names: Names, found: list[str]
) -> SearchSpace | None:
    """``space`` with ``settings`` (None: they are wrong); problems to ``found``, a
    setting's own named as its user gave it (``--cutoff-window: ...``)."""
    try:
        return space.replace_settings(**settings)
    except ConfigError as err:
        for problem in err.problems:
            field, sep, why = problem.partition(": ")
            found.append(f"{names.head(field)}: {why}" if sep and field in settings else problem)
        return None


def _table(
    space: Any,
    table: str | os.PathLike[str] | pd.DataFrame,
    metric: str | None,
    settings: dict[str, Any],
    names: Names,
    found: list[str],
) -> tuple[SearchSpace | None, CurveSource | None, SearchSpace | None]:
    """The space with ``settings``, the table's curves and the space as its file has it
    (each None where it cannot be had); problems to ``found``: the space file's, the
    settings', the table's (read with the space's parameters) and how the two disagree."""
    frame = isinstance(table, pd.DataFrame)
    shown = f"{names.head('table')} (a DataFrame)" if frame else names.option("table", table)
    loaded = None
    if space is None:
        found.append(
            f"{names.head('space')}: required with a table (its parameters name its columns)"
        )
    else:
        try:
            loaded = load_space(os.fspath(space), names=names)
        except ConfigError as err:  # the space file's own problems: said as the space's
            mine = err.context == names.context  # these name the option already
            found += [p if mine else f"{names.head('space')}: {p}" for p in err.problems]
    if loaded is None:  # the table's columns are the space's: say only if it is missing
        path = None if frame else Path(table)  # type: ignore[arg-type]
        if path is not None and not path.is_file():
            found.append(f"{shown}: " + ("is a directory" if path.is_dir() else not_found(path)))
        return None, None, None
    space_ = _with_settings(loaded, settings, names, found)
    try:
        params, listed = list(loaded.parameters), listed_values(loaded)
        metric = metric or VAL_METRIC
        if isinstance(table, pd.DataFrame):
            source = TableCurves(table, tuple(params), metric, name="table", listed=listed)
        else:
            source = read_table(Path(table), params, metric, listed)
    except TableError as err:
        # with what the space alone says is wrong, which may be why the table cannot be read
        said = names.option("space", os.fspath(space))
        found += [f"{said}: {p}" for p in not_categorical(loaded)]
        found += [f"{shown}: {p}" for p in err.problems]
        return space_, None, loaded
    found += [f"{shown}: {p}" for p in check_space(source, space_ or loaded)]
    return space_, source, loaded


def _python_said(against: Mapping[str, Any] | None) -> Callable[[str | None], str]:
    """How Python names ``against``'s settings: ``against['brackets']``, or the whole."""
    whole = f"against={dict(against or {})!r}"
    return lambda key: whole if key is None else f"against[{key!r}]"


def _against(
    space: SearchSpace,
    source: CurveSource | None,
    against: Mapping[str, Any],
    names: Names,
    said: Callable[[str | None], str],
    found: list[str],
) -> SearchSpace | None:
    """The space with ``against``'s settings; problems to ``found`` (with the curves, also
    a max_epochs they do not have)."""
    settable = {k: v for k, v in against.items() if k in _TAKEN}
    if len(settable) < len(against):  # a setting it has not: said already
        return None
    try:
        other = space.replace_settings(**settable)
    except ConfigError as err:
        found += [f"{names.head('against')}: {p}" for p in err.problems]
        return None
    if other.settings == space.settings:
        found.append(f"{said(None)}: the space's settings already are these")
    elif source is not None and other.settings.max_epochs != source.max_epochs:
        found.append(
            f"{said(None)}: max_epochs {other.settings.max_epochs}, but the curves have "
            f"{source.max_epochs} epochs"
        )
    return other
