"""The scaling benchmark's plots: regret after 200 trials against k, per benchmark; and the
speed-up each search gets at the quality it reaches (analyse.worth)."""

from __future__ import annotations

from typing import Any

from bench.scaling.benchmarks import BENCHMARKS
from bench.scaling.methods import DEFAULT, MAIN, METHODS

__all__ = ["SEARCHERS", "SHOWN", "plot", "plot_draws", "plot_worth"]

# the methods in the plot (the candidate fixes and ASHA variants are in the tables only),
# each with one colour on every panel
SHOWN = (*MAIN, "wandb")
# the searchers plot (scaling_searchers.png): the default (joint TPE, independent as trials
# run) beside joint TPE alone and the searchers that draw more widely, the library's too
SEARCHERS = ("default", "before_mix", "tpe_independent", "synetune_bohb", "random_asha")


def _panels(
    rows: list[dict[str, Any]], shown: tuple[str, ...] = SHOWN
) -> tuple[Any, list[tuple[Any, str]], dict[str, Any]]:
    """A figure with one panel per benchmark in ``rows`` ([(axes, benchmark)]), and each
    method's colour (``shown``'s order)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = dict(zip(shown, matplotlib.color_sequences["tab10"], strict=False))
    benches = [b for b in BENCHMARKS if any(r["bench"] == b for r in rows)]
    fig, axes = plt.subplots(1, len(benches), figsize=(4.2 * len(benches), 4.0), squeeze=False)
    return fig, list(zip(axes[0], benches, strict=True)), colours


def _k_axis(ax: Any, bench: str) -> None:
    """k on a log-2 axis at 1, 4, 16, 64, the benchmark's title, a grid."""
    ax.set_xscale("log", base=2)
    ax.set_xticks([1, 4, 16, 64], labels=["1", "4", "16", "64"])
    ax.set_xlabel("trials at once (k)")
    ax.set_title(BENCHMARKS[bench].title, fontsize=9)
    ax.grid(alpha=0.3, which="both")


def plot(rows: list[dict[str, Any]], shown: tuple[str, ...] = SHOWN) -> Any:
    """Regret after 200 trials against k, a panel per benchmark, for each of ``shown``."""
    fig, panels, colours = _panels(rows, shown)
    for ax, bench in panels:
        for method in shown:
            mine = sorted(
                (r for r in rows if r["bench"] == bench and r["method"] == method),
                key=lambda r: r["workers"],
            )
            if not mine:
                continue
            ks = [r["workers"] for r in mine]
            med = [max(r["regret"]["median"], 1e-5) for r in mine]
            lo = [max(r["regret"]["q25"], 1e-5) for r in mine]
            hi = [max(r["regret"]["q75"], 1e-5) for r in mine]
            colour = colours[method]
            ax.plot(
                ks,
                med,
                marker="o",
                color=colour,
                lw=2.4 if method == DEFAULT else 1.2,
                label=METHODS[method].label,
            )
            ax.fill_between(ks, lo, hi, color=colour, alpha=0.12)
        _k_axis(ax, bench)
        ax.set_yscale("log")
    panels[0][0].set_ylabel("regret after 200 trials (median, IQR band; 0 drawn at 1e-5)")
    found: dict[str, Any] = {}
    for ax, _ in panels:  # every method once, whichever panel has it
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            found.setdefault(label, handle)
    fig.legend(
        list(found.values()),
        list(found),
        loc="upper center",  # below the panels, whatever rows it takes (saved to fit)
        ncol=4,
        fontsize=8,
        bbox_to_anchor=(0.5, 0.0),
    )
    fig.tight_layout()
    return fig


