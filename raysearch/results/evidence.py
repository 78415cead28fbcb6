"""How far a search's pick can be trusted: the numbers of the evidence section (the section
itself, its warnings and its markdown: ``raysearch.results.evidence_report``).

- **Rung reliability**: at each ASHA rung (epoch ``ceil(grace * rf^k)`` below max_epochs),
  the Spearman correlation between the trials' anchored validation loss there and their
  final values (``best_anchored_val_loss``), over the trials that went past the rung.
- **Val-to-test agreement**: Spearman correlation of validation and test values over the
  completed trials (each scored on test with its best checkpoint).
- **Seed-noise floor**: the pooled standard deviation of replicates (the finalists'
  re-trainings; the search's re-draws of one configuration, by any searcher, that ran the
  same number of epochs).
- **The pick's margin** over the runner-up against the noise: inside it when the difference
  of their means is not significant at ``NOISE_LEVEL`` (two-sided; Student's t at the noise
  estimate's degrees of freedom, so a handful of replicates is not read as a large sample);
  an exact tie is, even with no spread at all.
  The finalists are re-trained with the same seeds, and a seed moves them together
  (results/examples/loss_ablation/notes.md): where the pick and the runner-up share two or
  more seeds the difference is taken seed by seed (paired), which that shared part does not
  blur; otherwise their means are compared with the pooled sd.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from raysearch.core.metrics import BEST_VAL_METRIC, TEST_METRIC, VAL_METRIC
from raysearch.results.trials import row_config, scored_trials
from raysearch.search.settings import rung_epochs

__all__ = [
    "MIN_RANKED",
    "NOISE_LEVEL",
    "RHO_BAD",
    "RHO_GOOD",
    "SEED_PARAMETER",
    "asha_rungs",
    "config_key",
    "epoch_reliability",
    "final_values",
    "finalist_table",
    "margin_check",
    "noise_multiplier",
    "paired_margin_check",
    "picked_config",
    "pooled_sd",
    "redraw_groups",
    "replicate_groups",
    "replicates_by_seed",
    "spearman",
    "val_test_agreement",
]

SEED_PARAMETER = "trainer.seed"  # set per trial by the searcher: a replicate, not a knob
MIN_RANKED = 4  # trials needed before a rank correlation is reported
RHO_BAD = 0.5  # a rung whose values correlate less with the final ones ranks badly
RHO_GOOD = 0.8  # ... and from this on, well
NOISE_LEVEL = 0.95  # a margin not significant at this level (two-sided) is inside the noise


def spearman(
    x: Sequence[float] | pd.Series | np.ndarray, y: Sequence[float] | pd.Series | np.ndarray
) -> float:
    """Spearman's rank correlation; NaN for fewer than 3 pairs or a constant side."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(a) != len(b):
        raise ValueError(f"spearman: {len(a)} x values against {len(b)} y values")
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
    # Deferred: scipy.stats takes most of a second to import, and the command line imports
    # this module (through the results it writes) before it checks its flags.
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def pooled_sd(groups: Sequence[Sequence[float]]) -> tuple[float, int]:
    """(pooled standard deviation, degrees of freedom) of replicate groups; groups of one
    add nothing; (NaN, 0) when no group has two values."""
    squares, dof = 0.0, 0
    for group in groups:
        values = np.asarray(group, dtype=float)
        if len(values) >= 2:
            squares += float(((values - values.mean()) ** 2).sum())
            dof += len(values) - 1
    return (math.sqrt(squares / dof), dof) if dof else (math.nan, 0)


def asha_rungs(settings: Mapping[str, Any]) -> list[int]:
    """The epochs where ASHA (gated or not) compares trials and may stop them; none for
    FIFO. Ray's rungs are the milestones ``grace * rf**k`` (a later bracket's are some of
    them), and ASHA records a trial at a milestone with the first epoch that reaches it,
    ``ceil(grace * rf**k)``; those below max_epochs, where a trial ends anyway."""
    asha = settings.get("scheduler", "asha") in ("asha", "gated_asha")
    if not asha or "max_epochs" not in settings:
        return []
    grace, factor = float(settings.get("grace_period", 1)), float(settings["reduction_factor"])
    return rung_epochs(grace, factor, int(settings["max_epochs"]))


def final_values(trials: pd.DataFrame) -> pd.Series:
    """trial_id -> final value, for the trials whose value is final (completed, or stopped
    by ASHA; not those the search's end cut short) and finite."""
    if trials.empty:  # a search that created no trial (its table may have no columns)
        return pd.Series(dtype=float)
    kept = scored_trials(trials, final=True)
    values = pd.to_numeric(kept[BEST_VAL_METRIC], errors="coerce").to_numpy()
    return pd.Series(values, index=kept["trial_id"].astype(str), dtype=float)


