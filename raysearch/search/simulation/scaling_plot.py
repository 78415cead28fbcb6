"""The figure of a simulation (``Simulation.plot``, ``raysearch simulate --plot``): what k
trials at once buy, in three panels.

1. the best value so far against simulated wall time, one line per k (median over the
   seeds, the band their 25th to 75th percentile) up to the end of its last search, a dot
   there, and the first k's median result, the target of the speed-up; when no search had
   a result within the time budget, a note saying so;
2. the best value after all trials against k (median, bars to the quartiles), and the
   search ``against`` asked for beside it;
3. the speed-up against k (bars: 5th to 95th percentile over resamples of the seeds)
   beside linear scaling, k over the first k.

Drawn on a bare ``matplotlib.figure.Figure``: no pyplot and no backend is chosen, so a
notebook shows it as it shows any figure, and a script needs no screen.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from raysearch.core.errors import ConfigError
from raysearch.core.files import atomic_write
from raysearch.core.timing import readable_seconds, time_unit
from raysearch.search.simulation.scaling_plan import plot_problem

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from raysearch.search.settings import SearchSettings

__all__ = ["anytime_quantiles", "draw_simulation"]


class Simulation(Protocol):
    """What the figure draws of a ``scaling.Simulation`` (its fields of these names)."""

    @property
    def space(self) -> str: ...
    @property
    def source(self) -> str: ...
    @property
    def metric(self) -> str: ...
    @property
    def settings(self) -> SearchSettings: ...
    @property
    def seeds(self) -> int: ...
    @property
    def target(self) -> float: ...
    @property
    def rows(self) -> tuple[dict[str, Any], ...]: ...
    @property
    def time_budget_s(self) -> float | None: ...
    @property
    def trial_start_s(self) -> float: ...
    @property
    def against(self) -> dict[str, Any] | None: ...


GRID = 200  # points of simulated time the best-so-far lines are drawn at


def anytime_quantiles(
    seeds: Sequence[Sequence[Sequence[float]]], grid: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The 25th, 50th and 75th percentile over the seeds of the best value so far at each
    time of ``grid``; ``seeds``: each seed's [time, value] pairs where its best improved. A
    seed with no value yet counts as worse than any (inf), so a percentile is inf (not
    drawn) until that share of the seeds has reported. Percentiles as the tables take them
    (numpy's linear; the median of an even count the mean of the two middle values), so a
    line ends at the median best the table gives; one between a value and inf is inf."""
    at = np.full((len(seeds), len(grid)), np.inf)
    for i, pairs in enumerate(seeds):
        if len(pairs):
            times, values = np.asarray(pairs, dtype=float).T
            index = np.searchsorted(times, grid, side="right") - 1
            at[i] = np.where(index >= 0, values[np.maximum(index, 0)], np.inf)
    # inf as a finite stand-in: numpy's interpolation takes inf - inf, or 0 * inf, as NaN
    stand_in = np.finfo(float).max / 4
    q = np.quantile(np.minimum(at, stand_in), [0.25, 0.5, 0.75], axis=0)
    # a quartile lies a multiple of 1/4 of the way between two values: with inf, at least
    # a quarter of the stand-in
    q25, q50, q75 = np.where(q >= stand_in / 8, np.inf, q)
    return q25, q50, q75


def _line_times(
    grid: np.ndarray, seeds: Sequence[Sequence[Sequence[float]]], end: float
) -> np.ndarray:
    """The times a k's line is drawn at, from ``grid[0]`` to ``end`` (its last search's end):
    ``grid``'s, each time one of its searches (``seeds``, as ``anytime_quantiles`` takes
    them) improved, so each step is drawn where it happened, and ``end``, when every search
    has its best, so the line ends at the median best the table gives."""
    events = [t for pairs in seeds for t, _ in pairs]
    times = np.unique(np.concatenate([grid, np.asarray(events, dtype=float), [end]]))
    return times[(times >= grid[0]) & (times <= end)]


def draw_simulation(sim: Simulation, path: str | os.PathLike[str] | None = None) -> Figure:
    """``sim``'s figure; written to ``path`` (atomically; PNG, PDF or SVG, by its suffix)
    when given, or a ConfigError saying why it cannot be."""
    if path is not None and (why := plot_problem(path)):
        raise ConfigError([f"path: {why}"], "plot arguments")
    fig = Figure(figsize=(15, 4.4), layout="constrained")
    anytime, final, speedup = fig.subplots(1, 3)
    _anytime(anytime, sim)
    _final(final, sim)
    _speedup(speedup, sim)
    title = f"{sim.space} on {sim.source}: {sim.settings.num_samples} trials per search"
    if sim.time_budget_s is not None:  # what may end a search before its trials
        title += f" or {readable_seconds(sim.time_budget_s)} of simulated time"
    title += f", {sim.seeds} seed{'s' * (sim.seeds != 1)} per k"
    if sim.trial_start_s:
        title += f", each trial starting {sim.trial_start_s:g} s before its first epoch"
    fig.suptitle(title)
    if path is not None:
        kind = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
        atomic_write(path, lambda tmp: fig.savefig(tmp, format=kind, dpi=110))
    return fig


