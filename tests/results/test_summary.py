"""The summary is honest however a search ended, and the results directory is never left
half-written: trials that never ran are "not started", the files list names only files
that exist, and a failing write (a full disk) leaves every earlier file whole."""

from __future__ import annotations

import errno
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

import raysearch.api
from raysearch.core.errors import ResultsNotWritten
from raysearch.core.files import BEST_CONFIG, SUMMARY_MD, write_json
from raysearch.core.params import build_trial_config
from raysearch.core.timing import PhaseClock
from raysearch.results.summary import NO_RESULT, OUT_OF_TIME, counts_line, markdown, summarize
from raysearch.results.writing import add_files, write_results
from raysearch.search.names import API, CLI, Names
from raysearch.search.options import RunOptions
from raysearch.search.plan import resolve_search
from raysearch.search.trainable import trial_config
from raysearch.search.tuner import TuneOutcome
from raysearch.testing.results import write_fake_run


def _trial(trial_id: str, status: str, epochs: int, best: float, reason: str = "") -> dict:
    return {
        "trial_id": trial_id,
        "status": status,
        "stop_reason": reason or status,
        "epochs_run": epochs,
        "best_anchored_val_loss": best,
        "best_epoch": min(epochs, 1),
        "config/loss_strategy": "kendall",
    }


