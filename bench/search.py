"""Search efficiency on the HAN, and parallel efficiency (writes search.* and parallel.*).

    python -m bench.search [--quick] [--out DIR]

Four methods (bench/methods.py) on the same space (bench/spaces/han_bench.yaml), trial
count and seeds: ``tpe_gated_asha`` (raysearch's default: Optuna TPE + rung-gated ASHA
through the product's driver),
``random_fifo`` (random search, every trial at full budget: the baseline), ``random_asha``
and ``optuna_hyperband`` (Optuna alone, no Ray: TPE + Optuna's Hyperband pruner, 2
processes sharing a journal-file storage, the same trainer). Two trials at once everywhere
(2 CPUs).

Each method draws from a seed stream of its own: its run for seed s has seed
s + SEED_STREAM * (its place in METHODS), for its searcher and its trials' training seeds
alike. With one seed for all, every searcher's random start-up drew the same first
configurations with the same training seeds as the baseline, so a method "reached" the
baseline's best with the baseline's own trial.

Anytime curves: the best anchored_val_loss so far against epochs consumed and against wall
time. Headline: per seed, the epochs each method spent when it first reached the final best
of full-budget random search with the same seed s, as a fraction of random search's epochs
(docs/design.md: TPE+ASHA <= 1/3). Parallel efficiency: the share of the search's wall time
(Tune's, from its start to its end; Ray start excluded) during which the k=2 worker slots
were training or validating (docs/design.md: >= 90%).
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.anytime import anytime_curve, epochs_to_reach, median_curve
from bench.common import (
    OUT,
    ROOT,
    Target,
    base_meta,
    header,
    log,
    markdown_table,
    per_method_medians,
    quartiles,
    recorded_meta,
    spread,
    targets_section,
    write_outputs,
)
from bench.methods import METHODS as REGISTRY
from bench.methods import RAYSEARCH, Method, describe
from bench.optuna_alone import run_optuna_alone
from raysearch.data.reading import read_parquet

__all__ = ["METHODS", "NAMES", "main"]

SPACE = ROOT / "bench" / "spaces" / "han_bench.yaml"
BASELINE = "random_fifo"
METHODS = REGISTRY.select(("random_fifo", RAYSEARCH, "random_asha", "optuna_hyperband"))
NAMES = tuple(m.name for m in METHODS)
CONCURRENT = 2
SEED_STREAM = 1000  # method i's run for seed s: seed s + SEED_STREAM * i (module doc)
SEEDS = tuple(range(10))


def run_seed(method: Method, seed: int) -> int:
    """The seed of ``method``'s run for the benchmark's seed ``seed`` (its own stream)."""
    return seed + SEED_STREAM * NAMES.index(method.name)


@dataclass(frozen=True)
class HanObjective:
    """Optuna-alone's objective: the same trial config and trainer as a raysearch trial."""

    setup: Any  # raysearch.search.trainable.TrialSetup
    space: Any  # raysearch.search.space.SearchSpace
    seed: int

    def __call__(self, trial: Any, report: Any) -> float:
        import torch

        from raysearch.data.prepared import prepare
        from raysearch.search.trainable import trial_config
        from raysearch.train.loop import fit

        torch.set_num_threads(1)
        params = self.space.sample(trial)
        cfg = trial_config(self.setup, {**params, "trainer.seed": self.seed + trial.number})
        data = prepare(cfg.data, self.setup.cache_dir)

        def on_epoch(result: Any) -> None:
            m = result.metrics
            report(
                int(m["epoch"]), float(m["anchored_val_loss"]), m["time/train_s"] + m["time/val_s"]
            )

        return float(fit(cfg, data, on_epoch=on_epoch).best_metrics["anchored_val_loss"])


def _space_file(method: Method, root: str) -> Path:
    """The benchmark's space, or a copy with the method's own settings (``run_search``
    overrides only the searcher and the scheduler)."""
    if not method.settings:
        return SPACE
    import yaml

    text = yaml.safe_load(SPACE.read_text())
    text["settings"] = {**text["settings"], **method.settings}
    path = Path(root) / method.name / SPACE.name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(text, sort_keys=False))
    return path


