"""Resolving a search before Ray starts: overrides, smoke sizes, start points."""

from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import numpy as np
import optuna
import pytest

from raysearch.core.errors import ConfigError
from raysearch.core.files import METADATA, OPTIONS, OPTUNA_STUDY, SUMMARY_JSON
from raysearch.core.model_config import ModelConfig
from raysearch.search import arguments
from raysearch.search.options import RunOptions, load_run_options, recorded_options
from raysearch.search.plan import SearchPlan, resolve_search
from raysearch.search.resources import Node
from raysearch.search.run_metadata import run_metadata
from raysearch.search.space import load_space
from raysearch.search.study import STUDY_NAME, open_storage
from raysearch.search.tracking import WandbOptions
from raysearch.search.trainable import trial_config

CLUSTER = {"CPU": 2.0}


def test_cli_overrides_replace_the_space_settings(tmp_path: Path) -> None:
    plan = resolve_search(
        RunOptions(space="loss_ablation", num_samples=3, max_epochs=5, results=str(tmp_path)),
        CLUSTER,
    )
    assert plan.space.settings.num_samples == 3
    assert plan.space.settings.max_epochs == 5
    assert plan.setup.max_epochs == 5
    assert plan.setup.resources.max_concurrent == 2
    assert (plan.space.settings.searcher, plan.space.settings.scheduler) == ("tpe", "gated_asha")
    baseline = resolve_search(
        RunOptions(
            space="loss_ablation", searcher="random", scheduler="fifo", results=str(tmp_path)
        ),
        CLUSTER,
    )
    assert (baseline.space.settings.searcher, baseline.space.settings.scheduler) == (
        "random",
        "fifo",
    )


def test_only_one_worker_trials_reuse_their_process(tmp_path: Path) -> None:
    """A Ray Train trial's process is not reused: Tune gives a stopped one 2 s to tear its
    worker group down before it fails the next trial (seen under load)."""

    def plan(workers: int, reuse: bool = True) -> SearchPlan:
        options = RunOptions(
            space="smoke", workers_per_trial=workers, reuse_actors=reuse,
            results=str(tmp_path), name=f"w{workers}{reuse}", finalists=0,
        )  # fmt: skip
        return resolve_search(options, CLUSTER)

    assert plan(1).reuse_actors and not plan(1, reuse=False).reuse_actors
    assert not plan(2).reuse_actors


def _smoke_plan(tmp_path: Path, space_text: str) -> SearchPlan:
    """The --smoke plan of a space file written from ``space_text``."""
    space = tmp_path / "space.yaml"
    space.write_text(space_text)
    return resolve_search(RunOptions(space=str(space), smoke=True, results=str(tmp_path)), CLUSTER)


def test_smoke_sizes_win_over_the_space_fixed_values(tmp_path: Path) -> None:
    """The space fixes the small model (its width, depth and heads too, which override the
    preset: they smoke-trained d_model 256 with 6 layers while the config said model.size:
    tiny, found by a review helper) and a 90-day window; --smoke must still be tiny."""
    plan = _smoke_plan(
        tmp_path,
        "settings: {num_samples: 8, max_epochs: 8}\n"
        "fixed: {size: small, d_model: 256, layers: 6, nhead: 8, daily_window: 90, "
        "dropout: 0.1}\n"
        "parameters:\n  loss_strategy: {type: categorical, choices: [uniform, kendall]}\n",
    )
    cfg = trial_config(plan.setup, {"loss_strategy": "uniform"})
    assert cfg.model.size == "tiny"
    assert cfg.model.resolve() == ModelConfig(size="tiny", dropout=0.1).resolve()
    # a searched nhead keeps the fixed d_model it divides (the tiny width, 16, did not by 32:
    # the smoke run of a valid space was refused; found by a review helper)
    heads = _smoke_plan(
        tmp_path,
        "settings: {num_samples: 8, max_epochs: 8}\n"
        "fixed: {size: base, d_model: 64, layers: 6}\n"
        "parameters:\n  nhead: {type: categorical, choices: [4, 32]}\n",
    )
    wide = trial_config(heads.setup, {"nhead": 32}).model.resolve()
    assert (wide.d_model, wide.nhead, wide.layers) == (
        64,
        32,
        ModelConfig(size="tiny").resolve().layers,
    )
    assert cfg.data.daily_window == 60
    assert cfg.data.synth.days == 420
    assert cfg.trainer.max_epochs == plan.space.settings.max_epochs == 3
    assert plan.space.settings.num_samples == 4
    # values the smoke run does not touch keep the space's fixed value
    assert cfg.model.dropout == 0.1


@pytest.mark.parametrize(
    ("epochs", "smoked", "trials", "smoked_trials"), [(2, 2, 2, 2), (3, 3, 4, 4), (8, 3, 9, 4)]
)
def test_smoke_caps_the_epochs_and_trials_and_keeps_a_space_s_fewer(
    tmp_path: Path, epochs: int, smoked: int, trials: int, smoked_trials: int
) -> None:
    """A space of 2 epochs ran 3 under --smoke (and metadata.json said 3), and one of 2
    trials ran 4: --smoke set them, upward too, where it is to make a search shorter."""
    plan = _smoke_plan(
        tmp_path,
        f"settings: {{num_samples: {trials}, max_epochs: {epochs}}}\nfixed: {{size: tiny}}\n"
        "parameters:\n  loss_strategy: {type: categorical, choices: [uniform, kendall]}\n",
    )
    assert plan.space.settings.max_epochs == plan.setup.max_epochs == smoked
    assert plan.space.settings.num_samples == smoked_trials
    assert trial_config(plan.setup, {"loss_strategy": "uniform"}).trainer.max_epochs == smoked


def test_replicates_without_finalists_are_refused_but_a_run_started_with_them_resumes() -> None:
    """A run started with replicates and no finalists, before they were refused, records
    them (options.json): its resume is not refused for a flag its user cannot leave out."""
    from raysearch.search.plan import _space_for

    with pytest.raises(ConfigError, match=r"replicates=3: .* \(smoke=True turns off the spa"):
        _space_for(RunOptions(space="loss_ablation", smoke=True, replicates=3))
    resumed = RunOptions(space="loss_ablation", smoke=True, replicates=3, resume="run")
    assert _space_for(resumed).settings.finalists == 0


def test_a_warm_start_is_refused_with_a_searcher_that_reads_no_study(tmp_path: Path) -> None:
    """`--warm-start RUN --searcher random` ran and exited 0: random search never reads the
    study the warm start seeds. TPE, the only searcher that reads it, takes it."""
    from tests.search.test_study import _old_run

    old = tmp_path / "old"
    _old_run(old)
    argv = ("raysearch.run",)  # named as the command line names them
    options = RunOptions(space="smoke", warm_start=str(old), results=str(tmp_path), argv=argv)
    assert resolve_search(options, CLUSTER).warm_start == str(old)
    with pytest.raises(ConfigError) as err:
        resolve_search(dataclasses.replace(options, searcher="random"), CLUSTER)
    assert err.value.problems == [
        f"--warm-start {old}: seeds the Optuna study that TPE draws from, and --searcher random "
        "draws trials without reading it; give --searcher tpe, or leave --warm-start out"
    ]
    random = tmp_path / "random.yaml"  # the smoke space, searched at random
    smoke = Path(load_space("smoke").path).read_text()
    random.write_text(smoke.replace("  n_startup_trials: 2\n", "  searcher: random\n"))
    with pytest.raises(ConfigError) as err:
        resolve_search(dataclasses.replace(options, space=str(random)), CLUSTER)
    assert err.value.problems[0].startswith(
        f"--warm-start {old}: seeds the Optuna study that TPE draws from, and space 'random' "
        "sets searcher: random, which draws trials without reading it; give --searcher tpe"
    )
    searched = dataclasses.replace(options, space=str(random), searcher="tpe")
    assert resolve_search(searched, CLUSTER).space.settings.searcher == "tpe"


