"""The Tune set-up: searcher, scheduler and trial table agree on metric and time attribute."""

from __future__ import annotations

import dataclasses
import json
import math
import pickle
import time
from pathlib import Path

import optuna
import pandas as pd
import pytest

import raysearch.search.tuner as tuner_module
from raysearch.core.errors import ConfigError
from raysearch.core.files import METADATA, OPTIONS, OPTUNA_STUDY, SUMMARY_JSON
from raysearch.core.metrics import BEST_VAL_METRIC, COMPLETED, TIME_ATTR, VAL_METRIC
from raysearch.search.options import RunOptions, load_run_options
from raysearch.search.plan import resolve_search
from raysearch.search.scheduler import build_scheduler
from raysearch.search.searcher import TRIAL_SEED, build_searcher
from raysearch.search.space import load_space
from raysearch.search.study import STUDY_NAME, open_storage
from raysearch.search.tuner import RunTable, _progress_reporter, best_trial_line, run_tune
from tests.search.test_collect import _Grid, _Result, _Trial


def test_scheduler_and_searcher_watch_the_anchored_metric() -> None:
    space = load_space("loss_ablation")
    scheduler = build_scheduler(space)
    assert (scheduler._metric, scheduler._time_attr) == (VAL_METRIC, TIME_ATTR)
    assert scheduler._max_t == space.settings.max_epochs
    searcher = build_searcher(space, seed=0)
    assert searcher.metric == BEST_VAL_METRIC and searcher.mode == "min"
    # the original configuration is the first trial, with the run's seed
    assert searcher.suggest("t0") == {**space.start[0], TRIAL_SEED: 0}


def test_every_trial_gets_its_own_training_seed() -> None:
    searcher = build_searcher(load_space("smoke"), seed=7)
    seeds = [searcher.suggest(f"t{i}")[TRIAL_SEED] for i in range(5)]
    assert seeds == [7, 8, 9, 10, 11]


def test_searcher_state_saves_and_restores(tmp_path) -> None:
    """Tune pickles the searcher at every experiment checkpoint (and --resume reads it)."""
    searcher = build_searcher(load_space("smoke"), seed=1)
    first = [searcher.suggest(f"t{i}") for i in range(3)]
    searcher.save(str(tmp_path / "searcher.pkl"))
    restored = build_searcher(load_space("smoke"), seed=1)
    restored.restore(str(tmp_path / "searcher.pkl"))
    assert restored._ot_study.trials[2].params == searcher._ot_study.trials[2].params
    assert [t.params for t in restored._ot_study.trials] == [
        {k: v for k, v in f.items() if k != TRIAL_SEED} for f in first
    ]


class _FakeTrial:
    def __init__(self, trial_id: str, config: dict, best: float) -> None:
        self.trial_id, self.config, self.status = trial_id, config, "RUNNING"
        self.last_result = {VAL_METRIC: best + 0.1, BEST_VAL_METRIC: best, TIME_ATTR: 2,
                            "config": config}  # fmt: skip


