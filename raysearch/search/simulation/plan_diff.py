"""How two recordings' plans differ (``CurvePlan.recorded()`` records, kept in a partial
file's first line and a curve table's parquet metadata): what changes the curves (another
grid, seeds, epochs, fixed value, generator or dataset), and what only writes the same
plan otherwise (the grid in another order, 0 for 0.0, ``lr`` for ``trainer.lr``, a
default given). A plan written otherwise has another fingerprint but the same curves: a
recording of it is kept.

Fixed values are compared by the trial config field each name sets, a field not given
being at its default; the fields ``NOT_RECORDED`` change nothing a curve records.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from raysearch.core.files import json_values
from raysearch.core.params import resolve_param
from raysearch.core.trial_config import TrialConfig

__all__ = [
    "NOT_RECORDED",
    "changes",
    "config_id",
    "field_of",
    "fixed_changes",
    "held_plan",
    "same",
    "setting",
    "unlike_space",
    "written_otherwise",
]

# Fields whose value changes nothing a curve records: where a run trains, its data loader's
# processes, whether the test split is scored after training, and the seed (each run of a
# recording sets its own)
NOT_RECORDED = frozenset(
    ("trainer", n) for n in ("device", "num_workers", "score_test", "seed")
)  # fmt: skip


def config_id(config: Mapping[str, Any]) -> tuple[tuple[str, Any], ...]:
    """A configuration as a value that is the same however it is written: 0 and 0.0 are
    one, as Python compares them; a list value is a tuple."""
    return tuple(sorted((k, _hashable(v)) for k, v in config.items()))


def field_of(name: str) -> tuple[str, ...]:
    """The trial config field ``name`` sets (``lr``: ("trainer", "lr")); (name,) for a name
    that sets none here (a recording by another version)."""
    return resolve_param(name)[0] or (name,)


def setting(fixed: Mapping[str, Any], field: tuple[str, ...]) -> tuple[str | None, Any]:
    """The name ``fixed`` gives ``field`` by and its value; (None, the field's default)
    when it gives none."""
    for name, value in fixed.items():
        if field_of(name) == field:
            return name, value
    node: Any = TrialConfig()
    for part in field:
        node = getattr(node, part, _NO_DEFAULT)
    return None, node


def fixed_changes(
    before: Mapping[str, Any], now: Mapping[str, Any], *, leave: Iterable[tuple[str, ...]] = ()
) -> list[str]:
    """Each fixed value that trains otherwise, as 'name: <before> -> <now>' (the fields
    ``leave`` and ``NOT_RECORDED`` aside)."""
    fields = {field_of(k) for k in (*before, *now)} - NOT_RECORDED - set(leave)
    said = []
    for field in fields:
        (name, was), (other, value) = setting(before, field), setting(now, field)
        if not same(was, value):
            said.append(f"{other or name}: {_shown(name, was)} -> {_shown(other, value)}")
    return sorted(said)


def changes(before: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """How the plan ``now`` differs from the one ``before`` in what its curves are, one
    phrase per part that changed ([]: the same curves, however written)."""
    said = []
    was = {config_id(c) for c in before.get("configs", [])}
    becomes = {config_id(c) for c in now["configs"]}
    if was != becomes:
        new = [c for c in now["configs"] if config_id(c) not in was]  # the grid's order
        example = f", e.g. {new[0]}" if new else ""
        said.append(
            f"the grid: {len(was)} configurations then, {len(becomes)} now ({len(new)} new"
            f"{example}; {len(was - becomes)} no longer in it)"
        )
    for part in ("seeds", "epochs"):
        if before.get(part) != now[part]:
            said.append(f"{part}: {before.get(part)} then, {now[part]} now")
    if fixed := fixed_changes(before.get("fixed", {}), now["fixed"]):
        said.append("fixed values " + "; ".join(fixed))
    if before.get("generator") != now["generator"]:
        said.append(
            f"the synthetic data's generator: version {before.get('generator')} then, "
            f"{now['generator']} now"
        )
    if (then := before.get("data")) != now["data"]:
        if None not in (then, now["data"]):
            said.append("the data: the dataset's files changed since")
        else:
            kinds = ["synthetic" if d is None else "a dataset" for d in (then, now["data"])]
            said.append(f"the data: {kinds[0]} then, {kinds[1]} now")
    return said


def written_otherwise(before: Mapping[str, Any], now: Mapping[str, Any]) -> list[str]:
    """What differs in how two plans of the same curves (``changes`` finds nothing) are
    written: why their fingerprints differ."""
    said = []
    configs = (list(before.get("configs", [])), list(now["configs"]))
    if [config_id(c) for c in configs[0]] != [config_id(c) for c in configs[1]]:
        said.append("the grid's configurations in another order")
    by_id = {config_id(c): c for c in configs[0]}
    respelled = [(by_id[config_id(c)], c) for c in configs[1] if config_id(c) in by_id]
    if pair := next(((a, b) for a, b in respelled if _text(a) != _text(b)), None):
        said.append(f"grid values written otherwise ({pair[1]} for {pair[0]})")
    then = dict(before.get("fixed", {}))
    names = sorted(
        k for k in {*then, *now["fixed"]}
        if k not in then or k not in now["fixed"] or _text(then[k]) != _text(now["fixed"][k])
    )  # fmt: skip
    if names:
        said.append(f"fixed values {', '.join(names)} given otherwise, to the same curves")
    return said


def held_plan(
    held: Mapping[str, Any], key: str, recorded: Mapping[str, Any]
) -> tuple[str | None, str | None]:
    """A recording for the plan ``held`` (a partial file's head, a table's attrs) against
    the plan now (its fingerprint ``key`` and ``recorded()``): (why it is no recording of
    this plan, None) or, when it is one, (None, how it was written otherwise; None for the
    same fingerprint)."""
    if held.get("plan") == key:
        return None, None
    if not isinstance(then := held.get("recorded"), Mapping):  # recorded before it was kept
        old = f"plan {held.get('plan')!r}, now {key!r}"
        return f"recorded for another grid, seeds, epochs, fixed values or data ({old})", None
    if said := changes(then, recorded):
        return "recorded for another plan: " + "; ".join(said), None
    return None, "written otherwise (" + "; ".join(written_otherwise(then, recorded)) + ")"


def unlike_space(
    recorded: Mapping[str, Any],
    fixed: Mapping[str, Any],
    searched: Iterable[str],
    columns: Mapping[str, Sequence[Any]],
) -> list[str]:
    """How a space (its ``fixed`` values, early stopping's aside, and the names it
    ``searched``) trains otherwise than the curves of a table recorded for ``recorded``:
    its fixed values that differ from the recording's, and each field the recording's grid
    varied that the space does not search, where the table's column (``columns``: the
    values it holds) shows other values than the space trains with. A grid field whose
    column the table lacks (dropped after its rows were cut to one value, say) cannot say
    which value its curves trained with: it is refused unless every value the recording's
    grid gave it is the one the space trains with."""
    configs = list(recorded.get("configs", []))
    grid = {field_of(n): n for c in configs for n in c}
    problems = []
    if differ := fixed_changes(recorded.get("fixed", {}), fixed, leave=grid):
        problems.append(
            "its curves were recorded with other fixed values than the space's (the "
            f"table's -> the space's: {'; '.join(differ)}); record the space's own curves "
            "(raysearch curves), or set its fixed values to the table's"
        )
    for field, column in sorted(grid.items()):
        held = sorted({json.dumps(v) for v in json_values(list(columns.get(column, [])))})
        name, value = setting(fixed, field)
        if field in {field_of(n) for n in searched}:
            continue
        how = f"fixed as {name}" if name is not None else "its default"
        if not held:  # no column: the values the recording trained it with, if not the space's
            trained = _grid_values(configs, column, recorded.get("fixed", {}), field)
            if not all(same(v, value) for v in trained):
                problems.append(
                    f"the table has no column {column}, but its recording (the table's "
                    f"metadata) trained {column} with {', '.join(map(_value, trained))}, and "
                    f"the space does not search {column} and trains with {_value(value)} "
                    f"({how}): the table cannot say which of its curves trained with that; keep "
                    f"its column {column} (cut to the rows of one value) and fix {column} to "
                    "that value, or search it"
                )
            continue
        if any(not same(json.loads(h), value) for h in held):  # 0 for 0.0 is the same
            values = ", ".join(repr(json.loads(h)) for h in held)
            problems.append(
                f"its column {column} holds {values}, but the space does not search "
                f"{column} and trains with {value!r} ({how}): search it, or keep the rows "
                "of one value and fix it to that value"
            )
    return problems


def _grid_values(
    configs: Sequence[Mapping[str, Any]],
    column: str,
    fixed: Mapping[str, Any],
    field: tuple[str, ...],
) -> list[Any]:
    """The values a recording's grid (``configs``) trained ``column`` (the name of
    ``field``) with, in the grid's order: a configuration without it (a conditional
    parameter not active there) trained with the recording's ``fixed`` value or the
    field's default."""
    values: list[Any] = []
    for config in configs:
        value = config[column] if column in config else setting(fixed, field)[1]
        if not any(same(value, v) for v in values):
            values.append(value)
    return values


def same(a: Any, b: Any) -> bool:
    """``a`` and ``b`` are one value as a space file gives it: (-2.0, 2.0) and [-2.0, 2.0]
    are, as 0 and 0.0 are."""
    return bool(json_values(a) == json_values(b))


_NO_DEFAULT = object()  # a name that sets no field here: not set is a value of its own


def _hashable(value: Any) -> Any:
    return tuple(_hashable(v) for v in value) if isinstance(value, list | tuple) else value


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)


def _value(value: Any) -> str:
    return "not set" if value is _NO_DEFAULT else repr(value)


def _shown(name: str | None, value: Any) -> str:
    if name is not None:
        return repr(value)
    return "not set" if value is _NO_DEFAULT else f"not set ({value!r} by default)"
