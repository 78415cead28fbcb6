"""Records of a recorded table's benchmark name the recording they were measured on, and the
scaling tables say which of their figures were measured on another recording."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from bench.scaling import benchmarks
from bench.scaling.grid import Job, run_job
from bench.scaling.stale import stale_counts, stale_lines


@pytest.fixture
def table(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The HAN benchmark's table as a file of this test's (the digest reads its bytes)."""
    path = benchmarks.OUT / "han_table.parquet"
    copy = tmp_path / "han_table.parquet"
    copy.write_bytes(path.read_bytes())
    monkeypatch.setitem(benchmarks.TABLES, "han", copy)
    benchmarks.table_digest.cache_clear()
    yield copy
    benchmarks.table_digest.cache_clear()


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def test_a_record_measured_on_a_recorded_table_names_its_digest(table: Path) -> None:
    han = run_job(Job("han", "random_asha", 1, 0, trials=4))
    assert han["table"] == _digest(table)
    # computed curves have no recording to name
    assert "table" not in run_job(Job("hartmann", "random_asha", 1, 0, trials=4))


def test_records_of_another_recording_or_none_are_named_with_their_part_and_method(
    table: Path,
) -> None:
    now = _digest(table)
    data = {
        "runs": [
            {"bench": "han", "method": "default", "table": now},
            {"bench": "han", "method": "default", "table": "0" * 12},
            {"bench": "han", "method": "random_asha"},  # before records named a table
            {"bench": "hartmann", "method": "default"},  # computed curves
        ],
        "rungs": [{"bench": "han"}],
        "confirmations": [
            {
                "method": "gated_chain",
                "seeds": [100, 101],
                "runs": [{"bench": "han", "method": "default"}],
            }
        ],
    }
    assert stale_counts(data) == {
        ("han", "runs", "default"): 1,
        ("han", "runs", "random_asha"): 1,
        ("han", "rungs", ""): 1,
        ("han", "confirmation of `gated_chain`, seeds 100-101", "default"): 1,
    }
    text = "\n".join(stale_lines(data))
    assert f"`{now}…`" in text
    assert "- runs, `default`: 1 records" in text
    assert "- runs, `random_asha`: 1 records" in text
    assert "- rungs: 1 records" in text
    # once every record names today's recording, nothing is said
    for part in ("runs", "rungs"):
        for r in data[part]:
            r["table"] = now
    data["confirmations"][0]["runs"][0]["table"] = now
    assert stale_counts(data) == {}
    assert stale_lines(data) == []


def test_a_table_recorded_again_makes_the_records_of_the_last_stale(table: Path) -> None:
    record = run_job(Job("han", "random_asha", 1, 0, trials=4))
    assert stale_counts({"runs": [record]}) == {}
    table.write_bytes(table.read_bytes() + b"\0")  # recorded again
    benchmarks.table_digest.cache_clear()
    assert stale_counts({"runs": [record]}) == {("han", "runs", "random_asha"): 1}


def _committed(name: str) -> dict:
    return json.loads((benchmarks.OUT / name).read_text())


@pytest.mark.parametrize("name", ["scaling_confirm.json", "scaling.json"])
def test_a_table_says_which_of_its_records_another_recording_measured(name: str) -> None:
    """The committed table (scaling.md, scaling_confirm.md) lists its records measured on
    another recording of the HAN table, and only when there are some."""
    from bench.scaling.confirm import render as confirm_render
    from bench.scaling.report import render as scaling_render

    def render(data: dict) -> str:
        return confirm_render(data)[0] if "confirmations" in data else scaling_render(data)[0]

    data = _committed(name)
    said = "**Measured on another recording of results/benchmarks/han_table.parquet.**"
    # the committed table is its JSON rendered (test_scaling.py, test_committed_tables.py)
    committed = (benchmarks.OUT / name).with_suffix(".md").read_text()
    assert (said in committed) == bool(stale_counts(data))
    runs = data["confirmations"][-1]["runs"] if "confirmations" in data else data["runs"]
    han = next(r for r in runs if r["bench"] == "han" and r.get("table"))
    before = stale_counts(data)
    han["table"] = "0" * 12  # measured on another recording
    text = render(data)
    after = stale_counts(data)
    (key,) = [k for k in after if after[k] != before.get(k, 0)]
    assert said in text
    assert f"- {key[1]}, `{key[2]}`: {after[key]} records" in text
