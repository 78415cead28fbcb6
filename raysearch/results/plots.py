"""The comparison report's figures (matplotlib, Agg backend: no screen needed).

Each function draws one PNG and writes it atomically; none of them computes anything the
report states in numbers (that is ``raysearch.results.analysis``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from raysearch.core.files import atomic_write
from raysearch.core.metrics import (
    BEST_VAL_METRIC,
    COMPLETED,
    FAILED,
    INTERRUPTED,
    OUT_OF_TIME,
    STOPPED,
)
from raysearch.results.analysis import anytime_curve, strategies
from raysearch.results.evidence import asha_rungs
from raysearch.results.importance import Importance
from raysearch.results.runs import RunData
from raysearch.results.trials import scored_trials

__all__ = [
    "draw_learning_curves",
    "draw_strategies",
    "plot_anytime",
    "plot_importance",
    "plot_learning_curves",
    "plot_parallel_coordinates",
    "plot_strategies",
]

# How a trial's curve is drawn, by its status (core.metrics.TRIAL_STATUSES; a trial not
# started reported no epoch, so it has no curve). A trial cut short (the time budget, an
# interrupted search) is not drawn as one that ran its course.
_STATUS_STYLE = {
    COMPLETED: {"color": "tab:blue", "marker": "o", "linestyle": "-"},
    STOPPED: {"color": "tab:orange", "marker": "x", "linestyle": "--"},
    FAILED: {"color": "tab:red", "marker": "s", "linestyle": ":"},
    OUT_OF_TIME: {"color": "tab:purple", "marker": ">", "linestyle": "-."},
    INTERRUPTED: {"color": "tab:gray", "marker": "d", "linestyle": "-."},
}
# How the per-strategy figure's legend names a trial's marker (a trial cut short shows the
# best value it reached before it was)
_STATUS_LABEL = {
    STOPPED: "stopped by ASHA",
    OUT_OF_TIME: f"{OUT_OF_TIME} (value so far)",
    INTERRUPTED: f"{INTERRUPTED} (value so far)",
}
_YLABEL = "anchored_val_loss (mean clipped log ratio; < 0 beats the reference)"


def _save(fig: Figure, path: Path) -> Path:
    try:
        atomic_write(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight"))
    finally:
        plt.close(fig)
    return path


def _legend_or_note(ax: plt.Axes, note: str) -> None:
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=8)
    else:
        ax.text(0.5, 0.5, note, ha="center", va="center", transform=ax.transAxes)


def plot_anytime(runs: Sequence[RunData], path: Path, show_epochs: bool = False) -> Path:
    """Best-so-far against epochs consumed, one step line per run on one axis;
    ``show_epochs``: each counted epoch's value as a dot."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for run in runs:
        curve = anytime_curve(run)
        if curve.empty:
            continue
        (line,) = ax.step(
            curve["epochs_consumed"], curve["best_so_far"], where="post", label=run.name, lw=2
        )
        if show_epochs:  # of the trials the curve counts: a failed trial's are no best
            counted = curve[curve["counted"]]
            left_out = " (failed trials' left out)" if len(counted) < len(curve) else ""
            ax.scatter(
                counted["epochs_consumed"],
                counted["anchored_val_loss"],
                s=10,
                color=line.get_color(),
                alpha=0.35,
                label=f"{run.name}: each epoch{left_out}",
            )
    ax.set_xlabel("epochs consumed by the search")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel("best anchored_val_loss so far")
    ax.set_title("Anytime performance" + ("" if len(runs) == 1 else " across runs"))
    ax.grid(alpha=0.3)
    _legend_or_note(ax, "no trial reported an epoch")
    return _save(fig, path)


def plot_learning_curves(run: RunData, path: Path) -> Path:
    """Each trial's anchored_val_loss by epoch (``draw_learning_curves``), as a PNG."""
    fig, ax = plt.subplots(figsize=(8, 4.5))
    draw_learning_curves(run, ax)
    return _save(fig, path)


