"""The Python API: ``run_search`` (what ``raysearch run`` calls) and ``load_run``.

    >>> import raysearch
    >>> summary = raysearch.run_search(space="smoke", smoke=True)   # doctest: +SKIP
    >>> run = raysearch.load_run(summary["run_dir"])                # doctest: +SKIP

A search runs in four steps, one function each: check everything that needs no cluster
(flags, space, configs, the dataset, whose cache is built here), start or join Ray, run
Tune, and write the results directory.
"""

from __future__ import annotations

import dataclasses
import logging
import platform
import subprocess
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

from raysearch.core.errors import SearchInterrupted
from raysearch.core.files import METADATA, OPTIONS, TIMING, write_json
from raysearch.core.timing import PhaseClock
from raysearch.data.prepared import PreparedData, prepare
from raysearch.results.runs import RunData, load_run
from raysearch.results.summary import write_results
from raysearch.results.terminal import print_summary
from raysearch.search.finalists import FinalistsResult, run_finalists
from raysearch.search.plan import (
    RunOptions,
    SearchPlan,
    check_data_extremes,
    load_run_options,
    resolve_search,
)
from raysearch.search.searcher import TRIAL_SEED
from raysearch.search.session import ray_session
from raysearch.search.tracking import flat_config, make_wandb_callback
from raysearch.search.trainable import trial_config
from raysearch.search.tuner import TuneCallback, TuneOutcome, run_tune

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
    (``num_samples``, ``max_epochs``, ``smoke``, ``seed``, ``data``, ``results``, ``name``,
    ...): ``run_search(space="loss_ablation", num_samples=8)``. Or pass ``options`` whole
    (what the CLI does). ``callbacks``: extra Ray Tune callbacks (benchmarks and tests observe
    trials with them). Raises ``ConfigError``/``DataError`` on bad input before Ray starts, and
    ``SearchInterrupted`` when trials are left unfinished (resume with ``resume=RUN_DIR``).
    """
    options = _options(space, options, fields)
    if options.resume:
        options = load_run_options(Path(options.resume))
    clock = PhaseClock()
    with clock.phase("setup"):
        plan = resolve_search(options, {"CPU": 1.0})  # flags, space, configs: no cluster yet
        data = _prepare_data(plan)
    with ray_session(options.address, options.health_check_s) as cluster:
        clock.add("ray_init", cluster.init_s)
        plan = resolve_search(options, cluster.resources, cluster.max_node_gpus)
        log.info(
            "search %s: %d trials, up to %d epochs; %s",
            plan.space.name,
            plan.space.settings.num_samples,
            plan.space.settings.max_epochs,
            plan.setup.resources.describe(),
        )
        _write_run_files(options, plan, data)
        started = time.time()
        with clock.phase("tune"):
            outcome = _run_tune(options, plan, callbacks)
        ended = time.time()
        with clock.phase("finalists"):  # issue 15: re-train the top configurations, pick
            finalists = None
            if not outcome.unfinished:
                finalists = run_finalists(plan, outcome.trials, resume=bool(options.resume))
    with clock.phase("collect"):
        summary = _write_results(plan, outcome, finalists)
    timing = {**clock.metrics(), "time/tune_started_unix": started, "time/tune_ended_unix": ended}
    write_json(Path(plan.run_dir) / TIMING, timing)
    summary["timing"] = timing
    print_summary(summary)
    if finalists is not None and finalists.unfinished:
        outcome = dataclasses.replace(outcome, unfinished=finalists.unfinished)
    if outcome.unfinished or outcome.started < plan.space.settings.num_samples:
        raise SearchInterrupted(
            f"the search stopped with {outcome.unfinished} unfinished trial(s) and "
            f"{outcome.started} of {plan.space.settings.num_samples} started; continue it "
            f"with: python -m raysearch.run --resume {plan.run_dir}"
        )
    return summary


def _options(space: str | None, options: RunOptions | None, fields: dict[str, Any]) -> RunOptions:
    if options is not None:
        if space is not None:
            fields = {**fields, "space": space}
        return dataclasses.replace(options, **fields) if fields else options
    if space is None and not fields.get("resume"):
        raise TypeError("run_search() needs a space (or options=, or resume=RUN_DIR)")
    return RunOptions(space=space or "", **fields)


def _prepare_data(plan: SearchPlan) -> PreparedData:
    """Build (or load) the data once, before Ray starts: a bad dataset fails in seconds, and
    trials with the same preprocessing find it in the cache. The extremes of searched data
    parameters (e.g. the largest PCA) are prepared too, so none of them fails in a trial."""
    first = plan.space.start[0] if plan.space.start else {}
    data = prepare(trial_config(plan.setup, first).data, plan.setup.cache_dir)
    check_data_extremes(plan, prepare)
    return data


def _write_run_files(options: RunOptions, plan: SearchPlan, data: PreparedData) -> None:
    if options.resume:  # a resumed run keeps the files it was started with
        return
    run_dir = Path(plan.run_dir)
    write_json(run_dir / OPTIONS, options.to_json())
    write_json(run_dir / METADATA, _metadata(options, plan, data.fingerprint))


def _run_tune(
    options: RunOptions, plan: SearchPlan, callbacks: list[TuneCallback] | None
) -> TuneOutcome:
    callbacks = list(callbacks or [])
    if options.wandb.enabled:
        group = f"{plan.space.name}/{options.name}"
        callbacks.append(make_wandb_callback(options.wandb, group, plan.space.name, plan.setup))
    return run_tune(plan, resume=bool(options.resume), callbacks=callbacks)


def _write_results(
    plan: SearchPlan, outcome: TuneOutcome, finalists: FinalistsResult | None
) -> dict[str, Any]:
    searched = {*plan.space.parameters, TRIAL_SEED}

    def resolve(config: dict[str, Any]) -> dict[str, Any]:
        params = {k: v for k, v in config.items() if k in searched and v == v}  # not NaN
        return flat_config(trial_config(plan.setup, params))

    return write_results(
        Path(plan.run_dir),
        outcome.trials,
        outcome.epochs,
        resolve,
        settings=plan.space.settings.model_dump(),
        finalists=finalists.table if finalists is not None else None,
    )


def _metadata(options: RunOptions, plan: SearchPlan, fingerprint: str) -> dict[str, Any]:
    try:  # the commit of the raysearch that ran (empty for an installed copy)
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).parent,
        ).stdout.strip()
    except FileNotFoundError:  # no git on this machine
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
            **{name: version(name) for name in ("ray", "torch", "optuna")},
        },
        "machine": platform.platform(),
    }
