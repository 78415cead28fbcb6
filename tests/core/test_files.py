"""raysearch.core.files: what a run's JSON files hold."""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from raysearch.core.files import directory_problem, write_json

_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=20,
)


def _strict(text: str) -> object:
    def refuse(constant: str) -> object:
        raise ValueError(f"not JSON: {constant}")

    return json.loads(text, parse_constant=refuse)


def _expected(data: object) -> object:
    if isinstance(data, float):
        return data if math.isfinite(data) else None
    if isinstance(data, dict):
        return {k: _expected(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_expected(v) for v in data]
    return data


@given(_values)
def test_write_json_writes_standard_json_with_missing_numbers_as_null(
    tmp_path_factory, data: object
) -> None:
    path = Path(tmp_path_factory.mktemp("json")) / "x.json"
    write_json(path, data)
    assert _strict(path.read_text()) == _expected(data)


def test_a_finalist_never_tested_is_null_in_the_file(tmp_path: Path) -> None:
    path = write_json(tmp_path / "summary.json", {"finalists": [{"test_mean": math.nan}]})
    assert _strict(path.read_text()) == {"finalists": [{"test_mean": None}]}


def test_directory_problem_says_why_a_directory_cannot_be_made_and_makes_nothing(
    tmp_path: Path,
) -> None:
    (tmp_path / "afile").write_text("x")
    (tmp_path / "dangling").symlink_to(tmp_path / "gone")
    (tmp_path / "dir").mkdir()
    before = sorted(tmp_path.rglob("*"))
    assert directory_problem(tmp_path / "dir") is None
    assert directory_problem(tmp_path / "new" / "deeper") is None
    assert directory_problem(tmp_path / "afile") == f"{tmp_path / 'afile'} is a file"
    assert directory_problem(tmp_path / "afile" / "a" / "b") == (
        f"{tmp_path / 'afile'} is a file, so {tmp_path / 'afile' / 'a' / 'b'} cannot be made"
    )
    assert directory_problem(tmp_path / "dangling") == f"{tmp_path / 'dangling'} is not a directory"
    limit = os.pathconf(tmp_path, "PC_NAME_MAX")
    assert directory_problem(tmp_path / ("n" * limit)) is None
    long = "n" * (limit + 1)
    assert directory_problem(tmp_path / long / "run") == (
        f"the name '{'n' * 40}...' is {limit + 1} bytes, longer than the {limit} the file "
        f"system takes in {tmp_path}"
    )
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux's /proc")
def test_directory_problem_tries_whether_anything_can_be_made_there() -> None:
    # /proc is a directory whose permissions let root write (os.access says yes), yet
    # nothing can be made in it: `--results /proc/x` failed only once the data cache was
    # written, with exit status 1
    assert directory_problem("/proc/raysearch/run") == (
        "nothing can be made in /proc (No such file or directory), so "
        "/proc/raysearch/run cannot be made"
    )
