"""Record a space's learning curves, the table ``raysearch simulate --table`` reads.

    raysearch curves --space my_grid.yaml [--data DIR] --seeds 2 --out my_curves.parquet

Every configuration of the space's grid (its categorical parameters' values, a parameter
taking part only where its ``when`` holds) is trained with the trainer's own ``fit`` for
the space's ``max_epochs`` with early stopping off, once per training seed, as a trial of
``raysearch run`` would be configured (the space's fixed values, the configuration, the
dataset). Each epoch becomes one row:

    <one column per parameter, NaN where inactive>, seed, epoch (1..E), anchored_val_loss,
    anchored_test_loss, epoch_time_s, epoch_wall_s

``epoch_time_s`` is the epoch's train + validation time as a search would wait for it: on
the CPU its CPU seconds (with one torch thread, its time on a core of its own, whatever else
runs), on a GPU its wall time (raysearch.train.curves); ``epoch_wall_s`` the wall time.
Finished runs are appended to ``<out>.partial.jsonl`` as they end, so an interrupted
recording resumes where it stopped; the table is written (atomically) once every run is
in, and the partial file removed.

On one machine ``processes`` runs train at once, each in a process of its own. With an
``address`` the recording joins that Ray cluster and trains each run as a Ray task, one CPU
each, or one GPU each on a cluster with GPUs, so a grid is recorded across the cluster's
nodes (raysearch.search.simulation.record_runs); the driver alone writes the partial file
and the table.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd
import pyarrow as pa

from raysearch.core.errors import ConfigError, DataError
from raysearch.core.files import atomic_write_text
from raysearch.core.numbers import counted, is_int, plain
from raysearch.core.timing import readable_seconds
from raysearch.data.reading import read_parquet
from raysearch.search.names import CURVES_API, Names
from raysearch.search.simulation.curve_plan import CurvePlan
from raysearch.search.simulation.grid import discretized, grid, space_yaml
from raysearch.search.simulation.partial import append_run, load_partial, partial_path, run_id
from raysearch.search.simulation.plan_diff import held_plan
from raysearch.search.simulation.record_arguments import (
    address_problems,
    address_used,
    argument_problems,
    data_problem,
    out_problem,
    seeds_problem,
)
from raysearch.search.simulation.record_runs import (
    forget_prepared,
    prepared_here,
    record_here,
    record_in_pool,
    record_on_ray,
)
from raysearch.search.space import load_space

if TYPE_CHECKING:
    from raysearch.search.space import SearchSpace

__all__ = [
    "CURVE_COLUMNS",
    "Recorded",
    "partial_path",
    "plan_for_space",
    "record",
    "record_curves",
    "record_curves_for",
]

# after the parameters' columns
CURVE_COLUMNS = (
    "seed", "epoch", "anchored_val_loss", "anchored_test_loss", "epoch_time_s", "epoch_wall_s",
)  # fmt: skip


def plan_for_space(
    space: SearchSpace,
    seeds: int,
    data: str | None = None,
    device: str | None = None,
    names: Names = CURVES_API,
) -> CurvePlan:
    """The plan of a space's grid (ConfigError naming every problem, before anything trains;
    ``names``: how they name record_curves' arguments)."""
    problems = [why for why in (seeds_problem(seeds, names), data_problem(data, names)) if why]
    problems += _grid_problems(space, data is not None, names)
    if problems:
        raise ConfigError(problems, "curve recording")
    plan = CurvePlan(
        params=tuple(space.parameters),
        configs=tuple(grid(space.parameters)),
        seeds=tuple(range(seeds)),
        epochs=space.settings.max_epochs,
        fixed=dict(space.fixed),
        data=None if data is None else str(Path(data).resolve()),
        device=device,
    )
    found: dict[str, list[dict[str, Any]]] = {}  # problem -> the configurations it is in
    for config in plan.configs:  # every configuration builds before the first one trains
        try:
            plan.trial_config(config, 0)
        except ConfigError as err:
            for problem in dict.fromkeys(err.problems):
                found.setdefault(problem, []).append(config)
    problems = []
    for problem, configs in found.items():
        if len(configs) == len(plan.configs) > 1:  # a flag, a fixed value: said once
            problems.append(f"every configuration: {problem}")
        else:
            problems += [f"{config}: {problem}" for config in configs]
    if problems:
        raise ConfigError(problems, "curve recording")
    return plan


def _grid_problems(space: SearchSpace, data_given: bool, names: Names) -> list[str]:
    """What keeps ``space`` from being recorded as a grid of curves: a parameter that is not
    categorical, or no dataset for a space made for one (``data_given``: one was)."""
    problems = [
        f"parameters.{name}: a table of curves holds listed values, and its type is "
        f"{p.type!r}; make it categorical, or record N values across its range "
        f"({names.example('points', 'N')})"
        for name, p in space.parameters.items()
        if p.type != "categorical"
    ]
    if not data_given and space.requires_data:
        problems.append(
            f"{names.head('data')}: space {space.name!r} is made for a real dataset "
            f"(requires_data); give its directory with {names.example('data', 'DATASET_DIR')}"
        )
    return problems


