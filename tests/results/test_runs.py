from __future__ import annotations

import itertools
import json
import math

import pandas as pd
import pytest

from raysearch.core.errors import ConfigError
from raysearch.core.files import (
    EPOCHS,
    FINALISTS,
    METADATA,
    OPTIONS,
    SUMMARY_JSON,
    TRIALS,
    write_parquet,
)
from raysearch.results.analysis import anytime_curve, best_trial, curve_order, run_overview
from raysearch.results.runs import load_run, load_runs
from raysearch.results.trials import best_row
from raysearch.search.collect import config_table
from raysearch.testing.results import write_fake_run


def test_fake_run_has_every_kind_of_trial(two_runs):
    run = load_run(two_runs[0])
    assert set(run.trials["status"]) == {"completed", "stopped", "failed"}
    assert run.trials["config/loss_strategy"].nunique() == 4
    stopped = run.trials[run.trials["status"] == "stopped"]
    assert (stopped["epochs_run"] < run.settings["max_epochs"]).all()
    # every epoch row belongs to a trial that reported, and counts match epochs_run
    counts = run.epochs.groupby("trial_id").size()
    expected = run.trials.set_index("trial_id")["epochs_run"]
    assert (counts == expected[counts.index]).all()


def test_searched_excludes_fixed_and_constant_params(two_runs):
    run = load_run(two_runs[0])
    assert set(run.searched) == {"loss_strategy", "budget_beta", "regret_clip"}
    assert run.name == "loss_ablation/a"


def test_searched_leaves_out_the_training_seed_the_searcher_sets(two_runs):
    """A real run's trials.parquet has config/trainer.seed, different in every trial (the
    searcher's seed plus the Optuna trial number): it is not a parameter the run searched."""
    run = load_run(two_runs[0])
    run.trials["config/trainer.seed"] = range(len(run.trials))
    assert set(run.searched) == {"loss_strategy", "budget_beta", "regret_clip"}
    assert set(run.searched) == set(run.parameters or {})


def test_a_run_shows_itself_in_a_line_with_its_tables_rows_not_their_contents(two_runs):
    run = load_run(two_runs[0])
    shown = repr(run)
    assert "\n" not in shown and len(shown) < 400
    assert f"trials={len(run.trials)} rows, epochs={len(run.epochs)} rows" in shown
    assert repr(run.name) in shown and "finalists=" in shown and "'budget_beta'" in shown


def test_runs_compare_by_identity_and_a_run_dir_of_the_wrong_type_is_named(two_runs):
    """load_run(R) == load_run(R) raised pandas' 'truth value of a DataFrame is ambiguous';
    load_run(summary) (the dict run_search returns) a bare TypeError (a helper)."""
    run = load_run(two_runs[0])
    assert run == run and run != load_run(two_runs[0])  # read twice: two objects
    for wrong in ({"run_dir": str(two_runs[0])}, None, 3):
        with pytest.raises(ConfigError) as err:
            load_run(wrong)  # type: ignore[arg-type]
        assert err.value.problems == [
            f"run_dir: expected a run directory (a str or a path), got {wrong!r}"
        ]


def test_fake_runs_report_times_give_an_interleaved_wall_clock(two_runs):
    run = load_run(two_runs[0])
    assert run.epochs["timestamp"].notna().all()
    assert sorted(run.trial_order.values()) == list(range(1, len(run.trials) + 1))
    ids = anytime_curve(run)["trial_id"].tolist()
    switches = sum(a != b for a, b in itertools.pairwise(ids))
    assert switches > run.epochs["trial_id"].nunique() - 1  # two trials at a time


def test_final_report_duplicates_are_dropped(tmp_path):
    path = write_fake_run(tmp_path / "r", n_trials=5)
    epochs = pd.read_parquet(path / EPOCHS)
    last = epochs.groupby("trial_id").tail(1).assign(final=1)
    pd.concat([epochs, last]).to_parquet(path / EPOCHS)
    run = load_run(path)
    assert len(run.epochs) == len(epochs)
    assert not run.epochs.duplicated(["trial_id", "epoch"]).any()


