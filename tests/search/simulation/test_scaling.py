"""raysearch.simulate_search: ``raysearch simulate`` from Python, its checks and its result."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import raysearch
from raysearch.cli.simulate import main
from raysearch.core.errors import ConfigError
from raysearch.core.files import write_json
from raysearch.core.timing import time_unit
from raysearch.search.simulation.scaling import Simulation, simulate_search
from raysearch.search.simulation.scaling_plot import anytime_quantiles
from raysearch.testing.curves import GRID_SPACE, grid_curves

SPACE = GRID_SPACE
_curves = grid_curves


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
    frame = sim.frame()  # what the command's table of the two says, one row per k
    for row in sim.rows:
        theirs, at = row["against"], frame.loc[row["workers"]]
        assert at["against_best"] == theirs["summary"]["best"]["median"]
        for name in ("better", "worse", "p", "time_better", "time_worse", "time_p"):
            assert at[f"against_{name}"] == theirs[name], name


def test_frame_has_one_row_per_k_with_the_figures_of_its_rows(space_file: Path) -> None:
    lines: list[str] = []
    sim = simulate_search(space_file, table=_curves(), workers=[1, 2], seeds=2, log=lines.append)
    frame = sim.frame()
    assert list(frame.index) == [1, 2] and frame.index.name == "workers"
    for k, row in zip([1, 2], sim.rows, strict=True):
        assert frame.loc[k, "best"] == row["summary"]["best"]["median"]
        assert frame.loc[k, "epochs"] == row["summary"]["epochs"]["median"]
        assert frame.loc[k, "speedup"] == row["speedup"]
    assert math.isnan(frame.loc[1, "speedup_p5"]) and frame.loc[1, "speedup"] == 1.0
    assert frame.loc[2, "speedup_p5"] == sim.rows[1]["speedup_range"][0]
    assert frame.loc[2, "reach_sim_hours"] == sim.rows[1]["reach_s"] / 3600
    assert "workers=[1, 2]" in repr(sim) and "seeds=2" in repr(sim)
    # a line per search: 2 k x 2 seeds, then as many reach runs
    assert len(lines) == 8 and lines[-1].startswith("simulate: [8/8] k=2, seed 1: ")
    assert all("ETA" in line for line in lines)


def test_search_settings_are_keywords_and_reach_the_search(space_file: Path) -> None:
    fifo = simulate_search(
        space_file, table=_curves(), workers=[1], seeds=1, scheduler="fifo", log=None
    )
    assert fifo.settings.scheduler == "fifo" and fifo.rungs is None
    # fifo stops nothing: every one of the 12 trials runs its 6 epochs
    assert fifo.rows[0]["summary"]["epochs"]["median"] == 12 * 6
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
        "grace_perod: no setting 'grace_perod'; did you mean 'grace_period'?",
        "finalists: the simulation runs the search alone",
        "against['multivariat']: no setting 'multivariat'; did you mean 'multivariate'?",
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
        (
            {"table": "nowhere.parquet", "space": "smoke"},
            "table='nowhere.parquet': file not found",
        ),
        ({"table": "nowhere.parquet", "space": "nope.yaml"}, "space='nope.yaml': file not found"),
        ({"curves": "hartmann", "max_epochs": 9}, "max_epochs=9: the curves='hartmann' curves"),
        ({"curves": "hartmann", "against": "scheduler=asha"}, "against: expected a dict"),
        ({"space": 3, "table": "x.parquet"}, "space: expected a space's name or a path, got 3"),
        ({"curves": "hartmann", "seed": 2}, "seed: no setting 'seed'; did you mean 'seeds'?"),
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


def test_optunas_line_per_simulated_search_is_not_printed_and_its_verbosity_kept(
    space_file: Path, capsys: pytest.CaptureFixture
) -> None:
    """From Python, each simulated search printed Optuna's 'A new study created in memory'
    among the progress lines; the command line had set Optuna's verbosity itself."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.INFO)
    try:
        simulate_search(space_file, table=_curves(), workers=[1], seeds=2, log=None)
        assert optuna.logging.get_verbosity() == optuna.logging.INFO
    finally:
        optuna.logging.set_verbosity(optuna.logging.WARNING)
    printed = capsys.readouterr()
    assert "A new study created" not in printed.err + printed.out


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.lists(st.tuples(st.floats(0.1, 100.0), st.floats(-5.0, 5.0)), min_size=0, max_size=6),
        min_size=1,
        max_size=7,
    ),
    st.lists(st.floats(0.0, 120.0), min_size=1, max_size=20),
)
def test_anytime_quantiles_are_the_seeds_best_so_far_at_each_time(
    raw: list[list[tuple[float, float]]], times: list[float]
) -> None:
    seeds = []  # each seed's improvements: times increasing, values decreasing
    for pairs in raw:
        kept: list[list[float]] = []
        for t, v in sorted(pairs):
            if not kept or (t > kept[-1][0] and v < kept[-1][1]):
                kept.append([t, v])
        seeds.append(kept)
    grid = np.sort(np.asarray(times))
    q25, q50, q75 = anytime_quantiles(seeds, grid)
    for j, t in enumerate(grid):
        so_far = sorted(min([v for s, v in pairs if s <= t], default=math.inf) for pairs in seeds)
        for q, got in ((0.25, q25[j]), (0.5, q50[j]), (0.75, q75[j])):
            at = q * (len(so_far) - 1)  # numpy's linear: between the two values around
            low, high = so_far[math.floor(at)], so_far[math.ceil(at)]
            expected = (
                low
                if at == math.floor(at) or low == high
                else low + (at - math.floor(at)) * (high - low)
            )
            assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)
    assert np.all(q25 <= q50) and np.all(q50 <= q75)
    assert np.all(q50[1:] <= q50[:-1])  # a best so far only improves (inf: none yet)