def epoch_reliability(
    trials: pd.DataFrame, epochs: pd.DataFrame, at: Sequence[int]
) -> pd.DataFrame:
    """Per epoch ``e`` in ``at``: the trials that ran past ``e`` and Spearman's rho between
    their anchored_val_loss at ``e`` and their final values."""
    finals = final_values(trials)
    ran: dict[str, int] = (
        {}
        if trials.empty
        else {str(t): int(e) for t, e in zip(trials["trial_id"], trials["epochs_run"], strict=True)}
    )
    rows = []
    for e in at:
        rows_e = epochs[epochs["epoch"] == e] if len(epochs) else epochs
        here = pd.Series(
            pd.to_numeric(rows_e[VAL_METRIC]).to_numpy() if len(rows_e) else [],
            index=rows_e["trial_id"].astype(str) if len(rows_e) else [],
            dtype=float,
        )
        ids = [t for t in here.index if t in finals.index and ran[t] > e]
        rho = spearman(here[ids], finals[ids]) if len(ids) >= MIN_RANKED else math.nan
        rows.append({"epoch": int(e), "trials": len(ids), "spearman": rho})
    return pd.DataFrame(rows, columns=["epoch", "trials", "spearman"])


def val_test_agreement(trials: pd.DataFrame) -> dict[str, float]:
    """Over the completed trials with both values: how many, Spearman's rho, the means."""
    column = f"test/{TEST_METRIC}"
    if trials.empty or column not in trials:
        return {"trials": 0, "spearman": math.nan, "mean_val": math.nan, "mean_test": math.nan}
    val = pd.to_numeric(trials[BEST_VAL_METRIC], errors="coerce")
    test = pd.to_numeric(trials[column], errors="coerce")
    keep = (trials["status"] == "completed") & val.map(math.isfinite) & test.map(math.isfinite)
    n = int(keep.sum())
    return {
        "trials": n,
        "spearman": spearman(val[keep], test[keep]) if n >= MIN_RANKED else math.nan,
        "mean_val": float(val[keep].mean()) if n else math.nan,
        "mean_test": float(test[keep].mean()) if n else math.nan,
    }


def config_key(row: pd.Series, columns: Sequence[str]) -> tuple:
    """A trial's values of ``columns`` as a hashable key (NaN: not set)."""
    return tuple((c, None if pd.isna(row[c]) else str(row[c])) for c in columns if c in row.index)


def redraw_groups(trials: pd.DataFrame, parameters: Sequence[str]) -> list[list[float]]:
    """Final values of trials that share every searched value but the seed and ran the
    same number of epochs (the searcher, TPE or random, drew the configuration again):
    groups of two or more."""
    finals = final_values(trials)
    columns = [f"config/{p}" for p in parameters if p != SEED_PARAMETER]
    groups: dict[tuple, list[float]] = {}
    for _, row in trials.iterrows():
        trial = str(row["trial_id"])
        if trial in finals.index:
            key = (*config_key(row, columns), int(row["epochs_run"]))
            groups.setdefault(key, []).append(float(finals[trial]))
    return [g for g in groups.values() if len(g) >= 2]


def finalist_table(finalists: pd.DataFrame) -> pd.DataFrame:
    """Per finalist: replicates finished, mean and sd of their values, the value the
    search saw, whether it is the pick, and (the pick only) the mean test value."""
    rows = []
    test = f"test/{TEST_METRIC}"
    for rank in sorted(finalists["finalist"].unique()):
        group = finalists[finalists["finalist"] == rank]
        done = group[group["status"] == "completed"]
        values = pd.to_numeric(done[BEST_VAL_METRIC], errors="coerce").dropna()
        tests = (
            pd.to_numeric(done[test], errors="coerce").astype(float)
            if test in done
            else pd.Series(dtype=float)
        )
        tests = tests[np.isfinite(tests)]  # as the pick's test mean (picked_config)
        rows.append(
            {
                "finalist": int(rank),
                "replicates": len(values),
                "mean": float(values.mean()) if len(values) else math.nan,
                "sd": float(values.std(ddof=1)) if len(values) >= 2 else math.nan,
                "search_value": float(group["search_value"].iloc[0]),
                "pick": bool(group["pick"].any()),
                "test_mean": float(np.mean(tests)) if len(tests) else math.nan,
                "test_sd": float(np.std(tests, ddof=1)) if len(tests) >= 2 else math.nan,
            }
        )
    return pd.DataFrame(rows)