def test_the_trial_table_shows_the_best_trial_without_its_conditional_parameter(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ray's own best-trial line looks up every parameter column without a default: with a
    conditional parameter it raises KeyError when the best trial lacks it (seen with
    kendall best and budget_beta a column). The table shows its own line instead."""
    from ray.tune import progress_reporter
    from ray.tune.progress_reporter import _best_trial_str

    # the table and error rows are Ray's (they need real trials); the status lines are ours
    monkeypatch.setattr(progress_reporter, "_trial_progress_str", lambda *a, **k: "TABLE")
    monkeypatch.setattr(progress_reporter, "_trial_errors_str", lambda *a, **k: "")
    # Ray prints the table only at its global verbosity >= 1, which an earlier search in the
    # same process may have lowered (verbose=0)
    monkeypatch.setattr(progress_reporter, "has_verbosity", lambda level: True)
    space = load_space("loss_ablation")
    kendall = _FakeTrial("kendall1", {"loss_strategy": "kendall", "dropout": 0.2}, -0.25)
    a3dro = {"loss_strategy": "a3dro", "budget_beta": 0.3, "dropout": 0.1}
    a3dro = _FakeTrial("a3dro01", a3dro, 0.1)
    text = _progress_reporter(space, "results/x/y")._progress_str([a3dro, kendall], done=False)
    (line,) = [row for row in text.splitlines() if row.startswith("Current best trial")]
    assert line.startswith("Current best trial: kendall1 with best_anchored_val_loss=-0.2500")
    assert line.endswith("(loss_strategy=kendall, budget_beta=-, regret_clip=-)")
    assert text.index("Current best trial") < text.index("TABLE")
    assert best_trial_line([], list(space.parameters)) is None
    with pytest.raises(KeyError, match="budget_beta"):  # what Ray's own line would do
        _best_trial_str(kendall, VAL_METRIC, list(space.parameters))


def test_the_trial_tables_header_names_the_run_directory_not_tunes_staging_directory(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Tune's header line "Result logdir: <Ray's temporary directory>/.../driver_artifacts"
    pointed users at a directory they never need; the search's and the finalists' tables
    name the run directory, where the tables and the summary are. A table Tune pickled
    before the run directory was kept in it (resumed now) keeps Ray's line."""
    from ray.tune import progress_reporter

    staging = "Result logdir: /tmp/ray/session_1/artifacts/2026/tune/driver_artifacts"
    monkeypatch.setattr(
        progress_reporter, "_trial_progress_str", lambda *a, **k: f"{staging}\nTABLE"
    )
    monkeypatch.setattr(progress_reporter, "_trial_errors_str", lambda *a, **k: "")
    monkeypatch.setattr(progress_reporter, "has_verbosity", lambda level: True)
    space = load_space("loss_ablation")
    trial = _FakeTrial("kendall1", {"loss_strategy": "kendall", "dropout": 0.2}, -0.25)
    search = _progress_reporter(space, "results/loss_ablation/run1")
    finalists = RunTable("results/loss_ablation/run1", metric_columns={TIME_ATTR: "epoch"})
    for table in (search, finalists):
        lines = table._progress_str([trial], done=False).splitlines()
        assert "Results: results/loss_ablation/run1" in lines
        assert staging not in lines
    old = pickle.loads(pickle.dumps(search))
    del old.__dict__["results"]  # as a table pickled before raysearch kept the run directory
    assert staging in old._progress_str([trial], done=False).splitlines()


def test_baselines_random_search_and_full_budget_fifo() -> None:
    import optuna
    from ray.tune.schedulers import ASHAScheduler, FIFOScheduler

    from raysearch.search.mixed_tpe import MixedTPESampler

    space = load_space("loss_ablation")
    assert isinstance(build_scheduler(space), ASHAScheduler)
    # TPE, joint one trial at a time and independent more often as more trials run
    assert isinstance(build_searcher(space, 0)._sampler, MixedTPESampler)
    baseline = space.with_settings(searcher="random", scheduler="fifo")
    scheduler = build_scheduler(baseline)
    assert isinstance(scheduler, FIFOScheduler) and not isinstance(scheduler, ASHAScheduler)
    searcher = build_searcher(baseline, seed=3)
    assert isinstance(searcher._sampler, optuna.samplers.RandomSampler)
    # random draws are seeded: the same seed gives the same trials
    again = build_searcher(baseline, seed=3)
    draws = [searcher.suggest(f"t{i}") for i in range(6)]
    assert draws == [again.suggest(f"t{i}") for i in range(6)]
    assert len({d["loss_strategy"] for d in draws[1:]}) > 1  # after the start point


def test_an_unknown_searcher_or_scheduler_is_one_error_naming_both() -> None:
    from raysearch.core.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        load_space("smoke").with_settings(searcher="grid", scheduler="pbt")
    message = str(err.value)
    assert "searcher" in message and "scheduler" in message
    assert "'tpe'" in message and "'asha'" in message


class _Stop(Exception):
    """Ends run_tune at its fit: the test needs only which Tuner it made."""


@pytest.mark.parametrize("saved", [False, True])
def test_a_resume_of_a_search_tune_never_saved_starts_it_over(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, saved: bool
) -> None:
    plan = resolve_search(RunOptions(space="smoke", results=str(tmp_path), name="r"), {"CPU": 2})
    run_dir = Path(plan.run_dir)
    (run_dir / "tune").mkdir(parents=True)
    (run_dir / "tune" / "tuner.pkl").write_bytes(b"")  # Tune writes it before its first save
    (run_dir / OPTUNA_STUDY).write_text("")
    if saved:
        (run_dir / "tune" / "experiment_state-2026-12-05_11-22-23.json").write_text("{}")
    made = []
    monkeypatch.setattr(tuner_module, "build_tuner", lambda p, c: made.append("new"))
    monkeypatch.setattr(tuner_module, "restore_tuner", lambda p: made.append("restored"))
    monkeypatch.setattr(tuner_module, "fit", lambda t: (_ for _ in ()).throw(_Stop()))
    with pytest.raises(_Stop):
        run_tune(plan, resume=True, callbacks=[])
    assert made == (["restored"] if saved else ["new"])
    assert (run_dir / OPTUNA_STUDY).exists() == saved  # the old study goes with the start
    assert (run_dir / "tune").exists() == saved


def _run_with_results(root: Path, study: bool, summary: bool) -> Path:
    """An interrupted run whose Ray Tune experiment (RUN_DIR/tune) is gone (deleted to free
    its checkpoints' space, or lost), with a study holding a COMPLETE trial and/or a summary
    that counts its trials."""
    run_dir = root / "smoke" / "r"
    run_dir.mkdir(parents=True)
    options = RunOptions(space="smoke", results=str(root), name="r")
    (run_dir / OPTIONS).write_text(json.dumps(options.to_json()))
    (run_dir / METADATA).write_text(json.dumps({"run_dir": str(run_dir)}))
    counts = {"n_trials": 2, "completed": 1, "interrupted": 1} if summary else {}
    (run_dir / SUMMARY_JSON).write_text(json.dumps({"state": "interrupted", **counts}))
    if study:
        created = optuna.create_study(study_name=STUDY_NAME, storage=open_storage(run_dir))
        created.add_trial(optuna.trial.create_trial(
            params={"loss_strategy": "kendall"},
            distributions={"loss_strategy": optuna.distributions.CategoricalDistribution(
                ["uniform", "kendall", "softplus_kendall", "a3dro"])},
            value=0.41,
        ))  # fmt: skip
    return run_dir


@pytest.mark.parametrize(
    ("study", "summary", "held"),
    [
        (True, False, f"its study ({OPTUNA_STUDY}) holds 1 finished trial(s)"),
        (False, True, f"its {SUMMARY_JSON} counts 2 trial(s)"),
        (True, True, f"its {SUMMARY_JSON} counts 2 trial(s) and its study ({OPTUNA_STUDY})"),
    ],
)
def test_a_resume_without_tunes_experiment_keeps_the_runs_results(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, study: bool, summary: bool, held: str
) -> None:
    """A run whose Tune experiment is gone was taken for one interrupted as it started: it
    said so, deleted optuna.journal with its COMPLETE trials and ran the whole search again
    (exit 0 'finished'). With results to lose, the plan refuses it before Ray, naming the
    missing directory and --warm-start; run_tune refuses it too, and deletes nothing."""
    run_dir = _run_with_results(tmp_path, study, summary)
    before = {p.name: p.read_bytes() for p in run_dir.iterdir()}
    with pytest.raises(ConfigError) as err:
        resolve_search(load_run_options(run_dir), {"CPU": 2})
    (problem,) = err.value.problems
    assert problem.startswith(
        f"resume={str(run_dir)!r}: Ray Tune's experiment directory {run_dir / 'tune'} is missing"
    )
    assert held in problem
    if study:  # its COMPLETE trial is what a warm start takes
        assert problem.endswith(f"warm_start={str(run_dir)!r} (and another name=)")
    else:
        assert problem.endswith("its study holds no COMPLETE trial that warm_start= could take")
    plan = resolve_search(RunOptions(space="smoke", results=str(tmp_path), name="x"), {"CPU": 2})
    plan = dataclasses.replace(plan, run_dir=str(run_dir), storage_path=str(run_dir))
    monkeypatch.setattr(tuner_module, "build_tuner", lambda p, c: pytest.fail("started over"))
    with pytest.raises(ConfigError, match="a resume would start the search over"):
        run_tune(plan, resume=True, callbacks=[])
    assert {p.name: p.read_bytes() for p in run_dir.iterdir()} == before


def test_a_resume_without_tunes_experiment_and_an_unreadable_study_is_refused(
    tmp_path: Path,
) -> None:
    """Whether a study that cannot be read holds finished trials cannot be told: it is not
    thrown away by a start over."""
    run_dir = _run_with_results(tmp_path, study=False, summary=False)
    (run_dir / OPTUNA_STUDY).write_bytes(b"\xff\xfe\n")
    with pytest.raises(ConfigError) as err:
        resolve_search(load_run_options(run_dir), {"CPU": 2})
    (problem,) = err.value.problems
    assert problem.startswith(f"resume={str(run_dir)!r}: {OPTUNA_STUDY} cannot be read")
    assert "move the file aside to start over" in problem


def test_a_search_whose_budget_cut_only_a_trial_scoring_its_test_split_is_out_of_time(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by review: with the trial the budget cut as it scored its test split completed
    (it has its final value), the search counted no cut trial and said it finished, with
    no word of the budget."""
    options = RunOptions(
        space="smoke", results=str(tmp_path), name="r", num_samples=1, time_budget_s=0.2
    )
    plan = resolve_search(options, {"CPU": 2})
    frame = pd.DataFrame({TIME_ATTR: [1, 2, 3], VAL_METRIC: [0.5, 0.4, 0.3]})
    grid = _Grid([(_Trial("a", {"loss_strategy": "uniform"}), _Result({"done": False}, frame))])

    def fit(tuner: object) -> _Grid:
        time.sleep(0.3)  # the budget runs out as trial a scores its test split
        return grid

    monkeypatch.setattr(tuner_module, "build_tuner", lambda plan, callbacks: object())
    monkeypatch.setattr(tuner_module, "fit", fit)
    monkeypatch.setattr(tuner_module, "gate_held", lambda tuner: None)
    monkeypatch.setattr(tuner_module, "settle_cut_trials", lambda run_dir: 1)
    outcome = run_tune(plan, resume=False, callbacks=[])
    assert list(outcome.trials["status"]) == [COMPLETED]
    assert outcome.out_of_time


@pytest.mark.parametrize(
    ("against", "cut"), [("next", True), ("chain", True), ("final", False), ("next", False)]
)
def test_the_gate_record_says_what_the_searchs_gate_judged_by(against: str, cut: bool) -> None:
    """The least number of trials a rung is judged by is the scheduler's own (summary.md
    said "too few trials" without it), with each held rung's count when the search ended;
    and what the gate compares: gate_against: chain was recorded as "next", and nothing
    said that a rung opened only if its cut also kept the best (gate_cut_cost)."""
    from types import SimpleNamespace

    from raysearch.search.gated_asha import GatedASHA
    from raysearch.search.scheduler import SchedulerMemory
    from raysearch.search.tuner import gate_held, gate_record

    def tuner(scheduler: object) -> object:
        config = SimpleNamespace(callbacks=[SchedulerMemory(scheduler)])
        return SimpleNamespace(_local_tuner=SimpleNamespace(get_run_config=lambda: config))

    scheduler = build_scheduler(load_space("smoke"))  # gated_asha
    assert isinstance(scheduler, GatedASHA)
    scheduler.n_min, scheduler.against, scheduler.cut_cost = 5, against, cut  # type: ignore[assignment]
    scheduler.held.update({1.0: 2, 2.0: 0, 3.0: 1})
    judged = {1.0: (math.nan, math.nan, 4), 3.0: (1.0, 0.45 if cut else math.nan, 9)}
    scheduler.judged = judged.__getitem__  # type: ignore[method-assign]
    assert gate_held(tuner(scheduler)) == {1: 2, 3: 1}  # type: ignore[arg-type]
    assert gate_record(tuner(scheduler)) == {  # type: ignore[arg-type]
        "min_trials": 5,
        "threshold": 0.9,
        "against": against,
        "cut_cost": cut,
        "unmeasured": scheduler.unmeasured,  # the space's gate_unmeasured, as summary.md says
        "trials": {1: 4, 3: 9},
        "spearman": {1: None, 3: 1.0},  # NaN: none to compute, null in summary.json
        "cost": {1: None, 3: 0.45 if cut else None},
    }
    assert gate_record(tuner(object())) is None  # type: ignore[arg-type]
