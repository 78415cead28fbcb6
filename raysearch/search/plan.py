"""A search resolved before anything runs: the options a user gave (``RunOptions``) and the
plan built from them and the cluster (``SearchPlan``): the space with its overrides, the
resources, where results go, and what every trial receives. All of it is validated here,
so a bad flag, space or value fails before Ray starts a trial.
"""

from __future__ import annotations

import dataclasses
import math
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from raysearch.core.data_config import DataConfig
from raysearch.core.errors import ConfigError, ErrorCollector
from raysearch.core.files import METADATA, OPTIONS, OPTUNA_STUDY, SUMMARY_JSON, SUMMARY_MD, TUNE_DIR
from raysearch.core.metrics import INTERRUPTED
from raysearch.core.params import build_trial_config, resolve_param
from raysearch.core.trial_config import TrialConfig
from raysearch.search.address import joined_address
from raysearch.search.resources import plan_resources
from raysearch.search.resume import check_resume, read_run_file
from raysearch.search.space import ParamSpec, SearchSpace, load_space
from raysearch.search.study import warm_start_trials
from raysearch.search.tracking import WandbOptions
from raysearch.search.trainable import TrialSetup, trial_config

__all__ = [
    "LEAST",
    "RunOptions",
    "SearchPlan",
    "check_data_extremes",
    "data_extremes",
    "default_run_name",
    "load_run_options",
    "resolve_search",
]


def default_run_name() -> str:
    """A timestamp plus a random suffix: two searches started in the same second (two
    notebook calls) never share a run directory."""
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


# The least value of each count RunOptions takes: run_search's keywords are checked against
# them, and the command line's flags (cli/run.py) parse with them.
LEAST: dict[str, int] = {
    "num_samples": 1,
    "max_epochs": 1,
    "max_concurrent": 1,
    "workers_per_trial": 1,
    "finalists": 0,
    "replicates": 2,
    "seed": 0,
    "max_failures": 0,
}
# RunOptions' fields that take a str, and those that take a str or None
_STRS = ("space", "results", "name")
_OPTIONAL_STRS = ("data", "address", "searcher", "scheduler", "storage", "resume", "warm_start")


def _seconds(value: object) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(value)
        and value > 0
    )