def test_a_sampled_trial_gets_fixed_and_searched_values(tmp_path: Path) -> None:
    plan = resolve_search(RunOptions(space="loss_ablation", results=str(tmp_path)), CLUSTER)
    cfg = trial_config(
        plan.setup, {"loss_strategy": "a3dro", "budget_beta": 0.2, "regret_clip": 1.5}
    )
    assert (cfg.loss.strategy, cfg.loss.budget_beta, cfg.loss.regret_clip) == ("a3dro", 0.2, 1.5)
    assert cfg.model.size == "tiny" and cfg.data.daily_window == 60  # the space's fixed values


def test_a_bad_override_is_refused_before_ray_starts(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="resources"):
        resolve_search(
            RunOptions(space="smoke", workers_per_trial=4, results=str(tmp_path)),
            [Node(8.0, 2.0)],
        )


def test_storage_uri_keeps_tables_local(tmp_path: Path) -> None:
    plan = resolve_search(
        RunOptions(space="smoke", storage="s3://bucket/sweeps/", name="r1", results=str(tmp_path)),
        CLUSTER,
    )
    assert plan.storage_path == "s3://bucket/sweeps/smoke/r1"
    assert plan.run_dir == str((tmp_path / "smoke" / "r1").resolve())


def test_data_parameters_are_checked_at_their_extremes_before_trials(tmp_path: Path) -> None:
    from raysearch.core.data_config import DataConfig
    from raysearch.data.prepared import prepare
    from raysearch.search.plan import check_data_extremes, data_extremes

    plan = _smoke_plan(
        tmp_path,
        "settings: {num_samples: 2, max_epochs: 3}\n"
        "parameters:\n  raion_pca_components: {type: int, low: 2, high: 400}\n"
        "  dropout: {type: float, low: 0.0, high: 0.3}\n",
    )
    assert data_extremes(plan) == [{"raion_pca_components": 2}, {"raion_pca_components": 400}]
    built: list[DataConfig] = []

    def recording_prepare(cfg: DataConfig, cache_dir: str):
        built.append(cfg)
        return prepare(cfg, cache_dir)

    with pytest.raises(ConfigError) as err:
        check_data_extremes(plan, recording_prepare, train_samples=10**6)
    assert "raion_pca_components" in str(err.value) and "400" in str(err.value)
    assert sorted(c.raion_pca_components for c in built) == [2, 400]


def test_every_problem_of_the_data_extremes_and_batch_sizes_is_said_at_once(
    tmp_path: Path,
) -> None:
    """A dataset's refusal of one extreme (a DataError) comes with a config problem of the
    other and with a batch no trial could fill: the training split's samples bound the
    largest batch a trial may take (a searched batch's bounds here)."""
    from raysearch.core.data_config import DataConfig
    from raysearch.core.errors import DataError
    from raysearch.search.plan import check_data_extremes

    plan = _smoke_plan(
        tmp_path,
        "settings: {num_samples: 2, max_epochs: 3}\n"
        "parameters:\n  raion_pca_components: {type: int, low: 2, high: 9}\n"
        "  batch_size: {type: int, low: 8, high: 64}\n",
    )

    def refusing_prepare(cfg: DataConfig, cache_dir: str) -> None:
        if cfg.raion_pca_components == 2:
            raise DataError(["raions.csv: too few raions"])
        raise ConfigError(["raion_pca_components: more than the raions"])

    with pytest.raises(ConfigError) as err:
        check_data_extremes(plan, refusing_prepare, train_samples=40)
    assert err.value.problems == [
        "search space parameter {'raion_pca_components': 2}: raions.csv: too few raions",
        "search space parameter {'raion_pca_components': 9}: raion_pca_components: more "
        "than the raions",
        "batch_size 64 (search space parameter 'batch_size': 64) exceeds the 40 training "
        "samples (a trial trains on whole batches of them); give at most 40",
    ]


@pytest.mark.parametrize(
    ("space_text", "train_samples", "too_large"),
    [
        ("fixed: {batch_size: 32}\n", 31, ["32 (the space's fixed value or the default)"]),
        ("fixed: {batch_size: 32}\n", 32, []),
        # searched: the default (16) is no trial's, so only the choices count
        ("parameters:\n  batch_size: {type: categorical, choices: [4, 8, 12]}\n", 10,
         ["12 (search space parameter 'batch_size': 12)"]),
        # searched under a condition: the other trials take the default
        ("parameters:\n  dropout: {type: categorical, choices: [0.1, 0.2]}\n"
         "  batch_size: {type: categorical, choices: [4, 8], when: {dropout: 0.2}}\n", 10,
         ["16 (the space's fixed value or the default)"]),
    ],
)  # fmt: skip
def test_a_batch_no_trial_could_fill_is_refused_and_only_one_a_trial_may_take(
    tmp_path: Path, space_text: str, train_samples: int, too_large: list[str]
) -> None:
    from raysearch.search.plan import check_data_extremes

    plan = _smoke_plan(tmp_path, "settings: {num_samples: 2, max_epochs: 3}\n" + space_text)
    if not too_large:
        check_data_extremes(plan, lambda cfg, cache_dir: None, train_samples)
        return
    with pytest.raises(ConfigError) as err:
        check_data_extremes(plan, lambda cfg, cache_dir: None, train_samples)
    assert [p.split("batch_size ")[1].split(" exceeds")[0] for p in err.value.problems] == (
        too_large
    )


def test_summary_config_leaves_out_unused_conditional_parameters(tmp_path: Path) -> None:
    import math

    import pandas as pd

    from raysearch.results.summary import summarize

    trials = pd.DataFrame(
        {
            "trial_id": ["a", "b"],
            "status": ["completed", "stopped"],
            "stop_reason": ["max_epochs", "asha"],
            "epochs_run": [3, 1],
            "best_anchored_val_loss": [-0.4, 0.2],
            "best_epoch": [3, 1],
            "config/loss_strategy": ["kendall", "a3dro"],
            "config/budget_beta": [math.nan, 0.3],
        }
    )
    best = summarize(trials, tmp_path)["best"]
    assert best["config"] == {"loss_strategy": "kendall"}


def test_a_relative_data_directory_reaches_the_trials_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    plan = resolve_search(RunOptions(space="smoke", data="datasets/x"), {"CPU": 2})
    assert plan.setup.base_config.data.path == str(tmp_path / "datasets" / "x")


@pytest.mark.parametrize("budget", [0, -1.0, float("nan"), float("inf"), True, "1h"])
def test_a_time_budget_must_be_seconds_above_0(tmp_path: Path, budget: object) -> None:
    with pytest.raises(
        ConfigError,
        match=re.escape(f"time_budget_s: must be a number of seconds > 0, got {budget!r}"),
    ):
        RunOptions(space="smoke", results=str(tmp_path), time_budget_s=budget)  # type: ignore[arg-type]
    plan = resolve_search(
        RunOptions(space="smoke", results=str(tmp_path), time_budget_s=60), CLUSTER
    )
    assert plan.time_budget_s == 60


