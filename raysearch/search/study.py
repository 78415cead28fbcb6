"""The Optuna study as a record of the search: Optuna's journal file in the run directory.

The searcher (Ray Tune's OptunaSearch, ``searcher.py``) keeps its study in
``RUN_DIR/optuna.journal`` instead of in memory, so ``optuna-dashboard RUN_DIR/optuna.journal``
and ``optuna.load_study(study_name="raysearch", storage=open_storage(RUN_DIR))`` open it while
the search runs and after. Tune pickles the searcher at every checkpoint; the journal storage
pickles as its file's path and replays the file, so a resumed search (``--resume``) writes on
into the same file.

Why a journal and not SQLite: the searcher writes several times per trial (each epoch's
report, each parameter). Through SQLAlchemy those writes cost the driver about 52 ms of CPU
per trial whatever the study's size; the journal appends a line (about 12 ms at 250 trials,
25 ms at 2,000: results/benchmarks/scaling.md, "Decision time").

``--warm-start RUN_DIR`` seeds a new study with a finished run's COMPLETE trials (parameters
and values): TPE starts from what that run learned. The old trials must be valid trials of
the new space (same parameters, ranges, choices and conditions); otherwise the search is
refused before Ray starts, naming each difference.

When a search's time budget (``--time-budget``) runs out, Tune stops the running trials
without telling the searcher; ``settle_cut_trials`` tells the study, so it records no trial
as running after the search.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from raysearch.core.errors import ConfigError
from raysearch.core.files import OPTUNA_STUDY, given_run_dir
from raysearch.search.names import CLI, Names
from raysearch.search.space import SearchSpace

if TYPE_CHECKING:
    import optuna

__all__ = [
    "STUDY_NAME",
    "open_storage",
    "open_study",
    "resumed_study",
    "settle_cut_trials",
    "warm_start_record",
    "warm_start_trials",
]

STUDY_NAME = "raysearch"  # one study per run directory


def open_storage(run_dir: str | Path) -> optuna.storages.JournalStorage:
    """The run's study storage (the file is created with its parent if missing)."""
    # Deferred: optuna takes a second to import; the command line imports this module
    # through the plan before it reports a bad flag.
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    Path(run_dir).mkdir(parents=True, exist_ok=True)
    return JournalStorage(JournalFileBackend(str((Path(run_dir) / OPTUNA_STUDY).resolve())))


def settle_cut_trials(run_dir: str | Path) -> int:
    """Tell the run's study about the trials still running in it: those the time budget
    cut. One that reported is told COMPLETE with its best value, as a trial ASHA stopped is
    told (Ray's OptunaSearch tells the metric of its last report, here the best so far);
    one that never reported is told FAIL, as a trial the searcher asked for and Tune never
    ran is at a restore. Returns how many it told."""
    import optuna  # deferred: as in open_storage

    study = optuna.load_study(study_name=STUDY_NAME, storage=open_storage(run_dir))
    best = min if study.direction == optuna.study.StudyDirection.MINIMIZE else max
    running = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.RUNNING,))
    for trial in running:
        if trial.intermediate_values:
            study.tell(trial.number, best(trial.intermediate_values.values()))
        else:
            study.tell(trial.number, state=optuna.trial.TrialState.FAIL)
    return len(running)


def open_study(run_dir: str | Path) -> optuna.Study:
    """The Optuna study of a search's run directory, during the search or after it (what
    optuna-dashboard shows); a ConfigError names the directory if it holds none.

    What the searcher tells Optuna is a trial's best anchored validation loss so far
    (``best_anchored_val_loss``), not each epoch's, by design: a finished trial's value is
    its best epoch's, and TPE counts a running trial with its latest intermediate value,
    so both are the same measure (ASHA compares each epoch's own value, not these). So
    ``intermediate_values[k]`` is the lowest anchored validation loss over epochs 1 to k,
    and a trial that ran its fit to the end (not one ASHA stopped or the time budget cut)
    has one step more, ``epochs + 1``: its final report, after its last epoch, with the
    same value. Each epoch's own value is in the run's
    tables: ``load_run(run_dir).epochs``, column ``anchored_val_loss``, one row per
    ``trial_id`` and ``epoch``. A trial's ``user_attrs["tune_trial_id"]`` is that
    ``trial_id`` (its row in ``trials``; a run made before raysearch recorded it has none);
    the trials a warm start (``--warm-start``) put first have instead ``warm_start_via``
    (the absolute path of the run the warm start imported them from), ``warm_start_from``
    and ``warm_start_trial`` (the run each ran in, and its number in that run's study: the
    same run, but for a trial that run was itself warm-started with, which keeps where it
    ran), and no intermediate values. A ``run_dir`` that is no str or path is a ConfigError
    naming it, as ``load_run``'s."""
    missing = (
        "give the directory of a search (results/<space>/<run>) made by a raysearch that "
        "keeps its Optuna study"
    )
    path = given_run_dir(run_dir)  # as load_run checks it
    return _open_study(path, str(run_dir), missing)