@dataclass(frozen=True)
class RunOptions:
    """What the user asked for: the command line's flags, or ``run_search``'s arguments."""

    space: str
    num_samples: int | None = None
    max_epochs: int | None = None
    max_concurrent: int | None = None
    workers_per_trial: int = 1
    data: str | None = None
    results: str = "results"
    name: str = dataclasses.field(default_factory=default_run_name)
    seed: int = 0
    address: str | None = None
    smoke: bool = False
    searcher: str | None = None  # tpe | random (default: the space's)
    scheduler: str | None = None  # asha | gated_asha | fifo (default: the space's)
    finalists: int | None = None  # configurations re-trained after the search (the space's)
    replicates: int | None = None  # fresh seeds per finalist (default: the space's)
    storage: str | None = None
    max_failures: int = 1
    # Seconds the search may run (Ray Tune's time_budget_s): when they run out, Tune stops
    # every trial and creates no more; None: until num_samples trials have ended.
    time_budget_s: float | None = None
    wandb: WandbOptions = dataclasses.field(default_factory=WandbOptions)
    resume: str | None = None  # a run directory to continue
    warm_start: str | None = None  # a finished run whose trials seed this search's study
    # A trial process runs trial after trial (imports and first-call costs paid once per
    # process); False starts a fresh process per trial (bench/overhead.py measures both).
    # Multi-worker (Ray Train) trials always get a fresh one (resolve_search says why).
    reuse_actors: bool = True
    # How often Ray Train's controller polls a multi-worker trial's workers (Ray's default:
    # 2 s; each such trial waits for a poll to see its workers start and finish), for a
    # local Ray the driver starts. None: RAY_TRAIN_HEALTH_CHECK_INTERVAL_S if set, else
    # 0.5 s. A cluster joined with ``address`` keeps its own (set it where `ray start` runs).
    health_check_s: float | None = None
    argv: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        """Every field of the wrong type or out of range, as one ConfigError (before Ray)."""
        errs = ErrorCollector()
        for name, least in LEAST.items():
            value = getattr(self, name)
            if value is None and name not in ("workers_per_trial", "seed", "max_failures"):
                continue  # None: the space's setting, or as many as the cluster fits
            errs.check(
                isinstance(value, int) and not isinstance(value, bool) and value >= least,
                name,
                f"must be an int >= {least}, got {value!r}",
            )
        for name in _STRS + _OPTIONAL_STRS:
            value = getattr(self, name)
            if not (isinstance(value, str) or (value is None and name in _OPTIONAL_STRS)):
                errs.add(name, f"must be a str, got {value!r}")
        for name in ("smoke", "reuse_actors"):
            value = getattr(self, name)
            errs.check(isinstance(value, bool), name, f"must be True or False, got {value!r}")
        for name in ("time_budget_s", "health_check_s"):
            value = getattr(self, name)
            errs.check(
                value is None or _seconds(value),
                name,
                f"must be a number of seconds > 0, got {value!r}",
            )
        name = self.name
        if isinstance(name, str) and (
            not name or name in (".", "..") or "/" in name or "\\" in name
        ):
            errs.add(
                "name",
                "the run directory's name under results/<space>/, one path component "
                f"(no '/', not '.' or '..'), got {name!r}",
            )
        if isinstance(self.storage, str) and (problem := _storage_problem(self.storage)):
            errs.problems.append(problem)
        errs.check(
            isinstance(self.wandb, WandbOptions),
            "wandb",
            f"must be a WandbOptions, got {self.wandb!r}",
        )
        errs.check(
            isinstance(self.argv, tuple) and all(isinstance(a, str) for a in self.argv),
            "argv",
            f"must be a tuple of str, got {self.argv!r}",
        )
        errs.raise_if_any(ConfigError, "run options")

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunOptions:
        data = dict(data)
        data["wandb"] = WandbOptions(**data.get("wandb", {}))
        data["argv"] = tuple(data.get("argv", ()))
        return cls(**data)


@dataclass(frozen=True)
class SearchPlan:
    """A resolved search: the space (with CLI overrides), the seed, where results go."""

    space: SearchSpace
    setup: TrialSetup
    seed: int
    run_name: str  # Tune's experiment name under storage_path
    storage_path: str  # Tune's experiment storage: the run directory, or --storage URI
    run_dir: str  # results/<space>/<run>: the tables and summary
    reuse_actors: bool = True  # RunOptions.reuse_actors
    warm_start: str | None = None  # RunOptions.warm_start, checked against the space
    time_budget_s: float | None = None  # RunOptions.time_budget_s


def load_run_options(run_dir: Path) -> RunOptions:
    """The options a run was started with, to resume it (ConfigError if it isn't a run):
    the run is ``run_dir`` as named from any working directory, its results root the
    directory above its space's. A run moved or copied since it started is resumed only
    where Tune's experiment is not in it (``--storage``)."""
    run_dir = run_dir.resolve()
    path = run_dir / OPTIONS
    if not path.is_file():
        raise ConfigError(
            [
                f"--resume {run_dir}: no {OPTIONS} there; is it a run directory "
                "(results/<space>/<run>)?"
            ],
            "arguments",
        )
    try:
        recorded, metadata, summary = (
            read_run_file(p) for p in (path, run_dir / METADATA, run_dir / SUMMARY_JSON)
        )
        options = RunOptions.from_json(recorded)
    except (ValueError, TypeError) as err:  # not JSON objects, or not the options' fields
        raise ConfigError(
            [f"--resume {run_dir}: its run files cannot be read ({err})"], "arguments"
        ) from None
    # the summary's states (results/summary.py): only an interrupted search goes on
    if (state := summary.get("state")) not in (None, INTERRUPTED):
        # a summary with no best trial (every trial failed, or none reported a value) has
        # nothing a warm start could use either
        warm = (
            "no trial of it reported a value a new search could start from"
            if "best" in summary and summary["best"] is None
            else f"a new search can start from its trials with --warm-start {run_dir}"
        )
        raise ConfigError(
            [
                f"--resume {run_dir}: that search ended ({state}); nothing is left to resume "
                f"(its results: {run_dir / SUMMARY_MD}); {warm}"
            ],
            "arguments",
        )
    began = metadata.get("run_dir")
    if options.storage is None and began is not None and Path(began).resolve() != run_dir:
        raise ConfigError(
            [
                f"--resume {run_dir}: the search started in {began}, and Ray Tune resumes "
                "the experiment it keeps in the run directory only where it began (the "
                "trials it has yet to create would go there); move the run back to resume "
                f"it, or start a new search from its trials with --warm-start {run_dir}"
            ],
            "arguments",
        )
    return dataclasses.replace(
        options, resume=str(run_dir), results=str(run_dir.parent.parent), name=run_dir.name
    )


