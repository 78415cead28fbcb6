"""A search resolved before anything runs: the options a user gave (``RunOptions``) and the
plan built from them and the cluster (``SearchPlan``): the space with its overrides, the
resources, where results go, and what every trial receives. All of it is validated here,
so a bad flag, space or value fails before Ray starts a trial.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from raysearch.core.data_config import DataConfig
from raysearch.core.errors import ConfigError, DataError
from raysearch.core.files import (
    TUNE_DIR,
    directory_problem,
)
from raysearch.core.params import build_trial_config, resolve_param
from raysearch.core.trial_config import TrialConfig
from raysearch.search.address import joined_address
from raysearch.search.batches import batch_sizes, check_batches, edges
from raysearch.search.names import Names
from raysearch.search.new_run import check_run_dir, check_study
from raysearch.search.options import RunOptions, named
from raysearch.search.resources import ClusterShape, ResourcePlan, fitting_cluster, plan_resources
from raysearch.search.resume import check_resume
from raysearch.search.space import SearchSpace, load_space
from raysearch.search.storage import local_storage
from raysearch.search.trainable import TrialSetup, trial_config

__all__ = [
    "SearchPlan",
    "check_data_extremes",
    "data_extremes",
    "resolve_search",
]


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


def _base_config(options: RunOptions) -> TrialConfig:
    # Absolute: Tune runs each trial in its own directory, where a relative --data (the
    # documented `--data results/datasets/ukraine`) names nothing.
    data = str(Path(options.data).resolve()) if options.data else None
    values: dict[str, Any] = {"data.path": data, "trainer.seed": options.seed}
    return build_trial_config(values, TrialConfig())


def _space_for(options: RunOptions) -> SearchSpace:
    names = options.names
    loaded = space = load_space(options.space, names=names, max_epochs=options.max_epochs)
    if space.requires_data and options.data is None:
        raise ConfigError(
            [
                f"{names.head('data')}: space {space.name!r} is made for a real dataset "
                f"({space.path}: requires_data); give its directory with "
                f"{names.example('data', 'DATASET_DIR')} (docs/real_data.md builds one); "
                "without it the search would run on the synthetic default, whose sources "
                "and tasks are not the space's"
            ],
            names.context,
        )
    if options.smoke:
        space = space.smoke(synthetic=options.data is None)
    finalists = _finalists_problem(space, options)
    try:
        settled = space.with_settings(
            num_samples=options.num_samples,
            max_epochs=options.max_epochs,
            searcher=options.searcher,
            scheduler=options.scheduler,
            # said above: the settings' own check of it is left out, the others' kept
            finalists=options.finalists if finalists is None else 0,
        )
    except ConfigError as err:
        raise ConfigError(
            [*([finalists] if finalists else []), *err.problems], err.context
        ) from None
    if finalists is not None:
        raise ConfigError([finalists], names.context)
    if (replicates := _replicates_problem(loaded, settled, options)) is not None:
        raise ConfigError([replicates], names.context)
    if options.replicates is not None and settled.settings.finalists:
        # given where there are no finalists, said above (or a resume's, which do nothing)
        settled = settled.with_settings(replicates=options.replicates)
    return settled


def _smoke(names: Names) -> str:
    """The smoke option as its user gives it: ``--smoke``, ``smoke=True``."""
    return names.option("smoke") if names.cli else "smoke=True"


def _replicates_problem(
    loaded: SearchSpace, settled: SearchSpace, options: RunOptions
) -> str | None:
    """Replicates given to a search that re-trains no finalist (``settled``: its space with
    every option applied; ``loaded``: the space's file), which they would do nothing in,
    said with what turned the finalists off; None where it has finalists or none was given,
    and for a resume: a run started with them before they were refused goes on as it was."""
    if options.replicates is None or settled.settings.finalists or options.resume:
        return None
    names = options.names
    if options.finalists == 0:
        off = f"{names.option('finalists', 0)} turns them off"
    elif options.smoke and loaded.settings.finalists:
        off = f"{_smoke(names)} turns off the space's {loaded.settings.finalists} finalists"
    else:
        off = f"space {loaded.name!r} sets finalists: 0"
    return (
        f"{names.option('replicates', options.replicates)}: sets the fresh seeds each "
        f"finalist is re-trained with, and this search re-trains no finalist ({off}); give "
        f"{names.example('finalists', 'N')} with N >= 1 to re-train the N best "
        f"configurations, or leave {names.option('replicates')} out"
    )


def _finalists_problem(space: SearchSpace, options: RunOptions) -> str | None:
    """The settings' own check (finalists <= num_samples), said of the option given and of
    where the other number came from (a flag, --smoke, the space); None where it holds."""
    names = options.names
    samples = options.num_samples or space.settings.num_samples
    finalists = space.settings.finalists if options.finalists is None else options.finalists
    if finalists <= samples or (options.finalists is None and options.num_samples is None):
        return None  # the space's own numbers: its file was refused for them
    if options.finalists is not None:
        smoke = _smoke(names)
        source = (
            names.option("num_samples", samples)
            if options.num_samples
            else f"{smoke} runs {samples}; give {names.example('num_samples', 'N')} for more"
            if options.smoke
            else f"the space's num_samples: {samples}"
        )
        problem = (
            f"{names.option('finalists', finalists)}: more finalists than the search's trials "
            f"({source})"
        )
    else:
        problem = (
            f"{names.option('num_samples', samples)}: fewer trials than the space's "
            f"{finalists} finalists; give {names.example('finalists', 'N')} with N at most "
            f"{samples} (0: none)"
        )
    return problem


def _check_session(options: RunOptions) -> None:
    """What RunOptions cannot check by itself: the results root and a local storage on
    disk, and a polling interval for a cluster this driver joins (RAY_ADDRESS too) or for
    a search whose trials run no worker group."""
    problems, names = [], options.names
    if why := directory_problem(options.results):
        problems.append(f"{names.head('results')}: {why}; give a directory")
    local = local_storage(options.storage) if options.storage else None
    if local is not None and (why := directory_problem(local)):
        problems.append(
            f"{names.head('storage')}: {why}; give a directory (or an s3://, gs:// URI)"
        )
    if (
        options.health_check_s is not None
        and (joined := joined_address(options.address, names)) is not None
    ):
        problems.append(
            f"{names.option('health_check_s', options.health_check_s)}: applies to a Ray the "
            f"driver starts, not to the cluster at {joined.field} {joined.address!r} (set "
            "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S where `ray start` runs)"
        )
    if problem := _unpolled_problem(options):
        problems.append(problem)
    if problems:
        raise ConfigError(problems, "run options")


def _unpolled_problem(options: RunOptions) -> str | None:
    """A polling interval given to a search with no worker group to poll: with one worker
    per trial (``workers_per_trial``, which the finalists' replicates train with too, and
    which --smoke leaves as given) a trial trains in-process, not through Ray Train. None
    where it has one, or none was given, and for a resume: a run started with one before it
    was refused goes on as it was."""
    if options.health_check_s is None or options.workers_per_trial >= 2 or options.resume:
        return None
    names = options.names
    return (
        f"{names.option('health_check_s', options.health_check_s)}: sets how often Ray Train "
        "polls a multi-worker trial's workers, and this search's trials and finalist "
        "replicates train in-process, one worker each "
        f"({names.option('workers_per_trial', options.workers_per_trial)}), with no workers to "
        f"poll; give {names.example('workers_per_trial', 'N')} with N >= 2, or leave "
        f"{names.option('health_check_s')} out"
    )


# The contexts of ConfigErrors whose problems name their flag or field themselves; another's
# (a space file's) is kept before each of its problems when they are said with others.
_SELF_NAMED = ("arguments", "run_search arguments", "run options", "resources")
_T = TypeVar("_T")


class _Problems:
    """The ConfigErrors of the checks of one search, raised as one (``raise_if_any``): one
    check's as it was, several checks' together."""

    def __init__(self) -> None:
        self.errors: list[ConfigError] = []

    def check(self, run: Callable[[], _T]) -> _T | None:
        """``run()``, or None with its ConfigError kept."""
        try:
            return run()
        except ConfigError as err:
            self.errors.append(err)
            return None

    def add(self, problem: str, context: str) -> None:
        """A problem found here, naming its flag or field (``context``: RunOptions.names')."""
        self.errors.append(ConfigError([problem], context))

    def raise_if_any(self) -> None:
        if len(self.errors) == 1:
            raise self.errors[0]
        if self.errors:
            raise ConfigError(
                [
                    p if err.context in _SELF_NAMED else f"{err.context}: {p}"
                    for err in self.errors
                    for p in err.problems
                ],
                "run options",
            )


def _trial_device(space: SearchSpace) -> str:
    """The device every trial of ``space`` trains on (``trainer.device``): the space's fixed
    value, else the default. It is not searched: every trial is given the same resources."""
    for name in space.parameters:
        if resolve_param(name)[0] == ("trainer", "device"):
            raise ConfigError(
                [
                    f"parameters.{name}: the device cannot be searched (every trial holds "
                    "the same resources); set it under fixed:"
                ],
                f"search space {space.path}",
            )
    for name, value in space.fixed.items():
        if resolve_param(name)[0] == ("trainer", "device"):
            return str(value)
    return TrialConfig().trainer.device


def _plan_resources(
    options: RunOptions, cluster: ClusterShape | None, device: str | None
) -> ResourcePlan:
    """The resource plan for ``cluster`` (None: one the flags fit), for trials that train
    on ``device`` (None: not known, the space did not load). A space that fixes the
    device to the CPU holds no GPU; one that fixes CUDA needs a cluster with GPUs."""
    workers, concurrent, names = options.workers_per_trial, options.max_concurrent, options.names
    if cluster is None:
        cluster = fitting_cluster(workers, concurrent, gpus=device == "cuda")
    plan = plan_resources(cluster, workers, concurrent, use_gpus=device != "cpu", names=names)
    if device == "cuda" and not plan.gpus_per_worker:
        raise ConfigError(
            [
                "trainer.device 'cuda' (the space's fixed value): the Ray cluster has no "
                f"GPUs; join one that has ({names.option('address')}) or fix the device to "
                "'auto' or 'cpu'"
            ],
            "resources",
        )
    return plan


def resolve_search(options: RunOptions, cluster: ClusterShape | None = None) -> SearchPlan:
    """Everything checked and resolved, before any trial starts: every problem the checks
    can find together is raised as one ConfigError (those of the session, the space and the
    resources; then those of the space's draws, batches and study). ``cluster``: the Ray
    cluster's nodes; None before Ray starts (planned for a cluster the flags fit, and
    planned again once Ray is up). Options without a ``name`` get a new one (``named``)."""
    options = named(options)
    assert options.name is not None, "named() names it"
    problems = _Problems()
    problems.check(lambda: _check_session(options))
    loaded = problems.check(lambda: _space_for(options))
    device = problems.check(lambda: _trial_device(loaded)) if loaded is not None else None
    resources = problems.check(lambda: _plan_resources(options, cluster, device))
    problems.raise_if_any()
    assert loaded is not None and resources is not None, "raise_if_any raised otherwise"
    space = loaded
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
    problems.check(lambda: _check_draws(space, setup))
    if not problems.errors:  # a draw that builds no trial config: the batches' would too
        problems.check(lambda: check_batches(space, setup, options))
    if options.resume:
        experiment = f"{storage}/{TUNE_DIR}"
        problems.check(
            lambda: check_resume(run_dir, space, options.seed, experiment, options.names)
        )
    else:
        problems.check(lambda: check_run_dir(options, space.name, run_dir))
        problems.check(lambda: check_study(options, run_dir, space))
    local = local_storage(options.storage) if options.storage else None
    if local is not None and (why := directory_problem(local / space.name)):
        # the root was checked with the session; the run's name, with its run directory
        problems.add(
            f"{options.names.head('storage')}: {why}, where the runs of space {space.name!r} go",
            options.names.context,
        )
    problems.raise_if_any()
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
    points = [{a: va} for a in names for va in edges(space.parameters[a])]
    points += [
        {a: va, b: vb}
        for i, a in enumerate(names)
        for b in names[i + 1 :]
        for va in edges(space.parameters[a])
        for vb in edges(space.parameters[b])
    ]
    draws = [
        d for point in points or [{}] if (d := _draw_with_conditions(space, point)) is not None
    ]
    shown: dict[str, list[dict[str, Any]]] = {}
    for draw in draws:
        try:
            trial_config(setup, draw)
        except ConfigError as err:
            for problem in err.problems:
                shown.setdefault(problem, []).append(draw)
    if shown:  # a problem every draw shows is the fixed values' and the budget's, not a draw's
        everywhere = (
            f"every draw (the fixed values and the defaults, max_epochs {setup.max_epochs})"
        )
        raise ConfigError(
            [
                f"{everywhere if len(with_it) == len(draws) else f'a draw of {with_it[0]}'}: "
                f"{problem}"
                for problem, with_it in shown.items()
            ],
            f"search space {space.path} (max_epochs {setup.max_epochs})",
        )


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


def check_data_extremes(
    plan: SearchPlan, prepare: Callable[[DataConfig, str], object], train_samples: int
) -> None:
    """Prepare the data for each extreme of the searched data parameters (cached, so the
    trials that draw them pay nothing), and hold every batch size a trial may take to the
    ``train_samples`` of the prepared training split (no searchable data field changes how
    many there are); all problems are raised at once."""
    problems: list[str] = []
    for point in data_extremes(plan):
        try:
            prepare(trial_config(plan.setup, point).data, plan.setup.cache_dir)
        except (ConfigError, DataError) as err:  # the parameter's bound is what to change
            problems.extend(f"search space parameter {point}: {p}" for p in err.problems)
    for where, batch, _ in batch_sizes(plan.space, plan.setup):
        if batch > train_samples:
            problems.append(
                f"batch_size {batch} ({where}) exceeds the {train_samples} training samples "
                f"(a trial trains on whole batches of them); give at most {train_samples}"
            )
    if problems:
        raise ConfigError(problems, f"search space {plan.space.path} for this dataset")
