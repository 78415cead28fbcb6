"""The dataset manifest (``manifest.yaml``): name, date range, sources, raions and tasks.

    name: ukraine-losses
    start: 2022-02-25                      # first and last day of the dataset (inclusive)
    end: 2026-08-08
    raions: raions.csv                     # raion, lat, lon (needed by raion sources)
    sources:
      equipment: {resolution: daily, file: equipment.csv}          # date + features
      sentinel: {resolution: monthly, file: monthly/sentinel.parquet}   # month + features
      geoconfirmed: {resolution: raion, file: raion/geo.parquet, features: [a, b]}
    tasks:
      regime: targets/regime.csv           # month, value
      forecast: derived                    # from the monthly sources
      daily_forecast: derived              # from the daily sources

``features`` is optional; when given (a non-empty list, each name once), the file must hold
exactly those columns (plus keys).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import yaml

from raysearch.core.errors import DataError, ErrorCollector
from raysearch.core.files import DuplicateKeyError, read_yaml
from raysearch.core.spec import TASK_NAMES, Resolution
from raysearch.data.raw import MONTHLY_TASKS, iso_day
from raysearch.data.reading import read_text

__all__ = ["DERIVED", "MANIFEST_NAME", "Manifest", "SourceEntry", "read_manifest"]

MANIFEST_NAME = "manifest.yaml"
DERIVED = "derived"
_RESOLUTIONS = tuple(r.value for r in Resolution)


@dataclass(frozen=True)
class SourceEntry:
    name: str
    resolution: str
    file: str
    features: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Manifest:
    root: Path
    name: str
    start: dt.date
    end: dt.date
    sources: tuple[SourceEntry, ...]
    tasks: dict[str, str]  # task -> target file, or "derived"
    raions: str | None = None

    @property
    def n_days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def files(self) -> list[str]:
        """Every file the loader reads, relative to ``root``, once each and sorted: the
        manifest, each source's file, each task's target file and the raions file."""
        named = [MANIFEST_NAME, *(s.file for s in self.sources)]
        named += [f for f in self.tasks.values() if f != DERIVED]
        named += [self.raions] if self.raions else []
        return sorted(set(named))


def _date(errs: ErrorCollector, where: str, value: object) -> dt.date | None:
    if isinstance(value, dt.datetime):  # YAML reads "2022-03-01 12:00:00" as one
        if value.time() == dt.time() and value.tzinfo is None:
            return value.date()
        errs.add(
            where, f"expected a date YYYY-MM-DD, got {value!s}: a time of day would shift days"
        )
        return None
    if isinstance(value, dt.date):
        return value
    day = _iso_text(value)
    if day is None:
        errs.add(where, f"expected an ISO date YYYY-MM-DD, got {value!r}")
    return day


def _iso_text(value: object) -> dt.date | None:
    """The day ``value`` writes as YYYY-MM-DD text, else None (YAML reads 20220224 as an
    integer, which is no date)."""
    if not isinstance(value, str):
        return None
    try:
        return iso_day(value)
    except ValueError:
        return None


def read_manifest(root: str | Path) -> Manifest:
    """Parse and check ``root/manifest.yaml``; one ``DataError`` lists every problem."""
    root = Path(root)
    path = root / MANIFEST_NAME
    if root.is_file():
        raise DataError([f"{root}: is a file, not a dataset directory (give the directory "
                         f"holding its {MANIFEST_NAME})"])  # fmt: skip
    if not root.is_dir():
        raise DataError([f"{root}: dataset directory does not exist"])
    if not path.is_file():
        raise DataError([f"{path}: manifest file missing (every dataset directory needs one)"])
    try:
        doc = read_yaml(read_text(path, "the dataset's manifest (YAML)"))
    except DuplicateKeyError as exc:
        raise DataError([f"{path}, {exc}"]) from None
    except yaml.YAMLError as exc:
        raise DataError([f"{path}: not valid YAML ({exc})"]) from exc
    if not isinstance(doc, dict):
        raise DataError([f"{path}: expected a mapping at top level, got {type(doc).__name__}"])
    errs = ErrorCollector()
    where = str(path)
    known = {"name", "start", "end", "raions", "sources", "tasks"}
    for key in sorted(set(doc) - known):
        errs.add(f"{where}: {key!r}", f"unknown key (expected some of {sorted(known)})")
    for key in ("name", "start", "end", "sources", "tasks"):
        errs.check(key in doc, where, f"missing required key {key!r}")
    name = doc.get("name")
    if "name" in doc:
        errs.check(isinstance(name, str) and bool(name.strip()), f"{where}: name",
                   f"expected the dataset's name (text), got {name!r}")  # fmt: skip
    start = _date(errs, f"{where}: start", doc.get("start", "")) if "start" in doc else None
    end = _date(errs, f"{where}: end", doc.get("end", "")) if "end" in doc else None
    if start and end:
        errs.check(end >= start, f"{where}: end", f"must be >= start {start}, got {end}")
    sources = _sources(errs, where, doc.get("sources", {}))
    tasks = _tasks(errs, where, doc.get("tasks", {}))
    raions = doc.get("raions")
    if any(s.resolution == "raion" for s in sources):
        errs.check(
            isinstance(raions, str),
            f"{where}: raions",
            f"a raion source needs a raions file (raion, lat, lon), got {raions!r}",
        )
    named = {f"sources.{s.name}.file": s.file for s in sources}
    named |= {f"tasks.{t}": f for t, f in tasks.items() if f != DERIVED}
    if isinstance(raions, str):
        named["raions"] = raions
    for field, file in named.items():
        errs.check(
            _inside(file),
            f"{where}: {field}",
            f"{file!r} is not a path inside the dataset directory: a dataset is one "
            "directory (its data cache is keyed by the files there); copy the file into it",
        )
    errs.raise_if_any(DataError, f"manifest {path}")
    assert start is not None and end is not None and isinstance(name, str)
    return Manifest(root, name, start, end, sources, tasks, raions)


def _inside(name: str) -> bool:
    """A relative path that stays inside the directory it is relative to."""
    path = Path(name)
    return not path.is_absolute() and ".." not in path.parts


def _sources(errs: ErrorCollector, where: str, doc: object) -> tuple[SourceEntry, ...]:
    if not isinstance(doc, dict) or not doc:
        errs.add(f"{where}: sources", f"expected a non-empty mapping name -> entry, got {doc!r}")
        return ()
    out = []
    for name, entry in doc.items():
        at = f"{where}: sources.{name}"
        if not isinstance(entry, dict):
            errs.add(at, f"expected a mapping with resolution and file, got {entry!r}")
            continue
        res, file, feats = entry.get("resolution"), entry.get("file"), entry.get("features")
        errs.check(
            res in _RESOLUTIONS, f"{at}.resolution", f"expected one of {_RESOLUTIONS}, got {res!r}"
        )
        ok_file = isinstance(file, str) and bool(file)
        errs.check(ok_file, f"{at}.file", f"expected a path, got {file!r}")
        ok_feats = _features(errs, f"{at}.features", feats)
        for key in sorted(set(entry) - {"resolution", "file", "features"}):
            errs.add(f"{at}: {key!r}", "unknown key (expected resolution, file, features)")
        if res in _RESOLUTIONS and isinstance(file, str) and ok_feats:
            out.append(SourceEntry(str(name), res, file, None if feats is None else tuple(feats)))
    return tuple(out)


def _features(errs: ErrorCollector, at: str, feats: object) -> bool:
    """Whether ``feats`` (a source's ``features``) is absent or a non-empty list of distinct
    column names; each problem is added to ``errs``."""
    if feats is None:
        return True
    if not isinstance(feats, list) or not feats or not all(isinstance(f, str) for f in feats):
        errs.add(at, f"expected a non-empty list of column names, got {feats!r}")
        return False
    twice = sorted({f for f in feats if feats.count(f) > 1})
    errs.check(not twice, at, f"column(s) listed more than once: {twice}")
    return not twice


def _tasks(errs: ErrorCollector, where: str, doc: object) -> dict[str, str]:
    if not isinstance(doc, dict):
        errs.add(f"{where}: tasks", f"expected a mapping task -> file or 'derived', got {doc!r}")
        return {}
    out = {}
    for name, value in doc.items():
        at = f"{where}: tasks.{name}"
        if name not in TASK_NAMES:
            errs.add(at, f"unknown task (expected one of {list(TASK_NAMES)})")
        elif name in MONTHLY_TASKS:
            if isinstance(value, str) and value and value != DERIVED:
                out[name] = value
            else:
                errs.add(at, f"expected a target file (month, value), got {value!r}")
        elif value != DERIVED:
            errs.add(at, f"{name} is computed from the sources: write 'derived', got {value!r}")
        else:
            out[name] = DERIVED
    return out
