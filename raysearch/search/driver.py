"""The search driver: resolve and validate everything, run Tune, write the results."""

from __future__ import annotations

import dataclasses
import gc
import json
import logging
import os
import platform
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from raysearch.errors import ConfigError, RaysearchError
from raysearch.results.files import OPTIONS, TIMING
from raysearch.search.params import build_trial_config, default_trial_config, resolve_param
from raysearch.search.resources import plan_resources
from raysearch.search.space import SearchSpace, load_space
from raysearch.search.tracking import WandbOptions, flat_config, make_wandb_callback
from raysearch.search.trainable import TrialSetup, trial_config
from raysearch.search.tuner import SearchPlan
from raysearch.timing import PhaseClock

__all__ = [
    "SMOKE_OVERRIDES",
    "RunOptions",
    "SearchInterrupted",
    "load_run_options",
    "resolve_search",
    "run_search",
    "with_smoke",
]

log = logging.getLogger(__name__)


class SearchInterrupted(RaysearchError):
    """The search was interrupted (Ctrl+C); its state is saved for --resume."""


# --smoke: the tiny model on the tiny synthetic dataset, a few short trials.
SMOKE_OVERRIDES: dict[str, Any] = {
    "model.size": "tiny",
    "data.daily_window": 60,
    "data.monthly_window": 3,
    "data.raion_pca_components": 2,
    "data.anchor_stride": 3,
}
# Ray Train's controller polls its workers (and forwards their reports) every 2 s by
# default; each Ray Train trial waits for a poll to see its workers start and finish
# (bench/overhead.py measures it). A local Ray started by the driver polls every 0.5 s
# unless the variable is already set; on a cluster, set it where `ray start` runs.
HEALTH_CHECK_ENV = "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S"
HEALTH_CHECK_INTERVAL_S = "0.5"

SMOKE_SETTINGS = {"num_samples": 4, "max_epochs": 3, "grace_period": 1}


@dataclass(frozen=True)
class RunOptions:
    """The command line, parsed."""

    space: str
    num_samples: int | None = None
    max_epochs: int | None = None
    max_concurrent: int | None = None
    workers_per_trial: int = 1
    data: str | None = None
    results: str = "results"
    name: str = "run"
    seed: int = 0
    address: str | None = None
    smoke: bool = False
    searcher: str | None = None  # tpe | random (default: the space's)
    scheduler: str | None = None  # asha | fifo (default: the space's)
    storage: str | None = None
    max_failures: int = 1
    wandb: WandbOptions = dataclasses.field(default_factory=WandbOptions)
    resume: str | None = None  # a run directory to continue
    argv: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunOptions:
        data = dict(data)
        data["wandb"] = WandbOptions(**data.get("wandb", {}))
        data["argv"] = tuple(data.get("argv", ()))
        return cls(**data)


def load_run_options(run_dir: Path) -> RunOptions:
    """The options a run was started with, to resume it (ConfigError if it isn't a run)."""
    path = run_dir / OPTIONS
    if not path.is_file():
        raise ConfigError(
            [
                f"--resume {run_dir}: no {OPTIONS} there; is it a run directory "
                "(results/<space>/<run>)?"
            ],
            "arguments",
        )
    options = RunOptions.from_json(json.loads(path.read_text()))
    return dataclasses.replace(options, resume=str(run_dir))


def _base_config(options: RunOptions) -> Any:
    values: dict[str, Any] = {"data.path": options.data, "trainer.seed": options.seed}
    return build_trial_config(values, default_trial_config())


def with_smoke(fixed: dict[str, Any]) -> dict[str, Any]:
    """The space's fixed values with the smoke sizes winning over any that set the same
    field (or a part of it), so ``--smoke`` is tiny whatever the space fixes."""
    from raysearch.data import SYNTH_PRESETS

    smoke = {**SMOKE_OVERRIDES, **{f"data.synth.{k}": v for k, v in SYNTH_PRESETS["tiny"].items()}}
    smoke_paths = [resolve_param(k)[0] for k in smoke]
    kept = {
        k: v
        for k, v in fixed.items()
        if not any(resolve_param(k)[0][: len(p)] == p for p in smoke_paths)
    }
    return {**kept, **smoke}


