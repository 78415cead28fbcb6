"""The tables ``raysearch simulate`` prints: quality and speed-up per k, a search against
another on the same seeds, and how the space's rungs rank the curves."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from raysearch.core.timing import time_unit

__all__ = ["POOR_RANK", "paired_table", "quality_table", "rung_table", "speedup_text"]


def speedup_text(x: float) -> str:
    """A speed-up: 0 (or NaN) where the target was not reached, inf where only this k
    reached it."""
    if not x > 0:
        return "not reached"
    return f"{x:.1f}x" if math.isfinite(x) else "inf"


def quality_table(rows: list[dict[str, Any]]) -> str:
    """The quality and speed-up per k; the simulated wall time in one unit for every k, the
    one its longest reads best in (s, min or h: ``time_unit``)."""
    unit, per = time_unit(max(r["summary"]["hours"]["median"] * 3600 for r in rows))
    lines = [
        "| k | best (median [q25, q75]) | best drawn | regret | sim. wall time | sooner than k="
        f"{rows[0]['workers']} [90% of seed resamples] | epochs | stopped early | busy |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        s = r["summary"]
        b, g = s["best"], s["regret"]
        sooner = speedup_text(r["speedup"]) + (
            " [{}, {}]".format(*map(speedup_text, r["speedup_range"]))
            if "speedup_range" in r
            else ""
        )
        lines.append(
            f"| {r['workers']} | {b['median']:.4g} [{b['q25']:.4g}, {b['q75']:.4g}] | "
            f"{s['drawn']['median']:.4g} | {g['median']:.3g} | "
            f"{s['hours']['median'] * 3600 / per:.3g} {unit} | "
            f"{sooner} | "
            f"{s['epochs']['median']:.0f} | {s['stopped']['median']:.0f} of "
            f"{s['trials']['median']:.0f} | {s['busy']['median']:.0%} |"
        )
    lines += [
        "",
        "regret: best minus the lowest value any trial of the source could report (its "
        "optimum; median over seeds). best drawn: the best value any configuration the search "
        "drew reaches over its whole curve, as if every trial had run to its last epoch "
        "(median over seeds). Below best, "
        "the search drew a better configuration than it found: its early stops, or its end, "
        "cut it off before it showed its value. stopped early: the trials that ended before "
        "max_epochs (median over seeds), stopped by the scheduler or by the trainer's own "
        "early stopping; not those still running when the search ended (a --time-budget).",
    ]
    return "\n".join(lines)


def paired_table(rows: list[dict[str, Any]], what: str) -> str:
    lines = [
        f"Against {what}, on the same seeds (better: {what} found a lower value than the "
        "search above; equal wall time: by the end of the shorter of the two searches):",
        "",
        f"| k | best (median), above | best (median), {what} | better / worse / same | p | "
        "at equal wall time: better / worse / same | p |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        c = r["against"]
        lines.append(
            f"| {r['workers']} | {r['summary']['best']['median']:.4g} | "
            f"{c['summary']['best']['median']:.4g} | {c['better']} / {c['worse']} / "
            f"{c['same']} | {c['p']:.2g} | {c['time_better']} / {c['time_worse']} / "
            f"{c['time_same']} | {c['time_p']:.2g} |"
        )
    lines += [
        "",
        "p: two-sided sign test over the seeds (ties left out): below 0.05, a split this "
        "uneven is unlikely if neither search is better on these curves.",
    ]
    return "\n".join(lines)


POOR_RANK = 0.5  # a rung ranks the best curves poorly below this Spearman's rho


def rung_table(
    ranks: Any,
    gate: float,
    gated: str | None,
    unmeasured: str,
    pairs: int,
    cut_cost: bool,
    held: Mapping[int, int],
    searches: int,
) -> str:
    """How the space's rungs rank the curves (``rank_rungs``), and what to try where the
    best curves start slowly (``gated``: what gated_asha's gate judges a rung by, "next"
    (it lets a rung's stops stand once it agrees with the next rung at Spearman >=
    ``gate``) or "chain"; None without the gate; ``cut_cost``: the gate also weighs what a
    rung's cut costs; ``held``: per rung epoch, the trials ASHA stopped there that the
    gate let go on, over the ``searches`` searches run) and where the first rung ranks
    every curve poorly while the gate leaves the stops at a rung with fewer than ``pairs``
    pairs to ASHA (``unmeasured``)."""
    lines = [
        "How the rungs rank these curves: Spearman's rho of the value at a rung with the "
        f"curve's best, over {ranks.curves:,} distinct curves of random configurations and "
        f"over the best {ranks.best_curves:,} of them (by their best value); and over the "
        "best with the next rung, which is what scheduler gated_asha's gate checks:",
        "",
        "| rung (epoch) | every curve | best curves | best curves, with the next rung |",
        "|---|---|---|---|",
    ]
    for r in ranks.rungs:
        lines.append(
            f"| {r.epoch} | {r.every:.2f} | {r.best:.2f} | {r.best_later:.2f} (epoch {r.later}) |"
        )
    slow = [r for r in ranks.rungs if r.best < POOR_RANK and r.best_later >= gate]
    if slow:
        # what to measure: a first rung past the slow ones (unless the last of them is
        # ASHA's last rung), the chain gate (where the gate judges by the next rung), none
        options = []
        if slow[-1] != ranks.rungs[-1]:
            options.append(("a later first rung", f"grace_period={slow[-1].later}"))
        if gated and not cut_cost:
            options.append(("a gate that weighs what a cut costs", "gate_cut_cost=true"))
        if gated == "next":
            options.append(("a gate judged along the chain of rungs", "gate_against=chain"))
        options.append(("no early stopping", "scheduler=fifo"))
        what = ", ".join(o[0] for o in options[:-1]) + (" or " if len(options) > 1 else "")
        runs = ", ".join(f"--against {o[1]}" for o in options)
        # what the searches run did there: the gate's held stops, if it held any
        kept = [(r.epoch, held[r.epoch]) for r in slow if held.get(r.epoch)]
        lines += [
            "",
            f"At epoch {', '.join(str(r.epoch) for r in slow)} the best curves rank poorly "
            f"(rho < {POOR_RANK}) while the next rung agrees: the configurations that end "
            "best start slowly, and ASHA would stop them there"
            + (", and the gate would not see it" if gated == "next" and not cut_cost else "")
            + "."
            + _held_text(kept, searches)
            + f" To measure what {what}{options[-1][0]} buys: {runs}.",
        ]
    first = ranks.rungs[0] if ranks.rungs else None
    if first is not None and first.every < POOR_RANK and gated and unmeasured == "asha":
        lines += [
            "",
            f"At epoch {first.epoch}, the first rung, even random curves rank poorly (rho "
            f"{first.every:.2f} < {POOR_RANK}). With many trials at once the first of them "
            f"reach it before the gate has the {pairs} pairs it judges a rung by, and "
            "ASHA's stops there stand unjudged. To measure deferring those stops until "
            "the rung is measured: --against gate_unmeasured=defer.",
        ]
    return "\n".join(lines)


def _held_text(kept: list[tuple[int, int]], searches: int) -> str:
    """What the gate did at the slow rungs in the ``searches`` searches run: the trials
    ASHA stopped there that it let go on (``kept``: rung epoch, trials); "" if none."""
    if not kept:
        return ""
    (epoch, n), rest = kept[0], kept[1:]
    which = "the search" if searches == 1 else f"the {searches:,} searches"
    return (
        f" In {which} above the gate held {n:,} of ASHA's stops at epoch {epoch}"
        + "".join(f", and {m:,} at epoch {e}" for e, m in rest)
        + f": th{'ose trials' if n + sum(m for _, m in rest) > 1 else 'at trial'} went on."
    )
