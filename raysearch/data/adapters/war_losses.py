"""Adapter: the public daily losses JSON (ukraine-losses) -> equipment and personnel sources.

What it does with the raw files' quirks:
- cumulative counts become daily values: ``value[d] = cum[d] - cum[d-1]``; on the first
  record (2022-02-25) the count since the invasion (2022-02-24, zero) is the value;
- a class absent on a day is unobserved that day (NaN), never zero; a class that starts
  late (``cruise missiles``, ``submarines``, ...) is NaN on its first day too, because its
  first cumulative count holds losses of days it was not reported;
- ``military auto`` + ``fuel tank`` (until 2022-04-30) were merged into ``vehicles and fuel
  tanks`` (from 2022-05-01): the merged class is extended backwards as their sum, so it is
  observed from the first day; the two old classes stay as their own features until then;
- corrections stay visible: a negative daily value is a correction published that day and
  is kept as data; ``correction_reported`` is 1 on the dates of the corrections file;
- the text fields (``personnel*``, ``greatest losses direction``) and ``day`` are ignored;
  any other field is a count: a null or an absent key is unobserved that day, and
  anything but a finite number (``"tank": "x"``) is refused, naming the record;
- the personnel file must hold a ``personnel`` count (in at least one record).
Records count from 1 in every message, the first record of a file being record 1.
The monthly ``casualty`` target (``monthly_casualty``) is the sum of the personnel source's
daily ``personnel`` values over a calendar month, negative corrections included in the sum.
A month is available only if every one of its calendar days is on the dataset's calendar
and observed: a partial month (the first, February 2022, starts on the 25th; the last ends
on the file's last day) or a month with a missing day has no target (never scaled up).
The personnel source stays an input: a sample's casualty target is the month *after* its
anchor day, so the model forecasts next month's total from the past days only.
Column names are lower case with spaces as underscores (``field artillery`` ->
``field_artillery``).
"""

from __future__ import annotations

import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd

from raysearch.core.errors import DataError, ErrorCollector
from raysearch.data.adapters.casualty import monthly_casualty
from raysearch.data.adapters.war_phases import phase_targets
from raysearch.data.raw import RawDataset, RawSource, iso_day
from raysearch.data.reading import read_text
from raysearch.data.writer import write_dataset

__all__ = [
    "CORRECTION_FILE",
    "EQUIPMENT_FILE",
    "PERSONNEL_FILE",
    "import_war_losses",
    "war_losses_dataset",
    "war_losses_raw",
]

EQUIPMENT_FILE = "russia_losses_equipment.json"
PERSONNEL_FILE = "russia_losses_personnel.json"
CORRECTION_FILE = "russia_losses_equipment_correction.json"
MERGED = ("vehicles and fuel tanks", ("military auto", "fuel tank"))
T = TypeVar("T")
TEXT_FIELDS = ("personnel*", "greatest losses direction")
NOT_COUNTS = ("date", "day", *TEXT_FIELDS)
WAR_START = dt.date(2022, 2, 24)


def _records(path: Path) -> list[dict]:
    if not path.is_file():
        raise DataError([f"{path}: file missing (expected the daily losses JSON)"])
    try:
        doc = json.loads(read_text(path, "the daily losses JSON"))
    except json.JSONDecodeError as exc:
        raise DataError([f"{path}: not valid JSON ({exc})"]) from exc
    if not isinstance(doc, list):
        raise DataError([f"{path}: expected a list of records, each with a 'date', got a "
                         f"{type(doc).__name__}"])  # fmt: skip
    undated = [k for k, r in enumerate(doc, start=1) if not (isinstance(r, dict) and "date" in r)]
    if undated:
        shown = ", ".join(map(str, undated[:3])) + (", ..." if len(undated) > 3 else "")
        raise DataError([f"{path}: record(s) {shown} ({len(undated)} in all) hold no 'date'; "
                         "expected a list of records, each with a 'date'"])  # fmt: skip
    return doc


def _cumulative(records: list[dict], path: Path) -> tuple[pd.DatetimeIndex, pd.DataFrame]:
    """Cumulative counts on a full daily calendar (NaN = class not reported that day); one
    DataError names every bad date and every field holding a value that is not a count."""
    if not records:
        raise DataError([f"{path}: no records (expected one per day, each with a 'date')"])
    problems: list[str] = []
    first: dict[str, int] = {}  # date -> the record that gave it first
    for k, record in enumerate(records, start=1):
        date = str(record["date"])
        try:
            iso_day(date)
        except ValueError:
            problems.append(f"{path}: record {k}: date {record['date']!r}, expected YYYY-MM-DD")
            continue
        if date in first:  # a mapping by date would keep the last without a word
            problems.append(f"{path}: record {k}: date {date} is record {first[date]}'s too")
        first.setdefault(date, k)
    problems += _not_counts(records, path)
    if problems:
        raise DataError(problems, f"daily losses file {path}")
    counts = [
        {k: v for k, v in r.items() if k not in NOT_COUNTS and v is not None} for r in records
    ]
    # one row per record, a record without any count included (its day is unobserved)
    index = pd.to_datetime([str(r["date"]) for r in records], format="%Y-%m-%d")
    frame = pd.DataFrame(counts, index=index).sort_index()
    days = pd.date_range(frame.index[0], frame.index[-1], freq="D")
    return days, frame.reindex(days).astype(np.float64)


def _not_counts(records: list[dict], path: Path) -> list[str]:
    """One problem per count field holding a value that is not a finite number (null is
    unobserved, not a problem): its first such record, its value and how many in all."""
    bad: dict[str, list[tuple[int, object]]] = {}
    for k, record in enumerate(records, start=1):
        for field, value in record.items():
            if field not in NOT_COUNTS and value is not None and not _is_count(value):
                bad.setdefault(field, []).append((k, value))
    return [
        f"{path}: record {found[0][0]}: field {field!r}: {found[0][1]!r} is not a number "
        f"({len(found)} in all); expected a count (a finite number), or null or no key when "
        "the class is not reported"
        for field, found in bad.items()
    ]