def _study(run_dir: Path, finished: int) -> None:
    """The run's Optuna study, made anew, with ``finished`` COMPLETE trials and one running."""
    (run_dir / OPTUNA_STUDY).unlink(missing_ok=True)
    study = optuna.create_study(study_name=STUDY_NAME, storage=open_storage(run_dir))
    for _ in range(finished):
        study.tell(study.ask({"dropout": optuna.distributions.FloatDistribution(0, 1)}), 0.5)
    study.ask()


def test_only_an_interrupted_search_is_resumed(tmp_path: Path) -> None:
    (tmp_path / OPTIONS).write_text(json.dumps(RunOptions(space="smoke").to_json()))
    assert load_run_options(tmp_path).resume == str(tmp_path)  # no summary yet: resumable
    (tmp_path / SUMMARY_JSON).write_text(json.dumps({"state": "interrupted"}))
    assert load_run_options(tmp_path).space == "smoke"
    (tmp_path / SUMMARY_JSON).write_text(json.dumps({"state": "out of time"}))
    with pytest.raises(ConfigError, match=r"its Optuna study, optuna\.journal, is not there"):
        load_run_options(tmp_path)  # no study: a warm start could not read it
    _study(tmp_path, finished=0)
    with pytest.raises(ConfigError, match="its study holds no finished trial"):
        load_run_options(tmp_path)  # nothing a warm start would take
    _study(tmp_path, finished=1)
    with pytest.raises(ConfigError, match=f"--warm-start {re.escape(str(tmp_path))}"):
        load_run_options(tmp_path)
    for ended in ("finished", "every trial failed"):  # nothing to resume there either
        (tmp_path / SUMMARY_JSON).write_text(json.dumps({"state": ended}))
        with pytest.raises(ConfigError, match=re.escape(f"that search ended ({ended}); nothing")):
            load_run_options(tmp_path)
    # no best trial: nothing a warm start could use either, so it is not offered
    for ended in ("every trial failed", "gave no result"):
        (tmp_path / SUMMARY_JSON).write_text(json.dumps({"state": ended, "best": None}))
        with pytest.raises(ConfigError, match="no trial of it reported a value") as err:
            load_run_options(tmp_path)
        assert "--warm-start" not in str(err.value)


@pytest.mark.parametrize("name", ["", ".", "..", "../../escape", "a/b", "a\\b"])
def test_a_run_name_is_one_path_component_under_the_results(tmp_path: Path, name: str) -> None:
    with pytest.raises(
        ConfigError, match=re.escape(f"one path component (no '/', not '.' or '..'), got {name!r}")
    ):
        resolve_search(RunOptions(space="smoke", results=str(tmp_path), name=name), CLUSTER)
    assert not list(tmp_path.iterdir())


@pytest.mark.parametrize(
    ("storage", "why"),
    [
        ("ftp://host/x", "s3, gs, gcs"),
        ("relstore", "must be absolute"),
        ("a/b", "must be absolute"),
    ],
)
def test_a_storage_ray_tune_cannot_use_is_refused_before_ray(
    tmp_path: Path, storage: str, why: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(why)) as err:
        resolve_search(RunOptions(space="smoke", results=str(tmp_path), storage=storage), CLUSTER)
    assert repr(storage) in str(err.value)
    for fine in ("s3://bucket/runs", "gs://bucket", str(tmp_path / "shared"), "file:///mnt/x"):
        resolve_search(RunOptions(space="smoke", results=str(tmp_path), storage=fine), CLUSTER)


def test_a_resume_continues_the_directory_it_names_wherever_it_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """options.json keeps the relative paths of the command line made absolute; the run
    directory and its results root come from where --resume names it, not from the run's
    recorded --results and --name (the run may have moved, or the command runs elsewhere)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my_space.yaml").write_text((Path(load_space("smoke").path)).read_text())
    started = RunOptions(space="my_space.yaml", data="data/d", results="results", name="r")
    warm = recorded_options(dataclasses.replace(started, warm_start="results/my_space/old"))
    assert warm.warm_start == str(tmp_path / "results/my_space/old")  # as metadata.json has it
    moved = tmp_path / "elsewhere" / "my_space" / "r2"
    moved.mkdir(parents=True)
    (moved / OPTIONS).write_text(json.dumps(recorded_options(started).to_json()))
    monkeypatch.chdir(moved.parent)  # another working directory
    options = load_run_options(Path("r2"))
    assert (options.resume, options.name) == (str(moved), "r2")
    assert options.results == str(tmp_path / "elsewhere")
    assert (options.space, options.data) == (
        str(tmp_path / "my_space.yaml"),
        str(tmp_path / "data/d"),
    )
    plan = resolve_search(options, CLUSTER)
    assert plan.run_dir == str(moved) and plan.storage_path == str(moved)
    assert plan.setup.cache_dir == str(tmp_path / "elsewhere" / ".cache" / "data")
    assert recorded_options(RunOptions(space="smoke")).space == "smoke"  # a shipped name stays
    # a run that started elsewhere, with Tune's experiment in it, is not resumed here...
    (moved / METADATA).write_text(json.dumps({"run_dir": str(tmp_path / "results/my_space/r")}))
    with pytest.raises(ConfigError, match=r"the search started in .*move the run back") as err:
        load_run_options(moved)
    # without its study a new search cannot start from it: --warm-start is not offered
    assert err.value.problems[0].endswith(
        "move the run back to resume it (a new search cannot start from its trials: its "
        "Optuna study, optuna.journal, is not there)"
    )
    _study(moved, finished=0)  # stopped before a trial finished: a warm start is refused
    with pytest.raises(ConfigError) as err:
        load_run_options(moved)
    assert err.value.problems[0].endswith("its study holds no finished trial)")
    _study(moved, finished=1)
    with pytest.raises(ConfigError) as err:
        load_run_options(moved)
    assert err.value.problems[0].endswith(f"from its trials with --warm-start {moved}")
    # ...where the experiment is kept at --storage, it is
    stored = recorded_options(dataclasses.replace(started, storage="s3://bucket/runs"))
    (moved / OPTIONS).write_text(json.dumps(stored.to_json()))
    assert load_run_options(moved).resume == str(moved)


def test_run_files_that_cannot_be_read_are_one_error(tmp_path: Path) -> None:
    (tmp_path / OPTIONS).write_text("{not json")
    with pytest.raises(ConfigError, match="its run files cannot be read"):
        load_run_options(tmp_path)
    (tmp_path / OPTIONS).write_text(json.dumps({"space": "smoke", "wandb": False}))
    with pytest.raises(ConfigError, match="field 'wandb': a JSON object expected"):
        load_run_options(tmp_path)
    (tmp_path / OPTIONS).write_text(json.dumps(RunOptions(space="smoke").to_json()))
    (tmp_path / SUMMARY_JSON).write_text("{cut short")  # a summary.json half written by hand
    with pytest.raises(ConfigError, match="its run files cannot be read"):
        load_run_options(tmp_path)


@pytest.mark.parametrize("name", [OPTIONS, SUMMARY_JSON, METADATA])
@pytest.mark.parametrize("content", ["[]", '"interrupted"', "null", "3"])
def test_run_files_that_are_json_but_not_objects_are_one_error(
    tmp_path: Path, name: str, content: str
) -> None:
    """A run file overwritten with a list or a str (by hand, by another tool) is the same
    one error as one that is not JSON (exit 2), not an AttributeError traceback (exit 1)."""
    (tmp_path / OPTIONS).write_text(json.dumps(RunOptions(space="smoke").to_json()))
    (tmp_path / name).write_text(content)
    with pytest.raises(ConfigError) as err:
        load_run_options(tmp_path)
    (problem,) = err.value.problems
    assert problem.startswith(f"--resume {tmp_path}: its run files cannot be read ({name}: ")
    assert "a JSON object expected" in problem


def test_a_resume_of_a_directory_that_does_not_exist_says_so(tmp_path: Path) -> None:
    """It said 'no options.json there', as of a directory that is not a run's."""
    absent, a_file = tmp_path / "nonexist" / "run", tmp_path / "a_file"
    a_file.write_text("")
    for where, what in ((absent, "no such directory"), (a_file, "not a directory")):
        with pytest.raises(ConfigError) as err:
            load_run_options(where)
        assert err.value.problems == [
            f"--resume {where}: {what}; give the run directory (results/<space>/<run>) of a "
            "search to continue"
        ]
    with pytest.raises(ConfigError, match=f"no {OPTIONS} there"):
        load_run_options(tmp_path)


