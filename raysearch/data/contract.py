"""Load a dataset directory into a ``RawDataset``, checking every file against the contract.

Every problem (missing file, missing or unknown column, non-numeric or infinite value,
duplicate or unsorted date, date outside the manifest's range, empty source, a source with no
observed value, task without targets, a raion without coordinates) is collected and raised as
one ``DataError`` naming the file, column, row and what was expected. Rows count from 1 (the
first data row below a CSV header is row 1).

What is refused and what is only warned about (README, "Data"): a source whose every value
is missing teaches nothing and is refused; a single feature column with no observed value is
kept (preprocessing leaves it at zero, masked) and logged as a warning; a task whose targets
are all missing is refused; a task with no target in the training split is left out of the
search with a warning (``data.prepared``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from raysearch.core.errors import DataError, ErrorCollector
from raysearch.data.manifest import DERIVED, Manifest, SourceEntry, read_manifest
from raysearch.data.raw import RawDataset, RawSource, month_range
from raysearch.data.reading import read_csv, read_parquet

__all__ = ["load_dataset", "read_table"]

log = logging.getLogger(__name__)

KEYS = {"daily": ("date",), "monthly": ("month",), "raion": ("date", "raion")}
TARGET_COLUMNS = ("month", "value")
_VALID_TARGETS: dict[str, tuple[str, Callable[[np.ndarray], np.ndarray]]] = {
    "regime": ("an integer class 0..3", lambda v: np.isin(v, [0, 1, 2, 3])),
    "transition": ("0 or 1", lambda v: np.isin(v, [0, 1])),
    "casualty": ("a finite count >= 0", lambda v: np.isfinite(v) & (v >= 0)),
    "anomaly": ("a finite number", np.isfinite),
}


def read_table(path: Path) -> pd.DataFrame:
    """Read a ``.parquet`` or ``.csv`` file (only an empty CSV cell is a missing value; a
    ``raion`` column is text as written: the raion ``0101`` is not the number 101; a
    parquet's named index, its dates, say, is a column)."""
    if path.suffix == ".parquet":
        table = read_parquet(path)
        # pandas writes a table's index with it (df.set_index("date").to_parquet): its named
        # levels are the table's columns, as a CSV written from it holds them
        named = [n for n in table.index.names if n is not None and n not in table.columns]
        return table.reset_index(level=named) if named else table
    if path.suffix == ".csv":
        return read_csv(
            path,
            "a CSV table with a header row",
            keep_default_na=False,
            na_values=[""],
            dtype={"raion": str},
        )
    raise DataError([f"{path}: unsupported file type {path.suffix!r} (expected .parquet or .csv)"])


def load_dataset(root: str | Path) -> RawDataset:
    """Read ``root/manifest.yaml`` and every file it names; raise one ``DataError`` if bad."""
    man = read_manifest(root)
    errs = ErrorCollector()
    raions, coords = _raions(errs, man)
    sources: dict[str, RawSource] = {}
    for entry in man.sources:
        src = _source(errs, man, entry, raions)
        if src is not None:
            sources[entry.name] = src
    targets = {}
    for task, file in man.tasks.items():
        if file != DERIVED:
            values = _target(errs, man, task, man.root / file)
            if values is not None:
                targets[task] = values
    _check_derived(errs, man)
    errs.raise_if_any(DataError, f"dataset {man.root}")
    derived = tuple(t for t, f in man.tasks.items() if f == DERIVED)
    return RawDataset(man.name, man.start, man.n_days, sources, targets, derived, raions, coords)


def _check_derived(errs: ErrorCollector, man: Manifest) -> None:
    need = {"forecast": "monthly", "daily_forecast": "daily"}
    for task, res in need.items():
        if man.tasks.get(task) == DERIVED and not any(s.resolution == res for s in man.sources):
            where = f"{man.root / 'manifest.yaml'}: tasks.{task}"
            errs.add(where, f"needs a {res} source, none given")


def _open(errs: ErrorCollector, path: Path) -> pd.DataFrame | None:
    if not path.is_file():
        errs.add(str(path), "file missing (named in the manifest)")
        return None
    try:
        return read_table(path)
    except DataError as exc:
        errs.extend(exc.problems)
    except (OSError, ValueError) as exc:  # unreadable parquet / CSV: say which file
        errs.add(str(path), f"cannot be read: {exc}")
    return None


def _raions(errs: ErrorCollector, man: Manifest) -> tuple[tuple[str, ...], tuple]:
    if man.raions is None:
        return (), ()
    path = man.root / man.raions
    df = _open(errs, path)
    if df is None:
        return (), ()
    missing = [c for c in ("raion", "lat", "lon") if c not in df.columns]
    if missing:
        errs.add(str(path), f"missing column(s) {missing} (expected raion, lat, lon)")
        return (), ()
    coords = _numeric(errs, path, df, ["lat", "lon"], np.float64)
    if coords is None:
        return (), ()
    _check_coords(errs, path, coords)
    if df["raion"].isna().any():
        i = int(np.flatnonzero(df["raion"].isna().to_numpy())[0])
        errs.add(f"{path}: column 'raion'", f"missing raion name at row {i + 1}")
    names = df["raion"].astype(str)
    _duplicates(errs, path, names, "raion")
    return tuple(names), tuple((float(a), float(o)) for a, o in coords)


def _check_coords(errs: ErrorCollector, path: Path, coords: np.ndarray) -> None:
    """Every raion needs a latitude in [-90, 90] and a longitude in [-180, 180]: the model's
    geographic adjacency is built from them, and one missing coordinate makes it NaN."""
    for j, (col, bound) in enumerate((("lat", 90.0), ("lon", 180.0))):
        values = coords[:, j]
        missing = np.isnan(values)
        if missing.any():
            i = int(np.flatnonzero(missing)[0])
            what = "every value is missing" if missing.all() else f"missing at row {i + 1}"
            errs.add(
                f"{path}: column {col!r}",
                f"{what} ({int(missing.sum())} of {len(values)} rows); every raion needs "
                "coordinates",
            )
        outside = ~missing & (np.abs(np.nan_to_num(values)) > bound)
        if outside.any():
            i = int(np.flatnonzero(outside)[0])
            errs.add(
                f"{path}: column {col!r}",
                f"{values[i]!r} at row {i + 1} is outside [-{bound:g}, {bound:g}] "
                f"({int(outside.sum())} in all)",
            )


def _numeric(
    errs: ErrorCollector, path: Path, df: pd.DataFrame, cols: list[str], dtype: type = np.float32
) -> np.ndarray | None:
    """Columns as ``dtype`` (NaN kept); reports the first non-numeric cell of each column.
    None if a column holds dates or durations (a parquet timestamp column), each named:
    ``pd.to_numeric`` would read them as counts of microseconds since 1970 (or of 0)."""
    timed = [
        c
        for c in cols
        if pd.api.types.is_datetime64_any_dtype(df[c]) or pd.api.types.is_timedelta64_dtype(df[c])
    ]
    for col in timed:
        kind = "durations" if pd.api.types.is_timedelta64_dtype(df[col]) else "dates"
        errs.add(
            f"{path}: column {col!r}",
            f"holds {kind} ({df[col].dtype}), not numbers; expected a number or empty for missing",
        )
    if timed:
        return None
    out: np.ndarray = np.empty((len(df), len(cols)), dtype=dtype)
    for j, col in enumerate(cols):
        raw = df[col]
        if pd.api.types.is_numeric_dtype(raw) and not pd.api.types.is_bool_dtype(raw):
            out[:, j] = raw.to_numpy(dtype=np.float64, na_value=np.nan)
            continue
        num = pd.to_numeric(raw, errors="coerce")
        bad = num.isna() & raw.notna()
        if bad.any():
            i = int(np.flatnonzero(bad.to_numpy())[0])
            errs.add(
                f"{path}: column {col!r}",
                f"non-numeric value {raw.iloc[i]!r} at row {i + 1} ({int(bad.sum())} in all); "
                "expected a number or empty for missing",
            )
        out[:, j] = num.to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def _observed(
    errs: ErrorCollector, path: Path, name: str, values: np.ndarray, feats: list[str]
) -> bool:
    """Refuse infinite values and a source with no observed value; warn about a feature
    column with none (it is kept, masked everywhere)."""
    infinite = np.isinf(values)
    for j in np.flatnonzero(infinite.any(axis=0)):
        i = int(np.flatnonzero(infinite[:, j])[0])
        errs.add(
            f"{path}: column {feats[j]!r}",
            f"infinite value {float(values[i, j])!r} at row {i + 1} "
            f"({int(infinite[:, j].sum())} in all); expected a finite number or empty for "
            "missing",
        )
    seen = ~np.isnan(values) & ~infinite
    if not seen.any():
        errs.add(
            str(path),
            f"source {name!r} has no observed value: all {len(values)} rows of {feats} are "
            "empty; fill it or remove it from the manifest",
        )
        return False
    empty = [feats[j] for j in np.flatnonzero(~seen.any(axis=0))]
    if empty:
        log.warning("%s: column(s) %s never observed; kept, they carry nothing", path, empty)
    return not infinite.any()


def _dates(errs: ErrorCollector, path: Path, col: pd.Series, monthly: bool) -> pd.Series | None:
    fmt = "%Y-%m" if monthly else "%Y-%m-%d"
    missing = col.isna()  # NaT in a datetime column, an empty CSV cell
    if missing.any():
        i = int(np.flatnonzero(missing.to_numpy())[0])
        errs.add(
            f"{path}: column {col.name!r}",
            f"missing {'month' if monthly else 'date'} at row {i + 1} ({int(missing.sum())} in "
            f"all); every row needs one ({fmt.replace('%', '')})",
        )
        return None
    if pd.api.types.is_datetime64_any_dtype(col):
        parsed = pd.to_datetime(col)
        # a day is the data's unit: a time of day would put two rows on one day, and the
        # later would overwrite the earlier; a time zone would shift days
        zoned = getattr(parsed.dt, "tz", None) is not None
        timed = np.flatnonzero((parsed != parsed.dt.normalize()).to_numpy())
        if zoned or len(timed):
            i = 0 if zoned else int(timed[0])
            errs.add(
                f"{path}: column {col.name!r}",
                f"date {col.iloc[i]!s} at row {i + 1} has a "
                f"{'time zone' if zoned else 'time of day'}; expected dates only "
                f"({fmt.replace('%', '')})",
            )
            return None
    else:
        text = col.astype(str)
        parsed = pd.to_datetime(text, format=fmt, errors="coerce")
        if monthly:  # or a day of the month, as a datetime month column may hold
            parsed = parsed.fillna(pd.to_datetime(text, format="%Y-%m-%d", errors="coerce"))
    bad = parsed.isna()
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        errs.add(
            f"{path}: column {col.name!r}",
            f"unparseable {'month' if monthly else 'date'} {col.iloc[i]!r} at row {i + 1}; "
            f"expected {'Y-m (or a day of it, Y-m-d)' if monthly else 'Y-m-d'}",
        )
        return None
    # start_time: each month's first day, as to_timestamp() (whose stub says it returns an
    # array, not the Series it returns)
    return parsed.dt.to_period("M").dt.start_time if monthly else parsed


def _duplicates(errs: ErrorCollector, path: Path, key: pd.Series | pd.DataFrame, what: str) -> None:
    dup = key.duplicated()
    if dup.any():
        i = int(np.flatnonzero(dup.to_numpy())[0])
        values = [key.iloc[i]] if isinstance(key, pd.Series) else list(key.iloc[i])
        # a date as the file writes it (2022-03-10, not pandas' 2022-03-10 00:00:00)
        shown = [v.date() if isinstance(v, pd.Timestamp) else v for v in values]
        value = shown[0] if len(shown) == 1 else f"({', '.join(map(str, shown))})"
        errs.add(str(path), f"duplicate {what} {value!s} at row {i + 1} ({int(dup.sum())} in all)")


def _order_and_range(
    errs: ErrorCollector, path: Path, dates: pd.Series, lo: pd.Timestamp, hi: pd.Timestamp
) -> bool:
    ok = True
    back = dates.diff() < pd.Timedelta(0)
    if back.any():
        i = int(np.flatnonzero(back.to_numpy())[0])
        errs.add(
            str(path),
            f"dates not sorted: {dates.iloc[i].date()} at row {i + 1} comes after "
            f"{dates.iloc[i - 1].date()}; expected ascending dates",
        )
    out = (dates < lo) | (dates > hi)
    if out.any():
        i = int(np.flatnonzero(out.to_numpy())[0])
        errs.add(
            str(path),
            f"date {dates.iloc[i].date()} at row {i + 1} outside the manifest's range "
            f"{lo.date()}..{hi.date()} ({int(out.sum())} rows in all)",
        )
        ok = False
    return ok


def _source(
    errs: ErrorCollector, man: Manifest, entry: SourceEntry, raions: tuple[str, ...]
) -> RawSource | None:
    path = man.root / entry.file
    df = _open(errs, path)
    if df is None:
        return None
    n_before = len(errs.problems)
    keys = KEYS[entry.resolution]
    for key in keys:
        if key not in df.columns:
            hint = " (a raion source is long format: date, raion, features)"
            hint = hint if key == "raion" else ""
            errs.add(str(path), f"missing key column {key!r}{hint}; found {list(df.columns)}")
    feats = [c for c in df.columns if c not in keys]
    if entry.features is not None:
        missing = [f for f in entry.features if f not in df.columns]
        unknown = [f for f in feats if f not in entry.features]
        errs.check(not missing, str(path), f"missing feature column(s) {missing} (in the manifest)")
        errs.check(not unknown, str(path), f"unknown column(s) {unknown} (not in the manifest)")
        feats = [f for f in entry.features if f in df.columns]
    if len(df) == 0:
        errs.add(str(path), f"source {entry.name!r} is empty (no rows)")
    elif not feats:
        errs.add(str(path), f"source {entry.name!r} has no feature columns besides {list(keys)}")
    if len(errs.problems) > n_before:
        return None
    values = _numeric(errs, path, df, feats)
    if values is None or not _observed(errs, path, entry.name, values, feats):
        return None
    monthly = entry.resolution == "monthly"
    dates = _dates(errs, path, df[keys[0]], monthly)
    if dates is None:
        return None
    lo, hi = pd.Timestamp(man.start), pd.Timestamp(man.end)
    if monthly:
        lo = lo.to_period("M").to_timestamp()
    in_range = _order_and_range(errs, path, dates, lo, hi)
    ident = dates if entry.resolution != "raion" else pd.DataFrame({"d": dates, "r": df["raion"]})
    _duplicates(errs, path, ident, "date" if entry.resolution != "raion" else "(date, raion)")
    if not in_range or len(errs.problems) > n_before:
        return None
    return _dense(errs, man, entry, path, df, dates, values, tuple(feats), raions)


def _dense(
    errs: ErrorCollector,
    man: Manifest,
    entry: SourceEntry,
    path: Path,
    df: pd.DataFrame,
    dates: pd.Series,
    values: np.ndarray,
    feats: tuple[str, ...],
    raions: tuple[str, ...],
) -> RawSource | None:
    """Long rows -> a dense array on the dataset's calendar (NaN where no row)."""
    if entry.resolution == "monthly":
        months = month_range(man.start, man.n_days)
        idx = dates.dt.to_period("M").to_numpy()
        pos = np.searchsorted(months.to_numpy(), idx)
        out = np.full((len(months), len(feats)), np.nan, dtype=np.float32)
        out[pos] = values
        return RawSource(entry.name, "monthly", feats, out)
    day = ((dates - pd.Timestamp(man.start)).dt.days).to_numpy()
    if entry.resolution == "daily":
        out = np.full((man.n_days, len(feats)), np.nan, dtype=np.float32)
        out[day] = values
        return RawSource(entry.name, "daily", feats, out)
    lookup = {r: i for i, r in enumerate(raions)}
    codes = df["raion"].astype(str).map(lookup)
    if codes.isna().any():
        i = int(np.flatnonzero(codes.isna().to_numpy())[0])
        errs.add(
            f"{path}: column 'raion'",
            f"unknown raion {df['raion'].iloc[i]!r} at row {i + 1} (not in {man.raions})",
        )
        return None
    out = np.full((man.n_days, len(raions), len(feats)), np.nan, dtype=np.float32)
    out[day, codes.to_numpy(np.int64)] = values
    return RawSource(entry.name, "raion", feats, out)


def _target(errs: ErrorCollector, man: Manifest, task: str, path: Path) -> np.ndarray | None:
    df = _open(errs, path)
    if df is None:
        return None
    cols = list(df.columns)
    if sorted(cols) != sorted(TARGET_COLUMNS):
        errs.add(str(path), f"task {task!r}: expected columns {list(TARGET_COLUMNS)}, found {cols}")
        return None
    numbers = _numeric(errs, path, df, ["value"])
    if numbers is None:
        return None
    values = numbers[:, 0]
    if len(df) == 0 or np.isnan(values).all():
        errs.add(str(path), f"task {task!r} has no targets (file empty or all values missing)")
        return None
    dates = _dates(errs, path, df["month"], monthly=True)
    if dates is None:
        return None
    lo = pd.Timestamp(man.start).to_period("M").to_timestamp()
    if not _order_and_range(errs, path, dates, lo, pd.Timestamp(man.end)):
        return None
    _duplicates(errs, path, dates, "month")
    what, ok = _VALID_TARGETS[task]
    seen = ~np.isnan(values)
    bad = seen & ~ok(np.where(seen, values, 0))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        msg = f"task {task!r}: {float(values[i])!r} at row {i + 1}, expected {what}"
        errs.add(f"{path}: column 'value'", msg)
        return None
    months = month_range(man.start, man.n_days)
    out = np.full(len(months), np.nan, dtype=np.float32)
    out[np.searchsorted(months.to_numpy(), dates.dt.to_period("M").to_numpy())] = values
    return out