def _correction_dates(path: Path) -> list[dt.date]:
    """The corrections file's dates; one DataError names every record whose date is not
    YYYY-MM-DD."""
    dates, problems = [], []
    for k, record in enumerate(_records(path), start=1):
        try:
            dates.append(iso_day(str(record["date"])))
        except ValueError:
            problems.append(f"{path}: record {k}: date {record['date']!r}, expected YYYY-MM-DD")
    if problems:
        raise DataError(problems, f"corrections file {path}")
    return dates


def _is_count(value: object) -> bool:
    """A finite number a float64 holds (not a bool, NaN, an infinity or a larger integer)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return abs(value) <= sys.float_info.max  # False for NaN too


def _daily(cum: pd.DataFrame) -> pd.DataFrame:
    """Daily values from cumulative counts; NaN where today or yesterday is unreported."""
    delta = cum.diff()
    if cum.index[0].date() == WAR_START + dt.timedelta(days=1):
        delta.iloc[0] = cum.iloc[0]  # counts start at zero on the invasion day
    return delta


def _snake(name: str) -> str:
    return name.strip().lower().replace(" ", "_").replace("-", "_")


def _equipment(path: Path) -> tuple[pd.DatetimeIndex, pd.DataFrame]:
    days, eq = _cumulative(_records(path), path)
    if not eq.notna().to_numpy().any():  # else a source of no observation, refused by no one
        raise DataError([f"{path}: no record holds a count (expected the cumulative losses "
                         "of each equipment class in each record)"])  # fmt: skip
    return days, eq


def _personnel(path: Path) -> tuple[pd.DatetimeIndex, pd.DataFrame]:
    days, pe = _cumulative(_records(path), path)
    if "personnel" not in pe:
        raise DataError([f"{path}: no record has a 'personnel' count (expected the "
                         "cumulative personnel losses in each record)"])  # fmt: skip
    return days, pe


def _read(errs: ErrorCollector, read: Callable[[Path], T], path: Path) -> T | None:
    """``read(path)``; None when it raises a DataError, whose problems ``errs`` keeps (so
    every file's problems are reported at once)."""
    try:
        return read(path)
    except DataError as exc:
        errs.extend(exc.problems)
        return None


def war_losses_raw(src_dir: str | Path) -> RawDataset:
    """The two daily sources as a ``RawDataset`` (no targets; daily_forecast derived). One
    DataError lists the problems of every file (equipment, personnel, corrections)."""
    src = Path(src_dir)
    eq_path, pe_path, corr_path = src / EQUIPMENT_FILE, src / PERSONNEL_FILE, src / CORRECTION_FILE
    errs = ErrorCollector()
    equipment = _read(errs, _equipment, eq_path)
    personnel = _read(errs, _personnel, pe_path)
    corrections = _read(errs, _correction_dates, corr_path) if corr_path.is_file() else []
    errs.raise_if_any(DataError, f"daily losses in {src}")
    assert equipment is not None and personnel is not None and corrections is not None
    (days, eq), (pdays, pe) = equipment, personnel
    if not pdays.equals(days):
        raise DataError([f"{pe_path}: dates {pdays[0].date()}..{pdays[-1].date()} differ from "
                         f"{eq_path.name}'s {days[0].date()}..{days[-1].date()}"])  # fmt: skip
    merged, parts = MERGED
    if merged in eq and all(p in eq for p in parts):
        back = eq[list(parts)].sum(axis=1, min_count=len(parts))
        eq[merged] = eq[merged].fillna(back)
    eq_daily = _daily(eq)
    eq_daily.columns = [_snake(c) for c in eq_daily.columns]
    if corr_path.is_file():
        eq_daily["correction_reported"] = days.isin(pd.DatetimeIndex(corrections)).astype(
            np.float64
        )
    pe_daily = _daily(pe)
    pe_daily.columns = [_snake(c) for c in pe_daily.columns]
    sources = {
        "equipment": RawSource("equipment", "daily", tuple(eq_daily.columns),
                               eq_daily.to_numpy(np.float32)),
        "personnel": RawSource("personnel", "daily", tuple(pe_daily.columns),
                               pe_daily.to_numpy(np.float32)),
    }  # fmt: skip
    return RawDataset(
        name="ukraine-losses (daily equipment and personnel)",
        start=days[0].date(),
        n_days=len(days),
        sources=sources,
        targets={},
        derived_tasks=("daily_forecast",),
    )


def import_war_losses(
    src_dir: str | Path,
    out_dir: str | Path,
    phases: str | Path | None = None,
    casualty: bool = False,
) -> RawDataset:
    """Convert ``src_dir``'s losses JSON into a contract dataset directory at ``out_dir``
    (``war_losses_dataset``, then written)."""
    raw = war_losses_dataset(src_dir, phases, casualty)
    write_dataset(raw, out_dir)
    return raw


def war_losses_dataset(
    src_dir: str | Path, phases: str | Path | None = None, casualty: bool = False
) -> RawDataset:
    """``src_dir``'s losses JSON as a dataset, every input read and checked (nothing is
    written); with ``phases`` (war-phases/phases.csv), the monthly regime and transition
    targets; with ``casualty``, the monthly personnel-loss count target."""
    raw = war_losses_raw(src_dir)
    if phases is not None:
        raw.targets = phase_targets(phases, raw.start, raw.n_days)
    if casualty:
        raw.targets["casualty"] = monthly_casualty(raw)
    return raw
