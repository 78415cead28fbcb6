"""The Python API: ``run_search`` (what ``raysearch run`` calls) and ``load_run``.

    >>> import raysearch
    >>> summary = raysearch.run_search(space="smoke", smoke=True)   # doctest: +SKIP
    >>> run = raysearch.load_run(summary["run_dir"])                # doctest: +SKIP

A search runs in four steps, one function each: check everything that needs no cluster
(flags, space, configs, the dataset, whose cache is built here), start or join Ray, run
Tune, and write the results directory.

Bad input is refused before anything is written or started: the flags, the space and the
dataset's contract are checked before torch and Ray are even imported (a refusal takes
seconds), the data is prepared (and the searched data parameters' extremes) before Ray
starts, and the run directory's first files (options.json, metadata.json) are written only
after all of that passed. However the search then ends, the summary says so honestly
(``results/summary.py``): finished, interrupted (``SearchInterrupted``: Ctrl+C once or
twice, in the search or as its finalists re-train; ``--resume`` continues), or no result
(``SearchFailed``: every trial failed, or none reported a finite value before the time
budget cut it); a results directory that cannot be written raises ``ResultsNotWritten``.
"""

from __future__ import annotations

import dataclasses
import errno
import logging
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from raysearch.core.errors import (
    DataError,
    ResultsNotWritten,
    SearchFailed,
    SearchInterrupted,
)
from raysearch.core.files import METADATA, OPTIONS, TIMING, json_values, write_json
from raysearch.core.signals import ctrl_c_held_off
from raysearch.core.timing import PhaseClock
from raysearch.data.contract import load_dataset
from raysearch.data.raw import RawDataset
from raysearch.results.runs import RunData, load_run
from raysearch.results.summary import ALL_FAILED, INTERRUPTED_SEARCH, NO_RESULT, counts_line
from raysearch.results.terminal import print_summary
from raysearch.results.writing import add_files, timing_over_parts, write_results
from raysearch.search.address import check_address
from raysearch.search.arguments import options_from_arguments
from raysearch.search.interruption import interrupted_search
from raysearch.search.names import Names
from raysearch.search.options import (
    RunOptions,
    load_run_options,
    named,
    recorded_options,
)
from raysearch.search.plan import SearchPlan, check_data_extremes, resolve_search
from raysearch.search.resume import (
    check_resumed_data,
    note_warm_start_data,
)
from raysearch.search.run_metadata import run_metadata
from raysearch.search.tracking import flat_config
from raysearch.search.trainable import trial_config

if TYPE_CHECKING:
    from raysearch.data.prepared import PreparedData
    from raysearch.search.finalists import FinalistsResult
    from raysearch.search.tuner import TuneCallback, TuneOutcome

__all__ = ["RunData", "RunOptions", "load_run", "run_search"]

log = logging.getLogger(__name__)


