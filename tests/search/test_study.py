"""The Optuna study in the run directory (search/study.py) and --warm-start: the study
survives Tune's pickling of the searcher, and a warm start takes only the trials of a run
whose space has the same parameters."""

from __future__ import annotations

import dataclasses
import pickle
import shutil
from pathlib import Path

import optuna
import pytest

import raysearch
from raysearch.core.errors import ConfigError
from raysearch.core.files import OPTUNA_STUDY
from raysearch.core.metrics import BEST_VAL_METRIC
from raysearch.search.names import API, CLI, Names
from raysearch.search.searcher import TRIAL_SEED, build_searcher, study_in
from raysearch.search.space import ParamSpec, load_space
from raysearch.search.study import (
    STUDY_NAME,
    open_storage,
    settle_cut_trials,
    warm_start_trials,
)

SPACE = load_space("smoke")


def _finish(searcher, trial_id: str, value: float) -> dict:
    config = searcher.suggest(trial_id)
    searcher.on_trial_complete(trial_id, {BEST_VAL_METRIC: value})
    return config


def _study(run_dir: Path):
    return optuna.load_study(study_name=STUDY_NAME, storage=open_storage(run_dir))


def _old_run(run_dir: Path, values=(0.5, -0.2, 0.1)) -> list[dict]:
    searcher = build_searcher(SPACE, seed=0, storage=open_storage(run_dir))
    return [_finish(searcher, f"t{i}", v) for i, v in enumerate(values)]


def test_the_study_is_a_file_that_survives_the_searchers_pickling(tmp_path: Path) -> None:
    searcher = build_searcher(SPACE, seed=0, storage=open_storage(tmp_path))
    _finish(searcher, "a", 0.3)
    searcher.suggest("b")  # running when Tune checkpoints the searcher
    searcher.save(str(tmp_path / "searcher.pkl"))
    del searcher
    # --resume: Tune builds nothing new; it unpickles the searcher, which reconnects
    restored = build_searcher(SPACE, seed=0)  # in memory, then overwritten by restore
    restored.restore(str(tmp_path / "searcher.pkl"))
    restored.on_trial_complete("b", {BEST_VAL_METRIC: -0.4})
    restored.suggest("c")
    trials = _study(tmp_path).trials
    assert (tmp_path / OPTUNA_STUDY).is_file()
    assert [(t.number, t.state.name, t.value) for t in trials] == [
        (0, "COMPLETE", 0.3),
        (1, "COMPLETE", -0.4),
        (2, "RUNNING", None),
    ]


def test_each_optuna_trial_names_its_tune_trial_across_a_resume_and_a_warm_start(
    tmp_path: Path,
) -> None:
    """The study's trial numbers are not the tables' order once a warm start puts the old
    trials first: each trial the searcher asks for names its Tune trial instead."""
    _old_run(tmp_path / "old")
    seeded = warm_start_trials(tmp_path / "old", SPACE)
    run_dir = tmp_path / "new"
    searcher = build_searcher(SPACE, seed=0, storage=open_storage(run_dir), warm_start=seeded)
    _finish(searcher, "4d89d855", 0.3)
    searcher.suggest("12fb80f2")
    searcher.save(str(tmp_path / "searcher.pkl"))
    restored = build_searcher(SPACE, seed=0)
    restored.restore(str(tmp_path / "searcher.pkl"))
    restored.on_trial_complete("12fb80f2", {BEST_VAL_METRIC: 0.1})
    restored.suggest("ce7f00b5")
    trials = raysearch.open_study(run_dir).trials
    assert [t.user_attrs.get("tune_trial_id") for t in trials] == [
        None, None, None, "4d89d855", "12fb80f2", "ce7f00b5"
    ]  # fmt: skip


