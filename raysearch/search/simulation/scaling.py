"""``raysearch.simulate_search``: ``raysearch simulate`` from Python. How a space's search
would go with k trials at once, on recorded curves or augmented Hartmann, in seconds.

    >>> sim = raysearch.simulate_search("my_grid.yaml", table="my_curves.parquet",
    ...                                 workers=[1, 16, 64], seeds=10)  # doctest: +SKIP
    >>> sim.frame()                                                     # doctest: +SKIP

For each k, ``seeds`` searches run raysearch's own searcher and scheduler (what
``raysearch run`` builds for the space) on a discrete-event clock with k simulated workers
(``runs.run_search``); then, per seed, the search goes on (up to ``REACH_CAP`` times the
space's trials) until it reaches the first k's median result as one of its searches found
it (with an even number of seeds, the worse of the two middle ones: ``runs.median_found``):
the simulated wall time to get there, against the first k's, is the speed-up.
``against``: the same searches with some settings changed, compared seed by seed. With
ASHA, how well the space's rungs rank the curves (``rungs.rank_rungs``). A trial on a
table of curves ends where the space's trainer would stop it (``stopping.TrainerStopped``).

``scaling_plan.check_simulation`` checks everything first and reports every problem in one
``ConfigError``, naming each as its user wrote it (``Names``: the command line's flags or
this function's keywords); ``run_simulation`` then runs the searches. The command line
(raysearch/cli/simulate.py) calls both and prints the tables.
"""

from __future__ import annotations

import math
import os
import statistics
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from raysearch.core.numbers import is_int, is_number, plain
from raysearch.core.timing import readable_seconds
from raysearch.search.names import SIMULATE_API
from raysearch.search.optuna_log import optuna_warnings_only
from raysearch.search.settings import SearchSettings
from raysearch.search.simulation.scaling_plan import SimulationPlan, check_simulation
from raysearch.search.simulation.stopping import TrainerStopped

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from raysearch.search.simulation.engine import SimResult
    from raysearch.search.simulation.rungs import RungRanks

__all__ = ["REACH_CAP", "Simulation", "improvements", "run_simulation", "simulate_search"]

REACH_CAP = 5  # searches for the target run at most this many times the space's trials
# simulate_search's own keywords, beside the search settings (a misspelt one is offered)
KEYWORDS = ("space", "table", "curves", "metric", "workers", "seeds", "against",
            "time_budget_s", "trial_start_s", "log")  # fmt: skip