def resumed_study(run_dir: str | Path, why: str, names: Names = CLI) -> optuna.Study:
    """The study of the interrupted search that ``--resume RUN_DIR`` continues; a
    ConfigError names optuna.journal, and ``why`` the resume needs it, when it is missing,
    empty or unreadable (Ray Tune's restore would fail inside its controller, and the
    driver idle, instead); ``names``: how it names the option (``RunOptions.names``)."""
    flag = names.option("resume", run_dir)
    return _open_study(Path(run_dir), flag, why, why=f"; {why}", context=names.context)


def _load_old_study(run_dir: Path, names: Names) -> optuna.Study:
    flag = names.option("warm_start", run_dir)
    missing = (
        "give the run directory (results/<space>/<run>) of a finished search to start from, "
        "made by a raysearch that keeps its Optuna study"
    )
    return _open_study(run_dir, flag, missing, context=names.context)


def _open_study(
    run_dir: Path, flag: str, missing: str, why: str = "", context: str = "arguments"
) -> optuna.Study:
    """The run's study; a ConfigError (headed ``context``) starting with ``flag`` if
    ``run_dir`` is no directory or holds no study (``missing`` says what to do), or the
    study cannot be read (``why`` follows)."""
    import optuna  # deferred: as in open_storage

    if not run_dir.is_dir():  # said as --resume says it (options.load_run_options)
        what = "not a directory" if run_dir.exists() else "no such directory"
        raise ConfigError([f"{flag}: {what}; {missing}"], context)
    if not (run_dir / OPTUNA_STUDY).is_file():
        raise ConfigError([f"{flag}: no {OPTUNA_STUDY} there; {missing}"], context)
    try:
        return optuna.load_study(study_name=STUDY_NAME, storage=open_storage(run_dir))
    except KeyError:  # an empty journal too
        raise ConfigError(
            [f"{flag}: {OPTUNA_STUDY} holds no study named {STUDY_NAME!r}{why}"], context
        ) from None
    except ValueError as err:  # not a journal: bytes that are not text, lines not JSON
        raise ConfigError(
            [f"{flag}: {OPTUNA_STUDY} cannot be read as an Optuna journal ({err}){why}"],
            context,
        ) from None


def no_warm_start(run_dir: str | Path) -> str | None:
    """Why a warm start from ``run_dir`` would find no trial to start from (None: it finds
    one): its study is not there, cannot be read, or holds no COMPLETE trial."""
    import optuna  # deferred: as in open_storage

    run_dir = Path(run_dir)
    if not (run_dir / OPTUNA_STUDY).is_file():
        return f"its Optuna study, {OPTUNA_STUDY}, is not there"
    try:
        study = optuna.load_study(study_name=STUDY_NAME, storage=open_storage(run_dir))
    except (KeyError, ValueError):  # as _open_study says, in the warm start's own refusal
        return f"its {OPTUNA_STUDY} cannot be read as its study"
    if not study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)):
        return "its study holds no finished trial"
    return None


def warm_start_trials(
    run_dir: str | Path, space: SearchSpace, names: Names = CLI
) -> list[optuna.trial.FrozenTrial]:
    """The COMPLETE trials of the study in ``run_dir``, as new trials for a study of
    ``space``; ConfigError (every difference at once) if one of them is not a valid trial
    of ``space``, or (saying so, whatever the space) if the run finished none (``names``:
    how it names the option, ``RunOptions.names``)."""
    import optuna  # deferred: as in open_storage

    run_dir = Path(run_dir)
    old = _load_old_study(run_dir, names)
    complete = old.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    if not complete:  # whatever the space: nothing to compare, nothing to start from
        raise ConfigError(
            [f"{names.option('warm_start', run_dir)}: that run finished no trial (its study "
             "holds no COMPLETE trial to start from); warm-start from a run that finished "
             "at least one"],
            names.context,
        )  # fmt: skip
    problems: list[str] = []
    seeded = []
    source = str(run_dir.resolve())  # absolute: the path as typed means nothing elsewhere
    for trial in complete:
        replay = _Replay(trial.params)
        # the distributions this space gives the old trial's values (_Replay answers the
        # three suggest_* calls sample makes, as an optuna.Trial would)
        space.sample(cast("optuna.Trial", replay))
        for name in sorted(set(trial.distributions) | set(replay.distributions)):
            before, now = trial.distributions.get(name), replay.distributions.get(name)
            if before is None:
                problems.append(f"trial {trial.number}: has no {name!r}, which this space samples")
            elif now is None:
                problems.append(f"trial {trial.number}: has {name!r}, which this space lacks")
            elif before != now:
                problems.append(
                    f"trial {trial.number}: {name!r} was {before}, this space makes it {now}"
                )
        seeded.append(
            optuna.trial.create_trial(
                params=trial.params,
                distributions=trial.distributions,
                value=trial.value,
                user_attrs=_imported_attrs(trial, source),
            )
        )
    if problems:
        raise ConfigError(
            _first(problems),
            f"{names.option('warm_start', run_dir)}: its trials do not fit space {space.name!r}",
        )
    return seeded