def noise_multiplier(dof: int) -> float:
    """How many standard errors a margin must reach to be outside the noise: Student's t
    quantile for ``NOISE_LEVEL`` (two-sided) at ``dof`` degrees of freedom (1.96 for a
    large sample, 4.30 for 2); NaN without any."""
    # Deferred: the command line imports this module before it answers (tests/cli/
    # test_startup.py), and scipy's import is slow; only a summary needs it.
    from scipy import stats

    return float(stats.t.ppf((1 + NOISE_LEVEL) / 2, dof)) if dof >= 1 else math.nan


def _verdict(margin: float, se: float, dof: int) -> dict[str, Any]:
    multiplier = noise_multiplier(dof)
    threshold = multiplier * se
    # up to the threshold: an exact tie (margin 0, no spread: threshold 0) is no difference,
    # but any margin over a zero threshold is one that no seed moved
    inside = math.isfinite(threshold) and margin <= threshold
    return {
        "margin": margin,
        "threshold": threshold,
        "multiplier": multiplier,
        "dof": dof,
        "inside_noise": bool(inside),
    }


def margin_check(
    best: float, n_best: int, runner_up: float, n_runner_up: int, sd: float, dof: int
) -> dict[str, Any]:
    """The pick's margin over the runner-up (their means of ``n`` replicates) against the
    noise: inside it up to ``noise_multiplier(dof)`` standard errors of the difference, for
    a seed standard deviation ``sd`` estimated with ``dof`` degrees of freedom."""
    return _verdict(runner_up - best, sd * math.sqrt(1 / n_best + 1 / n_runner_up), dof)


def paired_margin_check(
    best: Mapping[int, float], runner_up: Mapping[int, float]
) -> dict[str, Any]:
    """The same on the seeds the two share (values by seed; two or more): the mean of the
    runner-up's value minus the pick's, seed by seed, against the standard error of that
    mean (n - 1 degrees of freedom). A seed that moves both alike moves no difference."""
    seeds = sorted(best.keys() & runner_up.keys())
    if len(seeds) < 2:
        raise ValueError(f"a paired margin needs two shared seeds, got {seeds}")
    diffs = np.array([runner_up[s] - best[s] for s in seeds])
    se = float(np.std(diffs, ddof=1)) / math.sqrt(len(diffs))
    return {**_verdict(float(diffs.mean()), se, len(diffs) - 1), "seeds": len(seeds)}


def replicate_groups(finalists: pd.DataFrame) -> list[list[float]]:
    """Each finalist's completed replicates' values (``pooled_sd`` takes them)."""
    return [
        pd.to_numeric(g.loc[g["status"] == "completed", BEST_VAL_METRIC]).dropna().tolist()
        for _, g in finalists.groupby("finalist")
    ]


def replicates_by_seed(finalists: pd.DataFrame, finalist: int) -> dict[int, float]:
    """A finalist's completed replicates' values, by training seed (``paired_margin_check``
    takes two of these)."""
    done = finalists[(finalists["finalist"] == finalist) & (finalists["status"] == "completed")]
    values = pd.to_numeric(done[BEST_VAL_METRIC], errors="coerce")
    return {int(s): float(v) for s, v in zip(done["seed"], values, strict=True) if v == v}


def picked_config(finalists: pd.DataFrame | None) -> dict[str, Any] | None:
    """The finalists' pick: its searched values, the mean and sd of its replicates'
    validation values, the mean of their test metrics, and ``seed``: the training seed of
    its first finished replicate, as finalists.parquet lists them (None without
    finalists)."""
    if finalists is None or not len(finalists) or not finalists["pick"].any():
        return None
    rows = finalists[finalists["pick"] & (finalists["status"] == "completed")]
    first = finalists[finalists["pick"]].iloc[0]
    values = pd.to_numeric(rows[BEST_VAL_METRIC], errors="coerce").dropna()
    tests = {
        str(c)[len("test/") :]: pd.to_numeric(rows[c], errors="coerce").astype(float)
        for c in rows.columns
        if str(c).startswith("test/")
    }
    scored = tests.get(TEST_METRIC)
    return {
        "finalist": int(first["finalist"]),
        BEST_VAL_METRIC: float(values.mean()),
        "sd": float(values.std(ddof=1)) if len(values) >= 2 else math.nan,
        "replicates": len(values),
        "config": row_config(first),
        # the seed best_config.yaml retrains with: one replicate's, a training measured at
        # full budget among those averaged above. Not the search's trial of this
        # configuration, which ASHA may have stopped early, nor the run's seed (what its
        # values alone resolve to), with which the search's first trial trained
        "seed": int(rows["seed"].iloc[0]) if len(rows) else None,
        # over the replicates whose value is finite; the others' seeds are named
        "test": {k: float(v[np.isfinite(v)].mean()) for k, v in tests.items()},
        "test_not_finite": (
            [] if scored is None else [int(s) for s in rows["seed"][~np.isfinite(scored)]]
        ),
    }