def _ray_method(method: Method, seed: int, n: int, epochs: int, root: str) -> dict[str, Any]:
    from raysearch.api import run_search
    from raysearch.search.options import RunOptions
    from raysearch.search.tracking import WandbOptions

    options = RunOptions(
        space=str(_space_file(method, root)),
        num_samples=n,
        max_epochs=epochs,
        max_concurrent=method.concurrent or CONCURRENT,
        results=root,
        name=f"{method.name}-seed{seed}",
        seed=seed,
        searcher=method.searcher,
        scheduler=method.scheduler,
        wandb=WandbOptions(enabled=False),
        argv=("bench.search",),
    )
    summary = run_search(options=options)
    run_dir = Path(summary["run_dir"])
    timing = summary["timing"]
    ep = read_parquet(run_dir / "epochs.parquet")
    records = pd.DataFrame(
        {
            "trial": ep["trial_id"],
            "epoch": ep["epoch"],
            "value": ep["anchored_val_loss"],
            "busy": ep["time/train_s"] + ep["time/val_s"],
            "t": ep["time/end_unix"] - timing["time/tune_started_unix"],
        }
    )
    wall = timing["time/tune_ended_unix"] - timing["time/tune_started_unix"]
    return {"records": records, "wall": wall, "ray_init_s": timing.get("time/ray_init_s", 0.0)}


def _optuna_method(method: Method, seed: int, n: int, epochs: int, root: str) -> dict[str, Any]:
    from raysearch.search.options import RunOptions
    from raysearch.search.plan import resolve_search

    plan = resolve_search(
        RunOptions(space=str(SPACE), num_samples=n, max_epochs=epochs, results=root, seed=seed),
        {"CPU": float(CONCURRENT)},
    )
    settings = method.optuna_alone(plan.space.settings, seed=seed, processes=CONCURRENT)
    workdir = Path(root) / f"{method.name}-seed{seed}"
    records, wall = run_optuna_alone(settings, HanObjective(plan.setup, plan.space, seed), workdir)
    return {"records": records, "wall": wall, "ray_init_s": 0.0}


_RUNNERS = {"tune": _ray_method, "optuna_alone": _optuna_method}  # by Method.engine


def run(quick: bool) -> dict[str, Any]:
    n, epochs, seeds = (6, 3, [0]) if quick else (20, 9, list(SEEDS))
    runs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-search-") as root:
        for seed in seeds:  # seed-major: load drift on a shared machine hits all methods
            for method in METHODS:
                log(f"search: {method.name}, seed {seed} ({n} trials, {epochs} epochs max)")
                started = time.perf_counter()
                run_method = _RUNNERS[method.engine]
                res = run_method(method, run_seed(method, seed), n, epochs, root)
                res.update(method=method.name, seed=seed, total_s=time.perf_counter() - started)
                log(
                    f"search: {method.name}, seed {seed}: {len(res['records'])} epochs, "
                    f"{res['wall']:.0f} s"
                )
                runs.append(res)
    return {
        "meta": base_meta(
            quick,
            seeds=seeds,
            repeats=len(seeds),
            trials=n,
            max_epochs=epochs,
            concurrent=CONCURRENT,
            seed_stream=SEED_STREAM,
            methods=describe(METHODS),
        ),
        "runs": runs,
    }


def analyse(result: dict[str, Any]) -> dict[str, Any]:
    """Per run: its curve, epochs, best, busy share; per method: the medians over seeds."""
    rows = []
    for r in result["runs"]:
        curve = anytime_curve(r["records"])
        r["curve"] = curve
        r["epochs"] = len(curve)
        r["best"] = float(curve["best"].iloc[-1])
        r["busy_share"] = float(r["records"]["busy"].sum()) / (CONCURRENT * r["wall"])
    for r in result["runs"]:
        base = next(b for b in result["runs"] if b["method"] == BASELINE and b["seed"] == r["seed"])
        reach = epochs_to_reach(r["curve"], base["best"])
        r["reach_ratio"] = reach / base["epochs"]
        r["reach_wall_ratio"] = (
            float(r["curve"].loc[r["curve"]["best"] <= base["best"], "t"].iloc[0]) / base["wall"]
            if math.isfinite(reach)
            else math.inf
        )
        rows.append(
            {
                k: r[k]
                for k in (
                    "method",
                    "seed",
                    "epochs",
                    "best",
                    "reach_ratio",
                    "reach_wall_ratio",
                    "wall",
                    "busy_share",
                )
            }
        )
    keys = ("epochs", "best", "reach_ratio", "reach_wall_ratio", "wall", "busy_share")
    per_method = per_method_medians(rows, NAMES, keys)
    for m in per_method:  # the seeds' spread of the answers
        mine = [r for r in rows if r["method"] == m["method"]]
        m["best_spread"] = spread([r["best"] for r in mine])
        m["reach_spread"] = spread([r["reach_ratio"] for r in mine])
    return {"rows": rows, "per_method": per_method}


