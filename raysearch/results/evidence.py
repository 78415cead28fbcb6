"""How far a search's pick can be trusted: the evidence section of every summary and report.

- **Rung reliability**: at each ASHA rung (epoch ``ceil(grace * rf^k)`` below max_epochs),
  the Spearman correlation between the trials' anchored validation loss there and their
  final values (``best_anchored_val_loss``), over the trials that went past the rung.
- **Val-to-test agreement**: Spearman correlation of validation and test values over the
  completed trials (each scored on test with its best checkpoint).
- **Seed-noise floor**: the pooled standard deviation of replicates (the finalists'
  re-trainings; TPE re-draws of one configuration that ran the same number of epochs).
- **Warnings**, in plain words: the pick's margin over the runner-up is inside the noise
  (smaller than ``NOISE_Z`` standard errors of the difference of their means), or rung 1
  ranks trials badly (rho < ``RHO_BAD``), with the first later epoch that ranks them well
  (rho >= ``RHO_GOOD``), i.e. the longer grace period that would.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import spearmanr

from raysearch.core.files import FINALISTS
from raysearch.core.metrics import BEST_VAL_METRIC, TEST_METRIC, VAL_METRIC

__all__ = [
    "MIN_RANKED",
    "NOISE_Z",
    "RHO_BAD",
    "RHO_GOOD",
    "SEED_PARAMETER",
    "asha_rungs",
    "epoch_reliability",
    "evidence_markdown",
    "finalist_table",
    "gather_evidence",
    "load_finalists",
    "margin_check",
    "picked_config",
    "pooled_sd",
    "redraw_groups",
    "spearman",
    "val_test_agreement",
]

SEED_PARAMETER = "trainer.seed"  # set per trial by the searcher: a replicate, not a knob
MIN_RANKED = 4  # trials needed before a rank correlation is reported
RHO_BAD = 0.5  # a rung whose values correlate less with the final ones ranks badly
RHO_GOOD = 0.8  # ... and from this on, well
NOISE_Z = 2.0  # a margin under NOISE_Z standard errors is inside the noise


def spearman(
    x: Sequence[float] | pd.Series | np.ndarray, y: Sequence[float] | pd.Series | np.ndarray
) -> float:
    """Spearman's rank correlation; NaN for fewer than 3 pairs or a constant side."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(a) != len(b):
        raise ValueError(f"spearman: {len(a)} x values against {len(b)} y values")
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return math.nan
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
    """The epochs where ASHA compares trials (below max_epochs; none for FIFO)."""
    if settings.get("scheduler", "asha") != "asha" or "max_epochs" not in settings:
        return []
    grace, factor = float(settings.get("grace_period", 1)), float(settings["reduction_factor"])
    rungs, milestone = [], min(grace, float(settings["max_epochs"]))
    while milestone < settings["max_epochs"]:
        rungs.append(math.ceil(milestone))
        milestone *= factor
    return rungs


def _finals(trials: pd.DataFrame) -> pd.Series:
    """trial_id -> final value, for the trials that did not fail and have a finite one."""
    if trials.empty:
        return pd.Series(dtype=float)
    values = pd.to_numeric(trials[BEST_VAL_METRIC], errors="coerce")
    keep = (trials["status"] != "failed") & values.map(math.isfinite)
    return pd.Series(values[keep].to_numpy(), index=trials.loc[keep, "trial_id"].astype(str))


def epoch_reliability(
    trials: pd.DataFrame, epochs: pd.DataFrame, at: Sequence[int]
) -> pd.DataFrame:
    """Per epoch ``e`` in ``at``: the trials that ran past ``e`` and Spearman's rho between
    their anchored_val_loss at ``e`` and their final values."""
    finals = _finals(trials)
    ran: dict[str, int] = {
        str(t): int(e) for t, e in zip(trials["trial_id"], trials["epochs_run"], strict=True)
    }
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


def _config_key(row: pd.Series, columns: Sequence[str]) -> tuple:
    return tuple((c, None if pd.isna(row[c]) else str(row[c])) for c in columns if c in row.index)


def redraw_groups(trials: pd.DataFrame, parameters: Sequence[str]) -> list[list[float]]:
    """Final values of trials that share every searched value but the seed and ran the
    same number of epochs (TPE drew the configuration again): groups of two or more."""
    finals = _finals(trials)
    columns = [f"config/{p}" for p in parameters if p != SEED_PARAMETER]
    groups: dict[tuple, list[float]] = {}
    for _, row in trials.iterrows():
        trial = str(row["trial_id"])
        if trial in finals.index:
            key = (*_config_key(row, columns), int(row["epochs_run"]))
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
            pd.to_numeric(done[test], errors="coerce").dropna()
            if test in done
            else pd.Series(dtype=float)
        )
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