def record(
    plan: CurvePlan,
    out: Path,
    *,
    processes: int | None = None,
    address: str | None = None,
    cache_dir: str | Path | None = None,
    log: Callable[[str], None] = print,
    names: Names = CURVES_API,
) -> pd.DataFrame:
    """Train every (configuration, seed) not yet in ``out``'s partial file, then write the
    table to ``out`` (parquet) and return it. Without ``address``, ``processes`` runs at
    once on this machine (None: 1); with one, as Ray tasks on that cluster, at most
    ``processes`` at once (None: every run is queued, Ray starts what the cluster fits).
    ``cache_dir``: where prepared data is cached (shared by the processes; on a cluster,
    the same path on each node). ``names``: how an error names ``address``."""
    out = Path(out)
    partial = partial_path(out)
    recorded = plan.recorded()
    key = plan.fingerprint(recorded)
    done = load_partial(partial, key, recorded, log)
    runs = plan.runs()
    todo = [(c, s) for c, s in runs if done is None or run_id(c, s) not in done]
    if address is None:  # no more processes than runs (record_runs.record_in_pool)
        at_once = f"{min(processes or 1, max(len(todo), 1))} at once"
    elif processes is None:
        at_once = "as many at once as the cluster fits"
    else:
        at_once = f"at most {processes} at once"
    log(
        f"curves: {counted(len(runs), 'run')} ({counted(len(plan.configs), 'configuration')}"
        f" x {counted(len(plan.seeds), 'seed')}, {counted(plan.epochs, 'epoch')}, {at_once}); "
        f"{len(runs) - len(todo)} already recorded"
    )
    started = time.perf_counter()
    finished = 0

    def keep(config: Mapping[str, Any], seed: int, rows: list[dict], seconds: float) -> None:
        nonlocal finished
        append_run(partial, {"plan": key, "recorded": recorded}, config, seed, rows)
        finished += 1
        left = len(todo) - finished
        eta = (time.perf_counter() - started) / finished * left
        log(
            f"[{len(runs) - left}/{len(runs)}] {config} seed {seed}: anchored_val_loss "
            f"{rows[-1]['anchored_val_loss']:+.3f} at epoch {plan.epochs}; "
            f"{readable_seconds(seconds)}; ETA {readable_seconds(eta)}"
        )

    if address is not None:
        record_on_ray(plan, todo, address, processes, cache_dir, keep, log, names)
    elif processes is None or processes == 1:
        record_here(plan, todo, cache_dir, keep)
    else:
        record_in_pool(plan, todo, processes, cache_dir, keep, log)
    done = load_partial(partial, key, recorded) or {}
    rows = [r for c, s in runs for r in done[run_id(c, s)]]
    table = pd.DataFrame(rows, columns=[*plan.params, *CURVE_COLUMNS])
    table["seed"] = table["seed"].astype("int64")
    table["epoch"] = table["epoch"].astype("int64")
    table.attrs = {"plan": key, "recorded": recorded}  # kept in the parquet's metadata
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp")
    table.to_parquet(tmp, index=False)
    os.replace(tmp, out)
    partial.unlink()
    return table


@dataclass(frozen=True)
class Recorded:
    """What ``record_curves`` left: the table, the space file that simulates on it, and
    whether it trained (False: the table already held these curves)."""

    table: Path
    space: str
    trained: bool


def _silent(line: str) -> None:
    """record_curves' ``log=None``: no line of progress is said."""


def _check_test_split(plan: CurvePlan, cache_dir: str | Path | None) -> None:
    """A DataError before anything trains where no curve could be recorded: each scores the
    test split every epoch, and the data (the grid's first configuration's; the searchable
    data fields leave the targets as they are) have no target there. The data prepared are
    kept for the runs that train in this process (``record_runs.prepared_here``)."""
    # Deferred: the data pipeline imports torch (seconds); the arguments are checked first.
    from raysearch.train.curves import curve_test_problems

    data = prepared_here(plan.trial_config(plan.configs[0], 0).data, cache_dir)
    if problems := curve_test_problems(data):
        raise DataError(problems, "dataset")


def _held_plan(table: Path, names: Names) -> dict[str, Any]:
    """The plan the curves ``table`` holds were recorded for (its attrs: {} for a table
    without one); a ConfigError naming it when it is no parquet table at all (an empty
    file, a CSV)."""
    try:
        return {str(k): v for k, v in read_parquet(table).attrs.items()}
    except (pa.ArrowInvalid, OSError) as err:
        raise ConfigError(
            [
                f"{names.head('out')}: {table} is there and is no parquet table of curves "
                f"({type(err).__name__}: {err}); delete it or choose another"
            ],
            "curve recording",
        ) from None


