"""A table of recorded learning curves as a curve source (e.g. the HAN table).

Long format, one row per (configuration, seed, epoch): a column per searched parameter
(NaN where a conditional parameter is inactive), ``seed``, ``epoch`` (1..E), the metric
(lower is better) and the epoch's duration in seconds. A sampled configuration is looked up
by its parameter values; a trial seed picks one of the recorded seeds (seed mod their
number), so replicates of a configuration see the seed-to-seed spread the table holds. A
configuration the table does not hold is refused, naming the value.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from raysearch.search.simulation.curves import Curve
from raysearch.search.simulation.grid import grid

__all__ = ["TableCurves", "TableError", "check_space", "not_categorical", "read_table"]

Key = tuple[Any, ...]


class TableError(ValueError):
    """A table that cannot be simulated: its name (the file's) and each of its problems."""

    def __init__(self, name: str, problems: Sequence[str]) -> None:
        self.name = name
        self.problems = list(problems)
        super().__init__(f"{name}: {'; '.join(self.problems)}")


def _norm(value: Any) -> Any:
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
class TableCurves:
    """Curves of ``metric`` per configuration of ``params``, read from ``frame``."""

    frame: pd.DataFrame
    params: tuple[str, ...]
    metric: str = "anchored_val_loss"
    seconds: str = "epoch_time_s"
    name: str = "table"

    def __post_init__(self) -> None:
        need = [*self.params, "seed", "epoch", self.metric, self.seconds]
        missing = [c for c in need if c not in self.frame.columns]
        if missing:
            raise TableError(
                self.name,
                [f"missing column(s) {missing}; the table has {list(self.frame.columns)}"],
            )
        keys = [*self.params, "seed", "epoch"]
        if self.metric in {*keys, self.seconds}:
            measured = [c for c in self.frame.columns if c not in {*keys, self.seconds}]
            raise TableError(
                self.name,
                [
                    f"the metric {self.metric!r} is a column that names a curve or times it, "
                    "not one that measures it; the table's other columns: "
                    f"{', '.join(measured) or '(none)'}"
                ],
            )
        unhashed = [_not_value(self.frame, p) for p in self.params]
        if any(unhashed):  # a list cannot key a curve: pandas would fail to group by it
            raise TableError(self.name, [u for u in unhashed if u])
        unkeyed = [_not_whole(self.frame, c, o, self.params) for c, o in _RUN_KEYS]
        if any(unkeyed):  # not grouped by them: a run split at a missing seed blames its epochs
            raise TableError(self.name, [u for u in unkeyed if u])
        frame = self.frame.assign(  # whole numbers: a curve is seed 1, epochs [1, 2], not 1.0
            **{c: pd.to_numeric(self.frame[c]).astype(int) for c, _ in _RUN_KEYS}
        )
        shared = frame.duplicated(keys, keep=False)
        if shared.any():
            # the configurations differ in columns not named: each curve would mix several
            others = [c for c in frame.columns if c not in {*need, *keys}]
            raise TableError(
                self.name,
                [
                    f"{int(shared.sum()):,} rows share their {', '.join(self.params)}, seed "
                    "and epoch with another row: its configurations differ in columns the "
                    "space does not search (search every parameter the table varies), or rows "
                    "repeat" + (f"; its other columns: {', '.join(others)}" if others else "")
                ],
            )
        curves: dict[Key, dict[int, Curve]] = {}
        lengths: dict[str, int] = {}  # each curve's epochs, by where it is
        problems: list[str] = []
        ordered = frame.sort_values("epoch", kind="stable")
        for group, rows in ordered.groupby([*self.params, "seed"], dropna=False, sort=True):
            *values, seed = group
            key = tuple(_norm(v) for v in values)
            where = f"{dict(zip(self.params, values, strict=True))}, seed {seed}"
            epochs = rows["epoch"].to_numpy()
            if not np.array_equal(epochs, np.arange(1, len(epochs) + 1)):
                problems.append(f"{where}: epochs {epochs.tolist()} are not 1..{len(epochs)}")
                continue
            metric = pd.to_numeric(rows[self.metric], errors="coerce").to_numpy(dtype=float)
            seconds = pd.to_numeric(rows[self.seconds], errors="coerce").to_numpy(dtype=float)
            bad = [
                _bad_cells(rows[self.metric], ~np.isfinite(metric), "must be a finite number"),
                _bad_cells(rows[self.seconds], ~(seconds > 0), "must be > 0 s"),
            ]
            if any(bad):  # the column named: Curve's own message cannot say which it was
                problems += [f"{where}: {b}" for b in bad if b]
                continue
            try:
                curve = Curve(metric, seconds)
            except ValueError as err:
                problems.append(f"{where}: {err}")
                continue
            curves.setdefault(key, {})[cast(int, seed)] = curve
            lengths[where] = curve.epochs
        counts = Counter(lengths.values())
        if len(counts) > 1:  # name the curves of other lengths than most have
            usual = max(counts, key=lambda epochs: (counts[epochs], epochs))
            odd = [f"{w} ({e} epoch{'s' * (e != 1)})" for w, e in lengths.items() if e != usual]
            problems.append(
                f"curves of different lengths {sorted(counts)}: every curve needs the same "
                f"epochs, and {len(odd)} of the {len(lengths)} curves "
                f"differ{'s' * (len(odd) == 1)} from the others' {usual} epochs: {_few(odd)}"
            )
        if problems:
            more = [f"... ({len(problems)} in all)"] if len(problems) > 5 else []
            raise TableError(self.name, problems[:5] + more)
        if not curves:
            raise TableError(self.name, ["the table holds no curves"])
        object.__setattr__(self, "_curves", curves)
        object.__setattr__(self, "_epochs", counts.popitem()[0])

    @property
    def max_epochs(self) -> int:
        return self._epochs  # type: ignore[attr-defined]

    @property
    def optimum(self) -> float:
        return float(self.frame[self.metric].min())

    @property
    def configurations(self) -> list[dict[str, Any]]:
        return [dict(zip(self.params, key, strict=True)) for key in self._curves]  # type: ignore[attr-defined]

    def key(self, config: Mapping[str, Any]) -> Key:
        """The lookup key of a configuration (its values as ``_norm`` keeps them)."""
        return tuple(_norm(config.get(p)) for p in self.params)

    def keys(self) -> list[Key]:
        """The keys of every configuration the table holds."""
        return list(self._curves)  # type: ignore[attr-defined]

    def curve(self, config: Mapping[str, Any], seed: int) -> Curve:
        key = self.key(config)
        by_seed = self._curves.get(key)  # type: ignore[attr-defined]
        if by_seed is None:
            raise ValueError(f"{self.name}: no curves for {self._describe_miss(key)}")
        seeds = sorted(by_seed)
        return by_seed[seeds[seed % len(seeds)]]

    def _describe_miss(self, key: Key) -> str:
        """Name the first parameter whose value the table lacks, given the ones before."""
        held = list(self._curves)  # type: ignore[attr-defined]
        for i, name in enumerate(self.params):
            options = {k[i] for k in held}
            if key[i] not in options:
                shown = ", ".join("NaN" if o is None else repr(o) for o in sorted(options, key=str))
                where = ", ".join(
                    f"{p}={v!r}" for p, v in zip(self.params[:i], key[:i], strict=True)
                )
                return (
                    f"{name}={'NaN' if key[i] is None else repr(key[i])}"
                    + (f" (with {where})" if where else "")
                    + f"; the table holds {shown}"
                )
            held = [k for k in held if k[i] == key[i]]
        return f"configuration {dict(zip(self.params, key, strict=True))}"


_RUN_KEYS = (("seed", "epoch"), ("epoch", "seed"))  # a row's run and epoch, each named by the other


def _not_value(frame: pd.DataFrame, column: str) -> str | None:
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
        f"choices are), got {_few(got, len(wrong))}"
    )


