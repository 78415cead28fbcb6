"""python -m raysearch.simulate: a search's quality and speed-up per k, on a table of curves."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
import yaml

from raysearch.cli.simulate import main
from raysearch.search.simulation.partial import append_run, partial_path
from raysearch.testing.curves import GRID_SPACE, grid_curves

SPACE = GRID_SPACE


def _table(
    path: Path, epochs: int = 6, skip: tuple[str, float] | None = None, slow: bool = False
) -> Path:
    """The grid's curves (``grid_curves``), written to ``path``."""
    grid_curves(epochs, skip, slow).to_parquet(path)
    return path


@pytest.fixture
def space_file(tmp_path: Path) -> Path:
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(SPACE, sort_keys=False))
    return path


def test_it_reports_each_k_on_a_table(tmp_path: Path, space_file: Path, capsys) -> None:
    table = _table(tmp_path / "curves.parquet")
    out = tmp_path / "sim.json"
    args = ["--table", str(table), "--space", str(space_file), "--workers", "1", "3"]
    assert main([*args, "--seeds", "2", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| 1 |" in printed and "| 3 |" in printed
    rows = json.loads(out.read_text())["rows"]
    assert [r["workers"] for r in rows] == [1, 3]
    assert rows[0]["speedup"] == pytest.approx(1.0)
    for r in rows:
        best = r["summary"]["best"]["median"]
        assert 0.15 <= best < 1.0  # a value the table holds (its lowest is 1/6)
        assert r["summary"]["busy"]["median"] <= 1.0
    assert math.isfinite(rows[1]["reach_s"])  # the grid is small: k=3 reaches k=1's median
    # how far the seeds pin the speed-up down, beside it
    assert "speedup_range" not in rows[0]
    low, high = rows[1]["speedup_range"]
    assert low <= rows[1]["speedup"] <= high
    assert f"{rows[1]['speedup']:.1f}x [{low:.1f}x, {high:.1f}x]" in printed


def test_progress_goes_to_stderr_a_line_per_search_and_the_tables_to_stdout(
    tmp_path: Path, space_file: Path, capsys
) -> None:
    """A default simulation (4 k x 10 seeds, then as many reach runs) took minutes without
    a word; its progress keeps out of the tables, so `> table.md` holds them alone."""
    table = _table(tmp_path / "curves.parquet")
    args = ["--table", str(table), "--space", str(space_file), "--workers", "1", "3"]
    assert main([*args, "--seeds", "2"]) == 0
    printed = capsys.readouterr()
    progress = printed.err.splitlines()
    assert len(progress) == 2 * 2 * 2  # k x seeds, searches and reach runs
    assert progress[0].startswith("simulate: [1/8] k=1, seed 0: best ")
    assert progress[-1].startswith("simulate: [8/8] k=3, seed 1: reached ")
    assert "simulate: [" not in printed.out and "| 3 |" in printed.out


def test_it_shows_how_the_rungs_rank_and_names_rungs_that_stop_slow_starters(
    tmp_path: Path, space_file: Path, capsys
) -> None:
    out = tmp_path / "sim.json"
    args = ["--space", str(space_file), "--workers", "1", "--seeds", "1", "--out", str(out)]
    assert main(["--table", str(_table(tmp_path / "even.parquet")), *args]) == 0
    printed = capsys.readouterr().out
    assert "| 1 | 1.00 | 1.00 | 1.00 (epoch 3) |" in printed  # parallel curves rank perfectly
    assert "| 3 | 1.00 | 1.00 | 1.00 (epoch 6) |" in printed
    assert "start slowly" not in printed and "even random curves" not in printed
    rungs = json.loads(out.read_text())["rungs"]
    assert (rungs["curves"], rungs["best_curves"]) == (8, 5)  # 12 curves, 4 of them twice
    slow = str(_table(tmp_path / "slow.parquet", slow=True))
    assert main(["--table", slow, *args]) == 0
    printed = capsys.readouterr().out
    assert "| 1 | -1.00 | -1.00 | 1.00 (epoch 3) |" in printed
    assert "| 3 | -1.00 | -1.00 | -1.00 (epoch 6) |" in printed
    assert "At epoch 1 the best curves rank poorly" in printed
    assert "its gate weighing what a cut costs" in printed  # the default weighs the cut
    # it said 'ASHA stops them there' of a search whose gate held every stop (0 of 12)
    assert "| 0 of 12 |" in printed and "ASHA stops them" not in printed
    held = json.loads(out.read_text())["rows"][0]["gate_held"]
    assert held["1"] > 0  # the stops the gate held, by rung epoch
    assert (
        "start slowly, and ASHA would stop them there. In the search above the gate held "
        f"{held['1']} of ASHA's stops at epoch 1: those trials went on. To measure" in printed
    )
    assert "the gate would not see it" not in printed and "gate_cut_cost=true" not in printed
    assert (
        "To measure what a later first rung, a gate judged along the chain of rungs or no "
        "early stopping buys: --against grace_period=3, --against gate_against=chain, "
        "--against scheduler=fifo." in printed
    )
    assert "even random curves" not in printed  # the default defers the first wave's stops
    assert main(["--table", slow, *args, "--no-gate-cut-cost"]) == 0
    printed = capsys.readouterr().out  # a gate that judges by the next rung alone is blind
    assert "cut costs," not in printed.splitlines()[0]
    assert "ASHA would stop them there, and the gate would not see it." in printed
    assert (
        "To measure what a later first rung, a gate that weighs what a cut costs, a gate "
        "judged along the chain of rungs or no early stopping buys: --against "
        "grace_period=3, --against gate_cut_cost=true, --against gate_against=chain, "
        "--against scheduler=fifo." in printed
    )
    assert main(["--table", slow, *args, "--gate-unmeasured", "asha"]) == 0
    printed = capsys.readouterr().out
    # epoch 1 ranks every curve backwards: the first wave's stops are ASHA's, blind
    assert "At epoch 1, the first rung, even random curves rank poorly (rho -1.00" in printed
    assert "before the gate has the 8 pairs" in printed
    assert "--against gate_unmeasured=defer." in printed
    assert main(["--table", slow, *args, "--scheduler", "asha"]) == 0
    printed = capsys.readouterr().out
    assert "ASHA would stop them there. To measure" in printed  # no gate to speak of
    assert json.loads(out.read_text())["rows"][0]["gate_held"] == {}
    assert "gate_against" not in printed and "gate_unmeasured" not in printed
    assert main(["--table", slow, *args, "--gate-against", "chain", "--no-gate-cut-cost"]) == 0
    printed = capsys.readouterr().out  # the gate is the chain already
    assert "the gate would not see it" not in printed and "--against gate_against" not in printed
    assert "--against gate_cut_cost=true" in printed
    assert main(["--table", slow, *args, "--scheduler", "fifo"]) == 0
    assert "How the rungs rank" not in capsys.readouterr().out  # nothing stops trials
    assert "rungs" not in json.loads(out.read_text())


def test_search_settings_from_flags_reach_the_search(
    tmp_path: Path, space_file: Path, capsys
) -> None:
    table = _table(tmp_path / "curves.parquet")
    out = tmp_path / "sim.json"
    args = ["--table", str(table), "--space", str(space_file), "--workers", "2", "--seeds", "1"]
    assert main([*args, "--brackets", "2", "--out", str(out)]) == 0
    assert (
        "asha (grace period 1, 2 brackets, its gate weighing what a cut costs, stops at "
        "unmeasured rungs deferred)" in capsys.readouterr().out
    )
    assert json.loads(out.read_text())["settings"]["brackets"] == 2
    # 6 epochs: a second bracket after grace period 2 would first stop trials at 2 * 3 = 6
    assert main([*args, "--brackets", "2", "--grace-period", "2"]) == 2
    assert "brackets (2): the last bracket's first rung" in capsys.readouterr().err
    assert main([*args, "--grace-period", "2", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["settings"]["grace_period"] == 2
    assert main([*args, "--cutoff-window", "9", "--out", str(out)]) == 0
    assert "cut-offs from each rung's last 9 values" in capsys.readouterr().out
    assert json.loads(out.read_text())["settings"]["cutoff_window"] == 9
    assert main([*args, "--cutoff-window", "2"]) == 2  # named by its flag, as --workers is
    assert capsys.readouterr().err.splitlines()[1:] == [
        "  - --cutoff-window: Input should be greater than or equal to 3 (got 2)"
    ]
    assert main([*args, "--cutoff-window", "9", "--scheduler", "fifo"]) == 2
    assert "cutoff_window (9) needs an ASHA scheduler" in capsys.readouterr().err
    assert main([*args, "--no-multivariate", "--out", str(out)]) == 0
    assert "tpe (independent) + gated_asha" in capsys.readouterr().out
    assert json.loads(out.read_text())["settings"]["multivariate"] is False
    assert main([*args, "--out", str(out)]) == 0  # without the flag: the space's (joint)
    assert json.loads(out.read_text())["settings"]["multivariate"] is True
    assert main([*args, "--no-multivariate", "--searcher", "random"]) == 2
    assert "searcher 'random' has no model" in capsys.readouterr().err
    assert main([*args, "--no-independent-when-running", "--out", str(out)]) == 0
    assert "tpe + gated_asha" in capsys.readouterr().out
    assert json.loads(out.read_text())["settings"]["independent_when_running"] is False
    assert main([*args, "--out", str(out)]) == 0  # without the flag: the default's (on)
    assert "tpe (independent as trials run) + gated_asha" in capsys.readouterr().out
    assert json.loads(out.read_text())["settings"]["independent_when_running"] is True
    assert main([*args, "--gate-against", "chain", "--out", str(out)]) == 0
    assert (
        "gated_asha (grace period 1, its gate along the chain of rungs, its gate weighing "
        "what a cut costs, stops at" in capsys.readouterr().out
    )
    assert json.loads(out.read_text())["settings"]["gate_against"] == "chain"
    assert main([*args, "--gate-unmeasured", "asha", "--no-gate-cut-cost", "--out", str(out)]) == 0
    assert "gated_asha (grace period 1)" in capsys.readouterr().out
    assert json.loads(out.read_text())["settings"]["gate_cut_cost"] is False
    assert json.loads(out.read_text())["settings"]["gate_unmeasured"] == "asha"
    assert main([*args, "--out", str(out)]) == 0  # without the flags: the default's
    assert (
        "gated_asha (grace period 1, its gate weighing what a cut costs, stops at unmeasured "
        "rungs deferred)" in capsys.readouterr().out
    )
    assert json.loads(out.read_text())["settings"]["gate_unmeasured"] == "defer"
    assert json.loads(out.read_text())["settings"]["gate_cut_cost"] is True
    assert main([*args, "--gate-against", "chain", "--scheduler", "asha"]) == 2
    assert "scheduler 'asha' has no gate" in capsys.readouterr().err
    assert main([*args, "--independent-when-running", "--no-multivariate"]) == 2
    assert "multivariate is false" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ("missing", "curves.parquet: file not found\n"),
        (
            "interrupted",  # it said 'file not found' alone
            "curves.parquet: file not found: its recording was interrupted "
            "(curves.parquet.partial.jsonl beside it holds the runs it finished); run the same "
            "`raysearch curves` command (or record_curves call) again to finish it",
        ),
        ("directory", "curves.parquet: is a directory; give the table's file (parquet or CSV)"),
        ("hole", "dropout=0.15 (with size='small'); the table holds 0.0, 0.3"),
        ("float", "parameters.dropout: a table holds listed values; make it categorical"),
        ("epochs", "settings.max_epochs: 6, but the table's curves have 4 epochs"),
    ],
)
def test_bad_input_is_one_clear_error_and_exit_2(
    tmp_path: Path, space_file: Path, capsys, change: str, expected: str
) -> None:
    table = tmp_path / "curves.parquet"
    if change == "hole":
        _table(table, skip=("small", 0.15))
    elif change == "epochs":
        _table(table, epochs=4)
    elif change == "directory":
        table.mkdir()
    elif change == "interrupted":  # the runs a recording finished, and no table yet
        append_run(partial_path(table), {"plan": "0123"}, {"size": "tiny"}, 0, [])
    elif change != "missing":
        _table(table)
    if change == "float":
        space = dict(SPACE, parameters={**SPACE["parameters"]})
        space["parameters"]["dropout"] = {"type": "float", "low": 0.0, "high": 0.3}
        space_file.write_text(yaml.safe_dump(space, sort_keys=False))
    code = main(["--table", str(table), "--space", str(space_file), "--seeds", "1"])
    assert code == 2
    assert expected in capsys.readouterr().err
    if change in {"missing", "interrupted"}:  # said as well beside a space that is missing
        missing = str(tmp_path / "missing.yaml")
        assert main(["--table", str(table), "--space", missing, "--seeds", "1"]) == 2
        assert expected in capsys.readouterr().err


def test_a_space_that_searches_fewer_parameters_than_the_table_says_what_is_wrong(
    tmp_path: Path, space_file: Path, capsys
) -> None:
    """Dropout alone, as a float, on a table that varies size and dropout: the space's own
    problem and the table's columns, each once, in a few lines."""
    table = _table(tmp_path / "curves.parquet")
    space = dict(SPACE, parameters={"dropout": {"type": "float", "low": 0.0, "high": 0.3}})
    space_file.write_text(yaml.safe_dump(space, sort_keys=False))
    assert main(["--table", str(table), "--space", str(space_file), "--seeds", "1"]) == 2
    err = capsys.readouterr().err
    assert f"--space {space_file}: parameters.dropout: a table holds listed values" in err
    assert "72 rows share their dropout, seed and epoch with another row" in err
    assert "its other columns: size" in err
    assert len(err) < 800


def test_hartmann_takes_no_space_and_no_metric(capsys) -> None:
    """Neither flag means anything without a table: each is refused, not dropped."""
    assert main(["--curves", "hartmann", "--space", "smoke", "--metric", "no_such_column"]) == 2
    err = capsys.readouterr().err
    assert "--space: not used with --curves hartmann" in err
    assert "--metric: not used with --curves hartmann" in err


def test_against_a_bool_where_a_count_goes_is_refused(capsys) -> None:
    """YAML reads ``true`` as a bool, which is no number of trials (not 1)."""
    args = ["--curves", "hartmann", "--workers", "1", "--seeds", "1", "--num-samples", "3"]
    assert main([*args, "--against", "num_samples=true"]) == 2
    assert "num_samples" in capsys.readouterr().err


def test_against_runs_the_changed_search_on_the_same_seeds(
    tmp_path: Path, space_file: Path, capsys
) -> None:
    table = _table(tmp_path / "curves.parquet")
    out = tmp_path / "sim.json"
    args = ["--table", str(table), "--space", str(space_file), "--workers", "1", "2"]
    assert main([*args, "--seeds", "3", "--against", "scheduler=fifo", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Against scheduler=fifo, on the same seeds" in printed
    record = json.loads(out.read_text())
    assert record["against"]["settings"]["scheduler"] == "fifo"
    assert record["settings"]["scheduler"] == "gated_asha"
    assert "| better / worse / same | p | at equal wall time: better / worse / same | p |" in (
        printed
    )
    for row in record["rows"]:
        theirs = row["against"]
        assert theirs["better"] + theirs["worse"] + theirs["same"] == theirs["seeds"] == 3
        # at equal wall time too, the seeds neither better nor worse are counted and shown
        assert theirs["time_better"] + theirs["time_worse"] + theirs["time_same"] == 3
        assert (
            f"| {theirs['better']} / {theirs['worse']} / {theirs['same']} | {theirs['p']:.2g} "
            f"| {theirs['time_better']} / {theirs['time_worse']} / {theirs['time_same']} |"
        ) in printed
        # fifo stops no trial: every one of its 12 trials runs all 6 epochs
        assert theirs["summary"]["epochs"]["median"] == 12 * 6
        assert row["summary"]["epochs"]["median"] < 12 * 6  # the default's ASHA stops some


def test_against_problems_are_reported_with_the_others_and_exit_2(
    tmp_path: Path, space_file: Path, capsys
) -> None:
    table = _table(tmp_path / "curves.parquet")
    args = ["--table", str(table), "--seeds", "1", "--workers", "1"]
    bad = ["--against", "multivariat=false", "grace_period", "brackets=2", "brackets=3"]
    assert main([*args, "--space", str(tmp_path / "missing.yaml"), *bad]) == 2
    err = capsys.readouterr().err
    assert "missing.yaml" in err  # the space's problem and every --against one, at once
    assert "--against 'multivariat=false': no setting 'multivariat'; did you mean" in err
    assert "--against 'grace_period': expected SETTING=VALUE" in err
    assert "--against 'brackets=3': brackets is given twice" in err
    assert main([*args, "--space", str(space_file), "--against", "multivariate=maybe"]) == 2
    assert "--against: multivariate" in capsys.readouterr().err
    assert main([*args, "--space", str(space_file), "--against", "grace_period=1"]) == 2
    assert "the space's settings already are these" in capsys.readouterr().err
    # no SETTING=VALUE at all: that alone, not also 'the space's settings already are these'
    assert main([*args, "--space", str(space_file), "--against", "scheduler"]) == 2
    assert capsys.readouterr().err.splitlines()[1:] == [
        "  - --against 'scheduler': expected SETTING=VALUE, e.g. multivariate=false"
    ]
    # the settings said to be the space's are the well-formed ones
    assert main([*args, "--space", str(space_file), "--against", "x", "grace_period=1"]) == 2
    err = capsys.readouterr().err
    assert "--against grace_period=1: the space's settings already are these" in err


@pytest.mark.parametrize("pair", ["finalists=2", "replicates=4"])
def test_against_refuses_the_finalists_settings_a_simulation_never_uses(capsys, pair) -> None:
    """A simulation runs no finalists: --against finalists=2 ran the same search twice and
    compared it with itself, and the settings --against lists offered both."""
    args = ["--curves", "hartmann", "--workers", "1", "--seeds", "1", "--num-samples", "3"]
    assert main([*args, "--against", pair]) == 2
    err = capsys.readouterr().err
    key = pair.split("=")[0]
    assert (
        f"--against {pair!r}: the simulation runs the search alone, not the finalists' "
        f"re-training after it, so {key} would change nothing; settings: num_samples, "
    ) in err
    assert main([*args, "--against", "zzz=1"]) == 2  # too far from any to be offered
    listed = capsys.readouterr().err.split("settings: ")[1]
    assert "multivariate" in listed and "finalists" not in listed and "replicates" not in listed


def test_the_output_says_its_seeds_and_what_its_regret_is(
    tmp_path: Path, space_file: Path, capsys
) -> None:
    """It said "1 seeds", and its table's regret column was explained nowhere."""
    table = str(_table(tmp_path / "t.parquet"))
    args = ["--table", table, "--space", str(space_file), "--workers", "1", "--seeds", "1"]
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert ", 1 seed" in printed and "1 seeds" not in printed
    assert "regret: best minus the lowest value any trial of the source could report" in printed


def test_best_drawn_shows_what_early_stopping_cut_off(tmp_path: Path, space_file: Path, capsys):
    """On curves whose best configurations start worst, ASHA stops them before they show
    their value: the best drawn is below the best found. Without early stopping every drawn
    configuration runs to its end, and the two are the same."""
    out = tmp_path / "sim.json"
    slow = str(_table(tmp_path / "slow.parquet", slow=True))
    args = ["--table", slow, "--space", str(space_file), "--workers", "1", "--seeds", "2"]
    assert main([*args, "--scheduler", "asha", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "best drawn: the best value any configuration" in printed
    summary = json.loads(out.read_text())["rows"][0]["summary"]
    assert summary["drawn"]["median"] < summary["best"]["median"]
    # how many trials the stops cut short, beside it (a gate that holds every stop shows 0)
    stopped, trials = summary["stopped"]["median"], summary["trials"]["median"]
    assert 0 < stopped < trials and f"| {stopped:.0f} of {trials:.0f} |" in printed
    assert main([*args, "--scheduler", "fifo", "--out", str(out)]) == 0
    summary = json.loads(out.read_text())["rows"][0]["summary"]
    assert summary["drawn"] == summary["best"]
    assert summary["stopped"]["median"] == 0 and f"| 0 of {trials:.0f} |" in (
        capsys.readouterr().out
    )


def test_a_trial_start_cost_adds_to_each_trial_and_is_said(
    tmp_path: Path, space_file: Path, capsys
) -> None:
    """One trial at a time the search's decisions do not depend on time, so a start cost
    of S s per trial adds S x trials to every search's simulated wall time."""
    table = _table(tmp_path / "curves.parquet")
    args = ["--table", str(table), "--space", str(space_file), "--workers", "1", "--seeds", "3"]
    hours = {}
    for start in ("0", "90"):
        out = tmp_path / f"sim{start}.json"
        assert main([*args, "--trial-start-s", start, "--out", str(out)]) == 0
        record = json.loads(out.read_text())
        assert record["trial_start_s"] == float(start)
        hours[start] = record["rows"][0]["summary"]["hours"]
        said = capsys.readouterr().out
        assert ("each trial starting 90 s before its first epoch" in said) == (start == "90")
    trials = SPACE["settings"]["num_samples"]
    for q in ("q25", "median", "q75"):
        assert hours["90"][q] == pytest.approx(hours["0"][q] + 90 * trials / 3600)
    for bad in ("-1", "nan", "soon"):
        with pytest.raises(SystemExit) as exited:
            main([*args, "--trial-start-s", bad])
        assert exited.value.code == 2
        assert f"--trial-start-s: expected a number >= 0, got {bad!r}" in capsys.readouterr().err


def test_a_time_budget_ends_each_search_as_it_ends_a_real_one(
    tmp_path: Path, space_file: Path, capsys
) -> None:
    table = _table(tmp_path / "curves.parquet")
    args = ["--table", str(table), "--space", str(space_file), "--workers", "1", "--seeds", "3"]
    assert main([*args, "--out", str(tmp_path / "free.json")]) == 0
    capsys.readouterr()
    assert main([*args, "--time-budget", "20s", "--out", str(tmp_path / "cut.json")]) == 0
    printed = capsys.readouterr().out
    free, cut = (json.loads((tmp_path / f"{n}.json").read_text()) for n in ("free", "cut"))
    # in a unit that reads: it said 'ending after 0.00556 simulated h', and a wall time of
    # 0.00553 h in the column 'sim. wall h'; the JSON keeps hours
    assert "each search ending after 20 s of simulated time (--time-budget)" in printed
    assert "| regret | sim. wall time |" in printed
    seconds = cut["rows"][0]["summary"]["hours"]["median"] * 3600
    assert f"| {seconds:.3g} s |" in printed
    assert (free["time_budget_s"], cut["time_budget_s"]) == (None, 20.0)
    free_row, cut_row = free["rows"][0]["summary"], cut["rows"][0]["summary"]
    assert free_row["hours"]["q25"] * 3600 > 20  # without it the searches run longer
    # it ends at the epoch that ends across the budget: an epoch here is at most 2 s
    assert cut_row["hours"]["q75"] * 3600 <= 20 + 2
    assert cut_row["epochs"]["median"] < free_row["epochs"]["median"]
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--time-budget", "soon"])
    assert exit_info.value.code == 2


def test_an_out_it_could_not_write_and_a_value_not_yaml_are_refused_before_it_runs(
    tmp_path: Path, space_file: Path, capsys
) -> None:
    args = ["--table", str(_table(tmp_path / "curves.parquet")), "--space", str(space_file)]
    afile = tmp_path / "afile"
    afile.write_text("")
    for out, why in (
        (tmp_path, f"{tmp_path} is a directory"),
        (afile / "x.json", f"{afile} is a file"),
    ):
        assert main([*args, "--out", str(out)]) == 2
        err = capsys.readouterr()
        assert f"--out {out}: {why}" in err.err and "| k |" not in err.out  # nothing simulated
    # a directory that is not there is made, as raysearch curves, compare, run and data do
    out = tmp_path / "no" / "such" / "x.json"
    assert main([*args, "--workers", "1", "--seeds", "1", "--out", str(out)]) == 0
    assert json.loads(out.read_text())["space"] == space_file.stem
    assert main([*args, "--against", "grace_period=[1"]) == 2
    assert "--against 'grace_period=[1': the value is not YAML" in capsys.readouterr().err


def _strict_json(text: str) -> object:
    def refuse(name: str) -> object:
        raise ValueError(f"not JSON: {name}")

    return json.loads(text, parse_constant=refuse)


def test_trials_end_where_the_spaces_trainer_would_end_them(tmp_path: Path, capsys) -> None:
    """A recorded curve that stops improving ends where a real trial's early stopping ends
    it (the trainer's patience 5 here): fewer epochs than the curves hold, and it says so;
    a space with patience as long as its epochs leaves them to the scheduler."""
    rows = [
        (size, dropout, seed, e, 1.0 + 0.1 * i + 0.01 * j, 1.0)
        for i, size in enumerate(["tiny", "small"])
        for j, dropout in enumerate([0.0, 0.15, 0.3])
        for seed in (0, 1)
        for e in range(1, 13)
    ]  # flat: only epoch 1 improves
    table = tmp_path / "flat.parquet"
    columns = ["size", "dropout", "seed", "epoch", "anchored_val_loss", "epoch_time_s"]
    pd.DataFrame(rows, columns=columns).to_parquet(table)
    flat = {**SPACE, "settings": {**SPACE["settings"], "max_epochs": 12, "scheduler": "fifo"}}
    flat["settings"].pop("grace_period"), flat["settings"].pop("reduction_factor")
    epochs = {}
    for name, fixed in (("trainer", {}), ("scheduler", {"patience": 12})):
        space = tmp_path / f"{name}.yaml"
        space.write_text(yaml.safe_dump({**flat, "fixed": fixed}, sort_keys=False))
        out = tmp_path / f"{name}.json"
        args = ["--table", str(table), "--space", str(space), "--workers", "1", "--seeds", "1"]
        assert main([*args, "--out", str(out)]) == 0
        printed = capsys.readouterr().out
        epochs[name] = json.loads(out.read_text())["rows"][0]["summary"]["epochs"]["median"]
        said = "each trial ending where the trainer's early stopping ends it (patience 5"
        assert (said in printed) == (name == "trainer")
    assert epochs == {"trainer": 12 * 6, "scheduler": 12 * 12}  # 12 trials, 6 or 12 epochs


def test_out_is_standard_json_when_a_figure_is_undefined(tmp_path: Path, space_file: Path) -> None:
    """A rung whose values are all alike has no rank correlation (NaN): null in the file,
    which strict JSON readers take, not Python's bare NaN."""
    rows = [
        (size, dropout, seed, e, 1.0 if e == 1 else 1.0 - 0.1 * (i + j + 1) * e / 6, 1.0)
        for i, size in enumerate(["tiny", "small"])
        for j, dropout in enumerate([0.0, 0.15, 0.3])
        for seed in (0, 1)
        for e in range(1, 7)
    ]  # epoch 1: every curve alike
    table = tmp_path / "t.parquet"
    columns = ["size", "dropout", "seed", "epoch", "anchored_val_loss", "epoch_time_s"]
    pd.DataFrame(rows, columns=columns).to_parquet(table)
    out = tmp_path / "sim.json"
    args = ["--table", str(table), "--space", str(space_file), "--workers", "1", "--seeds", "1"]
    assert main([*args, "--out", str(out)]) == 0
    record = _strict_json(out.read_text())
    assert record["rungs"]["rungs"][0]["every"] is None  # undefined at epoch 1: null


def test_a_flag_the_chosen_scheduler_or_searcher_ignores_is_refused(capsys) -> None:
    """fifo stops no trial and random search has no model: --grace-period with one, or
    --against n_startup_trials with the other, would be parsed and do nothing."""
    args = ["--curves", "hartmann", "--workers", "1", "--seeds", "1", "--num-samples", "4"]
    assert main([*args, "--scheduler", "fifo", "--grace-period", "3"]) == 2
    assert "grace_period (3) sets ASHA's rungs" in capsys.readouterr().err
    random = [*args, "--searcher", "random", "--against", "n_startup_trials=2"]
    assert main(random) == 2
    assert "n_startup_trials (2) sets how many trials TPE draws" in capsys.readouterr().err


def test_a_k_above_the_trials_a_search_runs_is_said(capsys) -> None:
    """With 4 trials per search, the k=16 and k=64 rows repeated k=4's without a word."""
    args = ["--curves", "hartmann", "--workers", "1", "4", "16", "--seeds", "1"]
    assert main([*args, "--num-samples", "4"]) == 0
    assert "k=16: more than the 4 trials each search runs" in capsys.readouterr().out
    assert main([*args, "--num-samples", "16"]) == 0
    assert "more than the" not in capsys.readouterr().out


def test_the_trials_that_trained_a_curve_again_are_said_per_k(
    tmp_path: Path, space_file: Path, capsys
) -> None:
    """The grid's 6 configurations have 2 recorded seeds each, and 12 trials of TPE draw
    some of them 3 times or more: the output says how many trials trained a curve again,
    per k; on Hartmann, whose configurations never repeat, nothing."""
    table = _table(tmp_path / "curves.parquet")
    out = tmp_path / "sim.json"
    args = ["--table", str(table), "--space", str(space_file), "--workers", "1", "3"]
    assert main([*args, "--seeds", "3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    again = [r["summary"]["retrained"]["median"] for r in json.loads(out.read_text())["rows"]]
    assert again[0] > 0
    assert f"curves trained again: k=1: {again[0]:g} of 12" in printed
    hartmann = ["--curves", "hartmann", "--workers", "1", "--seeds", "1", "--num-samples", "6"]
    assert main(hartmann) == 0
    assert "curves trained again" not in capsys.readouterr().out
