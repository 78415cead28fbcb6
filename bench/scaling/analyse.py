"""The scaling benchmark's figures, from its run records (bench.scaling.grid)."""

from __future__ import annotations

import math
import statistics
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd

from bench.anytime import median_curve
from bench.common import quartiles, spread
from raysearch.search.simulation.runs import resampled_speedups

__all__ = [
    "at_budget",
    "best_at",
    "equal_epochs",
    "equal_time",
    "met_share",
    "quality",
    "quartiles",
    "reach_against",
    "records_unchanged",
    "speedups",
    "spread",
    "worth",
]

Record = dict[str, Any]
TIME_DECIMALS = 2  # a run's improvements keep their simulated times to 0.01 s (grid)


def best_at(record: Record, *, epochs: float | None = None, seconds: float | None = None) -> float:
    """The run's best value after ``epochs`` epochs, or ``seconds`` simulated seconds
    (inf before its first result). ``seconds`` is read at the precision of the improvements'
    times (0.01 s, bench.scaling.grid): a run's best at its own ``end`` is its best, though
    its last improvement's time may round above ``end``; an improvement within 0.005 s after
    ``seconds`` counts as at it."""
    if epochs is not None:
        column, limit = 0, epochs
    else:
        assert seconds is not None, "best_at: give epochs or seconds"
        column, limit = 1, round(seconds, TIME_DECIMALS)
    found = math.inf
    for point in record["improvements"]:
        if point[column] > limit:
            break
        found = point[2]
    return found


def regret(record: Record, value: float) -> float:
    """``value`` less the run's optimum, both at the precision of its improvements (6
    significant digits, bench.scaling.grid), so a value read from them (``best_at``) that is
    the optimum has a regret of 0, not minus the rounding's few 1e-7."""
    return _kept(value) - _kept(record["optimum"])


def _kept(value: float) -> float:
    return float(f"{value:.6g}")


Cells = dict[tuple[str, str, int], list[Record]]

# What records_unchanged keeps while it is open, by id: each list's cells, with the list and
# its records' ids (a list that gained or lost records is grouped again); each record's
# regret curve, with the record. None: nothing is kept.
_kept_cells: dict[int, tuple[list[Record], tuple[int, ...], Cells]] | None = None
_kept_curves: dict[int, tuple[Record, pd.DataFrame]] | None = None


@contextmanager
def records_unchanged() -> Iterator[None]:
    """Within it, a list of runs is grouped by cell once, and a run's regret curve drawn
    once, however often the figures ask (a render of scaling.md asks for the cells of the
    same lists 805 times and for 3,600 curves of 1,200 runs: 12 s a render before, 6.7 s
    after). For code that changes no record's benchmark, method, k, seed or improvements
    while it is open, as ``render`` does not; what it kept is let go when it closes."""
    global _kept_cells, _kept_curves
    if _kept_cells is not None:  # already open: the outer one keeps and lets go
        yield
        return
    _kept_cells, _kept_curves = {}, {}
    try:
        yield
    finally:
        _kept_cells, _kept_curves = None, None


def _cells(runs: list[Record]) -> Cells:
    """The runs by (benchmark, method, k), each cell's by seed (not to be changed: within
    records_unchanged, the next caller is given the same lists)."""
    if _kept_cells is not None:
        ids = tuple(map(id, runs))
        kept = _kept_cells.get(id(runs))
        if kept is not None and kept[0] is runs and kept[1] == ids:
            return kept[2]
    cells: Cells = defaultdict(list)
    for r in runs:
        cells[(r["bench"], r["method"], r["workers"])].append(r)
    for records in cells.values():
        records.sort(key=lambda r: r["seed"])
    if _kept_cells is not None:
        _kept_cells[id(runs)] = (runs, ids, cells)
    return cells