def test_every_bad_directory_is_named_with_its_missing_file(tmp_path):
    good = write_fake_run(tmp_path / "good", n_trials=5)
    no_trials = write_fake_run(tmp_path / "no_trials", n_trials=5)
    (no_trials / TRIALS).unlink()
    (no_trials / METADATA).unlink()
    with pytest.raises(ConfigError) as err:
        load_runs([good, no_trials, tmp_path / "absent"])
    text = str(err.value)
    assert len(err.value.problems) == 2
    assert str(no_trials) in text and TRIALS in text and METADATA in text
    assert f"{tmp_path / 'absent'}: does not exist (expected a run directory" in text
    assert "good" not in text
    (tmp_path / "a_file").write_text("")
    with pytest.raises(ConfigError, match="a_file: not a directory"):
        load_runs([tmp_path / "a_file"])


@pytest.mark.parametrize("text", ["[1, 2]", '"a string"', "3", "null", "{bad"])
def test_metadata_that_is_no_json_object_is_named(tmp_path, text):
    """Valid JSON that is no object (or no JSON): one ConfigError naming the file, not a
    traceback from the first lookup in it."""
    path = write_fake_run(tmp_path / "r", n_trials=5)
    (path / METADATA).write_text(text)
    with pytest.raises(ConfigError) as err:
        load_run(path)
    (problem,) = err.value.problems
    assert problem.startswith(f"{path / METADATA}: ")


def test_metadata_that_is_not_utf8_is_named_with_the_directorys_other_problems(tmp_path):
    """A metadata.json of other bytes ended in UnicodeDecodeError, out of read_text."""
    path = write_fake_run(tmp_path / "r", n_trials=5)
    (path / METADATA).write_bytes(b"\xff\xfe\x00")
    pd.read_parquet(path / TRIALS).drop(columns=["status"]).to_parquet(path / TRIALS)
    with pytest.raises(ConfigError) as err:
        load_run(path)
    assert [p.split(": ")[0] for p in err.value.problems] == [
        str(path / TRIALS),
        str(path / METADATA),
    ]
    assert "not UTF-8 text" in err.value.problems[1]


def test_a_half_written_run_is_told_what_writes_it_as_its_caller_runs_a_search(tmp_path):
    """load_run, from Python, said 'a finished `python -m raysearch.run` writes them'."""
    half = tmp_path / "half"
    half.mkdir()
    pd.DataFrame({"trial_id": ["t"]}).to_parquet(half / TRIALS)  # no metadata.json
    with pytest.raises(ConfigError, match=r"a finished `raysearch\.run_search` writes them"):
        load_run(half)
    with pytest.raises(ConfigError, match=r"a finished `raysearch run` writes them"):
        load_runs([half])  # raysearch compare's


def test_a_search_that_has_not_written_its_results_is_not_called_not_a_run_directory(tmp_path):
    """A search writes metadata.json and options.json as it starts and its tables at its
    end: in between (still running, or ended before writing them) compare called it 'not a
    run directory', as it would an arbitrary folder."""
    running = tmp_path / "running"
    running.mkdir()
    (running / METADATA).write_text('{"space": "loss_ablation"}')
    (running / "optuna.journal").write_text("")
    said = f"{running}: the search has not written its results yet (no trials.parquet, "
    said += "epochs.parquet): it is still running, or it ended before writing them"
    with pytest.raises(ConfigError) as err:
        load_runs([running])
    assert err.value.problems == [said]  # no options.json: nothing to resume from
    (running / OPTIONS).write_text("{}")
    with pytest.raises(ConfigError) as err:
        load_runs([running])
    resume = f"raysearch run --resume {running}"
    assert err.value.problems == [f"{said}; `{resume}` finishes an interrupted one"]
    with pytest.raises(ConfigError) as err:
        load_run(running)
    assert f"`raysearch.run_search(resume='{running}')` finishes" in str(err.value)


def test_a_space_directory_points_at_its_runs(two_runs):
    with pytest.raises(ConfigError, match=r"holds run directories a, b: pass those"):
        load_runs([two_runs[0].parent])