def draw_learning_curves(run: RunData, ax: plt.Axes) -> None:
    """Each trial's anchored_val_loss by epoch, coloured by loss strategy; trials stopped
    by ASHA dashed with an x, failed ones dotted, those cut short (out of time,
    interrupted) dash-dotted; ASHA's rungs (``asha_rungs``: none for FIFO) as grey
    lines."""
    trials = run.trials.assign(strategy=strategies(run.trials)).set_index("trial_id")
    colors = {name: f"C{i}" for i, name in enumerate(sorted(trials["strategy"].unique()))}
    for trial_id, group in run.epochs.groupby("trial_id", sort=True):
        kind = trials["status"].get(trial_id, COMPLETED)
        name = trials["strategy"].get(trial_id, "(unknown)")
        style = _STATUS_STYLE[kind]
        ax.plot(
            group["epoch"],
            group["anchored_val_loss"],
            color=colors.get(name, "grey"),
            marker=style["marker"],
            linestyle=style["linestyle"],
            markersize=4,
            alpha=0.75,
        )
    for name, color in colors.items():
        ax.plot([], [], color=color, lw=2, label=name)
    reported = trials[trials.index.isin(run.epochs["trial_id"])]
    for kind in _STATUS_STYLE:
        if kind != COMPLETED and (reported["status"] == kind).any():
            style = _STATUS_STYLE[kind]
            ax.plot([], [], color="k", marker=style["marker"], ls=style["linestyle"], label=kind)
    rungs = asha_rungs(run.settings)  # as the evidence section lists them
    for epoch in rungs:
        ax.axvline(epoch, color="grey", lw=0.8, alpha=0.5)
    ax.set_xlabel("epoch (grey lines: ASHA rungs)" if rungs else "epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(_YLABEL, fontsize=8)
    ax.set_title(f"{run.name}: learning curves by trial")
    ax.grid(alpha=0.3)
    _legend_or_note(ax, "no trial reported an epoch")


def plot_strategies(runs: Sequence[RunData], path: Path) -> Path:
    """Distribution of best_anchored_val_loss per loss strategy (``draw_strategies``)."""
    names = {name for run in runs for name in strategies(scored_trials(run.trials))}
    fig, ax = plt.subplots(figsize=(max(6, 1.6 * len(names) * max(1, len(runs))), 4.5))
    draw_strategies(runs, ax)
    return _save(fig, path)


def _marker(status: str) -> str:
    """A trial's marker in the per-strategy figure (a status raysearch does not write: *)."""
    return str(_STATUS_STYLE[status]["marker"]) if status in _STATUS_STYLE else "*"


def draw_strategies(runs: Sequence[RunData], ax: plt.Axes) -> None:
    """Distribution of best_anchored_val_loss per loss strategy, runs side by side: a box
    per run and strategy, and each trial as a marker by how it ended (the legend names
    each marker drawn: a trial cut short shows its value so far)."""
    frames = []
    for run in runs:
        scored = scored_trials(run.trials)  # as the strategy table counts them
        values = pd.to_numeric(scored[BEST_VAL_METRIC], errors="coerce")
        frames.append(scored.assign(strategy=strategies(scored), value=values, run=run.name))
    data = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    names = sorted(data["strategy"].unique()) if len(data) else []
    width = 0.8 / max(1, len(runs))
    rng = np.random.default_rng(0)
    for r, run in enumerate(runs):
        color = f"C{r}"
        for s, name in enumerate(names):
            group = data[(data["run"] == run.name) & (data["strategy"] == name)]
            if group.empty:
                continue
            x = s + (r - (len(runs) - 1) / 2) * width
            ax.boxplot(
                group["value"],
                positions=[x],
                widths=width * 0.8,
                showfliers=False,
                patch_artist=True,
                boxprops={"facecolor": color, "alpha": 0.25},
                medianprops={"color": color},
            )
            for kind, part in group.groupby("status"):
                jitter = rng.uniform(-width / 5, width / 5, len(part))
                marker = _marker(str(kind))
                ax.scatter(x + jitter, part["value"], s=22, color=color, marker=marker)
    ax.set_xticks(range(len(names)), names)
    if not names:
        ax.text(
            0.5,
            0.5,
            f"no trial with a finite {BEST_VAL_METRIC}",
            ha="center",
            transform=ax.transAxes,
        )
    for r, run in enumerate(runs):
        ax.plot([], [], color=f"C{r}", lw=6, alpha=0.4, label=run.name)
    drawn = set(data["status"].astype(str)) if len(data) else set()
    for kind in [*(k for k in _STATUS_STYLE if k in drawn), *sorted(drawn - set(_STATUS_STYLE))]:
        ax.scatter([], [], color="k", marker=_marker(kind), label=_STATUS_LABEL.get(kind, kind))
    ax.set_ylabel(f"{BEST_VAL_METRIC} per trial")
    ax.set_title("Per-strategy distribution (markers: how each trial ended)")
    ax.grid(alpha=0.3, axis="y")
    ax.legend(fontsize=8)


def _axis_values(column: pd.Series) -> tuple[np.ndarray, list[float], list[str]]:
    """Values scaled to [0, 1] (NaN -> -0.12, drawn as 'not set'), tick positions, labels."""
    numeric = pd.to_numeric(column, errors="coerce")
    is_numeric = column.dropna().map(lambda v: not isinstance(v, (bool, str))).all()
    if is_numeric and numeric.notna().any():
        low, high = float(numeric.min()), float(numeric.max())
        span = high - low or 1.0
        scaled = ((numeric - low) / span).to_numpy(dtype=float)
        ticks, labels = [0.0, 1.0], [f"{low:.3g}", f"{high:.3g}"]
    else:
        choices = sorted(column.dropna().astype(str).unique())
        position = {
            c: (i / (len(choices) - 1) if len(choices) > 1 else 0.5) for i, c in enumerate(choices)
        }
        scaled = column.map(
            lambda v: position.get(str(v), math.nan) if pd.notna(v) else math.nan
        ).to_numpy(dtype=float)
        ticks, labels = list(position.values()), choices
    if np.isnan(scaled).any():
        scaled = np.where(np.isnan(scaled), -0.12, scaled)
        ticks, labels = [*ticks, -0.12], [*labels, "not set"]
    return scaled, ticks, labels


def plot_parallel_coordinates(run: RunData, path: Path) -> Path:
    """One line per scored trial through normalised axes: each searched parameter, then
    the metric; colour = best_anchored_val_loss (darker is better)."""
    trials = scored_trials(run.trials).copy()
    params = run.searched  # the training seed is no axis: it is not a knob (nor searched)
    axes_names = [*params, BEST_VAL_METRIC]
    fig, ax = plt.subplots(figsize=(max(6, 2.2 * len(axes_names)), 4.8))
    if trials.empty:
        ax.text(0.5, 0.5, "no trial with a finite metric", ha="center", transform=ax.transAxes)
        return _save(fig, path)
    columns = [trials[f"config/{p}"] for p in params] + [pd.to_numeric(trials[BEST_VAL_METRIC])]
    scaled = [_axis_values(c) for c in columns]
    metric = pd.to_numeric(trials[BEST_VAL_METRIC]).to_numpy(dtype=float)
    norm = plt.Normalize(
        metric.min(), metric.max() if metric.max() > metric.min() else metric.min() + 1
    )
    cmap = plt.get_cmap("viridis")
    xs = np.arange(len(axes_names))
    for i in np.argsort(-metric):  # best drawn last, on top
        ys = [s[0][i] for s in scaled]
        ax.plot(xs, ys, color=cmap(norm(metric[i])), alpha=0.8, lw=1.5)
    for x, (_, ticks, labels) in zip(xs, scaled, strict=True):
        ax.axvline(float(x), color="k", lw=0.8)
        for tick, label in zip(ticks, labels, strict=True):
            ax.text(x + 0.03, tick, label, fontsize=7, va="center")
    ax.set_xticks(xs, axes_names, fontsize=8)
    ax.set_yticks([])
    ax.set_ylim(-0.2, 1.08)
    ax.set_title(f"{run.name}: parallel coordinates ({len(trials)} scored trials)")
    bar = fig.colorbar(plt.cm.ScalarMappable(norm=norm, cmap=cmap), ax=ax)
    bar.set_label(BEST_VAL_METRIC)
    return _save(fig, path)


def plot_importance(importance: Importance, title: str, path: Path) -> Path:
    """Horizontal bars of fANOVA importance (or the reason none could be computed)."""
    items = sorted(importance.values.items(), key=lambda kv: kv[1])
    fig, ax = plt.subplots(figsize=(6, 0.5 * max(3, len(items)) + 1))
    if items:
        ax.barh([k for k, _ in items], [v for _, v in items], color="tab:green")
        ax.set_xlim(0, 1)
        ax.set_xlabel(f"fANOVA importance ({importance.n_trials} trials)")
    else:
        ax.text(0.5, 0.5, importance.note or "nothing to show", ha="center", wrap=True)
        ax.set_axis_off()
    ax.set_title(title)
    return _save(fig, path)