def quality(runs: list[Record]) -> list[dict[str, Any]]:
    """Per (benchmark, method, k): regret after the search's trials, epochs, wall time."""
    rows = []
    for (bench, method, k), records in sorted(_cells(runs).items()):
        rows.append(
            {
                "bench": bench,
                "method": method,
                "workers": k,
                "synthetic": any(r.get("source", "").endswith("synthetic") for r in records),
                "regret": spread([r["best"] - r["optimum"] for r in records]),
                "epochs": spread([r["epochs"] for r in records]),
                "hours": spread([r["end"] / 3600 for r in records]),
                "busy": spread([r["busy"] for r in records]),
                "decide_ms": spread([r["decide_ms_mean"] for r in records]),
            }
        )
    return rows


def _at_the_lesser(
    runs: list[Record], bench: str, a: str, b: str, k: int, spent: str
) -> dict[str, Any] | None:
    """``a`` against ``b`` at the same k, seed by seed at the lesser of the two runs'
    ``spent`` ("epochs", or "end": simulated seconds): the regrets there and how many seeds
    ``a`` was at least as good; ``budgets``: that lesser amount, per seed."""
    cells = _cells(runs)
    mine, theirs = cells.get((bench, a, k)), cells.get((bench, b, k))
    if not mine or not theirs:
        return None
    pairs = [(x, y) for x in mine for y in theirs if x["seed"] == y["seed"]]
    axis = "epochs" if spent == "epochs" else "seconds"
    ra, rb, budgets = [], [], []
    for x, y in pairs:
        budget = min(x[spent], y[spent])
        budgets.append(budget)
        ra.append(regret(x, best_at(x, **{axis: budget})))
        rb.append(regret(y, best_at(y, **{axis: budget})))
    return {
        "bench": bench,
        "workers": k,
        "a": a,
        "b": b,
        "budgets": budgets,
        "regret_a": spread(ra),
        "regret_b": spread(rb),
        "a_not_worse": sum(x <= y for x, y in zip(ra, rb, strict=True)),
        "seeds": len(pairs),
    }


def equal_epochs(runs: list[Record], bench: str, a: str, b: str, k: int) -> dict[str, Any] | None:
    """``a`` against ``b`` at the same k, seed by seed at the same epochs: the fewer of the
    two runs' epochs. Regret medians and how many seeds ``a`` was at least as good."""
    found = _at_the_lesser(runs, bench, a, b, k, "epochs")
    if found is None:
        return None
    budgets = found.pop("budgets")
    return {**found, "epochs": spread(budgets)}


def equal_time(runs: list[Record], bench: str, a: str, b: str, k: int) -> dict[str, Any] | None:
    """``a`` against ``b`` at the same k, seed by seed at the same simulated wall time: the
    shorter of the two runs. Regret medians and how many seeds ``a`` was at least as good."""
    found = _at_the_lesser(runs, bench, a, b, k, "end")
    if found is None:
        return None
    budgets = found.pop("budgets")
    return {**found, "hours": spread([s / 3600 for s in budgets])}


def at_budget(
    runs: list[Record], budget: list[Record], bench: str, other: str, k: int
) -> dict[str, Any] | None:
    """The default after its trials against ``other`` given the default's epochs (its
    budget runs), seed by seed at the same k: regret medians, how many seeds the default
    was at least as good, and how many trials ``other`` took (``short``: seeds whose budget
    run ran out of trials before it had spent the default's epochs)."""
    from bench.scaling.methods import DEFAULT

    mine = {r["seed"]: r for r in _cells(runs).get((bench, DEFAULT, k), [])}
    theirs = {r["seed"]: r for r in _cells(budget).get((bench, other, k), [])}
    # a budget run made for other runs of the default (re-measured since) is not compared
    seeds = sorted(s for s in mine.keys() & theirs.keys() if _budget_of(theirs[s], mine[s]))
    if not seeds:
        return None
    ra = [mine[s]["best"] - mine[s]["optimum"] for s in seeds]
    rb = [theirs[s]["best"] - theirs[s]["optimum"] for s in seeds]
    return {
        "bench": bench,
        "workers": k,
        "a": DEFAULT,
        "b": other,
        "epochs": spread([mine[s]["epochs"] for s in seeds]),
        "trials_b": spread([theirs[s]["trials"] for s in seeds]),
        "short": sum(theirs[s]["epochs"] < mine[s]["epochs"] for s in seeds),
        "regret_a": spread(ra),
        "regret_b": spread(rb),
        "a_not_worse": sum(x <= y for x, y in zip(ra, rb, strict=True)),
        "seeds": len(seeds),
    }