@dataclass(frozen=True, eq=False)  # its rows are dicts: compared and hashed as an object
class Simulation:
    """What ``simulate_search`` found. ``rows``: one per k, in the order given, each a dict
    with ``workers`` (k), ``summary`` (``seeds``: how many searches it is over; and the
    median, ``median``, and quartiles, ``q25`` and ``q75``, over the seeds of ``best``,
    ``regret``, ``hours`` of simulated wall time, ``epochs``, ``trials``, ``busy``,
    ``decide_ms`` (each search's mean, over its trials, of the real milliseconds its
    searcher and scheduler spent on a trial: drawing it, hearing its results, deciding
    whether it goes on), ``drawn``, ``stopped`` and ``retrained``: ``runs.summarise``),
    ``bests`` (each
    seed's best value), ``anytime`` (each seed's best so far, as [simulated seconds,
    value] pairs where it improved), ``ends`` (each seed's simulated seconds when its
    search ended), ``gate_held`` (with gated_asha, per rung epoch, the trials ASHA stopped
    there that its gate let go on, over the seeds' searches: ``runs.held_stops``; empty
    otherwise), ``reach_times`` (each seed's simulated seconds to ``target``, inf: not
    reached), ``reach_s`` (their median), ``speedup`` (the first k's ``reach_s`` over this
    one's) and, past the first k, ``speedup_range`` (5th and 95th percentile over
    bootstrap resamples of the seeds); with ``against``, ``against`` (its summary, as
    ``summary`` less ``drawn``, ``stopped`` and ``retrained``, and the seed-by-seed comparison:
    ``runs.paired``). ``target``: the first k's median best as one of its searches found
    it (with an even number of seeds, the worse of the two middle ones, not their mean:
    ``runs.median_found``), the value the reach runs go on to. ``rungs``: how the rungs
    rank the curves (None without ASHA). ``frame()`` gives the rows as a table;
    ``record()`` as ``raysearch simulate --out`` writes them; ``plot()`` draws them."""

    space: str
    source: str
    metric: str  # what the values are: a table's column, or f(x)
    trial_ends: str | None  # what ends a table's trials (TrainerStopped.describe); None: max_epochs
    settings: SearchSettings
    seeds: int
    trial_start_s: float
    time_budget_s: float | None
    target: float
    rows: tuple[dict[str, Any], ...]
    rungs: RungRanks | None = None
    against: dict[str, Any] | None = None

    def frame(self) -> pd.DataFrame:
        """One row per k (the index, ``workers``), each figure the median over the seeds:
        ``best`` (with ``best_q25`` and ``best_q75``, its quartiles), ``regret`` (best minus
        the lowest value the curves reach), ``best_drawn`` (the best any drawn
        configuration's whole curve reaches), ``sim_hours`` (simulated wall time),
        ``epochs``, ``trials``, ``stopped_early``, ``retrained`` (trials that trained a
        curve an earlier trial of their configuration had: ``runs.retrained``) and ``busy``
        (the workers' busy share);
        ``reach_sim_hours`` (simulated hours to ``target``, the first k's median best as
        one of its searches found it: with an even number of seeds, the worse of the two
        middle ones; inf: not reached) and ``speedup`` over the first k, with
        ``speedup_p5`` and ``speedup_p95`` (its 5th and 95th percentile over resamples of
        the seeds; NaN for the first k).
        With ``against``: ``against_best`` (its median best), and the seeds on which it
        found a lower value than the search (``against_better``), a higher one
        (``against_worse``), and the two-sided sign test's ``against_p``; the same at equal
        simulated wall time, by the end of the shorter of the two searches
        (``against_time_better``, ``against_time_worse``, ``against_time_p``)."""
        rows = []
        for r in self.rows:
            s = r["summary"]
            low, high = r.get("speedup_range", (math.nan, math.nan))
            row = {
                "workers": r["workers"],
                "best": s["best"]["median"],
                "best_q25": s["best"]["q25"],
                "best_q75": s["best"]["q75"],
                "regret": s["regret"]["median"],
                "best_drawn": s["drawn"]["median"],
                "sim_hours": s["hours"]["median"],
                "epochs": s["epochs"]["median"],
                "trials": s["trials"]["median"],
                "stopped_early": s["stopped"]["median"],
                "retrained": s["retrained"]["median"],
                "busy": s["busy"]["median"],
                "reach_sim_hours": r["reach_s"] / 3600,
                "speedup": r["speedup"],
                "speedup_p5": low,
                "speedup_p95": high,
            }
            if "against" in r:
                theirs = r["against"]
                row["against_best"] = theirs["summary"]["best"]["median"]
                row["against_better"] = theirs["better"]
                row["against_worse"] = theirs["worse"]
                row["against_p"] = theirs["p"]
                row["against_time_better"] = theirs["time_better"]
                row["against_time_worse"] = theirs["time_worse"]
                row["against_time_p"] = theirs["time_p"]
            rows.append(row)
        return pd.DataFrame(rows).set_index("workers")

    def record(self) -> dict[str, Any]:
        """The figures as ``raysearch simulate --out`` writes them (JSON once undefined
        figures are null: ``core.files.write_json``)."""
        record: dict[str, Any] = {
            "space": self.space,
            "source": self.source,
            "metric": self.metric,
            "trial_ends": self.trial_ends,
            "target": self.target,
            "settings": self.settings.model_dump(),
            "trial_start_s": self.trial_start_s,
            "time_budget_s": self.time_budget_s,
            "rows": [dict(r) for r in self.rows],
        }
        if self.rungs is not None:
            record["rungs"] = asdict(self.rungs)
        if self.against is not None:
            record["against"] = self.against
        return record

    def plot(self, path: str | os.PathLike[str] | None = None) -> Figure:
        """The figure ``raysearch simulate --plot`` writes: the best so far against simulated
        wall time per k, the best after all trials against k, and the speed-up against k
        beside linear scaling (``scaling_plot.draw_simulation``); written to ``path`` when
        given (PNG, PDF or SVG, by its suffix)."""
        # Deferred: matplotlib (a second) only for a plot.
        from raysearch.search.simulation.scaling_plot import draw_simulation

        return draw_simulation(self, path)

    def __repr__(self) -> str:
        k = [r["workers"] for r in self.rows]
        best = [float(f"{r['summary']['best']['median']:.4g}") for r in self.rows]
        return (
            f"Simulation(space={self.space!r}, source={self.source!r}, workers={k}, "
            f"seeds={self.seeds}, median best per k={best})"
        )