@pytest.mark.parametrize(
    ("recorded", "problems"),
    [
        ({}, ["missing field 'space'"]),
        ({"space": "smoke", "x": 1, "wandb": {"y": 2}}, ["unknown field 'x'",
                                                         "unknown field 'wandb.y'"]),
        ({"space": "smoke", "wandb": False}, ["field 'wandb': a JSON object expected, got False"]),
        ({"space": "smoke", "argv": "a"}, ["field 'argv': a JSON array expected, got 'a'"]),
        # both: a bad W&B value hid the others (found by a review helper)
        ({"space": "smoke", "num_samples": 0, "wandb": {"enabled": "no"}},
         ["field wandb.enabled: must be true or false, got 'no'",
          "field num_samples: must be an int >= 1, got 0"]),
        ({"space": "smoke", "num_samples": 0, "argv": ["--space", "smoke"]},
         ["field num_samples: must be an int >= 1, got 0"]),
    ],
)  # fmt: skip
def test_an_options_json_that_holds_no_runs_options_is_refused_naming_the_file_and_fields(
    tmp_path: Path, recorded: dict, problems: list[str]
) -> None:
    """'{}' was refused as 'its run files cannot be read (RunOptions.__init__() missing 1
    required positional argument: 'space')': a Python error that did not name the file."""
    (tmp_path / OPTIONS).write_text(json.dumps(recorded))
    with pytest.raises(ConfigError) as err:
        load_run_options(tmp_path)
    assert err.value.problems == [
        f"--resume {tmp_path}: {tmp_path / OPTIONS}: {p}" for p in problems
    ]
    assert str(err.value).startswith("invalid arguments")
    (tmp_path / OPTIONS).write_text("{not json")
    with pytest.raises(ConfigError, match=f"cannot be read \\({OPTIONS}: not JSON"):
        load_run_options(tmp_path)


@pytest.mark.parametrize("where", ["dir", "file"])
def test_a_space_that_is_a_directory_or_not_yaml_is_one_error(tmp_path: Path, where: str) -> None:
    target = tmp_path / "spaces"
    target.mkdir() if where == "dir" else target.write_text("x: 1\n")
    said = f"space={str(target)!r}: " + (
        "is a directory" if where == "dir" else "is a file whose name does not end in .yaml"
    )
    with pytest.raises(ConfigError, match=re.escape(said)):
        resolve_search(RunOptions(space=str(target), results=str(tmp_path)), CLUSTER)


def test_a_batch_that_does_not_split_over_the_workers_is_refused_before_ray(
    tmp_path: Path,
) -> None:
    def plan(space: str, workers: int) -> SearchPlan:
        return resolve_search(
            RunOptions(space=space, results=str(tmp_path), workers_per_trial=workers),
            {"CPU": 8},
        )

    assert plan("smoke", 2).setup.resources.workers_per_trial == 2  # the default 16 splits
    default = r"batch_size 16 \(the space's fixed value or the default\) is not divisible by 3"
    with pytest.raises(ConfigError, match=default):
        plan("smoke", 3)
    space = tmp_path / "batches.yaml"
    space.write_text(
        "settings: {num_samples: 2, max_epochs: 2}\n"
        "parameters:\n  batch_size: {type: categorical, choices: [16, 24, 36]}\n"
    )
    with pytest.raises(ConfigError) as err:
        plan(str(space), 8)  # 16 and 24 split over 8, 36 does not
    assert [p.split("and ")[-1] for p in err.value.problems] == [
        "batch_size 36 (search space parameter 'batch_size': 36) is not divisible by 8"
    ]
    # the default (16) is no trial's when the space searches the batch size
    space.write_text(
        "settings: {num_samples: 2, max_epochs: 2}\n"
        "parameters:\n  batch_size: {type: categorical, choices: [24, 48]}\n"
    )
    assert plan(str(space), 3).setup.resources.workers_per_trial == 3
    # a range: every draw must split, so its low and its step must
    space.write_text(
        "settings: {num_samples: 2, max_epochs: 2}\n"
        "parameters:\n  batch_size: {type: int, low: 16, high: 64, step: 8}\n"
    )
    assert plan(str(space), 4).setup.resources.workers_per_trial == 4
    with pytest.raises(ConfigError) as err:
        plan(str(space), 16)
    assert [p.split("a batch, and ")[-1] for p in err.value.problems] == [
        "search space parameter 'batch_size' draws batch sizes from 16 in steps of 8, not "
        "all divisible by 16; give a low and a step that are"
    ]


def test_a_results_root_that_is_a_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("")
    with pytest.raises(ConfigError, match=r"results: .*afile is a file; give a directory"):
        resolve_search(RunOptions(space="smoke", results=str(tmp_path / "afile")), CLUSTER)


def test_a_space_made_for_a_real_dataset_is_refused_without_data(tmp_path: Path) -> None:
    """war_losses without --data ran on the synthetic default (other sources, other tasks)
    and said nothing; with --data, and as --smoke, it still needs the dataset."""
    for smoke in (False, True):
        options = RunOptions(space="war_losses", smoke=smoke, results=str(tmp_path))
        with pytest.raises(ConfigError) as err:
            resolve_search(options, CLUSTER)
        (problem,) = err.value.problems
        assert problem.startswith("data: space 'war_losses' is made for a real dataset")
    given = RunOptions(space="war_losses", data=str(tmp_path), results=str(tmp_path))
    assert resolve_search(given, CLUSTER).space.requires_data
    assert not load_space("loss_ablation").requires_data  # the synthetic default serves it


def test_a_space_keeps_what_it_requires_when_its_settings_change() -> None:
    space = load_space("war_losses")
    assert space.with_settings(num_samples=5).requires_data and space.smoke().requires_data


@pytest.mark.parametrize(
    ("state", "advice"),
    [
        (None, "continue it with resume="),  # no summary yet: it stopped before its end
        ("interrupted", "continue it with resume="),
        ("finished", "choose another name=, and start from its trials with warm_start="),
        ("out of time", "choose another name=, and start from its trials with warm_start="),
        ("gave no result", "gave no result; its results: "),  # and no warm start: below
        ("every trial failed", "choose another name="),
    ],
)
def test_a_run_name_taken_by_a_search_says_what_can_be_done_with_it(
    tmp_path: Path, state: str | None, advice: str
) -> None:
    """A finished search cannot be resumed (--resume refuses it): the name's error offers a
    new name and a warm start instead, and --resume only where it would go on."""
    run_dir = tmp_path / "smoke" / "taken"
    run_dir.mkdir(parents=True)
    (run_dir / OPTUNA_STUDY).write_text("")
    valued = state not in ("gave no result", "every trial failed")  # its summary's best
    if state is not None:
        best = {"trial_id": "a"} if valued else None
        (run_dir / SUMMARY_JSON).write_text(json.dumps({"state": state, "best": best}))
    with pytest.raises(ConfigError) as err:
        resolve_search(RunOptions(space="smoke", name="taken", results=str(tmp_path)), CLUSTER)
    (problem,) = err.value.problems
    assert advice in problem
    assert ("resume=" in problem) == (state in (None, "interrupted"))
    # a search no trial of which reported a value has nothing to start from
    assert ("warm_start=" in problem) == (state is not None and state != "interrupted" and valued)


