"""raysearch.simulate_search: ``raysearch simulate`` from Python, its checks and its result."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

import raysearch
from raysearch.cli.simulate import main
from raysearch.core.errors import ConfigError
from raysearch.core.files import write_json
from raysearch.search.simulation.scaling import Simulation, simulate_search

SPACE = {
    "description": "a small categorical grid",
    "settings": {"num_samples": 10, "max_epochs": 6, "grace_period": 1, "reduction_factor": 3},
    "parameters": {
        "size": {"type": "categorical", "choices": ["tiny", "small"]},
        "dropout": {"type": "categorical", "choices": [0.0, 0.15, 0.3]},
    },
}


def _curves() -> pd.DataFrame:
    rows = []
    for i, size in enumerate(["tiny", "small"]):
        for j, dropout in enumerate([0.0, 0.15, 0.3]):
            for seed in (0, 1):
                for e in range(1, 7):
                    value = 0.1 * (i + j) + 1.0 / e + 0.01 * seed
                    rows.append((size, dropout, seed, e, value, 1.0 + i))
    columns = ["size", "dropout", "seed", "epoch", "anchored_val_loss", "epoch_time_s"]
    return pd.DataFrame(rows, columns=columns)


@pytest.fixture
def space_file(tmp_path: Path) -> Path:
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(SPACE))
    return path


def test_it_finds_what_the_command_line_finds_on_the_same_seeds(
    tmp_path: Path, space_file: Path, capsys: pytest.CaptureFixture
) -> None:
    """The same searches as `raysearch simulate --out`: the figures are the command's."""
    table = tmp_path / "curves.parquet"
    _curves().to_parquet(table)
    out = tmp_path / "sim.json"
    argv = ["--table", str(table), "--space", str(space_file), "--workers", "1", "3"]
    assert main([*argv, "--seeds", "3", "--against", "scheduler=fifo", "--out", str(out)]) == 0
    capsys.readouterr()
    sim = simulate_search(
        space_file, table=_curves(), workers=[1, 3], seeds=3, against={"scheduler": "fifo"}
    )
    assert isinstance(sim, Simulation) and sim.source == "table"
    written = json.loads(out.read_text())
    ours = json.loads(write_json(tmp_path / "ours.json", sim.record()).read_text())
    for name in ("space", "settings", "rungs"):
        assert ours[name] == written[name], name
    for mine, theirs in zip(ours["rows"], written["rows"], strict=True):
        for row in (mine, theirs, mine["against"], theirs["against"]):
            del row["summary"]["decide_ms"]  # the driver's wall time, not simulated
        assert mine == theirs
    assert written["against"]["given"] == {"scheduler": "fifo"} == ours["against"]["given"]


def test_frame_has_one_row_per_k_with_the_figures_of_its_rows(space_file: Path) -> None:
    lines: list[str] = []
    sim = simulate_search(space_file, table=_curves(), workers=[1, 2], seeds=2, log=lines.append)
    frame = sim.frame()
    assert list(frame.index) == [1, 2] and frame.index.name == "workers"
    for k, row in zip([1, 2], sim.rows, strict=True):
        assert frame.loc[k, "best"] == row["summary"]["best"]["median"]
        assert frame.loc[k, "epochs"] == row["summary"]["epochs"]["median"]
        assert frame.loc[k, "speedup"] == row["speedup"]
    assert math.isnan(frame.loc[1, "speedup_low"]) and frame.loc[1, "speedup"] == 1.0
    assert frame.loc[2, "speedup_low"] == sim.rows[1]["speedup_range"][0]
    assert "workers=[1, 2]" in repr(sim) and "seeds=2" in repr(sim)
    # a line per search: 2 k x 2 seeds, then as many reach runs
    assert len(lines) == 8 and lines[-1].startswith("simulate: [8/8] k=2, seed 1: ")
    assert all("ETA" in line for line in lines)


def test_search_settings_are_keywords_and_reach_the_search(space_file: Path) -> None:
    fifo = simulate_search(
        space_file, table=_curves(), workers=[1], seeds=1, scheduler="fifo", log=None
    )
    assert fifo.settings.scheduler == "fifo" and fifo.rungs is None
    # fifo stops nothing: every one of the 10 trials runs its 6 epochs
    assert fifo.rows[0]["summary"]["epochs"]["median"] == 10 * 6
    hartmann = simulate_search(curves="hartmann", workers=[2], seeds=1, num_samples=4, log=None)
    assert hartmann.rows[0]["summary"]["trials"]["median"] == 4


def test_every_bad_argument_is_named_by_its_keyword_at_once(space_file: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        simulate_search(
            space_file,
            table=_curves(),
            workers=[0, 2],
            seeds=True,
            time_budget_s=-1,
            log="print",
            grace_perod=3,
            finalists=2,
            against={"multivariat": False},
        )
    said = "\n".join(caught.value.problems)
    for expected in (
        "workers: expected a list of whole numbers >= 1, got [0, 2]",
        "seeds: expected a whole number >= 1, got True",
        "time_budget_s: expected seconds > 0 or None, got -1",
        "log: expected a function",
        "grace_perod: no setting 'grace_perod'",
        "finalists: the simulation runs the search alone",
        "against['multivariat']: no setting 'multivariat'",
    ):
        assert expected in said
    assert str(caught.value).startswith("invalid simulate_search arguments")
    assert len(caught.value.problems) == 7


@pytest.mark.parametrize(
    ("kwargs", "said"),
    [
        ({}, "give table=CURVES_FILE (recorded curves) or curves='hartmann'"),
        ({"curves": "hartmann", "table": "x.parquet"}, "table and curves: give one, not both"),
        ({"curves": "branin"}, "curves: expected one of ['hartmann'], got 'branin'"),
        ({"curves": "hartmann", "space": "smoke"}, "space: not used with curves='hartmann'"),
        ({"table": "nowhere.parquet"}, "space: required with a table"),
        ({"table": "nowhere.parquet", "space": "smoke"}, "table nowhere.parquet: file not found"),
        (
            {"curves": "hartmann", "against": {"grace_period": 1}},
            "against={'grace_period': 1}: the space's settings already are these",
        ),
    ],
)
def test_what_to_simulate_is_refused_in_python_words(kwargs: dict, said: str) -> None:
    with pytest.raises(ConfigError) as caught:
        simulate_search(workers=[1], seeds=1, **kwargs)
    assert said in "\n".join(caught.value.problems)


def test_it_is_the_package_api() -> None:
    assert raysearch.simulate_search is simulate_search