def reach_against(record: Record) -> str:
    """Whose k=1 target and time a reach run was run against: its own (``against``), or,
    for runs recorded without it, its method's baseline."""
    from bench.scaling.methods import METHODS

    return record.get("against") or METHODS[record["method"]].baseline


def _budget_of(budget_run: Record, default_run: Record) -> bool:
    """The budget run was given this run of the default's epochs."""
    return budget_run.get("epoch_budget") == default_run["epochs"]


SPEEDUP_TARGETS = {
    16: 10.0,
    64: 32.0,
}  # issue 14: k=16 and k=64 reach k=1's result this much sooner
REACH_MARGIN = 2  # reach runs at k stop at REACH_MARGIN x T1 / s (reach_limit)


def reach_limit(t1: float, k: int) -> float:
    """How long a reach run at k goes on: ``REACH_MARGIN`` T1 / s, s the speed-up the target
    asks for at k (k itself where there is none). Long enough to decide the target: the
    median of an even number of seeds is the mean of the middle two, so if the upper one
    is later than the limit the median is later than T1 / s, and the target is missed."""
    return REACH_MARGIN * t1 / SPEEDUP_TARGETS.get(k, k)


def met_share(ones: list[float], at_k: list[float], need: float) -> float:
    """How sure a speed-up verdict is: the share of bootstrap resamples of the seeds whose
    medians meet the target (``resampled_speedups``: a resample whose median at k was not
    reached misses). A share, not an interval: the verdict is what a user reads."""
    return float(np.mean(resampled_speedups(ones, at_k) >= need))


def speedups(
    reach: list[Record], runs: list[Record], method: str | None = None, own: bool = False
) -> list[dict[str, Any]]:
    """Per benchmark and k: a method's (the default's if None) simulated time to reach its
    baseline's k=1 median (with ``own``: its own k=1 median; median over seeds; inf: not
    reached within the run's limit), the speed-up over that k=1 time, and the regret after
    the same trial count."""
    from bench.scaling.methods import DEFAULT, METHODS

    method = method or DEFAULT
    baseline = method if own else METHODS[method].baseline
    # the baseline's k=1 runs against itself, and the method's runs against the baseline
    reach = [
        r
        for r in reach
        if reach_against(r) == baseline
        and (r["method"] in (method, baseline))
        and (r["method"] == method or r["workers"] == 1)
    ]
    cells = _cells(reach)
    trials = _cells(runs)
    rows = []
    for bench in sorted({r["bench"] for r in reach if r["method"] == method}):
        ones = cells.get((bench, baseline, 1), [])
        t1 = statistics.median(_reach_time(r) for r in ones)
        for (b, m, k), records in sorted(cells.items()):
            if b != bench or m != method:
                continue
            tk = statistics.median(_reach_time(r) for r in records)
            limit = records[0]["time_limit"]
            at = trials.get((bench, method, k), [])
            rows.append(
                {
                    "bench": bench,
                    "method": method,
                    "workers": k,
                    "target": records[0]["target"],
                    "target_regret": records[0]["target"] - records[0]["optimum"],
                    "seconds": tk,
                    "limit": limit,
                    "speedup": t1 / tk if math.isfinite(tk) else math.nan,
                    # not reached: below T1 over the least the median can be, every seed
                    # not reached counted as reaching at the limit
                    "speedup_floor": t1
                    / statistics.median(min(_reach_time(r), limit) for r in records)
                    if limit
                    else math.nan,
                    "reached": sum(_reach_time(r) < math.inf for r in records),
                    "seeds": len(records),
                    # the seeds' spread: T1 over the slow quarter's and the fast quarter's time
                    "speedup_quartiles": [
                        (t1 / time, censored) for time, censored in _quartile_times(records, limit)
                    ],
                    "regret_trials": spread([r["best"] - r["optimum"] for r in at]),
                    # how many seed resamples meet the target at k (None: no target at k)
                    "met_share": met_share(
                        [_reach_time(r) for r in ones],
                        [_reach_time(r) for r in records],
                        SPEEDUP_TARGETS[k],
                    )
                    if k in SPEEDUP_TARGETS
                    else None,
                }
            )
    return rows


