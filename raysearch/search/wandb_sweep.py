"""The same search space as a W&B sweep, and a W&B sweep run's config back to a trial.

``sweep_config(space)`` maps a raysearch space to W&B's sweep format: the space's searcher
as W&B's method (TPE as ``bayes``, random as ``random``), metric ``anchored_val_loss``
minimised, its ASHA as hyperband early termination with ASHA's grace period and reduction
factor (none for ``scheduler: fifo``), and a command that makes ``wandb agent`` run
raysearch's trainer. W&B sweeps have no conditional parameters: a parameter with ``when`` is always
sampled, the YAML (``sweep_yaml``) says under which condition it is used, and
``run_from_wandb_config`` drops it from the trial when the condition is false.

W&B's hyperband counts the steps at which the run logged the metric, so the trainer must
log ``anchored_val_loss`` once per epoch (``run_from_wandb_config`` does). Its engine (the
``sweeps`` package, which tests/search/test_wandb_sweep.py runs on the exported config)
compares runs at band b on their (b+1)-th value: with ``min_iter`` = ASHA's grace period its
first check comes one epoch after ASHA's first rung. A run's summary of the metric is its
minimum (``define_metric``), which is what Bayes reads, as Optuna reads each trial's best.
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from raysearch.core.errors import ConfigError
from raysearch.core.metrics import TIME_ATTR, VAL_METRIC
from raysearch.core.params import build_trial_config
from raysearch.core.trial_config import TrialConfig
from raysearch.search.names import Names
from raysearch.search.space import SPACES_DIR, ParamSpec, SearchSpace, load_space
from raysearch.search.space_file import SPACE_KEY  # constant sweep parameter: its space
from raysearch.search.tracking import define_best_summary, flat_config

if TYPE_CHECKING:
    from wandb import Run

    from raysearch.data.prepared import PreparedData
    from raysearch.train.loop import EpochResult, FitResult

__all__ = [
    "COMMAND",
    "PROGRAM",
    "SPACE_KEY",
    "WANDB_METHOD",
    "read_args_file",
    "run_from_wandb_config",
    "sweep_config",
    "sweep_yaml",
    "trial_values",
]

WANDB_METHOD = {"tpe": "bayes", "random": "random"}  # W&B has no TPE: its GP is the model
_SWEEP_NAMES = Names(cli=True, given_as=(("space", SPACE_KEY),))  # a bad space names the key
PROGRAM = "raysearch/cli/train.py"
COMMAND = [
    "${env}",
    "${interpreter}",
    "-m",
    "raysearch",
    "train",
    "--from-wandb",
    "${args_json_file}",
]


def _stepped(low: float, high: float, step: float, cast: type) -> dict[str, Any]:
    """W&B's q_uniform rounds to multiples of q (not of low + k q): when low is not a
    multiple of the step, list the grid's values instead."""
    if abs(low / step - round(low / step)) < 1e-9:
        return {"distribution": "q_uniform", "min": cast(low), "max": cast(high), "q": cast(step)}
    count = round((high - low) / step) + 1
    return {"values": [cast(round(low + k * step, 12)) for k in range(count)]}


def _parameter(p: ParamSpec) -> dict[str, Any]:
    if p.type == "categorical":
        return {"values": list(p.choices or [])}
    low, high = p.bounds()
    if p.type == "int":
        ilow, ihigh = int(low), int(high)
        if p.log:  # W&B has no integer log-uniform: quantise a log-uniform with q=1
            return {"distribution": "q_log_uniform_values", "min": ilow, "max": ihigh, "q": 1}
        if p.step and int(p.step) != 1:
            return _stepped(ilow, ihigh, int(p.step), int)
        return {"distribution": "int_uniform", "min": ilow, "max": ihigh}
    if p.log:
        return {"distribution": "log_uniform_values", "min": float(low), "max": float(high)}
    if p.step:
        return _stepped(float(low), float(high), float(p.step), float)
    return {"distribution": "uniform", "min": float(low), "max": float(high)}