def _plain(value: Any) -> Any:
    """``value`` as Python shows it: [1, 2], not array([1, 2]); 3, not np.int64(3)."""
    return value.tolist() if isinstance(value, np.ndarray | np.generic) else value


def _not_whole(frame: pd.DataFrame, column: str, other: str, params: Sequence[str]) -> str | None:
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
            + _few([at(i) for i in rows[:3]], len(rows))
        )
    if wrong.any():
        rows = np.flatnonzero(wrong).tolist()
        got = [f"{raw.iloc[[i]].tolist()[0]!r} at {at(i)}" for i in rows[:3]]  # 0.5, not np.float64
        found.append(f"{column} must be a whole number, got {_few(got, len(rows))}")
    return "; ".join(found) or None


def _few(items: Sequence[str], total: int | None = None, shown: int = 3) -> str:
    """The first ``shown`` of ``items``, and how many there are (``total``, or ``items``)
    when that is not all."""
    total = len(items) if total is None else total
    more = f", ... ({total:,} in all)" if total > shown else ""
    return ", ".join(items[:shown]) + more


def _bad_cells(column: pd.Series, bad: np.ndarray, rule: str) -> str | None:
    """``column`` breaks ``rule`` at the epochs ``bad`` marks (a curve's rows, epochs 1..E
    in order): the column, the rule and the values, or None if none is bad."""
    if not bad.any():
        return None
    cells = column.to_numpy()[bad]
    got = [
        f"{repr(v) if isinstance(v, str) else v} at epoch {e}"
        for v, e in zip(cells, np.flatnonzero(bad) + 1, strict=True)
    ]
    return f"{column.name} {rule}, got {_few(got)}"


