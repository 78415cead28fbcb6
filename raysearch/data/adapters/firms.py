"""Adapter: a NASA FIRMS archive CSV (fire detections) -> the ``firms`` daily source and,
given a raion geometry file, the ``firms`` raion source.

Input columns (SOURCES.md): ``acq_date`` (YYYY-MM-DD), ``brightness``, ``bright_t31``,
``frp``, ``scan``, ``track`` (numbers), ``confidence`` (``h``/``n``/``l``), ``daynight``
(``D``/``N``); the raion variant also needs ``latitude`` and ``longitude``. Other columns
(``acq_time``, ``satellite``, ...) are ignored.

Per day (and per raion-day) the 13 features of SOURCES.md: ``fire_count``, brightness
mean/max/std (population std), bright_t31 mean/max, frp sum/mean/max,
``high_confidence_count``, ``daytime_count``, scan mean, track mean. The archive lists
detections, so a day of the covered range (``start .. end``, by default the first and last
detection's dates) with no detection has counts and sums of 0 (a real zero) and its
means/max/std unobserved (NaN), never zero.

Malformed rows (unparseable date, non-numeric or missing number, unknown confidence or
daynight code, or, for the raion variant, coordinates outside -90..90 / -180..180) are all
listed in one DataError naming the file, row and column; with ``skip_malformed`` they are
dropped instead and counted in the report. Detections outside ``start .. end`` are dropped
and counted; a range with none of the file's detections is refused (its counts would all be
0), as is a raion geometry in which none of them lies.

Raion geometry: a CSV ``raion, lat, lon`` (centroids: a fire belongs to the nearest
centroid, by great-circle distance, within ``max_km``) or a GeoJSON FeatureCollection of
Polygon/MultiPolygon features with the raion's name in ``properties.<name_field>`` (a fire
belongs to the polygon containing it; one in no polygon is dropped and counted).
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from raysearch.core.errors import DataError, ErrorCollector
from raysearch.data.raw import RawDataset, RawSource, iso_day
from raysearch.data.reading import read_csv, read_text
from raysearch.data.writer import write_dataset

__all__ = [
    "FIRMS_FEATURES",
    "assign_raions",
    "drop_report",
    "firms_raw",
    "import_firms",
    "read_firms",
]

NUMERIC = ("brightness", "bright_t31", "frp", "scan", "track")
REQUIRED = ("acq_date", *NUMERIC, "confidence", "daynight")
FIRMS_FEATURES = (
    "fire_count",
    "brightness_mean",
    "brightness_max",
    "brightness_std",
    "bright_t31_mean",
    "bright_t31_max",
    "frp_sum",
    "frp_mean",
    "frp_max",
    "high_confidence_count",
    "daytime_count",
    "scan_mean",
    "track_mean",
)
EARTH_KM = 6371.0


def read_firms(
    path: str | Path, need_coords: bool = False, skip_malformed: bool = False
) -> tuple[pd.DataFrame, int]:
    """The detections of a FIRMS CSV, typed; returns (frame, number of rows dropped)."""
    path = Path(path)
    if not path.is_file():
        raise DataError([f"{path}: file missing (expected a NASA FIRMS archive CSV)"])
    df = _read_csv(path, "a NASA FIRMS archive CSV")
    required = REQUIRED + (("latitude", "longitude") if need_coords else ())
    missing = [c for c in required if c not in df.columns]
    if missing:
        raise DataError([f"{path}: missing column(s) {missing}; found {list(df.columns)}"])
    bad = pd.DataFrame(False, index=df.index, columns=list(required))
    out = pd.DataFrame(index=df.index)
    out["date"] = pd.to_datetime(df["acq_date"].str.strip(), format="%Y-%m-%d", errors="coerce")
    bad["acq_date"] = out["date"].isna()
    for col in NUMERIC + (("latitude", "longitude") if need_coords else ()):
        out[col] = pd.to_numeric(df[col].str.strip(), errors="coerce")
        bad[col] = ~np.isfinite(out[col].to_numpy(np.float64))
    if need_coords:
        bad["latitude"] |= out["latitude"].abs() > 90
        bad["longitude"] |= out["longitude"].abs() > 180
    conf = df["confidence"].str.strip().str.lower()
    bad["confidence"] = ~conf.isin(["h", "n", "l"])
    out["high"] = (conf == "h").astype(np.float64)
    dn = df["daynight"].str.strip().str.upper()
    bad["daynight"] = ~dn.isin(["D", "N"])
    out["day"] = (dn == "D").astype(np.float64)
    rows = bad.any(axis=1).to_numpy()
    if rows.any() and not skip_malformed:
        problems = []
        for i in np.flatnonzero(rows):
            cols = [c for c in required if bad.at[df.index[int(i)], c]]
            vals = ", ".join(f"{c}={df[c].iloc[i]!r}" for c in cols)
            problems.append(f"{path}: row {i + 1}: malformed {vals}")
        raise DataError(problems, f"FIRMS file {path}")
    return out.loc[~rows].reset_index(drop=True), int(rows.sum())


def _read_csv(path: Path, expected: str) -> pd.DataFrame:
    """``path``'s cells as text; a file with no header row, not UTF-8 or not a well-formed
    CSV is a DataError naming it."""
    return read_csv(path, expected, dtype=str, keep_default_na=False)


def _aggregate(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """The 13 features per group of ``keys``."""
    g = df.groupby(keys, sort=True)
    out = pd.DataFrame(
        {
            "fire_count": g.size().astype(np.float64),
            "brightness_mean": g["brightness"].mean(),
            "brightness_max": g["brightness"].max(),
            "brightness_std": g["brightness"].std(ddof=0),
            "bright_t31_mean": g["bright_t31"].mean(),
            "bright_t31_max": g["bright_t31"].max(),
            "frp_sum": g["frp"].sum(),
            "frp_mean": g["frp"].mean(),
            "frp_max": g["frp"].max(),
            "high_confidence_count": g["high"].sum(),
            "daytime_count": g["day"].sum(),
            "scan_mean": g["scan"].mean(),
            "track_mean": g["track"].mean(),
        }
    )
    return out[list(FIRMS_FEATURES)]


def _zero_fill_counts(values: np.ndarray) -> np.ndarray:
    """Counts and sums of a day/raion-day with no detection are 0; the rest stay NaN."""
    for name in ("fire_count", "frp_sum", "high_confidence_count", "daytime_count"):
        j = FIRMS_FEATURES.index(name)
        values[..., j] = np.nan_to_num(values[..., j], nan=0.0)
    return values


def _read_geometry(path: Path, name_field: str) -> tuple[list[str], np.ndarray, list | None]:
    """(names, centroids (R, 2) lat/lon, polygons per raion or None for a centroid CSV)."""
    if not path.is_file():
        raise DataError([f"{path}: file missing (expected raion geometry: CSV or GeoJSON)"])
    if path.suffix.lower() == ".csv":
        return (*_read_centroids(path), None)
    return _read_polygons(path, name_field)


def _read_centroids(path: Path) -> tuple[list[str], np.ndarray]:
    """A CSV ``raion, lat, lon``: the names and centroids; one DataError lists every
    duplicate name and every coordinate that is not a number in range, by row."""
    df = _read_csv(path, "raion geometry: a CSV raion, lat, lon")
    missing = [c for c in ("raion", "lat", "lon") if c not in df.columns]
    if missing:
        raise DataError([f"{path}: missing column(s) {missing}; found {list(df.columns)}"])
    problems = []
    if df.empty:
        problems.append(f"{path}: no raions (a header row only)")
    if df["raion"].duplicated().any():
        problems.append(
            f"{path}: duplicate raion names {sorted(df['raion'][df['raion'].duplicated()])}"
        )
    coords = []
    for col, limit in (("lat", 90), ("lon", 180)):
        values = pd.to_numeric(df[col].str.strip(), errors="coerce").to_numpy(np.float64)
        bad = ~np.isfinite(values) | (np.abs(values) > limit)
        problems += [f"{path}: row {i + 1}: {col} {df[col].iloc[i]!r}, expected a number in "
                     f"-{limit}..{limit}" for i in np.flatnonzero(bad)]  # fmt: skip
        coords.append(values)
    if problems:
        raise DataError(problems, f"raion geometry {path}")
    return list(df["raion"]), np.column_stack(coords)


def _read_polygons(path: Path, name_field: str) -> tuple[list[str], np.ndarray, list]:
    """A GeoJSON FeatureCollection: names, centroids (lat/lon) and exterior rings (lon/lat)
    per raion; one DataError lists every feature that is not a named (Multi)Polygon and
    every name given twice."""
    try:
        doc = json.loads(read_text(path, "raion geometry: a GeoJSON FeatureCollection"))
    except json.JSONDecodeError as exc:
        raise DataError([f"{path}: not valid JSON ({exc})"]) from None
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list):
        raise DataError([f"{path}: expected a GeoJSON FeatureCollection (an object with a "
                         f"'features' list), got {type(doc).__name__}"])  # fmt: skip
    names, cents, polys, problems = [], [], [], []
    for k, feat in enumerate(features, start=1):  # counted from 1, as rows and records are
        try:
            name, rings = _polygon(feat, name_field)
        except ValueError as exc:
            problems.append(f"{path}: feature {k}: {exc}")
            continue
        allv = np.concatenate(rings)
        names.append(name)
        cents.append((allv[:, 1].mean(), allv[:, 0].mean()))
        polys.append(rings)
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        problems.append(f"{path}: duplicate raion names {twice} (properties.{name_field})")
    if problems:
        raise DataError(problems, f"raion geometry {path}")
    if not names:
        raise DataError([f"{path}: no features"])
    return names, np.asarray(cents), polys


def _polygon(feat: object, name_field: str) -> tuple[str, list[np.ndarray]]:
    """A GeoJSON feature's name and exterior rings ((n, 2) lon/lat each); ValueError saying
    what it lacks."""
    if not isinstance(feat, dict):
        raise ValueError(f"expected a GeoJSON Feature object, got {feat!r}")
    geom, props = feat.get("geometry"), feat.get("properties")
    geom = geom if isinstance(geom, dict) else {}
    props = props if isinstance(props, dict) else {}
    if name_field not in props or geom.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValueError(f"expected properties.{name_field} and a Polygon/MultiPolygon, got "
                         f"{sorted(props)} / {geom.get('type')!r}")  # fmt: skip
    coords: Any = geom.get("coordinates")  # checked by reading it
    parts = coords if geom["type"] == "MultiPolygon" else [coords]
    try:
        rings = [np.asarray(p[0], dtype=np.float64) for p in parts]
    except (TypeError, ValueError, IndexError, KeyError):  # not nested lists of numbers
        rings = []
    if not rings or any(r.ndim != 2 or r.shape[1] < 2 or len(r) < 3 for r in rings):
        raise ValueError("coordinates: expected rings of [lon, lat] pairs (3 or more each)")
    if not all(np.isfinite(r).all() for r in rings):
        raise ValueError("coordinates: expected finite numbers")
    return str(props[name_field]), [r[:, :2] for r in rings]


def assign_raions(
    lat: np.ndarray, lon: np.ndarray, centroids: np.ndarray, polygons: list | None,
    max_km: float = 50.0,
) -> np.ndarray:  # fmt: skip
    """Raion index of each point, -1 where none: the containing polygon, or without
    polygons the nearest centroid within ``max_km`` (haversine)."""
    if polygons is not None:
        # Deferred: matplotlib costs ~0.5 s to import; only polygons need it.
        from matplotlib.path import Path as MplPath

        idx = np.full(len(lat), -1, dtype=np.int64)
        pts = np.column_stack([lon, lat])
        for r, rings in enumerate(polygons):
            inside = np.zeros(len(lat), dtype=bool)
            for ring in rings:
                inside |= MplPath(ring).contains_points(pts)
            idx[(idx < 0) & inside] = r
        return idx
    la1, lo1 = np.radians(lat)[:, None], np.radians(lon)[:, None]
    la2, lo2 = np.radians(centroids[:, 0])[None], np.radians(centroids[:, 1])[None]
    h = np.sin((la2 - la1) / 2) ** 2 + np.cos(la1) * np.cos(la2) * np.sin((lo2 - lo1) / 2) ** 2
    dist = 2 * EARTH_KM * np.arcsin(np.sqrt(np.clip(h, 0.0, 1.0)))
    near = dist.argmin(axis=1)
    return np.where(dist[np.arange(len(lat)), near] <= max_km, near, -1)


def _date_range(
    start: str | dt.date | None, end: str | dt.date | None
) -> tuple[dt.date | None, dt.date | None]:
    """``start`` and ``end`` as days; one DataError quotes each that is not YYYY-MM-DD."""
    errs = ErrorCollector()
    days = [_day(errs, "start", start), _day(errs, "end", end)]
    errs.raise_if_any(DataError, "FIRMS date range")
    return days[0], days[1]


def _day(errs: ErrorCollector, name: str, value: str | dt.date | None) -> dt.date | None:
    if value is None or (isinstance(value, dt.date) and not isinstance(value, dt.datetime)):
        return value
    try:
        return iso_day(str(value))
    except ValueError:
        errs.add(f"{name} {str(value)!r}", "expected a date YYYY-MM-DD (a day, no time)")
        return None


def firms_raw(
    path: str | Path,
    raions: str | Path | None = None,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    skip_malformed: bool = False,
    name_field: str = "name",
    max_km: float = 50.0,
) -> tuple[RawDataset, dict[str, int]]:
    """The firms source(s) as a ``RawDataset`` (daily_forecast derived), with counts of
    dropped rows: {"malformed", "outside_dates", "outside_raions"}. ``start`` and ``end``
    are days (YYYY-MM-DD). A range in which the file has no detection, or a geometry in
    which none of the range's detections lies, is a DataError (all its counts would be 0)."""
    start, end = _date_range(start, end)
    df, n_bad = read_firms(path, need_coords=raions is not None, skip_malformed=skip_malformed)
    if df.empty:
        raise DataError([f"{path}: no detections left to aggregate"])
    first = pd.Timestamp(start) if start is not None else df["date"].min()
    last = pd.Timestamp(end) if end is not None else df["date"].max()
    if last < first:
        raise DataError([f"firms: end {last.date()} is before start {first.date()}"])
    days = pd.date_range(first, last, freq="D")
    inside = (df["date"] >= first) & (df["date"] <= last)
    if not inside.any():  # a range of all zero counts: most likely a mistyped date
        raise DataError([f"{path}: no detection in {first.date()} .. {last.date()}; its "
                         f"detections run {df['date'].min().date()} .. "
                         f"{df['date'].max().date()}"])  # fmt: skip
    report = {"malformed": n_bad, "outside_dates": int((~inside).sum()), "outside_raions": 0}
    df = df[inside]
    daily = _aggregate(df, ["date"]).reindex(days).to_numpy(np.float64, copy=True)
    sources = {"firms": RawSource("firms", "daily", FIRMS_FEATURES,
                                  _zero_fill_counts(daily).astype(np.float32))}  # fmt: skip
    names: tuple[str, ...] = ()
    coords: tuple[tuple[float, float], ...] = ()
    if raions is not None:
        rnames, cents, polys = _read_geometry(Path(raions), name_field)
        idx = assign_raions(df["latitude"].to_numpy(), df["longitude"].to_numpy(), cents, polys,
                            max_km)  # fmt: skip
        if (idx < 0).all():  # raions of all zero counts: most likely the wrong geometry
            within = (
                "any polygon"
                if polys is not None
                else f"{max_km:g} km of any centroid (are its lat and lon swapped?)"
            )
            raise DataError(
                [
                    f"{raions}: none of the {len(df)} detections of {path} in {first.date()} "
                    f".. {last.date()} lies within {within}"
                ]
            )
        report["outside_raions"] = int((idx < 0).sum())
        located = df.assign(raion=idx)[idx >= 0]
        full = pd.MultiIndex.from_product([days, range(len(rnames))], names=["date", "raion"])
        per = (
            _aggregate(located, ["date", "raion"])
            .reindex(full)
            .to_numpy(np.float64, copy=True)
            .reshape(len(days), len(rnames), len(FIRMS_FEATURES))
        )
        sources["firms_raion"] = RawSource("firms_raion", "raion", FIRMS_FEATURES,
                                           _zero_fill_counts(per).astype(np.float32))  # fmt: skip
        names = tuple(rnames)
        coords = tuple((float(a), float(b)) for a, b in cents)
    raw = RawDataset(
        name=f"NASA FIRMS ({Path(path).name})",
        start=days[0].date(),
        n_days=len(days),
        sources=sources,
        targets={},
        derived_tasks=("daily_forecast",),
        raions=names,
        raion_coords=coords,
    )
    return raw, report


def import_firms(
    path: str | Path,
    out_dir: str | Path,
    raions: str | Path | None = None,
    start: str | None = None,
    end: str | None = None,
    skip_malformed: bool = False,
) -> tuple[RawDataset, str]:
    """Write the firms dataset to ``out_dir``; returns it and a one-line drop report."""
    raw, dropped = firms_raw(path, raions, start, end, skip_malformed)
    write_dataset(raw, out_dir)
    return raw, drop_report(dropped)


def drop_report(dropped: dict[str, int]) -> str:
    """One line: the rows ``firms_raw`` dropped, by reason."""
    return "dropped rows: " + ", ".join(f"{k} {v}" for k, v in dropped.items())
