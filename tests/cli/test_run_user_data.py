"""raysearch run on a dataset of the user's own that no trial could use: refused before Ray
starts, exit 2, with nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

import raysearch.api
from raysearch.cli.run import main as run_main
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
