"""Notes for runs compared though they are not alike, from what each run's metadata.json
records: the data it was measured on (``data_fingerprint``), the space it searched, how it
searched it (``settings``, ``fixed``, ``parameters``: the space as the run started with it)
and whether it went on from another run's trials (``warm_start``). The comparison report
puts them above its side-by-side table, and ``raysearch compare`` prints them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from raysearch.results.runs import RunData
from raysearch.search.settings import AFTER_SEARCH, recorded_unused

__all__ = ["data_of", "unlike_runs", "warm_start_of"]

# metadata.json's records of the space a run started with, and how a note names an entry
_RECORDED = (("settings", "setting"), ("fixed", "fixed value"), ("parameters", "parameter"))
# what a run shows for an entry its record lacks (a setting: an older run's record)
_ABSENT = {"settings": "not recorded", "fixed": "not fixed", "parameters": "not searched"}


def data_of(run: RunData) -> str | None:
    """The fingerprint of the data the run was measured on (None: not recorded)."""
    fingerprint = run.metadata.get("data_fingerprint")
    return str(fingerprint) if fingerprint else None


def warm_start_of(run: RunData) -> str | None:
    """The run whose trials this run's search went on from (metadata.json's
    ``warm_start``), or None for a search from scratch."""
    warm = run.metadata.get("warm_start")
    if not warm:
        return None
    return str(warm.get("run_dir", warm)) if isinstance(warm, dict) else str(warm)


def _by_value(runs: Sequence[RunData], value: Callable[[RunData], str]) -> str:
    """``runs`` grouped by ``value(run)``: "`a`, `b` on X; `c` on Y"."""
    return _grouped({f"`{run.name}`": value(run) for run in runs})


def _grouped(values: Mapping[str, str]) -> str:
    """Names grouped by their value: "a, b on X; c on Y" for {a: on X, b: on X, c: on Y}."""
    groups: dict[str, list[str]] = {}
    for name, value in values.items():
        groups.setdefault(value, []).append(name)
    return "; ".join(f"{', '.join(names)} {key}" for key, names in groups.items())


def _spec(spec: Any) -> str:
    """A recorded parameter as a note shows it: ``float [0, 0.9] when loss_strategy=a3dro``."""
    if not isinstance(spec, dict):
        return json.dumps(spec)
    kind = spec.get("type", "?")
    if spec.get("choices") is not None:
        shown = f"{kind} {json.dumps(spec['choices'])}"
    else:
        shown = f"{kind} [{spec.get('low')}, {spec.get('high')}]"
    shown += " log" if spec.get("log") else ""
    shown += f" step {spec['step']}" if spec.get("step") is not None else ""
    when = spec.get("when") or {}
    if isinstance(when, dict) and when:
        shown += " when " + ", ".join(f"{k}={json.dumps(v)}" for k, v in when.items())
    return shown


_NONE = object()  # what a run's record lacks (shown as ``_ABSENT`` says)


def _entry(run: RunData, field: str, name: str) -> Any:
    """What ``run`` records for ``name`` in metadata.json's ``field`` (a JSON object), or
    ``_NONE``."""
    return run.metadata[field].get(name, _NONE)


def _shown(field: str, value: Any) -> str:
    """A recorded entry as a note shows it."""
    if value is _NONE:
        return _ABSENT[field]
    return _spec(value) if field == "parameters" else json.dumps(value)


def _alike(values: Mapping[str, Any]) -> list[tuple[Any, list[str]]]:
    """The names grouped by equal values, each group with its first value: equal as
    ``--resume`` compares a run's record with its space (search/resume.py: ``==``, so a
    fixed 0 is 0.0, and a ``when`` is the same whatever its keys' order)."""
    groups: list[tuple[Any, list[str]]] = []
    for name, value in values.items():
        same = next((names for held, names in groups if held is value or held == value), None)
        if same is None:
            groups.append((value, [name]))
        else:
            same.append(name)
    return groups


def _set_aside(run: RunData, field: str) -> set[str]:
    """The entries of metadata.json's ``field`` that meant nothing in ``run``: the settings
    its scheduler, searcher or finalists set aside (``SearchSettings.unused``: the gate's
    under ``asha``, TPE's under ``random``, replicates without finalists)."""
    return recorded_unused(run.metadata[field]) if field == "settings" else set()


def _differences(runs: Sequence[RunData], field: str, what: str, names: Sequence[str]) -> list[str]:
    """Each of ``names`` in metadata.json's ``field`` the runs that record it and use it do
    not share, with each run's value (its first run's text for a group of equal values); a
    run that set it aside (``_set_aside``) is not compared on it."""
    recorded = [run for run in runs if isinstance(run.metadata.get(field), dict)]
    aside = {run.name: _set_aside(run, field) for run in recorded}
    differences = []
    for name in names:
        using = [run for run in recorded if name not in aside[run.name]]
        groups = _alike({f"`{run.name}`": _entry(run, field, name) for run in using})
        if len(groups) > 1:
            shown = "; ".join(f"{', '.join(n)} {_shown(field, v)}" for v, n in groups)
            differences.append(f"{what.capitalize()} `{name}`: {shown}")
    return differences