def _space_for(options: RunOptions) -> SearchSpace:
    space = load_space(options.space)
    smoke = SMOKE_SETTINGS if options.smoke else {}
    return space.with_settings(
        num_samples=options.num_samples or smoke.get("num_samples"),
        max_epochs=options.max_epochs or smoke.get("max_epochs"),
        grace_period=smoke.get("grace_period"),
        searcher=options.searcher,
        scheduler=options.scheduler,
    )


def resolve_search(
    options: RunOptions, cluster: dict[str, float], max_node_gpus: float = 0.0
) -> SearchPlan:
    """Everything checked and resolved, before any trial starts (raises ConfigError)."""
    space = _space_for(options)
    base = _base_config(options)
    fixed = with_smoke(space.fixed) if options.smoke else dict(space.fixed)
    resources = plan_resources(
        cluster, options.workers_per_trial, options.max_concurrent, max_node_gpus
    )
    run_dir = (Path(options.results) / space.name / options.name).resolve()
    # Tune's experiment (checkpoints, searcher state) goes to --storage when given (a shared
    # path or s3:// / gs:// URI, so multi-node runs keep their checkpoints); tables to run_dir.
    storage = (
        options.storage.rstrip("/") + f"/{space.name}/{options.name}"
        if options.storage
        else str(run_dir)
    )
    setup = TrialSetup(
        base_config=base,
        fixed=fixed,
        max_epochs=space.settings.max_epochs,
        cache_dir=str((Path(options.results) / ".cache" / "data").resolve()),
        storage_path=storage,
        resources=resources,
        max_failures=options.max_failures,
    )
    # Every start point and the defaults must build a valid trial config.
    for point in space.start or [{}]:
        trial_config(setup, point)
    return SearchPlan(
        space=space,
        setup=setup,
        seed=options.seed,
        run_name="tune",
        storage_path=storage,
        run_dir=str(run_dir),
    )


def data_extremes(plan: SearchPlan) -> list[dict[str, Any]]:
    """Trial values at the bounds (or each choice) of every searched data parameter, e.g.
    the largest raion_pca_components: the data layer can then refuse them up front."""
    points = []
    for name, p in plan.space.parameters.items():
        if resolve_param(name)[0][:1] != ("data",):
            continue
        values = p.choices if p.type == "categorical" else [p.low, p.high]
        for value in values or []:
            points.append({name: int(value) if p.type == "int" else value})
    return points


def check_data_extremes(plan: SearchPlan, prepare: Any) -> None:
    """Prepare the data for each extreme of the searched data parameters (cached, so the
    trials that draw them pay nothing); all problems are raised at once."""
    problems = []
    for point in data_extremes(plan):
        try:
            prepare(trial_config(plan.setup, point).data, plan.setup.cache_dir)
        except ConfigError as err:
            problems.extend(f"search space parameter {point}: {p}" for p in err.problems)
    if problems:
        raise ConfigError(problems, f"search space {plan.space.path} for this dataset")


def _metadata(options: RunOptions, plan: SearchPlan, fingerprint: str) -> dict[str, Any]:
    import optuna
    import ray
    import torch

    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=False
        ).stdout.strip()
    except FileNotFoundError:
        sha = ""
    return {
        "command": " ".join(["python -m raysearch.run", *options.argv[1:]]),
        "space": plan.space.name,
        "space_file": plan.space.path,
        "settings": plan.space.settings.model_dump(),
        "fixed": plan.space.fixed,
        "seed": options.seed,
        "smoke": options.smoke,
        "resources": plan.setup.resources.describe(),
        "data_fingerprint": fingerprint,
        "git_sha": sha,
        "versions": {
            "python": platform.python_version(),
            "ray": ray.__version__,
            "torch": torch.__version__,
            "optuna": optuna.__version__,
        },
        "machine": platform.platform(),
    }