def _anytime(ax: Axes, sim: Simulation) -> None:
    ends = [t for r in sim.rows for t in r["ends"]]
    starts = [pairs[0][0] for r in sim.rows for pairs in r["anytime"] if pairs]
    first, last = max(min(starts, default=1.0), 1e-3), max(ends, default=1.0)
    grid = np.geomspace(first, max(last, first * 10), GRID)
    unit, per = time_unit(last)
    trials = sim.settings.num_samples
    for r in sim.rows:  # each k's line ends where its last search ended
        until = _line_times(grid, r["anytime"], max(r["ends"]))
        q25, q50, q75 = anytime_quantiles(r["anytime"], until)
        label, style = f"k={r['workers']}", "-"
        if r["workers"] > trials:  # its line lies on k=trials': dashed, so both are seen
            label, style = f"{label} (all {trials} trials at once)", "--"
        (line,) = ax.step(
            until / per, q50, where="post", label=label, linestyle=style,
            marker="o", markersize=4, markevery=[len(until) - 1],
        )  # fmt: skip  # a dot at its end: seen when that end is its only value
        ax.fill_between(until / per, q25, q75, step="post", alpha=0.15, color=line.get_color())
    budget = sim.time_budget_s
    if budget is not None and all(p[0][0] > budget for r in sim.rows for p in r["anytime"]):
        ax.text(
            0.5, 0.5, "no search had a result within the time budget:\n"
            "each ended with its first result, reported after the budget",
            transform=ax.transAxes, ha="center", va="center", fontsize=9,
        )  # fmt: skip
    k0 = sim.rows[0]["workers"]
    said = f"k={k0}'s median as found (the target)"  # the worse middle one of an even count
    ax.axhline(sim.target, color="grey", linestyle="--", linewidth=1, label=said)
    ax.set_xscale("log")
    # 1, 2, 5 times each power of ten, as plain numbers: the default labelled the minor
    # ticks of a short span with overlapping powers of ten
    ax.xaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel(f"simulated wall time ({unit})")
    ax.set_ylabel(f"best {sim.metric} so far (median, IQR band)")
    ax.set_title("best so far against wall time", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")


def _final(ax: Axes, sim: Simulation) -> None:
    ks = np.array([r["workers"] for r in sim.rows], dtype=float)
    searches = [("the search", [r["summary"] for r in sim.rows], 1.0)]
    if sim.against is not None:
        given = " ".join(f"{k}={v}" for k, v in sim.against["given"].items())
        searches.append((given, [r["against"]["summary"] for r in sim.rows], 1.08))
    for label, summaries, shift in searches:
        med = np.array([s["best"]["median"] for s in summaries])
        low = med - np.array([s["best"]["q25"] for s in summaries])
        high = np.array([s["best"]["q75"] for s in summaries]) - med
        ax.errorbar(ks * shift, med, yerr=[low, high], marker="o", capsize=3, label=label)
    ax.set_xscale("log", base=2)
    ax.set_xticks(ks, [str(int(k)) for k in ks])
    ax.set_xlabel("trials at once (k)")
    ax.set_ylabel(f"best {sim.metric} (median, bars: IQR)")
    ax.set_title("at each search's end", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")


def _speedup(ax: Axes, sim: Simulation) -> None:
    k0 = sim.rows[0]["workers"]
    ks = np.array([r["workers"] for r in sim.rows], dtype=float)
    drawn = [r for r in sim.rows if 0 < r["speedup"] < math.inf]
    x = np.array([r["workers"] for r in drawn], dtype=float)
    y = np.array([r["speedup"] for r in drawn])
    ranges = [r.get("speedup_range", (r["speedup"], r["speedup"])) for r in drawn]
    # a resample's bound may be 0 (not reached) or inf: the bar runs to the axis' end
    low = np.array([s - a if a > 0 else s * 0.99 for s, (a, _) in zip(y, ranges, strict=True)])
    high = np.array(
        [b - s if math.isfinite(b) else s * 1e3 for s, (_, b) in zip(y, ranges, strict=True)]
    )
    ax.errorbar(x, y, yerr=[low, high], marker="o", capsize=3, label="the search")
    ax.plot(ks, ks / k0, color="grey", linestyle=":", label=f"linear (k / {k0})")
    for r in sim.rows:  # at the foot of the axes: where a k has no finite speed-up
        if not 0 < r["speedup"] < math.inf:
            said = "not reached" if not r["speedup"] > 0 else f"only k={r['workers']} reached it"
            ax.annotate(
                said, (r["workers"], 0.02), xycoords=("data", "axes fraction"), fontsize=8,
                ha="center", rotation=90, va="bottom",
            )  # fmt: skip
    ax.set_xscale("log", base=2)
    ax.set_yscale("log", base=2)
    ax.set_xticks(ks, [str(int(k)) for k in ks])
    # the bars may run off it (a bound not reached, or reached only at k): the axis keeps
    # to the speed-ups and the linear line
    ax.set_ylim(min([0.5, *(y / 4)]), max([*(ks / k0), *y]) * 4)
    ax.set_xlabel("trials at once (k)")
    ax.set_ylabel(f"times sooner to k={k0}'s median than k={k0}")
    ax.set_title("speed-up (bars: 90% of seed resamples)", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3, which="both")