def _search_differences(runs: Sequence[RunData]) -> tuple[list[str], list[str]]:
    """Each setting (but those acting after the search: ``AFTER_SEARCH``), fixed value and
    searched parameter the runs that record them do not share, with each run's; and, apart,
    the records runs lack (a run's metadata.json from before they were recorded: every
    committed example's ``parameters``), in which they may differ, whether or not another
    run has the record."""
    differences, unrecorded = [], []
    for field, what in _RECORDED:
        recorded = [run for run in runs if isinstance(run.metadata.get(field), dict)]
        names = sorted({name for run in recorded for name in run.metadata[field]})
        if field == "settings":
            names = [name for name in names if name not in AFTER_SEARCH]
        differences += _differences(runs, field, what, names)
        if len(recorded) < len(runs):
            lacking = ", ".join(f"`{run.name}`" for run in runs if run not in recorded)
            unrecorded.append(f"No `{field}` recorded for {lacking} (they may differ)")
    return differences, unrecorded


def _search_notes(runs: Sequence[RunData]) -> list[str]:
    """The notes for runs of one space searched differently (or that may have been: a run
    that records no settings, fixed values or parameters), and for runs that re-trained
    their finalists differently after the search (``AFTER_SEARCH``)."""
    notes = []
    differences, unrecorded = _search_differences(runs)
    if differences or unrecorded:
        said, were = ("searched", "were") if differences else ("may have searched", "may have been")
        notes.append(
            f"**Note: these runs {said} {runs[0].space_name} differently** (metadata.json's "
            "`settings`, `fixed` and `parameters`, the space as each run started with it): "
            + ". ".join([*differences, *unrecorded])
            + ". Their values (best, epochs to best, anytime curves, per-strategy figures) "
            f"{were} reached under different searches: the side by side compares those "
            "searches, not two draws of one."
        )
    retrained = any(run.settings.get("finalists") != 0 for run in runs)  # 0: none
    if retrained and (after := _differences(runs, "settings", "setting", AFTER_SEARCH)):
        notes.append(
            "**Note: these runs differ in re-training their finalists after the search** "
            "(metadata.json's `settings` that act after it): "
            + ". ".join(after)
            + ". That changes only each run's pick (the side by side's pick column, "
            "best_config.yaml), not its search's values (best, epochs to best, anytime "
            "curves, per-strategy figures)."
        )
    return notes


def unlike_runs(runs: Sequence[RunData]) -> list[str]:
    """Notes for runs compared though they are not alike: measured on different data (or
    data not recorded: metadata.json's ``data_fingerprint``), from different spaces, from
    one space searched another way (its settings, fixed values or searched parameters), or
    going on from another run's trials (``warm_start``). An anchored loss is a ratio to
    reference predictors fitted on its run's own data, so values on different data do not
    compare; values reached under other settings, or with a head start, do not compare as
    the results of one search do. None for one run, or runs alike."""
    if len(runs) < 2:
        return []
    notes = []
    known = {data_of(run) for run in runs} - {None}
    unknown = [run for run in runs if data_of(run) is None]
    if len(known) > 1 or unknown:
        said = "were measured on different data" if len(known) > 1 else "may differ in data"
        notes.append(
            f"**Note: these runs {said}** (metadata.json's `data_fingerprint`): "
            + _by_value(
                runs,
                lambda r: f"on data {data_of(r)}" if data_of(r) else "on data not recorded",
            )
            + ". An anchored loss is a ratio to reference predictors fitted on its run's own "
            "data, so the values of runs on different data (best, anytime curves, "
            "per-strategy figures) do not compare: compare runs on the same data."
        )
    if len({run.space_name for run in runs}) > 1:
        notes.append(
            "**Note: these runs searched different spaces**: "
            + _by_value(runs, lambda r: f"searched {r.space_name}")
            + ". Each space sets its own parameters and settings (each run's section lists "
            "its settings): the side by side compares what each space's search found, not "
            "two searches of one space."
        )
    else:
        notes += _search_notes(runs)
    if warm := [run for run in runs if warm_start_of(run)]:
        notes.append(
            "**Note: "
            + ("these runs" if len(warm) > 1 else "a run")
            + " went on from another run's trials** (metadata.json's `warm_start`): "
            + "; ".join(f"`{run.name}` from {warm_start_of(run)}" for run in warm)
            + ". A warm-started search starts from what those trials had found: its anytime "
            "curve and epochs to best do not count the epochs they cost, so it is ahead of a "
            "search from scratch by that much."
        )
    return notes
