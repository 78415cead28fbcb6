"""A table of recorded learning curves as a curve source (e.g. the HAN table).

Long format, one row per (configuration, seed, epoch): a column per searched parameter
(NaN where a conditional parameter is inactive), ``seed``, ``epoch`` (1..E), the metric
(lower is better) and the epoch's duration in seconds. A sampled configuration is looked up
by its parameter values; a seed picks one of the recorded seeds (seed mod their number),
so replicates of a configuration see the seed-to-seed spread the table holds. The
simulator gives a configuration drawn again the seed after the one it drew before
(``curves.ReplicateSeeds``), so it trains each recorded curve before any again. A
configuration the table does not hold is refused, naming the value.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import numpy as np
import pandas as pd

from raysearch.data.reading import read_parquet
from raysearch.search.simulation.curve_plan import recorded_fixed
from raysearch.search.simulation.curves import Curve
from raysearch.search.simulation.grid import grid
from raysearch.search.simulation.partial import partial_path
from raysearch.search.simulation.plan_diff import unlike_space
from raysearch.search.simulation.table_rows import (
    Listed,
    bad_cells,
    epoch_gaps,
    few,
    listed_values,
    misplaced_rows,
    norm,
    not_value,
    not_whole,
    unlisted_rows,
)

__all__ = [
    "TIMES",
    "TableCurves",
    "TableError",
    "check_space",
    "not_categorical",
    "not_found",
    "read_table",
]

Key = tuple[Any, ...]


# the times a recorded table keeps of each epoch (raysearch curves): none is a metric
TIMES = ("epoch_time_s", "epoch_wall_s")


class TableError(ValueError):
    """A table that cannot be simulated: its name (the file's) and each of its problems."""

    def __init__(self, name: str, problems: Sequence[str]) -> None:
        self.name = name
        self.problems = list(problems)
        super().__init__(f"{name}: {'; '.join(self.problems)}")


@dataclass(frozen=True)
class TableCurves:
    """Curves of ``metric`` per configuration of ``params``, read from ``frame``; with
    ``listed`` (``listed_values`` of a space), a row whose parameter holds a value the
    space does not list is refused before the rows are grouped into curves."""

    frame: pd.DataFrame
    params: tuple[str, ...]
    metric: str = "anchored_val_loss"
    seconds: str = "epoch_time_s"
    name: str = "table"
    listed: Mapping[str, Listed] | None = None

    def __post_init__(self) -> None:
        need = [*self.params, "seed", "epoch", self.metric, self.seconds]
        missing = [c for c in need if c not in self.frame.columns]
        if missing:
            raise TableError(
                self.name,
                [f"missing column(s) {missing}; the table has {list(self.frame.columns)}"],
            )
        keys = [*self.params, "seed", "epoch"]
        timing = {self.seconds, *TIMES}  # how long an epoch took, in each of its clocks
        if self.metric in {*keys, *timing}:
            measured = [c for c in self.frame.columns if c not in {*keys, *timing}]
            raise TableError(
                self.name,
                [
                    f"the metric {self.metric!r} is a column that names a curve or times it, "
                    "not one that measures it; the table's other columns: "
                    f"{', '.join(measured) or '(none)'}"
                ],
            )
        unhashed = [not_value(self.frame, p) for p in self.params]
        if any(unhashed):  # a list cannot key a curve: pandas would fail to group by it
            raise TableError(self.name, [u for u in unhashed if u])
        unkeyed = [not_whole(self.frame, c, o, self.params) for c, o in _RUN_KEYS]
        if any(unkeyed):  # not grouped by them: a run split at a missing seed blames its epochs
            raise TableError(self.name, [u for u in unkeyed if u])
        frame = self.frame.assign(  # whole numbers: a curve is seed 1, epochs [1, 2], not 1.0
            **{c: pd.to_numeric(self.frame[c]).astype(int) for c, _ in _RUN_KEYS}
        )
        unlisted = unlisted_rows(frame, self.params, self.listed or {})
        if unlisted:  # not grouped by them: a row's wrong value splits its curve in two
            raise TableError(self.name, unlisted)
        misplaced = misplaced_rows(frame, self.params, self.listed or {})
        if misplaced:  # as a wrong value: a stray NaN splits its curve in two
            raise TableError(self.name, misplaced)
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
        gaps: dict[str, list[str]] = {}  # the curves whose epochs are not 1..E, by what is wrong
        problems: list[str] = []
        ordered = frame.sort_values("epoch", kind="stable")
        grouped = ordered.groupby([*self.params, "seed"], dropna=False, sort=True)
        for group, rows in grouped:
            *values, seed = group
            key = tuple(norm(v) for v in values)
            where = f"{dict(zip(self.params, values, strict=True))}, seed {seed}"
            gap = epoch_gaps(rows["epoch"].to_numpy())
            if gap:
                gaps.setdefault(gap, []).append(where)
                continue
            metric = pd.to_numeric(rows[self.metric], errors="coerce").to_numpy(dtype=float)
            seconds = pd.to_numeric(rows[self.seconds], errors="coerce").to_numpy(dtype=float)
            bad = [
                bad_cells(rows[self.metric], ~np.isfinite(metric), "must be a finite number"),
                bad_cells(rows[self.seconds], ~(seconds > 0), "must be > 0 s"),
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
        problems[:0] = [  # one problem per gap, however many curves have it
            f"{wheres[0]}: {gap}"
            if len(wheres) == 1
            else f"{gap} in {_of(len(wheres), grouped.ngroups)} curves, e.g. {wheres[0]}"
            for gap, wheres in gaps.items()
        ]
        counts = Counter(lengths.values())
        if len(counts) > 1:  # name the curves of other lengths than most have
            usual = max(counts, key=lambda epochs: (counts[epochs], epochs))
            odd = [f"{w} ({e} epoch{'s' * (e != 1)})" for w, e in lengths.items() if e != usual]
            problems.append(
                f"curves of different lengths {sorted(counts)}: every curve needs the same "
                f"epochs, and {len(odd)} of the {len(lengths)} curves "
                f"differ{'s' * (len(odd) == 1)} from the others' {usual} epochs: {few(odd)}"
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
        """The lookup key of a configuration (its values as ``norm`` keeps them)."""
        return tuple(norm(config.get(p)) for p in self.params)

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
        miss = self.first_miss(key)
        if miss is None:
            return f"configuration {dict(zip(self.params, key, strict=True))}"
        i, where, held = miss
        return (
            f"{self.params[i]}={_shown(key[i])}"
            + (f" (with {where})" if where else "")
            + f"; the table holds {held}"
        )

    def first_miss(self, key: Key) -> tuple[int, str, str] | None:
        """Where ``key`` first leaves the table's configurations: the parameter's index, the
        values before it (name=value, ...) and the values the table holds there; None if
        the table holds ``key``."""
        held = list(self._curves)  # type: ignore[attr-defined]
        for i in range(len(self.params)):
            options = {k[i] for k in held}
            if key[i] not in options:
                where = ", ".join(
                    f"{p}={v!r}" for p, v in zip(self.params[:i], key[:i], strict=True)
                )
                return i, where, ", ".join(_shown(o) for o in sorted(options, key=str))
            held = [k for k in held if k[i] == key[i]]
        return None


def _shown(value: Any) -> str:
    """A lookup key's value as a problem names it: NaN for none."""
    return "NaN" if value is None else repr(value)


def _of(count: int, total: int) -> str:
    """``count`` of ``total`` things: "all 8" or "3 of the 8"."""
    return f"all {total:,}" if count == total else f"{count:,} of the {total:,}"


_RUN_KEYS = (("seed", "epoch"), ("epoch", "seed"))  # a row's run and epoch, each named by the other


PARQUET_MAGIC = b"PAR1"  # a parquet file's first (and last) 4 bytes


def read_table(
    path: str | Path,
    params: Sequence[str],
    metric: str = "anchored_val_loss",
    listed: Mapping[str, Listed] | None = None,
) -> TableCurves:
    """A :class:`TableCurves` from a parquet or CSV file, told apart by their content (a
    parquet file starts with ``PAR1``); a file named ``.parquet`` or ``.pq`` that does not
    is refused as a damaged parquet file, not read as CSV. ``listed``: as TableCurves'."""
    path = Path(path)
    if path.is_dir():
        raise TableError(str(path), ["is a directory; give the table's file (parquet or CSV)"])
    if not path.is_file():
        raise TableError(str(path), [not_found(path)])
    try:
        with path.open("rb") as file:
            parquet = file.read(len(PARQUET_MAGIC)) == PARQUET_MAGIC
    except OSError as err:
        raise TableError(str(path), [f"cannot be read ({err.strerror})"]) from None
    frame = _read_frame(path, parquet)
    return TableCurves(frame, tuple(params), metric, name=str(path.name), listed=listed)


def not_found(path: Path) -> str:
    """Why there is no table at ``path`` (a missing file): its recording may not have
    finished, which its partial file beside it (``partial.partial_path``) then says."""
    partial = partial_path(path)
    if not partial.is_file():
        return "file not found"
    return (
        f"file not found: its recording was interrupted ({partial.name} beside it holds the "
        "runs it finished); run the same `raysearch curves` command (or record_curves call) "
        "again to finish it"
    )


def _read_frame(path: Path, parquet: bool) -> pd.DataFrame:
    """The table ``path`` holds, or a TableError saying why it cannot be read."""
    if parquet:
        try:
            return read_parquet(path)
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
    not categorical (``not_categorical``), a value in the table the space does not list, a
    configuration of the grid the table lacks, one the space never draws, a different
    number of epochs."""
    problems = _other_fixed(table, space)
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
    listed = listed_values(space)
    unlisted = unlisted_rows(table.frame, table.params, listed)
    if unlisted:  # the space's configurations the table then lacks follow from them
        return unlisted
    misplaced = misplaced_rows(table.frame, table.params, listed)
    if misplaced:
        return misplaced
    configs = grid(space.parameters)
    problems += _lacking(table, configs)
    drawn = {table.key(config) for config in configs}
    for key in table.keys():  # a curve the space never draws (the optimum would count it)
        if key not in drawn:
            config = dict(zip(table.params, key, strict=True))
            problems.append(f"configuration {config} is in the table but not one the space draws")
            if len(problems) >= 5:
                break
    return problems


def _other_fixed(table: TableCurves, space: Any) -> list[str]:
    """How ``space`` trains otherwise than the table's curves, where the table says what it
    was recorded for (``raysearch curves`` keeps it in the parquet file; a CSV does not):
    a space that trains another model than its curves would be simulated on them."""
    recorded = table.frame.attrs.get("recorded")
    if not (isinstance(recorded, Mapping) and isinstance(recorded.get("fixed"), Mapping)):
        return []  # a CSV or a table from elsewhere: it does not say
    grid = {n for c in recorded.get("configs", []) for n in c}
    frame = table.frame
    columns = {n: frame[n].dropna().unique().tolist() for n in grid if n in frame.columns}
    return unlike_space(recorded, recorded_fixed(space.fixed), space.parameters, columns)


def _lacking(table: TableCurves, configs: list[dict[str, Any]]) -> list[str]:
    """The space's configurations (``configs``) the table holds no curves for: one problem
    per value the table lacks, with how many of them need it where more than one does."""
    lacking: dict[tuple[int, Any], list[tuple[dict[str, Any], str, str]]] = {}
    for config in configs:
        key = table.key(config)
        miss = table.first_miss(key)
        if miss is not None:
            lacking.setdefault((miss[0], key[miss[0]]), []).append((config, *miss[1:]))
    problems = []
    for (i, value), misses in lacking.items():
        what = f"no curves for {table.params[i]}={_shown(value)}"
        (config, where, held), n = misses[0], len(misses)
        if n == 1:
            problems.append(f"{what}{f' (with {where})' if where else ''}; the table holds {held}")
        elif value not in {k[i] for k in table.keys()}:  # in no configuration of the table
            everywhere = sorted({k[i] for k in table.keys()}, key=str)
            problems.append(
                f"{what}, which {_of(n, len(configs))} configurations of the space have, e.g. "
                f"{config}; the table holds {', '.join(map(_shown, everywhere))}"
            )
        else:
            problems.append(
                f"{what} in {_of(n, len(configs))} configurations of the space, e.g. with "
                f"{where}, where the table holds {held}"
            )
    return problems
