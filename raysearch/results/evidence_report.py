"""The evidence section of every summary and comparison report: what it states, its
plain-words warnings and its markdown (the numbers: ``raysearch.results.evidence``).

Three warnings: the pick's margin over the runner-up is inside the seed noise (not
significant at ``NOISE_LEVEL``, paired by seed where the finalists share seeds); rung 1 ranks
trials badly (rho < ``RHO_BAD``), with the first later epoch that ranks them well (rho >=
``RHO_GOOD``), i.e. the longer grace period that would; or a replicate of the pick scored no
finite test value.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from raysearch.core.metrics import BEST_VAL_METRIC, FAILED, STOPPED, TEST_METRIC
from raysearch.results.evidence import (
    MIN_RANKED,
    NOISE_LEVEL,
    RHO_BAD,
    RHO_GOOD,
    SEED_PARAMETER,
    asha_rungs,
    config_key,
    epoch_reliability,
    finalist_table,
    margin_check,
    paired_margin_check,
    picked_config,
    pooled_sd,
    redraw_groups,
    replicate_groups,
    replicates_by_seed,
    val_test_agreement,
)
from raysearch.results.tables import markdown_table
from raysearch.results.trials import FINAL_STATUSES, ranked_trials
from raysearch.search.pick import failed_replicates, finalist_order

__all__ = [
    "VALUE_FORMAT",
    "evidence_markdown",
    "gather_evidence",
    "shown_number",
    "shown_value",
]

# how a configuration's float is shown (shown_value; summary.md's trial table): 4 significant
# digits, in exponent form only below 1e-4 or from 1e4 on
VALUE_FORMAT = ".4g"


def _parameters(trials: pd.DataFrame) -> list[str]:
    return [
        c[len("config/") :]
        for c in trials.columns
        if c.startswith("config/") and c != f"config/{SEED_PARAMETER}"
    ]


def _search_margin(trials: pd.DataFrame, sd: float, dof: int) -> dict[str, Any] | None:
    """The search's best trial against the best trial of another configuration, both among
    the trials the best was picked from (``scored_trials``: the summary's best trial and
    best_config.yaml's without finalists), cut ones too: its note says when a value is a
    cut trial's best so far."""
    ranked = ranked_trials(trials)  # as the summary's best is picked
    if len(ranked) < 2:
        return None
    columns = [f"config/{p}" for p in _parameters(trials)]
    best = ranked.iloc[0]
    key = config_key(best, columns)
    others = [r for _, r in ranked.iloc[1:].iterrows() if config_key(r, columns) != key]
    if not others:
        return None
    runner = others[0]
    value = {"best": float(best[BEST_VAL_METRIC]), "runner": float(runner[BEST_VAL_METRIC])}
    out = margin_check(value["best"], 1, value["runner"], 1, sd, dof)
    return {"basis": "search (one run per trial)", **out, "note": _cut_note(best, runner)}


def _cut_note(pick: pd.Series, runner: pd.Series) -> str | None:
    """What the search margin's reader must know when its pick or runner-up was cut short
    (the time budget, an interrupted search): a value so far, not a final one."""
    cut = [
        f"{who}'s trial ({row['status']})"
        for who, row in (("pick", pick), ("runner-up", runner))
        if row["status"] not in FINAL_STATUSES
    ]
    if not cut:
        return None
    if len(cut) == 1:
        return (
            f"The {cut[0]} was cut short by the search's end: its value is its best "
            "so far, not a final one."
        )
    return (
        f"The {cut[0]} and the {cut[1]} were cut short by the search's end: their values "
        "are their best so far, not final ones."
    )


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
        sd, dof = pooled_sd(replicate_groups(finalists))
        noise["finalists"] = {"sd": sd, "dof": dof}
        # the pick (as the run recorded it: an older run's may be another) against the
        # next in the order finalists are picked by (search.pick) that failed no more
        # often: one that failed more was passed over for it (_passed_over)
        order, failed = finalist_order(finalists), failed_replicates(finalists)
        ranked = table.set_index("finalist")
        chosen = [int(f) for f in ranked.index[ranked["pick"]] if int(f) in order]
        rivals = [f for f in order if chosen and f != chosen[0] and failed[f] <= failed[chosen[0]]]
        if chosen and rivals:
            pick, runner = (
                ranked.loc[f].to_dict() | {"finalist": f} for f in (chosen[0], rivals[0])
            )
            by_seed = [replicates_by_seed(finalists, int(f["finalist"])) for f in (pick, runner)]
            if len(by_seed[0].keys() & by_seed[1].keys()) >= 2:
                out = paired_margin_check(*by_seed)
                basis = f"finalists, paired over their {out['seeds']} shared seeds"
            else:
                basis = "finalists (mean of replicates)"
                out = margin_check(
                    pick["mean"], pick["replicates"], runner["mean"], runner["replicates"],
                    sd, dof,
                )  # fmt: skip
            margin = {"basis": basis, **out}
    else:
        margin = _search_margin(trials, redraw_sd, redraw_dof)
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
    if finalists is not None and not table.empty and (passed := _passed_over(finalists, table)):
        evidence["warnings"].append(passed)
    if (picked := picked_config(finalists)) and (seeds := picked["test_not_finite"]):
        evidence["warnings"].append(
            f"The pick's {_replicates(seeds)} scored no finite {TEST_METRIC}: its model's "
            "outputs on the test split overflow or are NaN, though its validation loss was "
            f"finite. The pick's test mean leaves {_them(seeds)} out; a "
            "pick that fails on later days is not one to deploy before you know why."
        )
    return evidence


def _replicates(seeds: list[int]) -> str:
    """``replicate with seed 7`` or ``replicates with seeds 7, 9``."""
    many = len(seeds) != 1
    return f"replicate{'s' * many} with seed{'s' * many} {', '.join(map(str, seeds))}"


def _them(seeds: list[int]) -> str:
    return "them" if len(seeds) != 1 else "it"


def _passed_over(finalists: pd.DataFrame, table: pd.DataFrame) -> str | None:
    """Why the finalist with the best mean is not the pick, when it failed with more of its
    seeds than the pick (``search.finalists.pick_finalist``); None otherwise."""
    scored = table.dropna(subset=["mean"]).sort_values(["mean", "finalist"])
    if scored.empty or scored["pick"].iloc[0] or not scored["pick"].any():
        return None
    best, pick = scored.iloc[0], scored[scored["pick"]].iloc[0]

    def failed(row: pd.Series) -> str:
        group = finalists[finalists["finalist"] == int(row["finalist"])]
        return f"{int((group['status'] == FAILED).sum())} of its {len(group)} seeds"

    return (
        f"Finalist {int(best['finalist'])} has the best mean ({best['mean']:.3f}) but failed "
        f"with {failed(best)}, the pick, finalist {int(pick['finalist'])} "
        f"({pick['mean']:.3f}), with {failed(pick)}: trained anew it could fail again."
    )


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
            f"is inside the seed noise: no larger than {margin['threshold']:.3f}, which is "
            f"{margin['multiplier']:.2f} standard errors of the difference (Student's t, "
            f"{NOISE_LEVEL:.0%} two-sided, {margin['dof']} dof). Another set of seeds could "
            "reverse the order; treat the two as tied."
            + (f" {margin['note']}" if margin.get("note") else "")
        )
    first = evidence["rungs"][0] if evidence["rungs"] else None
    if first is None or not first["spearman"] < RHO_BAD:  # NaN: too few trials to judge
        return
    later = epoch_reliability(
        trials, epochs, range(first["epoch"] + 1, int(settings["max_epochs"]))
    )
    good = later[(later["trials"] >= MIN_RANKED) & (later["spearman"] >= RHO_GOOD)]
    stopped = int((trials["status"] == STOPPED).sum()) if "status" in trials else 0
    text = (
        f"ASHA's first rung (epoch {first['epoch']}) ranks trials badly: Spearman's rho "
        f"between the values there and the trials' final values is {first['spearman']:.2f} "
        f"over the {first['trials']} trials that went past it, so "
        + (
            "trials it stopped may have been the best. "
            if stopped
            else "a trial stopped there could be among the best (it stopped none in this run). "
        )
    )
    if len(good):
        row = good.iloc[0]
        evidence["grace_suggestion"] = {k: row[k] for k in ("epoch", "trials", "spearman")}
        text += (
            f"Epoch {int(row['epoch'])} ranks them well (rho {row['spearman']:.2f} over "
            f"{int(row['trials'])} trials): a grace_period of {int(row['epoch'])} would stop "
            "trials only where they rank well."
        )
    else:
        text += (
            f"No later epoch before max_epochs ranks them well (rho >= {RHO_GOOD:g}) in this run; "
            "a longer grace period or FIFO would show which does."
        )
    evidence["warnings"].append(text)