def _table(*rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(list(rows)).sort_values("best_anchored_val_loss", na_position="last")


INTERRUPTED_RUN = _table(
    _trial("a", "completed", 3, -0.3),
    _trial("b", "interrupted", 1, -0.1, "after 1 of 3 epochs (--resume continues it)"),
    _trial("c", "not started", 0, math.nan, "the search stopped before this trial reported"),
)


def test_an_interrupted_search_says_so_and_never_blames_asha(tmp_path: Path) -> None:
    summary = summarize(INTERRUPTED_RUN, tmp_path, planned=4)
    assert summary["state"] == "interrupted"
    counts = [summary[k] for k in ("completed", "stopped_by_asha", "interrupted", "not_started")]
    assert counts == [1, 0, 1, 2]  # d was never even created: not started too
    text = markdown(summary, INTERRUPTED_RUN)
    assert "not started" in text and "ASHA" not in text
    # the created trials' endings add up to the created ones; the one never created after
    assert (
        "3 of 4 trials created: 1 completed, 1 interrupted (resume continues them), "
        "1 not started; 1 never created." in text
    )
    # the command of today (python -m raysearch.run is its alias)
    assert f"Continue it with: raysearch run --resume RESULTS/{tmp_path.parent.name}/" in text
    assert f"raysearch.run_search(resume='RESULTS/{tmp_path.parent.name}/{tmp_path.name}')" in text
    assert "Best so far" in text and str(tmp_path) not in text


def test_every_trial_failed_is_its_own_ending_with_no_best(tmp_path: Path) -> None:
    failed = _table(
        _trial("a", "failed", 0, math.nan, "NonFiniteLossError: training loss ..."),
        _trial("b", "failed", 1, math.nan, "CorruptCheckpointError: checkpoint ..."),
    )
    (tmp_path / "best_config.yaml").write_text("stale: from an earlier write\n")
    summary = write_results(tmp_path, failed, pd.DataFrame(), planned=2)
    assert summary["state"] == "every trial failed" and summary["best"] is None
    assert [f["reason"][:18] for f in summary["failures"]] == [
        "NonFiniteLossError",
        "CorruptCheckpointE",
    ]
    assert "best_config.yaml" not in summary["files"]
    assert not (tmp_path / "best_config.yaml").exists()


def test_only_failed_trials_are_listed_among_the_failures(tmp_path: Path) -> None:
    """A trial stopped by ASHA, interrupted, not started or cut by the time budget did not
    fail: listed under "Failed trials:", it would send the user after an error that never
    happened."""
    trials = _table(
        _trial("a", "completed", 3, -0.3),
        _trial("b", "stopped", 1, -0.1, "asha (after 1 of 3 epochs)"),
        _trial("c", "interrupted", 1, -0.2, "after 1 of 3 epochs (--resume continues it)"),
        _trial("d", "not started", 0, math.nan, "the search stopped before ..."),
        _trial("e", "out of time", 1, -0.05, "the time budget ran out after 1 of 3 epochs"),
        _trial("f", "failed", 1, math.nan, "NonFiniteLossError: training loss ..."),
    )
    summary = summarize(trials, tmp_path, planned=6)
    assert summary["failures"] == [
        {"trial_id": "f", "reason": "NonFiniteLossError: training loss ..."}
    ]
    failed = markdown(summary, trials).split("Failed trials:\n\n")[1].split("\n\n")[0]
    assert failed.splitlines() == ["- f: NonFiniteLossError: training loss ..."]


def test_a_best_trial_without_a_test_score_shows_none(tmp_path: Path) -> None:
    """Another trial's test scores give the table its test column, NaN in the best trial's
    row (its test split was never scored): the summary must give it no test value, not a
    'nan' score."""
    best = {**_trial("a", "completed", 3, -0.3), "test/anchored_test_loss": math.nan}
    other = {**_trial("b", "completed", 3, -0.1), "test/anchored_test_loss": -0.2}
    trials = _table(best, other)
    summary = summarize(trials, tmp_path, planned=2)
    assert (summary["best"]["trial_id"], summary["best"]["test"]) == ("a", {})
    assert "Test split" not in markdown(summary, trials)


def test_the_files_list_names_exactly_the_files_written(tmp_path: Path) -> None:
    summary = write_results(tmp_path, INTERRUPTED_RUN, pd.DataFrame(), planned=3)
    listed = set(summary["files"])
    assert listed == {p.name for p in tmp_path.iterdir()}
    assert listed == {"trials.parquet", "epochs.parquet", "best_config.yaml", "summary.json",
                      "summary.md"}  # fmt: skip
    assert json.loads((tmp_path / "summary.json").read_text())["files"] == summary["files"]


def test_the_files_list_names_the_runs_other_files_that_exist(tmp_path: Path) -> None:
    """The files the run wrote before its results (options.json, metadata.json, the Optuna
    journal, an earlier timing.json) are listed too, as the command line prints them."""
    for name in ("options.json", "metadata.json", "timing.json"):
        (tmp_path / name).write_text("{}")
    (tmp_path / "optuna.journal").write_text("")
    summary = write_results(tmp_path, INTERRUPTED_RUN, pd.DataFrame(), planned=3)
    assert set(summary["files"]) == {p.name for p in tmp_path.iterdir()}
    assert json.loads((tmp_path / "summary.json").read_text())["files"] == summary["files"]


def test_a_file_written_after_the_results_is_added_to_both_summary_files(tmp_path: Path) -> None:
    summary = write_results(tmp_path, INTERRUPTED_RUN, pd.DataFrame(), planned=3)
    add_files(summary, INTERRUPTED_RUN, write_json(tmp_path / "timing.json", {"time/x": 1.0}))
    assert set(summary["files"]) == {p.name for p in tmp_path.iterdir()}
    assert json.loads((tmp_path / "summary.json").read_text())["files"] == summary["files"]
    assert "- timing.json" in (tmp_path / SUMMARY_MD).read_text()


def test_summary_json_names_every_file_the_run_wrote(tmp_path: Path) -> None:
    """timing.json included (the command line prints it)."""
    space = tmp_path / "space.yaml"
    space.write_text(
        "settings: {num_samples: 3, max_epochs: 3}\n"
        "parameters: {dropout: {type: float, low: 0.0, high: 0.5}}\n"
    )
    plan = resolve_search(RunOptions(space=str(space), results=str(tmp_path)), {"CPU": 2.0})
    outcome = TuneOutcome(INTERRUPTED_RUN, pd.DataFrame(), started=3, unfinished=2)
    printed = raysearch.api._write_outputs(plan, outcome, PhaseClock(), (0.0, 1.0), None, CLI)
    run_dir = Path(plan.run_dir)
    files = json.loads((run_dir / "summary.json").read_text())["files"]
    assert set(files) == {p.name for p in run_dir.iterdir() if p.is_file()}
    assert set(files) == set(printed["files"])


def _full_disk_after(monkeypatch: pytest.MonkeyPatch, writes: int) -> None:
    """Parquet writes succeed ``writes`` times, then write half a file and fail as a full
    disk does."""
    real = pd.DataFrame.to_parquet
    count = {"n": 0}

    def to_parquet(self: pd.DataFrame, path: Any, **kwargs: Any) -> None:
        count["n"] += 1
        if count["n"] > writes:
            Path(path).write_bytes(b"PAR1 half a file")
            raise OSError(errno.ENOSPC, "No space left on device")
        real(self, path, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_parquet", to_parquet)


def test_a_full_disk_leaves_the_earlier_results_whole_and_says_how_to_finish(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    space = tmp_path / "space.yaml"
    space.write_text(
        "settings: {num_samples: 3, max_epochs: 3}\n"
        "parameters: {dropout: {type: float, low: 0.0, high: 0.5}}\n"
    )
    options = RunOptions(space=str(space), results=str(tmp_path), name="full")
    plan = resolve_search(options, {"CPU": 2.0})
    run_dir = Path(plan.run_dir)
    first = TuneOutcome(INTERRUPTED_RUN.iloc[:1], pd.DataFrame(), started=1, unfinished=0)
    # an earlier write
    raysearch.api._write_outputs(plan, first, PhaseClock(), (0.0, 1.0), None, CLI)
    before = {p.name: p.read_bytes() for p in run_dir.iterdir()}

    _full_disk_after(monkeypatch, writes=1)  # trials.parquet fits, epochs.parquet does not
    outcome = TuneOutcome(INTERRUPTED_RUN, pd.DataFrame(), started=3, unfinished=2)
    with pytest.raises(ResultsNotWritten) as err:
        raysearch.api._write_outputs(plan, outcome, PhaseClock(), (0.0, 1.0), None, CLI)
    message = str(err.value)
    assert "No space left on device" in message and f"--resume {run_dir}" in message
    assert err.value.run_dir == run_dir  # what the resume writes again
    after = {p.name: p.read_bytes() for p in run_dir.iterdir()}
    assert not [n for n in after if n.startswith(".")], "a temporary file was left"
    assert set(after) == set(before)
    for name in ("epochs.parquet", "summary.json", "summary.md", "best_config.yaml"):
        assert after[name] == before[name], f"{name} changed by a failed write"
    assert pd.read_parquet(run_dir / "trials.parquet")["trial_id"].tolist() == ["a", "b", "c"]


def test_summary_md_shows_the_run_relative_to_the_results_root(tmp_path: Path) -> None:
    run_dir = write_fake_run(tmp_path / "results" / "loss_ablation" / "r1")
    text = (run_dir / SUMMARY_MD).read_text()
    assert text.splitlines()[0] == "# Search results: loss_ablation/r1"
    assert str(tmp_path) not in text


def test_a_parameter_a_trial_did_not_sample_shows_as_a_dash_in_the_trial_table() -> None:
    """As README says (and the terminal's best-trial line shows it), not "nan"."""
    trials = _table(
        {**_trial("a", "completed", 3, -0.3), "config/budget_beta": 0.35},
        _trial("b", "completed", 3, -0.2),
        {**_trial("c", "completed", 3, -0.1), "config/budget_beta": 0.5},
    )
    trials["config/loss_strategy"] = ["a3dro", "kendall", "a3dro"]
    text = markdown(summarize(trials, Path("results/s/r")), trials)
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if line.startswith("| ")}
    cells = [c.strip() for c in rows["b"].split("|")]
    assert cells[-3:-1] == ["kendall", "-"] and "nan" not in text
    assert "0.35 " in rows["a"]


def test_a_search_its_time_budget_ended_says_so_and_offers_a_warm_start(tmp_path: Path) -> None:
    ended = _table(
        _trial("a", "completed", 3, -0.3),
        _trial("b", "out of time", 2, -0.2, "the time budget ran out after 2 of 3 epochs"),
    )
    summary = write_results(tmp_path, ended, pd.DataFrame(), planned=5, time_budget_s=90.0)
    # the trials it never created are not "not started": nothing is left to resume
    assert (summary["state"], summary["not_started"], summary["out_of_time"]) == (
        "out of time",
        0,
        1,
    )
    text = (tmp_path / SUMMARY_MD).read_text()
    assert (
        "2 of 5 trials created: 1 completed, 1 cut when the time budget ran out; 3 never "
        "created (the time budget ran out first)." in text
    )
    assert "time budget of 90 s ran out" in text and "--resume" not in text
    assert f"raysearch run --warm-start RESULTS/{tmp_path.parent.name}/{tmp_path.name}" in text
    # and for a search started from Python (summary.md gave the command line's words alone)
    assert f"warm_start='RESULTS/{tmp_path.parent.name}/{tmp_path.name}'" in text
    # the same trials with no budget spent: an interrupted search, which --resume continues
    assert summarize(ended, tmp_path, planned=5)["state"] == "interrupted"


def test_every_trial_failing_before_the_time_budget_ran_out_counts_no_trial_twice(
    tmp_path: Path,
) -> None:
    """The budget ended the search before it created its last trials, and every trial it
    created failed: 'all failed' is the state, and the trials never created are counted
    once, as never created (not also subtracted from the created ones)."""
    failed = _table(
        _trial("a", "failed", 1, math.nan, "NonFiniteLossError: loss is nan at epoch 1"),
        _trial("b", "failed", 1, math.nan, "NonFiniteLossError: loss is nan at epoch 1"),
    )
    summary = summarize(failed, tmp_path, planned=5, time_budget_s=90.0)
    assert (summary["state"], summary["not_started"]) == ("every trial failed", 0)
    text = markdown(summary, failed)
    assert "2 of 5 trials created: 2 failed; 3 never created (the time budget ran out first)." in (
        text
    )
    assert "-3 not started" not in text and "-3 " not in counts_line(summary)


def test_a_failed_finalist_replicate_is_listed_with_its_reason(tmp_path: Path) -> None:
    """The failures listed the search's trials only: a replicate that failed (a NaN loss
    with its fresh seed) had no reason anywhere but Tune's directory."""
    reason = "NonFiniteLossError: training loss is not finite for task(s) ['regime'] at epoch 2"
    trials = _table(_trial("a", "completed", 3, -0.3), _trial("b", "failed", 1, math.nan, "OOM"))
    finalists = pd.DataFrame(
        {"finalist": [1, 1], "seed": [100000, 100001], "trial_id": ["f0", ""],
         "status": ["completed", "failed"], "stop_reason": ["max_epochs", reason],
         "epochs_run": [3, 0], "best_anchored_val_loss": [-0.3, math.nan],
         "best_epoch": [3, 0], "search_value": [-0.3, -0.3],
         "config/loss_strategy": ["kendall", "kendall"], "pick": [True, True]}
    )  # fmt: skip
    summary = summarize(trials, tmp_path, planned=2, finalists=finalists)
    assert summary["failures"] == [
        {"trial_id": "b", "reason": "OOM"},
        {"trial_id": "finalist 1 (seed 100001)", "reason": reason},
    ]
    assert f"- finalist 1 (seed 100001): {reason}" in markdown(summary, trials)
    # a finalists.parquet written before stop_reason: still listed
    older = summarize(trials, tmp_path, planned=2, finalists=finalists.drop(columns="stop_reason"))
    assert older["failures"][1]["reason"] == "no reason recorded"


def test_unfinished_finalist_replicates_are_counted_and_said(tmp_path: Path) -> None:
    """Interrupted as its finalists re-trained: the summary counts the unfinished
    replicates and says nothing is picked until --resume trains them; without the count
    summary.md said interrupted but not that the finalists were what was left to train."""
    trials = _table(_trial("a", "completed", 3, -0.3), _trial("b", "completed", 3, -0.2))
    finalists = pd.DataFrame(
        {"finalist": [1, 1], "seed": [100000, 100001], "status": ["completed", "unfinished"],
         "best_anchored_val_loss": [-0.3, math.nan]}
    )  # fmt: skip
    summary = summarize(trials, tmp_path, planned=2, finalists=finalists)
    assert (summary["replicates"], summary["unfinished_replicates"]) == (2, 1)
    assert (
        "1 of 2 finalist replicates unfinished: nothing is picked until --resume trains them."
        in markdown(summary, trials)
    )


def test_a_search_with_no_finite_value_gave_no_result_whatever_cut_it(tmp_path: Path) -> None:
    """Trials failed or cut by the time budget before their first epoch: no value to use
    or to start from, so the state is not "out of time" (which offers --warm-start)."""
    cut = _trial("b", "out of time", 0, math.nan, "the time budget ran out before ...")
    for trials in (_table(cut), _table(_trial("a", "failed", 1, math.nan, "OOM"), cut)):
        summary = summarize(trials, tmp_path, planned=4, time_budget_s=60.0)
        assert summary["state"] == "gave no result" and summary["best"] is None
        text = markdown(summary, trials)
        assert "No trial reported a finite best_anchored_val_loss before its time budget" in text
        assert "--warm-start RESULTS" not in text
    # one value is a result: out of time, with the warm start
    scored = _table(_trial("a", "out of time", 1, -0.2), cut)
    assert summarize(scored, tmp_path, planned=4, time_budget_s=60.0)["state"] == "out of time"
    # an interrupted search with no value yet stays interrupted: --resume goes on
    waiting = _table(_trial("a", "not started", 0, math.nan))
    assert summarize(waiting, tmp_path, planned=1)["state"] == "interrupted"


def test_best_configs_resolved_values_read_back_build_the_same_trial_config(
    tmp_path: Path,
) -> None:
    """Every value of best_config.yaml's ``resolved``, read back as YAML, builds the trial's
    configuration again: a tuple (``loss.kendall_clamp``) is a YAML list, not its repr
    ("(-2.0, 2.0)", which reads back as text). `raysearch train --config` reads this."""
    space = tmp_path / "space.yaml"
    space.write_text(
        "settings: {num_samples: 1, max_epochs: 3}\n"
        "fixed: {size: tiny}\n"
        "parameters: {loss_strategy: {type: categorical, choices: [uniform, kendall]}}\n"
    )
    plan = resolve_search(RunOptions(space=str(space), results=str(tmp_path)), {"CPU": 2.0})
    trials = _table({**_trial("a", "completed", 3, -0.3), "config/trainer.seed": 7})
    outcome = TuneOutcome(trials, pd.DataFrame(), started=1, unfinished=0)
    raysearch.api._write_outputs(plan, outcome, PhaseClock(), (0.0, 1.0), None, CLI)
    written = yaml.safe_load((Path(plan.run_dir) / BEST_CONFIG).read_text())
    trial = trial_config(plan.setup, {"loss_strategy": "kendall", "trainer.seed": 7})
    assert build_trial_config(written["resolved"]) == trial
    assert written["resolved"]["loss.kendall_clamp"] == list(trial.loss.kendall_clamp)


def test_the_terminal_shows_a_pick_without_an_sd_or_test_score_as_summary_md_does(
    tmp_path: Path,
) -> None:
    """A pick with one finished replicate (the other failed) has no sd, and no test score
    here: summary.md says 'n/a', and so does the terminal (it printed 'nan')."""
    from rich.console import Console

    from raysearch.results.terminal import print_summary

    trials = _table(_trial("a", "completed", 3, -0.3), _trial("b", "completed", 3, -0.1))
    finalists = pd.DataFrame(
        {"finalist": [1, 1], "seed": [100000, 100001], "trial_id": ["f0", ""],
         "status": ["completed", "failed"], "stop_reason": ["max_epochs", "OOM"],
         "epochs_run": [3, 0], "best_anchored_val_loss": [-0.25, math.nan],
         "best_epoch": [3, 0], "search_value": [-0.3, -0.3],
         "config/loss_strategy": ["kendall", "kendall"], "pick": [True, True]}
    )  # fmt: skip
    summary = write_results(tmp_path, trials, pd.DataFrame(), planned=2, finalists=finalists)
    assert math.isnan(summary["pick"]["sd"]) and summary["pick"]["test"] == {}
    assert "-0.250 ± n/a; anchored_test_loss n/a" in (tmp_path / SUMMARY_MD).read_text()
    console = Console(record=True, width=400)
    print_summary(summary, console)
    text = console.export_text()
    assert "best_anchored_val_loss -0.2500 ± n/a over 1 fresh seeds; test n/a" in text
    assert "nan" not in text


def test_the_stops_the_rung_gate_held_are_counted_by_epoch(tmp_path: Path) -> None:
    """A search whose gate held every ASHA stop completes every trial; the summary says why,
    so a user does not read 'ASHA stopped none' as ASHA finding nothing to stop."""
    from rich.console import Console

    from raysearch.results.terminal import print_summary

    run = _table(_trial("a", "completed", 3, -0.3), _trial("b", "completed", 3, -0.1))
    summary = write_results(tmp_path, run, pd.DataFrame(), planned=2, gate_held={1: 3, 2: 1})
    assert json.loads((tmp_path / "summary.json").read_text())["gate_held"] == {"1": 3, "2": 1}
    line = "The rung gate held 4 of ASHA's stops (epoch 1: 3, epoch 2: 1)"
    assert line in (tmp_path / SUMMARY_MD).read_text()
    console = Console(record=True, width=400)
    print_summary(summary, console)
    assert line in console.export_text()
    # a gate that held nothing says so; a search without a gate (asha, fifo) says nothing
    none = summarize(run, tmp_path, gate_held={})
    assert "held none of ASHA's stops" in markdown(none, run)
    assert "rung gate" not in markdown(summarize(run, tmp_path), run)


def test_a_search_that_created_no_trial_gets_an_honest_summary(tmp_path: Path) -> None:
    """Ctrl+C after Tune's first snapshot but before its first trial: no trial table at all
    (not even its columns). The summary says interrupted, none of 4 created; no traceback."""
    from raysearch.search.space import load_space

    settings = load_space("smoke").settings.model_dump()  # gated ASHA: rungs to judge
    summary = write_results(tmp_path, pd.DataFrame(), pd.DataFrame(), planned=4, settings=settings)
    assert (summary["state"], summary["n_trials"], summary["not_started"]) == ("interrupted", 0, 4)
    assert json.loads((tmp_path / "summary.json").read_text())["n_trials"] == 0


def test_results_that_cannot_be_computed_leave_the_earlier_tables_as_they_were(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every figure is computed before the first file is replaced: a failure while computing
    leaves the run's earlier tables whole, not new tables beside an old summary."""
    import raysearch.results.writing as writing_module

    run = _table(_trial("a", "completed", 3, -0.3))
    write_results(tmp_path, run, pd.DataFrame())
    before = (tmp_path / "trials.parquet").read_bytes()

    def broken(*args: Any, **kwargs: Any) -> dict[str, Any]:
        raise RuntimeError("evidence")

    monkeypatch.setattr(writing_module, "gather_evidence", broken)
    with pytest.raises(RuntimeError, match="evidence"):
        write_results(tmp_path, _table(_trial("b", "completed", 3, -0.5)), pd.DataFrame())
    assert (tmp_path / "trials.parquet").read_bytes() == before


@pytest.mark.parametrize(
    ("error", "fix"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "free space"),
        (OSError(errno.ENOENT, "No such file or directory"), "make the directory writable"),
        (PermissionError(errno.EACCES, "Permission denied"), "make the directory writable"),
    ],
)
def test_a_failed_write_says_what_would_let_it_succeed(error: OSError, fix: str) -> None:
    """--results /proc/x failed writing the data cache with 'No such file or directory' and
    was told to free space. Found by a walkthrough helper."""
    with pytest.raises(ResultsNotWritten) as err:
        with raysearch.api._writing(Path("/r"), "the summary", resume=None):
            raise error
    assert str(err.value).endswith(f"left half-written; {fix} and run the command again")
    assert err.value.run_dir is None  # no resume writes it: nothing to carry


@pytest.mark.parametrize(
    ("names", "said", "not_said"),
    [
        (CLI, ("--warm-start", "--time-budget", "--resume"), ("warm_start=", "resume=")),
        (API, ("warm_start=", "time_budget_s=", "resume="), ("--warm-start", "--resume")),
    ],
    ids=["command_line", "python"],
)
def test_the_terminal_says_what_to_do_next_in_the_words_the_search_was_started_with(
    tmp_path: Path, names: Names, said: tuple[str, ...], not_said: tuple[str, ...]
) -> None:
    """From Python the printed summary said 'Give it a longer --time-budget' and
    '--warm-start RUN', flags a run_search caller does not have."""
    from rich.console import Console

    from raysearch.results.terminal import print_summary

    trials = _table(_trial("a", "completed", 3, -0.3), _trial("b", "completed", 3, -0.1))
    summary = write_results(tmp_path, trials, pd.DataFrame(), planned=2)
    ended = [
        {**summary, "state": NO_RESULT, "best": None, "time_budget_s": 60.0},
        {**summary, "state": OUT_OF_TIME, "time_budget_s": 60.0},
        {**summary, "replicates": 2, "unfinished_replicates": 1},
    ]
    console = Console(record=True, width=400)
    for one in ended:
        print_summary(one, console, names)
    text = console.export_text()
    assert all(words in text for words in said), text
    assert not any(words in text for words in not_said), text


def test_the_terminal_never_breaks_a_path_across_lines(tmp_path: Path) -> None:
    """Without a terminal (a log, a pipe) the console is 80 columns wide, and the list of
    files broke each long path onto the next line ('  options.json: ' then the path), which
    a user could not copy or grep whole."""
    from rich.console import Console

    from raysearch.results.terminal import print_summary

    run_dir = tmp_path / ("a-run-directory-with-a-long-name-" * 3)
    run_dir.mkdir()
    trials = _table(_trial("a", "completed", 3, -0.3), _trial("b", "completed", 3, -0.1))
    summary = write_results(run_dir, trials, pd.DataFrame(), planned=2)
    console = Console(record=True, width=40)
    print_summary(summary, console)
    lines = console.export_text().splitlines()
    assert f"results: {run_dir}" in lines
    for name, path in summary["files"].items():
        assert f"  {name}: {path}" in lines, (name, lines)


def test_the_terminal_shows_a_drawn_float_to_4_significant_digits_as_compare_does(
    tmp_path: Path,
) -> None:
    """The best trial's table printed budget_beta 0.24425168546228684 beside values rounded
    to 4 decimals."""
    from rich.console import Console

    from raysearch.results.terminal import print_summary

    trials = _table(_trial("a", "completed", 3, -0.3), _trial("b", "completed", 3, -0.1))
    summary = write_results(tmp_path, trials, pd.DataFrame(), planned=2)
    summary["best"]["config"] |= {"budget_beta": 0.24425168546228684, "lr": 1.2345678e-4}
    console = Console(record=True, width=200)
    print_summary(summary, console)
    text = console.export_text()
    assert "budget_beta" in text and "0.2443" in text and "0.24425" not in text, text
    assert "0.0001235" in text, text