def test_one_run_options_gives_each_search_its_own_run_directory(tmp_path: Path) -> None:
    """A notebook's loop over seeds reuses one RunOptions (dataclasses.replace keeps its
    fields): its second search was refused, the run directory named at construction taken."""
    options = RunOptions(space="smoke", results=str(tmp_path))
    first = resolve_search(options, CLUSTER).run_dir
    Path(first).mkdir(parents=True)
    (Path(first) / OPTUNA_STUDY).write_text("")  # a search ran there
    for again in (options, dataclasses.replace(options, seed=1)):
        second = resolve_search(again, CLUSTER).run_dir
        assert second != first and Path(second).parent == Path(first).parent
    assert options.name is None


def test_counts_and_seconds_from_numpy_are_taken_as_pythons_numbers() -> None:
    """np.arange's and a DataFrame's numbers: 'must be an int >= 1, got np.int64(4)' said
    the value was wrong while it named a right one."""
    options = arguments.options_from_arguments(
        "smoke",
        None,
        {"num_samples": np.int64(4), "seed": np.uint32(3), "time_budget_s": np.float32(2.5)},
    )
    assert (options.num_samples, options.seed, options.time_budget_s) == (4, 3, 2.5)
    assert [type(v) for v in (options.num_samples, options.seed, options.time_budget_s)] == [
        int,
        int,
        float,
    ]
    json.dumps(options.to_json())  # the run's options.json takes them
    with pytest.raises(ConfigError, match=r"num_samples: must be an int >= 1, got 4\.0"):
        RunOptions(space="smoke", num_samples=np.float64(4.0))  # type: ignore[arg-type]


def test_paths_and_numpy_switches_are_taken_by_run_options_as_run_search_takes_them() -> None:
    """RunOptions(data=Path(...)) was refused ('must be a str, got PosixPath(...)') while
    run_search(data=Path(...)) took it; smoke=np.bool_(True) was refused by both (a
    Python-API helper)."""
    options = RunOptions(
        space=Path("my_space.yaml"), data=Path("/data"), results=Path("r"),  # type: ignore[arg-type]
        warm_start=Path("r/old"), smoke=np.bool_(True), reuse_actors=np.bool_(False),  # type: ignore[arg-type]
    )  # fmt: skip
    assert (options.space, options.data, options.results, options.warm_start) == (
        "my_space.yaml", "/data", "r", "r/old"
    )  # fmt: skip
    assert options.smoke is True and options.reuse_actors is False
    assert RunOptions.from_json(json.loads(json.dumps(options.to_json()))) == options
    # the run's name too, and W&B switched by NumPy's bool (a review helper)
    assert RunOptions(space="smoke", name=Path("n")).name == "n"  # type: ignore[arg-type]
    assert WandbOptions(enabled=np.False_).enabled is False  # type: ignore[arg-type]
    off = arguments.options_from_arguments("smoke", None, {"wandb": np.False_})
    assert off.wandb == WandbOptions(enabled=False)


def _plan(tmp_path: Path, space_text: str, **options: object) -> SearchPlan:
    space = tmp_path / "space.yaml"
    space.write_text(space_text)
    return resolve_search(RunOptions(space=str(space), results=str(tmp_path), **options), CLUSTER)  # type: ignore[arg-type]


def test_a_space_whose_draws_build_no_trial_is_refused_before_ray(tmp_path: Path) -> None:
    """A searched A3DRO warm-up that reaches max_epochs: some draws (a3dro with the longer
    warm-ups) would fail at their start; the space is refused, naming a draw and why."""
    text = (
        "settings: {num_samples: 4, max_epochs: 3}\n"
        "parameters:\n"
        "  loss_strategy: {type: categorical, choices: [uniform, a3dro]}\n"
        "  a3dro_warmup_epochs: {type: int, low: 1, high: 4, when: {loss_strategy: a3dro}}\n"
    )
    with pytest.raises(ConfigError) as err:
        _plan(tmp_path, text)
    (problem,) = err.value.problems
    assert "a3dro_warmup_epochs" in problem and "'loss_strategy': 'a3dro'" in problem
    assert "must be < trainer.max_epochs (3), got 4" in problem
    # the same space with a budget its warm-ups fit in is fine, and so is --max-epochs 5
    assert _plan(tmp_path, text.replace("max_epochs: 3", "max_epochs: 5"), name="a")
    assert _plan(tmp_path, text, max_epochs=5, name="b").setup.max_epochs == 5


def test_a_fixed_value_that_no_searched_choice_fits_is_refused(tmp_path: Path) -> None:
    """A fixed warm-up that only an a3dro draw trips over (no start point draws a3dro)."""
    text = (
        "settings: {num_samples: 4, max_epochs: 3}\n"
        "fixed: {a3dro_warmup_epochs: 3}\n"
        "parameters:\n"
        "  loss_strategy: {type: categorical, choices: [uniform, kendall, a3dro]}\n"
        "  dropout: {type: float, low: 0.0, high: 0.3}\n"
    )
    with pytest.raises(ConfigError, match=r"loss_strategy\.choices: 'a3dro': .*\(3\), got 3"):
        _plan(tmp_path, text)


def test_two_searched_values_that_build_no_model_together_are_refused(tmp_path: Path) -> None:
    """d_model 36 builds a model with the default size's 4 heads, and 8 heads with its
    d_model 32, but 36 with 8 heads does not: a draw the search can make, which would fail
    at its start, so every pair of searched values is checked, not only each alone."""
    text = (
        "settings: {num_samples: 4, max_epochs: 3}\n"
        "parameters:\n"
        "  d_model: {type: categorical, choices: [36, 48]}\n"
        "  nhead: {type: categorical, choices: [4, 8]}\n"
    )
    with pytest.raises(ConfigError) as err:
        _plan(tmp_path, text)
    (problem,) = err.value.problems
    assert problem.startswith("a draw of {'d_model': 36, 'nhead': 8}: "), problem
    assert "divisible by nhead" in problem


def test_a_problem_every_draw_shows_is_not_blamed_on_one(tmp_path: Path) -> None:
    """max_epochs 1 with the default one-epoch warm-up: no draw can mend it, so none is
    named as its cause (each was: 'a draw of {...}'); a problem of some draws still names
    one. A space that searches nothing is checked as well."""
    text = (
        "settings: {num_samples: 4, max_epochs: 1}\n"
        "parameters:\n"
        "  dropout: {type: float, low: 0.0, high: 0.3}\n"
        "  d_model: {type: categorical, choices: [32, 36]}\n"
        "  nhead: {type: categorical, choices: [4, 8]}\n"
    )
    with pytest.raises(ConfigError) as err:
        _plan(tmp_path, text)
    everywhere, one = err.value.problems
    assert everywhere.startswith(
        "every draw (the fixed values and the defaults, max_epochs 1): warmup_epochs: "
    ), everywhere
    assert one.startswith("a draw of {'d_model': 36, 'nhead': 8}: "), one
    with pytest.raises(ConfigError, match=r"every draw .*warmup_epochs"):
        _plan(tmp_path, "settings: {num_samples: 4, max_epochs: 1}\nparameters: {}\n")


