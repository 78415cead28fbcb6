"""Adapter: the war-phases timeline (war-phases/phases.csv) -> regime and transition.

Choices (documented, as the phases README asks):
- a day's phase is that of the *primary* operation covering it: the one that started most
  recently (ties: the later row); a day no operation covers is ``baseline`` (class 3);
  an operation covers its days ``start .. end`` inclusive; an empty ``end`` means ongoing
  until the dataset's last day;
- a day is a ``transition`` day if an operation starts or ends on it (the closing of an
  operation with an empty ``end`` is not a transition: it has not ended);
- a month's ``regime`` is the coarse class held by most of its days on the dataset's
  calendar (ties: the later class); a month's ``transition`` is 1 if any of its days is;
- a file with no operation (a header row only), or whose operations cover no day of the
  dataset, is refused: every month's regime would be baseline and no month a transition,
  constant targets that teach nothing (and would replace a dataset's good ones).
Per-day labels (``daily_phases``) are what the rule produces; the data contract keys
these targets by month, so ``phase_targets`` writes the monthly ones.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from raysearch.core.errors import DataError
from raysearch.core.files import read_yaml, staged_directory
from raysearch.data.adapters.casualty import monthly_casualty
from raysearch.data.contract import load_dataset
from raysearch.data.manifest import DERIVED, MANIFEST_NAME, Manifest, read_manifest
from raysearch.data.raw import RawDataset, month_index, month_range
from raysearch.data.reading import read_csv
from raysearch.data.writer import target_file, write_targets

__all__ = ["BASELINE_CLASS", "daily_phases", "import_phases", "phase_targets"]

BASELINE_CLASS = 3
COLUMNS = ("operation", "start", "end", "coarse_class")
_NO_PERSONNEL = (
    "; to add the regime and transition targets only, give --no-casualty (import_phases: "
    "casualty=False)"
)


def _read(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError([f"{path}: file missing (expected the war-phases CSV)"])
    expected = f"the war-phases CSV: {', '.join(COLUMNS)}"
    df = read_csv(path, expected, dtype=str, keep_default_na=False)
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise DataError([f"{path}: missing column(s) {missing}; found {list(df.columns)}"])
    if df.empty:
        raise DataError([f"{path}: no operations (a header row only); expected one row per "
                         "operation"], f"phases file {path}")  # fmt: skip
    problems = []
    for col in ("start", "end"):
        text = df[col].where(df[col] != "", None)
        parsed = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
        bad = parsed.isna() & text.notna()
        if col == "start":
            bad |= text.isna()
        for i in np.flatnonzero(bad.to_numpy()):
            problems.append(f"{path}: column {col!r}: {df[col].iloc[i]!r} at row {i + 1}, "
                            "expected YYYY-MM-DD")  # fmt: skip
        df[col] = parsed
    classes = pd.to_numeric(df["coarse_class"], errors="coerce")
    for i in np.flatnonzero(~classes.isin([0, 1, 2, 3]).to_numpy()):
        problems.append(f"{path}: column 'coarse_class': {df['coarse_class'].iloc[i]!r} at "
                        f"row {i + 1}, expected 0..3")  # fmt: skip
    ended = df["end"].notna() & df["start"].notna()
    for i in np.flatnonzero((ended & (df["end"] < df["start"])).to_numpy()):
        problems.append(f"{path}: row {i + 1}: end {df['end'].iloc[i].date()} is before "
                        f"start {df['start'].iloc[i].date()}")  # fmt: skip
    if problems:
        raise DataError(problems, f"phases file {path}")
    df["coarse_class"] = classes.astype(int)
    return df


def daily_phases(path: str | Path, start: dt.date, n_days: int) -> dict[str, np.ndarray]:
    """Per day of ``start .. start + n_days - 1``: ``regime`` (int64 0..3, the primary
    operation's coarse class) and ``transition`` (bool, an operation starts or ends)."""
    ops = _read(Path(path))
    dates = pd.date_range(start, periods=n_days, freq="D")
    last = dates[-1]
    day_class = np.full(n_days, BASELINE_CLASS, dtype=np.int64)
    started = np.full(n_days, np.datetime64("NaT"), dtype="datetime64[ns]")
    boundary = np.zeros(n_days, dtype=bool)
    covered = np.zeros(n_days, dtype=bool)
    for op_start, op_end, coarse in zip(
        ops["start"], ops["end"], ops["coarse_class"].to_numpy(), strict=True
    ):
        begin = pd.Timestamp(op_start)
        has_end = not pd.isna(op_end)
        end = pd.Timestamp(op_end) if has_end else last
        cover = (dates >= begin) & (dates <= end)
        covered |= cover
        newer = cover & ~(started > begin.to_datetime64())  # most recent start wins
        day_class[newer] = coarse
        started[newer] = begin.to_datetime64()
        boundary |= dates == begin
        if has_end:
            boundary |= dates == end
    if not covered.any():  # then no start or end falls on the calendar either
        raise DataError([f"{path}: none of its {len(ops)} operation(s) covers a day of the "
                         f"dataset ({dates[0].date()}..{last.date()}): every month's regime "
                         f"would be baseline ({BASELINE_CLASS}) and no month a transition"],
                        f"phases file {path}")  # fmt: skip
    return {"regime": day_class, "transition": boundary}


def phase_targets(path: str | Path, start: dt.date, n_days: int) -> dict[str, np.ndarray]:
    """Monthly ``regime`` (0..3) and ``transition`` (0/1) on the dataset's month calendar."""
    days = daily_phases(path, start, n_days)
    dates = pd.date_range(start, periods=n_days, freq="D")
    months = month_index(dates, start)
    n_months = len(month_range(start, n_days))
    counts = np.zeros((n_months, 4), dtype=np.int64)
    np.add.at(counts, (months, days["regime"]), 1)
    regime = (3 - np.argmax(counts[:, ::-1], axis=1)).astype(np.float32)  # ties -> later class
    transition = np.zeros(n_months, dtype=np.float32)
    np.maximum.at(transition, months, days["transition"].astype(np.float32))
    return {"regime": regime, "transition": transition}


def import_phases(phases: str | Path, dataset_dir: str | Path, casualty: bool = True) -> RawDataset:
    """Add monthly ``regime`` and ``transition`` (and, with ``casualty``, the monthly
    personnel-loss count; see ``casualty.monthly_casualty``) to the dataset at
    ``dataset_dir``: each as ``targets/<task>.csv``, named in its manifest. The dataset's
    other files stay as they are, byte for byte. Everything is computed before anything is
    written, and the dataset is written beside its directory and moved in once complete
    (``core.files.staged_directory``), so a failure leaves it as it was."""
    root = Path(dataset_dir)
    raw = load_dataset(root)
    added = phase_targets(phases, raw.start, raw.n_days)
    if casualty:
        added["casualty"] = monthly_casualty(raw, absent=_NO_PERSONNEL)
    _check_free(read_manifest(root), added)
    doc = read_yaml((root / MANIFEST_NAME).read_text())  # load_dataset checked it
    with staged_directory(root) as staging:
        shutil.copytree(root, staging, symlinks=True, dirs_exist_ok=True)
        doc["tasks"] = {**doc["tasks"], **write_targets(added, raw.months, staging)}
        (staging / MANIFEST_NAME).write_text(yaml.safe_dump(doc, sort_keys=False))
    raw.targets = {**raw.targets, **added}
    return raw


def _check_free(man: Manifest, added: dict[str, np.ndarray]) -> None:
    """Refuse to write a target over a file the manifest names for something else (a
    source, the raions, another task's targets)."""
    named = {f"sources.{s.name}.file": s.file for s in man.sources}
    named |= {f"tasks.{t}": f for t, f in man.tasks.items() if f != DERIVED and t not in added}
    if man.raions is not None:
        named["raions"] = man.raions
    taken = {os.path.normpath(file): field for field, file in named.items()}
    problems = [
        f"{man.root / MANIFEST_NAME}: {taken[file]}: {file!r} is where import-phases writes "
        f"the {task} targets; move that file (and its entry) elsewhere"
        for task in added
        if (file := os.path.normpath(target_file(task))) in taken
    ]
    if problems:
        raise DataError(problems, f"dataset {man.root}")