def sweep_config(
    space: SearchSpace,
    *,
    project: str | None = None,
    smoke: bool = False,
    data: str | Path | None = None,
) -> dict[str, Any]:
    """The W&B sweep config (a plain dict) for ``space`` (``smoke``: as ``--smoke`` runs it;
    ``data``: the dataset directory every run trains on, which a space made for a real
    dataset needs: ConfigError without it)."""
    if space.requires_data and data is None:
        raise ConfigError(
            [
                f"space {space.name!r} is made for a real dataset (requires_data): its sweep "
                "runs need the dataset's directory; give it with --data DATASET_DIR"
            ],
            "W&B sweep export",
        )
    sweep_name = f"raysearch-{space.name}" + ("-smoke" if smoke else "")
    space = space.smoke(synthetic=data is None) if smoke else space
    settings = space.settings
    # absolute, as data.path: an agent runs from wherever it was started
    parameters: dict[str, Any] = {SPACE_KEY: {"value": _given(space, absolute=True)}}
    if data is not None:
        parameters["data.path"] = {"value": str(Path(data).resolve())}
    parameters["trainer.max_epochs"] = {"value": settings.max_epochs}
    for name, value in space.fixed.items():
        parameters[name] = {"value": value}
    for name, p in space.parameters.items():
        parameters[name] = _parameter(p)
    config: dict[str, Any] = {
        "name": sweep_name,
        "description": space.description or f"raysearch space {space.name}",
        "method": WANDB_METHOD[settings.searcher],
        "metric": {"name": VAL_METRIC, "goal": "minimize"},
        "run_cap": settings.num_samples,
    }
    if settings.scheduler != "fifo":
        config["early_terminate"] = {
            "type": "hyperband",
            "min_iter": settings.grace_period,
            "eta": settings.reduction_factor,
        }
    config |= {
        # the agent requires a program; the command runs it as a module (-m), from the repo root
        "program": PROGRAM,
        "command": list(COMMAND),
        "parameters": parameters,
    }
    if project:
        config["project"] = project
    return config


def _given(space: SearchSpace, *, absolute: bool = False) -> str:
    """How ``load_space`` finds ``space`` again: a shipped space by its name, any other by
    its file's path: as it was given, or (``absolute``) resolved, which finds it from any
    working directory."""
    path = Path(space.path).resolve()
    if path.is_relative_to(SPACES_DIR.resolve()):
        return space.name
    return str(path) if absolute else space.path


def _condition(p: ParamSpec) -> str:
    parts = []
    for name, expected in p.when.items():
        allowed = expected if isinstance(expected, list) else [expected]
        parts.append(f"{name} in {allowed}" if len(allowed) > 1 else f"{name} == {allowed[0]}")
    return " and ".join(parts)


def sweep_yaml(
    space: SearchSpace,
    *,
    project: str | None = None,
    smoke: bool = False,
    data: str | Path | None = None,
) -> str:
    """``sweep_config`` as YAML that opens with how to run it and marks conditional params."""
    config = sweep_config(space, project=project, smoke=smoke, data=data)
    text = yaml.safe_dump(config, sort_keys=False)
    settings = (space.smoke() if smoke else space).settings
    conditional = {name: _condition(p) for name, p in space.parameters.items() if p.when}
    lines: list[str] = []
    in_parameters = False
    for line in text.splitlines():
        if not line.startswith(" "):
            in_parameters = line == "parameters:"
        name = line.strip()[:-1] if line.endswith(":") else ""
        top = line.startswith("  ") and not line.startswith("   ")
        if in_parameters and top and name in conditional:
            lines.append(
                f"  # conditional: used only when {conditional[name]}. W&B sweeps have no "
                "conditions: always sampled, dropped by the trainer otherwise"
            )
        lines.append(line)
    header = [
        f"# W&B sweep for raysearch space {space.name!r} ({space.path})",
        # a command that works: a space file not shipped is named by its path
        f"# written by: raysearch spaces export {shlex.quote(_given(space))} --format wandb"
        + (" --smoke" if smoke else "")
        + (f" --project {shlex.quote(project)}" if project else "")
        + (f" --data {shlex.quote(str(data))}" if data is not None else ""),
        "# run: wandb sweep THIS_FILE  then  wandb agent ENTITY/PROJECT/SWEEP_ID",
        f"# method {WANDB_METHOD[settings.searcher]}: the space's searcher ({settings.searcher})"
        + (" as W&B's nearest, its Bayesian search" if settings.searcher == "tpe" else ""),
    ]
    if settings.scheduler == "fifo":
        header.append("# no early_terminate: the space's scheduler is fifo (no early stopping)")
    else:
        header += [
            f"# hyperband min_iter, eta = ASHA grace_period, reduction_factor ({TIME_ATTR}s); "
            "W&B's",
            "# engine checks a run at band b after b+1 logged epochs, one epoch after ASHA's rung",
        ]
    if settings.scheduler == "gated_asha":
        header.append(
            "# scheduler gated_asha: W&B's hyperband has no gate; it stops runs as ASHA would"
        )
    header += [
        "# run_cap = the space's num_samples (W&B's service takes it; the 2022 sweeps package",
        "# does not)",
    ]
    if settings.brackets > 1:
        header.append(
            f"# brackets: {settings.brackets} (ASHA's Hyperband brackets) has no key here: "
            "W&B's hyperband runs one schedule of bands"
        )
    if settings.cutoff_window is not None:
        header.append(
            f"# cutoff_window: {settings.cutoff_window} (ASHA's cut-off from each rung's last "
            "values) has no key here: W&B's hyperband has no window"
        )
    return "\n".join([*header, *lines]) + "\n"