def test_a_pair_of_values_a_condition_never_draws_together_is_not_refused(tmp_path: Path) -> None:
    """d_model 36 is drawn only with size small (4 heads); with size large (8 heads) it
    would build no model, but no trial draws that pair, so the space is not refused for it."""
    text = (
        "settings: {num_samples: 4, max_epochs: 3}\n"
        "parameters:\n"
        "  size: {type: categorical, choices: [small, large]}\n"
        "  d_model: {type: categorical, choices: [36, 48], when: {size: small}}\n"
    )
    assert _plan(tmp_path, text).space.parameters["d_model"].when == {"size": "small"}


def _interrupted_run(root: Path, tune_saved: bool = True) -> Path:
    """An interrupted run's directory as --resume finds it, Ray Tune's experiment saved
    (its Tuner and a snapshot) or not, without its study."""
    run_dir = root / "smoke" / "r"
    (run_dir / "tune").mkdir(parents=True)
    options = RunOptions(space="smoke", results=str(root), name="r")
    (run_dir / OPTIONS).write_text(json.dumps(options.to_json()))
    (run_dir / METADATA).write_text(json.dumps({"run_dir": str(run_dir)}))
    (run_dir / SUMMARY_JSON).write_text(json.dumps({"state": "interrupted"}))
    (run_dir / "tune" / "tuner.pkl").write_bytes(b"x")
    if tune_saved:
        (run_dir / "tune" / "experiment_state-2026-01-01_00-00-00.json").write_text("{}")
    return run_dir


@pytest.mark.parametrize(
    ("journal", "why"),
    [
        (None, f"no {OPTUNA_STUDY} there"),
        (b"", f"{OPTUNA_STUDY} holds no study named 'raysearch'"),
        (b"{not a journal\n", f"{OPTUNA_STUDY} holds no study named 'raysearch'"),
        (b"\xff\xfe\n", f"{OPTUNA_STUDY} cannot be read as an Optuna journal"),
    ],
)
def test_a_resume_whose_study_is_missing_or_unreadable_is_refused_before_ray(
    tmp_path: Path, journal: bytes | None, why: str
) -> None:
    """Ray Tune restores the searcher from the run's study: without a readable one its
    restore failed inside Tune's controller ("KeyError: 'Record does not exist.'"), the
    driver sat idle, and a kill then overwrote the tables with empty ones. The plan refuses
    such a resume, naming optuna.journal, before Ray starts; nothing is written."""
    run_dir = _interrupted_run(tmp_path)
    if journal is not None:
        (run_dir / OPTUNA_STUDY).write_bytes(journal)
    before = sorted(p.name for p in run_dir.iterdir())
    with pytest.raises(ConfigError) as err:
        resolve_search(load_run_options(run_dir), CLUSTER)
    (problem,) = err.value.problems
    assert problem.startswith(f"resume={str(run_dir)!r}: {why}")
    assert "Ray Tune restores the search's searcher from that study" in problem
    assert sorted(p.name for p in run_dir.iterdir()) == before
    # a readable study is resumed; so is a run Tune never saved, which starts over
    (run_dir / OPTUNA_STUDY).unlink(missing_ok=True)
    optuna.create_study(study_name=STUDY_NAME, storage=open_storage(run_dir))
    assert resolve_search(load_run_options(run_dir), CLUSTER).run_dir == str(run_dir)
    (run_dir / OPTUNA_STUDY).write_bytes(b"")  # interrupted before the study was written
    (run_dir / "tune" / "experiment_state-2026-01-01_00-00-00.json").unlink()
    assert resolve_search(load_run_options(run_dir), CLUSTER).run_dir == str(run_dir)


SPACE = """
settings: {{num_samples: 3, max_epochs: {epochs}, grace_period: {epochs}, n_startup_trials: 3}}
fixed: {{size: tiny, daily_window: 60, monthly_window: 3, raion_pca_components: 2,
        anchor_stride: {stride}, data.synth.days: 420, data.synth.raions: 6}}
parameters:
  loss_strategy: {{type: categorical, choices: [{choices}]}}
"""
CHOICES = "uniform, kendall, softplus_kendall"


def _started(tmp_path: Path, space: Path) -> Path:
    """A run of ``space`` interrupted before Tune saved it, its files as run_search wrote
    them (raysearch.search.run_metadata: the space's settings, fixed values and parameters)."""
    options = RunOptions(space=str(space), results=str(tmp_path / "results"), name="r")
    plan = resolve_search(options, CLUSTER)
    run_dir = Path(plan.run_dir)
    run_dir.mkdir(parents=True)
    (run_dir / OPTIONS).write_text(json.dumps(recorded_options(options).to_json()))
    (run_dir / METADATA).write_text(json.dumps(run_metadata(options, plan, "fingerprint")))
    (run_dir / SUMMARY_JSON).write_text(json.dumps({"state": "interrupted"}))
    return run_dir


def test_a_resume_of_a_run_whose_space_changed_is_refused_naming_each_change(
    tmp_path: Path,
) -> None:
    """--resume re-reads the space file; one edited after the run stopped (max_epochs 4 to
    6) was resumed without a word: a trial 'completed' at 4 epochs, the others at 6, the
    summary 'finished'. The plan compares the space with what metadata.json recorded when
    the run started and refuses, naming each change and what the run had, before Ray."""
    space = tmp_path / "s.yaml"
    space.write_text(SPACE.format(epochs=4, stride=3, choices=CHOICES))
    run_dir = _started(tmp_path, space)
    assert resolve_search(load_run_options(run_dir), CLUSTER).space.settings.max_epochs == 4
    space.write_text(SPACE.format(epochs=6, stride=4, choices=f"{CHOICES}, a3dro"))
    with pytest.raises(ConfigError) as err:
        resolve_search(load_run_options(run_dir), CLUSTER)
    flag, now = f"resume={str(run_dir)!r}", f"({METADATA}); the space ({space}) now gives"
    choices = json.dumps(["uniform", "kendall", "softplus_kendall"])
    assert err.value.problems == [
        f"{flag}: settings grace_period: the run started with 4 {now} 6",
        f"{flag}: settings max_epochs: the run started with 4 {now} 6",
        f"{flag}: fixed anchor_stride: the run started with 3 {now} 4",
        f"{flag}: parameters loss_strategy choices: the run started with {choices} {now} "
        + json.dumps(["uniform", "kendall", "softplus_kendall", "a3dro"]),
        f"{flag}: a resume goes on with the search its trials so far ran; put the space back "
        "as the run started, or start a new search with it (another name=)",
    ]
    # a fixed value added or dropped is a change; what an older run did not record is not
    space.write_text(SPACE.format(epochs=4, stride=3, choices=CHOICES).replace(
        "anchor_stride: 3,", "anchor_stride: 3, dropout: 0.2,"
    ))  # fmt: skip
    with pytest.raises(ConfigError, match="fixed dropout: the run started with none"):
        resolve_search(load_run_options(run_dir), CLUSTER)
    metadata = json.loads((run_dir / METADATA).read_text())
    del metadata["fixed"], metadata["parameters"]
    (run_dir / METADATA).write_text(json.dumps(metadata))
    resolve_search(load_run_options(run_dir), CLUSTER)


