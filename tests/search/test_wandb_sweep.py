from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import raysearch
from raysearch.core.errors import ConfigError
from raysearch.core.params import build_trial_config
from raysearch.core.trial_config import TrialConfig
from raysearch.search.space import (
    SPACES_DIR,
    ParamSpec,
    SearchSettings,
    SearchSpace,
    available_spaces,
    load_space,
)
from raysearch.search.wandb_sweep import (
    SPACE_KEY,
    read_args_file,
    run_from_wandb_config,
    sweep_config,
    sweep_yaml,
    trial_values,
)

# The installed wandb does not ship the sweep config JSON schema (it lives in the optional
# `sweeps` package), so this is the documented structure of a sweep config, written here:
# top-level keys, metric, hyperband early termination and the parameter forms used.
_NUMBER = {"type": "number"}
_PARAM_FORMS = [
    {"required": ["value"], "properties": {"value": {}}},
    {"required": ["values"], "properties": {"values": {"type": "array", "minItems": 1}}},
    {
        "required": ["distribution", "min", "max"],
        "properties": {
            "distribution": {"enum": ["uniform", "log_uniform_values"]},
            "min": _NUMBER,
            "max": _NUMBER,
        },
    },
    {
        "required": ["distribution", "min", "max"],
        "properties": {
            "distribution": {"const": "int_uniform"},
            "min": {"type": "integer"},
            "max": {"type": "integer"},
        },
    },
    {
        "required": ["distribution", "min", "max", "q"],
        "properties": {
            "distribution": {"enum": ["q_uniform", "q_log_uniform_values"]},
            "min": _NUMBER,
            "max": _NUMBER,
            "q": {"type": "number", "exclusiveMinimum": 0},
        },
    },
]
SWEEP_SCHEMA = {
    "type": "object",
    "required": ["method", "metric", "parameters", "early_terminate"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "project": {"type": "string"},
        "program": {"type": "string"},
        "command": {"type": "array", "items": {"type": "string"}},
        "run_cap": {"type": "integer", "exclusiveMinimum": 0},
        "method": {"enum": ["bayes", "random", "grid"]},
        "metric": {
            "type": "object",
            "required": ["name", "goal"],
            "additionalProperties": False,
            "properties": {"name": {"type": "string"}, "goal": {"enum": ["minimize", "maximize"]}},
        },
        "early_terminate": {
            "type": "object",
            "required": ["type", "min_iter"],
            "additionalProperties": False,
            "properties": {
                "type": {"const": "hyperband"},
                "min_iter": {"type": "integer", "minimum": 1},
                "eta": {"type": "number", "exclusiveMinimum": 1},
            },
        },
        "parameters": {
            "type": "object",
            "minProperties": 1,
            "propertyNames": {"pattern": "^[A-Za-z_][A-Za-z0-9_.-]*$"},
            "additionalProperties": {
                "oneOf": [
                    {"type": "object", "additionalProperties": False, **form}
                    for form in _PARAM_FORMS
                ]
            },
        },
    },
}


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


def test_every_shipped_space_exports_a_valid_sweep():
    names = available_spaces()
    assert len(names) == len(list(SPACES_DIR.rglob("*.yaml"))) >= 2
    for name in names:
        space = load_space(name)
        config = sweep_config(space)
        jsonschema.validate(config, SWEEP_SCHEMA)
        assert config["early_terminate"]["min_iter"] == space.settings.grace_period
        assert config["early_terminate"]["eta"] == space.settings.reduction_factor
        assert config["parameters"][SPACE_KEY] == {"value": name}
        assert set(space.parameters) | set(space.fixed) < set(config["parameters"])


def test_parameter_forms_follow_the_space():
    config = sweep_config(SPACE)
    jsonschema.validate(config, SWEEP_SCHEMA)
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
    jsonschema.validate(config, SWEEP_SCHEMA)
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
    jsonschema.validate(config, SWEEP_SCHEMA)
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


def test_run_from_wandb_config_needs_the_space():
    with pytest.raises(ConfigError, match=SPACE_KEY):
        run_from_wandb_config({"loss_strategy": "uniform"}, log=print)
