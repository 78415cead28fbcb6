"""A search run by Ray Tune itself on a curve source: what the simulator is checked against.

The simulator (``engine.simulate`` driving ``TunePolicy``) makes the calls Ray Tune's
controller makes, in Tune's order, on the searcher and scheduler raysearch builds.
``run_in_tune`` runs the same search in a real ``tune.Tuner`` on a Ray the caller started:
``build_searcher`` (its study in a journal file, as a run keeps it) and ``build_scheduler``
for the space, each trial a function trainable that reports the source's curve for its
configuration and training seed, epoch by epoch (a configuration drawn again draws a curve
with a seed it has not had yet, counted in one actor for every trial, as the simulator
counts them: ``ReplicateSeeds``). One trial at a time, nothing but the search
decides what happens next, so the two runs of a seed must agree trial for trial: the same
configurations with the same seeds, stopped at the same epochs (``first_difference``). With
k trials at once Ray's own timing orders the results, and only the distributions of many
seeds can be compared (bench/scaling/reality.py); there each epoch can take its recorded
duration, scaled (``time_scale``), so that the order results arrive in follows the curves'
clocks as the simulator's does, with Ray's own delays on top.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import ray
from ray import tune
from ray.tune.utils import flatten_dict

from raysearch.core.metrics import BEST_VAL_METRIC, TIME_ATTR, VAL_METRIC
from raysearch.search.loggers import result_loggers
from raysearch.search.scheduler import build_scheduler
from raysearch.search.searcher import TRIAL_SEED, build_searcher
from raysearch.search.simulation.curves import CurveSource, ReplicateSeeds
from raysearch.search.simulation.engine import SimResult
from raysearch.search.simulation.runs import check_epochs
from raysearch.search.study import open_storage

__all__ = ["TuneRun", "first_difference", "run_in_tune"]


@dataclass(frozen=True)
class TuneRun:
    """A real Tune run on curves. ``configs[i]`` and ``seeds[i]``: the configuration
    (flattened, without its seed) and training seed of the i-th trial to start;
    ``epochs``: one row per reported epoch (trial, epoch, value) in the order Tune's
    controller heard them; ``wall_s``: how long ``Tuner.fit`` took."""

    configs: list[dict[str, Any]]
    seeds: list[int]
    epochs: pd.DataFrame
    wall_s: float

    @property
    def best(self) -> float:
        return float(self.epochs["value"].min())


def _split(config: Mapping[str, Any]) -> tuple[dict[str, Any], int]:
    """A trial's flattened configuration without its training seed, and the seed."""
    params = flatten_dict(dict(config))
    if TRIAL_SEED not in params:
        raise ValueError(f"the trial's configuration has no {TRIAL_SEED!r}: {params}")
    return params, int(params.pop(TRIAL_SEED))


# the search's one count of each configuration's trials, held for every trial's process
_SharedReplicateSeeds = ray.remote(num_cpus=0)(ReplicateSeeds)


def _report_curve(
    config: dict[str, Any], source: CurveSource, time_scale: float, replicates: Any
) -> None:
    """Tune's function trainable: the source's curve for the trial, epoch by epoch, with
    what raysearch's trainable reports to the scheduler and searcher; each epoch first
    sleeps its recorded duration times ``time_scale`` (0: none). ``replicates``: the
    search's ``_SharedReplicateSeeds`` actor, or None to draw with the trial's own seed."""
    params, seed = _split(config)
    if replicates is not None:
        seed = ray.get(replicates.seed.remote(params, seed))
    curve = source.curve(params, seed)
    best = math.inf
    for epoch in range(1, curve.epochs + 1):
        if time_scale > 0:
            time.sleep(curve.duration(epoch) * time_scale)
        value = curve.value(epoch)
        best = min(best, value)
        tune.report({TIME_ATTR: epoch, VAL_METRIC: value, BEST_VAL_METRIC: best})


class _Recorder(tune.Callback):
    """Every trial as it starts (its configuration and seed) and every result."""

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self.configs: list[dict[str, Any]] = []
        self.seeds: list[int] = []
        self.rows: list[tuple[int, int, float]] = []

    def on_trial_start(self, iteration: int, trials: list, trial: Any, **info: Any) -> None:
        if trial.trial_id in self.numbers:  # a trial Tune resumed
            return
        self.numbers[trial.trial_id] = len(self.numbers)
        params, seed = _split(trial.config)
        self.configs.append(params)
        self.seeds.append(seed)

    def on_trial_result(
        self, iteration: int, trials: list, trial: Any, result: dict, **info: Any
    ) -> None:
        self.rows.append(
            (self.numbers[trial.trial_id], int(result[TIME_ATTR]), float(result[VAL_METRIC]))
        )