PARQUET_MAGIC = b"PAR1"  # a parquet file's first (and last) 4 bytes


def read_table(
    path: str | Path, params: Sequence[str], metric: str = "anchored_val_loss"
) -> TableCurves:
    """A :class:`TableCurves` from a parquet or CSV file, told apart by their content (a
    parquet file starts with ``PAR1``); a file named ``.parquet`` or ``.pq`` that does not
    is refused as a damaged parquet file, not read as CSV."""
    path = Path(path)
    if path.is_dir():
        raise TableError(str(path), ["is a directory; give the table's file (parquet or CSV)"])
    if not path.is_file():
        raise TableError(str(path), ["file not found"])
    try:
        with path.open("rb") as file:
            parquet = file.read(len(PARQUET_MAGIC)) == PARQUET_MAGIC
    except OSError as err:
        raise TableError(str(path), [f"cannot be read ({err.strerror})"]) from None
    return TableCurves(_read_frame(path, parquet), tuple(params), metric, name=str(path.name))


def _read_frame(path: Path, parquet: bool) -> pd.DataFrame:
    """The table ``path`` holds, or a TableError saying why it cannot be read."""
    if parquet:
        try:
            return pd.read_parquet(path)
        except (ValueError, OSError) as err:  # pyarrow's ArrowInvalid, ArrowIOError
            raise TableError(
                str(path),
                [f"starts like a parquet file (PAR1) but cannot be read as one: {err}"],
            ) from None
    if path.suffix.lower() in {".parquet", ".pq"}:
        raise TableError(
            str(path),
            ["named a parquet file, but is not one (it does not start with PAR1)"],
        )
    try:
        return pd.read_csv(path)
    except UnicodeDecodeError as err:
        raise TableError(
            str(path),
            [
                "neither a parquet file (it does not start with PAR1) nor CSV text "
                f"(byte {err.object[err.start]:#04x} at position {err.start} is not UTF-8); "
                "give the table as parquet or CSV"
            ],
        ) from None
    except pd.errors.EmptyDataError:
        raise TableError(str(path), ["is empty; give the table as parquet or CSV"]) from None
    except pd.errors.ParserError as err:
        raise TableError(
            str(path),
            [
                "not a parquet file (it does not start with PAR1), and not CSV that can be "
                f"read: {str(err).strip()}"
            ],
        ) from None


def not_categorical(space: Any) -> list[str]:
    """The space's parameters a table cannot hold: a table holds listed values only."""
    return [
        f"parameters.{name}: a table holds listed values; make it categorical"
        for name, p in space.parameters.items()
        if p.type != "categorical"
    ]


def check_space(table: TableCurves, space: Any) -> list[str]:
    """Problems that would stop ``space`` from running on ``table``: a parameter that is
    not categorical (``not_categorical``), a configuration of the grid the table lacks, a
    different number of epochs."""
    problems = []
    if space.settings.max_epochs != table.max_epochs:
        problems.append(
            f"settings.max_epochs: {space.settings.max_epochs}, but the table's curves have "
            f"{table.max_epochs} epochs"
        )
    if set(space.parameters) != set(table.params):
        problems.append(f"parameters {sorted(space.parameters)} != table {sorted(table.params)}")
        return problems
    problems += not_categorical(space)
    if problems:
        return problems
    configs = grid(space.parameters)
    for config in configs:
        try:
            table.curve(config, seed=0)
        except ValueError as err:
            message = str(err)
            if message not in problems:
                problems.append(message)
    drawn = {table.key(config) for config in configs}
    for key in table.keys():  # a curve the space never draws (the optimum would count it)
        if key not in drawn:
            problems.append(f"{table.name}: {_not_drawn(table.params, key, space)}")
            if len(problems) >= 5:
                break
    return problems


def _not_drawn(params: tuple[str, ...], key: Key, space: Any) -> str:
    """Name the first value of a table's configuration ``key`` the space does not list, or
    the configuration when each value is listed but not together."""
    for name, value in zip(params, key, strict=True):
        listed = {_norm(v) for v in space.parameters[name].choices or []}
        if value is None and space.parameters[name].when:
            continue  # NaN where a condition leaves the parameter out
        if value not in listed:
            shown = "NaN" if value is None else repr(value)
            return (
                f"{name}={shown} is in the table but not among the space's values "
                f"{sorted(listed, key=str)}; the space must list the values the table holds"
            )
    config = dict(zip(params, key, strict=True))
    return f"configuration {config} is in the table but not one the space draws"