def test_the_session_space_and_resources_problems_are_one_error(tmp_path: Path) -> None:
    """A results root that is a file was reported alone: the space was loaded after it."""
    (tmp_path / "afile").write_text("")
    options = RunOptions(space="nosuch", results=str(tmp_path / "afile"))
    with pytest.raises(ConfigError) as err:
        resolve_search(options, {"CPU": 0.0})
    assert [p.split(" ")[0] for p in err.value.problems] == ["results:", "space:", "the"]
    assert "afile is a file" in err.value.problems[0]
    assert "unknown space 'nosuch'" in err.value.problems[1]
    assert "has 0 CPUs" in err.value.problems[2]
    # a space file's problems keep the file's name beside the others
    (tmp_path / "bad.yaml").write_text("settings: {num_samples: 0}\n")
    options = RunOptions(space=str(tmp_path / "bad.yaml"), results=str(tmp_path / "afile"))
    with pytest.raises(ConfigError) as err:
        resolve_search(options, CLUSTER)
    assert len(err.value.problems) >= 2 and "afile is a file" in err.value.problems[0]
    assert all(str(tmp_path / "bad.yaml") in p for p in err.value.problems[1:])
    # one check's problems are its error as it was
    with pytest.raises(ConfigError) as err:
        resolve_search(RunOptions(space="nosuch", results=str(tmp_path)), CLUSTER)
    assert err.value.context == "run_search arguments" and len(err.value.problems) == 1


def test_a_space_file_draws_and_a_run_name_taken_are_one_error(tmp_path: Path) -> None:
    name = "taken"
    run_dir = tmp_path / "smoke" / name
    run_dir.mkdir(parents=True)
    (run_dir / OPTUNA_STUDY).write_text("")
    options = RunOptions(space="smoke", results=str(tmp_path), name=name, workers_per_trial=3)
    with pytest.raises(ConfigError) as err:
        resolve_search(options, {"CPU": 6.0})
    assert [p.split(" ")[0] for p in err.value.problems] == [
        "workers_per_trial=3:",
        "name='taken':",
    ]


@pytest.mark.parametrize(
    ("case", "name", "message"),
    [
        ("run dir is a file", "taken", r"name='taken': .*smoke/taken is a file; choose another"),
        ("name too long", "n" * 300, r"name='n{40}\.\.\.': the name 'n{40}\.\.\.' is 300 bytes"),
        ("space dir is a file", "r", r"results: .*smoke is a file, where the runs of space 'sm"),
        ("results under a file", "r", r"results: .*afile is a file, so .*afile/r cannot be"),
    ],
)
def test_a_run_directory_that_cannot_be_made_is_refused_before_ray_leaving_nothing(
    tmp_path: Path, case: str, name: str, message: str
) -> None:
    """Each was found after Ray started, writing the run's options: "[Errno 17] File exists"
    or "[Errno 36] File name too long", then "free space and run the command again"."""
    results = tmp_path / "results"
    if case == "name too long":  # beside a directory that exists
        (results / "smoke").mkdir(parents=True)
    elif case == "run dir is a file":
        (results / "smoke").mkdir(parents=True)
        (results / "smoke" / "taken").write_text("x")
    elif case == "space dir is a file":
        results.mkdir()
        (results / "smoke").write_text("x")
    elif case == "results under a file":
        (tmp_path / "afile").write_text("x")
        results = tmp_path / "afile" / "r"
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(ConfigError) as err:
        resolve_search(RunOptions(space="smoke", results=str(results), name=name), CLUSTER)
    (problem,) = err.value.problems
    assert re.match(message, problem), problem
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("a file", r"storage: .*/f is a file; give a directory"),
        ("under a file", r"storage: .*/f is a file, so .*/f/sub cannot be made; give a direc"),
        ("a file:// URI of a file", r"storage: .*/f is a file; give a directory"),
        ("a file in the space's place", r"storage: .*/st/smoke is a file, where the runs of "),
    ],
)
def test_a_local_storage_that_cannot_be_a_directory_is_refused_before_ray_leaving_nothing(
    tmp_path: Path, case: str, message: str
) -> None:
    """--storage /etc/hostname failed after Ray started (pyarrow's NotADirectoryError) and
    left options.json, metadata.json and optuna.journal, so the same --name was then refused."""
    (tmp_path / "f").write_text("x")
    (tmp_path / "st").mkdir()
    (tmp_path / "st" / "smoke").write_text("x")
    storage = {
        "a file": str(tmp_path / "f"),
        "under a file": str(tmp_path / "f" / "sub"),
        "a file:// URI of a file": f"file://{tmp_path / 'f'}",
        "a file in the space's place": str(tmp_path / "st"),
    }[case]
    before = sorted(tmp_path.rglob("*"))
    options = RunOptions(space="smoke", results=str(tmp_path / "r"), storage=storage)
    with pytest.raises(ConfigError) as err:
        resolve_search(options, CLUSTER)
    (problem,) = err.value.problems
    assert re.match(message, problem), problem
    assert sorted(tmp_path.rglob("*")) == before
    # a directory that is there, or can be made, is taken
    for fine in (tmp_path / "st2", tmp_path / "new" / "deeper"):
        resolve_search(dataclasses.replace(options, storage=str(fine)), CLUSTER)


_SMOKE = Path("raysearch/search/spaces/smoke.yaml")
_GPU_CLUSTER = [Node(0.0)] + [Node(4.0, 1.0)] * 4  # cluster.yaml's head and four g5.xlarge


def _with_device(tmp_path: Path, device: str) -> RunOptions:
    """The smoke space with ``device`` fixed, as a space copied from a laptop run has it."""
    space = tmp_path / f"{device}.yaml"
    space.write_text(_SMOKE.read_text().replace("fixed:\n", f"fixed:\n  device: {device}\n"))
    return RunOptions(space=str(space), results=str(tmp_path), name=device)


def test_a_space_that_fixes_the_cpu_holds_no_gpu_of_the_cluster(tmp_path: Path) -> None:
    """Found by review: every trial held a GPU and trained on the CPU, silently."""
    plan = resolve_search(_with_device(tmp_path, "cpu"), _GPU_CLUSTER)
    assert plan.setup.resources.trial_resources == {"cpu": 1.0, "gpu": 0.0}
    assert trial_config(plan.setup, {"loss_strategy": "uniform"}).trainer.device == "cpu"
    auto = resolve_search(_with_device(tmp_path, "auto"), _GPU_CLUSTER)
    assert auto.setup.resources.trial_resources == {"cpu": 4.0, "gpu": 1.0}


def test_a_space_that_fixes_cuda_is_refused_on_a_cluster_without_gpus(tmp_path: Path) -> None:
    options = _with_device(tmp_path, "cuda")
    with pytest.raises(ConfigError, match=r"trainer\.device 'cuda'.*the Ray cluster has no GPUs"):
        resolve_search(options, CLUSTER)
    # before Ray starts the cluster is not known: planned with a GPU a worker, not refused
    assert resolve_search(options).setup.resources.gpus_per_worker == 1.0
    assert resolve_search(options, _GPU_CLUSTER).setup.resources.gpus_per_worker == 1.0


