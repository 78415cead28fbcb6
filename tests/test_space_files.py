"""Every search space file in the repository validates: the shipped ones
(raysearch/search/spaces/) and the benchmarks' (bench/spaces/), wherever a new one is put.

A space file is a YAML file under a directory named ``spaces``; every other YAML file in the
repository must be one of the known non-space files, so a space put anywhere else is caught
rather than skipped.
"""

from __future__ import annotations

import subprocess
from collections import Counter
from pathlib import Path, PurePosixPath

import pytest

from raysearch.search.options import RunOptions
from raysearch.search.plan import resolve_search
from raysearch.search.space import load_space

ROOT = Path(__file__).resolve().parents[1]
# How many space files each directory holds: a space added or lost changes a count here.
SPACES_PER_DIR = {"raysearch/search/spaces": 5, "bench/spaces": 2}
NOT_SPACES = (  # YAML files that are not search spaces (glob patterns, repository-relative)
    "cluster.yaml",  # Ray cluster launcher configs
    "clusters/*.yaml",
    "results/examples/*/best_config.yaml",  # a run's best configuration
)


def _yaml_files() -> list[PurePosixPath]:
    """The repository's YAML files: tracked, and new ones not ignored (so a space file is
    checked before it is committed)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.yaml", "*.yml"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return sorted({PurePosixPath(p) for p in listed if (ROOT / p).is_file()})


def _is_space(path: PurePosixPath) -> bool:
    return "spaces" in path.parts[:-1]


def test_every_yaml_file_is_a_space_file_or_a_known_other_file() -> None:
    strays = [
        str(p) for p in _yaml_files() if not _is_space(p) and not any(map(p.match, NOT_SPACES))
    ]
    assert not strays, (
        f"{strays}: a search space goes under a spaces/ directory (and is validated here); "
        "any other YAML file goes in NOT_SPACES"
    )


def test_every_space_file_in_the_repository_is_found() -> None:
    found = Counter(str(p.parent) for p in _yaml_files() if _is_space(p))
    assert found == SPACES_PER_DIR


@pytest.mark.parametrize("path", [str(p) for p in _yaml_files() if _is_space(p)])
def test_every_space_file_validates(path: str, tmp_path: Path) -> None:
    space = load_space(str(ROOT / path))
    assert space.parameters, f"{path} searches nothing"
    # The search's own checks before Ray: settings, fixed values and start points build
    # trial configs (a space made for a real dataset is given a directory for it).
    data = str(tmp_path) if space.requires_data else None
    options = RunOptions(space=str(ROOT / path), results=str(tmp_path), data=data)
    plan = resolve_search(options, {"CPU": 2.0})
    assert plan.space.parameters == space.parameters
