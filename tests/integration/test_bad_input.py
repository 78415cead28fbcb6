"""Every bad input (tests/integration/bad_inputs.py) is refused by ``raysearch run`` before
Ray starts: one error naming the file, column, row or flag, exit status 2, each problem
reported once, and nothing written (no run directory, no cache file, no lock file).

The command line runs in this process with Ray's start replaced by a failure, so "before
Ray starts" is checked, not timed; ``python -m tests.integration.bad_inputs DIR`` times the
same cases as a user meets them.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import raysearch.api
from raysearch.cli.run import main
from raysearch.core.errors import DataError
from raysearch.data.cache import cached
from raysearch.data.contract import load_dataset
from tests.integration.bad_inputs import CASES, TINY, Case, write_good_dataset


@pytest.fixture(scope="module")
def good(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_good_dataset(tmp_path_factory.mktemp("good") / "data")


@pytest.fixture(autouse=True)
def no_ray(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the search went past validation: Ray would start now")

    monkeypatch.setattr(raysearch.api, "_search", refuse)


def _exit_status(args: list[str]) -> int:
    try:
        return main(args)
    except SystemExit as exit:  # the parser refuses a bad flag this way
        return int(exit.code or 0)


def _files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_bad_input_is_refused_once_before_ray_with_nothing_written(
    case: Case, good: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    results = tmp_path / "results"
    args = case.build(tmp_path, good)
    if "--resume" not in args:
        args += ["--results", str(results), *TINY]
    status = _exit_status(args)
    err = capsys.readouterr().err
    assert status == 2, err
    for word in case.expect:
        assert word in err, f"{word!r} not in: {err}"
    assert err.count("error:") == 1, err
    problems = [line for line in err.splitlines() if line.startswith("  - ")]
    assert len(problems) == len(set(problems)), f"a problem reported twice: {err}"
    # nothing: not the data a refused search had prepared before the refusal either (the
    # cache of its start point, of a PCA extreme), nor a lock file
    assert _files(results) == [], _files(results)
    assert not (results / "space").exists() and not list(results.glob("*/*/options.json"))


def test_a_failed_cache_build_leaves_no_lock_file_or_directory(tmp_path: Path) -> None:
    cache = tmp_path / "results" / ".cache" / "data"

    def build() -> None:
        raise DataError(["broken.csv: bad"])

    with pytest.raises(DataError):
        cached(cache, "key", build)
    assert not (tmp_path / "results").exists()  # the directories it created, removed
    cache.mkdir(parents=True)
    (cache / "other.pt").write_bytes(b"")
    with pytest.raises(DataError):
        cached(cache, "key", build)
    assert sorted(p.name for p in cache.iterdir()) == ["other.pt"]  # no key.pt.lock


def test_a_feature_column_with_no_observed_value_is_kept_with_a_warning(
    good: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    root = Path(shutil.copytree(good, tmp_path / "data"))
    path = root / "daily" / "viina.csv"
    frame = pd.read_csv(path, dtype=str, keep_default_na=False).assign(t_raid="")
    frame.to_csv(path, index=False)
    raw = load_dataset(root)
    viina = raw.sources["viina"]
    assert np.isnan(viina.values[:, viina.features.index("t_raid")]).all()
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("viina.csv" in w and "'t_raid'" in w and "never observed" in w for w in warned)