def run_search(
    space: str | None = None,
    *,
    options: RunOptions | None = None,
    callbacks: list[TuneCallback] | None = None,
    **fields: Any,
) -> dict[str, Any]:
    """Run a whole search; returns the summary it wrote to the run directory.

    Give the space by name (a shipped space) or by path, and any field of ``RunOptions``
    but ``argv`` (``num_samples``, ``max_epochs``, ``smoke``, ``seed``, ``data``,
    ``results``, ``name``, ...; ``help(raysearch.RunOptions)`` says what each is; ``argv``
    records the command line that made the options, and only the command line sets it):
    ``run_search(space="loss_ablation", num_samples=8)``. Or pass ``options`` whole (what
    the CLI does). ``callbacks``: extra Ray Tune callbacks (benchmarks and tests observe
    trials with them).

    Beside ``options``, each keyword replaces that field of ``options``, and a space given
    (positionally or as ``space=``) replaces ``options.space``: ``run_search("full",
    options=RunOptions(space="smoke"), seed=3)`` searches ``full`` with seed 3; every other
    field is as ``options`` has it. A resume (``resume`` set, in ``options`` or as a
    keyword) runs with the options its run was started with: a space, another field set
    otherwise than its default, or ``callbacks`` beside it is a ``ConfigError``.

    The summary (summary.json as written, a missing number None, and the phases' seconds):
    ``run_dir``; ``state`` (how the search ended; the constants of
    ``raysearch.results.summary``, which ``STATES`` lists):
    a summary returned says ``'finished'`` (``FINISHED``) or ``'out of time'``
    (``OUT_OF_TIME``: the time budget ended the search); ``'interrupted'``
    (``INTERRUPTED_SEARCH``), ``'every trial failed'`` (``ALL_FAILED``) and ``'gave no
    result'`` (``NO_RESULT``) come in the summary of the error raised instead (below);
    ``best`` (the best trial: its id, value and config; None without one); the trials,
    counted by how they ended: ``planned``, ``n_trials``, ``completed``,
    ``stopped_by_asha``, ``failed``, ``interrupted``, ``not_started``, ``out_of_time``;
    ``failures`` (each failed trial's id and reason); ``time_budget_s``; the finalists'
    ``replicates`` and ``unfinished_replicates``; ``gate_held`` (the stops the rung gate
    held, per epoch) and ``gate`` (the rule it judges a rung by: its least number of
    trials, ``min_trials``, ``threshold``, what it compares, ``against``, whether it weighs
    the cut's cost, ``cut_cost``, and what it does with ASHA's stops at a rung with too
    few trials to judge, ``unmeasured``, the space's gate_unmeasured: ``'defer'`` puts them
    off until it can judge the rung, ``'asha'`` lets them stand; and each of those rungs'
    ``trials``, ``spearman`` and ``cost`` when the search ended); ``warm_start`` (a
    warm start's run, absolute, how many of its study's trials lead this run's Optuna
    study, how many of them ran in that run and in which earlier runs the others ran, and
    their best value; None for a search from scratch);
    ``pick`` (the finalists' pick: its values, its replicates' mean and spread; None
    without finalists); ``evidence`` (what summary.md's evidence section states: how well
    the rungs ranked trials, the noise between seeds); ``files`` (what was written, by
    name); ``timing`` (seconds per phase, timing.json; a resumed search's summed over its
    parts).

    Raises ``ConfigError``/``DataError`` on bad input before Ray starts,
    ``SearchInterrupted`` when trials or finalist replicates are left unfinished (resume
    with ``resume=RUN_DIR``), ``SearchFailed`` when no trial gave a result (every trial
    failed, or none reported a finite value before the time budget cut it),
    ``ResultsNotWritten`` when the run directory cannot be written; in each case after the
    summary was written, if it could be. Each of these three carries ``run_dir`` (the run
    directory, a ``Path``; None when nothing was kept to resume), and ``SearchInterrupted``
    and ``SearchFailed`` carry ``summary`` (the summary written, as returned otherwise; None
    when none was), so a script that catches them need not parse the message.
    """
    options = named(options_from_arguments(space, options, fields, callbacks))
    if options.resume:
        # with the resuming command's argv: its errors name options as its user wrote them
        # (flags or keywords); a resume writes no metadata, whose command repeats argv
        options = dataclasses.replace(
            load_run_options(Path(options.resume), options.names), argv=options.argv
        )
    clock = PhaseClock()
    with clock.phase("setup"):
        # flags, space, configs: no cluster yet (the plan for it is made once Ray is up)
        plan = resolve_search(options)
        raw = _check_dataset(plan)  # the data contract: no torch, no Ray yet
        # a wrong address (or RAY_ADDRESS), before the data
        check_address(options.address, options.names)
        cache_dir = plan.setup.cache_dir
        with _writing(Path(cache_dir), "the prepared data's cache", resume=None):
            with _kept_if_done(cache_dir):  # a refusal leaves none of what it cached
                data = _prepare_data(plan, raw)
                if options.resume:  # the data the run started with
                    check_resumed_data(
                        Path(options.resume), options.data, data.fingerprint, options.names
                    )
        if options.warm_start and not options.resume:
            note_warm_start_data(options.warm_start, data.fingerprint, options.names)
    try:
        summary, outcome = _search(options, plan, data, clock, callbacks)
    except KeyboardInterrupt:  # a second Ctrl+C, or one before Tune took the search over
        # a further Ctrl+C as this is said would reach the command as one before the search
        # started, and the command would say nothing was run
        with ctrl_c_held_off("the interrupted search was said"):
            raise interrupted_search(options, plan, clock.left_by_exception) from None
    with ctrl_c_held_off("the search's outcome was said"):
        return _outcome(options, plan, summary, outcome)


def _outcome(
    options: RunOptions, plan: SearchPlan, summary: dict[str, Any], outcome: TuneOutcome
) -> dict[str, Any]:
    """The summary of a search that gave a result; the error for one that was interrupted
    (trials or finalist replicates unfinished) or gave none."""
    summary = json_values(summary)  # as summary.json holds it: a missing number None, not NaN
    if summary["state"] == INTERRUPTED_SEARCH or outcome.unfinished:
        stopped = (
            f"the finalists' re-training stopped with {summary['unfinished_replicates']} of "
            f"{summary['replicates']} replicate(s) unfinished"
            if summary.get("unfinished_replicates") and not outcome.unfinished
            else f"the search stopped with {outcome.unfinished} unfinished trial(s) and "
            f"{outcome.started} of {plan.space.settings.num_samples} created"
        )
        raise SearchInterrupted(
            f"{stopped}; continue it with: {options.names.resume(plan.run_dir)}",
            run_dir=Path(plan.run_dir),
            summary=summary,
        )
    if summary["state"] == ALL_FAILED:
        first = summary["failures"][0]
        raise SearchFailed(
            f"every trial failed ({summary['failed']}); trial {first['trial_id']}: "
            f"{first['reason']} (all reasons: {Path(plan.run_dir) / 'summary.md'})",
            run_dir=Path(plan.run_dir),
            summary=summary,
        )
    if summary["state"] == NO_RESULT:  # some trials cut before their first epoch
        raise SearchFailed(
            f"the search gave no result: no trial reported a finite validation value "
            f"({counts_line(summary)}; {Path(plan.run_dir) / 'summary.md'})",
            run_dir=Path(plan.run_dir),
            summary=summary,
        )
    return summary