def test_a_searchs_improvements_end_at_its_best(space_file: Path) -> None:
    sim = simulate_search(space_file, table=_curves(), workers=[2], seeds=2, log=None)
    for pairs, best in zip(sim.rows[0]["anytime"], sim.rows[0]["bests"], strict=True):
        times, values = np.asarray(pairs).T
        assert np.all(np.diff(times) >= 0) and np.all(np.diff(values) < 0)
        assert values[-1] == best


def test_the_plot_draws_each_k_and_is_written_in_the_format_its_suffix_names(
    tmp_path: Path, space_file: Path
) -> None:
    sim = simulate_search(
        space_file, table=_curves(), workers=[1, 2], seeds=2, against={"scheduler": "fifo"},
        log=None,
    )  # fmt: skip
    assert sim.metric == "anchored_val_loss"
    fig = sim.plot(tmp_path / "sim.png")
    anytime, final, speedup = fig.axes
    assert [t.get_text() for t in anytime.get_legend().get_texts()] == [
        "k=1", "k=2", "k=1's median as found (the target)",
    ]  # fmt: skip
    assert "anchored_val_loss" in anytime.get_ylabel()
    assert [t.get_text() for t in final.get_legend().get_texts()] == [
        "the search", "scheduler=fifo",
    ]  # fmt: skip
    assert "linear (k / 1)" in [t.get_text() for t in speedup.get_legend().get_texts()]
    assert (tmp_path / "sim.png").read_bytes().startswith(b"\x89PNG")
    sim.plot(tmp_path / "sim.pdf")
    assert (tmp_path / "sim.pdf").read_bytes().startswith(b"%PDF")
    with pytest.raises(ConfigError, match=r"expected a file ending in \.png, \.pdf, \.svg"):
        sim.plot(tmp_path / "sim.txt")
    assert not (tmp_path / "sim.txt").exists()


def test_the_command_refuses_a_plot_it_cannot_write_before_it_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    (tmp_path / "a_dir.png").mkdir()
    for plot in ("x.jpg", "a_dir.png"):
        argv = ["--curves", "hartmann", "--seeds", "1", "--plot", str(tmp_path / plot)]
        assert main(argv) == 2
        printed = capsys.readouterr()
        assert f"--plot {tmp_path / plot}: " in printed.err and "simulate: [" not in printed.err
    argv = ["--curves", "hartmann", "--workers", "1", "2", "--seeds", "1", "--num-samples", "6"]
    assert main([*argv, "--plot", str(tmp_path / "h.svg")]) == 0
    assert (tmp_path / "h.svg").read_text().lstrip().startswith("<?xml")


def test_numpys_numbers_are_taken_as_pythons(space_file: Path) -> None:
    """np.int64 workers reached Ray Tune's ConcurrencyLimiter, whose bare assert failed
    after Ray had loaded; np.int64 settings were refused as no valid integer."""
    sim = simulate_search(
        space_file,
        table=_curves(),
        workers=np.array([1, 2]),
        seeds=np.int64(1),
        num_samples=np.int64(6),
        against={"grace_period": np.int64(2)},
        log=None,
    )
    assert [r["workers"] for r in sim.rows] == [1, 2]
    assert type(sim.rows[0]["workers"]) is int and sim.settings.num_samples == 6
    assert sim.against is not None and sim.against["settings"]["grace_period"] == 2
    json.dumps(sim.against["given"])  # plain numbers: the record is JSON


