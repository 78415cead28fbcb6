"""Checks of a curves table's rows and curves (search/simulation/table.py), each naming the
column, the value and where it is: by the row's configuration, seed and epoch, or by its
curve's configuration and seed."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from raysearch.core.numbers import plain

__all__ = [
    "Listed",
    "bad_cells",
    "epoch_gaps",
    "few",
    "listed_values",
    "misplaced_rows",
    "norm",
    "not_value",
    "not_whole",
    "unlisted_rows",
]


def norm(value: Any) -> Any:
    """A parameter value as a lookup key: NaN, None and pandas' NA alike (a parameter not
    active), numbers by value."""
    if value is None or value is pd.NA:  # NA: a nullable column's (Int64) missing value
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
        # to 10 significant digits: 1e-10 and 3e-10 stay apart (decimal places merged them)
        return None if math.isnan(number) else float(f"{number:.10g}")
    return str(value)


@dataclass(frozen=True)
class Listed:
    """The values a space lists for a parameter, as lookup keys (``norm``), and its ``when``
    (each condition's parameter and its values, as keys): a parameter with a ``when`` holds
    none (NaN) in the rows where its condition fails, and one of its values where it holds."""

    values: frozenset[Any]
    when: tuple[tuple[str, frozenset[Any]], ...] = ()

    @property
    def optional(self) -> bool:
        return bool(self.when)

    def holds(self, key: Any) -> bool:
        return key in self.values or (key is None and self.optional)

    def shown(self) -> list[Any]:
        return sorted(self.values, key=str)

    def condition(self) -> dict[str, Any]:
        """The ``when`` as a space file writes it: {parameter: value or [values]}."""
        return {
            name: next(iter(keys)) if len(keys) == 1 else sorted(keys, key=str)
            for name, keys in self.when
        }


def listed_values(space: Any) -> dict[str, Listed]:
    """What each categorical parameter of ``space`` may hold in a table's rows (a table
    cannot hold the others: ``not_categorical`` in table.py)."""
    return {
        name: Listed(
            frozenset(norm(v) for v in p.choices or []),
            tuple(
                (cond, frozenset(norm(v) for v in (e if isinstance(e, list) else [e])))
                for cond, e in p.when.items()
            ),
        )
        for name, p in space.parameters.items()
        if p.type == "categorical"
    }


def unlisted_rows(
    frame: pd.DataFrame, params: Sequence[str], listed: Mapping[str, Listed]
) -> list[str]:
    """One problem per value of a parameter that the space does not list (``listed``),
    with how many rows hold it and the first of them; the space's values that no row holds
    are said with the first problem of their parameter. ``frame``'s seeds and epochs are
    whole numbers. Such a row belongs to no curve the space draws, and grouped by its values
    it would split its curve in two, each blamed for its epochs."""
    problems = []
    for name in params:
        if name not in listed:
            continue
        rule = listed[name]
        codes, uniques = pd.factorize(frame[name], use_na_sentinel=False)  # NaN a value too
        keys = [norm(u) for u in uniques]  # in the order of their first rows
        absent = sorted(rule.values - set(keys), key=str)
        for j, key in enumerate(dict.fromkeys(k for k in keys if not rule.holds(k))):
            rows = np.flatnonzero(np.isin(codes, [c for c, k in enumerate(keys) if k == key]))
            many = f"{len(rows):,} rows, e.g. " if len(rows) > 1 else ""
            none = f" ({name} has no `when`: every row needs one of them)" if key is None else ""
            problems.append(
                f"{name}={'NaN' if key is None else repr(key)} is in the table but not among "
                f"the space's values {rule.shown()}{none}: in {many}row {rows[0] + 1} "
                f"({_row(frame, params, int(rows[0]))})"
                + (
                    f"; no row holds the space's {_values(name, absent)}"
                    if absent and not j
                    else ""
                )
            )
    return problems


def misplaced_rows(
    frame: pd.DataFrame, params: Sequence[str], listed: Mapping[str, Listed]
) -> list[str]:
    """The rows where a parameter with a ``when`` is NaN though its condition holds there
    (a trial with the row's values draws it), or holds a value though its condition fails
    (no trial draws it): one problem for each, with how many rows and the first of them.
    ``frame``'s values are the space's (``unlisted_rows`` finds none). Such a row belongs to
    no curve the space draws: one inside a curve would split it, blamed for its epochs."""
    problems = []
    for name in params:
        rule = listed.get(name)
        if rule is None or not rule.when or any(c not in frame.columns for c, _ in rule.when):
            continue
        holds = np.ones(len(frame), dtype=bool)
        for cond, keys in rule.when:
            holds &= frame[cond].map(lambda v, keys=keys: norm(v) in keys).to_numpy(dtype=bool)
        empty = frame[name].map(lambda v: norm(v) is None).to_numpy(dtype=bool)
        for wrong, what in (
            (holds & empty, "is NaN where its condition {} holds (a trial there draws it)"),
            (~holds & ~empty, "holds a value where its condition {} fails (no trial there "
             "draws it: leave it NaN)"),
        ):  # fmt: skip
            rows = np.flatnonzero(wrong)
            if len(rows):
                many = f"{len(rows):,} rows, e.g. " if len(rows) > 1 else ""
                problems.append(
                    f"{name} {what.format(rule.condition())}: in {many}row {rows[0] + 1} "
                    f"({_row(frame, params, int(rows[0]))})"
                )
    return problems


def _row(frame: pd.DataFrame, params: Sequence[str], i: int) -> str:
    """Row ``i``'s configuration, seed and epoch."""
    config = frame[list(params)].iloc[[i]].to_dict("records")[0]  # Python's numbers
    return f"{config}, seed {int(frame['seed'].iloc[i])}, epoch {int(frame['epoch'].iloc[i])}"


def _values(name: str, values: Sequence[Any]) -> str:
    return f"{name}={values[0]!r}" if len(values) == 1 else f"{name} values {list(values)}"


def epoch_gaps(epochs: np.ndarray) -> str | None:
    """What is wrong with a curve's epochs (distinct whole numbers, in order) where they are
    not 1..E, E the last of them: the first epochs missing from 1..E, with how many are, and
    those below 1; None if they are 1..E."""
    positive = [int(e) for e in epochs if e >= 1]
    below = [int(e) for e in epochs if e < 1]
    last = positive[-1] if positive else 0
    missing: list[str] = []
    for before, epoch in zip([0, *positive], positive, strict=False):
        missing += [str(e) for e in range(before + 1, min(epoch, before + 4))]
        if len(missing) >= 3:
            break
    found = []
    if missing:
        count = last - len(positive)
        found.append(f"{_epochs(missing, count)} missing from 1..{last}")
    if below:
        found.append(
            f"{_epochs([str(e) for e in below], len(below))} below 1 (epochs count from 1)"
        )
    return "; ".join(found) or None


def _epochs(shown: Sequence[str], total: int) -> str:
    return f"epoch {shown[0]} is" if total == 1 else f"epochs {few(shown, total)} are"


def not_value(frame: pd.DataFrame, column: str) -> str | None:
    """The parameter ``column`` must hold one value in every row (a number, string or bool,
    as a space's choices are): where it holds a list, array or mapping, named by the row's
    seed and epoch; None if it does."""
    raw = frame[column]
    wrong = np.flatnonzero(~raw.map(pd.api.types.is_scalar).to_numpy(dtype=bool)).tolist()
    if not wrong:
        return None
    got = [
        f"{_plain(raw.iloc[i])!r} at seed {_plain(frame['seed'].iloc[i])}, "
        f"epoch {_plain(frame['epoch'].iloc[i])}"
        for i in wrong[:3]
    ]
    return (
        f"{column} must hold one value per row (a number, string or bool, as the space's "
        f"choices are), got {few(got, len(wrong))}"
    )


def _plain(value: Any) -> Any:
    """``value`` as Python shows it: [1, 2], not array([1, 2]); 3, not np.int64(3)."""
    return value.tolist() if isinstance(value, np.ndarray) else plain(value)


def not_whole(frame: pd.DataFrame, column: str, other: str, params: Sequence[str]) -> str | None:
    """``column`` must hold a whole number in every row: where it does not, named by the
    row's configuration and ``other`` column; None if it does."""
    raw = frame[column]
    numbers = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    missing = raw.isna().to_numpy()
    wrong = ~missing & ~(np.isfinite(numbers) & (numbers == np.round(numbers)))

    def at(i: int) -> str:
        config = frame[list(params)].iloc[[i]].to_dict("records")[0]  # Python's numbers
        value = frame[other].iloc[i]
        shown = int(value) if isinstance(value, float) and value.is_integer() else value
        return f"{config}, {other} {shown}"

    found = []
    if missing.any():
        rows = np.flatnonzero(missing).tolist()
        found.append(
            f"{column} is missing in {len(rows):,} row{'s' * (len(rows) != 1)}: "
            + few([at(i) for i in rows[:3]], len(rows))
        )
    if wrong.any():
        rows = np.flatnonzero(wrong).tolist()
        got = [f"{raw.iloc[[i]].tolist()[0]!r} at {at(i)}" for i in rows[:3]]  # 0.5, not np.float64
        found.append(f"{column} must be a whole number, got {few(got, len(rows))}")
    return "; ".join(found) or None


def few(items: Sequence[str], total: int | None = None, shown: int = 3) -> str:
    """The first ``shown`` of ``items``, and how many there are (``total``, or ``items``)
    when that is not all."""
    total = len(items) if total is None else total
    more = f", ... ({total:,} in all)" if total > shown else ""
    return ", ".join(items[:shown]) + more


def bad_cells(column: pd.Series, bad: np.ndarray, rule: str) -> str | None:
    """``column`` breaks ``rule`` at the epochs ``bad`` marks (a curve's rows, epochs 1..E
    in order): the column, the rule and the values, or None if none is bad."""
    if not bad.any():
        return None
    cells = column.to_numpy()[bad]
    got = [
        f"{repr(v) if isinstance(v, str) else v} at epoch {e}"
        for v, e in zip(cells, np.flatnonzero(bad) + 1, strict=True)
    ]
    return f"{column.name} {rule}, got {few(got)}"