def rung_rankings(result: dict[str, Any]) -> list[dict[str, Any]]:
    """How well a trial's value at each ASHA rung predicts its best over all epochs, from the
    baseline's full curves (every trial trained every epoch): Spearman's rho over trials,
    and the rank at the rung of the trial that ended best (ASHA keeps the top
    1/reduction_factor at each rung, so a rank above that cuts the eventual winner)."""
    from scipy.stats import spearmanr

    rows = []
    max_epochs = result["meta"]["max_epochs"]
    rungs = [r for r in (1, 3, 9, 27) if r < max_epochs]
    for run in result["runs"]:
        if run["method"] != BASELINE:
            continue
        rec = run["records"]
        final = rec.groupby("trial")["value"].min()
        for rung in rungs:
            at = rec[rec["epoch"] == rung].set_index("trial")["value"]
            common = final.index.intersection(at.index)
            if len(common) < 3:
                continue
            rows.append(
                {
                    "seed": run["seed"],
                    "rung": rung,
                    "trials": len(common),
                    "rho": float(spearmanr(at[common], final[common]).statistic),
                    "winner_rank": int(at[common].rank()[final[common].idxmin()]),
                }
            )
    return rows


def _fmt_ratio(x: float) -> str:
    return "not reached" if not math.isfinite(x) else f"{x:.2f}"


def _reach(s: dict[str, float]) -> str:
    return "not reached" if not math.isfinite(s["median"]) else quartiles(s, ".2f")


def search_markdown(result: dict[str, Any], table: dict[str, Any]) -> str:
    meta = result["meta"]
    lines = header("Search efficiency on the HAN", meta)
    lines += [
        f"Space `bench/spaces/han_bench.yaml`: {meta['trials']} trials per search, up to "
        f"{meta['max_epochs']} epochs each, {meta['concurrent']} trials at once. Baseline "
        f"({BASELINE}): random search with every trial at full budget, same seed s. "
        + (
            f"Each method's run for seed s has seed s + {meta['seed_stream']} x its place "
            "in the table (0 for the baseline), for its searcher and its trials' training "
            "seeds, so no two methods share draws. "
            if "seed_stream" in meta
            else "Every method ran with seed s itself, so their random start-up draws were "
            "the baseline's own. "
        )
        + "`reach` = epochs spent when a method first matched "
        "the baseline's final best, divided by the baseline's total epochs (wall: the same "
        "with Tune's wall time); medians over seeds, in brackets the 25th and 75th "
        "percentiles ('inf': not reached).",
        "",
    ]
    shown = []
    for m in table["per_method"]:
        shown.append(
            {
                **m,
                "best": quartiles(m["best_spread"], ".3f"),
                "reach_ratio": _reach(m["reach_spread"]),
                "reach_wall_ratio": _fmt_ratio(m["reach_wall_ratio"]),
            }
        )
    lines.append(
        markdown_table(
            shown,
            {
                "method": "method",
                "seeds": "seeds",
                "epochs": "epochs used",
                "best": "best, median [25th, 75th]",
                "reached": "reached baseline's best",
                "reach_ratio": "reach (epochs / baseline's)",
                "reach_wall_ratio": "reach (wall / baseline's)",
                "wall": "search wall (s)",
            },
            ".3f",
        )
    )
    lines += ["", "Per seed:", ""]
    per_seed = [
        {
            **r,
            "reach_ratio": _fmt_ratio(r["reach_ratio"]),
            "reach_wall_ratio": _fmt_ratio(r["reach_wall_ratio"]),
        }
        for r in table["rows"]
    ]
    lines.append(
        markdown_table(
            per_seed,
            {
                "method": "method",
                "seed": "seed",
                "epochs": "epochs",
                "best": "best",
                "reach_ratio": "reach (epochs)",
                "reach_wall_ratio": "reach (wall)",
                "wall": "wall (s)",
            },
            ".3f",
        )
    )
    rankings = rung_rankings(result)
    if rankings:
        lines += [
            "",
            "Why early stopping struggles here: from the baseline's full curves, how well a "
            "trial's value at each ASHA rung ranks trials by their final best (Spearman's rho), "
            "and where the trial that ended best stood at the rung (1 = first; ASHA keeps the "
            f"top 1/{result['meta'].get('reduction_factor', 3)}).",
            "",
            markdown_table(
                rankings,
                {
                    "seed": "seed",
                    "rung": "rung (epoch)",
                    "trials": "trials",
                    "rho": "rho",
                    "winner_rank": "eventual best's rank",
                },
                ".2f",
            ),
        ]
    lines += targets_section(result["targets"], "anytime curves", "search_anytime.png")
    return "\n".join(lines) + "\n"