def margin_check(
    best: float, n_best: int, runner_up: float, n_runner_up: int, sd: float
) -> dict[str, Any]:
    """The pick's margin and the noise threshold: NOISE_Z standard errors of the
    difference of two means of ``n`` replicates with seed standard deviation ``sd``."""
    margin = runner_up - best
    threshold = NOISE_Z * sd * math.sqrt(1 / n_best + 1 / n_runner_up)
    inside = math.isfinite(threshold) and margin < threshold
    return {"margin": margin, "threshold": threshold, "inside_noise": bool(inside)}


def _parameters(trials: pd.DataFrame) -> list[str]:
    return [
        c[len("config/") :]
        for c in trials.columns
        if c.startswith("config/") and c != f"config/{SEED_PARAMETER}"
    ]


def _search_margin(trials: pd.DataFrame, sd: float) -> dict[str, Any] | None:
    """The search's best trial against the best trial of another configuration."""
    finals = _finals(trials)
    if len(finals) < 2:
        return None
    columns = [f"config/{p}" for p in _parameters(trials)]
    ranked = trials.assign(_id=trials["trial_id"].astype(str))
    ranked = ranked[ranked["_id"].isin(finals.index)]
    ranked = ranked.assign(_value=ranked["_id"].map(finals)).sort_values("_value")
    best = ranked.iloc[0]
    key = _config_key(best, columns)
    others = [r for _, r in ranked.iloc[1:].iterrows() if _config_key(r, columns) != key]
    if not others:
        return None
    out = margin_check(float(best["_value"]), 1, float(others[0]["_value"]), 1, sd)
    return {"basis": "search (one run per trial)", **out}