def trial_values(config: Mapping[str, Any], space: SearchSpace) -> dict[str, Any]:
    """The flat values a trial gets from a W&B run config: W&B's own keys (``_wandb``)
    and ``SPACE_KEY`` removed, integers restored, inactive conditional params dropped."""
    values = {k: v for k, v in config.items() if not k.startswith("_") and k != SPACE_KEY}
    problems = []
    for name, p in space.parameters.items():
        if name not in values:
            if p.allowed_by(values):
                problems.append(f"{name}: missing from the W&B config (its condition holds)")
            continue
        if p.type == "int":
            value = values[name]
            if isinstance(value, float) and not value.is_integer():
                problems.append(f"{name}: expected an integer, got {value!r}")
            else:
                values[name] = int(value)
    for name, p in space.parameters.items():
        if name in values and not p.allowed_by(values):
            del values[name]
    if problems:
        raise ConfigError(problems, "W&B sweep run config")
    return values


def read_args_file(path: str | Path) -> dict[str, Any]:
    """The flat ``{name: value}`` JSON the agent writes for ``${args_json_file}``."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError([f"--from-wandb {path}: file not found"], "arguments")
    try:
        data = json.loads(path.read_text())
    except json.JSONDecodeError as err:
        raise ConfigError([f"--from-wandb {path}: not valid JSON: {err}"], "arguments") from None
    if not isinstance(data, dict):
        raise ConfigError([f"--from-wandb {path}: expected a JSON object, got {data!r}"])
    return data


def _wandb_run(config: Mapping[str, Any], cfg: TrialConfig, space_name: str) -> tuple[Run, bool]:
    """The active W&B run, or a new one (under ``wandb agent`` it joins the sweep's run);
    the resolved trial config is added to the run's config, as raysearch's own runs log."""
    # Deferred: wandb takes seconds to import; exporting a sweep does not need it.
    import wandb

    owned = wandb.run is None
    run = wandb.run or wandb.init(config=dict(config))
    define_best_summary(run)  # Bayes and hyperband then read the best epoch's value
    run.config.update(flat_config(cfg), allow_val_change=True)
    run.tags = (*(run.tags or ()), space_name, f"loss:{cfg.loss.strategy}")
    return run, owned


def run_from_wandb_config(
    config: Mapping[str, Any],
    *,
    space: SearchSpace | None = None,
    base: TrialConfig | None = None,
    cache_dir: str | Path | None = None,
    log: Callable[[dict[str, Any]], None] | None = None,
    fit: Callable[..., FitResult] | None = None,
    prepare: Callable[..., PreparedData] | None = None,
) -> dict[str, Any]:
    """Train one W&B sweep run: build the trial config from the run's flat config with
    ``build_trial_config``, prepare data, call the trainer and log each epoch's metrics.

    ``space`` defaults to the one named by ``config[SPACE_KEY]``; ``log`` to the active W&B
    run's ``log`` (a run is started, and finished, when none is active: under ``wandb
    agent`` it is the sweep's run); ``fit``/``prepare`` to raysearch's trainer and
    data preparation (tests pass doubles). Returns the outcome: best epoch, its metrics,
    the test metrics and why training stopped.
    """

    if space is None:
        if SPACE_KEY not in config:
            raise ConfigError([f"{SPACE_KEY}: missing; the exported sweep config sets it"])
        space = load_space(str(config[SPACE_KEY]), names=_SWEEP_NAMES)
    if space.requires_data and not config.get("data.path"):  # never the synthetic default
        raise ConfigError(
            [
                f"{SPACE_KEY}: space {space.name!r} is made for a real dataset "
                "(requires_data), and the sweep config sets no data.path; export it with "
                f"raysearch spaces export {shlex.quote(_given(space))} --format wandb "
                "--data DATASET_DIR"
            ],
            "W&B sweep run config",
        )
    cfg = build_trial_config(trial_values(config, space), base)
    if fit is None:  # deferred: torch; exporting a sweep (this module) does not need it
        from raysearch.train.loop import fit as train_fit

        fit = train_fit
    if prepare is None:  # deferred: torch, as above
        from raysearch.data.prepared import prepare as prepare_data

        prepare = prepare_data
    data = prepare(cfg.data, cache_dir)
    run: Run | None = None
    owned = False
    if log is None:
        run, owned = _wandb_run(config, cfg, space.name)
        log = run.log

    def on_epoch(result: EpochResult) -> None:
        metrics = dict(result.metrics)
        log({k: v for k, v in metrics.items() if isinstance(v, (int, float))})

    try:
        result = fit(cfg, data, on_epoch=on_epoch, checkpoint_dir=None)
    finally:
        if owned and run is not None:
            run.finish()
    return {
        "best_epoch": int(result.best_epoch),
        "best_metrics": dict(result.best_metrics),
        "test_metrics": dict(result.test_metrics),
        "stop_reason": str(result.stop_reason),
    }