def plot_worth(rows: list[dict[str, Any]]) -> Any:
    """Speed-up against k at the quality each search reaches after 200 trials, per
    benchmark, beside the ideal (k) and the issue's targets (10x at 16, 32x at 64)."""
    fig, panels, colours = _panels(rows)
    for ax, bench in panels:
        ax.plot([1, 64], [1, 64], ls="--", color="grey", lw=1, label="ideal: k")
        ax.plot([16, 64], [10, 32], ls="none", marker="*", ms=11, color="black",
                label="targets (10x, 32x)")  # fmt: skip
        for method in dict.fromkeys(r["method"] for r in rows):
            mine = sorted(
                (r for r in rows if r["bench"] == bench and r["method"] == method),
                key=lambda r: r["workers"],
            )
            if not mine:
                continue
            ks = [1] + [r["workers"] for r in mine]
            speed = [1.0] + [max(r["speedup"], 0.1) for r in mine]
            ax.plot(ks, speed, marker="o", color=colours[method],
                    lw=2.4 if method == DEFAULT else 1.2, label=METHODS[method].label)  # fmt: skip
            for r in mine:  # a lower bound: k=1 never got as low within its trials
                if r["beyond"]:
                    ax.annotate("≥", (r["workers"], r["speedup"]), textcoords="offset points",
                                xytext=(4, 4), fontsize=9, color=colours[method])  # fmt: skip
        _k_axis(ax, bench)
        ax.set_yscale("log", base=2)
        ticks = [0.5, 1, 2, 4, 8, 16, 32, 64, 128]
        ax.set_yticks(ticks, labels=[f"{t:g}" for t in ticks])
        ax.set_ylim(0.4, 140)
    panels[0][0].set_ylabel("speed-up at the regret k reaches in 200 trials")
    handles, labels = panels[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=5, fontsize=8, bbox_to_anchor=(0.5, 0.0))
    fig.tight_layout()
    return fig


# the draws plot's searches (bench.scaling.draws.DRAWS_METHODS), by short names
DRAWN = {"default": "default", "random_asha": "random + ASHA", "tpe_fifo": "TPE, no early stopping"}


def plot_draws(rows: list[dict[str, Any]]) -> Any:
    """Per benchmark (columns), against k: each search's median regret reached (solid) and
    that of the best configuration it drew, were it run to its end (dashed); after 200
    trials (top row) and at random + ASHA's epochs (bottom row). ``rows`` from
    ``bench.scaling.draws.draws_rows``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    colours = dict(zip(DRAWN, matplotlib.color_sequences["tab10"], strict=False))
    benches = [b for b in BENCHMARKS if any(r["bench"] == b for r in rows)]
    fig, axes = plt.subplots(
        2, len(benches), figsize=(4.2 * len(benches), 7.6), squeeze=False, sharex=True
    )
    for col, bench in enumerate(benches):
        for row, (when, pick) in enumerate(
            (("after 200 trials", lambda r: r), ("at random + ASHA's epochs", lambda r: r["at"]))
        ):
            ax = axes[row][col]
            for method, name in DRAWN.items():
                mine = sorted(
                    (r for r in rows if r["bench"] == bench and r["method"] == method),
                    key=lambda r: r["workers"],
                )
                for key, style, what in (
                    ("reached", "-", "reached"),
                    ("drawn", "--", "best drawn"),
                ):
                    ax.plot(
                        [r["workers"] for r in mine],
                        [max(pick(r)[key]["median"], 1e-5) for r in mine],
                        style,
                        marker="o",
                        markersize=3,
                        lw=2.2 if method == DEFAULT else 1.2,
                        color=colours[method],
                        label=f"{name}: {what}",
                    )
            ax.set_yscale("log")
            _k_axis(ax, bench)
            ax.set_title(f"{BENCHMARKS[bench].title}\n{when}", fontsize=8)
        axes[0][col].set_xlabel("")
    for row in axes:
        row[0].set_ylabel("regret (median; 0 drawn at 1e-5)")
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=6, fontsize=8, bbox_to_anchor=(0.5, -0.03))
    fig.tight_layout()
    return fig