def gather_evidence(
    trials: pd.DataFrame,
    epochs: pd.DataFrame,
    settings: Mapping[str, Any],
    finalists: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Everything the evidence section states, as plain JSON-ready values."""
    rungs = epoch_reliability(trials, epochs, asha_rungs(settings))
    redraws = redraw_groups(trials, _parameters(trials))
    redraw_sd, redraw_dof = pooled_sd(redraws)
    noise: dict[str, Any] = {
        "redraws": {"sd": redraw_sd, "dof": redraw_dof, "groups": len(redraws)}
    }
    table = pd.DataFrame()
    margin = None
    if finalists is not None and len(finalists):
        table = finalist_table(finalists)
        groups = [
            pd.to_numeric(g.loc[g["status"] == "completed", BEST_VAL_METRIC]).dropna().tolist()
            for _, g in finalists.groupby("finalist")
        ]
        sd, dof = pooled_sd(groups)
        noise["finalists"] = {"sd": sd, "dof": dof}
        scored = table.dropna(subset=["mean"]).sort_values("mean")
        if len(scored) >= 2 and scored["pick"].iloc[0]:
            pick, runner = scored.iloc[0], scored.iloc[1]
            margin = {
                "basis": "finalists (mean of replicates)",
                **margin_check(
                    pick["mean"], pick["replicates"], runner["mean"], runner["replicates"], sd
                ),
            }
    else:
        margin = _search_margin(trials, redraw_sd)
    evidence: dict[str, Any] = {
        "rungs": rungs.to_dict("records"),
        "val_test": val_test_agreement(trials),
        "noise": noise,
        "finalists": table.to_dict("records"),
        "margin": margin,
        "grace_suggestion": None,
        "warnings": [],
    }
    _warn(evidence, trials, epochs, settings)
    return evidence


def _warn(
    evidence: dict[str, Any],
    trials: pd.DataFrame,
    epochs: pd.DataFrame,
    settings: Mapping[str, Any],
) -> None:
    margin = evidence["margin"]
    if margin is not None and margin["inside_noise"]:
        evidence["warnings"].append(
            f"The pick's margin over the runner-up ({margin['margin']:.3f}, {margin['basis']}) "
            f"is inside the seed noise: smaller than {NOISE_Z:g} standard errors of the "
            f"difference ({margin['threshold']:.3f}). Another set of seeds could reverse "
            "the order; treat the two as tied."
        )
    first = evidence["rungs"][0] if evidence["rungs"] else None
    if first is None or not first["spearman"] < RHO_BAD:  # NaN: too few trials to judge
        return
    later = epoch_reliability(
        trials, epochs, range(first["epoch"] + 1, int(settings["max_epochs"]))
    )
    good = later[(later["trials"] >= MIN_RANKED) & (later["spearman"] >= RHO_GOOD)]
    text = (
        f"ASHA's first rung (epoch {first['epoch']}) ranks trials badly: Spearman's rho "
        f"between the values there and the trials' final values is {first['spearman']:.2f} "
        f"over the {first['trials']} trials that went past it, so trials it stopped may "
        "have been the best. "
    )
    if len(good):
        row = good.iloc[0]
        evidence["grace_suggestion"] = {k: row[k] for k in ("epoch", "trials", "spearman")}
        text += (
            f"Epoch {int(row['epoch'])} ranks them well (rho {row['spearman']:.2f} over "
            f"{int(row['trials'])} trials): a grace_period of {int(row['epoch'])} would."
        )
    else:
        text += (
            f"No later epoch before max_epochs ranks them well (rho >= {RHO_GOOD:g}) in this run; "
            "a longer grace period or FIFO would show which does."
        )
    evidence["warnings"].append(text)


def _num(value: float, digits: int = 3) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def picked_config(finalists: pd.DataFrame | None) -> dict[str, Any] | None:
    """The finalists' pick: its searched values, the mean and sd of its replicates'
    validation values, and the mean of their test metrics (None without finalists)."""
    if finalists is None or not len(finalists) or not finalists["pick"].any():
        return None
    rows = finalists[finalists["pick"] & (finalists["status"] == "completed")]
    first = finalists[finalists["pick"]].iloc[0]
    values = pd.to_numeric(rows[BEST_VAL_METRIC], errors="coerce").dropna()
    tests = [str(c) for c in rows.columns if str(c).startswith("test/")]
    return {
        "finalist": int(first["finalist"]),
        BEST_VAL_METRIC: float(values.mean()),
        "sd": float(values.std(ddof=1)) if len(values) >= 2 else math.nan,
        "replicates": len(values),
        "config": {
            str(c)[len("config/") :]: _plain(v)
            for c, v in first.items()
            if str(c).startswith("config/") and not pd.isna(v)
        },
        "test": {c[len("test/") :]: float(pd.to_numeric(rows[c]).mean()) for c in tests},
    }


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def load_finalists(run_dir: Path) -> pd.DataFrame | None:
    """The run's finalists.parquet, or None for a run without finalists."""
    path = Path(run_dir) / FINALISTS
    return pd.read_parquet(path) if path.is_file() else None


def evidence_markdown(
    evidence: Mapping[str, Any], pick: Mapping[str, Any] | None, heading: str = "##"
) -> list[str]:
    """The evidence section of summary.md and of the comparison report (markdown lines)."""
    lines = [f"{heading} Evidence: will the pick hold?", ""]
    if pick:
        test = pick["test"].get(TEST_METRIC, math.nan)
        lines += [
            f"**Pick (finalist {pick['finalist']}, chosen on the mean of {pick['replicates']} "
            f"fresh seeds):** {BEST_VAL_METRIC} {_num(pick[BEST_VAL_METRIC])} ± "
            f"{_num(pick['sd'])}; {TEST_METRIC} {_num(test)} (mean over the same replicates, "
            "the only test scores of the finalists). Its values: "
            + ", ".join(f"`{k}` = {v}" for k, v in pick["config"].items()),
            "",
        ]
    lines += [f"**Warning:** {w}" for w in evidence["warnings"]]
    lines += [""] if evidence["warnings"] else []
    noise = evidence["noise"]
    floor = noise.get("finalists")
    redraws = noise["redraws"]
    lines.append(
        "- Seed-noise floor (sd of one training's value): "
        + (f"finalists {_num(floor['sd'])} ({floor['dof']} dof); " if floor else "")
        + f"TPE re-draws {_num(redraws['sd'])} ({redraws['groups']} configuration(s) drawn "
        "again with the same epochs)."
    )
    vt = evidence["val_test"]
    lines.append(
        f"- Val-to-test agreement over {vt['trials']} completed trials: Spearman "
        f"{_num(vt['spearman'], 2)} (mean val {_num(vt['mean_val'])}, mean test "
        f"{_num(vt['mean_test'])})."
    )
    margin = evidence["margin"]
    if margin is not None:
        lines.append(
            f"- The pick's margin over the runner-up: {_num(margin['margin'])} "
            f"({margin['basis']}); inside the noise below {_num(margin['threshold'])}."
        )
    if evidence["rungs"]:
        lines += ["", "Rung reliability (Spearman over the trials that went past each rung):", ""]
        lines += ["| rung | epoch | trials | Spearman |", "|---:|---:|---:|---:|"]
        lines += [
            f"| {k} | {r['epoch']} | {r['trials']} | {_num(r['spearman'], 2)} |"
            for k, r in enumerate(evidence["rungs"], start=1)
        ]
    if evidence["finalists"]:
        table = pd.DataFrame(evidence["finalists"])
        lines += ["", "Finalists re-trained with fresh seeds (val = best_anchored_val_loss):", ""]
        lines.append(table.to_markdown(index=False, floatfmt=".3f"))
    return [*lines, ""]