def test_the_space_the_table_and_against_are_each_checked_beside_the_others(
    tmp_path: Path, space_file: Path
) -> None:
    """A bad keyword hid against's bad value, and a bad setting hid the table's problems."""
    short = _curves().query("epoch <= 4")  # the space runs 6 epochs
    with pytest.raises(ConfigError) as caught:
        simulate_search(
            space_file,
            table=short,
            workers=[2, 2],
            grace_period=0,
            against={"scheduler": "nope"},
        )
    said = "\n".join(caught.value.problems)
    assert "workers: each k once, got [2, 2]" in said
    assert "grace_period" in said
    assert "table (a DataFrame): " in said and "6" in said
    assert "against: scheduler: Input should be" in said


def test_a_setting_given_as_none_sets_it_to_null(tmp_path: Path) -> None:
    """cutoff_window=None left a space's cutoff_window as the file set it: the keyword was
    taken for one not given."""
    path = tmp_path / "windowed.yaml"
    path.write_text(
        yaml.safe_dump({**SPACE, "settings": {**SPACE["settings"], "cutoff_window": 4}})
    )
    windowed = simulate_search(path, table=_curves(), workers=[1], seeds=1, log=None)
    assert windowed.settings.cutoff_window == 4
    unset = simulate_search(
        path, table=_curves(), workers=[1], seeds=1, cutoff_window=None, log=None
    )
    assert unset.settings.cutoff_window is None
    with pytest.raises(ConfigError, match="scheduler"):
        simulate_search(path, table=_curves(), workers=[1], seeds=1, scheduler=None)
    assert len({windowed, unset}) == 2  # hashable, as an object (eq=False)


def test_a_k_above_the_trials_a_search_runs_is_labelled_and_dashed() -> None:
    """With 4 trials per search, k=16's line lay on k=4's: the legend named a line no one
    could see."""
    sim = simulate_search(curves="hartmann", workers=[1, 4, 16], seeds=1, num_samples=4, log=None)
    lines = sim.plot().axes[0].get_lines()[:3]
    assert [line.get_label() for line in lines] == ["k=1", "k=4", "k=16 (all 4 trials at once)"]
    assert [line.get_linestyle() for line in lines] == ["-", "-", "--"]


def test_each_ks_line_ends_where_its_last_search_ended(space_file: Path) -> None:
    """The lines ran on to the slowest k's end, as if the faster searches went on."""
    sim = simulate_search(space_file, table=_curves(), workers=[1, 3], seeds=2, log=None)
    anytime = sim.plot().axes[0]
    unit, per = time_unit(max(sim.rows[0]["ends"]))
    assert anytime.get_xlabel() == f"simulated wall time ({unit})"
    lines = [
        line
        for line in anytime.get_lines()
        if re.match(r"k=\d+( |$)", str(line.get_label()))  # not the target's line
    ]
    for row, line in zip(sim.rows, lines, strict=True):  # one line per k
        assert line.get_xdata()[-1] <= max(row["ends"]) / per
    assert max(sim.rows[1]["ends"]) < max(sim.rows[0]["ends"])  # k=3 ends sooner


def test_the_best_so_far_line_ends_at_the_median_the_table_gives() -> None:
    """With an even number of seeds the line ended at the worse middle seed, not at the
    median the table and the middle panel give (a helper's HAN plot: -0.5995 against
    -0.6109)."""
    sim = simulate_search(curves="hartmann", workers=[1, 3], seeds=4, num_samples=6, log=None)
    assert len(set(sim.rows[0]["bests"])) == 4  # the two middle seeds differ
    lines = [
        line
        for line in sim.plot().axes[0].get_lines()
        if re.match(r"k=\d+( |$)", str(line.get_label()))  # not the target's line
    ]
    for row, line in zip(sim.rows, lines, strict=True):  # one line per k
        assert line.get_ydata()[-1] == pytest.approx(row["summary"]["best"]["median"])