def recorded_options(options: RunOptions) -> RunOptions:
    """``options`` as a run directory keeps them for ``--resume``: the dataset and a space
    file given by a relative path made absolute, so a resume from another directory finds
    them (the run directory itself is where ``--resume`` names it)."""
    data = str(Path(options.data).resolve()) if options.data else None
    space = options.space
    if space.endswith((".yaml", ".yml")) and Path(space).is_file():
        space = str(Path(space).resolve())
    return dataclasses.replace(options, data=data, space=space)


def _base_config(options: RunOptions) -> TrialConfig:
    # Absolute: Tune runs each trial in its own directory, where a relative --data (the
    # documented `--data results/datasets/ukraine`) names nothing.
    data = str(Path(options.data).resolve()) if options.data else None
    values: dict[str, Any] = {"data.path": data, "trainer.seed": options.seed}
    return build_trial_config(values, TrialConfig())


def _space_for(options: RunOptions) -> SearchSpace:
    space = load_space(options.space)
    if space.requires_data and options.data is None:
        raise ConfigError(
            [
                f"--data: space {space.name!r} is made for a real dataset ({space.path}: "
                "requires_data); give its directory with --data DATASET_DIR "
                "(docs/real_data.md builds one); without it the search would run on the "
                "synthetic default, whose sources and tasks are not the space's"
            ],
            "arguments",
        )
    if options.smoke:
        space = space.smoke()
    return space.with_settings(
        num_samples=options.num_samples,
        max_epochs=options.max_epochs,
        searcher=options.searcher,
        scheduler=options.scheduler,
        finalists=options.finalists,
        replicates=options.replicates,
    )


# The URI schemes Ray Tune's storage takes (through pyarrow's file systems).
STORAGE_SCHEMES = ("s3", "gs", "gcs", "hdfs", "viewfs", "abfs", "abfss", "file")


def _storage_problem(storage: str) -> str | None:
    """Why Ray Tune could not keep its experiment at ``storage`` (None: it can): a URI with
    a scheme pyarrow lacks, or a relative path, which each node would read from its own
    working directory."""
    scheme = urlparse(storage).scheme
    if len(scheme) > 1 and scheme not in STORAGE_SCHEMES:  # one letter: a Windows drive
        return (
            f"storage: Ray Tune keeps its experiment on {', '.join(STORAGE_SCHEMES)} URIs or "
            f"an absolute path, got {storage!r}"
        )
    if not scheme and not Path(storage).is_absolute():
        return (
            f"storage: a shared path must be absolute (each node reads it from its own "
            f"working directory), got {storage!r}"
        )
    return None


def _check_session(options: RunOptions) -> None:
    """What RunOptions cannot check by itself: the results root on disk, and a polling
    interval for a cluster this driver joins (RAY_ADDRESS too)."""
    problems = []
    if Path(options.results).exists() and not Path(options.results).is_dir():
        problems.append(f"results: {options.results} is a file; give a directory")
    if (
        options.health_check_s is not None
        and (joined := joined_address(options.address)) is not None
    ):
        problems.append(
            f"health_check_s {options.health_check_s!r}: applies to a Ray the driver "
            f"starts, not to the cluster at {joined.field} {joined.address!r} (set "
            "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S where `ray start` runs)"
        )
    if problems:
        raise ConfigError(problems, "run options")


