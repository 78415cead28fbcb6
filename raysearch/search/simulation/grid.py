"""A space as a grid: every combination of its categorical values (``grid``), a space
with float and int parameters made categorical (``discretized``), and a space written back
as a space file (``space_yaml``). Tables of recorded curves are indexed by such a grid."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import numpy as np
import yaml

from raysearch.core.errors import ConfigError
from raysearch.search.names import CURVES_API, Names

if TYPE_CHECKING:
    from raysearch.search.space import ParamSpec, SearchSpace

__all__ = ["discretized", "grid", "space_yaml"]


def grid(parameters: Mapping[str, ParamSpec]) -> list[dict[str, Any]]:
    """Every combination of categorical ``parameters`` (name -> ParamSpec), a parameter
    taking part only where its ``when`` holds; in the file's order."""
    not_grid = [n for n, p in parameters.items() if p.type != "categorical"]
    if not_grid:
        raise ValueError(f"a grid takes categorical parameters only, got {not_grid}")
    configs: list[dict[str, Any]] = [{}]
    for name, p in parameters.items():
        grown = []
        for config in configs:
            if p.allowed_by(config):
                grown += [{**config, name: value} for value in p.choices or []]
            else:
                grown.append(config)
        configs = grown
    return configs


def _spread(p: ParamSpec, points: int) -> list[int | float]:
    """``points`` values from a float or int parameter's low to its high (geometric where
    ``log``), on its step, without repeats; floats to 10 significant digits."""
    low, high = p.bounds()
    raw = np.geomspace(low, high, points) if p.log else np.linspace(low, high, points)
    values: list[int | float] = []
    for v in raw:
        if p.step:
            v = low + round((v - low) / p.step) * p.step
        value: int | float = round(v) if p.type == "int" else float(f"{v:.10g}")
        if value not in values:
            values.append(value)
    return values


def discretized(space: SearchSpace, points: int, names: Names = CURVES_API) -> SearchSpace:
    """``space`` with each float and int parameter made categorical: ``points`` values
    across its range (geometric where ``log``), its ``when`` kept; categorical parameters
    as they are; each start point moved to the nearest values. Curves recorded on it are
    what ``raysearch simulate`` runs on. ``names``: how an error names ``points``."""
    if points < 2:
        raise ConfigError(
            [f"{names.head('points')}: at least 2, got {points!r}"], "curve recording"
        )
    params = {
        name: p
        if p.type == "categorical"
        else p.model_copy(
            update={
                "type": "categorical",
                "choices": _spread(p, points),
                "low": None,
                "high": None,
                "log": False,
                "step": None,
            }
        )
        for name, p in space.parameters.items()
    }

    def nearest(name: str, value: Any) -> Any:
        if space.parameters.get(name) is None or space.parameters[name].type == "categorical":
            return value
        numbers = [c for c in params[name].choices or [] if isinstance(c, int | float)]
        return min(numbers, key=lambda c: abs(c - value))

    start = [{k: nearest(k, v) for k, v in point.items()} for point in space.start]
    return dataclasses.replace(space, parameters=params, start=start)


def space_yaml(space: SearchSpace, header: str) -> str:
    """A space file for ``space`` (its given settings, fixed values, parameters and start
    points), ``header`` as its opening comment."""
    body: dict[str, Any] = {}
    if space.description:
        body["description"] = space.description
    # a whole reduction_factor as its user wrote it (2, not the 2.0 the settings hold)
    body["settings"] = {
        k: int(v) if isinstance(v, float) and v.is_integer() else v
        for k, v in space.settings.given().items()
    }
    if space.fixed:
        body["fixed"] = space.fixed
    body["parameters"] = {
        name: p.model_dump(exclude_defaults=True) for name, p in space.parameters.items()
    }
    if space.start:
        body["start"] = space.start
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    return comment + yaml.safe_dump(body, sort_keys=False, default_flow_style=None)