def run_search(options: RunOptions, callbacks: list[Any] | None = None) -> dict[str, Any]:
    """Run the whole search; returns the summary written to the run directory.

    ``callbacks``: extra Ray Tune callbacks (benchmarks and tests observe trials with them).
    The driver's own phases (Ray start, set-up, Tune, collecting results) are timed and
    written to ``timing.json`` beside the summary, and returned under ``"timing"``.
    """
    import ray

    from raysearch.data import prepare
    from raysearch.results.files import METADATA, write_json
    from raysearch.results.report import print_summary
    from raysearch.results.summary import write_results
    from raysearch.search.collect import collect_results
    from raysearch.search.tuner import TRIAL_SEED, build_tuner, restore_tuner

    if options.resume:
        options = load_run_options(Path(options.resume))
    # Validate the space, flags and configs before Ray starts (fast, no cluster needed).
    resolve_search(options, {"CPU": 1.0})
    clock = PhaseClock()
    started = ray.is_initialized()
    if not started:
        if options.address is None:  # the Ray we start inherits this process's environment
            os.environ.setdefault(HEALTH_CHECK_ENV, HEALTH_CHECK_INTERVAL_S)
        with clock.phase("ray_init"):
            ray.init(
                address=options.address, logging_level=logging.WARNING, configure_logging=False
            )
    setup_started = time.perf_counter()
    try:
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        max_gpus = max((n["Resources"].get("GPU", 0.0) for n in nodes), default=0.0)
        plan = resolve_search(options, ray.cluster_resources(), max_gpus)
        log.info(
            "search %s: %d trials, up to %d epochs; %s",
            plan.space.name,
            plan.space.settings.num_samples,
            plan.space.settings.max_epochs,
            plan.setup.resources.describe(),
        )
        # Build (or load) the data once here: a bad dataset fails before any trial starts,
        # and trials with the same preprocessing find it in the cache.
        first = plan.space.start[0] if plan.space.start else {}
        data = prepare(trial_config(plan.setup, first).data, plan.setup.cache_dir)
        check_data_extremes(plan, prepare)
        run_dir = Path(plan.run_dir)
        if not options.resume:
            write_json(run_dir / OPTIONS, options.to_json())
            write_json(run_dir / METADATA, _metadata(options, plan, data.fingerprint))
        callbacks = list(callbacks or [])
        if options.wandb.enabled:
            group = f"{plan.space.name}/{options.name}"
            callbacks.append(make_wandb_callback(options.wandb, group, plan.space.name, plan.setup))
        tuner = restore_tuner(plan) if options.resume else build_tuner(plan, callbacks)
        clock.add("setup", time.perf_counter() - setup_started)
        tune_started = time.time()
        with clock.phase("tune"):
            grid = tuner.fit()
        tune_ended = time.time()
        collect_started = time.perf_counter()
        # Drop Tune's objects (and W&B's callback) while Ray is still up, not at exit.
        del tuner
        callbacks.clear()
        gc.collect()
        trials, epochs = collect_results(grid, plan.space.settings.max_epochs, plan.setup.fixed)
        searched = {*plan.space.parameters, TRIAL_SEED}

        def resolve(config: dict[str, Any]) -> dict[str, Any]:
            params = {k: v for k, v in config.items() if k in searched and v == v}  # not NaN
            return flat_config(trial_config(plan.setup, params))

        summary = write_results(run_dir, trials, epochs, resolve)
        clock.add("collect", time.perf_counter() - collect_started)
        timing = {
            **clock.metrics(),
            "time/tune_started_unix": tune_started,
            "time/tune_ended_unix": tune_ended,
        }
        write_json(run_dir / TIMING, timing)
        summary["timing"] = timing
        print_summary(summary)
        unfinished = len(grid) - grid.num_terminated - grid.num_errors
        if unfinished or len(grid) < plan.space.settings.num_samples:
            raise SearchInterrupted(
                f"the search stopped with {unfinished} unfinished trial(s) and "
                f"{len(grid)} of {plan.space.settings.num_samples} started; continue it with: "
                f"python -m raysearch.run --resume {run_dir}"
            )
        return summary
    finally:
        if not started:
            ray.shutdown()
