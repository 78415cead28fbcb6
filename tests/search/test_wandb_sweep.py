from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import sweeps
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import raysearch
from raysearch.core.errors import ConfigError
from raysearch.core.metrics import VAL_METRIC
from raysearch.core.params import build_trial_config
from raysearch.core.trial_config import TrialConfig
from raysearch.search.settings import SearchSettings
from raysearch.search.space import SPACES_DIR, ParamSpec, SearchSpace, available_spaces, load_space
from raysearch.search.wandb_sweep import (
    SPACE_KEY,
    read_args_file,
    run_from_wandb_config,
    sweep_config,
    sweep_yaml,
    trial_values,
)


# The exported config is checked by W&B's own sweep engine, the `sweeps` package (MIT),
# offline: its JSON schema (sweeps.SweepConfig), its bayes search (sweeps.next_run) and its
# hyperband early termination (sweeps.stop_runs). What it does not cover: the package dates
# from 2022 and lags the W&B service. It rejects `run_cap` (the service documents it: the
# sweep's run count), so `run_cap` is set aside before the check and only its value is
# tested here; and it cannot say how the service's agent fills `command` (the agent's
# ${args_json_file} is checked with wandb's own helpers below).
def wandb_checked(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` (without run_cap) validated by W&B's sweep engine, defaults filled in."""
    return dict(sweeps.SweepConfig({k: v for k, v in config.items() if k != "run_cap"}))


def _flat(run: Any) -> dict[str, Any]:
    """A sweep run's config as the agent passes it: {name: value}."""
    return {name: item["value"] for name, item in run.config.items()}


def _proposals(config: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """``n`` runs proposed by W&B's bayes search, each finished (with a made-up metric
    history) before the next is asked for, so the later ones come from its model."""
    runs: list[Any] = []
    for i in range(n):
        run = sweeps.next_run(wandb_checked(config), runs, validate=True)
        run.name, run.state = f"run-{i}", sweeps.RunState.finished
        run.history = [{VAL_METRIC: 0.5 - 0.1 * i - 0.01 * step} for step in range(3)]
        runs.append(run)
    return [_flat(run) for run in runs]


# W&B's bayes search fits a Gaussian process to a handful of made-up runs
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def _space(**parameters: ParamSpec) -> SearchSpace:
    return SearchSpace(
        name="t",
        path="t.yaml",
        settings=SearchSettings(num_samples=7, max_epochs=9, grace_period=2, reduction_factor=3),
        parameters=parameters,
        fixed={"dropout": 0.2, "size": "tiny"},
    )


SPACE = _space(
    strategy=ParamSpec(type="categorical", choices=["uniform", "a3dro"]),
    beta=ParamSpec(type="float", low=0.0, high=0.9, when={"strategy": "a3dro"}),
    lr=ParamSpec(type="float", low=1e-4, high=1e-2, log=True),
    layers=ParamSpec(type="int", low=1, high=4),
    width=ParamSpec(type="int", low=32, high=128, step=32),
    heads=ParamSpec(type="int", low=1, high=16, log=True),
    drop=ParamSpec(type="float", low=0.0, high=0.5, step=0.1),
)
SMALL = _space(
    strategy=SPACE.parameters["strategy"],
    beta=SPACE.parameters["beta"],
    layers=SPACE.parameters["layers"],
)


def test_every_shipped_space_exports_a_sweep_wandbs_engine_accepts_and_samples():
    names = available_spaces()
    assert len(names) == len(list(SPACES_DIR.rglob("*.yaml"))) >= 2
    for name in names:
        space = load_space(name)
        config = sweep_config(space, data="DATA" if space.requires_data else None)
        checked = wandb_checked(config)
        assert checked["early_terminate"]["min_iter"] == space.settings.grace_period
        assert checked["early_terminate"]["eta"] == space.settings.reduction_factor
        assert config["parameters"][SPACE_KEY] == {"value": name}
        assert set(space.parameters) | set(space.fixed) < set(config["parameters"])
        assert config["run_cap"] == space.settings.num_samples  # not checked by the engine
        # what W&B's bayes search proposes builds a valid trial of the space
        for proposed in _proposals(config, 4):
            values = trial_values(proposed, space)
            cfg = build_trial_config({**space.fixed, **values})
            assert {k for k in values if k in space.parameters} <= set(space.parameters)
            assert cfg.trainer.max_epochs == space.settings.max_epochs


def test_the_engine_still_rejects_run_cap():
    """Documents the package's lag: when a release accepts run_cap, drop the set-aside."""
    with pytest.raises(jsonschema.ValidationError, match="run_cap"):
        sweeps.SweepConfig(sweep_config(load_space("smoke")))


def test_wandbs_hyperband_stops_a_bad_run_one_epoch_after_ashas_first_rung():
    """W&B's hyperband (min_iter = grace_period = 1, eta = 2) compares runs at band b on
    the (b+1)-th logged value (its history is indexed from 0): ASHA's first rung is epoch 1,
    W&B's first check is epoch 2. Seen through sweeps.stop_runs on made-up curves."""
    config = wandb_checked(sweep_config(load_space("smoke"), smoke=True))
    assert config["early_terminate"] == {"type": "hyperband", "min_iter": 1, "eta": 2.0}

    def runs(epochs: int) -> list[Any]:
        curves = {"good": [0.1, 0.0, -0.1], "fair": [0.2, 0.1, 0.0], "bad": [0.9, 0.8, 0.7]}
        # sweeps 0.2.0 under pydantic 2 takes a run's history by its alias only
        return [
            sweeps.SweepRun(name=name, state=sweeps.RunState.running,
                            sampledHistory=[{VAL_METRIC: v} for v in curve[:epochs]])
            for name, curve in curves.items()
        ]  # fmt: skip

    assert sweeps.stop_runs(config, runs(1)) == []  # ASHA would cut "bad" here
    assert [run.name for run in sweeps.stop_runs(config, runs(2))] == ["bad"]


def test_parameter_forms_follow_the_space():
    config = sweep_config(SPACE)
    wandb_checked(config)
    params = config["parameters"]
    assert config["method"] == "bayes"
    assert config["metric"] == {"name": "anchored_val_loss", "goal": "minimize"}
    assert config["run_cap"] == 7
    assert config["early_terminate"] == {"type": "hyperband", "min_iter": 2, "eta": 3.0}
    assert params["strategy"] == {"values": ["uniform", "a3dro"]}
    assert params["beta"] == {"distribution": "uniform", "min": 0.0, "max": 0.9}
    assert params["lr"] == {"distribution": "log_uniform_values", "min": 1e-4, "max": 1e-2}
    assert params["layers"] == {"distribution": "int_uniform", "min": 1, "max": 4}
    assert params["width"] == {"distribution": "q_uniform", "min": 32, "max": 128, "q": 32}
    assert params["heads"]["distribution"] == "q_log_uniform_values"
    assert params["drop"]["q"] == 0.1
    assert config["name"] == "raysearch-t"
    assert params["dropout"] == {"value": 0.2} and params["trainer.max_epochs"] == {"value": 9}
    assert "--from-wandb" in config["command"]
    assert (Path(raysearch.__file__).parents[1] / config["program"]).is_file()


def test_a_step_grid_not_aligned_to_zero_is_listed():
    config = sweep_config(
        _space(
            k=ParamSpec(type="int", low=1, high=10, step=3),
            f=ParamSpec(type="float", low=0.05, high=0.35, step=0.1),
        )
    )
    wandb_checked(config)
    assert config["parameters"]["k"] == {"values": [1, 4, 7, 10]}
    assert config["parameters"]["f"]["values"] == pytest.approx([0.05, 0.15, 0.25, 0.35])


def test_yaml_round_trips_and_comments_only_conditional_parameters():
    text = sweep_yaml(SPACE, project="p")
    assert yaml.safe_load(text) == sweep_config(SPACE, project="p")
    lines = text.splitlines()
    commented = [lines[i + 1].strip() for i, line in enumerate(lines) if "# conditional" in line]
    assert commented == ["beta:"]
    assert "strategy == a3dro" in text


def test_trial_values_drop_inactive_conditionals_and_restore_ints():
    run = {"_wandb": {}, SPACE_KEY: "t", "strategy": "uniform", "beta": 0.4, "layers": 3.0}
    values = trial_values(run, SMALL)
    assert values == {"strategy": "uniform", "layers": 3}
    assert isinstance(values["layers"], int)
    assert trial_values({**run, "strategy": "a3dro"}, SMALL)["beta"] == 0.4


def test_trial_values_report_every_problem():
    with pytest.raises(ConfigError) as err:
        trial_values({"strategy": "a3dro", "layers": 2.5}, SMALL)
    assert len(err.value.problems) == 2
    assert "beta" in str(err.value) and "2.5" in str(err.value)


@settings(max_examples=30, deadline=None)
@given(st.sampled_from(["uniform", "a3dro"]), st.floats(0.0, 0.9), st.integers(1, 4))
def test_a_conditional_is_kept_exactly_when_its_condition_holds(strategy, beta, layers):
    values = trial_values({"strategy": strategy, "beta": beta, "layers": float(layers)}, SMALL)
    assert ("beta" in values) == (strategy == "a3dro")
    assert values["layers"] == layers and type(values["layers"]) is int


def test_smoke_export_fixes_what_raysearch_run_smoke_uses():
    space = load_space("loss_ablation")
    config = sweep_config(space, smoke=True)
    wandb_checked(config)
    params = config["parameters"]
    assert params["model.size"] == {"value": "tiny"} and "size" not in params
    assert params["data.synth.days"] == {"value": 420}
    assert params["trainer.max_epochs"] == {"value": 3} and config["run_cap"] == 4
    assert "data.daily_window" in params and "daily_window" not in params
    assert params["dropout"] == {"value": 0.1}  # untouched fixed values stay
    # every fixed value builds a valid trial config
    values = {k: p["value"] for k, p in params.items() if "value" in p and k != SPACE_KEY}
    cfg = build_trial_config({**values, "loss_strategy": "a3dro", "budget_beta": 0.1})
    assert cfg.model.size == "tiny" and cfg.data.synth.raions == 6
    # a space made for a real dataset: its dataset for every run, and no synthetic sizes
    real = sweep_config(load_space("war_losses"), smoke=True, data="DATA")["parameters"]
    assert "size" in real and "model.size" not in real  # it searches the size: still searched
    assert not [k for k in real if k.startswith("data.synth.")]
    assert real["data.path"] == {"value": str(Path("DATA").resolve())}


def test_a_space_made_for_a_real_dataset_is_never_swept_on_the_synthetic_default() -> None:
    """war_losses' sweep config had no data.path, so every W&B run of it trained on the
    synthetic default, which the space promises never to do. Found by a review helper."""
    space = load_space("war_losses")
    with pytest.raises(ConfigError, match="give it with --data DATASET_DIR"):
        sweep_config(space)
    run = {SPACE_KEY: "war_losses", "loss_strategy": "uniform", "dropout": 0.1, "size": "tiny"}
    with pytest.raises(ConfigError, match=r"the sweep config sets no data\.path; export it"):
        run_from_wandb_config(run, log=print, fit=pytest.fail, prepare=pytest.fail)


@pytest.mark.slow  # importing wandb's launch helpers takes several seconds
def test_the_agents_args_file_gives_back_the_flat_config(tmp_path):
    """What `wandb agent` does for ${args_json_file}, with wandb's own helpers."""
    from wandb.sdk.launch.sweeps.utils import create_sweep_command, create_sweep_command_args

    exported = sweep_config(load_space("loss_ablation"))
    run = {
        name: p.get("value", p.get("values", [p.get("min")])[0])
        for name, p in exported["parameters"].items()
    }
    args = create_sweep_command_args({"args": {k: {"value": v} for k, v in run.items()}})
    path = tmp_path / "config.json"
    path.write_text(args["args_json"][0])
    assert "${args_json_file}" in create_sweep_command(list(exported["command"]))
    assert read_args_file(path) == run
    values = trial_values(read_args_file(path), load_space("loss_ablation"))
    assert values["loss_strategy"] == "uniform" and "budget_beta" not in values


def test_args_file_problems_name_the_file(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        read_args_file(tmp_path / "none.json")
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="JSON object"):
        read_args_file(tmp_path / "bad.json")


@dataclass
class _Epoch:
    metrics: dict[str, Any]
    checkpoint_dir: Any = None


@dataclass
class _Fit:
    best_epoch: int = 2
    best_metrics: dict[str, float] = field(default_factory=lambda: {"anchored_val_loss": -0.1})
    test_metrics: dict[str, float] = field(default_factory=lambda: {"anchored_loss": -0.05})
    stop_reason: str = "max_epochs"


def test_run_from_wandb_config_builds_the_trial_and_logs_each_epoch():
    seen: dict[str, Any] = {}
    logged: list[dict[str, Any]] = []

    def fake_prepare(data_cfg, cache_dir):
        seen["data"] = data_cfg
        return "DATA"

    def fake_fit(cfg, data, on_epoch, checkpoint_dir):
        seen["cfg"], seen["data_arg"] = cfg, data
        for epoch in (1, 2):
            on_epoch(_Epoch({"epoch": epoch, "anchored_val_loss": -0.1 * epoch, "tag": "x"}))
        return _Fit()

    config = {
        SPACE_KEY: "loss_ablation",
        "loss_strategy": "kendall",
        "budget_beta": 0.5,  # inactive: not a3dro
        "regret_clip": 2.0,
        "trainer.max_epochs": 2,
        "_wandb": {"cli_version": "x"},
    }
    outcome = run_from_wandb_config(config, log=logged.append, fit=fake_fit, prepare=fake_prepare)
    cfg = seen["cfg"]
    assert cfg.loss.strategy == "kendall"
    assert cfg.trainer.max_epochs == 2
    default = TrialConfig().loss.budget_beta
    assert cfg.loss.budget_beta == default != 0.5  # dropped: the default is kept
    assert seen["data"] == cfg.data and seen["data_arg"] == "DATA"
    assert [m["epoch"] for m in logged] == [1, 2] and "tag" not in logged[0]
    assert outcome["best_epoch"] == 2 and outcome["stop_reason"] == "max_epochs"


def test_a_space_file_is_named_by_its_absolute_path_so_an_agent_elsewhere_finds_it(
    tmp_path, monkeypatch
):
    """`spaces export spaces/mine.yaml` wrote the path as typed, so every run of an agent
    started in another directory failed with 'spaces/mine.yaml: file not found'."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "spaces").mkdir()
    (tmp_path / "spaces" / "mine.yaml").write_text(Path(load_space("smoke").path).read_text())
    exported = sweep_config(load_space("spaces/mine.yaml"))
    assert exported["parameters"][SPACE_KEY] == {"value": str(tmp_path / "spaces" / "mine.yaml")}
    assert sweep_config(load_space("smoke"))["parameters"][SPACE_KEY] == {"value": "smoke"}
    run = {
        name: p.get("value", p.get("values", [None])[0])
        for name, p in exported["parameters"].items()
    }
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    outcome = run_from_wandb_config(
        run, log=print, fit=lambda *a, **k: _Fit(), prepare=lambda *a: None
    )
    assert outcome["stop_reason"] == "max_epochs"


def test_run_from_wandb_config_needs_the_space():
    with pytest.raises(ConfigError, match=SPACE_KEY):
        run_from_wandb_config({"loss_strategy": "uniform"}, log=print)
    # an unknown one is named by its key in the sweep's config (it said --space)
    with pytest.raises(ConfigError) as err:
        run_from_wandb_config({SPACE_KEY: "nosuch"}, log=print)
    assert err.value.problems[0].startswith(f"{SPACE_KEY}: unknown space 'nosuch'; valid ")


def test_brackets_say_they_have_no_wandb_key() -> None:
    """W&B's hyperband has no brackets setting: the export says it left them out."""
    space = load_space("war_losses")
    assert "brackets" not in sweep_yaml(space, data="DATA")
    wide = space.with_settings(brackets=2, grace_period=1, max_epochs=16)
    said = "# brackets: 2 (ASHA's Hyperband brackets) has no key here"
    assert said in sweep_yaml(wide, data="DATA")
    assert "cutoff_window" not in sweep_yaml(space, data="DATA")
    windowed = space.with_settings(cutoff_window=27)
    said = "# cutoff_window: 27 (ASHA's cut-off from each rung's last"
    assert said in sweep_yaml(windowed, data="DATA")


@pytest.mark.parametrize(
    ("searcher", "scheduler", "method", "stops"),
    [("tpe", "asha", "bayes", True), ("random", "asha", "random", True),
     ("tpe", "fifo", "bayes", False), ("random", "fifo", "random", False),
     ("tpe", "gated_asha", "bayes", True)],
)  # fmt: skip
def test_the_export_follows_the_spaces_searcher_and_scheduler(
    searcher: str, scheduler: str, method: str, stops: bool
) -> None:
    space = SMALL.with_settings(searcher=searcher, scheduler=scheduler)
    config = wandb_checked(sweep_config(space))
    assert config["method"] == method
    assert ("early_terminate" in config) is stops
    text = sweep_yaml(space)
    assert ("# no early_terminate: the space's scheduler is fifo" in text) is (not stops)
    assert ("W&B's hyperband has no gate" in text) is (scheduler == "gated_asha")
    for proposed in _proposals(sweep_config(space), 2):  # the engine runs this method
        assert trial_values(proposed, space)["strategy"] in ("uniform", "a3dro")


@pytest.mark.parametrize("name", ["loss_ablation", "smoke"])
def test_a_sweep_given_as_a_space_is_said_to_be_one(tmp_path, name: str) -> None:
    """A sweep file given as a space got 38 problems ('parameters.raysearch_space.type:
    Field required', ...), none saying what the file is (a walkthrough helper)."""
    path = tmp_path / "sweep.yaml"
    path.write_text(sweep_yaml(load_space(name)))
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    assert err.value.problems == [
        f"{path}: a W&B sweep (raysearch spaces export --format wandb), not a search space; "
        f"give the space it was exported from (raysearch_space: {name!r})"
    ]