def shown_value(value: Any) -> str:
    """A configuration's value as the reports and the terminal show it: a float to 4
    significant digits (a drawn 0.24425168546228684 as 0.2443; best_config.yaml keeps every
    digit), "n/a" for NaN; anything else as it is."""
    if isinstance(value, float):
        return "n/a" if math.isnan(value) else f"{value:{VALUE_FORMAT}}"
    return str(value)


def shown_number(value: float | None, digits: int = 3) -> str:
    """A value as the reports show it: ``digits`` decimals, "n/a" when there is none (an
    sd of one replicate, a mean without a test score)."""
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def evidence_markdown(
    evidence: Mapping[str, Any], pick: Mapping[str, Any] | None, heading: str = "##"
) -> list[str]:
    """The evidence section of summary.md and of the comparison report (markdown lines)."""
    lines = [f"{heading} Evidence: will the pick hold?", ""]
    if pick:
        test = pick["test"].get(TEST_METRIC, math.nan)
        unscored = pick.get("test_not_finite", [])  # a summary written before it was kept
        over = (
            f"mean over {pick['replicates'] - len(unscored)} of the same {pick['replicates']} "
            f"replicates: the {_replicates(unscored)} scored no finite value"
            if unscored
            else "mean over the same replicates"
        )
        lines += [
            f"**Pick (finalist {pick['finalist']}, chosen on the mean of {pick['replicates']} "
            f"fresh seeds):** {BEST_VAL_METRIC} {shown_number(pick[BEST_VAL_METRIC])} ± "
            f"{shown_number(pick['sd'])}; {TEST_METRIC} {shown_number(test)} ({over}; the "
            "only test scores of the finalists). Its values: "
            + ", ".join(f"`{k}` = {v}" for k, v in pick["config"].items()),
            "",
        ]
    lines += [f"**Warning:** {w}" for w in evidence["warnings"]]
    lines += [""] if evidence["warnings"] else []
    noise = evidence["noise"]
    floor = noise.get("finalists")
    redraws = noise["redraws"]
    # any searcher may draw a configuration again (random search too): what is measured is
    # the spread of one configuration's values, not anything of TPE's
    again = (
        f"the search's re-draws {shown_number(redraws['sd'])} ({redraws['groups']} "
        "configuration(s) it drew again and ran for the same epochs)"
        if redraws["groups"]
        else "no re-draws (the search drew no configuration again to run for the same epochs)"
    )
    lines.append(
        "- Seed-noise floor (sd of one training's value): "
        + (f"finalists {shown_number(floor['sd'])} ({floor['dof']} dof); " if floor else "")
        + f"{again}."
    )
    vt = evidence["val_test"]
    lines.append(
        f"- Val-to-test agreement over {vt['trials']} completed trials: Spearman "
        f"{shown_number(vt['spearman'], 2)} (mean val {shown_number(vt['mean_val'])}, mean test "
        f"{shown_number(vt['mean_test'])})."
    )
    margin = evidence["margin"]
    if margin is not None:
        threshold = margin["threshold"]  # NaN (None in summary.json): no noise estimate
        unmeasured = (
            "no finalist has two finished replicates"
            if margin["basis"].startswith("finalists")
            else "the search drew no configuration again to run for the same epochs"
        )
        judged = (
            f"inside the noise up to {shown_number(threshold)}"
            if threshold is not None and math.isfinite(threshold)
            else f"there is no estimate of the seed noise ({unmeasured}), so whether the "
            "margin is inside it cannot be judged"
        )
        lines.append(
            f"- The pick's margin over the runner-up: {shown_number(margin['margin'])} "
            f"({margin['basis']}); {judged}." + (f" {margin['note']}" if margin.get("note") else "")
        )
    if evidence["rungs"]:
        lines += ["", "Rung reliability (Spearman over the trials that went past each rung):", ""]
        lines += ["| rung | epoch | trials | Spearman |", "|---:|---:|---:|---:|"]
        lines += [
            f"| {k} | {r['epoch']} | {r['trials']} | {shown_number(r['spearman'], 2)} |"
            for k, r in enumerate(evidence["rungs"], start=1)
        ]
    if evidence["finalists"]:
        table = pd.DataFrame(evidence["finalists"])
        # a missing value (the test scores of a finalist not picked, an sd of one) as "n/a"
        cells = table.astype(object).where(table.notna(), None)
        lines += ["", "Finalists re-trained with fresh seeds (val = best_anchored_val_loss):", ""]
        lines.append(markdown_table(cells, floatfmt=".3f", missingval="n/a"))
    return [*lines, ""]
