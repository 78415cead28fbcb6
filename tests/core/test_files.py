"""raysearch.core.files: what a run's JSON files hold."""

from __future__ import annotations

import json
import math
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from raysearch.core.files import write_json

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