def test_a_directory_of_runs_offers_only_the_runs_load_run_takes(tmp_path):
    """A directory with trials.parquet but no metadata.json was offered ('it holds run
    directories ...: pass those') and then refused as not a run directory."""
    write_fake_run(tmp_path / "whole", n_trials=5)
    (write_fake_run(tmp_path / "no_metadata", n_trials=5) / METADATA).unlink()
    (tmp_path / "a_file").write_text("")
    with pytest.raises(ConfigError) as err:
        load_run(tmp_path)
    (problem,) = err.value.problems
    assert problem.endswith("; it holds run directories whole: pass those")
    load_run(tmp_path / "whole")
    with pytest.raises(ConfigError, match=r"missing metadata\.json"):
        load_run(tmp_path / "no_metadata")


def test_a_run_whose_summary_names_finalists_parquet_needs_it(example_run, tmp_path):
    """A run whose finalists.parquet was lost was read as a run without finalists: compare
    showed its pick as '-' beside a best_config.yaml holding a finalist. Its summary.json
    names the file among those the run wrote: it is missing, as a missing epochs.parquet is."""
    path = example_run("war_losses", "w")
    assert load_run(path).finalists is not None
    (path / FINALISTS).unlink()
    with pytest.raises(ConfigError) as err:
        load_runs([path])
    assert err.value.problems == [
        f"{path}: missing finalists.parquet, which its summary.json names among the files the "
        "run wrote: the finalists' replicates and what they picked cannot be read without it"
    ]
    # with epochs.parquet gone too, the directory is no run, named with both
    (path / EPOCHS).unlink()
    with pytest.raises(ConfigError, match=r"missing epochs\.parquet, finalists\.parquet"):
        load_run(path)
    # a run without finalists (its summary names no finalists.parquet) needs none
    assert load_run(write_fake_run(tmp_path / "plain", n_trials=5)).finalists is None


def test_a_summary_whose_files_are_no_object_is_named(tmp_path):
    """summary.json's files say which files the run wrote (finalists.parquet among them):
    a value that is no object is named, not taken for a run that wrote none."""
    path = write_fake_run(tmp_path / "r", n_trials=5)
    summary = json.loads((path / SUMMARY_JSON).read_text())
    (path / SUMMARY_JSON).write_text(json.dumps({**summary, "files": ["finalists.parquet"]}))
    with pytest.raises(ConfigError) as err:
        load_runs([path])
    assert err.value.problems == [
        f"{path / SUMMARY_JSON}: files: a JSON object expected (as raysearch writes it), got "
        "['finalists.parquet']"
    ]


def test_missing_columns_are_reported(tmp_path):
    path = write_fake_run(tmp_path / "r", n_trials=5)
    pd.read_parquet(path / TRIALS).drop(columns=["status"]).to_parquet(path / TRIALS)
    with pytest.raises(ConfigError, match=r"missing column\(s\) \['status'\]"):
        load_run(path)


def test_a_status_raysearch_does_not_write_is_named_with_its_file_and_column(tmp_path):
    """trials.parquet's status 'running' was loaded, and the compare report ended with a
    KeyError from its plots."""
    path = write_fake_run(tmp_path / "r", n_trials=5)
    trials = pd.read_parquet(path / TRIALS)
    trials.loc[0, "status"] = "running"
    trials.loc[[1, 2], "status"] = None
    trials.to_parquet(path / TRIALS)
    with pytest.raises(ConfigError) as err:
        load_runs([path])
    assert err.value.problems == [
        f"{path / TRIALS}: status: unknown value(s) 'running', (empty) (raysearch writes one "
        "of completed, stopped, failed, interrupted, not started, out of time)"
    ]


def test_same_names_are_made_unique(tmp_path):
    runs = load_runs([write_fake_run(tmp_path / p / "run", n_trials=5) for p in ("a", "b")])
    assert [r.name for r in runs] == ["loss_ablation/run", "loss_ablation/run (2)"]


def test_a_run_given_twice_is_refused(two_runs, monkeypatch):
    monkeypatch.chdir(two_runs[0].parent)
    with pytest.raises(ConfigError) as err:
        load_runs([two_runs[0], two_runs[1], two_runs[0].name])
    assert err.value.problems == [
        f"{two_runs[0].name}: given twice (also as {two_runs[0]}); a run is compared once"
    ]


