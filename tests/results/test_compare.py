from __future__ import annotations

import contextlib
import inspect
import io
import json
import math
import re
import shutil
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

from raysearch.cli.compare import main
from raysearch.core.errors import ConfigError
from raysearch.core.files import METADATA, TRIALS
from raysearch.results.comparison import REPORT, compare_runs, write_report
from raysearch.results.evidence import asha_rungs
from raysearch.results.plots import draw_learning_curves, plot_strategies
from raysearch.results.runs import load_run, load_runs
from raysearch.results.writing import write_results
from raysearch.testing.results import write_fake_run

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
PICK = "pick: mean ± sd over its replicates"  # the side-by-side table's column


@pytest.fixture(scope="module")
def report(two_runs, tmp_path_factory):
    """The report, made through the command line as a user would."""
    out = tmp_path_factory.mktemp("report") / "cmp"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert main([*map(str, two_runs), "--out", str(out)]) == 0
    assert f"report: {out / REPORT}" in printed.getvalue()
    return out / REPORT


def test_report_has_every_section_for_every_run(report):
    text = report.read_text()
    assert text.count("## 1. loss_ablation/a") == 1 and text.count("## 2. loss_ablation/b") == 1
    for heading in (
        "## Side by side",
        "### Trials stopped by ASHA",
        "### Failed trials",
        "### Per loss strategy",
        "### Parameter importance (fANOVA)",
        "### Parallel coordinates",
    ):
        assert heading in text
    assert text.count("### Trials stopped by ASHA") == 2
    assert "left out `budget_beta`: conditional" in text
    assert "only one parameter: its importance is 1 by construction" in text
    assert text.count("Per task at that epoch") == 2 and "| daily_forecast |" in text
    assert "Best and median per loss strategy" in text
    assert "Not evaluated: needs >= 3 trials" in text  # run b's a3dro branch
    # the side-by-side table has one row per run
    table = [line for line in text.splitlines() if line.startswith("| loss_ablation/")]
    assert len(table) == 2


def test_every_referenced_figure_exists_and_is_a_png(report):
    names = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", report.read_text())
    expected = {"anytime.png", "strategies.png"}
    for k in (1, 2):
        expected |= {f"run{k}_{kind}.png" for kind in ("anytime", "learning_curves", "parallel")}
    # run a has 3 scored a3dro trials (budget_beta and regret_clip vary), run b only 2;
    # loss_strategy alone is the main importance: 1 by construction, so no figure
    expected.add("run1_importance_branch1.png")
    assert set(names) == expected and len(names) == len(expected)
    assert {p.name for p in report.parent.glob("*.png")} == expected
    for name in names:
        data = (report.parent / name).read_bytes()
        assert data.startswith(PNG_MAGIC) and len(data) > 5_000, name
    assert not list(report.parent.glob(".*.tmp"))


