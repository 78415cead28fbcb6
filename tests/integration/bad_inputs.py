"""Bad inputs to ``raysearch run``, one builder each: the fault matrix's "bad flag", "bad
space file" and "bad dataset" lines, and the cases of issue 18 (a source with no observed
value, raions without coordinates, a missing --data folder).

Each case writes what it needs under a directory and returns the command line's arguments
and the words its one error must contain (the file, column, row or flag).
``python -m tests.integration.bad_inputs OUT_DIR`` times each case through the command line.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import yaml

from raysearch.core.data_config import SynthConfig
from raysearch.data.synth import generate
from raysearch.data.writer import write_dataset

__all__ = ["CASES", "Case", "write_good_dataset"]

# The tiny sizes every case runs at (a refused input never reaches them).
TINY = ["--num-samples", "2", "--max-epochs", "2", "--no-wandb"]
SPACE = """
settings: {num_samples: 2, max_epochs: 2}
fixed: {size: tiny, daily_window: 30, monthly_window: 3, raion_pca_components: 2,
        anchor_stride: 3}
parameters:
  loss_strategy: {type: categorical, choices: [uniform, kendall]}
"""


def write_good_dataset(root: Path) -> Path:
    """A small valid dataset (420 days, 6 raions) as CSV: each data case breaks one thing."""
    write_dataset(generate(SynthConfig(days=420, raions=6)), root, fmt="csv")
    return root


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path, Path], list[str]]  # (work dir, good dataset) -> extra arguments
    expect: tuple[str, ...]  # what the one error names


def _space(work: Path, text: str = SPACE) -> str:
    path = work / "space.yaml"
    path.write_text(text)
    return str(path)


def _dataset(work: Path, good: Path, edit: Callable[[Path], None]) -> list[str]:
    root = Path(shutil.copytree(good, work / "data"))
    edit(root)
    return ["--space", _space(work), "--data", str(root)]


def _pca(work: Path, good: Path) -> list[str]:
    """A valid dataset and space, but the space searches more PCA components than it has."""
    args = _dataset(work, good, lambda root: None)
    searched = SPACE.replace(" raion_pca_components: 2,", "")
    _space(work, searched + "  raion_pca_components: {type: int, low: 1, high: 99}\n")
    return args


def _edit_csv(path: Path, fn: Callable[[pd.DataFrame], pd.DataFrame]) -> None:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    fn(df).to_csv(path, index=False)


def _blank(columns: str | list[str]) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def blank(df: pd.DataFrame) -> pd.DataFrame:
        cols = [c for c in df.columns if c not in ("date", "month", "raion")]
        df[cols if columns == "features" else columns] = ""
        return df

    return blank


def _set(row: int, column: str, value: str) -> Callable[[pd.DataFrame], pd.DataFrame]:
    def put(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[row, column] = value
        return df

    return put


def _manifest(root: Path, fn: Callable[[dict], None]) -> None:
    doc = yaml.safe_load((root / "manifest.yaml").read_text())
    fn(doc)
    (root / "manifest.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))


CASES: tuple[Case, ...] = (
    Case("unknown flag", lambda w, g: ["--space", "smoke", "--num-sample", "3"],
         ("--num-sample", "valid flags")),
    Case("bad flag value", lambda w, g: ["--space", "smoke", "--workers-per-trial", "0"],
         ("--workers-per-trial",)),
    Case("unknown space", lambda w, g: ["--space", "no_such_space"], ("no_such_space",)),
    Case("unknown space parameter",
         lambda w, g: ["--space", _space(w, SPACE + "  dropuot: {type: float, low: 0, high: 1}\n")],
         ("space.yaml", "dropuot")),
    Case("bad space value",
         lambda w, g: ["--space", _space(w, SPACE.replace("size: tiny", "size: huge"))],
         ("space.yaml", "huge")),
    Case("resume a directory that is not a run", lambda w, g: ["--resume", str(w)],
         ("--resume", "options.json")),
    Case("missing --data folder",
         lambda w, g: ["--space", _space(w), "--data", str(w / "no_such_dir")],
         ("no_such_dir", "does not exist")),
    Case("no manifest",
         lambda w, g: _dataset(w, g, lambda r: (r / "manifest.yaml").unlink()),
         ("manifest.yaml", "missing")),
    Case("file named in the manifest missing",
         lambda w, g: _dataset(w, g, lambda r: (r / "daily" / "firms.csv").unlink()),
         ("firms.csv", "file missing")),
    Case("source with no observed value",
         lambda w, g: _dataset(
             w, g, lambda r: _edit_csv(r / "daily" / "personnel.csv", _blank("features"))),
         ("personnel.csv", "no observed value")),
    Case("raion source with no observed value",
         lambda w, g: _dataset(
             w, g, lambda r: _edit_csv(r / "raion" / "raion_firms.csv", _blank("features"))),
         ("raion_firms.csv", "no observed value")),
    Case("raions.csv with every coordinate missing",
         lambda w, g: _dataset(
             w, g, lambda r: _edit_csv(r / "raions.csv", _blank(["lat", "lon"]))),
         ("raions.csv", "'lat'", "every value is missing")),
    Case("target with every value missing",
         lambda w, g: _dataset(
             w, g, lambda r: _edit_csv(r / "targets" / "regime.csv", _blank(["value"]))),
         ("regime.csv", "no targets")),
    Case("non-numeric value",
         lambda w, g: _dataset(
             w, g, lambda r: _edit_csv(r / "daily" / "equipment.csv",
                                       _set(4, "tank_delta", "about 5"))),
         ("equipment.csv", "'tank_delta'", "row 5")),
    Case("infinite value",
         lambda w, g: _dataset(
             w, g, lambda r: _edit_csv(r / "daily" / "viina.csv", _set(9, "events", "inf"))),
         ("viina.csv", "'events'", "row 10")),
    Case("date outside the manifest's range",
         lambda w, g: _dataset(
             w, g, lambda r: _edit_csv(r / "daily" / "deepstate.csv",
                                       _set(419, "date", "2030-01-01"))),
         ("deepstate.csv", "2030-01-01")),
    Case("unknown raion",
         lambda w, g: _dataset(
             w, g, lambda r: _edit_csv(r / "raion" / "raion_deepstate.csv",
                                       _set(0, "raion", "R999"))),
         ("raion_deepstate.csv", "R999")),
    Case("unknown task in the manifest",
         lambda w, g: _dataset(
             w, g, lambda r: _manifest(r, lambda m: m["tasks"].update(regmie="targets/x.csv"))),
         ("manifest.yaml", "regmie")),
    Case("searched PCA larger than the dataset allows", lambda w, g: _pca(w, g),
         ("raion_pca_components", "99")),
)  # fmt: skip


def main(out: Path) -> int:
    """Time every case through ``python -m raysearch.run`` (wall seconds to the refusal)."""
    good = write_good_dataset(out / "good")
    worst = 0.0
    for i, case in enumerate(CASES):
        work = out / f"case{i:02d}"
        work.mkdir(parents=True)
        args = case.build(work, good)
        if "--resume" not in args:
            args += ["--results", str(work / "results"), *TINY]
        began = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "raysearch.run", *args],
            capture_output=True, text=True, timeout=600, check=False,
        )  # fmt: skip
        took = time.perf_counter() - began
        worst = max(worst, took)
        named = all(word in proc.stderr for word in case.expect)
        print(f"{took:6.1f} s  exit {proc.returncode}  named={named}  {case.name}")
    print(f"slowest refusal: {worst:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
