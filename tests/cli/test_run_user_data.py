"""raysearch run on a dataset of the user's own that no trial could use: refused before Ray
starts, exit 2, with nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import raysearch.api
from raysearch.cli.run import main as run_main
from raysearch.core.files import METADATA, OPTIONS
from raysearch.data.cache import CACHE_VERSION
from raysearch.search.options import RunOptions
from raysearch.search.resume import DATA_PREPARATION
from tests.data.test_data_reading import user_dataset


@pytest.fixture()
def no_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object) -> None:
        raise AssertionError("the dataset passed every check: Ray would start now")

    monkeypatch.setattr(raysearch.api, "_search", refuse)


def _run(tmp_path: Path, data: Path, space: str = "war_losses") -> int:
    return run_main(["--space", space, "--data", str(data), "--results",
                     str(tmp_path / "results"), "--no-wandb", "--name", "x"])  # fmt: skip


def test_a_dataset_with_no_task_is_refused_before_ray(
    tmp_path: Path, no_ray: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ray started, the run directory was written, and every trial failed building its
    model ("spec.tasks: no tasks")."""
    root = user_dataset(tmp_path / "ds", days=700)
    manifest = root / "manifest.yaml"
    manifest.write_text(manifest.read_text().split("tasks:")[0] + "tasks: {}\n")
    assert _run(tmp_path, root) == 2
    assert f"{manifest}: tasks: no task to train" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()


def test_a_dataset_whose_validation_split_has_no_target_is_refused_before_ray(
    tmp_path: Path, no_ray: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Targets in the first year only: every trial failed at its first evaluation
    (UnscorableSplitError), found only inside a trial."""
    root = user_dataset(tmp_path / "ds", days=700)
    manifest = root / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("  daily_forecast: derived\n", ""))
    regime = root / "regime.csv"
    lines = regime.read_text().splitlines()
    regime.write_text("\n".join(lines[:13] + [f"{line.split(',')[0]}," for line in lines[13:]]))
    assert _run(tmp_path, root) == 2
    err = capsys.readouterr().err
    assert f"{root}: the validation split of origin 1 of 2 (anchor days" in err
    assert f"{root}: the test split (anchor days" in err
    assert not (tmp_path / "results").exists()


def test_a_refused_data_parameter_leaves_no_cache_behind(
    tmp_path: Path, no_ray: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """model_size searches raion_pca_components 2..10 on a raion source of 9 features:
    the start point's PCA 8 and the low bound's 2 were prepared and cached, then PCA 10
    was refused (exit 2), leaving results/.cache/data/*.pt in a results/ that had not
    existed. An entry already in the cache stays."""
    root = user_dataset(tmp_path / "ds", days=700)
    rng = np.random.default_rng(0)
    days = pd.date_range("2022-01-01", periods=700).strftime("%Y-%m-%d")
    rows = pd.DataFrame({"date": np.repeat(days, 3), "raion": ["r1", "r2", "r3"] * 700})
    for j in range(9):
        rows[f"f{j}"] = rng.normal(size=len(rows))
    rows.to_csv(root / "raion.csv", index=False)
    pd.DataFrame({"raion": ["r1", "r2", "r3"], "lat": [50, 49, 48], "lon": [30, 31, 32]}).to_csv(
        root / "raions.csv", index=False
    )
    manifest = yaml.safe_load((root / "manifest.yaml").read_text())
    manifest["raions"] = "raions.csv"
    manifest["sources"]["g"] = {"resolution": "raion", "file": "raion.csv"}
    (root / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    assert _run(tmp_path, root, space="model_size") == 2
    assert "raion_pca_components: 10 exceeds" in capsys.readouterr().err
    assert not (tmp_path / "results").exists()
    cache = tmp_path / "results" / ".cache" / "data"
    cache.mkdir(parents=True)
    (cache / "another.pt").write_bytes(b"a search's")
    assert _run(tmp_path, root, space="model_size") == 2
    assert [p.name for p in cache.iterdir()] == ["another.pt"]


def test_a_resume_refused_for_its_changed_data_leaves_no_cache_behind(
    tmp_path: Path, no_ray: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The resume's data was checked against its run's after the block that removes what a
    refused command cached had closed: the data prepared for it stayed. Found by a review
    helper."""
    results = tmp_path / "results"
    run_dir = results / "war_losses" / "x"
    run_dir.mkdir(parents=True)
    data = user_dataset(tmp_path / "ds", days=700)
    options = RunOptions(space="war_losses", data=str(data), results=str(results), name="x")
    (run_dir / OPTIONS).write_text(json.dumps(options.to_json()))
    recorded = {"run_dir": str(run_dir), "data_fingerprint": "another dataset's"}
    (run_dir / METADATA).write_text(json.dumps({**recorded, DATA_PREPARATION: CACHE_VERSION}))
    assert run_main(["--resume", str(run_dir)]) == 2
    assert "changed since the run started" in capsys.readouterr().err
    assert not (results / ".cache").exists() or not list((results / ".cache").rglob("*.pt"))