def run_in_tune(
    space: Any,
    source: CurveSource,
    seed: int,
    root: str | Path,
    workers: int = 1,
    time_scale: float = 0.0,
    fresh_replicates: bool = True,
) -> TuneRun:
    """Run the search ``python -m raysearch.run`` would run on ``space`` (seeded with
    ``seed``) in a real Tuner, ``workers`` trials at once (one CPU each: the Ray this
    process has joined must have that many), each trial reporting its curve from
    ``source``, each epoch after sleeping its recorded duration times ``time_scale``
    (0: at once); ``fresh_replicates`` as in ``SimSettings``. The study's journal and
    Tune's experiment go under ``root``. A ValueError names every bad argument before
    anything runs."""
    check_epochs(space, source)
    problems = []
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        problems.append(f"workers: a whole number >= 1, got {workers!r}")
    if not (isinstance(time_scale, int | float) and math.isfinite(time_scale) and time_scale >= 0):
        problems.append(f"time_scale: a finite number >= 0, got {time_scale!r}")
    if not problems and workers > (cpus := ray.cluster_resources().get("CPU", 0)):
        # Tune would run fewer at once than asked, and nothing would say so
        problems.append(f"workers: {workers} trials at once need {workers} CPUs; Ray has {cpus}")
    if problems:
        raise ValueError("run_in_tune: " + "; ".join(problems))
    name = f"replay-{source.name}-seed{seed}"
    recorder = _Recorder()
    replicates: Any = _SharedReplicateSeeds.remote() if fresh_replicates else None
    trainable = tune.with_resources(
        tune.with_parameters(
            _report_curve, source=source, time_scale=float(time_scale), replicates=replicates
        ),
        {"cpu": 1},
    )
    tuner = tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(
            search_alg=build_searcher(space, seed, storage=open_storage(Path(root) / name)),
            scheduler=build_scheduler(space, seed),
            num_samples=space.settings.num_samples,
            max_concurrent_trials=workers,
            reuse_actors=True,
        ),
        run_config=tune.RunConfig(
            name=name,
            storage_path=str(Path(root).resolve()),
            verbose=0,
            callbacks=[*result_loggers(), recorder],
        ),
    )
    started = time.perf_counter()
    try:
        grid = tuner.fit()
    finally:
        if replicates is not None:
            ray.kill(replicates)
    wall = time.perf_counter() - started
    if grid.errors:
        raise RuntimeError(
            f"{name}: {len(grid.errors)} trial(s) failed; the first: {grid.errors[0]}"
        )
    return TuneRun(
        configs=recorder.configs,
        seeds=recorder.seeds,
        # a function trainable's last result is heard twice (Tune re-sends it at the end)
        epochs=pd.DataFrame(recorder.rows, columns=["trial", "epoch", "value"]).drop_duplicates(
            ["trial", "epoch"], ignore_index=True
        ),
        wall_s=wall,
    )


def _same(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    if a.keys() != b.keys():
        return False
    for key, x in a.items():
        y = b[key]
        if isinstance(x, float | np.floating) or isinstance(y, float | np.floating):
            if not math.isclose(float(x), float(y), rel_tol=1e-12, abs_tol=0.0):
                return False
        elif x != y:
            return False
    return True


def first_difference(simulated: SimResult, real: TuneRun) -> str | None:
    """None when the simulated run and the Tune run started the same trials (configuration
    and training seed, in order) and ran each to the same epochs with the same values;
    otherwise the first trial where they part, described."""
    sim_seeds = simulated.trials.sort_values("trial")["seed"].astype(int).tolist()
    sim_epochs = simulated.epochs.groupby("trial")["epoch"].max()
    real_epochs = real.epochs.groupby("trial")["epoch"].max()
    for i in range(max(len(simulated.configs), len(real.configs))):
        if i >= len(simulated.configs) or i >= len(real.configs):
            return (
                f"the simulator started {len(simulated.configs)} trials, Tune {len(real.configs)}"
            )
        if not _same(simulated.configs[i], real.configs[i]) or sim_seeds[i] != real.seeds[i]:
            return (
                f"trial {i}: simulated {simulated.configs[i]} (seed {sim_seeds[i]}), "
                f"Tune {real.configs[i]} (seed {real.seeds[i]})"
            )
        ran = int(sim_epochs.get(i, 0)), int(real_epochs.get(i, 0))
        if ran[0] != ran[1]:
            return f"trial {i}: the simulator ran it to epoch {ran[0]}, Tune to epoch {ran[1]}"
    sim_values = simulated.epochs.sort_values(["trial", "epoch"])["value"].to_numpy()
    real_values = real.epochs.sort_values(["trial", "epoch"])["value"].to_numpy()
    if not np.allclose(sim_values, real_values, rtol=1e-12, atol=0.0):
        return "the same trials to the same epochs, but with different values"
    return None