def _imported_attrs(trial: optuna.trial.FrozenTrial, source: str) -> dict[str, Any]:
    """The user attributes of ``trial`` of the run ``source`` as a warm start imports it:
    ``warm_start_via``, ``source``; ``warm_start_from`` and ``warm_start_trial``, the run
    the trial ran in and its number there: ``source``'s own, or, for a trial ``source`` was
    itself warm-started with, kept as that trial holds them (never overwritten)."""
    if "warm_start_from" in trial.user_attrs:  # imported by source's own warm start
        ran_in, number = trial.user_attrs["warm_start_from"], trial.user_attrs["warm_start_trial"]
    else:
        ran_in, number = source, trial.number
    return {"warm_start_from": ran_in, "warm_start_trial": number, "warm_start_via": source}


def _via(trial: optuna.trial.FrozenTrial) -> str:
    """The run a warm start imported ``trial`` from (a study written before
    ``warm_start_via`` has only ``warm_start_from``, which was that run then)."""
    return str(trial.user_attrs.get("warm_start_via", trial.user_attrs["warm_start_from"]))


def warm_start_record(run_dir: str | Path) -> dict[str, Any] | None:
    """What a warm start put in the study of the search in ``run_dir``: ``run_dir``, the
    run it was warm-started from (an absolute path, but in a study written before
    raysearch made it one); ``trials``, how many trials (every finished trial of that
    run's study); ``own``, how many of them ran in that run; ``earlier``, the others by
    the run each ran in (those the run was itself warm-started with, and so on back);
    ``best_value``, the best of their values, which the study's best trial may be, and
    ``best_run_dir``, the run its trial ran in. None when the study holds no such trial (a
    search started from scratch)."""
    import optuna  # deferred: as in open_storage

    study = optuna.load_study(study_name=STUDY_NAME, storage=open_storage(run_dir))
    imported = [t for t in study.get_trials(deepcopy=False) if "warm_start_from" in t.user_attrs]
    if not imported:
        return None
    source = _via(imported[0])
    ran_in = [str(t.user_attrs["warm_start_from"]) for t in imported]
    earlier = Counter(r for r in ran_in if r != source)  # in the order the study holds them
    scored = [
        (float(t.value), r) for t, r in zip(imported, ran_in, strict=True) if t.value is not None
    ]
    minimize = study.direction == optuna.study.StudyDirection.MINIMIZE
    best = (min if minimize else max)(scored, key=lambda pair: pair[0]) if scored else None
    return {
        "run_dir": source,
        "trials": len(imported),
        "own": len(imported) - sum(earlier.values()),
        "earlier": dict(earlier),
        "best_value": None if best is None else best[0],
        "best_run_dir": None if best is None else best[1],
    }


class _Replay:
    """Stands in for an Optuna trial in ``SearchSpace.sample``: answers each suggestion with
    the old trial's value and records the distribution this space asks for."""

    def __init__(self, params: dict[str, Any]) -> None:
        # Deferred: as in open_storage.
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )

        self._kinds = (CategoricalDistribution, FloatDistribution, IntDistribution)
        self.params = params
        self.distributions: dict[str, Any] = {}

    def _answer(self, name: str, distribution: Any) -> Any:
        self.distributions[name] = distribution
        return self.params.get(name)

    def suggest_categorical(self, name: str, choices: list[Any]) -> Any:
        return self._answer(name, self._kinds[0](choices))

    def suggest_float(
        self, name: str, low: float, high: float, *, step: float | None = None, log: bool = False
    ) -> Any:
        return self._answer(name, self._kinds[1](low, high, log=log, step=step))

    def suggest_int(
        self, name: str, low: int, high: int, *, step: int = 1, log: bool = False
    ) -> Any:
        return self._answer(name, self._kinds[2](low, high, log=log, step=step))


def _first(problems: list[str], limit: int = 20) -> list[str]:
    """At most ``limit`` problems, and how many more (a large study repeats itself)."""
    more = len(problems) - limit
    return problems[:limit] + ([f"... and {more} more"] if more > 0 else [])