def test_a_report_written_over_an_earlier_one_replaces_it_whole(two_runs, report, tmp_path, capsys):
    """The earlier report's figures (run2_*.png) go; --out holds exactly the new report, and
    nothing is left beside it."""
    out = tmp_path / "cmp"
    shutil.copytree(report.parent, out)  # an earlier report, of two runs
    assert list(out.glob("run2_*.png"))
    assert main([str(two_runs[0]), "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    figures = next(line for line in printed if line.startswith("figures: "))
    named = set(re.findall(r"!\[[^\]]*\]\(([^)]+)\)", (out / REPORT).read_text()))
    assert figures == f"figures: {', '.join(sorted(named))}"
    assert {p.name for p in out.iterdir()} == {REPORT, *named}
    assert not list(out.glob("run2_*")) and "# Comparison of 1 run(s)" in (out / REPORT).read_text()
    assert [p.name for p in tmp_path.iterdir()] == ["cmp"]


def test_an_out_holding_anything_but_a_report_is_refused_naming_it(two_runs, tmp_path, capsys):
    out = tmp_path / "notes"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    assert main([str(two_runs[0]), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"--out {out}: not empty" in err and "new or empty directory" in err
    with pytest.raises(ConfigError, match="holds no comparison report"):
        compare_runs([two_runs[0]], out)
    assert [p.name for p in out.iterdir()] == ["notes.txt"]
    assert [p.name for p in tmp_path.iterdir()] == ["notes"]


def test_one_run_given_as_a_str_is_refused_not_read_letter_by_letter(two_runs, tmp_path):
    """compare_runs(RUN, out) read RUN's letters as 61 run directories (a helper)."""
    for given in (str(two_runs[0]), two_runs[0]):
        with pytest.raises(ConfigError) as err:
            compare_runs(given, tmp_path / "out")  # type: ignore[arg-type]
        assert err.value.problems == [
            f"run_dirs: expected a list of run directories, got {given!r}; give [{given!r}]"
        ]
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("seed", "why"),
    [
        ("x", "must be an int >= 0, got 'x'"),
        (-1, "must be an int >= 0, got -1"),
        (1.5, "must be an int >= 0, got 1.5"),
        (True, "must be an int >= 0, got True"),  # a bool is no count, as run_search's
        (2**32, "must be an int <= 4294967295, got 4294967296"),
    ],
)
def test_a_bad_seed_is_said_with_the_other_arguments_problems_before_anything_is_written(
    two_runs, tmp_path, seed: object, why: str
):
    """compare_runs(RUNS, out, seed='x') (also -1, 1.5) ended in scikit-learn's
    InvalidParameterError about random_state, once the runs were read and the report begun:
    the seed was never checked."""
    with pytest.raises(ConfigError) as err:
        compare_runs(two_runs, tmp_path / "out", seed=seed)  # type: ignore[arg-type]
    assert err.value.problems == [f"seed: {why}"]
    twice = [two_runs[0], two_runs[0]]
    with pytest.raises(ConfigError) as err:  # a run given twice: both, in one error
        compare_runs(twice, tmp_path / "out", seed=seed)  # type: ignore[arg-type]
    assert err.value.problems == [
        f"{two_runs[0]}: given twice; a run is compared once",
        f"seed: {why}",
    ]
    assert err.value.context == "compare_runs arguments"
    with pytest.raises(ConfigError) as err:  # and with the run directories' type
        compare_runs(str(two_runs[0]), tmp_path / "out", seed=seed)  # type: ignore[arg-type]
    assert [p.split(":")[0] for p in err.value.problems] == ["run_dirs", "seed"]
    assert not (tmp_path / "out").exists()


def test_compare_runs_takes_no_names_the_command_line_checks_its_own(two_runs, tmp_path):
    """compare_runs(..., names='x') gave AttributeError: 'str' object has no attribute
    'option': ``names`` (how problems name options: flags or keywords) was in its public
    signature, though no caller passed it (raysearch compare calls runs_to_compare and
    write_report)."""
    assert list(inspect.signature(compare_runs).parameters) == ["run_dirs", "out_dir", "seed"]
    with pytest.raises(TypeError, match="unexpected keyword argument 'names'"):
        compare_runs(two_runs, tmp_path / "out", names="x")  # type: ignore[call-arg]
    assert not (tmp_path / "out").exists()


def test_a_seed_from_numpy_is_taken_as_an_int(two_runs, tmp_path):
    """As run_search takes one (np.arange's, a DataFrame's)."""
    assert compare_runs(two_runs, tmp_path / "out", seed=np.int64(3)).is_file()


def test_runs_read_back_a_generator_or_nothing_are_taken_or_named(two_runs, tmp_path):
    """A generator was used up by the out directory's check and crashed the report
    (KeyError: 'epochs to best'); runs load_run read gave a bare TypeError; a summary dict's
    keys were taken as run directories; [] named the command line's RUN_DIR (a helper)."""
    report = compare_runs([load_run(two_runs[0]), load_run(two_runs[1])], tmp_path / "a")
    assert report == tmp_path / "a" / REPORT and report.is_file()
    assert compare_runs((p for p in two_runs), tmp_path / "b").is_file()
    for given, said in (
        ({"run_dir": str(two_runs[0])}, "expected a list of run directories, got {'run_dir'"),
        ([], "give at least one run directory"),
        (3, "expected a list of run directories, got 3"),
    ):
        with pytest.raises(ConfigError, match=re.escape(f"run_dirs: {said}")):
            compare_runs(given, tmp_path / "c")  # type: ignore[arg-type]
    assert not (tmp_path / "c").exists()


@pytest.mark.parametrize("other", ["notes.txt", "figures"])
def test_an_out_holding_a_report_and_anything_else_is_refused_and_left_as_it_was(
    two_runs, tmp_path, other
):
    """A new report replaces --out whole: a file or a directory beside an earlier report.md
    and its PNGs, which no comparison wrote, would go with them."""
    out = tmp_path / "cmp"
    out.mkdir()
    (out / REPORT).write_text("# an earlier report\n")
    (out / "curve.png").write_bytes(PNG_MAGIC)
    if other == "figures":
        (out / other).mkdir()
    else:
        (out / other).write_text("mine")
    with pytest.raises(ConfigError, match="not empty, and it holds no comparison report"):
        compare_runs([two_runs[0]], out)
    assert sorted(p.name for p in out.iterdir()) == sorted([REPORT, "curve.png", other])


def test_the_default_out_is_a_directory_of_its_own_made_at_once(tmp_path, monkeypatch):
    """results/compare/<timestamp> named a second's report: a second compare in that second
    replaced the first's (found by a README audit helper). Choosing a name not there yet
    left a race: two compares started together chose the same one, the first still
    writing (its report is staged beside it), so the name is claimed by making it. A block
    that fails leaves no empty directory, nor the parents made for it."""
    from raysearch.results import comparison

    monkeypatch.setattr(comparison.time, "strftime", lambda fmt: "20261206-120000")
    with comparison.new_out_dir(tmp_path) as first:
        assert first == tmp_path / "compare" / "20261206-120000" and first.is_dir()
        with comparison.new_out_dir(tmp_path) as second:  # the first still empty
            assert second.name == "20261206-120000-2"
            (second / "report.md").write_text("# a report")
        with pytest.raises(KeyboardInterrupt), comparison.new_out_dir(tmp_path) as third:
            assert third.name == "20261206-120000-3"
            raise KeyboardInterrupt
        assert not third.exists() and second.is_dir()
    nothing = tmp_path / "elsewhere"
    with pytest.raises(OSError), comparison.new_out_dir(nothing):
        raise OSError("disk full")
    assert not nothing.exists()


def test_a_failed_write_leaves_the_earlier_report_whole(two_runs, report, tmp_path, monkeypatch):
    out = tmp_path / "cmp"
    shutil.copytree(report.parent, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("raysearch.results.comparison.plot_parallel_coordinates", full_disk)
    with pytest.raises(OSError, match="No space"):
        compare_runs([two_runs[0]], out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["cmp"]


def test_bad_run_directory_fails_before_anything_is_written(two_runs, tmp_path):
    (tmp_path / "broken").mkdir()
    out = tmp_path / "out"
    with pytest.raises(ConfigError, match=TRIALS):
        compare_runs([two_runs[0], tmp_path / "broken"], out)
    assert not out.exists()


def test_cli_reports_bad_dir_with_exit_code_2(tmp_path, capsys):
    out = tmp_path / "out"
    assert main([str(tmp_path / "nope"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert str(tmp_path / "nope") in err
    assert not out.exists()


def test_cli_needs_a_run_dir(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([])
    assert exit_info.value.code == 2


def test_a_run_where_every_trial_failed_still_renders(tmp_path, recwarn):
    run = write_fake_run(tmp_path / "loss_ablation" / "failed", n_trials=5)
    trials = pd.read_parquet(run / TRIALS)
    trials = trials.assign(status="failed", best_anchored_val_loss=math.nan, epochs_run=0)
    write_results(run, trials, pd.DataFrame())  # collect writes a table without columns
    report = compare_runs([run], tmp_path / "out")
    text = report.read_text()
    assert "No trial produced a finite best_anchored_val_loss." in text
    assert "### Failed trials (5)" in text
    assert "Not evaluated: needs >= 3 trials" in text
    assert (report.parent / "run1_learning_curves.png").read_bytes().startswith(PNG_MAGIC)
    assert not [w for w in recwarn if "legend" in str(w.message)]


def test_the_side_by_side_table_counts_trials_the_time_budget_cut(tmp_path, report):
    # the two finished runs: every trial completed, stopped or failed; no column for others
    header = next(line for line in report.read_text().splitlines() if "| run " in line)
    assert "out of time" not in header and "interrupted" not in header
    run = write_fake_run(tmp_path / "loss_ablation" / "budget", n_trials=6)
    trials = pd.read_parquet(run / TRIALS)
    cut = trials.index[trials["status"] == "completed"][:2]
    trials.loc[cut, "status"] = "out of time"
    trials.to_parquet(run / TRIALS)
    text = compare_runs([run], tmp_path / "out").read_text()
    header = next(line for line in text.splitlines() if "| run " in line)
    row = next(line for line in text.splitlines() if line.startswith("| loss_ablation/budget"))
    cells = dict(zip((c.strip() for c in header.split("|")), row.split("|"), strict=True))
    assert int(cells["out of time"]) == 2 and "interrupted" not in header


def test_a_corrupt_table_an_out_that_is_or_is_under_a_file_and_a_negative_seed_exit_2(
    two_runs, tmp_path, capsys
):
    broken = tmp_path / "loss_ablation" / "broken"
    shutil.copytree(two_runs[0], broken)
    (broken / TRIALS).write_bytes(b"not parquet")
    out = tmp_path / "out"
    assert main([str(broken), "--out", str(out)]) == 2
    assert f"{broken / TRIALS}: cannot be read as a parquet table" in capsys.readouterr().err
    (tmp_path / "afile").write_text("")
    assert main([str(two_runs[0]), "--out", str(tmp_path / "afile")]) == 2
    assert "is a file" in capsys.readouterr().err
    assert main([str(two_runs[0]), "--out", str(tmp_path / "afile" / "cmp")]) == 2
    assert f"{tmp_path / 'afile'} is a file, so" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main([str(two_runs[0]), "--seed", "-5"])
    assert exit_info.value.code == 2 and "-5" in capsys.readouterr().err
    # scikit-learn's InvalidParameterError about random_state, once the report was begun
    with pytest.raises(SystemExit) as exit_info:
        main([str(two_runs[0]), "--out", str(out), "--seed", str(2**32)])
    assert exit_info.value.code == 2
    assert "an integer from 0 to 4294967295, got 4294967296" in capsys.readouterr().err
    assert not out.exists()


def test_the_run_directories_and_out_are_checked_together(tmp_path, capsys):
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "notes.txt").write_text("mine")
    (tmp_path / "afile").write_text("")
    for out, said in (
        (notes, "not empty"),
        (tmp_path / "afile", f"{tmp_path / 'afile'} is a file"),
    ):
        assert main([str(tmp_path / "nosuch"), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert "(2 problem(s))" in err, err
        assert f"{tmp_path / 'nosuch'}: does not exist" in err and f"--out {out}: {said}" in err
    assert [p.name for p in notes.iterdir()] == ["notes.txt"]


def test_trials_cut_short_are_drawn_apart_from_those_that_ran_their_course(tmp_path):
    """A trial the time budget cut or an interruption stopped was drawn as a completed one."""
    path = write_fake_run(tmp_path / "loss_ablation" / "cut", n_trials=6)
    trials = pd.read_parquet(path / TRIALS)
    done = trials.index[trials["status"] == "completed"]
    trials.loc[done[0], "status"] = "out of time"
    trials.loc[done[1], "status"] = "interrupted"
    trials.to_parquet(path / TRIALS)
    run = load_run(path)
    fig, ax = plt.subplots()
    draw_learning_curves(run, ax)
    curves = ax.get_lines()[: run.epochs["trial_id"].nunique()]  # then the legend's lines
    by_trial = dict(zip(sorted(run.epochs["trial_id"].unique()), curves, strict=True))
    styles = {
        status: {(by_trial[t].get_linestyle(), by_trial[t].get_marker()) for t in ids}
        for status, ids in run.trials.groupby("status")["trial_id"]
        if set(ids) & set(by_trial)
    }
    assert styles["out of time"] == {("-.", ">")} and styles["interrupted"] == {("-.", "d")}
    assert styles["completed"] == {("-", "o")}
    assert len({style for kinds in styles.values() for style in kinds}) == len(styles)
    labels = ax.get_legend_handles_labels()[1]
    assert {"out of time", "interrupted"} <= set(labels)
    plt.close(fig)


def test_runs_on_different_data_or_spaces_are_compared_with_a_note_naming_each(tmp_path, capsys):
    """Anchored losses are ratios to references fitted on each run's own data: the report
    says when the runs' data differ (metadata.json's data_fingerprint) or were not
    recorded, and when their spaces differ; runs alike get no note."""
    root = tmp_path / "runs"
    a = write_fake_run(root / "loss_ablation" / "a", seed=0, n_trials=6)
    b = write_fake_run(root / "model_size" / "b", seed=1, n_trials=6, space="model_size")
    c = write_fake_run(root / "loss_ablation" / "c", seed=0, n_trials=6)
    text = compare_runs([a, b, c], tmp_path / "unlike").read_text()
    notes = [line for line in text.splitlines() if line.startswith("**Note:")]
    assert len(notes) == 2, notes
    assert notes[0].startswith("**Note: these runs were measured on different data**")
    assert (
        "`loss_ablation/a`, `loss_ablation/c` on data fake0; `model_size/b` on data fake1"
        in (notes[0])
    )
    assert "do not compare" in notes[0]
    assert "`model_size/b` searched model_size" in notes[1]
    assert "- data: fake1 (metadata.json's `data_fingerprint`)" in text
    alike = compare_runs([a, c], tmp_path / "alike").read_text()
    assert "**Note:" not in alike and "- data: fake0" in alike
    # the command says so too, before where the report is
    assert main([str(a), str(b), "--out", str(tmp_path / "said")]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith("Note: these runs were measured on different data")
    assert "model_size/b on data fake1" in printed
    assert main([str(a), str(c), "--out", str(tmp_path / "quiet")]) == 0
    assert capsys.readouterr().out.startswith("report: ")
    metadata = json.loads((c / METADATA).read_text())
    del metadata["data_fingerprint"]  # a run written before it was recorded
    (c / METADATA).write_text(json.dumps(metadata))
    unknown = compare_runs([a, c], tmp_path / "unknown").read_text()
    assert "**Note: these runs may differ in data**" in unknown
    assert "`loss_ablation/c` on data not recorded" in unknown
    assert "- data: not recorded" in unknown


def test_the_learning_curves_rung_lines_are_the_rungs_the_evidence_lists(tmp_path):
    """A FIFO run has no rungs and gets no rung lines; an ASHA run's lines sit at the epochs
    where ASHA records (ceil of grace * rf**k below max_epochs: 1, 3, 7 for rf 2.5 and 16
    epochs), not at the milestones 2.5, 6.25, 15.625."""
    path = write_fake_run(tmp_path / "loss_ablation" / "r", n_trials=5, reduction_factor=2.5)
    run = load_run(path)
    for scheduler, expected in (("fifo", []), ("asha", [1, 3, 7]), ("gated_asha", [1, 3, 7])):
        run.metadata["settings"] = {**run.settings, "scheduler": scheduler, "max_epochs": 16}
        assert asha_rungs(run.settings) == expected
        fig, ax = plt.subplots()
        draw_learning_curves(run, ax)
        vertical = [
            line.get_xdata()[0]
            for line in ax.get_lines()
            if len(line.get_xdata()) == 2 and len(set(line.get_xdata())) == 1
        ]
        assert vertical == expected, scheduler
        assert ("ASHA rungs" in ax.get_xlabel()) == bool(expected)
        plt.close(fig)


@pytest.mark.parametrize(
    "damage, said",
    [
        ("garbage", "cannot be read as a parquet table"),
        ("missing_column", "missing column(s) ['search_value']"),
    ],
)
def test_a_finalists_table_that_cannot_be_read_is_refused_with_the_other_problems(
    example_run, tmp_path, capsys, damage, said
):
    """finalists.parquet is read and checked with the run's other files: compare exits 2
    naming it (and the other problems), before anything is written; it ended in a
    traceback (ArrowInvalid, KeyError) once the check had passed."""
    run = example_run("war_losses", "w")
    path = run / "finalists.parquet"
    if damage == "garbage":
        path.write_text("not parquet")
    else:
        pd.read_parquet(path).drop(columns=["search_value"]).to_parquet(path)
    out = tmp_path / "out"
    assert main([str(run), str(tmp_path / "nosuch"), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: {said}" in err and f"{tmp_path / 'nosuch'}: does not exist" in err
    assert "Traceback" not in err and not out.exists()


def _side_by_side(text: str) -> dict[str, dict[str, str]]:
    """The side-by-side table of a report: run -> column -> cell."""
    lines = text.splitlines()
    start = lines.index("## Side by side") + 2
    header = [c.strip() for c in lines[start].strip("|").split("|")]
    rows = {}
    for line in lines[start + 2 :]:
        if not line.startswith("|"):
            break
        cells = dict(zip(header, (c.strip() for c in line.strip("|").split("|")), strict=True))
        rows[cells["run"]] = cells
    return rows


def test_the_side_by_side_shows_what_a_run_with_finalists_picked_beside_its_search_best(
    example_run, two_runs, tmp_path
):
    """war_losses re-trained 3 finalists and picked finalist 2 (mean -0.751 over 3 fresh
    seeds: best_config.yaml). The table gave the search's luckiest trial (-1.0644, trial
    4a70a98f, finalist 1, whose re-trainings averaged -0.694) as the run's best, with
    nothing saying the run picked another configuration."""
    run = example_run("war_losses", "w")
    text = compare_runs([run, two_runs[0]], tmp_path / "out").read_text()
    rows = _side_by_side(text)
    war, fake = rows["war_losses/w"], rows["loss_ablation/a"]
    assert war["search's best anchored_val_loss"] == "-1.0644"
    assert war["search's best trial"] == "4a70a98f"
    assert war[PICK] == "finalist 2 (a3dro): -0.7511 ± 0.1215 over 3"
    assert fake[PICK] == "-"  # no finalists: its pick is its search's best
    assert "**Search's best trial `4a70a98f`: best_anchored_val_loss = -1.0644**" in text
    assert (
        "re-trained as finalist 1 with 3 fresh seed(s), its configuration averaged -0.6937 ± "
        "0.0367. The run's pick (what best_config.yaml holds): finalist 2 (a3dro): -0.7511"
    ) in text
    assert "**Best trial `" in text  # the run without finalists: its best is its pick


def _interrupted_as_the_last_finalist_re_trained(run: Path) -> Path:
    """``run`` as Ctrl+C left it while its last finalist's replicates re-trained."""
    finalists = pd.read_parquet(run / "finalists.parquet")
    last = finalists["finalist"] == finalists["finalist"].max()
    finalists.loc[last, "status"] = "unfinished"
    finalists.loc[last, "best_anchored_val_loss"] = math.nan
    finalists["pick"] = False
    finalists.to_parquet(run / "finalists.parquet")
    return run


def test_a_run_interrupted_as_its_finalists_re_trained_is_said_to_be_and_how_to_finish_it(
    example_run, two_runs, tmp_path
):
    """Ctrl+C as the finalists re-train: replicates unfinished, nothing picked, summary.json
    says 'interrupted'. The report's side-by-side row and run section read as a finished
    search's: nothing said the run is unfinished or that --resume would still pick."""
    run = _interrupted_as_the_last_finalist_re_trained(example_run("war_losses", "w"))
    text = compare_runs([run, two_runs[0]], tmp_path / "out").read_text()
    rows = _side_by_side(text)
    assert rows["war_losses/w"]["state"] == "interrupted"
    assert rows["war_losses/w"][PICK] == (
        "nothing picked yet (3 of 9 replicates unfinished): best_config.yaml holds the "
        "search's best trial until --resume picks"
    )
    assert rows["loss_ablation/a"]["state"] == "finished"
    assert (
        "- state: interrupted (3 of 9 finalist replicates unfinished, nothing picked yet): "
        f"`raysearch run --resume {run}` would finish it"
    ) in text
    assert "- state: finished\n" in text


@pytest.mark.parametrize("status", ["failed", "unfinished"])
def test_a_run_whose_finalists_picked_nothing_is_said_to_hold_the_search_best_in_best_config(
    example_run, tmp_path, status
):
    """Every finalist replicate failed, or the run was interrupted before any finished:
    nothing is picked and best_config.yaml holds the search's best trial (write_results),
    yet the report said 'The run's pick (what best_config.yaml holds): none ...', and
    described finalist 1's re-training 'with 0 fresh seed(s)', averaging n/a."""
    run = example_run("war_losses", "w")
    finalists = pd.read_parquet(run / "finalists.parquet")
    finalists["status"] = status
    finalists["best_anchored_val_loss"] = math.nan
    finalists["pick"] = False  # as search/finalists.py: no pick without a finished replicate
    finalists = finalists.drop(columns=[c for c in finalists if str(c).startswith("test/")])
    settings = json.loads((run / METADATA).read_text())["settings"]
    trials, epochs = pd.read_parquet(run / TRIALS), pd.read_parquet(run / "epochs.parquet")
    write_results(run, trials, epochs, None, 16, settings=settings, finalists=finalists)
    assert "trial_id: 4a70a98f" in (run / "best_config.yaml").read_text()  # the search's best
    text = compare_runs([run], tmp_path / "out").read_text()
    until = " until --resume picks" if status == "unfinished" else ""
    why = (
        "yet: 9 of 9 finalist replicates are unfinished"
        if status == "unfinished"
        else "(no finalist replicate finished)"
    )
    assert (
        f"Nothing was picked {why}, so best_config.yaml holds the search's best trial "
        f"`4a70a98f`{until}."
    ) in text
    assert "re-trained as finalist 1" not in text and "what best_config.yaml holds" not in text
    cell = _side_by_side(text)["war_losses/w"][PICK]
    assert cell.startswith("nothing picked") and cell.endswith(
        f"best_config.yaml holds the search's best trial{until}"
    )


def test_a_run_interrupted_after_finalist_1_re_trained_says_how_it_held_up_and_nothing_picked(
    example_run, tmp_path
):
    """Interrupted once finalist 1's replicates had finished: its re-training is described,
    and nothing is picked yet."""
    run = _interrupted_as_the_last_finalist_re_trained(example_run("war_losses", "w"))
    text = compare_runs([run], tmp_path / "out").read_text()
    assert (
        "re-trained as finalist 1 with 3 fresh seed(s), its configuration averaged -0.6937 ± "
        "0.0367. Nothing was picked yet: 3 of 9 finalist replicates are unfinished, so "
        "best_config.yaml holds the search's best trial `4a70a98f` until --resume picks."
    ) in text


def _strategies_legend(run, tmp_path, monkeypatch) -> tuple[list[str], bool]:
    """The per-strategy figure's legend labels, and whether every marker drawn is one of
    the legend's (markers compared by their path)."""
    drawn = []
    monkeypatch.setattr("raysearch.results.plots._save", lambda fig, path: drawn.append(fig))
    plot_strategies([run], tmp_path / "strategies.png")
    ax = drawn[0].axes[0]
    labels = ax.get_legend_handles_labels()[1]
    n = len(labels) - 1  # the run's own label is a line, each marker's a scatter

    def markers(collections):
        return {c.get_paths()[0].vertices.tobytes() for c in collections}

    named = markers(ax.collections[:-n]) <= markers(ax.collections[-n:])
    plt.close(drawn[0])
    return labels, named


def test_the_strategies_figure_names_every_marker_it_draws(tmp_path, monkeypatch):
    """Trials cut short (out of time, interrupted) were drawn with their own markers, which
    the legend and title (completed, stopped) did not name."""
    run = load_run(write_fake_run(tmp_path / "loss_ablation" / "cut", n_trials=8))
    labels, named = _strategies_legend(run, tmp_path, monkeypatch)
    assert labels == ["loss_ablation/cut", "completed", "stopped by ASHA"] and named
    done = run.trials.index[run.trials["status"] == "completed"]
    run.trials.loc[done[0], "status"] = "out of time"
    run.trials.loc[done[1], "status"] = "interrupted"
    labels, named = _strategies_legend(run, tmp_path, monkeypatch)
    assert labels[1:] == [
        "completed",
        "stopped by ASHA",
        "out of time (value so far)",
        "interrupted (value so far)",
    ]
    assert named


def test_an_out_that_is_one_of_the_runs_is_said_to_be_one(two_runs, tmp_path, capsys, monkeypatch):
    """--out RUN (a slip for --out beside it) was refused as 'not empty, and it holds no
    comparison report', as any other directory."""
    before = sorted(p.name for p in two_runs[1].iterdir())
    assert main([*map(str, two_runs), "--out", str(two_runs[1])]) == 2
    err = capsys.readouterr().err
    assert f"--out {two_runs[1]}: one of the runs being compared; give a directory" in err
    assert "holds no comparison report" not in err
    monkeypatch.chdir(two_runs[1].parent)  # the same run, spelt otherwise
    assert main([str(two_runs[0]), "b", "--out", str(two_runs[1])]) == 2
    assert "one of the runs being compared (b)" in capsys.readouterr().err
    assert sorted(p.name for p in two_runs[1].iterdir()) == before


def test_compare_runs_from_python_with_out_dir_one_of_the_runs_says_so_naming_out_dir(
    two_runs, tmp_path
):
    """compare_runs(RUNS, RUN) and write_report(runs, RUN) refused RUN as any other
    directory ('--out RUN: not empty, and it holds no comparison report'): only the command
    line checked that --out is one of the runs, and problems named --out, which a Python
    caller never gave."""
    before = sorted(p.name for p in two_runs[1].iterdir())
    said = f"out_dir={str(two_runs[1])!r}: one of the runs being compared; give a directory"
    with pytest.raises(ConfigError) as err:
        compare_runs(two_runs, two_runs[1])
    assert len(err.value.problems) == 1 and err.value.problems[0].startswith(said)
    with pytest.raises(ConfigError) as err:
        write_report(load_runs(two_runs), two_runs[1])
    assert len(err.value.problems) == 1 and err.value.problems[0].startswith(said)
    assert sorted(p.name for p in two_runs[1].iterdir()) == before
    (tmp_path / "afile").write_text("x")
    with pytest.raises(ConfigError) as err:  # said with the run directories' problems
        compare_runs([tmp_path / "nosuch"], tmp_path / "afile")
    assert str(err.value).startswith("invalid compare_runs arguments (2 problem(s))")
    assert err.value.problems[1].startswith(f"out_dir={str(tmp_path / 'afile')!r}: ")


def test_a_default_report_directory_that_cannot_be_made_is_not_said_as_out(
    tmp_path, monkeypatch, capsys
):
    """Without --out, a results/compare that is a file was said '--out results/compare/...'
    though no --out was given (found by a review helper)."""
    run = write_fake_run(tmp_path / "runs" / "loss_ablation" / "a", seed=0, n_trials=12)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "compare").write_text("")
    assert main([str(run)]) == 2
    err = capsys.readouterr().err
    assert "error: invalid report directory (the default; --out DIR gives another)" in err
    assert "results/compare is a file" in err and "--out results" not in err, err


def test_the_side_by_side_says_n_a_for_a_run_without_a_best_and_counts_epochs_whole(tmp_path):
    """Beside a run where every trial failed, 'epochs to best' read 9.0000 and nan, and the
    failed run's best loss nan."""
    good = write_fake_run(tmp_path / "loss_ablation" / "good", n_trials=5)
    failed = write_fake_run(tmp_path / "loss_ablation" / "failed", n_trials=5)
    trials = pd.read_parquet(failed / TRIALS)
    trials = trials.assign(status="failed", best_anchored_val_loss=math.nan, epochs_run=0)
    write_results(failed, trials, pd.DataFrame())
    rows = _side_by_side(compare_runs([good, failed], tmp_path / "out").read_text())
    assert rows["loss_ablation/failed"]["epochs to best"] == "n/a"
    assert rows["loss_ablation/failed"]["search's best anchored_val_loss"] == "n/a"
    assert rows["loss_ablation/good"]["epochs to best"].isdigit(), rows["loss_ablation/good"]
    assert "nan" not in " ".join(rows["loss_ablation/failed"].values())


def test_trial_ids_that_read_as_numbers_are_shown_as_they_are(tmp_path):
    """A one-run compare showed the best trial 785e0068 as 7849999...216.0000 in the side by
    side: tabulate read a column of ids that all parse as numbers (one row) as floats. A
    run whose every id parses showed them so in every table, and 00012345 lost its zeros."""
    run = write_fake_run(tmp_path / "loss_ablation" / "ids", n_trials=6)
    trials, epochs = pd.read_parquet(run / TRIALS), pd.read_parquet(run / "epochs.parquet")
    ids = ["785e0068", "00012345", *(f"{k:03d}e{k:04d}" for k in range(2, len(trials)))]
    renamed = dict(zip(trials["trial_id"], ids, strict=True))
    write_results(
        run, trials.assign(trial_id=ids), epochs.assign(trial_id=epochs["trial_id"].map(renamed))
    )
    text = compare_runs([run], tmp_path / "out").read_text()
    best = pd.read_parquet(run / TRIALS)["trial_id"].iloc[0]
    assert _side_by_side(text)["loss_ablation/ids"]["search's best trial"] == best
    stopped = text[text.index("### Trials stopped by ASHA") : text.index("### Per loss")]
    shown = [
        line.split("|")[1].strip() for line in stopped.splitlines()[4:] if line.startswith("|")
    ]
    assert shown and set(shown) <= set(ids), shown
