"""How well ASHA's rungs rank a benchmark's configurations: for random configurations,
the Spearman correlation of the value at each rung (epochs 1, 3, 9, 27) with the best
value over the whole curve. Low values mean early stopping drops configurations that
would have ended best (evidence for the equal-epoch comparisons). Also how long a trial
runs to its end, which bounds how soon any search can see a configuration's full curve."""

from __future__ import annotations

from typing import Any

__all__ = ["rung_reliability"]

RUNGS = (1, 3, 9, 27)


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


def rung_reliability(bench: str, n: int = 400, seed: int = 0) -> dict[str, Any]:
    """Spearman rho per rung below the curve's end, over ``n`` random configurations."""
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
    return {
        "bench": bench,
        "configs": n,
        "rho": found,
        # how long one trial runs to the end (simulated seconds): the shortest wall time in
        # which any search can see a configuration's full curve
        "trial_s": {"median": float(np.median(seconds)), "p10": float(np.quantile(seconds, 0.1))},
    }
