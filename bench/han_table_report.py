"""What the HAN learning-curve table says: rung reliability, seed noise, val-to-test agreement.

Rung reliability: for each ASHA rung r (grace period 1, reduction factor 3: epochs 1, 3, 9,
27), the Spearman correlation over configurations of the anchored validation loss at epoch
r (what ASHA compares) with the final value. "Final" is read two ways: the value at the last
epoch, and the best value over all epochs (``best_anchored_val_loss``: what a search picks
on). Over the seed-mean curves ("mean") and within each seed. Also how many of the truly
best third (by final value) are in the best third at the rung (what ASHA keeps).

Seed-noise floor: per configuration and epoch, the standard deviation between the trainer
seeds (ddof 1), its median over configurations, beside the spread between configurations
(the standard deviation of the seed means): a difference between two configurations
smaller than the floor is not a difference.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from bench.common import base_meta, header, markdown_table, write_outputs

__all__ = [
    "noise_floor",
    "rung_epochs",
    "rung_reliability",
    "val_test_agreement",
    "write_report",
]

KEYS = ["size", "loss_strategy", "dropout", "budget_beta", "regret_clip"]
VAL, TEST = "anchored_val_loss", "anchored_test_loss"


def rung_epochs(max_epochs: int, grace: int = 1, factor: int = 3) -> list[int]:
    """ASHA's rungs: grace * factor^k up to ``max_epochs`` (1, 3, 9, 27 for 27)."""
    out, r = [], grace
    while r <= max_epochs:
        out.append(r)
        r *= factor
    return out


def _keyed(table: pd.DataFrame) -> pd.DataFrame:
    """The grid columns as strings, "-" where a parameter is inactive (NaN is no key)."""
    return table.assign(**{k: table[k].map(lambda v: "-" if pd.isna(v) else str(v)) for k in KEYS})


def _wide(table: pd.DataFrame, column: str) -> pd.DataFrame:
    """(configuration, seed) x epoch of ``column``."""
    return _keyed(table).pivot_table(index=[*KEYS, "seed"], columns="epoch", values=column)


def _final(wide: pd.DataFrame, how: str) -> pd.Series:
    return wide.iloc[:, -1] if how == "last" else wide.min(axis=1)


def _rho(a: pd.Series, b: pd.Series) -> float:
    """Spearman's rho; NaN when either side is constant (no ranking to compare)."""
    x, y = a.to_numpy(), b.to_numpy()
    if np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(spearmanr(x, y).statistic)