def test_a_resume_from_a_snapshot_behind_the_journal_settles_with_the_study(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A driver killed between two of Tune's snapshots of the searcher: trial "a" finished
    and trial "b" was asked for after the last one. The resumed search goes on: Tune's
    further results for "a" leave the study's record of it as it is, and "b", which Tune
    never heard of, is told FAIL."""
    searcher = build_searcher(SPACE, seed=0, storage=open_storage(tmp_path))
    searcher.suggest("a")
    searcher.on_trial_result("a", {BEST_VAL_METRIC: 0.5, "training_iteration": 1})
    searcher.save(str(tmp_path / "searcher.pkl"))  # Tune's last snapshot
    searcher.on_trial_result("a", {BEST_VAL_METRIC: 0.3, "training_iteration": 2})
    searcher.on_trial_complete("a", {BEST_VAL_METRIC: 0.3})
    searcher.suggest("b")
    del searcher  # killed

    restored = build_searcher(SPACE, seed=0)
    with caplog.at_level("WARNING", logger="raysearch.search.searcher"):
        restored.restore(str(tmp_path / "searcher.pkl"))
    # Tune resumes "a" from its own checkpoint: it reports epoch 2 again, and finishes
    restored.on_trial_result("a", {BEST_VAL_METRIC: 0.4, "training_iteration": 2})
    restored.on_trial_complete("a", {BEST_VAL_METRIC: 0.2})
    restored.suggest("c")
    trials = _study(tmp_path).trials
    assert [(t.number, t.state.name, t.value) for t in trials] == [
        (0, "COMPLETE", 0.3),
        (1, "FAIL", None),
        (2, "RUNNING", None),
    ]
    assert trials[0].intermediate_values == {1: 0.5, 2: 0.3}
    said = caplog.text
    assert "trial a finished in the study (Optuna trial 0, COMPLETE)" in said
    assert "Optuna trial 1 was asked for after the searcher's last snapshot" in said


def test_a_trial_tune_saved_after_the_searchers_snapshot_resumes_outside_the_study(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A driver killed after Tune saved its experiment with a new trial "b" and before the
    searcher's snapshot followed: Tune resumes "b", which the restored searcher never had.
    Its results ended the resumed search with a KeyError in Ray's OptunaSearch (seen once
    in integration/test_faults.py); they now stay out of the study, which holds "b" as the
    trial asked for and never run (FAIL)."""
    searcher = build_searcher(SPACE, seed=0, storage=open_storage(tmp_path))
    _finish(searcher, "a", 0.3)
    searcher.save(str(tmp_path / "searcher.pkl"))  # the searcher's last snapshot
    searcher.suggest("b")  # Tune's experiment snapshot has "b"
    del searcher  # killed

    restored = build_searcher(SPACE, seed=0)
    with caplog.at_level("WARNING", logger="raysearch.search.searcher"):
        restored.restore(str(tmp_path / "searcher.pkl"))
        restored.on_trial_result("b", {BEST_VAL_METRIC: 0.2, "training_iteration": 1})
        restored.on_trial_result("b", {BEST_VAL_METRIC: 0.1, "training_iteration": 2})
        restored.on_trial_complete("b", {BEST_VAL_METRIC: 0.1})
    restored.suggest("c")
    trials = _study(tmp_path).trials
    assert [(t.number, t.state.name, t.value) for t in trials] == [
        (0, "COMPLETE", 0.3),
        (1, "FAIL", None),
        (2, "RUNNING", None),
    ]
    said = [r.getMessage() for r in caplog.records if r.name == "raysearch.search.searcher"]
    assert said == [
        "Optuna trial 1 was asked for after the searcher's last snapshot of the search; told "
        "FAIL (the driver died before Tune ran it, or Tune resumes it with its results kept "
        "out of the study)",
        "trial b was created after the searcher's last snapshot of the search; Tune resumes "
        "it, and its results stay out of the Optuna study",
    ]


def test_a_resume_from_a_snapshot_level_with_the_journal_changes_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    searcher = build_searcher(SPACE, seed=0, storage=open_storage(tmp_path))
    _finish(searcher, "a", 0.3)
    searcher.suggest("b")
    searcher.save(str(tmp_path / "searcher.pkl"))
    restored = build_searcher(SPACE, seed=0)
    with caplog.at_level("WARNING", logger="raysearch.search.searcher"):
        restored.restore(str(tmp_path / "searcher.pkl"))
    restored.on_trial_result("b", {BEST_VAL_METRIC: 0.1, "training_iteration": 1})
    restored.on_trial_complete("b", {BEST_VAL_METRIC: 0.1})
    trials = _study(tmp_path).trials
    assert [(t.state.name, t.value) for t in trials] == [("COMPLETE", 0.3), ("COMPLETE", 0.1)]
    assert trials[1].intermediate_values == {1: 0.1}
    assert [r.getMessage() for r in caplog.records if r.name == "raysearch.search.searcher"] == []


def test_a_warm_start_seeds_the_study_with_the_old_complete_trials(tmp_path: Path) -> None:
    old_dir, new_dir = tmp_path / "old", tmp_path / "new"
    old_configs = _old_run(old_dir)
    _study(old_dir)  # a running trial is not carried over:
    build_searcher(SPACE, seed=0, storage=open_storage(old_dir)).suggest("running")
    seeded = warm_start_trials(old_dir, SPACE)
    assert len(seeded) == 3
    searcher = build_searcher(SPACE, seed=1, storage=open_storage(new_dir), warm_start=seeded)
    config = searcher.suggest("new")
    trials = _study(new_dir).trials
    assert [t.value for t in trials[:3]] == [0.5, -0.2, 0.1]
    old_params = [{k: v for k, v in c.items() if k != TRIAL_SEED} for c in old_configs]
    assert [t.params for t in trials[:3]] == old_params
    assert all(t.user_attrs["warm_start_from"] == str(old_dir) for t in trials[:3])
    assert trials[3].state.name == "RUNNING" and config[TRIAL_SEED] == 1 + 3


def test_a_warm_start_from_another_space_names_every_difference(tmp_path: Path) -> None:
    _old_run(tmp_path)
    beta = ParamSpec(type="float", low=0.0, high=0.5, when={"loss_strategy": "a3dro"})
    dropout = ParamSpec(type="float", low=0.0, high=0.3)
    narrower = dataclasses.replace(
        SPACE, parameters={**SPACE.parameters, "budget_beta": beta, "dropout": dropout}
    )
    with pytest.raises(ConfigError) as err:
        warm_start_trials(tmp_path, narrower)
    problems = err.value.problems
    assert "do not fit space 'smoke'" in str(err.value)
    assert sum("has no 'dropout', which this space samples" in p for p in problems) == 3
    beta = [p for p in problems if "'budget_beta' was" in p]
    assert beta and all("high=0.9" in p and "high=0.5" in p for p in beta)  # at least trial 0
    assert beta[0].startswith("trial 0:")


def test_a_warm_start_needs_a_study(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=f"no {OPTUNA_STUDY} there"):
        warm_start_trials(tmp_path, SPACE)
    optuna.create_study(study_name=STUDY_NAME, storage=open_storage(tmp_path))
    with pytest.raises(ConfigError, match="no COMPLETE trial"):
        warm_start_trials(tmp_path, SPACE)


def test_a_warm_start_from_a_directory_that_does_not_exist_says_so(tmp_path: Path) -> None:
    """It said 'no optuna.journal there', where --resume of the same path said 'no such
    directory'; the study's own check of its directory says it, as for a directory
    without a study."""
    (tmp_path / "file").write_text("x")
    (tmp_path / "empty").mkdir()
    for name, what in (
        ("nothere", "no such directory"),
        ("file", "not a directory"),
        ("empty", f"no {OPTUNA_STUDY} there"),
    ):
        with pytest.raises(ConfigError) as err:
            warm_start_trials(tmp_path / name, SPACE)
        assert err.value.problems == [
            f"--warm-start {tmp_path / name}: {what}; give the run directory "
            "(results/<space>/<run>) of a finished search to start from, made by a raysearch "
            "that keeps its Optuna study"
        ]


@pytest.mark.parametrize(
    ("names", "context", "option"),
    [(CLI, "invalid arguments", "--warm-start {}"), (API, "invalid run_search arguments",
                                                     "warm_start='{}'")],
)  # fmt: skip
def test_a_warm_start_from_a_run_that_finished_no_trial_says_so_not_that_the_space_differs(
    tmp_path: Path, names: Names, context: str, option: str
) -> None:
    """A --time-budget run that finished no trial was refused as if its space differed:
    'its trials do not fit space 'smoke'', while the space was the same."""
    build_searcher(SPACE, seed=0, storage=open_storage(tmp_path)).suggest("cut")
    with pytest.raises(ConfigError) as err:
        warm_start_trials(tmp_path, SPACE, names)
    assert str(err.value).startswith(f"{context} (1 problem(s))")
    assert err.value.problems == [
        f"{option.format(tmp_path)}: that run finished no trial (its study holds no COMPLETE "
        "trial to start from); warm-start from a run that finished at least one"
    ]
    assert "do not fit" not in str(err.value)


@pytest.mark.parametrize("wrong", [5, None, {"run_dir": "results/smoke/r"}])
def test_open_study_of_no_str_or_path_names_run_dir_as_load_run_does(wrong: object) -> None:
    """open_study(5) raised pathlib's bare TypeError, where load_run(5) named run_dir."""
    for read in (raysearch.open_study, raysearch.load_run):
        with pytest.raises(ConfigError) as err:
            read(wrong)  # type: ignore[arg-type]
        assert err.value.problems == [
            f"run_dir: expected a run directory (a str or a path), got {wrong!r}"
        ]


def test_open_study_reads_a_runs_study_and_names_a_directory_without_one(
    tmp_path: Path,
) -> None:
    _old_run(tmp_path / "run")
    study = raysearch.open_study(tmp_path / "run")
    assert [t.value for t in study.trials] == [0.5, -0.2, 0.1]
    assert study.best_value == -0.2
    with pytest.raises(ConfigError) as err:
        raysearch.open_study(tmp_path)
    assert err.value.problems == [
        f"{tmp_path}: no {OPTUNA_STUDY} there; give the directory of a search "
        "(results/<space>/<run>) made by a raysearch that keeps its Optuna study"
    ]


def test_an_in_memory_study_cannot_be_warm_started(tmp_path: Path) -> None:
    _old_run(tmp_path)
    with pytest.raises(ValueError, match="needs a storage"):
        build_searcher(SPACE, seed=0, warm_start=warm_start_trials(tmp_path, SPACE))


def test_a_pickled_storage_writes_on_into_the_same_journal_file(tmp_path: Path) -> None:
    """Tune pickles the searcher with its storage at every checkpoint; a resumed search
    writes on into the run's file, and a reader (the dashboard) sees both writers' trials."""
    storage = open_storage(tmp_path / "run")
    study = optuna.create_study(study_name=STUDY_NAME, storage=storage)
    study.add_trial(optuna.trial.create_trial(value=1.0))
    resumed = pickle.loads(pickle.dumps(storage))
    optuna.load_study(study_name=STUDY_NAME, storage=resumed).add_trial(
        optuna.trial.create_trial(value=0.5)
    )
    reader = optuna.load_study(study_name=STUDY_NAME, storage=open_storage(tmp_path / "run"))
    assert [t.value for t in reader.trials] == [1.0, 0.5]
    assert (tmp_path / "run" / OPTUNA_STUDY).is_file()


def test_the_trials_a_time_budget_cut_are_settled_in_the_study(tmp_path: Path) -> None:
    study = optuna.create_study(storage=open_storage(tmp_path), study_name=STUDY_NAME)
    reported = study.ask({"x": optuna.distributions.FloatDistribution(0, 1)})
    for step, value in enumerate([0.5, 0.3, 0.4], start=1):  # best so far would be reported
        reported.report(value, step)
    never = study.ask()
    study.tell(study.ask(), 0.9)  # a finished trial stays as it was
    assert settle_cut_trials(tmp_path) == 2
    after = optuna.load_study(study_name=STUDY_NAME, storage=open_storage(tmp_path)).trials
    states = {t.number: (t.state, t.value) for t in after}
    assert states[reported.number] == (optuna.trial.TrialState.COMPLETE, 0.3)
    assert states[never.number] == (optuna.trial.TrialState.FAIL, None)
    assert states[2] == (optuna.trial.TrialState.COMPLETE, 0.9)
    assert settle_cut_trials(tmp_path) == 0  # nothing left running


def test_a_searcher_restored_in_a_moved_run_opens_the_journal_there(tmp_path: Path) -> None:
    """The pickled searcher names the journal where the run started; a run moved since is
    resumed with the journal in its own directory (study_in), the old one gone."""
    first, moved = tmp_path / "first", tmp_path / "moved"
    searcher = build_searcher(SPACE, seed=0, storage=open_storage(first))
    _finish(searcher, "a", 0.3)
    searcher.suggest("b")
    searcher.save(str(first / "searcher.pkl"))
    shutil.copytree(first, moved)
    shutil.rmtree(first)
    restored = build_searcher(SPACE, seed=0)
    with study_in(moved):
        restored.restore(str(moved / "searcher.pkl"))
    restored.on_trial_result("b", {BEST_VAL_METRIC: 0.1, "training_iteration": 1})
    restored.on_trial_complete("b", {BEST_VAL_METRIC: 0.1})
    assert [(t.state.name, t.value) for t in _study(moved).trials] == [
        ("COMPLETE", 0.3),
        ("COMPLETE", 0.1),
    ]
    assert not first.exists()


def test_a_restarted_trials_epochs_reported_again_keep_their_first_values_without_a_warning(
    tmp_path: Path,
) -> None:
    """A trial interrupted before its first checkpoint reports epoch 1 again after
    --resume: Optuna printed 'The reported value is ignored because this `step=1` is
    already reported' under the resumed search's output, once per such epoch."""
    import warnings

    searcher = build_searcher(SPACE, seed=0, storage=open_storage(tmp_path))
    searcher.suggest("a")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for value in (0.5, 0.4):  # the first run's epoch 1, then the restart's
            searcher.on_trial_result("a", {BEST_VAL_METRIC: value, "training_iteration": 1})
        searcher.on_trial_result("a", {BEST_VAL_METRIC: 0.3, "training_iteration": 2})
    assert not [w for w in caught if "already reported" in str(w.message)], caught
    (trial,) = _study(tmp_path).trials
    assert trial.intermediate_values == {1: 0.5, 2: 0.3}


@pytest.mark.parametrize("make", [None, "file"], ids=["missing", "a file"])
def test_open_study_of_no_directory_says_so(tmp_path: Path, make: str | None) -> None:
    """open_study and --resume of a path that does not exist said 'no optuna.journal there',
    as of a directory without a study, while --warm-start said 'no such directory'."""
    where = tmp_path / "nothere"
    if make == "file":
        where.write_text("")
    said = "not a directory" if make else "no such directory"
    with pytest.raises(ConfigError) as err:
        raysearch.open_study(where)
    assert err.value.problems == [
        f"{where}: {said}; give the directory of a search (results/<space>/<run>) made by a "
        "raysearch that keeps its Optuna study"
    ]


def test_a_warm_start_given_by_a_relative_path_is_recorded_by_its_absolute_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The trials' warm_start_from and metadata.json's warm_start.run_dir held the path as
    typed ('old'), which means nothing from another directory; the study's record of the
    warm start (summary.json's) says where, how many trials, and their best value."""
    from raysearch.search.options import RunOptions
    from raysearch.search.plan import resolve_search
    from raysearch.search.run_metadata import run_metadata
    from raysearch.search.study import warm_start_record

    monkeypatch.chdir(tmp_path)
    _old_run(tmp_path / "old")
    absolute = str((tmp_path / "old").resolve())
    seeded = warm_start_trials("old", SPACE)
    assert {t.user_attrs["warm_start_from"] for t in seeded} == {absolute}
    options = RunOptions(space="smoke", results="results", name="new", warm_start="old")
    plan = resolve_search(options, {"CPU": 2.0})
    assert run_metadata(options, plan, "fingerprint")["warm_start"]["run_dir"] == absolute
    searcher = build_searcher(SPACE, seed=1, storage=open_storage(plan.run_dir), warm_start=seeded)
    _finish(searcher, "own", 0.7)
    assert warm_start_record(plan.run_dir) == {
        "run_dir": absolute,
        "trials": 3,
        "own": 3,
        "earlier": {},
        "best_value": -0.2,
        "best_run_dir": absolute,
    }
    assert warm_start_record(tmp_path / "old") is None  # a search from scratch


def test_a_chained_warm_start_says_where_each_trial_ran(tmp_path: Path) -> None:
    """A run C warm-started from B, itself warm-started from A, said it had "B's 8 finished
    trials", B having run 4: each of the 4 B was warm-started with had its warm_start_from
    overwritten with B, and the best value quoted was one of A's trials. C takes every
    finished trial of B's study (TPE learns from them all) and says so: B's own 4, and the
    4 that ran in A, which keep where they ran."""
    from raysearch.search.study import warm_start_record

    a, b, c = (tmp_path / name for name in "ABC")
    _old_run(a, values=(0.5, -0.9, 0.1, 0.2))
    searcher = build_searcher(
        SPACE, seed=1, storage=open_storage(b), warm_start=warm_start_trials(a, SPACE)
    )
    for i, value in enumerate((0.4, 0.3, 0.35, 0.6)):
        _finish(searcher, f"b{i}", value)
    seeded = warm_start_trials(b, SPACE)
    assert [
        (t.user_attrs["warm_start_from"], t.user_attrs["warm_start_trial"]) for t in seeded
    ] == [
        *((str(a), n) for n in range(4)),
        *((str(b), n) for n in range(4, 8)),
    ]
    assert {t.user_attrs["warm_start_via"] for t in seeded} == {str(b)}
    searcher = build_searcher(SPACE, seed=2, storage=open_storage(c), warm_start=seeded)
    _finish(searcher, "c0", 0.1)
    assert warm_start_record(c) == {
        "run_dir": str(b),
        "trials": 8,
        "own": 4,
        "earlier": {str(a): 4},
        "best_value": -0.9,
        "best_run_dir": str(a),
    }
    # and on: D from C takes C's 9, by where each ran (A's keep A, not B)
    d = tmp_path / "D"
    build_searcher(SPACE, seed=3, storage=open_storage(d), warm_start=warm_start_trials(c, SPACE))
    record = warm_start_record(d)
    assert record is not None
    assert (record["trials"], record["own"], record["earlier"]) == (9, 1, {str(a): 4, str(b): 4})