def simulate_search(
    space: str | os.PathLike[str] | None = None,
    *,
    table: str | os.PathLike[str] | pd.DataFrame | None = None,
    curves: str | None = None,
    metric: str | None = None,
    workers: Sequence[int] = (1, 4, 16, 64),
    seeds: int = 10,
    against: Mapping[str, Any] | None = None,
    time_budget_s: float | None = None,
    trial_start_s: float = 0.0,
    log: Callable[[str], None] | None = print,
    **settings: Any,
) -> Simulation:
    """How the search of ``space`` (a shipped space's name or a YAML file) would go with
    each number of trials at once in ``workers``, ``seeds`` searches each, on the curves
    of ``table`` (a parquet or CSV file of recorded curves, as ``record_curves`` writes
    it, or its DataFrame; ``metric``: the column to minimise, default anchored_val_loss)
    or on ``curves="hartmann"`` (augmented Hartmann 6-D, its own space: no ``space``).

    Any search setting of the space can be given as a keyword (``num_samples``,
    ``scheduler``, ``grace_period``, ``multivariate``, ...: ``SearchSettings``), and
    ``against={"scheduler": "asha"}`` runs the search again with those settings changed,
    on the same seeds, to compare seed by seed. ``time_budget_s``: each search also ends
    after this many simulated seconds, as ``run_search(time_budget_s=...)`` ends a real
    one; ``trial_start_s``: simulated seconds each trial takes before its first epoch.
    ``log``: called with a line of progress after each search (``None``: silent).

    Every problem with the arguments is reported at once, in a ``ConfigError``, before
    anything runs. Returns a ``Simulation``; ``.frame()`` is one row per k.
    """
    listed = isinstance(workers, Sequence | np.ndarray) and not isinstance(workers, str)
    ks = list(workers) if listed else workers
    plan = check_simulation(
        space,
        table=table,
        curves=curves,
        metric=metric,
        against=against,
        settings=settings,
        names=SIMULATE_API,
        problems=_call_problems(ks, seeds, time_budget_s, trial_start_s, log),
        keywords=KEYWORDS,
    )
    return run_simulation(
        plan,
        [int(k) for k in ks],  # NumPy's integers too, which Ray Tune's limiter refuses
        int(seeds),
        trial_start_s=float(trial_start_s),
        time_budget_s=None if time_budget_s is None else float(time_budget_s),
        log=log,
    )


def _call_problems(
    workers: Any, seeds: Any, time_budget_s: Any, trial_start_s: Any, log: Any
) -> list[str]:
    """What is wrong with ``simulate_search``'s own arguments (the command line's parser
    checks its flags)."""
    problems = []
    if (
        not isinstance(workers, list)
        or not workers
        or not all(is_int(plain(k)) and k >= 1 for k in workers)
    ):
        problems.append(f"workers: expected a list of whole numbers >= 1, got {workers!r}")
    elif len(set(workers)) < len(workers):
        problems.append(f"workers: each k once, got {workers!r}")
    if not (is_int(plain(seeds)) and seeds >= 1):
        problems.append(f"seeds: expected a whole number >= 1, got {seeds!r}")
    if time_budget_s is not None and not (is_number(plain(time_budget_s)) and time_budget_s > 0):
        problems.append(f"time_budget_s: expected seconds > 0 or None, got {time_budget_s!r}")
    if not (is_number(plain(trial_start_s)) and trial_start_s >= 0):
        problems.append(f"trial_start_s: expected seconds >= 0, got {trial_start_s!r}")
    if log is not None and not callable(log):
        problems.append(
            f"log: expected a function taking each progress line (a str), or None, got {log!r}"
        )
    return problems


def run_simulation(
    plan: SimulationPlan,
    workers: Sequence[int],
    seeds: int,
    *,
    trial_start_s: float = 0.0,
    time_budget_s: float | None = None,
    log: Callable[[str], None] | None = None,
) -> Simulation:
    """Run the searches of ``plan`` (checked by ``check_simulation``): ``seeds`` per k,
    then the reach runs. ``log``: a progress line after each search."""
    # a line per simulated search ("A new study created in memory"), among the progress
    with optuna_warnings_only():
        return _run(plan, workers, seeds, trial_start_s, time_budget_s, log)


