"""What a user asks of a search (``RunOptions``: the command line's flags, run_search's
keywords), checked on construction; and the options a run directory keeps for ``--resume``
(``load_run_options``, ``recorded_options``). ``plan.resolve_search`` turns them into a
``SearchPlan``; ``arguments`` makes them from run_search's arguments.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from raysearch.core.errors import ConfigError, ErrorCollector
from raysearch.core.files import METADATA, OPTIONS, SUMMARY_JSON, SUMMARY_MD
from raysearch.core.metrics import INTERRUPTED
from raysearch.core.numbers import is_int, is_number, plain_fields
from raysearch.core.trainer_config import SEED_MAX
from raysearch.search.names import API, CLI, Names
from raysearch.search.resume import read_run_file
from raysearch.search.storage import storage_problem
from raysearch.search.tracking import WandbOptions

__all__ = [
    "LEAST",
    "MOST",
    "PATH_FIELDS",
    "RunOptions",
    "count_problem",
    "default_run_name",
    "load_run_options",
    "named",
    "recorded_options",
]


def default_run_name() -> str:
    """A timestamp plus a random suffix: two searches started in the same second (two
    notebook calls) never share a run directory."""
    return f"{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"


def named(options: RunOptions) -> RunOptions:
    """``options`` for one search: with its ``name``, or a new one when it has none."""
    return (
        options
        if options.name is not None
        else dataclasses.replace(options, name=default_run_name())
    )


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
# The greatest value of a count that has one (checked and parsed as LEAST's): the search's
# seed seeds NumPy generators (ASHA's brackets, TPE), which take 0 to 2**32 - 1; the seeds
# derived from it (each trial's, the finalists') wrap into that range (wrap_seed).
MOST: dict[str, int] = {"seed": SEED_MAX}


def count_problem(name: str, value: object) -> str | None:
    """Why ``value`` is not a value of RunOptions' count ``name`` (an int, never a bool, in
    ``LEAST`` and ``MOST``'s range), as a problem after the field's name says it; None where
    it is one. RunOptions checks its counts with it, and ``compare_runs`` its ``seed``."""
    if not (is_int(value) and value >= LEAST[name]):
        return f"must be an int >= {LEAST[name]}, got {value!r}"
    if name in MOST and value > MOST[name]:
        return f"must be an int <= {MOST[name]}, got {value!r}"
    return None


# RunOptions' fields that take a str, and those that take a str or None
_STRS = ("space", "results")
_OPTIONAL_STRS = (
    "name", "data", "address", "searcher", "scheduler", "storage", "resume", "warm_start"
)  # fmt: skip
# Its fields that take seconds, or None
_SECONDS = ("time_budget_s", "health_check_s")
# Its fields that name a file, a directory or a place to keep files: never '' (which
# pathlib and the file system take as the working directory)
_PATHS = ("data", "results", "storage", "resume", "warm_start")
# The fields a path (pathlib's) may be given for, taken as its str (run_search's keywords too)
PATH_FIELDS = ("space", "data", "results", "name", "storage", "address", "resume", "warm_start")


class _Named(ErrorCollector):
    """Problems with RunOptions' fields, each named by ``names`` (``--max-epochs``,
    ``max_epochs``)."""

    def __init__(self, names: Names) -> None:
        super().__init__()
        self.names = names

    def add(self, where: str, message: str) -> None:
        super().add(self.names.head(where), message)


@dataclass(frozen=True)
class RunOptions:
    """What the user asked for: the command line's flags (``raysearch run --help``), or
    ``run_search``'s keywords, one per field. None: the space's setting.

    - ``space``: a shipped space (``full``, ``loss_ablation``, ``model_size``, ``smoke``,
      ``war_losses``) or the path of a space file (.yaml)
    - ``num_samples``: trials; ``max_epochs``: epochs per trial
    - ``max_concurrent``: trials at once (None: as many as the cluster fits)
    - ``workers_per_trial``: data-parallel workers per trial (>= 2: Ray Train)
    - ``data``: a dataset directory (None: the synthetic default)
    - ``results``: the results root; the run directory is ``results/<space>/<name>``
    - ``name``: the run's name (None: each search gets a new one, a timestamp and a random
      suffix, so one RunOptions serves several searches)
    - ``seed``: of the searcher and the trials (trial n trains with seed + n)
    - ``address``: a Ray cluster to join ("auto"); None starts a local Ray
    - ``smoke``: a tiny model and data, a few short trials
    - ``searcher``: ``tpe`` or ``random``; ``scheduler``: ``gated_asha``, ``asha`` or
      ``fifo``
    - ``finalists``: the best configurations re-trained after the search (0: none);
      ``replicates``: the fresh seeds each is re-trained with (refused by ``run_search``
      where the search re-trains none: ``finalists`` 0, the space's 0, or ``smoke``)
    - ``storage``: where Tune keeps checkpoints and search state (a shared path, s3:// or
      gs://; None: the run directory)
    - ``max_failures``: times a trial whose worker died is retried from its checkpoint
    - ``time_budget_s``: seconds the search may run (None: until ``num_samples`` ended)
    - ``wandb``: W&B's project and group (``WandbOptions``); ``run_search`` also takes
      True or False for W&B on or off
    - ``resume``: a run directory to continue (given alone)
    - ``warm_start``: a finished run whose trials seed this search's Optuna study (for
      TPE: refused by ``run_search`` with the ``random`` searcher, which reads none)
    - ``reuse_actors``: a trial process runs trial after trial (False: one per trial)
    - ``health_check_s``: how often Ray Train polls a multi-worker trial's workers (refused
      by ``run_search`` where there are none to poll: ``workers_per_trial`` 1, or a cluster
      joined with ``address``)
    - ``argv``: the command line that asked for it, as its user typed it (the command,
      ``raysearch run`` or a ``python -m`` form, then its arguments), recorded to repeat
      the run (not a ``run_search`` keyword)
    """

    space: str
    num_samples: int | None = None
    max_epochs: int | None = None
    max_concurrent: int | None = None
    workers_per_trial: int = 1
    data: str | None = None
    results: str = "results"
    name: str | None = None
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
        """Check each field on its own: one ConfigError lists every problem, each named as
        the options were given (``names``: a flag, or run_search's keyword).

        Checked here, on construction (counts, seconds and switches given as NumPy's are
        taken as Python's int, float and bool first, and a path given as a path as its
        str): each field's type; the counts' ranges (``LEAST``, ``MOST``); ``time_budget_s``
        and ``health_check_s`` a finite number of seconds > 0;
        no empty path; ``name`` one path component; ``storage`` a URI Ray Tune can keep its
        experiment on, or an absolute path. Not checked here, so a RunOptions naming an
        unknown space or searcher is made without complaint: what the names and paths
        refer to, and the options against the space and each other. ``run_search`` checks
        those when called, before Ray starts, and raises a ConfigError (a DataError for the
        dataset's files): the space (a shipped name, or a valid space file), the searcher
        and scheduler names, ``finalists``, ``replicates`` and ``max_epochs`` against the
        space, ``health_check_s`` against ``workers_per_trial`` and ``address``, the data
        directory, ``address``, the run directory (``results``/``name``, ``resume``) and
        ``warm_start``'s run."""
        errs = _Named(self.names)
        self._plain_values()
        for name in LEAST:
            value = getattr(self, name)
            if value is None and name not in ("workers_per_trial", "seed", "max_failures"):
                continue  # None: the space's setting, or as many as the cluster fits
            if (why := count_problem(name, value)) is not None:
                errs.add(name, why)
        for name in _STRS + _OPTIONAL_STRS:
            value = getattr(self, name)
            if not (isinstance(value, str) or (value is None and name in _OPTIONAL_STRS)):
                errs.add(name, f"must be a str, got {value!r}")
        for name in ("smoke", "reuse_actors"):
            value = getattr(self, name)
            errs.check(isinstance(value, bool), name, f"must be True or False, got {value!r}")
        for name in _SECONDS:
            value = getattr(self, name)
            errs.check(
                value is None or (is_number(value) and value > 0),
                name,
                f"must be a number of seconds > 0, got {value!r}",
            )
        for name in _PATHS:
            errs.check(
                getattr(self, name) != "",
                name,
                "must be a path, got '' (an empty path would be taken as the working directory)",
            )
        run_name = self.name
        if isinstance(run_name, str) and (
            not run_name or run_name in (".", "..") or "/" in run_name or "\\" in run_name
        ):
            errs.add(
                "name",
                "the run directory's name under results/<space>/, one path component "
                f"(no '/', not '.' or '..'), got {run_name!r}",
            )
        if (
            isinstance(self.storage, str)
            and self.storage
            and (problem := storage_problem(self.storage))
        ):
            errs.add("storage", problem)
        errs.check(
            isinstance(self.wandb, WandbOptions),
            "wandb",
            f"must be a WandbOptions, got {self.wandb!r}",
        )
        if not (isinstance(self.argv, tuple) and all(isinstance(a, str) for a in self.argv)):
            errs.problems.append(f"argv: must be a tuple of str, got {self.argv!r}")
        errs.raise_if_any(ConfigError, "run options")

    def _plain_values(self) -> None:
        """Counts, seconds and switches given as NumPy's (``np.arange``'s, a DataFrame's) as
        Python's int, float and bool, and the space and paths given as paths (pathlib's) as
        their str, as run_search takes them: what the checks below and the run's JSON files
        take. Frozen: each is set once, while the options are made."""
        plain_fields(self)
        for name in PATH_FIELDS:
            if isinstance(value := getattr(self, name), os.PathLike):
                object.__setattr__(self, name, os.fspath(value))

    @property
    def names(self) -> Names:
        """How errors name these options: by their flags when the command line made them
        (it sets ``argv``), else by run_search's keywords."""
        return CLI if self.argv else API

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> RunOptions:
        data = dict(data)
        data["wandb"] = WandbOptions(**data.get("wandb", {}))
        data["argv"] = tuple(data.get("argv", ()))
        return cls(**data)


def _recorded_options(recorded: dict[str, Any], where: str, context: str) -> RunOptions:
    """The RunOptions an options.json holds; a ConfigError (each problem after ``where``)
    naming each field missing, unknown or of a bad value, as the file spells it."""
    fields = {f.name: f for f in dataclasses.fields(RunOptions)}
    problems = [
        f"missing field {name!r}"
        for name, f in fields.items()
        if name not in recorded
        and f.default is dataclasses.MISSING
        and f.default_factory is dataclasses.MISSING
    ]
    problems += [f"unknown field {name!r}" for name in recorded if name not in fields]
    wandb, argv = recorded.get("wandb", {}), recorded.get("argv", [])
    if not isinstance(wandb, dict):
        problems.append(f"field 'wandb': a JSON object expected, got {wandb!r}")
    else:
        known = {f.name for f in dataclasses.fields(WandbOptions)}
        problems += [f"unknown field 'wandb.{name}'" for name in wandb if name not in known]
    if not isinstance(argv, list):
        problems.append(f"field 'argv': a JSON array expected, got {argv!r}")
    if not problems:  # each part's values checked apart, so one's problems hide no other's
        try:
            wandb_options = WandbOptions(**wandb)
        except ConfigError as err:
            wandb_options = WandbOptions()
            problems += [f"field wandb.{problem}" for problem in err.problems]
        try:
            # no argv while checked: its problems name the fields as the file does
            checked = RunOptions(**{**recorded, "wandb": wandb_options, "argv": ()})
        except ConfigError as err:
            problems += [f"field {problem}" for problem in err.problems]
        if not problems:
            return dataclasses.replace(checked, argv=tuple(argv))
    raise ConfigError([f"{where}: {problem}" for problem in problems], context)


def load_run_options(run_dir: Path, names: Names = CLI) -> RunOptions:
    """The options a run was started with, to resume it (ConfigError if it isn't a run):
    the run is ``run_dir`` as named from any working directory, its results root the
    directory above its space's. A run moved or copied since it started is resumed only
    where Tune's experiment is not in it (``--storage``). ``names``: how the errors name
    options (the resuming command's ``RunOptions.names``)."""
    run_dir = run_dir.resolve()
    resume, context = names.option("resume", run_dir), names.context
    warm_start = names.option("warm_start", run_dir)
    path = run_dir / OPTIONS
    if not path.is_file():
        if run_dir.is_dir():
            why = f"no {OPTIONS} there; is it a run directory (results/<space>/<run>)?"
        else:
            what = "not a directory" if run_dir.exists() else "no such directory"
            why = f"{what}; give the run directory (results/<space>/<run>) of a search to continue"
        raise ConfigError([f"{resume}: {why}"], context)
    try:
        recorded, metadata, summary = (
            read_run_file(p) for p in (path, run_dir / METADATA, run_dir / SUMMARY_JSON)
        )
    except ValueError as err:  # not JSON objects (read_run_file names the file)
        raise ConfigError([f"{resume}: its run files cannot be read ({err})"], context) from None
    options = _recorded_options(recorded, f"{resume}: {path}", context)
    # the summary's states (results/summary.py): only an interrupted search goes on
    if (state := summary.get("state")) not in (None, INTERRUPTED):
        # a summary with no best trial (every trial failed, or none reported a value) has
        # nothing a warm start could use either
        warm = (
            "no trial of it reported a value a new search could start from"
            if "best" in summary and summary["best"] is None
            else f"a new search can start from its trials with {warm_start}"
            if (cannot := _no_warm_start(run_dir)) is None
            else f"a new search cannot start from its trials either: {cannot}"
        )
        raise ConfigError(
            [
                f"{resume}: that search ended ({state}); nothing is left to resume "
                f"(its results: {run_dir / SUMMARY_MD}); {warm}"
            ],
            context,
        )
    began = metadata.get("run_dir")
    if options.storage is None and began is not None and Path(began).resolve() != run_dir:
        raise ConfigError(
            [
                f"{resume}: the search started in {began}, and Ray Tune resumes "
                "the experiment it keeps in the run directory only where it began (the "
                "trials it has yet to create would go there); move the run back to resume "
                + (
                    f"it, or start a new search from its trials with {warm_start}"
                    if (cannot := _no_warm_start(run_dir)) is None
                    else f"it (a new search cannot start from its trials: {cannot})"
                )
            ],
            context,
        )
    return dataclasses.replace(
        options, resume=str(run_dir), results=str(run_dir.parent.parent), name=run_dir.name
    )


def _no_warm_start(run_dir: Path) -> str | None:
    """Why a warm start from the run would find no trial (None: it would find one), so that
    a refusal offers --warm-start only where it works."""
    # Deferred: Optuna takes a second to import; only a run that cannot be resumed needs it.
    from raysearch.search.study import no_warm_start

    return no_warm_start(run_dir)


def recorded_options(options: RunOptions) -> RunOptions:
    """``options`` as a run directory keeps them for ``--resume``: the dataset, a space
    file and a warm start's run given by a relative path made absolute, so a resume from
    another directory finds them, and they say where (the run directory itself is where
    ``--resume`` names it)."""
    data = str(Path(options.data).resolve()) if options.data else None
    space = options.space
    if space.endswith((".yaml", ".yml")) and Path(space).is_file():
        space = str(Path(space).resolve())
    warm = str(Path(options.warm_start).resolve()) if options.warm_start else None
    return dataclasses.replace(options, data=data, space=space, warm_start=warm)
