"""Write a ``RawDataset`` as a dataset directory in the contract (manifest + files).

Daily sources: ``date`` + features; monthly: ``month`` (YYYY-MM) + features; raion: long
``date, raion, features`` with raion-days that have no value at all left out; targets:
``month, value``. NaN is a missing value on disk.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from raysearch.data.manifest import DERIVED, MANIFEST_NAME
from raysearch.data.raw import RawDataset

__all__ = ["target_file", "write_dataset", "write_targets"]


def _write(df: pd.DataFrame, path: Path, fmt: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)


def target_file(task: str) -> str:
    """Where a dataset written here keeps ``task``'s targets, relative to its directory."""
    return f"targets/{task}.csv"


def write_targets(
    targets: dict[str, np.ndarray], months: pd.PeriodIndex, root: Path
) -> dict[str, str]:
    """Each task's (NM,) monthly targets on ``months`` as ``root/targets/<task>.csv``
    (``month, value``); returns task -> its file, relative to ``root``."""
    stamps = months.strftime("%Y-%m")
    files = {}
    for task, values in targets.items():
        files[task] = target_file(task)
        _write(pd.DataFrame({"month": stamps, "value": values}), root / files[task], "csv")
    return files


def write_dataset(raw: RawDataset, out_dir: str | Path, fmt: str = "parquet") -> Path:
    """Write ``raw`` under ``out_dir`` (``fmt``: "parquet" or "csv"); returns the manifest path."""
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"fmt must be 'parquet' or 'csv', got {fmt!r}")
    root = Path(out_dir)
    root.mkdir(parents=True, exist_ok=True)
    dates = raw.dates.strftime("%Y-%m-%d")
    months = raw.months.strftime("%Y-%m")
    sources = {}
    for src in raw.sources.values():
        rel = f"{src.resolution}/{src.name}.{fmt}"
        if src.resolution == "daily":
            df = pd.DataFrame(src.values, columns=list(src.features))
            df.insert(0, "date", dates)
        elif src.resolution == "monthly":
            df = pd.DataFrame(src.values, columns=list(src.features))
            df.insert(0, "month", months)
        else:
            d, r, f = src.values.shape
            flat = src.values.reshape(d * r, f)
            keep = ~np.isnan(flat).all(axis=1)
            df = pd.DataFrame(flat[keep], columns=list(src.features))
            df.insert(0, "raion", np.tile(np.asarray(raw.raions), d)[keep])
            df.insert(0, "date", np.repeat(np.asarray(dates), r)[keep])
        _write(df, root / rel, fmt)
        sources[src.name] = {
            "resolution": src.resolution,
            "file": rel,
            "features": list(src.features),
        }
    tasks = write_targets(raw.targets, raw.months, root)
    tasks.update({name: DERIVED for name in raw.derived_tasks})
    manifest: dict = {
        "name": raw.name,
        "start": raw.start.isoformat(),
        "end": raw.dates[-1].date().isoformat(),
    }
    if raw.raions:
        lat, lon = zip(*raw.raion_coords, strict=True)
        _write(
            pd.DataFrame({"raion": raw.raions, "lat": lat, "lon": lon}), root / "raions.csv", "csv"
        )
        manifest["raions"] = "raions.csv"
    manifest.update({"sources": sources, "tasks": tasks})
    path = root / MANIFEST_NAME
    path.write_text(yaml.safe_dump(manifest, sort_keys=False))
    return path