def resolve_search(
    options: RunOptions, cluster: dict[str, float], max_node_gpus: float = 0.0
) -> SearchPlan:
    """Everything checked and resolved, before any trial starts (raises ConfigError)."""
    _check_session(options)
    space = _space_for(options)
    resources = plan_resources(
        cluster, options.workers_per_trial, options.max_concurrent, max_node_gpus
    )
    run_dir = (
        Path(options.resume).resolve()
        if options.resume
        else (Path(options.results) / space.name / options.name).resolve()
    )
    # Tune's experiment (checkpoints, searcher state) goes to --storage when given (a shared
    # path or s3:// / gs:// URI, so multi-node runs keep their checkpoints); tables to run_dir.
    storage = (
        options.storage.rstrip("/") + f"/{space.name}/{options.name}"
        if options.storage
        else str(run_dir)
    )
    setup = TrialSetup(
        base_config=_base_config(options),
        fixed=dict(space.fixed),
        max_epochs=space.settings.max_epochs,
        cache_dir=str((Path(options.results) / ".cache" / "data").resolve()),
        storage_path=storage,
        resources=resources,
        max_failures=options.max_failures,
    )
    _check_draws(space, setup)
    # Every start point and the defaults must build a valid trial config, whose batch
    # splits evenly over the trial's workers (each choice of a searched batch size too).
    points = [*(space.start or [{}])]
    for name, spec in space.parameters.items():
        if resolve_param(name)[0] == ("trainer", "batch_size") and spec.type == "categorical":
            points += [{name: choice} for choice in spec.choices or []]
    workers = options.workers_per_trial
    batches = {trial_config(setup, point).trainer.batch_size for point in points}
    uneven = sorted(b for b in batches if b % workers)
    if uneven:
        raise ConfigError(
            [f"workers_per_trial {workers}: each worker takes an equal share of a batch, and "
             f"batch_size {b} is not divisible by {workers}" for b in uneven],
            "arguments",
        )  # fmt: skip
    if options.resume:
        check_resume(run_dir, space, options.seed, f"{storage}/{TUNE_DIR}")
    else:
        _check_study(options, run_dir, space)
    return SearchPlan(
        space=space,
        setup=setup,
        seed=options.seed,
        run_name=TUNE_DIR,
        storage_path=storage,
        run_dir=str(run_dir),
        # A multi-worker trial's function runs a Ray Train fit; stopping it (ASHA) tears the
        # worker group down, and Tune gives a reused process 2 s to finish
        # (TUNE_FUNCTION_THREAD_TIMEOUT_S) before it fails the next trial with "Trainable
        # runner reuse requires reset_config()". On a loaded machine the teardown takes
        # longer, so such trials get a fresh process each (a second or two, against the
        # worker group's own start; bench/overhead.py).
        reuse_actors=options.reuse_actors and options.workers_per_trial == 1,
        warm_start=options.warm_start,
        time_budget_s=options.time_budget_s,
    )


def _extremes(spec: ParamSpec) -> list[Any]:
    """The values of a parameter at its edges: each choice, or its two bounds."""
    if spec.type == "categorical":
        return list(spec.choices or [])
    return [int(b) if spec.type == "int" else b for b in spec.bounds()]


def _draw_with_conditions(space: SearchSpace, point: dict[str, Any]) -> dict[str, Any] | None:
    """``point`` with the values its parameters' conditions need (``when``: the first value
    each allows), or None when no draw holds it (two conditions that disagree)."""
    full = dict(point)
    for name in point:
        for cond, expected in space.parameters[name].when.items():
            first = expected[0] if isinstance(expected, list) else expected
            full.setdefault(cond, first)
    allowed = all(space.parameters[name].allowed_by(full) for name in full)
    return full if allowed else None


