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
BEST_SHARE = 0.1  # the share of the distinct curves, by their best value, called the best


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
    """Per rung below the curves' end, over the best ``BEST_SHARE`` of the distinct curves
    in ``values`` (curves x epochs, lower is better; best by the curve's lowest value, at
    least 5 curves): Spearman of the value at the rung with the curve's best (``final``)
    and with the value at the next rung, or the last epoch after the last rung (``next``)."""
    import numpy as np
    from scipy.stats import spearmanr

    curves = np.unique(np.asarray(values, dtype=float), axis=0)
    epochs = curves.shape[1]
    final = curves.min(axis=1)
    count = min(len(curves), max(5, round(BEST_SHARE * len(curves))))
    best = curves[np.argsort(final, kind="stable")[:count]]
    best_final = best.min(axis=1)
    points = [r for r in rungs if r < epochs]
    found: dict[str, dict[str, float]] = {}
    for i, rung in enumerate(points):
        later = points[i + 1] if i + 1 < len(points) else epochs
        found[str(rung)] = {
            "final": float(spearmanr(best[:, rung - 1], best_final).statistic),
            "next": float(spearmanr(best[:, rung - 1], best[:, later - 1]).statistic),
        }
    return {"curves": int(count), "of": len(curves), "rho": found}


def rung_reliability(bench: str, n: int = 400, seed: int = 0) -> dict[str, Any]:
    """Spearman rho per rung below the curve's end, over ``n`` random configurations; and
    among the best tenth of ``BEST_OF`` (``among_the_best``)."""
    import numpy as np
    from scipy.stats import spearmanr

    from bench.scaling.benchmarks import load

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
    many = _random_configs(space, BEST_OF, seed + 1)
    values = [
        [c.value(e) for e in range(1, epochs + 1)]
        for c in (source.curve(config, seed + 1 + i) for i, config in enumerate(many))
    ]
    return {
        "bench": bench,
        "configs": n,
        "rho": found,
        "best": {**among_the_best(values), "drawn": BEST_OF},
        # how long one trial runs to the end (simulated seconds): the shortest wall time in
        # which any search can see a configuration's full curve
        "trial_s": {"median": float(np.median(seconds)), "p10": float(np.quantile(seconds, 0.1))},
    }