def _reach_time(record: Record) -> float:
    return record["end"] if record["reached"] else math.inf


def _quartile_times(records: list[Record], limit: float | None) -> list[tuple[float, bool]]:
    """The 75th and 25th percentile of the seeds' times to reach the target, each as an
    observed seed's (the inverted CDF: the least time at or under which that share of the
    seeds reached it), with whether that seed did not reach it within the run's ``limit``
    (its time then the limit: the true time is later, and a speed-up from it a bound)."""
    times = sorted(
        (min(t, limit) if limit else t, t == math.inf) for t in map(_reach_time, records)
    )
    return [times[max(math.ceil(q * len(times)) - 1, 0)] for q in (0.75, 0.25)]


def _regret_curve(record: Record) -> pd.DataFrame:
    """The run's improvements as an anytime curve of regret (bench.anytime's columns; not to
    be changed: within records_unchanged, the next caller is given the same frame)."""
    if _kept_curves is not None:
        kept = _kept_curves.get(id(record))
        if kept is not None and kept[0] is record:
            return kept[1]
    curve = pd.DataFrame(record["improvements"], columns=["epochs", "t", "best"], dtype=float)
    curve = curve.assign(best=[regret(record, v) for v in curve["best"]])
    if _kept_curves is not None:
        _kept_curves[id(record)] = (record, curve)
    return curve


def _median_first(records: list[Record], axis: str, level: float) -> float:
    """The least ``axis`` value (``epochs``, or ``t``: simulated seconds) at which the
    median over the runs of their regret so far is at most ``level`` (inf: not within the
    runs)."""
    curves = [_regret_curve(r) for r in records]
    grid = np.unique(np.concatenate([c[axis].to_numpy() for c in curves]))
    reached = np.flatnonzero(median_curve(curves, axis, grid) <= level)
    return float(grid[reached[0]]) if len(reached) else math.inf


def worth(runs: list[Record], method: str) -> list[dict[str, Any]]:
    """What k trials at once buy, at the quality they reach: per benchmark and k > 1, the
    median regret after the method's trials at k, and the simulated time and epochs the
    method takes to that regret at k=1 and at k (each from the median over seeds of the
    regret so far). ``speedup`` = time at k=1 / time at k: how many workers the k act as.
    ``epoch_ratio`` = epochs at k=1 / epochs at k: below 1, the k trials at once need more
    epochs than one at a time for the same result. Where k=1 never got that low within its
    trials, the k=1 figures are its run's end and the speed-up a lower bound (``beyond``)."""
    cells = _cells(runs)
    rows = []
    for (bench, m, k), records in sorted(cells.items()):
        ones = cells.get((bench, m, 1))
        if m != method or k == 1 or not ones:
            continue
        # the improvements' own values (``best`` has more digits than they keep)
        level = statistics.median(regret(r, best_at(r, epochs=math.inf)) for r in records)
        seconds_k, epochs_k = (
            _median_first(records, "t", level),
            _median_first(records, "epochs", level),
        )
        seconds_1, epochs_1 = _median_first(ones, "t", level), _median_first(ones, "epochs", level)
        beyond = not math.isfinite(seconds_1)
        if beyond:
            seconds_1 = statistics.median(r["end"] for r in ones)
            epochs_1 = statistics.median(r["epochs"] for r in ones)
        rows.append(
            {
                "bench": bench,
                "method": m,
                "workers": k,
                "regret": level,
                "seconds_1": seconds_1,
                "seconds_k": seconds_k,
                "epochs_1": epochs_1,
                "epochs_k": epochs_k,
                "speedup": seconds_1 / seconds_k,
                "epoch_ratio": epochs_1 / epochs_k,
                "beyond": beyond,
            }
        )
    return rows