def _check_draws(space: SearchSpace, setup: TrialSetup) -> None:
    """Every pair of searched values at their edges (each choice, each bound) must build a
    valid trial config with the fixed values and the budget, so a draw the search can make
    does not fail at its start: an A3DRO warm-up searched up to ``max_epochs``, a fixed
    warm-up that only the a3dro choice trips over. One problem per distinct reason, with a
    draw that shows it (ConfigError)."""
    names = list(space.parameters)
    points = [{a: va} for a in names for va in _extremes(space.parameters[a])]
    points += [
        {a: va, b: vb}
        for i, a in enumerate(names)
        for b in names[i + 1 :]
        for va in _extremes(space.parameters[a])
        for vb in _extremes(space.parameters[b])
    ]
    problems: dict[str, dict[str, Any]] = {}
    for point in points:
        draw = _draw_with_conditions(space, point)
        if draw is None:
            continue
        try:
            trial_config(setup, draw)
        except ConfigError as err:
            for problem in err.problems:
                problems.setdefault(problem, draw)
    if problems:
        raise ConfigError(
            [f"a draw of {draw}: {problem}" for problem, draw in problems.items()],
            f"search space {space.path} (max_epochs {setup.max_epochs})",
        )


def _ended(run_dir: Path) -> tuple[str | None, bool]:
    """How the search in ``run_dir`` ended (its summary's state), or None: it has no
    readable summary or was interrupted, so ``--resume`` may go on with it; and whether
    a trial of it reported a value (a warm start has something to start from)."""
    try:
        summary = read_run_file(run_dir / SUMMARY_JSON)
    except (OSError, ValueError):  # not a summary: --resume says
        return None, False
    state = summary.get("state")
    valued = summary.get("best", True) is not None  # before "best" was kept: assume so
    return (None if state in (None, INTERRUPTED) else str(state)), valued


def _check_study(options: RunOptions, run_dir: Path, space: SearchSpace) -> None:
    """A new search starts a new study: refuse a run directory that holds one already, and
    check a warm start's trials against the space (ConfigError)."""
    if (run_dir / OPTUNA_STUDY).exists():
        state, valued = _ended(run_dir)
        warm = f", and start from its trials with --warm-start {run_dir} if you like"
        go_on = (
            f"it ended ({state}; its results: {run_dir / SUMMARY_MD}): choose another --name"
            + (warm if valued else "")
            if state
            else f"continue it with --resume {run_dir}, or choose another --name"
        )
        raise ConfigError(
            [f"--name {options.name}: {run_dir} holds a search already ({OPTUNA_STUDY}); "
             + go_on],
            "arguments",
        )  # fmt: skip
    if options.warm_start:
        if Path(options.warm_start).resolve() == run_dir:
            raise ConfigError(
                [f"--warm-start {options.warm_start}: that is this run's own directory"],
                "arguments",
            )
        warm_start_trials(options.warm_start, space)


def data_extremes(plan: SearchPlan) -> list[dict[str, Any]]:
    """Trial values at the bounds (or each choice) of every searched data parameter, e.g.
    the largest raion_pca_components: the data layer can then refuse them up front."""
    points = []
    for name, p in plan.space.parameters.items():
        if resolve_param(name)[0][:1] != ("data",):
            continue
        values = (p.choices or []) if p.type == "categorical" else list(p.bounds())
        for value in values:
            points.append({name: int(value) if p.type == "int" else value})
    return points


def check_data_extremes(plan: SearchPlan, prepare: Callable[[DataConfig, str], object]) -> None:
    """Prepare the data for each extreme of the searched data parameters (cached, so the
    trials that draw them pay nothing); all problems are raised at once."""
    problems: list[str] = []
    for point in data_extremes(plan):
        try:
            prepare(trial_config(plan.setup, point).data, plan.setup.cache_dir)
        except ConfigError as err:
            problems.extend(f"search space parameter {point}: {p}" for p in err.problems)
    if problems:
        raise ConfigError(problems, f"search space {plan.space.path} for this dataset")
