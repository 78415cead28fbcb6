"""The results layout, in one place (syne-tune style constants), and atomic writes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

__all__ = [
    "BEST_CONFIG",
    "EPOCHS",
    "METADATA",
    "OPTIONS",
    "SUMMARY_JSON",
    "SUMMARY_MD",
    "TIMING",
    "TRIALS",
    "TUNE_DIR",
    "atomic_write_text",
    "write_json",
    "write_parquet",
    "write_yaml",
]

TRIALS = "trials.parquet"  # one row per trial
EPOCHS = "epochs.parquet"  # one row per trial and epoch
BEST_CONFIG = "best_config.yaml"
SUMMARY_JSON = "summary.json"
SUMMARY_MD = "summary.md"
OPTIONS = "options.json"  # the parsed command line, for --resume
METADATA = "metadata.json"  # command, seed, space, versions, git SHA, data fingerprint
TIMING = "timing.json"  # the driver's phases: Ray start, set-up, Tune, collecting results
TUNE_DIR = "tune"  # Ray Tune's experiment directory (resume from here)


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_parquet(path: Path, frame: pd.DataFrame) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    frame.to_parquet(tmp, index=False)
    os.replace(tmp, path)


def write_yaml(path: Path, data: Any) -> None:
    atomic_write_text(path, yaml.safe_dump(data, sort_keys=False))


def write_json(path: Path, data: Any) -> None:
    atomic_write_text(path, json.dumps(data, indent=2, default=str))