def test_the_figure_says_what_ends_a_search(space_file: Path) -> None:
    """Under a time budget the middle panel read 'after 12 trials' where a search ran 2."""
    sim = simulate_search(
        space_file, table=_curves(), workers=[1], seeds=1, time_budget_s=20,
        trial_start_s=3, log=None,
    )  # fmt: skip
    fig = sim.plot()
    title = fig.get_suptitle()
    assert "12 trials per search or 20 s of simulated time" in title
    assert "each trial starting 3 s before its first epoch" in title
    assert fig.axes[1].get_title() == "at each search's end"


def test_each_ks_line_ends_at_its_median_best_when_its_search_got_there(
    tmp_path: Path,
) -> None:
    """With all trials at once a search spans less than ten times its first result's time:
    the lines were drawn at times up to ten times that, each cut at the last one before its
    search's end, so the improvements at its last epoch were left off and the line ended
    above the median best the table gives (a reviewer's smoke table: -0.0177 against
    -0.04798; here 0.51 against 0.3433)."""
    path = tmp_path / "few_epochs.yaml"
    few = {**SPACE["settings"], "num_samples": 4, "max_epochs": 3}
    path.write_text(yaml.safe_dump({**SPACE, "settings": few}))
    table = _curves(epochs=3).assign(epoch_time_s=1.0)  # each search at k >= 4 ends at 3 s
    sim = simulate_search(path, table=table, workers=[1, 4, 8], seeds=3, log=None)
    anytime = sim.plot().axes[0]
    _, per = time_unit(max(sim.rows[0]["ends"]))
    lines = [
        line
        for line in anytime.get_lines()
        if re.match(r"k=\d+( |$)", str(line.get_label()))  # not the target's line
    ]
    for row, line in zip(sim.rows, lines, strict=True):  # one line per k
        if row["workers"] >= 4:  # the case: a span under ten times the first result's
            assert max(row["ends"]) < 10 * min(pairs[0][0] for pairs in row["anytime"])
        assert line.get_ydata()[-1] == pytest.approx(row["summary"]["best"]["median"])
        assert line.get_xdata()[-1] == pytest.approx(max(row["ends"]) / per)
    for row, line in zip(sim.rows, lines, strict=True):  # each step where it happened
        for pairs in row["anytime"]:
            assert np.any(np.isclose(line.get_xdata(), pairs[-1][0] / per))


def test_a_time_budget_before_any_result_is_drawn_and_said(
    tmp_path: Path, space_file: Path, capsys: pytest.CaptureFixture
) -> None:
    """A budget shorter than an epoch: each search ended with its first result, reported
    after it. With the seeds' first results at different times no median best so far was
    drawn at any time, and --plot raised matplotlib's 'Data cannot be log-scaled' after the
    tables and --out were written; Simulation.plot too."""
    curves = _curves()  # each configuration's epochs a little slower than the one before
    size, dropout = curves["size"].eq("small"), curves["dropout"].map({0.0: 0, 0.15: 1, 0.3: 2})
    curves["epoch_time_s"] = 1.0 + 0.001 * (3 * size + dropout)
    table = tmp_path / "curves.parquet"
    curves.to_parquet(table)
    argv = ["--table", str(table), "--space", str(space_file), "--workers", "1", "2"]
    argv += ["--seeds", "4", "--time-budget", "0.5", "--out", str(tmp_path / "tb.json")]
    assert main([*argv, "--plot", str(tmp_path / "tb.png")]) == 0
    assert "Traceback" not in capsys.readouterr().err
    assert (tmp_path / "tb.png").read_bytes().startswith(b"\x89PNG")
    sim = simulate_search(
        space_file, table=curves, workers=[1, 2], seeds=4, time_budget_s=0.5, log=None
    )
    assert len({pairs[0][0] for pairs in sim.rows[0]["anytime"]}) > 1  # the case
    anytime = sim.plot(tmp_path / "sim.png").axes[0]
    said = [t.get_text() for t in anytime.texts]
    assert said == [
        "no search had a result within the time budget:\n"
        "each ended with its first result, reported after the budget"
    ]
    lines = [
        line
        for line in anytime.get_lines()
        if re.match(r"k=\d+( |$)", str(line.get_label()))  # not the target's line
    ]
    for row, line in zip(sim.rows, lines, strict=True):  # its only value, marked at its end
        assert line.get_ydata()[-1] == pytest.approx(row["summary"]["best"]["median"])
        assert line.get_marker() == "o" and line.get_markevery() == [len(line.get_xdata()) - 1]
    budget = simulate_search(
        space_file, table=_curves(), workers=[1], seeds=1, time_budget_s=3, log=None
    )
    assert not budget.plot().axes[0].texts  # a result within it: nothing said