def search_targets(table: dict[str, Any], rankings: list[dict[str, Any]]) -> list[Target]:
    tpe = next(m for m in table["per_method"] if m["method"] == RAYSEARCH)
    base = next(m for m in table["per_method"] if m["method"] == BASELINE)
    mine = [r for r in table["rows"] if r["method"] == RAYSEARCH]
    ratios = ", ".join(_fmt_ratio(r["reach_ratio"]) for r in mine)
    met = tpe["reach_ratio"] <= 1 / 3
    return [
        Target(
            "ASHA + TPE reaches full-budget random search's best with <= 1/3 of its epochs",
            f"median {_fmt_ratio(tpe['reach_ratio'])} (per seed: {ratios}; "
            f"{tpe['epochs']:.0f} vs {base['epochs']:.0f} epochs in all)",
            met,
            "" if met else _search_bound(tpe, base, rankings),
        )
    ]


def _search_bound(tpe: dict[str, Any], base: dict[str, Any], rankings: list) -> str:
    first = [r for r in rankings if r["rung"] == 1]
    text = (
        f"{tpe['reached']} seeds reached it at all; ASHA's whole budget is "
        f"{tpe['epochs'] / base['epochs']:.2f} of random's"
    )
    if first:
        rhos = ", ".join(f"{r['rho']:.2f}" for r in first)
        ranks = ", ".join(f"{r['winner_rank']}/{r['trials']}" for r in first)
        text += (
            f"; the HAN's first-epoch values rank trials poorly (Spearman rho {rhos} with "
            f"their final best; random search's eventual winner stood {ranks} after epoch 1, "
            "where ASHA keeps the top third)"
        )
    return text


def parallel_markdown(result: dict[str, Any], table: dict[str, Any]) -> str:
    meta = result["meta"]
    lines = header("Parallel efficiency", meta)
    lines += [
        f"k = {meta['concurrent']} trials at once on {meta['machine']['cpus']} CPUs. Busy "
        "share = seconds the trials spent training or validating (summed over trials) / "
        "(k x the search's wall time from Tune's start to its end; Ray start excluded). "
        "Baseline in the same run: 100% = both slots training all the time. Medians over seeds.",
        "",
        markdown_table(
            table["per_method"],
            {
                "method": "method",
                "seeds": "seeds",
                "busy_share": "busy share",
                "wall": "search wall (s)",
                "epochs": "epochs",
            },
            ".3f",
        ),
        *targets_section(result["parallel_targets"], "busy share", "parallel.png"),
    ]
    return "\n".join(lines) + "\n"


def work_per_trial(result: dict[str, Any], method: str) -> tuple[float, float]:
    """(median seconds of training + validation per trial, median search wall) of a method."""
    runs = [r for r in result["runs"] if r["method"] == method]
    work = pd.concat([r["records"].groupby("trial")["busy"].sum() for r in runs])
    return float(work.median()), float(np.median([r["wall"] for r in runs]))