def test_a_space_that_searches_the_device_is_refused_naming_the_parameter(
    tmp_path: Path,
) -> None:
    space = tmp_path / "space.yaml"
    space.write_text(
        _SMOKE.read_text()
        .split("start:")[0]
        .replace("parameters:\n", "parameters:\n  device:\n    type: categorical\n"
                 "    choices: [cpu, cuda]\n")
    )  # fmt: skip
    with pytest.raises(ConfigError) as err:
        resolve_search(RunOptions(space=str(space), results=str(tmp_path)), _GPU_CLUSTER)
    assert str(space) in str(err.value)
    assert "parameters.device: the device cannot be searched" in str(err.value)


@pytest.mark.parametrize("space", ["full", "model_size"])
def test_smoke_leaves_a_searched_size_searched_and_each_trial_records_the_size_it_trained(
    tmp_path: Path, space: str
) -> None:
    """--space full --smoke fixed model.size: tiny beside the searched size, which won: a
    trial that trained the base model recorded both size: base and model.size: tiny (and
    raion_pca_components 6 beside data.raion_pca_components: 2). Found by a walkthrough."""
    plan = resolve_search(RunOptions(space=space, smoke=True, results=str(tmp_path)), CLUSTER)
    assert {"size", "raion_pca_components"} <= set(plan.space.parameters)
    fixed = plan.space.fixed
    assert "model.size" not in fixed and "data.raion_pca_components" not in fixed
    assert fixed["data.daily_window"] == 60 and fixed["data.synth.days"] == 420  # not searched
    cfg = trial_config(plan.setup, {"size": "small", "raion_pca_components": 6, "dropout": 0.1})
    assert (cfg.model.size, cfg.data.raion_pca_components) == ("small", 6)


def test_smoke_on_a_real_dataset_sets_no_synthetic_sizes(tmp_path: Path) -> None:
    """The synthetic dataset's sizes meant nothing on real data, yet the run recorded them."""
    data = tmp_path / "data"
    data.mkdir()
    plan = resolve_search(
        RunOptions(space="smoke", smoke=True, data=str(data), results=str(tmp_path)), CLUSTER
    )
    assert not [k for k in plan.space.fixed if k.startswith("data.synth.")]
    assert plan.space.fixed["model.size"] == "tiny"


def test_a_new_run_refuses_a_directory_of_files_that_are_not_a_runs(tmp_path: Path) -> None:
    """--name junk where results/smoke/junk held a user's notes.txt: the run's files landed
    beside it (data synth and compare --out refuse such a directory). Found by a walkthrough.
    An empty directory, or one holding a run's own files, is left to the other checks."""
    junk = tmp_path / "smoke" / "junk"
    junk.mkdir(parents=True)
    options = RunOptions(space="smoke", results=str(tmp_path), name="junk", argv=("r",))
    resolve_search(options, CLUSTER)  # empty: a run's directory to be
    (junk / "notes.txt").write_text("mine")
    with pytest.raises(ConfigError) as err:
        resolve_search(options, CLUSTER)
    assert err.value.problems == [
        f"--name junk: {junk} holds files that are not a run's (notes.txt), which the run's "
        "files would land beside; choose another --name"
    ]
    (junk / OPTIONS).write_text("{}")  # a run's: not refused for the notes
    resolve_search(options, CLUSTER)


def test_fewer_trials_than_the_spaces_finalists_names_the_flag_and_the_way_out(
    tmp_path: Path,
) -> None:
    """--space loss_ablation --num-samples 1 said 'finalists (2) cannot exceed num_samples
    (1)', naming neither the flag nor where the 2 came from. Found by a review helper."""
    options = RunOptions(space="loss_ablation", num_samples=1, results=str(tmp_path), argv=("r",))
    with pytest.raises(ConfigError) as err:
        resolve_search(options, CLUSTER)
    assert err.value.problems == [
        "--num-samples 1: fewer trials than the space's 2 finalists; give --finalists N with N "
        "at most 1 (0: none)"
    ]
    fine = dataclasses.replace(options, finalists=0)
    assert resolve_search(fine, CLUSTER).space.settings.finalists == 0
    # said with the flags' other problems, not before them (found by a review helper)
    with pytest.raises(ConfigError) as err:
        resolve_search(dataclasses.replace(options, max_epochs=2), CLUSTER)
    assert err.value.problems[0].startswith("--num-samples 1: fewer trials than")
    assert err.value.problems[1].startswith("grace_period (4) must be at most max_epochs (2)")


@pytest.mark.parametrize(
    ("given", "said"),
    [
        ({"smoke": True}, "(--smoke runs 4; give --num-samples N for more)"),
        ({"num_samples": 3}, "(--num-samples 3)"),
    ],
)
def test_more_finalists_than_trials_says_where_the_trials_came_from(
    tmp_path: Path, given: dict, said: str
) -> None:
    """It said 'finalists (5) cannot exceed num_samples (4)', though no num_samples was
    given: --smoke had set it. Found by a walkthrough."""
    options = RunOptions(space="smoke", finalists=5, results=str(tmp_path), argv=("run",), **given)
    with pytest.raises(ConfigError) as err:
        resolve_search(options, CLUSTER)
    assert err.value.problems == [f"--finalists 5: more finalists than the search's trials {said}"]


def test_a_fixed_warm_up_is_checked_against_the_max_epochs_the_search_runs(
    tmp_path: Path,
) -> None:
    """A space of 10 epochs fixing a warm-up of 15, searched with max_epochs=50: every
    trial trains 50 epochs, and the space was refused for its file's 10 (found by a review
    helper)."""
    space = tmp_path / "space.yaml"
    space.write_text(
        "settings: {num_samples: 4, max_epochs: 10}\nfixed: {warmup_epochs: 15}\n"
        "parameters:\n  lr: {type: float, low: 0.0001, high: 0.001}\n"
    )
    plan = resolve_search(
        RunOptions(space=str(space), results=str(tmp_path), max_epochs=50), CLUSTER
    )
    assert plan.space.settings.max_epochs == 50 and plan.space.fixed["warmup_epochs"] == 15
    with pytest.raises(ConfigError, match=r"must be < max_epochs \(10\), got 15"):
        resolve_search(RunOptions(space=str(space), results=str(tmp_path)), CLUSTER)


def test_a_start_points_batch_is_held_to_the_workers_and_a_range_by_what_it_draws(
    tmp_path: Path,
) -> None:
    """Found by a review of the batch checks: a start point off its range's step (Optuna
    takes it as it is) was no longer held to the workers, and a range's high off the step
    (Optuna lowers it to the grid: 70 in steps of 8 from 16 draws at most 64) was held to
    the training samples."""
    from raysearch.search.plan import check_data_extremes

    space = tmp_path / "space.yaml"
    ranged = "settings: {num_samples: 2, max_epochs: 2}\nparameters:\n"
    ranged += "  batch_size: {type: int, low: 16, high: 70, step: 8}\n"
    space.write_text(ranged + "start:\n  - {batch_size: 20}\n")
    options = RunOptions(space=str(space), results=str(tmp_path), workers_per_trial=8)
    with pytest.raises(ConfigError) as err:
        resolve_search(options, {"CPU": 8})
    assert [p.split("a batch, and ")[-1] for p in err.value.problems] == [
        "batch_size 20 (start[0]: 20) is not divisible by 8"
    ]
    space.write_text(ranged)
    plan = resolve_search(RunOptions(space=str(space), results=str(tmp_path)), CLUSTER)
    check_data_extremes(plan, lambda cfg, cache_dir: None, train_samples=64)
    with pytest.raises(ConfigError, match=r"batch_size 64 \(search space parameter"):
        check_data_extremes(plan, lambda cfg, cache_dir: None, train_samples=63)
