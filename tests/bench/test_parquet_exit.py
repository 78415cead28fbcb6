"""bench.parquet_exit: its processes' exit statuses counted and the two ways compared."""

from __future__ import annotations

import pytest

from bench.parquet_exit import exit_status, summarize, tally


def test_an_abort_by_signal_counts_as_134_and_the_ways_are_compared_by_their_aborts() -> None:
    assert (exit_status(-6), exit_status(0), exit_status(1)) == (134, 0, 1)
    abort = "terminate called without an active exception\n"
    pandas = tally([(0, "")] * 80 + [(exit_status(-6), abort)] * 19 + [(1, "Traceback")])
    assert pandas == {
        "processes": 100, "ok": 80, "aborted": 19, "other": 1, "terminate_called": 19,
        "statuses": {"0": 80, "1": 1, "134": 19},
    }  # fmt: skip
    arrow = tally([(0, "")] * 100)
    assert (arrow["aborted"], arrow["other"], arrow["terminate_called"]) == (0, 0, 0)
    found = summarize({"pandas_opens": pandas, "read_parquet": arrow})
    first, second = found["rows"]
    assert first["rate"] == pytest.approx(0.19)
    assert first["ci_low"] < 0.19 < first["ci_high"] < 0.3
    assert second["ci_low"] == 0.0 < second["ci_high"] < 0.05
    assert found["fisher_p"] < 1e-4
    assert (
        "aborted 19 of 100" in found["conclusion"]
        and "a difference at the 5%" in found["conclusion"]
    )
    same = summarize({"pandas_opens": tally([(134, "")] + [(0, "")] * 99), "read_parquet": arrow})
    assert same["fisher_p"] == pytest.approx(1.0)
    assert "no difference shown" in same["conclusion"]