def parallel_targets(table: dict[str, Any], result: dict[str, Any]) -> list[Target]:
    found = []
    for m in table["per_method"]:
        if m["method"] not in (RAYSEARCH, BASELINE):
            continue
        work, wall = work_per_trial(result, m["method"])
        met = m["busy_share"] >= 0.9
        found.append(
            Target(
                f"busy workers >= 90% of the wall time, k={CONCURRENT}: {m['method']}",
                f"{m['busy_share']:.1%}",
                met,
                ""
                if met
                else f"trials here are short (median {work:.1f} s of training + validation "
                f"in a {wall:.0f} s search), so each trial's fixed costs (scheduling, model "
                "build, test evaluation, checkpoints: about 1-3 s, overhead.md) and each "
                "slot's first trial process start weigh heavily",
            )
        )
    return found


def plots(result: dict[str, Any], table: dict[str, Any]) -> list[tuple[str, Any]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, axis, label in (
        (axes[0], "epochs", "epochs consumed"),
        (axes[1], "t", "wall time since the search started (s)"),
    ):
        for method in NAMES:
            curves = [r["curve"] for r in result["runs"] if r["method"] == method]
            top = max(c[axis].iloc[-1] for c in curves)
            grid = np.linspace(0, top, 200)
            med = median_curve(curves, axis, grid)
            ax.plot(grid, med, label=method, lw=2 if method == RAYSEARCH else 1.3)
            lo = np.full_like(grid, np.nan)
            hi = np.full_like(grid, np.nan)
            for i, g in enumerate(grid):
                vals = [
                    float(c.loc[c[axis] <= g, "best"].min()) for c in curves if (c[axis] <= g).any()
                ]
                if len(vals) == len(curves):
                    lo[i], hi[i] = np.quantile(vals, [0.25, 0.75])
            ax.fill_between(grid, lo, hi, alpha=0.15)
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("best anchored_val_loss so far")
    axes[0].legend()
    fig.suptitle(
        f"Anytime curves (median over {len(result['meta']['seeds'])} seeds, "
        "band: 25th-75th percentile)"
    )
    fig2, ax2 = plt.subplots(figsize=(6, 3))
    names = [m["method"] for m in table["per_method"]]
    ax2.bar(names, [m["busy_share"] for m in table["per_method"]])
    ax2.axhline(0.9, color="k", ls="--", lw=1, label="target 90%")
    ax2.set_ylim(0, 1)
    ax2.set_ylabel("busy share of k x wall")
    ax2.tick_params(axis="x", labelrotation=15)
    ax2.legend()
    ax2.set_title(f"Parallel efficiency, k={CONCURRENT}")
    return [("search_anytime", fig), ("parallel", fig2)]


def _load(path: Path) -> dict[str, Any]:
    import json

    saved = json.loads(path.read_text())
    runs = []
    for r in saved["runs"]:
        run = {k: v for k, v in r.items() if k != "records"}
        run["records"] = pd.DataFrame(r["records"])
        runs.append(run)
    return {"meta": recorded_meta(saved["meta"], "search"), "runs": runs}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m bench.search", allow_abbrev=False, description=__doc__.splitlines()[0]
    )
    p.add_argument("--quick", action="store_true", help="6 trials, 3 epochs, 1 seed")
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument(
        "--render",
        action="store_true",
        help="rebuild the tables and plots from OUT/search.json without running searches",
    )
    args = p.parse_args(argv)
    result = _load(args.out / "search.json") if args.render else run(args.quick)
    table = analyse(result)
    result["targets"] = [t.to_json() for t in search_targets(table, rung_rankings(result))]
    result["parallel_targets"] = [t.to_json() for t in parallel_targets(table, result)]
    figs = plots(result, table)
    search_md = search_markdown(result, table)
    parallel_md = parallel_markdown(result, table)
    print(search_md)
    print(parallel_md)
    records = [
        {
            **{k: v for k, v in r.items() if k not in ("records", "curve")},
            "records": r["records"].to_dict("list"),
        }
        for r in result["runs"]
    ]
    meta = result["meta"]
    write_outputs(
        "search",
        search_md,
        {
            "meta": meta,
            "targets": result["targets"],
            "per_method": table["per_method"],
            "rows": table["rows"],
            "runs": records,
        },
        args.out,
        figs[:1],
    )
    write_outputs(
        "parallel",
        parallel_md,
        {"meta": meta, "targets": result["parallel_targets"], "per_method": table["per_method"]},
        args.out,
        figs[1:],
    )


if __name__ == "__main__":
    main()