def _search(
    options: RunOptions,
    plan: SearchPlan,
    data: PreparedData,
    clock: PhaseClock,
    callbacks: list[Any] | None,
) -> tuple[dict[str, Any], TuneOutcome]:
    """Start (or join) Ray, run Tune, write the results directory; print its summary."""
    # Deferred: Ray takes seconds to import; bad input is refused before (module doc).
    from raysearch.search.session import ray_session

    written: dict[str, Any] | None = None
    try:
        with ray_session(options.address, options.health_check_s, options.names) as cluster:
            clock.add("ray_init", cluster.init_s)
            plan = resolve_search(options, cluster.nodes)
            log.info(
                "search %s: %d trials, up to %d epochs; %s",
                plan.space.name,
                plan.space.settings.num_samples,
                plan.space.settings.max_epochs,
                plan.setup.resources.describe(),
            )
            with _writing(Path(plan.run_dir), "the run's options and metadata", resume=None):
                _write_run_files(options, plan, data)
            started = time.time()
            with clock.phase("tune"):
                outcome = _run_tune(options, plan, callbacks)
            ended = time.time()
            with clock.phase("finalists"):  # re-train the top configurations with fresh seeds
                finalists = _run_finalists(options, plan, outcome)
            # written before Ray shuts down: Ray's shutdown gives SIGTERM back its default
            # (the process ends at once), so a SIGTERM then would lose them (search/session.py)
            written = _write_outputs(
                plan, outcome, clock, (started, ended), finalists, options.names,
                resumed=bool(options.resume),
            )  # fmt: skip
        print_summary(written, names=options.names)
    except KeyboardInterrupt:
        if written is None:
            raise
        # a Ctrl+C as Ray shut down or as the summary was printed: the results were written
        # whole, nothing is left to do; the search ended as they say (run_search goes on)
        log.warning(
            "interrupted after the results were written (search %s); the summary is in %s",
            written["state"],
            Path(plan.run_dir) / "summary.md",
        )
    return written, outcome


def _run_finalists(
    options: RunOptions, plan: SearchPlan, outcome: TuneOutcome
) -> FinalistsResult | None:
    """Re-train the top configurations with fresh seeds (settings.finalists, off by default):
    only after a search whose trials all ended, and all were created (an interrupt between
    two trials leaves none unfinished, and the rest of num_samples never created), unless
    the time budget ended it."""
    never_created = outcome.started < plan.space.settings.num_samples and not outcome.out_of_time
    if outcome.unfinished or never_created or not plan.space.settings.finalists:
        return None
    # Deferred: Ray Tune takes seconds to import; bad input is refused before (module doc).
    from raysearch.search.finalists import run_finalists

    return run_finalists(plan, outcome.trials, resume=bool(options.resume))


def _write_outputs(
    plan: SearchPlan,
    outcome: TuneOutcome,
    clock: PhaseClock,
    tune_span: tuple[float, float],
    finalists: FinalistsResult | None,
    names: Names,
    resumed: bool = False,
) -> dict[str, Any]:
    """The results directory (tables, best config, summary, timing: ``resumed``, summed
    with the parts before); ``ResultsNotWritten`` when it cannot be written, with every file
    already there whole (``names``: how to say the command that writes them)."""
    run_dir = Path(plan.run_dir)
    with _writing(run_dir, "the results", resume=names.resume(run_dir)):
        with clock.phase("collect"):
            summary = _write_results(plan, outcome, finalists)
        timing = {
            **clock.metrics(),
            "time/tune_started_unix": tune_span[0],
            "time/tune_ended_unix": tune_span[1],
        }
        timing = timing_over_parts(run_dir / TIMING, timing) if resumed else timing
        add_files(summary, outcome.trials, write_json(run_dir / TIMING, timing))
    summary["timing"] = timing
    return summary