def test_a_directory_given_twice_has_its_problem_named_once(tmp_path):
    bad = tmp_path / "notarun"
    bad.mkdir()
    with pytest.raises(ConfigError) as err:
        load_runs([bad, bad])
    assert len(err.value.problems) == 2, err.value.problems
    assert err.value.problems[0].startswith(f"{bad}: not a run directory: missing")
    assert err.value.problems[1] == f"{bad}: given twice; a run is compared once"


def test_a_run_given_twice_the_same_way_is_named_once(two_runs):
    """'R: given twice (also as R)' repeated the path as if it were another spelling."""
    with pytest.raises(ConfigError) as err:
        load_runs([two_runs[0], two_runs[0]])
    assert err.value.problems == [f"{two_runs[0]}: given twice; a run is compared once"]


def test_needs_at_least_one_directory():
    with pytest.raises(ConfigError, match="at least one"):
        load_runs([])


def test_wall_clock_order_comes_from_the_epochs_report_times(tmp_path):
    path = write_fake_run(tmp_path / "r", n_trials=5, timestamps=False)
    epochs = pd.read_parquet(path / EPOCHS)
    order = {t: i for i, t in enumerate(sorted(epochs["trial_id"].unique()), start=1)}
    # trials interleave: epoch e of trial k reported at time 10*e + k
    epochs["timestamp"] = 10 * epochs["epoch"] + epochs["trial_id"].map(order)
    epochs.to_parquet(path / EPOCHS)
    run = load_run(path)
    curve = anytime_curve(run)
    assert "order they ran" in curve_order(run)
    merged = curve.merge(run.epochs, on=["trial_id", "anchored_val_loss"])
    assert merged["timestamp"].is_monotonic_increasing
    assert merged["timestamp"].tolist() != sorted(merged["timestamp"].tolist(), reverse=True)


def test_epochs_of_one_second_are_counted_in_the_order_their_end_times_say(tmp_path):
    """Tune's timestamp is whole seconds: epochs that ended in the same second were
    counted in trial creation order, so "epochs to best" counted 2 where 4 epochs had
    ended before the best value was reached. time/end_unix orders them."""
    path = write_fake_run(tmp_path / "r", n_trials=5, timestamps=False)
    epochs = pd.read_parquet(path / EPOCHS)
    trials = pd.read_parquet(path / TRIALS)
    created = trials.set_index("trial_id")["created"]
    # every epoch reported in one second; the last-created trial ran first
    epochs["timestamp"] = 1_795_000_000
    rank = -epochs["trial_id"].map(created) * 100 + epochs["epoch"]
    epochs["time/end_unix"] = 1_795_000_000 + (rank - rank.min()) / 1000
    epochs.to_parquet(path / EPOCHS)
    run = load_run(path)
    curve = anytime_curve(run)
    ran = run.epochs.sort_values("time/end_unix")
    assert curve["trial_id"].tolist() == ran["trial_id"].tolist()
    best = best_trial(run)
    assert best is not None
    position = ran.reset_index(drop=True).query(
        "trial_id == @best['trial_id'] and epoch == @best['best_epoch']"
    )
    assert run_overview(run)["epochs to best"] == int(position.index[0]) + 1
    assert curve_order(run) == "in the order they ran (each epoch's end time, time/end_unix)"
    # an older run's table, without the end times: to the second, and says so
    epochs.drop(columns="time/end_unix").to_parquet(path / EPOCHS)
    older = load_run(path)
    by_creation = older.epochs.assign(c=older.epochs["trial_id"].map(created))
    by_creation = by_creation.sort_values(["c", "epoch"])
    assert anytime_curve(older)["trial_id"].tolist() == by_creation["trial_id"].tolist()
    assert "to the second" in curve_order(older) and "no time/end_unix" in curve_order(older)


def test_without_timestamps_trials_follow_creation_order(tmp_path):
    path = write_fake_run(tmp_path / "r", n_trials=5, timestamps=False)
    trials = pd.read_parquet(path / TRIALS)
    ran = pd.read_parquet(path / EPOCHS)["trial_id"].unique().tolist()
    created = sorted(ran, reverse=True)  # creation order unrelated to the ids' string order
    trials["created"] = trials["trial_id"].map({t: i for i, t in enumerate(created, 1)}).fillna(9)
    trials.to_parquet(path / TRIALS)
    run = load_run(path)
    assert "timestamp" not in run.epochs and "creat" in curve_order(run)
    assert list(dict.fromkeys(anytime_curve(run)["trial_id"])) == created


