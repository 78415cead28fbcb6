"""The searcher: Optuna's TPE (seeded; multivariate and grouped unless the space says
``multivariate: false``) behind Ray Tune's OptunaSearch, fitted on the trials still running
too (``live_tpe``: quality that holds with many trials at once) and on at most
``MAX_OBSERVATIONS`` trials (a suggestion's cost stays bounded); with many trials running,
more and more of its draws are independent TPE's (``mixed_tpe``: their draws spread out).

Conditional parameters are sampled define-by-run (``DefineByRun``); every trial gets its
own training seed, so a configuration drawn twice is a replicate, not an identical re-run,
and its Optuna trial names its Tune trial (the user attribute ``tune_trial_id``). A resumed
search settles Tune's snapshot of the searcher with the study's journal, which may be ahead
of it (``StudyOptunaSearch``).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import optuna
from optuna.storages import BaseStorage
from optuna.trial import FrozenTrial, TrialState
from ray.tune.search.optuna import OptunaSearch

from raysearch.core.metrics import BEST_VAL_METRIC, MODE
from raysearch.core.trainer_config import wrap_seed
from raysearch.search.live_tpe import LiveTPESampler
from raysearch.search.mixed_tpe import MixedTPESampler
from raysearch.search.optuna_log import optuna_warnings_only
from raysearch.search.space import SearchSpace
from raysearch.search.study import STUDY_NAME, open_storage

__all__ = [
    "MAX_OBSERVATIONS",
    "TRIAL_SEED",
    "TUNE_TRIAL_ID",
    "DefineByRun",
    "StudyOptunaSearch",
    "build_sampler",
    "build_searcher",
    "tpe_arguments",
]

log = logging.getLogger(__name__)

TRIAL_SEED = "trainer.seed"  # set per trial by the searcher
TUNE_TRIAL_ID = "tune_trial_id"  # the user attribute naming an Optuna trial's Tune trial
MAX_OBSERVATIONS = 400  # TPE fits on at most this many trials (bounds a suggestion's cost)


def build_sampler(
    space: SearchSpace, seed: int, max_observations: int | None = MAX_OBSERVATIONS
) -> optuna.samplers.BaseSampler:
    """TPE (seeded; multivariate and grouped by default) that also learns from running
    trials and fits on at most ``max_observations`` trials (raysearch.search.live_tpe),
    mixed with independent TPE as more trials run (``independent_when_running``, on by
    default with joint TPE; raysearch.search.mixed_tpe); or, with ``searcher: random``,
    random sampling."""
    if space.settings.searcher == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    with warnings.catch_warnings():  # group= is "experimental" in Optuna; we opt in
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        tpe = MixedTPESampler if space.settings.independent_when_running else LiveTPESampler
        return tpe(max_observations=max_observations, **tpe_arguments(space, seed))


def tpe_arguments(space: SearchSpace, seed: int) -> dict[str, Any]:
    """The keyword arguments of the TPE that ``build_sampler`` builds (the benchmarks'
    variants of it use them too)."""
    return {
        "seed": seed,
        "n_startup_trials": space.settings.n_startup_trials,
        # jointly (conditional parameters, a3dro's budget_beta, get their own groups), or
        # one model per parameter (``multivariate: false``)
        "multivariate": space.settings.multivariate,
        "group": space.settings.multivariate,
    }


@dataclass(frozen=True)
class DefineByRun:
    """The define-by-run function: suggest the space's values, and set the trial's seed.
    A module-level class, not a closure: Tune pickles the searcher to save its state."""

    space: SearchSpace
    seed: int

    def __call__(self, trial: optuna.Trial) -> dict[str, Any]:
        self.space.sample(trial)  # suggests through the trial; Ray collects the values
        return {TRIAL_SEED: wrap_seed(self.seed + trial.number)}


# The run directory whose journal a searcher restored now opens (``study_in``): the pickled
# searcher names the journal by the path it had when the search started.
_RUN_DIRS: list[Path] = []


@contextmanager
def study_in(run_dir: str | Path) -> Iterator[None]:
    """While Tune restores a search (``--resume``), its searcher's study is the journal in
    ``run_dir``, wherever the run was when it started: a run moved or copied since is
    resumed in its own directory, not in the one it left (which may be gone)."""
    _RUN_DIRS.append(Path(run_dir))
    try:
        yield
    finally:
        _RUN_DIRS.pop()


_STEP_REPORTED = r"The reported value is ignored because this `step=\d+` is already reported"


class StudyOptunaSearch(OptunaSearch):
    """Ray Tune's OptunaSearch, settled on restore with its study as the journal has it;
    each Optuna trial it asks for records its Tune trial's id (``suggest``).

    Tune snapshots the searcher now and then; the study's journal records every report and
    every finished trial as it happens. A driver killed between two snapshots leaves the
    journal ahead of the snapshot that ``--resume`` restores. Two things can then be true:
    - A trial the snapshot has running may have finished in the study. Tune resumes the
      trial, and telling Optuna of it again would fail: Optuna keeps a finished trial as it
      is. Its later results go to Tune's tables, not to the study, which keeps the value it
      recorded.
    - A trial asked for after the snapshot is running in the study, though the restored
      searcher never heard of it. It is told FAIL, so TPE stops counting it among the
      running trials. Tune may not run it (the driver died first) or may resume it (Tune
      saved its experiment with the trial before the searcher's snapshot followed): then
      its results stay out of the study.
    Each is logged once, at restore."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._finished_in_study: set[str] = set()  # Tune's trial ids

    def restore(self, checkpoint_path: str) -> None:
        super().restore(checkpoint_path)
        self._finished_in_study = set()
        # Ray types _ot_study as its first value, None; once set up it is the study
        current = cast("optuna.Study | None", self._ot_study)
        if current is None:
            return  # a snapshot from before the search was set up: no trials to settle
        if _RUN_DIRS:  # the journal in the run's directory now (study_in)
            self._storage = open_storage(_RUN_DIRS[-1])
            current = optuna.load_study(
                study_name=self._study_name,
                storage=self._storage,
                sampler=current.sampler,
                pruner=current.pruner,
            )
            self._ot_study = current  # type: ignore[assignment]  # Ray types it as None
            # the trials Tune runs, each bound to the study it was asked from: this one now
            self._ot_trials = {
                trial_id: optuna.Trial(current, trial._trial_id)
                for trial_id, trial in self._ot_trials.items()
            }
        study = {t.number: t for t in current.get_trials(deepcopy=False)}
        for trial_id, ot_trial in self._ot_trials.items():
            if trial_id in self._completed_trials:
                continue
            frozen = study[ot_trial.number]
            if frozen.state.is_finished():
                self._finished_in_study.add(trial_id)
                log.warning(
                    "trial %s finished in the study (Optuna trial %d, %s) after Tune's last "
                    "snapshot of the search; Tune resumes it, and the study keeps the value "
                    "it recorded",
                    trial_id,
                    frozen.number,
                    frozen.state.name,
                )
        known = {t.number for t in self._ot_trials.values()}
        for frozen in study.values():
            if frozen.state == TrialState.RUNNING and frozen.number not in known:
                current.tell(frozen.number, state=TrialState.FAIL)
                log.warning(
                    "Optuna trial %d was asked for after the searcher's last snapshot of the "
                    "search; told FAIL (the driver died before Tune ran it, or Tune resumes "
                    "it with its results kept out of the study)",
                    frozen.number,
                )

    def suggest(self, trial_id: str) -> dict[str, Any] | None:
        """The new trial's configuration; its Optuna trial records ``trial_id`` as the user
        attribute ``tune_trial_id`` (``TUNE_TRIAL_ID``), the ``trial_id`` of the run's
        tables (one more line in the journal per trial)."""
        config = super().suggest(trial_id)  # asks the study for the trial it then holds
        self._ot_trials[trial_id].set_user_attr(TUNE_TRIAL_ID, trial_id)
        return config

    def _outside_study(self, trial_id: str) -> bool:
        """Whether Tune's results for ``trial_id`` stay out of the study: it finished there
        after the snapshot (logged at restore), or this searcher's snapshot never had it.
        The latter: Tune saved its experiment after it created the trial and the driver died
        before the searcher's snapshot followed; the study holds the trial as asked for
        (told FAIL at restore). Logged at its first result."""
        if trial_id in self._finished_in_study:
            return True
        if trial_id in self._ot_trials or trial_id in self._completed_trials:
            return False
        self._finished_in_study.add(trial_id)
        log.warning(
            "trial %s was created after the searcher's last snapshot of the search; Tune "
            "resumes it, and its results stay out of the Optuna study",
            trial_id,
        )
        return True

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        if self._outside_study(trial_id):
            return
        with warnings.catch_warnings():
            # A trial interrupted before its first checkpoint starts again from epoch 1 on
            # --resume and reports its epochs again; Optuna keeps a step's first value and
            # warns each time, under the resumed search's output ("The reported value is
            # ignored because this `step=1` is already reported").
            warnings.filterwarnings("ignore", _STEP_REPORTED, UserWarning)
            super().on_trial_result(trial_id, result)

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        if self._outside_study(trial_id):
            self._completed_trials.add(trial_id)
            return
        super().on_trial_complete(trial_id, result, error)


def build_searcher(
    space: SearchSpace,
    seed: int,
    *,
    storage: BaseStorage | None = None,
    warm_start: Sequence[FrozenTrial] = (),
    sampler: optuna.samplers.BaseSampler | None = None,
) -> StudyOptunaSearch:
    """OptunaSearch told each trial's best anchored loss (not its last).

    Every trial also gets its own training seed (the run's seed plus the Optuna trial
    number): when TPE draws a configuration again (a loss ablation has only four
    configurations outside A3DRO) the trial is a replicate that measures seed variance,
    not a byte-identical re-run.

    ``storage``: an Optuna storage for the study (``study.open_storage``: the run
    directory's journal file); None keeps it in memory. ``warm_start``: finished trials
    (``study.warm_start_trials``) added to the study before the first suggestion.
    ``sampler``: instead of ``build_sampler(space, seed)`` (the benchmarks compare others).
    """
    if warm_start:
        if storage is None:
            raise ValueError("warm_start needs a storage: an in-memory study cannot be seeded")
        with optuna_warnings_only():
            study = optuna.create_study(
                storage=storage,
                study_name=STUDY_NAME,
                direction="minimize" if MODE == "min" else "maximize",
                load_if_exists=True,
            )
            study.add_trials(warm_start)
    return StudyOptunaSearch(
        space=DefineByRun(space, seed),
        metric=BEST_VAL_METRIC,
        mode=MODE,
        sampler=sampler if sampler is not None else build_sampler(space, seed),
        points_to_evaluate=[dict(p) for p in space.start] or None,
        storage=storage,
        study_name=STUDY_NAME,
    )
