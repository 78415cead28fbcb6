"""The search machinery at scale on a test function with a known optimum (writes hartmann.*).

    python -m bench.hartmann [--quick] [--out DIR]

BoTorch's augmented Hartmann 6-D (``botorch.test_functions.multi_fidelity.
AugmentedHartmann``): six inputs in [0, 1] and a fidelity s in [0, 1]; minimise; the
optimum is f* = -3.32237 at s = 1. Lower fidelity is pessimistic (f(x, s) >= f(x, 1)), a
learning curve that improves with budget. A trial's epoch e of E sets s = e/E and reports
f(x, s), without noise. The function is evaluated in NumPy (raysearch.search.simulation.
hartmann, shared with the simulator; checked against BoTorch at start), so a trial
process does not import torch.

Four methods (bench/methods.py), the same space (x1..x6 uniform floats in [0, 1]), trial
count and seeds:
``tpe_gated_asha`` (raysearch's default searcher and scheduler: ``build_searcher`` /
``build_scheduler`` from raysearch.search.tuner, Optuna TPE + rung-gated ASHA with grace
period 1 and reduction factor 3), ``random_fifo`` (random search, every trial at full budget: the
baseline), ``random_asha`` and ``optuna_hyperband`` (Optuna alone, no Ray: TPE + Optuna's
Hyperband pruner, as many processes as the Ray methods' trials at once, sharing a
journal-file storage). Every method runs 4 trials at once: the Ray methods with a fraction
of a CPU per trial, and reuse actors (the trials are trivial; a fresh process
per trial would measure process start, not search; bench/bookkeeping.py measures that).
Tune's CSV and TensorBoard loggers are left out (its JSON logger stays): the epochs are
recorded by a callback, and writing two more files per report for ~40,000 one-line reports
is driver time a real search (a report every few seconds) never notices.

Simple regret against budget: after b epochs consumed (all trials' epochs, in the order
their values became known), the incumbent is the trial with the lowest value reported so
far at any fidelity (what a user would pick from the results table); its regret is
f(x_inc, 1) - f*: its configuration evaluated at full fidelity. Headline: per seed, the
epochs a method spent to first reach the final regret of random_fifo with the same seed,
over random_fifo's epochs (docs/design.md's "<= 1/3", here on a function instead of the HAN).
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.anytime import curve_values, epochs_to_reach, incumbent_curve, median_curve
from bench.common import (
    OUT,
    Target,
    base_meta,
    header,
    log,
    markdown_table,
    per_method_medians,
    quartiles,
    spread,
    targets_section,
    write_outputs,
)
from bench.methods import METHODS as REGISTRY
from bench.methods import RAYSEARCH, Method, describe
from bench.optuna_alone import run_optuna_alone
from raysearch.search.simulation.hartmann import F_STAR, PARAMS, X_STAR, augmented_hartmann

__all__ = ["F_STAR", "METHODS", "NAMES", "X_STAR", "augmented_hartmann", "main", "regret"]

BASELINE = "random_fifo"
METHODS = REGISTRY.select((RAYSEARCH, "random_fifo", "random_asha", "optuna_hyperband"))
NAMES = tuple(m.name for m in METHODS)
CONCURRENT = 4  # trials at once: Ray's (each with CPUs / CONCURRENT), Optuna alone's processes
REUSE = True  # documented in the module docstring and the table
GRACE, REDUCTION, STARTUP = 1, 3, 10


@dataclass(frozen=True)
class Scale:
    trials: int
    epochs: int
    seeds: tuple[int, ...]


FULL = Scale(trials=200, epochs=27, seeds=tuple(range(10)))
QUICK = Scale(trials=40, epochs=9, seeds=(0,))


def regret(x: Sequence[float]) -> float:
    """Simple regret of a configuration: f(x, 1) - f*."""
    return augmented_hartmann(x, 1.0) - F_STAR


def check_against_botorch(points: int = 64, seed: int = 0) -> float:
    """The largest difference between this NumPy version and BoTorch's (raises if > 1e-6;
    BoTorch stores its constants in float32, so they differ by about 3e-8)."""
    import torch
    from botorch.test_functions.multi_fidelity import AugmentedHartmann

    rng = np.random.default_rng(seed)
    xs = np.vstack([rng.random((points, 7)), [*X_STAR, 1.0]])
    theirs = AugmentedHartmann().evaluate_true(torch.tensor(xs, dtype=torch.float64)).numpy()
    ours = np.array([augmented_hartmann(row[:6], row[6]) for row in xs])
    worst = float(np.max(np.abs(theirs - ours)))
    if worst > 1e-6:
        raise AssertionError(f"NumPy AugmentedHartmann differs from BoTorch's by {worst}")
    return worst


def hartmann_trial(config: dict[str, Any], epochs: int) -> None:
    """Tune's function trainable: epoch e of ``epochs`` reports f(x, e/epochs) and the best
    so far (the searcher's "trainer.seed" in ``config`` is ignored)."""
    from ray import tune

    from raysearch.core.report import check_report

    x = [config[name] for name in PARAMS]
    best = math.inf
    for e in range(1, epochs + 1):
        value = augmented_hartmann(x, e / epochs)
        best = min(best, value)
        tune.report(
            check_report(
                {
                    "epoch": e,
                    "anchored_val_loss": value,
                    "best_anchored_val_loss": best,
                    "unix": time.time(),
                }
            )
        )


@dataclass(frozen=True)
class HartmannObjective:
    """Optuna-alone's objective: the same function, epochs and space as the Ray trials."""

    epochs: int

    def __call__(self, trial: Any, report: Any) -> float:
        x = [trial.suggest_float(name, 0.0, 1.0) for name in PARAMS]
        best = math.inf
        for e in range(1, self.epochs + 1):
            value = augmented_hartmann(x, e / self.epochs)
            best = min(best, value)
            report(e, value)
        return best


def _settings(scale: Scale) -> Any:
    """The benchmark's search settings (a method sets its searcher and scheduler)."""
    from raysearch.search.settings import SearchSettings

    return SearchSettings(
        num_samples=scale.trials,
        max_epochs=scale.epochs,
        grace_period=GRACE,
        reduction_factor=REDUCTION,
        n_startup_trials=STARTUP,
    )


def _space(method: Method, scale: Scale) -> Any:
    from raysearch.search.space import ParamSpec, SearchSpace

    params = {name: ParamSpec(type="float", low=0.0, high=1.0) for name in PARAMS}
    return method.tune_space(SearchSpace("hartmann", "", _settings(scale), params))


def _recorder() -> Any:
    """A Tune callback keeping every report (trial, epoch, value, unix) and each config."""
    from ray.tune import Callback

    class Recorder(Callback):
        def __init__(self) -> None:
            self.rows: list[tuple[int, int, float, float]] = []
            self.numbers: dict[str, int] = {}
            self.configs: dict[int, list[float]] = {}

        def on_trial_result(
            self, iteration: int, trials: list, trial: Any, result: dict, **info: Any
        ) -> None:
            number = self.numbers.setdefault(trial.trial_id, len(self.numbers))
            self.configs.setdefault(number, [float(trial.config[p]) for p in PARAMS])
            self.rows.append(
                (number, int(result["epoch"]), float(result["anchored_val_loss"]), result["unix"])
            )

    return Recorder()


def _lean_loggers() -> list[Any]:
    """Tune's JSON logger, and stand-ins that keep Tune from adding its CSV and
    TensorBoard loggers (it adds whichever logger type is missing from the callbacks)."""
    from ray.tune.logger import CSVLoggerCallback, JsonLoggerCallback, TBXLoggerCallback

    class Silent:  # first in the bases: its no-ops win over the logger's methods
        def log_trial_start(self, trial: Any) -> None:
            pass

        def log_trial_result(self, iteration: int, trial: Any, result: dict) -> None:
            pass

        def log_trial_end(self, trial: Any, failed: bool = False) -> None:
            pass

    class NoCSV(Silent, CSVLoggerCallback):
        pass

    class NoTBX(Silent, TBXLoggerCallback):
        def __init__(self) -> None:  # TBXLoggerCallback's imports tensorboardX
            self._trial_writer: dict = {}
            self._trial_result: dict = {}

    return [JsonLoggerCallback(), NoCSV(), NoTBX()]


def _ray_method(method: Method, seed: int, scale: Scale, root: str) -> dict[str, Any]:
    from ray import tune

    from raysearch.search.scheduler import build_scheduler
    from raysearch.search.searcher import build_searcher

    space = _space(method, scale)
    recorder = _recorder()
    cpus = float(os.cpu_count() or 2)
    trainable = tune.with_resources(
        tune.with_parameters(hartmann_trial, epochs=scale.epochs), {"cpu": cpus / CONCURRENT}
    )
    tuner = tune.Tuner(
        trainable,
        tune_config=tune.TuneConfig(
            search_alg=build_searcher(space, seed),
            scheduler=build_scheduler(space, seed),
            num_samples=scale.trials,
            max_concurrent_trials=method.concurrent or CONCURRENT,
            reuse_actors=REUSE,
        ),
        run_config=tune.RunConfig(
            name=f"{method.name}-seed{seed}",
            storage_path=root,
            verbose=0,
            callbacks=[recorder, *_lean_loggers()],
        ),
    )
    started = time.time()
    grid = tuner.fit()
    wall = time.time() - started
    results = [grid[i] for i in range(len(grid))]  # a ResultGrid indexes, not iterates
    errors = [r.error for r in results if r.error is not None]
    if errors:
        raise RuntimeError(f"{method.name} seed {seed}: {len(errors)} trial(s) failed: {errors[0]}")
    records = pd.DataFrame(recorder.rows, columns=["trial", "epoch", "value", "unix"])
    records["t"] = records.pop("unix") - started
    return {"records": records, "configs": recorder.configs, "wall": wall}


def _optuna_configs(journal: Path) -> dict[int, list[float]]:
    import optuna
    from optuna.storages import JournalStorage
    from optuna.storages.journal import JournalFileBackend

    study = optuna.load_study(
        study_name="bench", storage=JournalStorage(JournalFileBackend(str(journal)))
    )
    return {t.number: [float(t.params[p]) for p in PARAMS] for t in study.trials if t.params}


def _optuna_method(method: Method, seed: int, scale: Scale, root: str) -> dict[str, Any]:
    settings = method.optuna_alone(_settings(scale), seed=seed, processes=CONCURRENT)
    workdir = Path(root) / f"{method.name}-seed{seed}"
    records, wall = run_optuna_alone(settings, HartmannObjective(scale.epochs), workdir)
    return {"records": records, "configs": _optuna_configs(workdir / "journal.log"), "wall": wall}


_RUNNERS = {"tune": _ray_method, "optuna_alone": _optuna_method}  # by Method.engine


def run(quick: bool) -> dict[str, Any]:
    import sys

    import ray

    if __name__ != "__main__":  # imported (not run with -m): Ray workers cannot import bench
        ray.cloudpickle.register_pickle_by_value(sys.modules[__name__])

    scale = QUICK if quick else FULL
    worst = check_against_botorch()
    started = time.perf_counter()
    ray.init(
        num_cpus=os.cpu_count() or 2,
        include_dashboard=False,
        logging_level=logging.WARNING,
        configure_logging=False,
    )
    ray_init_s = time.perf_counter() - started
    runs: list[dict[str, Any]] = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-hartmann-") as root:
            for seed in scale.seeds:  # seed-major: load drift hits every method alike
                for method in METHODS:
                    began = time.perf_counter()
                    res = _RUNNERS[method.engine](method, seed, scale, root)
                    res.update(method=method.name, seed=seed, total_s=time.perf_counter() - began)
                    log(
                        f"hartmann: {method.name}, seed {seed}: "
                        f"{res['records']['trial'].nunique()} trials, {len(res['records'])} "
                        f"epochs, {res['wall']:.1f} s"
                    )
                    runs.append(res)
    finally:
        ray.shutdown()
    meta = base_meta(
        quick,
        seeds=list(scale.seeds),
        repeats=len(scale.seeds),
        trials=scale.trials,
        max_epochs=scale.epochs,
        concurrent=CONCURRENT,
        reuse_actors=REUSE,
        grace_period=GRACE,
        reduction_factor=REDUCTION,
        n_startup_trials=STARTUP,
        f_star=F_STAR,
        botorch_max_abs_diff=worst,
        ray_init_s=round(ray_init_s, 2),
        methods=describe(METHODS),
    )
    return {"meta": meta, "runs": runs}


def _regret_curve(run: dict[str, Any]) -> pd.DataFrame:
    """The run's curve of its incumbent's simple regret (bench.anytime.incumbent_curve)."""
    configs = run["configs"]  # trial number -> its configuration
    return incumbent_curve(run["records"], lambda trial: regret(configs[trial]))


def analyse(result: dict[str, Any]) -> dict[str, Any]:
    """Per run: the regret curve and its figures; per method: the medians over seeds."""
    meta = result["meta"]
    budget = meta["trials"] * meta["max_epochs"]  # random_fifo's: every trial at full budget
    for r in result["runs"]:
        r["curve"] = _regret_curve(r)
        r["epochs"] = len(r["curve"])
        r["trials"] = int(r["records"]["trial"].nunique())
        r["final"] = float(r["curve"]["best"].iloc[-1])
        at = curve_values([r["curve"]], "epochs", np.array([budget / 3, budget]))[0]
        r["at_third"], r["at_full"] = float(at[0]), float(at[1])
        r["trials_per_s"] = r["trials"] / r["wall"]
    keys: tuple[str, ...] = ("trials", "epochs", "final", "at_third", "at_full", "reach_ratio")
    keys += ("wall", "trials_per_s")
    rows = []
    for r in result["runs"]:
        base = next(b for b in result["runs"] if b["method"] == BASELINE and b["seed"] == r["seed"])
        r["reach_ratio"] = epochs_to_reach(r["curve"], base["final"]) / base["epochs"]
        rows.append({"method": r["method"], "seed": r["seed"], **{k: r[k] for k in keys}})
    per_method = per_method_medians(rows, NAMES, keys)
    for m in per_method:  # whole trials and epochs; the seeds' spread of the answers
        m["trials"], m["epochs"] = round(m["trials"]), round(m["epochs"])
        mine = [r for r in rows if r["method"] == m["method"]]
        m["final_spread"] = spread([r["final"] for r in mine])
        m["reach_spread"] = spread([r["reach_ratio"] for r in mine])
    return {"budget": budget, "rows": rows, "per_method": per_method}


def _fmt_ratio(x: float) -> str:
    return "not reached" if not math.isfinite(x) else f"{x:.3f}"


def _reach(s: dict[str, float]) -> str:
    return "not reached" if not math.isfinite(s["median"]) else quartiles(s, ".3f")


def targets(table: dict[str, Any]) -> list[Target]:
    tpe = next(m for m in table["per_method"] if m["method"] == RAYSEARCH)
    base = next(m for m in table["per_method"] if m["method"] == BASELINE)
    ratios = ", ".join(
        _fmt_ratio(r["reach_ratio"]) for r in table["rows"] if r["method"] == RAYSEARCH
    )
    met = tpe["reach_ratio"] <= 1 / 3
    return [
        Target(
            "ASHA + TPE reaches full-budget random search's best with <= 1/3 of its epochs "
            "(augmented Hartmann 6-D, simple regret)",
            f"median {_fmt_ratio(tpe['reach_ratio'])} (per seed: {ratios}; "
            f"{tpe['epochs']:.0f} vs {base['epochs']:.0f} epochs in all)",
            met,
            ""
            if met
            else f"{tpe['reached']} seeds reached random search's final regret at all; "
            "the incumbent is picked by its value at the fidelity it reached",
        )
    ]


def markdown(result: dict[str, Any], table: dict[str, Any]) -> str:
    meta = result["meta"]
    lines = header("Search at scale: augmented Hartmann 6-D", meta)
    lines += [
        f"BoTorch's `AugmentedHartmann` (6 inputs + fidelity; f* = {F_STAR}), minimised; "
        f"{meta['trials']} trials per search, epoch e of E = {meta['max_epochs']} evaluates "
        f"fidelity e/E (no noise). ASHA and Hyperband: grace period {meta['grace_period']}, "
        f"reduction factor {meta['reduction_factor']}; TPE: {meta['n_startup_trials']} "
        f"random start-up trials. Every method runs {meta['concurrent']} trials at once: "
        "the Ray methods with a fraction of a CPU each, actors reused, Tune's CSV and "
        "TensorBoard loggers left out (JSON kept); Optuna alone in as many processes. Ray "
        f"start ({meta['ray_init_s']:.1f} s) is outside every wall time below.",
        "",
        "Regret = f(x_inc, 1) - f*, where x_inc is the trial with the lowest value reported "
        "so far at any fidelity (its configuration re-evaluated at full fidelity). Baseline "
        f"({BASELINE}, same seed): every trial at full budget, {table['budget']:,} epochs. "
        "`reach` = epochs a method spent when its regret first fell to the baseline's final "
        "regret, / the baseline's epochs. A method that stopped before a budget (ASHA and "
        "Hyperband use fewer epochs) keeps its final regret there. Wall = `Tuner.fit()` or "
        "Optuna's worker processes, start to end. Medians over seeds; in brackets, the 25th and "
        "75th percentiles over seeds ('inf': not reached).",
        "",
    ]
    shown = [
        {**m, "final": quartiles(m["final_spread"]), "reach_ratio": _reach(m["reach_spread"])}
        for m in table["per_method"]
    ]
    lines.append(
        markdown_table(
            shown,
            {
                "method": "method",
                "trials": "trials",
                "epochs": "epochs used",
                "final": "final regret",
                "at_third": f"regret at {table['budget'] // 3:,} epochs (1/3)",
                "at_full": f"regret at {table['budget']:,} epochs",
                "reached": "reached baseline",
                "reach_ratio": "reach (epochs / baseline's)",
                "wall": "wall (s)",
                "trials_per_s": "trials/s",
            },
            ".3g",
        )
    )
    lines += ["", "Per seed:", ""]
    per_seed = [{**r, "reach_ratio": _fmt_ratio(r["reach_ratio"])} for r in table["rows"]]
    lines.append(
        markdown_table(
            per_seed,
            {
                "method": "method",
                "seed": "seed",
                "trials": "trials",
                "epochs": "epochs",
                "final": "final regret",
                "at_third": "regret at 1/3",
                "reach_ratio": "reach",
                "wall": "wall (s)",
                "trials_per_s": "trials/s",
            },
            ".3g",
        )
    )
    lines += targets_section(
        result["targets"], "simple regret against epochs", "hartmann_regret.png"
    )
    return "\n".join(lines) + "\n"


def plot(result: dict[str, Any], table: dict[str, Any]) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.5))
    top = max(r["epochs"] for r in result["runs"])
    grid = np.linspace(1, top, 400)
    floor = 1e-6  # log axis: a regret of 0 would vanish
    for method in NAMES:
        curves = [r["curve"] for r in result["runs"] if r["method"] == method]
        ends = max(c["epochs"].iloc[-1] for c in curves)
        mine = grid[grid <= ends]
        med = median_curve(curves, "epochs", mine)
        values = curve_values(curves, "epochs", mine)
        full = ~np.isnan(values).any(axis=0)
        lo, hi = (np.where(full, np.nanquantile(values, q, axis=0), np.nan) for q in (0.25, 0.75))
        (line,) = ax.plot(
            mine, np.maximum(med, floor), label=method, lw=2.2 if method == RAYSEARCH else 1.4
        )
        ax.fill_between(
            mine, np.maximum(lo, floor), np.maximum(hi, floor), color=line.get_color(), alpha=0.15
        )
    ax.axvline(table["budget"] / 3, color="k", ls=":", lw=1, label=f"{BASELINE} budget / 3")
    ax.set_yscale("log")
    ax.set_xlabel("epochs consumed (all trials)")
    ax.set_ylabel("simple regret f(x_inc, 1) - f*")
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    meta = result["meta"]
    ax.set_title(
        f"Augmented Hartmann 6-D, {meta['trials']} trials, E={meta['max_epochs']} "
        f"(median over {len(meta['seeds'])} seeds, band: 25th-75th percentile)"
    )
    return fig


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        prog="python -m bench.hartmann", allow_abbrev=False, description=__doc__.splitlines()[0]
    )
    p.add_argument("--quick", action="store_true", help="40 trials, 9 epochs, 1 seed")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    started = time.perf_counter()
    result = run(args.quick)
    table = analyse(result)
    result["targets"] = [t.to_json() for t in targets(table)]
    text = markdown(result, table)
    print(text)
    data = {
        "meta": result["meta"],
        "targets": result["targets"],
        "per_method": table["per_method"],
        "per_seed": table["rows"],
        "budget": table["budget"],
        "runs": [
            {
                "method": r["method"],
                "seed": r["seed"],
                "wall": r["wall"],
            }
            for r in result["runs"]
        ],
        "benchmark_s": round(time.perf_counter() - started, 1),
    }
    write_outputs("hartmann", text, data, args.out, [("hartmann_regret", plot(result, table))])


if __name__ == "__main__":
    main()
