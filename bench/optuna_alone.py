"""Optuna alone, no Ray: TPE with Optuna's Hyperband pruner, several processes sharing one
journal-file storage (Optuna's documented way to run a study in parallel on one machine).

The objective is any picklable callable ``objective(trial, report)`` that samples its
values through ``trial``, calls ``report(epoch, value, busy=seconds)`` after each epoch
(which records the epoch, tells Optuna and raises ``optuna.TrialPruned`` when Hyperband
says so) and returns the trial's best value.
"""

from __future__ import annotations

import json
import multiprocessing
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["OptunaAlone", "run_optuna_alone"]


@dataclass(frozen=True)
class OptunaAlone:
    n_trials: int
    processes: int
    seed: int
    n_startup_trials: int
    min_resource: int  # Hyperband's smallest budget (ASHA's grace period)
    max_resource: int  # max epochs
    reduction_factor: int
    start: tuple[dict[str, Any], ...] = ()  # enqueued first, like the search's start points


def _storage(path: Path) -> Any:
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    return JournalStorage(JournalFileBackend(str(path)))


def _worker(
    rank: int, settings: OptunaAlone, objective: Callable[..., float], db: str, out: str
) -> None:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        sampler = optuna.samplers.TPESampler(
            seed=settings.seed * 1000 + rank,  # each process draws its own sequence
            n_startup_trials=settings.n_startup_trials,
            multivariate=True,
            group=True,
        )
    pruner = optuna.pruners.HyperbandPruner(
        min_resource=settings.min_resource,
        max_resource=settings.max_resource,
        reduction_factor=settings.reduction_factor,
    )
    study = optuna.load_study(study_name="bench", storage=_storage(Path(db)), sampler=sampler)
    study.pruner = pruner
    records: list[dict[str, Any]] = []

    def run(trial: optuna.Trial) -> float:
        def report(epoch: int, value: float, busy: float = 0.0) -> None:
            records.append(
                {
                    "trial": trial.number,
                    "epoch": epoch,
                    "value": value,
                    "busy": busy,  # seconds of this epoch spent training and validating
                    "unix": time.time(),
                }
            )
            trial.report(value, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()

        return objective(trial, report)

    study.optimize(
        run,
        callbacks=[optuna.study.MaxTrialsCallback(settings.n_trials, states=None)],
        catch=(),
    )
    Path(out).write_text(json.dumps(records))


def run_optuna_alone(
    settings: OptunaAlone, objective: Callable[..., float], workdir: Path
) -> tuple[pd.DataFrame, float]:
    """Run the study; (epoch records with ``t`` since the start, wall seconds)."""
    import optuna

    workdir.mkdir(parents=True, exist_ok=True)
    db = workdir / "journal.log"
    study = optuna.create_study(study_name="bench", storage=_storage(db), direction="minimize")
    for point in settings.start:
        study.enqueue_trial(dict(point))
    context = multiprocessing.get_context("spawn")
    started = time.time()
    outs = [workdir / f"records-{rank}.json" for rank in range(settings.processes)]
    procs = [
        context.Process(target=_worker, args=(rank, settings, objective, str(db), str(out)))
        for rank, out in enumerate(outs)
    ]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
    wall = time.time() - started
    bad = [p.exitcode for p in procs if p.exitcode != 0]
    if bad:
        raise RuntimeError(f"Optuna worker process(es) exited with {bad}; see the log above")
    rows = [r for out in outs for r in json.loads(out.read_text())]
    frame = pd.DataFrame(rows, columns=["trial", "epoch", "value", "busy", "unix"])
    frame["t"] = frame["unix"] - started
    return frame.drop(columns="unix"), wall