@contextmanager
def _writing(where: Path, what: str, resume: str | None) -> Iterator[None]:
    """Turn a failed write (a full disk, no permission) into one clear ``ResultsNotWritten``;
    atomic writes leave every file there as it was. ``resume``: what writes them then (given
    only for a run directory, ``where``, that a resume writes again: the error's run_dir)."""
    try:
        yield
    except OSError as err:
        fix = "free space" if err.errno == errno.ENOSPC else "make the directory writable"
        again = (
            f"{fix}, then write them with: {resume}"
            if resume is not None
            else f"{fix} and run the command again"
        )
        raise ResultsNotWritten(
            f"could not write {what} to {where}: {err}. Nothing there was left half-written; "
            f"{again}",
            run_dir=where if resume is not None else None,
        ) from err


def _check_dataset(plan: SearchPlan) -> RawDataset | None:
    """Load the dataset directory through its contract (every problem at once, as one
    DataError naming file, column and row), before torch and Ray are imported; None for
    the embedded synthetic dataset."""
    path = trial_config(plan.setup, plan.space.start[0] if plan.space.start else {}).data.path
    return None if path is None else load_dataset(path)


def _kept_if_done(cache_dir: str) -> AbstractContextManager[None]:
    """``data.cache.kept_if_done``: what its block caches is removed if the block fails."""
    # Deferred: torch loads only once the flags, space and dataset passed (module doc).
    from raysearch.data.cache import kept_if_done

    return kept_if_done(cache_dir)


def _prepare_data(plan: SearchPlan, raw: RawDataset | None) -> PreparedData:
    """Build (or load) the data once, before Ray starts: a bad dataset fails in seconds, and
    trials with the same preprocessing find it in the cache. The extremes of searched data
    parameters (e.g. the largest PCA) are prepared too, and every batch size held to the
    training samples, so none of them fails in a trial."""
    # Deferred: torch loads only once the flags, space and dataset passed (module doc).
    from raysearch.data.prepared import prepare, test_problems

    first = trial_config(plan.setup, plan.space.start[0] if plan.space.start else {})
    cfg = first.data

    def prepare_checked(other: Any, cache_dir: str) -> PreparedData:
        """``prepare``, reusing the dataset loaded by ``_check_dataset`` when it is this one."""
        return prepare(other, cache_dir, raw=raw if other.path == cfg.path else None)

    data = prepare_checked(cfg, plan.setup.cache_dir)
    if problems := test_problems(data, first.trainer.score_test, plan.space.settings.finalists):
        raise DataError(problems, "dataset")
    check_data_extremes(plan, prepare_checked, data.fewest_train_samples())
    return data


def _write_run_files(options: RunOptions, plan: SearchPlan, data: PreparedData) -> None:
    if options.resume:  # a resumed run keeps the files it was started with
        return
    run_dir = Path(plan.run_dir)
    write_json(run_dir / OPTIONS, recorded_options(options).to_json())
    write_json(run_dir / METADATA, run_metadata(options, plan, data.fingerprint))


def _run_tune(
    options: RunOptions, plan: SearchPlan, callbacks: list[TuneCallback] | None
) -> TuneOutcome:
    # Deferred: Ray Tune (module doc).
    from raysearch.search.loggers import make_wandb_callback
    from raysearch.search.tuner import run_tune

    callbacks = list(callbacks or [])
    if options.wandb.enabled:
        group = f"{plan.space.name}/{options.name}"
        callbacks.append(
            make_wandb_callback(options.wandb, group, plan.space.name, plan.setup, options.names)
        )
    return run_tune(plan, resume=bool(options.resume), callbacks=callbacks, names=options.names)


def _write_results(
    plan: SearchPlan, outcome: TuneOutcome, finalists: FinalistsResult | None
) -> dict[str, Any]:
    # Deferred: the searcher module imports Optuna and Ray Tune (module doc).
    from raysearch.search.searcher import TRIAL_SEED
    from raysearch.search.study import warm_start_record

    searched = {*plan.space.parameters, TRIAL_SEED}

    def resolve(config: dict[str, Any]) -> dict[str, Any]:
        params = {k: v for k, v in config.items() if k in searched and v == v}  # not NaN
        return flat_config(trial_config(plan.setup, params))

    planned = plan.space.settings.num_samples
    return write_results(
        Path(plan.run_dir),
        outcome.trials,
        outcome.epochs,
        resolve,
        planned,
        settings=plan.space.settings.model_dump(),
        finalists=finalists.table if finalists is not None else None,
        time_budget_s=plan.time_budget_s if outcome.out_of_time else None,
        gate_held=outcome.gate_held,
        gate=outcome.gate,
        # a resume's plan has the warm start of the run it continues (its options.json)
        warm_start=warm_start_record(plan.run_dir) if plan.warm_start else None,
    )
