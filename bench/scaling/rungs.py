"""How well ASHA's rungs rank a benchmark's configurations: for random configurations,
the Spearman correlation of the value at each rung (epochs 1, 3, 9, 27) with the best
value over the whole curve. Low values mean early stopping drops configurations that
would have ended best (evidence for the equal-epoch comparisons). Also how long a trial
runs to its end, which bounds how soon any search can see a configuration's full curve.

And the same among the best configurations only (``among_the_best``): a search that has
found the good region draws there, and ASHA's cut-off is then set by such trials. Where
the first epochs favour configurations that start fast over those that end best, a rung
ranks random configurations well and the best ones barely at all, while it still agrees
with the next rung (what the default's gate checks, raysearch/search/gated_asha.py)."""

from __future__ import annotations

from typing import Any

__all__ = ["among_the_best", "rung_reliability"]

RUNGS = (1, 3, 9, 27)
BEST_OF = 2000  # random configurations drawn to find the best tenth among


def _random_configs(space: Any, n: int, seed: int) -> list[dict[str, Any]]:
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    configs = []
    for _ in range(n):
        trial = study.ask()
        configs.append(space.sample(trial))
        study.tell(trial, 0.0)
    return configs


def among_the_best(values: Any, rungs: tuple[int, ...] = RUNGS) -> dict[str, Any]:
    """``rank_rungs`` (raysearch.search.simulation.rungs) on ``values`` at ``rungs`` below
    the curves' end, as the record keeps it: per rung, Spearman among the best tenth with
    the curve's best (``final``) and with the next rung, or the last epoch (``next``)."""
    from raysearch.search.simulation.rungs import rank_rungs

    epochs = len(values[0])
    ranks = rank_rungs(values, [r for r in rungs if r < epochs])
    return {
        "curves": ranks.best_curves,
        "of": ranks.curves,
        "rho": {str(r.epoch): {"final": r.best, "next": r.best_later} for r in ranks.rungs},
    }


def rung_reliability(bench: str, n: int = 400, seed: int = 0) -> dict[str, Any]:
    """Spearman rho per rung below the curve's end, over ``n`` random configurations; and
    among the best tenth of ``BEST_OF`` (``among_the_best``)."""
    import numpy as np
    from scipy.stats import spearmanr

    from bench.scaling.benchmarks import load, measured_on
    from raysearch.search.simulation.rungs import sample_curves

    space, source = load(bench)
    configs = _random_configs(space, n, seed)
    curves = [source.curve(c, seed + i) for i, c in enumerate(configs)]
    epochs = source.max_epochs
    final = np.array([min(c.value(e) for e in range(1, epochs + 1)) for c in curves])
    found = {}
    for rung in (r for r in RUNGS if r < epochs):
        at = np.array([c.value(rung) for c in curves])
        found[str(rung)] = float(spearmanr(at, final).statistic)
    seconds = np.array([sum(c.duration(e) for e in range(1, epochs + 1)) for c in curves])
    values = sample_curves(space, source, BEST_OF, seed + 1)
    return {
        "bench": bench,
        **measured_on(bench),
        "configs": n,
        "rho": found,
        "best": {**among_the_best(values), "drawn": BEST_OF},
        # how long one trial runs to the end (simulated seconds): the shortest wall time in
        # which any search can see a configuration's full curve
        "trial_s": {"median": float(np.median(seconds)), "p10": float(np.quantile(seconds, 0.1))},
    }