def _run(
    plan: SimulationPlan,
    workers: Sequence[int],
    seeds: int,
    trial_start_s: float,
    time_budget_s: float | None,
    log: Callable[[str], None] | None,
) -> Simulation:
    # Deferred: as run_simulation's.
    from raysearch.search.simulation.rungs import rank_rungs, sample_curves
    from raysearch.search.simulation.runs import (
        held_stops,
        median_found,
        paired,
        resampled_speedups,
        run_search,
        summarise,
        time_to_reach,
    )

    space, source, other = plan.space, plan.source, plan.other
    start, budget = trial_start_s, time_budget_s
    progress = _Progress(len(workers) * seeds * (3 if other is not None else 2), log)
    rows: list[dict[str, Any]] = []
    for k in workers:
        results = []
        for seed in range(seeds):
            results.append(run_search(space, source, k, seed, start_s=start, time_limit=budget))
            progress.done(f"k={k}, seed {seed}: best {results[-1].best:.4g}")
        rows.append(
            {
                "workers": k,
                "summary": summarise(results, source.optimum, source),
                "bests": [x.best for x in results],
                "anytime": [improvements(x) for x in results],
                "ends": [x.end for x in results],
                "gate_held": held_stops(results),
            }
        )
        if other is not None:
            theirs = []
            for seed in range(seeds):
                theirs.append(run_search(other, source, k, seed, start_s=start, time_limit=budget))
                progress.done(f"k={k}, seed {seed}, against: best {theirs[-1].best:.4g}")
            rows[-1]["against"] = {
                "summary": summarise(theirs, source.optimum),
                **paired(results, theirs),
            }
    target = median_found(rows[0]["bests"])  # the first k's median result, as found
    cap = REACH_CAP * space.settings.num_samples
    for r in rows:  # trials keep coming until the first k's median is reached (or the cap)
        times = []
        for seed in range(seeds):
            reach = run_search(
                space, source, r["workers"], seed, num_trials=cap, target=target, start_s=start
            )
            times.append(time_to_reach(reach, target))
            got = (
                f"reached {target:.4g} in {readable_seconds(times[-1])} (simulated)"
                if math.isfinite(times[-1])
                else f"did not reach {target:.4g} in {cap} trials"
            )
            progress.done(f"k={r['workers']}, seed {seed}: {got}")
        r["reach_times"], r["reach_s"] = times, statistics.median(times)
    first = rows[0]["reach_s"]
    for r in rows:
        r["speedup"] = first / r["reach_s"] if r["reach_s"] > 0 else math.inf
        if r is not rows[0]:  # how far the seeds pin it down: 5th and 95th of resamples
            ratios = resampled_speedups(rows[0]["reach_times"], r["reach_times"])
            r["speedup_range"] = (
                float(np.quantile(ratios, 0.05, method="lower")),
                float(np.quantile(ratios, 0.95, method="higher")),
            )
    s = space.settings
    return Simulation(
        space=space.name,
        source=source.name,
        metric=plan.metric,
        trial_ends=source.describe() if isinstance(source, TrainerStopped) else None,
        settings=s,
        seeds=seeds,
        trial_start_s=start,
        time_budget_s=budget,
        target=target,
        rows=tuple(rows),
        rungs=rank_rungs(sample_curves(space, plan.curves), epochs)
        if (epochs := s.rung_epochs())
        else None,
        against=None
        if other is None
        else {"given": dict(plan.against or {}), "settings": other.settings.model_dump()},
    )


def improvements(result: SimResult) -> list[list[float]]:
    """A search's best so far where it improved: [simulated seconds, value] pairs."""
    epochs = result.epochs.sort_values("t", kind="stable")
    best = epochs["value"].cummin()
    better = best < best.shift(fill_value=np.inf)
    return [[float(t), float(v)] for t, v in zip(epochs["t"][better], best[better], strict=True)]


class _Progress:
    """A line after each of ``total`` searches: how many are done, what this one found and
    the time left, estimated from the time so far."""

    def __init__(self, total: int, log: Callable[[str], None] | None) -> None:
        self.total, self.log, self.finished = total, log, 0
        self.started = time.perf_counter()

    def done(self, what: str) -> None:
        self.finished += 1
        if self.log is None:
            return
        elapsed = time.perf_counter() - self.started
        left = elapsed / self.finished * (self.total - self.finished)
        self.log(f"simulate: [{self.finished}/{self.total}] {what}; ETA {readable_seconds(left)}")