def test_without_creation_order_trials_follow_their_ids(tmp_path):
    path = write_fake_run(tmp_path / "r", n_trials=5, timestamps=False)
    pd.read_parquet(path / TRIALS).drop(columns="created").to_parquet(path / TRIALS)
    run = load_run(path)
    assert run.trial_order == {} and "trial-id order" in curve_order(run)
    ids = list(dict.fromkeys(anytime_curve(run)["trial_id"]))
    assert ids == sorted(ids)


def test_a_run_keeps_its_directory_after_the_working_directory_changes(tmp_path, monkeypatch):
    """RunData.path was the path as given: a relative one named another directory (or none)
    once a notebook changed directory."""
    write_fake_run(tmp_path / "results" / "r", n_trials=5)
    monkeypatch.chdir(tmp_path / "results")
    run = load_run("r")
    monkeypatch.chdir(tmp_path)
    assert run.path == tmp_path / "results" / "r" and (run.path / METADATA).is_file()


def test_a_summary_json_that_cannot_be_read_is_named_with_the_other_problems(tmp_path):
    """Its planned trials and time budget say how the search ended (interrupted, out of
    time): a summary.json that is not one is named, not taken for a finished search."""
    garbage = write_fake_run(tmp_path / "garbage", n_trials=5)
    (garbage / SUMMARY_JSON).write_text("not json")
    planned = write_fake_run(tmp_path / "planned", n_trials=5)
    summary = json.loads((planned / SUMMARY_JSON).read_text())
    (planned / SUMMARY_JSON).write_text(json.dumps({**summary, "planned": "8"}))
    with pytest.raises(ConfigError) as err:
        load_runs([garbage, planned])
    assert err.value.problems[0].startswith(f"{garbage / SUMMARY_JSON}: not valid JSON")
    assert err.value.problems[1:] == [
        f"{planned / SUMMARY_JSON}: planned: a count of trials expected, got '8'"
    ]
    (planned / SUMMARY_JSON).unlink()  # a run written before it: its tables say how it ended
    assert load_run(planned).planned is None


def test_metadata_whose_settings_are_not_an_object_is_named_before_the_report(tmp_path):
    """A metadata.json whose settings (or fixed values) are not an object was loaded, and
    the report failed on it later with a TypeError."""
    run = write_fake_run(tmp_path / "r", n_trials=5)
    metadata = json.loads((run / METADATA).read_text())
    (run / METADATA).write_text(json.dumps({**metadata, "settings": [1], "fixed": "x"}))
    with pytest.raises(ConfigError) as err:
        load_runs([run])
    assert err.value.problems == [
        f"{run / METADATA}: settings: expected a JSON object (as raysearch writes it), got [1]",
        f"{run / METADATA}: fixed: expected a JSON object (as raysearch writes it), got 'x'",
    ]


def test_an_int_parameter_some_trials_left_out_reads_back_as_the_ints_written(tmp_path):
    """config_table keeps a conditional int parameter's values ints (NaN where a trial did
    not sample it), which trials.parquet stores as int64 with nulls and pandas read back
    as float64: load_run, and the compare report, gave the best trial's 2 as 2.0 where
    its best_config.yaml says 2. A float parameter whose values are whole stays a float."""
    run = write_fake_run(tmp_path / "run", n_trials=5)
    trials = pd.read_parquet(run / TRIALS)
    best = best_row(trials)["trial_id"]
    rows = trials.to_dict("records")
    for i, row in enumerate(rows):
        if row["trial_id"] == best:
            row["config/a3dro_warmup_epochs"] = 2
        row["config/budget_beta"] = float(i)
    write_parquet(run / TRIALS, config_table(rows))
    read = load_run(run).trials
    values = dict(zip(read["trial_id"], read["config/a3dro_warmup_epochs"], strict=True))
    assert type(values.pop(best)) is int and all(math.isnan(v) for v in values.values())
    assert read["config/budget_beta"].dtype == "float64"
    assert best_trial(load_run(run))["config"]["a3dro_warmup_epochs"] == 2
    assert type(best_trial(load_run(run))["config"]["a3dro_warmup_epochs"]) is int
