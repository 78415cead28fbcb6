"""Flat hyperparameter names (as in space files and W&B) <-> fields of the trial config.

A name is either dotted (``loss.budget_beta``, ``data.synth.days``), an alias below, or a
field name that exists in exactly one section of the trial configuration. Values are
checked by the section configs' own validation, so a space file is checked by the same
rules a trial would apply.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping
from typing import Any

from raysearch.core.errors import ConfigError, close_names, did_you_mean
from raysearch.core.trial_config import SECTIONS, TrialConfig

__all__ = [
    "ALIASES",
    "build_trial_config",
    "check_param_value",
    "resolve_param",
]

ALIASES: dict[str, str] = {
    "loss_strategy": "loss.strategy",
    "size": "model.size",
    "model_size": "model.size",
    "learning_rate": "trainer.lr",
    "lr": "trainer.lr",
    "seed": "trainer.seed",
    "synth_days": "data.synth.days",
    "synth_raions": "data.synth.raions",
    "data_seed": "data.synth.seed",
}


def _fields(obj: Any) -> set[str]:
    return {f.name for f in dataclasses.fields(obj)}


def resolve_param(
    name: str,
    base: TrialConfig | None = None,
    *,
    not_offered: Mapping[tuple[str, ...], str] | None = None,
) -> tuple[tuple[str, ...], str | None]:
    """The path of ``name`` in the trial config, or an error message naming the valid ones
    (less the names of the paths ``not_offered``, which its caller refuses, each with why: a
    name closest to one of those is told what that one is, not steered to another field)."""
    base = base if base is not None else TrialConfig()
    dotted = ALIASES.get(name, name)
    if "." in dotted:
        path = tuple(dotted.split("."))
        node = base
        for part in path:
            if not dataclasses.is_dataclass(node) or part not in _fields(node):
                return (
                    path,
                    f"unknown parameter {name!r} (no field {part!r} in {type(node).__name__})",
                )
            node = getattr(node, part)
        return path, None
    owners = [s for s in SECTIONS if name in _fields(getattr(base, s))]
    if len(owners) == 1:
        return (owners[0], name), None
    if len(owners) > 1:
        options = ", ".join(f"{s}.{name}" for s in owners)
        return (), f"ambiguous parameter {name!r}: write one of {options}"
    refused = not_offered or {}
    names = valid_names(base, refused)
    why = {n: refused[p] for n in valid_names(base) if (p := resolve_param(n, base)[0]) in refused}
    # a refused name stays among the close ones, said with why: 'max_epoch' is not steered to
    # min_epochs alone, a field that does something else
    close = close_names(name, [*names, *why], n=3)
    offered = [c for c in close if c not in why]
    said = [did_you_mean(offered)] if offered else []
    said += [f"{c!r} {why[c]}" for c in close if c in why]
    maybe = f" ({' '.join(said)})" if said else ""
    return (), f"unknown parameter {name!r}{maybe}; valid names: {', '.join(names)}"


def valid_names(
    base: TrialConfig | None = None, not_offered: Collection[tuple[str, ...]] = ()
) -> list[str]:
    """The flat names of the trial config's fields, but for those of the paths
    ``not_offered``."""
    base = base if base is not None else TrialConfig()
    names = set(ALIASES)
    for s in SECTIONS:
        names |= _fields(getattr(base, s))
    return sorted(n for n in names if resolve_param(n, base)[0] not in not_offered)


def _apply(node: Any, updates: list[tuple[tuple[str, ...], Any]]) -> Any:
    """Replace all ``updates`` in one step, so validation sees the final combination."""
    direct: dict[str, Any] = {}
    nested: dict[str, list[tuple[tuple[str, ...], Any]]] = {}
    for path, value in updates:
        if len(path) == 1:
            direct[path[0]] = value
        else:
            nested.setdefault(path[0], []).append((path[1:], value))
    for key, sub in nested.items():
        direct[key] = _apply(getattr(node, key), sub)
    return dataclasses.replace(node, **direct)


def build_trial_config(values: Mapping[str, Any], base: TrialConfig | None = None) -> TrialConfig:
    """``base`` with every flat name in ``values`` set; all problems raised at once."""
    config = base if base is not None else TrialConfig()
    by_section: dict[str, list[tuple[tuple[str, ...], Any]]] = {}
    problems: list[str] = []
    for name, value in values.items():
        path, problem = resolve_param(name, config)
        if problem:
            problems.append(problem)
            continue
        by_section.setdefault(path[0], []).append((path[1:], value))
    nodes: dict[str, Any] = {}
    for section, updates in by_section.items():
        try:
            nodes[section] = _apply(getattr(config, section), updates)
        except ConfigError as err:
            problems.extend(err.problems)
        except TypeError as err:
            problems.append(f"{section}: {err}")
    if problems:
        raise ConfigError(problems, "trial configuration")
    # every section at once: checks across sections (A3DRO's warm-up against the trainer's
    # epochs) see the final combination, whatever order the values came in
    return dataclasses.replace(config, **nodes)


def check_param_value(name: str, value: Any, beside: Mapping[str, Any] | None = None) -> str | None:
    """None if ``name=value`` gives a valid trial config beside the values ``beside`` (a
    space's fixed ones: ``val_scheme: blocked`` needs the ``val_origins: 2`` fixed with
    it), else the problems it adds to theirs."""
    others = {k: v for k, v in (beside or {}).items() if k != name}
    problems = _problems({**others, name: value})
    if problems and others:
        theirs = set(_problems(others))
        problems = [p for p in problems if p not in theirs]
    return "; ".join(problems) or None


def _problems(values: Mapping[str, Any]) -> list[str]:
    try:
        build_trial_config(values)
    except ConfigError as err:
        return list(err.problems)
    return []
