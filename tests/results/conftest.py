"""Fake run directories (raysearch.results.testing), written once per test module, and
copies of the committed example runs (results/examples), made per test."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from raysearch.testing.results import write_fake_run


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    root = tmp_path_factory.mktemp("runs") / "loss_ablation"
    return [
        write_fake_run(root / "a", seed=0, n_trials=12),
        write_fake_run(root / "b", seed=1, n_trials=9),
    ]


EXAMPLES = Path(__file__).resolve().parents[2] / "results" / "examples"
# a committed example's run files (not its report/ or seeds/)
_RUN_FILES = (
    "trials.parquet",
    "epochs.parquet",
    "metadata.json",
    "finalists.parquet",
    "summary.json",
    "summary.md",
    "best_config.yaml",
)


@pytest.fixture
def example_run(tmp_path: Path):
    """A copy of a committed example run (results/examples/<name>) under ``tmp_path``:
    ``example_run("war_losses", "w")`` is tmp_path/war_losses/w."""

    def copy(example: str, name: str = "run") -> Path:
        dest = tmp_path / example / name
        dest.mkdir(parents=True)
        for file in _RUN_FILES:
            if (EXAMPLES / example / file).is_file():
                shutil.copy(EXAMPLES / example / file, dest / file)
        return dest

    return copy