def record_curves(
    space: str,
    *,
    out: str | Path | None = None,
    data: str | None = None,
    seeds: int = 2,
    points: int | None = None,
    processes: int | None = None,
    address: str | None = None,
    device: str | None = None,
    cache_dir: str | Path | None = None,
    log: Callable[[str], None] | None = print,
    **unknown: Any,
) -> Recorded:
    """Record the curves of ``space`` (a name or a file) into ``out`` (default
    results/curves/<space>.parquet): ``raysearch curves``, whose flags are its keywords.
    Every problem, the address's too, is one ConfigError before anything is logged,
    prepared or trained (a keyword it does not take among them, naming the one likely
    meant); a table already holding these curves is kept, one holding others refused. With
    ``points``, the grid's space file is written beside the table. The runs train
    ``processes`` at once on this machine, or with ``address`` as Ray tasks on that
    cluster (``record``). ``log``: called with each line of progress (None: silent, as
    ``simulate_search``'s)."""
    return record_curves_for(
        CURVES_API, space, out=out, data=data, seeds=seeds, points=points,
        processes=processes, address=address, device=device, cache_dir=cache_dir, log=log,
        unknown=unknown,
    )  # fmt: skip


def record_curves_for(
    names: Names,
    space: str,
    *,
    out: str | Path | None = None,
    data: str | None = None,
    seeds: int = 2,
    points: int | None = None,
    processes: int | None = None,
    address: str | None = None,
    device: str | None = None,
    cache_dir: str | Path | None = None,
    log: Callable[[str], None] | None = print,
    unknown: dict[str, Any] | None = None,
) -> Recorded:
    """``record_curves``, its problems naming the arguments as ``names`` says: ``raysearch
    curves`` passes ``CLI``, so that they name its flags rather than record_curves'
    keywords. ``unknown``: the keywords given that record_curves does not take."""
    seeds, points, processes = plain(seeds), plain(points), plain(processes)  # NumPy's: ints
    problems = argument_problems(
        names, unknown or {},
        space=space, out=out, data=data, seeds=seeds, points=points, processes=processes,
        address=address, device=device, cache_dir=cache_dir, log=log,
    )  # fmt: skip
    say = log if log is not None else _silent
    space = os.fspath(space) if isinstance(space, os.PathLike) else space  # a path, as a str
    loaded = None
    try:  # of the wrong type, it is one of the problems already
        loaded = load_space(space, names=names) if isinstance(space, str) else None
    except ConfigError as err:
        if not problems and not address_used(address, out):
            raise  # the space's alone, as load_space says them
        problems += [
            p if err.context == names.context else f"{err.context}: {p}" for p in err.problems
        ]
    usable = points is None or (is_int(points) and points >= 2)  # else said above
    if loaded is not None and usable:
        if points is not None:
            loaded = discretized(loaded, points, names)
        # the grid's problems, said with the arguments' (a dataset of the wrong type is given)
        problems += _grid_problems(loaded, data is not None, names)
    if problems:  # with the address's, unless a table given is there (it trains nothing)
        if address_used(address, out):
            problems += address_problems(address, names)
        raise ConfigError(problems, "curve recording")
    assert loaded is not None, "a space of the wrong type is one of the problems"
    plan = None
    try:  # a configuration that builds no trial, said with the device's and a default out's
        plan = plan_for_space(loaded, seeds, data, device, names)
    except ConfigError as err:
        problems += err.problems
    table = Path(out) if out is not None else Path("results") / "curves" / f"{loaded.name}.parquet"
    if out is None and (why := out_problem(table)):  # a given one was checked above
        problems.append(f"{names.head('out')}: {why}")
    # Deferred: the trainer imports torch (seconds); simulate imports this module.
    from raysearch.train.loop import device_problem

    if device is not None and address is None and (why := device_problem(device)):
        problems.append(
            f"{names.head('device')}: {why}"
        )  # a cluster's nodes may have what this one lacks
    if address is not None and not table.is_file():  # a table there trains nothing on it
        problems += address_problems(address, names)  # before the data are prepared
    if problems:
        raise ConfigError(problems, "curve recording")
    assert plan is not None, "plan_for_space raised otherwise"
    recorded = plan.recorded()
    key = plan.fingerprint(recorded)
    held = _held_plan(table, names) if table.exists() else {"plan": key}
    why, otherwise = held_plan(held, key, recorded)
    if why:
        raise ConfigError(
            [f"{names.head('out')}: {table} holds curves {why}; delete it or choose another"],
            "curve recording",
        )
    trained = not table.exists()
    if trained:
        try:
            _check_test_split(plan, cache_dir)
            say(f"curves: recording into {table} (finished runs kept in {partial_path(table)})")
            record(
                plan, table, processes=processes, address=address, cache_dir=cache_dir,
                log=say, names=names,
            )  # fmt: skip
        finally:  # the data the check prepared, where the runs trained elsewhere
            forget_prepared()
        say(f"curves: wrote {table}")
    else:
        say(f"curves: {table} already holds these curves" + (f", {otherwise}" if otherwise else ""))
    simulated = space
    if points is not None:  # the grid's own space file, beside the table once it is there
        simulated = str(table.with_suffix(".yaml"))
        header = (
            f"{loaded.name} with {points} values across each float and int parameter's range "
            f"(raysearch curves --points {points}); its curves: {table.name}"
        )
        atomic_write_text(simulated, space_yaml(loaded, header))
        if load_space(simulated).parameters != loaded.parameters:
            raise AssertionError(f"{simulated}: does not read back as the grid it holds")
    return Recorded(table, simulated, trained=trained)