def _top_kept(rung: pd.Series, final: pd.Series, factor: int) -> float:
    k = max(1, len(final) // factor)
    best = set(final.nsmallest(k).index)
    return len(best & set(rung.nsmallest(k).index)) / k


def rung_reliability(
    table: pd.DataFrame, rungs: list[int], final: str = "best", factor: int = 3
) -> list[dict[str, Any]]:
    """Per rung: Spearman(rung value, final value) over configurations, on the seed-mean
    curves and per seed, and the share of the best 1/factor kept at the rung."""
    wide = _wide(table, VAL)
    fin = _final(wide, final)
    mean_wide = wide.groupby(level=KEYS).mean()
    mean_fin = fin.groupby(level=KEYS).mean()
    seeds = sorted(wide.index.get_level_values("seed").unique())
    out = []
    for r in rungs:
        row: dict[str, Any] = {"rung": r, "configs": len(mean_wide)}
        row["spearman_mean"] = _rho(mean_wide[r], mean_fin)
        per_seed = []
        for s in seeds:
            mine = wide.xs(s, level="seed")
            assert isinstance(mine, pd.DataFrame), "a level of the rows selects a frame"
            per_seed.append(_rho(mine[r], _final(mine, final)))
        row["spearman_per_seed"] = per_seed
        row["top_kept_mean"] = _top_kept(mean_wide[r], mean_fin, factor)
        out.append(row)
    return out


def noise_floor(table: pd.DataFrame, epochs: list[int], column: str = VAL) -> list[dict]:
    """Per epoch: the median (and max) over configurations of the sd between seeds, and the
    sd between configurations of the seed means; also for the best value so far; and the
    median sd between seeds once each seed's mean over configurations is removed."""
    wide = _wide(table, column)
    best = wide.cummin(axis=1)
    out = []
    for e in epochs:
        row: dict[str, Any] = {"epoch": e}
        for label, w in (("", wide), ("best_", best)):
            by_config = w[e].groupby(level=KEYS)
            seed_sd = by_config.std(ddof=1)
            row[f"{label}seed_sd_median"] = float(seed_sd.median())
            row[f"{label}seed_sd_max"] = float(seed_sd.max())
            row[f"{label}config_sd"] = float(by_config.mean().std(ddof=1))
        # a seed can move every configuration alike (same initial weights): that shift
        # reorders nothing; what is left after removing each seed's mean can
        offsets = wide[e] - wide[e].groupby(level="seed").transform("mean")
        row["seed_sd_centred_median"] = float(offsets.groupby(level=KEYS).std(ddof=1).median())
        out.append(row)
    return out


def val_test_agreement(table: pd.DataFrame, epochs: list[int]) -> dict[str, Any]:
    """Spearman over configurations of the seed-mean val and test losses at each epoch in
    ``epochs``; and over runs, the best val against the test loss at that epoch."""
    val, test = _wide(table, VAL), _wide(table, TEST)
    mv, mt = val.groupby(level=KEYS).mean(), test.groupby(level=KEYS).mean()
    at = {e: _rho(mv[e], mt[e]) for e in epochs}
    best_epoch = val.idxmin(axis=1)
    test_at_best = pd.Series([test.at[i, e] for i, e in best_epoch.items()], index=best_epoch.index)
    picked = val.min(axis=1)
    return {
        "spearman_at_epoch": at,
        "spearman_best_val_vs_its_test": _rho(picked, test_at_best),
        "runs_test_below_zero_at_best": float((test_at_best < 0).mean()),
        "median_gap_test_minus_val_at_best": float((test_at_best - picked).median()),
    }


def summary(table: pd.DataFrame, plan: Any, quick: bool) -> dict[str, Any]:
    epochs = int(table["epoch"].max())
    rungs = rung_epochs(epochs)
    marks = sorted({*rungs, epochs})
    per_size = table.groupby("size")["epoch_time_s"].median().to_dict()
    return {
        "meta": base_meta(quick, seeds=list(plan.seeds), epochs=epochs, fixed=plan.fixed),
        "grid": {k: sorted(table[k].dropna().unique().tolist()) for k in KEYS},
        "configs": len(table.groupby(KEYS, dropna=False)),
        "rows": len(table),
        "cpu_s": float(table["epoch_time_s"].sum()),
        "wall_s": float(table["epoch_wall_s"].sum()),
        "epoch_time_s_median": {str(k): float(v) for k, v in per_size.items()},
        "rungs": rungs,
        "rung_reliability": {f: rung_reliability(table, rungs, f) for f in ("best", "last")},
        "noise_floor": noise_floor(table, marks),
        "test_noise_floor": noise_floor(table, marks, TEST),
        "val_test": val_test_agreement(table, marks),
    }


def _fmt_seeds(values: list[float]) -> str:
    return ", ".join(f"{v:+.2f}" for v in values)


def markdown(s: dict[str, Any]) -> str:
    lines = header("HAN learning-curve table", s["meta"])
    e = s["meta"]["epochs"]
    custom = any(k.startswith("data.synth.") for k in s["meta"]["fixed"])
    data = "the synthetic data set by data.synth.*" if custom else "the small synthetic preset"
    lines += [
        f"{s['configs']} configurations x {len(s['meta']['seeds'])} trainer seeds x {e} "
        f"epochs = {s['rows']} rows in `han_table.parquet` (one per configuration, seed and "
        f"epoch; early stopping off). Grid: {s['grid']}. Fixed: {s['meta']['fixed']}; "
        f"{data}, data seed 0, one torch thread.",
        "",
        f"Cost: {s['cpu_s'] / 3600:.2f} h of one core for training + validation "
        f"(its epochs' wall times, summed over the runs, {s['wall_s'] / 3600:.2f} h; "
        "runs recorded side by side share the time); median epoch "
        + ", ".join(f"{k} {v:.2f} s" for k, v in s["epoch_time_s_median"].items())
        + " (CPU seconds of train + validation).",
        "",
        "Look a curve up: `t = pd.read_parquet('results/benchmarks/han_table.parquet'); "
        "t[(t['size'] == 'small') & (t.loss_strategy == 'a3dro') & (t.dropout == 0.15) & "
        "(t.budget_beta == 0.35) & (t.regret_clip == 3.0) & (t.seed == 0)]` (or "
        "`bench.han_table.curve(t, config, seed)`).",
        "",
        "## Rung reliability",
        "",
        "Spearman over configurations of the anchored val loss at the rung with the final "
        "value; *mean*: seed-mean curves; *per seed*: each seed alone. *Top third kept*: "
        "share of the best third by final value that is in the best third at the rung.",
        "",
    ]
    for final, label in (("best", "best over all epochs (what a search picks)"),
                         ("last", f"the value at epoch {e}")):  # fmt: skip
        rows = [
            {**r, "per_seed": _fmt_seeds(r["spearman_per_seed"])}
            for r in s["rung_reliability"][final]
        ]
        cols = {"rung": "rung (epoch)", "spearman_mean": "Spearman (mean)"}
        cols |= {"per_seed": "Spearman (per seed)", "top_kept_mean": "top third kept"}
        lines += [f"Final = {label}:", "", markdown_table(rows, cols, ".2f"), ""]
    lines += [
        "## Seed-noise floor",
        "",
        "Per epoch: the sd between the seeds of one configuration (median and max over "
        "configurations); the same once each seed's mean over all configurations is removed "
        "(a seed that moves every configuration alike reorders nothing); beside it the sd "
        "between configurations of the seed means; *best*: the best value so far.",
        "",
    ]
    cols = {"epoch": "epoch", "seed_sd_median": "seed sd (median)", "seed_sd_max": "(max)"}
    cols |= {"seed_sd_centred_median": "seed sd, seed offset removed"}
    cols |= {"config_sd": "between configs", "best_seed_sd_median": "best: seed sd"}
    cols |= {"best_config_sd": "best: between configs"}
    lines += ["Validation:", "", markdown_table(s["noise_floor"], cols, ".3f"), ""]
    lines += ["Test:", "", markdown_table(s["test_noise_floor"], cols, ".3f"), ""]
    vt = s["val_test"]
    lines += [
        "## Val-to-test agreement",
        "",
        "Spearman over configurations of the seed-mean val and test losses at epoch "
        + ", ".join(f"{k}: {v:+.2f}" for k, v in vt["spearman_at_epoch"].items())
        + f". Over runs, the best val loss against the test loss at that epoch: "
        f"{vt['spearman_best_val_vs_its_test']:+.2f}; test < 0 at the best-val epoch in "
        f"{vt['runs_test_below_zero_at_best']:.0%} of runs; median test - val there "
        f"{vt['median_gap_test_minus_val_at_best']:+.3f}.",
        "",
        "![learning curves and rung reliability](han_table.png)",
    ]
    return "\n".join(lines)


def plot(table: pd.DataFrame, s: dict[str, Any]) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sizes = sorted(table["size"].unique())
    fig, axes = plt.subplots(1, len(sizes) + 2, figsize=(5 * (len(sizes) + 2), 4.2))
    colours = {"uniform": "C0", "kendall": "C1", "softplus_kendall": "C2", "a3dro": "C3"}
    mean = _keyed(table).groupby([*KEYS, "epoch"])[VAL].mean().reset_index()
    for ax, size in zip(axes, sizes, strict=False):
        for _, g in mean[mean["size"] == size].groupby(KEYS):
            strategy = g["loss_strategy"].iloc[0]
            ax.plot(g["epoch"], g[VAL], color=colours.get(strategy, "k"), alpha=0.6, lw=1)
        for strategy, c in colours.items():
            ax.plot([], [], color=c, label=strategy)
        ax.axhline(0, color="grey", lw=0.8, ls=":")
        ax.set(title=f"{size}: anchored val loss (seed mean)", xlabel="epoch", xscale="log")
        _epoch_ticks(ax, s)
        ax.legend(fontsize=8)
    ax = axes[-2]
    for final, style in (("best", "-"), ("last", "--")):
        rows = s["rung_reliability"][final]
        r = [x["rung"] for x in rows]
        ax.plot(r, [x["spearman_mean"] for x in rows], "o" + style, color="k",
                label=f"final = {final}, seed mean")  # fmt: skip
        for i in range(len(rows[0]["spearman_per_seed"])):
            ax.plot(r, [x["spearman_per_seed"][i] for x in rows], "." + style, alpha=0.6,
                    color=f"C{i}", label=f"final = {final}, seed {i}")  # fmt: skip
    ax.set(title="rung reliability", xlabel="rung (epoch)", ylabel="Spearman with final",
           xscale="log", ylim=(-1, 1))  # fmt: skip
    _epoch_ticks(ax, s)
    ax.axhline(0, color="grey", lw=0.8, ls=":")
    ax.legend(fontsize=7)
    ax = axes[-1]
    nf = s["noise_floor"]
    ep = [x["epoch"] for x in nf]
    ax.plot(ep, [x["seed_sd_median"] for x in nf], "o-", label="sd between seeds (median)")
    ax.plot(ep, [x["seed_sd_centred_median"] for x in nf], "^-",
            label="sd between seeds, seed offset removed")  # fmt: skip
    ax.plot(ep, [x["config_sd"] for x in nf], "s-", label="sd between configurations")
    ax.set(title="seed-noise floor (val)", xlabel="epoch", xscale="log", ylabel="sd")
    _epoch_ticks(ax, s)
    ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


def _epoch_ticks(ax: Any, s: dict[str, Any]) -> None:
    marks = sorted({*s["rungs"], s["meta"]["epochs"]})
    ax.set_xticks(marks, labels=[str(m) for m in marks])
    ax.minorticks_off()


def write_report(table: pd.DataFrame, plan: Any, out: Path, quick: bool) -> list[Path]:
    s = summary(table, plan, quick)
    return write_outputs("han_table", markdown(s), s, out, [("han_table", plot(table, s))])
