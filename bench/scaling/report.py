"""The scaling benchmark's table (scaling.md), targets and plot, from its JSON."""

from __future__ import annotations

import itertools
import math
import os
import statistics
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

from bench.common import (
    Target,
    header,
    markdown_table,
    seed_ranges,
    target_line,
    targets_section,
)
from bench.methods import METHODS as REGISTRY
from bench.methods import RAYSEARCH
from bench.scaling.analyse import (
    SPEEDUP_TARGETS,
    at_budget,
    equal_epochs,
    equal_time,
    quality,
    quartiles,
    reach_against,
    records_unchanged,
    speedups,
    worth,
)
from bench.scaling.benchmarks import BENCHMARKS
from bench.scaling.draws import draws_lines, draws_rows
from bench.scaling.gate_notes import gate_lines
from bench.scaling.methods import BEFORE_CUT, BEFORE_DEFER, BEFORE_MIX, DEFAULT, METHODS
from bench.scaling.notes import (
    bound_lines,
    candidate_lines,
    liar_lines,
    setup_lines,
    sign_p,
    why_lines,
)
from bench.scaling.reality import timed_lines
from bench.scaling.stale import stale_lines
from raysearch.search.simulation.runs import RESAMPLES

__all__ = ["readme_speedups", "readme_workers", "render", "write_readme_blocks"]


def _quality_tables(rows: list[dict[str, Any]]) -> list[str]:
    lines = []
    workers = sorted({r["workers"] for r in rows})
    for bench in [b for b in BENCHMARKS if any(r["bench"] == b for r in rows)]:
        title = BENCHMARKS[bench].title
        if any(r.get("synthetic") for r in rows if r["bench"] == bench):
            title += " (the synthetic stand-in: results/benchmarks/han_table.parquet is not there)"
        lines += [f"### {title}", ""]
        table = []
        for method in [m for m in METHODS if any(r["method"] == m for r in rows)]:
            mine = {r["workers"]: r for r in rows if r["bench"] == bench and r["method"] == method}
            if not mine:
                continue
            row = {"method": METHODS[method].label}
            for k in workers:
                row[f"k{k}"] = quartiles(mine[k]["regret"]) if k in mine else ""
                row[f"e{k}"] = f"{mine[k]['epochs']['median']:,.0f}" if k in mine else ""
            table.append(row)
        columns = {"method": "method"}
        for k in workers:
            columns[f"k{k}"] = f"k={k}: regret"
            columns[f"e{k}"] = "epochs"
        lines += [markdown_table(table, columns), ""]
    return lines


def _speedup(r: dict[str, Any]) -> str:
    x, need = r["speedup"], SPEEDUP_TARGETS.get(r["workers"], math.inf)
    if math.isfinite(x):
        # one decimal, or two where one would round a miss up to the target (9.96x, not 10.0x)
        return f"{x:.2f}x" if x < need <= round(x, 1) else f"{x:.1f}x"
    return "1x" if r["workers"] == 1 else f"< {r['speedup_floor']:.1f}x"


def _share(r: dict[str, Any]) -> str:
    """How sure the verdict is: the share of seed resamples that meet the target."""
    share = r.get("met_share")
    return "" if share is None else f" ({share:.0%})"


def _speedup_spread(r: dict[str, Any]) -> str:
    """The seeds' spread of a speed-up: the slow quarter's, then the fast quarter's; '<'
    where that seed did not reach the target within the run's limit."""
    if r["workers"] == 1:
        return ""
    return ", ".join(
        ("< " if censored else "") + (f"{x:.1f}x" if math.isfinite(x) else "inf")
        for x, censored in r["speedup_quartiles"]
    )


def _speedup_lines(rows: list[dict[str, Any]]) -> list[str]:
    table = []
    for r in rows:
        shown = _speedup(r)
        table.append(
            {
                **({"method": METHODS[r["method"]].label} if r["method"] != DEFAULT else {}),
                "bench": r["bench"],
                "k": r["workers"],
                "target": f"{r['target_regret']:.3g}",
                "hours": "not reached"
                if not math.isfinite(r["seconds"])
                else f"{r['seconds'] / 3600:.3g}",
                "reached": f"{r['reached']}/{r['seeds']}",
                "speedup": shown + _share(r),
                "spread": _speedup_spread(r),
                "regret": quartiles(r["regret_trials"]),
            }
        )
    return [
        markdown_table(
            table,
            {
                **({"method": "method"} if any(r["method"] != DEFAULT for r in rows) else {}),
                "bench": "benchmark",
                "k": "k",
                "target": "target regret (k=1 median)",
                "hours": "sim. hours to reach (median)",
                "reached": "seeds reached",
                "speedup": "speed-up vs k=1 (resamples meeting the target)",
                "spread": "over seeds: slow quarter, fast quarter",
                "regret": "regret after 200 trials",
            },
        ),
        "",
    ]


# the searches whose speed-ups are read
WORTH = (DEFAULT, BEFORE_CUT, BEFORE_DEFER, BEFORE_MIX, "tpe_fifo", "random_asha")


def _worth_lines(rows: list[dict[str, Any]]) -> list[str]:
    """What k trials at once buy at the quality they reach (analyse.worth)."""
    if not rows:
        return []
    table = [
        {
            "method": METHODS[r["method"]].label,
            "bench": r["bench"],
            "k": r["workers"],
            "regret": r["regret"],
            "h1": r["seconds_1"] / 3600,
            "hk": r["seconds_k"] / 3600,
            "speedup": ("≥ " if r["beyond"] else "") + f"{r['speedup']:.1f}x",
            "e1": round(r["epochs_1"]),
            "ek": round(r["epochs_k"]),
            "ratio": ("≥ " if r["beyond"] else "") + f"{r['epoch_ratio']:.2f}",
        }
        for r in rows
    ]
    lines = [
        "### What k trials at once buy",
        "",
        "At the quality each search reaches: the median regret after 200 trials at k, and "
        "the simulated time and epochs the same search takes to it one trial at a time and "
        "k at a time, each read from the median over seeds of the regret so far "
        "(`bench.scaling.analyse.worth`, from the runs above). The speed-up is how many "
        "workers the k act as. 'Epochs, k=1 / k' below 1 means the k trials at once spent "
        "more epochs than one at a time for the same result. Where one trial at a time never "
        "got as low, its run's end stands in, and the figures are lower bounds (≥).",
        "",
        markdown_table(
            table,
            {
                "method": "search",
                "bench": "benchmark",
                "k": "k",
                "regret": "regret after 200 trials at k (median)",
                "h1": "sim. hours, k=1",
                "hk": "sim. hours, k",
                "speedup": "speed-up",
                "e1": "epochs, k=1",
                "ek": "epochs, k",
                "ratio": "epochs, k=1 / k",
            },
        ),
        "",
    ]
    for method in WORTH:
        mine = [r for r in rows if r["method"] == method and not r["beyond"]]
        if not mine:
            continue
        ratios = sorted(r["epoch_ratio"] for r in mine)
        lines.append(
            f"- {METHODS[method].label}: epochs, k=1 / k from {ratios[0]:.2f} to "
            f"{ratios[-1]:.2f} (median {statistics.median(ratios):.2f}) over "
            f"{len(mine)} (benchmark, k) cells."
        )
    lines += [
        "",
        "Random search draws the same configurations whatever the results, so its ratio "
        "stays near 1. A model-based search's ratio is what its model loses by drawing k "
        "trials before their results are in. If every epoch took the same time and every "
        "worker were busy, the speed-up would be k times the ratio, so the targets (10x at "
        "k = 16, 32x at k = 64) would need a ratio of at least 10/16 and 32/64. Epoch times "
        "differ between configurations (on LCBench, by the surrogate's times), so the "
        "measured speed-up can be above or below that.",
        "",
        "![speed-up against k](scaling_speedup.png)",
        "",
    ]
    return lines


def _met(r: dict[str, Any]) -> bool:
    return math.isfinite(r["speedup"]) and r["speedup"] >= SPEEDUP_TARGETS[r["workers"]]


def _candidate_speedup_verdicts(
    candidates: list[dict[str, Any]],
    by_method: dict[str, list[dict[str, Any]]],
    reach: list[dict[str, Any]] | None = None,
) -> list[str]:
    """How many (benchmark, k) speed-up targets each candidate meets, and its baseline;
    with the ``reach`` records, how often it reached the target sooner than its baseline,
    seed by seed (confirm.reach_verdict)."""
    from bench.scaling.confirm import reach_verdict

    lines = []
    for method in sorted({r["method"] for r in candidates}):
        base = METHODS[method].baseline
        if base == method:
            continue
        mine = [r for r in candidates if r["method"] == method and r["workers"] in SPEEDUP_TARGETS]
        cells = {(r["bench"], r["workers"]) for r in mine}
        theirs = [r for r in by_method.get(base, []) if (r["bench"], r["workers"]) in cells]
        line = (
            f"- {METHODS[method].label}: speed-up target met in {sum(map(_met, mine))} of "
            f"{len(mine)} (benchmark, k) cells; {METHODS[base].label} in "
            f"{sum(map(_met, theirs))} of {len(theirs)}."
        )
        runs = [
            r
            for r in reach or []
            if reach_against(r) == base
            and r["method"] in (method, base)
            and (r["bench"], r["workers"]) in cells
        ]
        paired = {(r["bench"], r["workers"], r["seed"]) for r in runs if r["method"] == base}
        runs = [r for r in runs if (r["bench"], r["workers"], r["seed"]) in paired]
        limits = {(r["bench"], r["workers"]): r["limit"] for r in theirs}
        if any(
            not math.isclose(r["limit"], limits.get((r["bench"], r["workers"]), r["limit"]))
            for r in mine
        ):
            line += (
                " Its reach runs had other time limits than its baseline's (they ran before "
                "`reach_limit`, to 2 T1 / k), so these counts are not a fair comparison: re-run "
                f"them (`--methods {method} --parts reach --merge`)."
            )
        elif any(r["method"] == method for r in runs):
            found = reach_verdict(runs, method)
            line += (
                f" Seed by seed it reached the target sooner in {found['better']} runs and "
                f"later in {found['worse']} (two-sided sign test p = {found['p']:.2g})."
            )
        lines.append(line)
    return [*lines, ""] if lines else []


def _comparison_table(comparisons: list[dict[str, Any]]) -> str:
    """The default against others, one row per (benchmark, k, other); with a column of
    their trials when the comparisons carry them (the budget runs)."""
    budget = any("trials_b" in c for c in comparisons)
    table = []
    for c in comparisons:
        row = {
            "bench": c["bench"],
            "k": c["workers"],
            "vs": METHODS[c["b"]].label,
            "epochs": f"{c['epochs']['median']:,.0f}",
            "ours": quartiles(c["regret_a"]),
            "theirs": quartiles(c["regret_b"]),
            "wins": f"{c['a_not_worse']}/{c['seeds']}",
        }
        if budget:
            short = f" ({c['short']} ran out of trials)" if c["short"] else ""
            row["trials"] = f"{c['trials_b']['median']:,.0f}{short}"
        table.append(row)
    columns = {"bench": "benchmark", "k": "k", "vs": "against", "epochs": "epochs (median)"}
    if budget:
        columns["trials"] = "their trials (median)"
    columns |= {
        "ours": "default: regret",
        "theirs": "theirs: regret",
        "wins": "seeds default <= theirs",
    }
    return markdown_table(table, columns)


def _start_rival(start: list[dict[str, Any]]) -> str:
    """The search the start runs set against the default (``--parts start`` runs two)."""
    (other,) = {r["method"] for r in start} - {DEFAULT}
    return other


def _start_cells(
    runs: list[dict[str, Any]], start: list[dict[str, Any]]
) -> tuple[list[tuple[str, dict[str, Any]]], dict[str, tuple[int, int, int]]]:
    """The default against random + ASHA at equal wall time, with no start cost per trial
    (``runs``) and with each start cost in ``start``: the cells (start label, comparison),
    and per start label how many cells the default is no worse in by the median at equal
    wall time, of how many, and at equal epochs."""
    workers = sorted({r["workers"] for r in start})
    start_s = sorted({r["start_s"] for r in start})
    other = _start_rival(start)
    rows, counts = [], {}
    by_cost = [(f"{s:g} s", [r for r in start if r["start_s"] == s]) for s in start_s]
    for label, records in (("0 s", runs), *by_cost):
        pairs = [
            (
                equal_time(records, bench, DEFAULT, other, k),
                equal_epochs(records, bench, DEFAULT, other, k),
            )
            for bench in BENCHMARKS
            for k in workers
        ]
        found = [t for t, _ in pairs if t is not None]
        epochs = [e for _, e in pairs if e is not None]
        counts[label] = (
            sum(c["regret_a"]["median"] <= c["regret_b"]["median"] for c in found),
            len(found),
            sum(c["regret_a"]["median"] <= c["regret_b"]["median"] for c in epochs),
        )
        rows += [(label, c) for c in found]
    rows.sort(key=lambda row: (list(BENCHMARKS).index(row[1]["bench"]), row[1]["workers"]))
    return rows, counts


def _start_sentence(counts: dict[str, tuple[int, int, int]]) -> str:
    last = list(counts)[-1]
    return (
        f"the default is no worse in {counts['0 s'][0]} of {counts['0 s'][1]} "
        f"cells with no start cost and in {counts[last][0]} of {counts[last][1]} with "
        f"{last}; at equal epochs, in {counts['0 s'][2]} and {counts[last][2]}"
    )


def _start_lines(
    runs: list[dict[str, Any]],
    start: list[dict[str, Any]],
    beside: Sequence[tuple[dict[str, Any], str]] = (),
) -> list[str]:
    """The default against random + ASHA at equal wall time, with no start cost per trial
    (the runs above) and with the start part's (``--parts start``); the same counts on
    each table beside this one (fresh seeds) with start runs of its own."""
    if not start:
        return []
    start_s = sorted({r["start_s"] for r in start})
    rows, counts = _start_cells(runs, start)
    fresh = []
    seeds = {r["seed"] for r in start}
    for other, where in beside:
        theirs = other.get("start") or []
        their_seeds = {r["seed"] for r in theirs}
        if theirs and not their_seeds & seeds:
            intro = f"on fresh seeds {seed_ranges(their_seeds)}"
        elif seeds < their_seeds:
            intro = f"on seeds {seed_ranges(their_seeds)} pooled ({len(their_seeds)} seeds)"
        else:
            continue
        link = f"{where}/scaling.md#with-a-start-cost-per-trial"
        fresh.append(
            f"{intro} ([{where}]({link})), "
            + _start_sentence(_start_cells(other["runs"], theirs)[1])
        )
    lines = [
        "## With a start cost per trial",
        "",
        "Epochs are not all a trial costs: before its first epoch Ray starts it, it loads its "
        "data and builds its model (results/benchmarks/overhead.md: about 3 s for a one-worker "
        "trial on the 2-core development machine, about 20 s for a two-worker one through Ray "
        "Train), and a search that starts many short trials pays that many times. The "
        "simulated wall times above count epochs only. Here the default and "
        f"{METHODS[_start_rival(start)].label} were run again with each trial taking "
        f"{' and '.join(f'{s:g}' for s in start_s)} s before its first epoch "
        "(`--parts start`; `raysearch simulate --trial-start-s` does it on your own curves), "
        "on the same seeds. Regret at equal simulated wall time (seed by seed, at the shorter "
        "run's end), median [25th, 75th percentile]. By the median "
        + _start_sentence(counts)
        + f" (seeds {seed_ranges({r['seed'] for r in start})})"
        + ("; " + "; ".join(fresh) if fresh else "")
        + ". A start cost adds no epochs, though with k > 1 it changes the order results "
        "arrive in, and so what the searches draw.",
        "",
        f"| benchmark | k | trial start | wall time, h (median) | default | "
        f"{METHODS[_start_rival(start)].label} | seeds default <= theirs |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, c in rows:
        lines.append(
            f"| {c['bench']} | {c['workers']} | {label} | {c['hours']['median']:.3g} | "
            f"{quartiles(c['regret_a'])} | {quartiles(c['regret_b'])} | "
            f"{c['a_not_worse']}/{c['seeds']} |"
        )
    return [*lines, ""]


def _budget_lines(comparisons: list[dict[str, Any]]) -> list[str]:
    if not comparisons:
        return []
    return [
        "### At the default's epochs",
        "",
        "The table above compares at the fewer of two runs' epochs, so a search that spends "
        "fewer epochs in 200 trials than the default is compared at its own small budget. "
        "Here it gets the default's epochs instead: seed by seed, the same k, as many trials "
        "as it takes to spend as many epochs as the default's run of 200 trials "
        "(`--parts budget`). The default: its regret after its 200 trials.",
        "",
        _comparison_table(comparisons),
        "",
    ]


def _no_worse_target(
    comparisons: list[dict[str, Any]], other: str, k_rule: int | None, where: str
) -> Target | None:
    """The default no worse than ``other`` (median regret) in every cell of ``comparisons``
    (only k = ``k_rule`` if given). A cell it misses says in how many seeds the default was
    no worse, so a median lost by a hair reads apart from one lost seed after seed."""
    mine = [
        c for c in comparisons if c["b"] == other and (k_rule is None or c["workers"] == k_rule)
    ]
    if not mine:
        return None
    losses = [c for c in mine if c["regret_a"]["median"] > c["regret_b"]["median"]]
    figure = "; ".join(
        f"{c['bench']} k={c['workers']}: "
        f"{c['regret_a']['median']:.3g} vs {c['regret_b']['median']:.3g} "
        f"(no worse in {c['a_not_worse']}/{c['seeds']} seeds)"
        for c in losses
    )
    return Target(
        f"{where}{' and k=1' if k_rule else ' and equal k'} the default is "
        f"no worse than {METHODS[other].label} (median regret)",
        f"{len(mine) - len(losses)}/{len(mine)} cells no worse"
        + (f"; worse: {figure}" if losses else ""),
        not losses,
        "" if not losses else "see the equal-epochs tables",
    )


def _targets(
    speed: list[dict[str, Any]],
    comparisons: list[dict[str, Any]],
    budgets: list[dict[str, Any]],
    decisions: list[dict[str, Any]],
    reality: dict[str, Any] | None,
    benches: Sequence[str] = (),
) -> list[Target]:
    """The targets; ``benches``: the benchmarks the default ran on, each of which a speed-up
    target needs (one without a speed-up at k, its reach runs never run, is not measured:
    the target is missed, not met on the others)."""
    found = [*_decision_targets(decisions), *_reality_targets(reality)]
    for k, need in SPEEDUP_TARGETS.items():
        mine = [r for r in speed if r["workers"] == k]
        unmeasured = [b for b in benches if b not in {r["bench"] for r in mine}]
        if not mine and not speed:
            continue  # no reach runs at all (--parts runs): no speed-up to judge
        figures = ", ".join(
            [f"{r['bench']} {_speedup(r)}{_share(r)}" for r in mine]
            + [f"{b} not measured" for b in unmeasured]
        )
        met = all(map(_met, mine)) and not unmeasured
        found.append(
            Target(
                f"k={k} reaches the default's k=1 median (200 trials) >= {need:g}x sooner "
                "in wall time, on each benchmark (in brackets: the share of seed resamples "
                "that meet it)",
                figures,
                met,
                "" if met else "see 'Why the targets are missed'",
            )
        )
    for other, k_rule in (("random_asha", None), ("tpe_fifo", None), ("optuna_hyperband", 1)):
        if (t := _no_worse_target(comparisons, other, k_rule, "at equal epochs")) is not None:
            found.append(t)
        at_mine = "at the default's epochs (theirs given the trials to spend them)"
        if (t := _no_worse_target(budgets, other, k_rule, at_mine)) is not None:
            found.append(t)
    return found


def _rung_lines(rungs: list[dict[str, Any]]) -> list[str]:
    if not rungs:
        return []
    table = [
        {"bench": r["bench"], **{f"r{k}": f"{v:.2f}" for k, v in r["rho"].items()}} for r in rungs
    ]
    columns = {"bench": "benchmark"}
    columns.update({f"r{k}": f"epoch {k}" for k in ("1", "3", "9", "27")})
    lines = [
        "How well ASHA's rungs rank configurations: Spearman correlation of the value at a "
        f"rung with the best value of the whole curve, {rungs[0]['configs']} random "
        "configurations per benchmark.",
        "",
        markdown_table(table, columns),
        "",
    ]
    best = [r for r in rungs if "best" in r]
    if not best:
        return lines
    among = [
        {
            "bench": r["bench"],
            "curves": f"{r['best']['curves']} of {r['best']['of']:,}",
            **{f"r{k}": f"{v['final']:.2f} ({v['next']:.2f})" for k, v in r["best"]["rho"].items()},
        }
        for r in best
    ]
    columns = {"bench": "benchmark", "curves": "best curves"}
    columns.update({f"r{k}": f"epoch {k}" for k in ("1", "3", "9", "27")})
    return [
        *lines,
        "The same among the best configurations only, where a search that has found the "
        "good region draws and where ASHA's cut-off then comes from: the best tenth of the "
        f"distinct curves of {best[0]['best']['drawn']:,} random configurations (by the "
        "curve's best value); Spearman of the value at the rung with the curve's best, and "
        "in brackets with the next rung (the last epoch after the last rung), which is what "
        "the default's gate checks (`bench.scaling.rungs.among_the_best`).",
        "",
        markdown_table(among, columns),
        "",
    ]


def _decision_targets(records: list[dict[str, Any]]) -> list[Target]:
    from bench.scaling.decisions import decision_figures

    found = []
    for method in ("default", "default_journal"):
        last = [
            (c["bench"], c["bins"][-1])
            for c in decision_figures(records)["cost"]
            if c["method"] == method and c["bins"]
        ]
        if not last:
            continue
        worst = max(b["mean_ms"] for _, b in last)
        figure = ", ".join(
            f"{bench} {b['mean_ms']:.1f} ms (trials to {b['to']:,})" for bench, b in last
        )
        where = "study in memory" if method == "default" else "study in a file, as a run keeps it"
        found.append(
            Target(
                f"the driver decides in < 50 ms per trial at 2,000 trials ({where})",
                figure,
                worst < 50,
                ""
                if worst < 50
                else "see 'Decision time': the study's file storage costs every report "
                "and every suggestion a write and a read",
            )
        )
    return found


def _reality_targets(reality: dict[str, Any] | None) -> list[Target]:
    if not reality:
        return []
    p = reality["mannwhitney_p"]
    real, sim = reality["real_quartiles"][1], reality["simulated_quartiles"][1]
    return [
        Target(
            "simulated and real Ray runs give regret distributions that agree within their "
            f"noise (Hartmann, k={reality['workers']}, {len(reality['seeds'])} seeds)",
            f"median regret real {real:.3g}, simulated {sim:.3g}; Mann-Whitney U p = {p:.2f}",
            p > 0.05,
            "" if p > 0.05 else "the distributions differ at the 5% level",
        )
    ]


def _decision_lines(records: list[dict[str, Any]]) -> list[str]:
    from bench.scaling.decisions import COST_BENCHMARKS, COST_METHODS, STORED, decision_figures

    if not records:
        return []

    figures = decision_figures(records)
    lines = ["## Decision time", ""]
    table = []
    order = [*COST_METHODS, *STORED]
    for c in sorted(
        figures["cost"],  # in the order the runs are listed, not the order they finished
        key=lambda c: (COST_BENCHMARKS.index(c["bench"]), order.index(c["method"])),
    ):
        row = {"bench": c["bench"], "method": METHODS[c["method"]].label}
        for b, wall in zip(c["cpu_bins"], c["bins"], strict=True):
            row[b["to"]] = f"{b['mean_ms']:.1f} ({wall['mean_ms']:.0f})"
        table.append(row)
    ends = sorted({b["to"] for c in figures["cost"] for b in c["bins"]})
    columns = {"bench": "benchmark", "method": "search"}
    columns.update({e: f"trials to {e:,}" for e in ends})
    lines += [
        "Per trial, the driver's time deciding for it (its suggestion and the handling of "
        "each of its results by scheduler and searcher), mean over each range of trials, in "
        "CPU ms (wall ms in brackets: this machine was shared, so wall time includes waiting "
        "for the CPU; a study in a file also waits for the disk). k = 16.",
        "",
        markdown_table(table, columns),
        "",
    ]
    rows = [
        {
            "bench": e["bench"],
            "trials": e["trials"],
            "capped": quartiles(e["default"]),
            "uncapped": quartiles(e["default_uncapped"]),
            "not_worse": f"{e['capped_not_worse']}/{e['seeds']}",
            "capped_ms": f"{e['default_ms']['median']:.1f}",
            "uncapped_ms": f"{e['default_uncapped_ms']['median']:.1f}",
        }
        for e in figures["effect"]
    ]
    if rows:
        lines += [
            "The cap's effect on quality (part `cap`): the default with its cap (TPE fits on at "
            "most 400 trials: the best quarter and the most recent rest) and without it, k = 16, "
            "the same seeds; regret after the run's trials, median [25th, 75th percentile]; "
            "ms/trial: the median over seeds of the mean wall ms per decision.",
            "",
            markdown_table(
                rows,
                {
                    "bench": "benchmark",
                    "trials": "trials",
                    "capped": "regret, capped",
                    "uncapped": "regret, uncapped",
                    "not_worse": "seeds capped <= uncapped",
                    "capped_ms": "ms/trial, capped",
                    "uncapped_ms": "ms/trial, uncapped",
                },
            ),
            "",
        ]
    return lines


def _reality_lines(reality: dict[str, Any] | None) -> list[str]:
    if not reality:
        return []
    real, sim = reality["real_quartiles"], reality["simulated_quartiles"]
    # the same seed drives the searcher in both; Ray's own timing orders the results
    higher = sum(r > s for r, s in zip(reality["real"], reality["simulated"], strict=True))
    lower = sum(r < s for r, s in zip(reality["real"], reality["simulated"], strict=True))
    return [
        "## The simulator against real Ray runs",
        "",
        f"{REGISTRY[RAYSEARCH].description} (`bench.scaling.reality`) on augmented Hartmann, "
        f"k = {reality['workers']}, {reality['trials']} trials, seeds "
        f"{reality['seeds']}: regret median [25th, 75th percentile], real Ray Tune "
        f"{real[1]:.3g} [{real[0]:.3g}, {real[2]:.3g}], simulated {sim[1]:.3g} "
        f"[{sim[0]:.3g}, {sim[2]:.3g}]; Mann-Whitney U two-sided p = "
        f"{reality['mannwhitney_p']:.2f} ({reality['real_s']:.0f} s of real runs). Seed by "
        f"seed, the real run ended with the higher regret in {higher} and the lower in "
        f"{lower} (sign test p = {sign_p(higher, lower):.2f}). The seed drives the same "
        "searcher in both, but Ray's own timing decides the order results arrive in, so the "
        "two runs of a seed need not draw the same trials; the check is of the distributions. "
        + _split_sentence(reality["real"], reality["simulated"]),
        "",
    ]


def _replay_lines(replay: list[dict[str, Any]], under_reality: bool) -> list[str]:
    """The simulator against Ray Tune one trial at a time (``--parts replay``): how many
    runs were the same run trial for trial, per benchmark, and where the others parted."""
    if not replay:
        return []
    benches = list(dict.fromkeys(r["bench"] for r in replay))
    same = sum(r["same"] for r in replay)
    per_bench = ", ".join(
        f"{b} {sum(r['same'] for r in replay if r['bench'] == b)}/"
        f"{sum(r['bench'] == b for r in replay)}"
        for b in benches
    )
    seeds = sorted({r["seed"] for r in replay})
    trials = sorted({r["trials"] for r in replay})
    lines = [] if under_reality else ["## The simulator against real Ray runs", ""]
    lines += [
        "One trial at a time, nothing but the search orders what happens, so there the "
        "simulator must run exactly the search Ray Tune runs. The default search of each "
        "benchmark was run in a real Tuner on a local Ray, each trial a function trainable "
        "reporting its configuration's curve from the benchmark's source "
        "(`raysearch.search.simulation.replay`; the study in a journal file, as a run keeps "
        "it), and on the simulator, with the same seed "
        f"({', '.join(map(str, trials))} trials, seeds {seeds[0]}-{seeds[-1]}; "
        f"{sum(r['real_s'] for r in replay):.0f} s of real runs; `--parts replay`). "
        f"The same run trial for trial (the same configurations with the same training "
        f"seeds, in the same order, each stopped at the same epoch with the same values) "
        f"in {same} of {len(replay)}: {per_bench}."
    ]
    parted = [r for r in replay if not r["same"]]
    if parted:
        lines[-1] += (
            " Where they parted: "
            + "; ".join(f"{r['bench']} seed {r['seed']}: {r['difference']}" for r in parted[:5])
            + ("; ..." if len(parted) > 5 else "")
            + "."
        )
    return [*lines, ""]


def _split_sentence(real: list[float], simulated: list[float]) -> str:
    """Where the pooled regrets of the two sets of runs part most widely, and how many of
    each lie above: with runs that end near the optimum or near a local one, a median of 10
    can land in either group."""
    pooled = sorted(real + simulated)
    if len(pooled) < 2:
        return ""
    low, high = max(itertools.pairwise(pooled), key=lambda pair: pair[1] - pair[0])
    return (
        f"Pooled, the regrets part most widely between {low:.3g} and {high:.3g}: real runs "
        f"ended above that gap in {sum(r >= high for r in real)} of {len(real)} seeds, "
        f"simulated ones in {sum(s >= high for s in simulated)} of {len(simulated)}."
    )


def beside_lines(
    other: dict[str, Any],
    where: str,
    seeds: list[int],
    again: bool = False,
    mine: Collection[str] = (),
) -> list[str]:
    """The targets as another table reads them (``other``: its scaling.json, in the
    directory ``where`` beside this table, whose runs have ``seeds``, on benchmarks
    ``mine``): a run on fresh seeds (``again``: not the first set of them shown), a pool of
    this table's seeds with others, or a run on variants of this table's benchmarks."""
    theirs = other["meta"]["seeds"]
    link = f"([{where}/scaling.md]({where}/scaling.md), `{other['meta']['command']}`)"
    variants = [
        b for b in BENCHMARKS if BENCHMARKS[b].variant_of and b not in mine and _has_bench(other, b)
    ]
    if variants:
        intro = (
            "The HAN figures above give a trial the recorded seed its own seed picks, so on "
            "the HAN table (2 recorded seeds) two trials of one configuration train the same "
            "curve half the time, where a real search trains each with a seed of its own and "
            "gets a new curve. With each trial of a configuration on a recorded seed it has "
            "not had yet, as `raysearch simulate` runs a table "
            f"({', '.join(f'`{b}`' for b in variants)}), beside the table as it is, on seeds "
            f"{seed_ranges(theirs)}, the same targets read {link}:"
        )
    elif not set(theirs) & set(seeds) and again:
        intro = f"On fresh seeds {seed_ranges(theirs)} as well, the same targets read {link}:"
    elif not set(theirs) & set(seeds):
        intro = (
            f"The default was chosen on seeds {seed_ranges(seeds)} (the candidates below were "
            "measured on them), so the figures above flatter it. On fresh seeds "
            f"{seed_ranges(theirs)}, which chose nothing, the same targets read {link}:"
        )
    else:
        intro = (
            f"Ten seeds decide a target per (benchmark, k) only roughly: the cells missed "
            f"move from one set of seeds to the next. On seeds {seed_ranges(theirs)} pooled "
            f"({len(theirs)} seeds; the k=1 target is the median of all {len(theirs)} k=1 "
            f"runs, and the reach runs are run again against it) the same targets read {link}:"
        )
    # what bounds a miss is told in their table
    return ["", intro, "", *(target_line(t, why=False) for t in other["targets"])]


def _has_bench(data: dict[str, Any], bench: str) -> bool:
    """Whether a table (its scaling.json) holds runs or reach runs of ``bench``."""
    return any(r["bench"] == bench for part in ("runs", "reach") for r in data.get(part) or [])


# The README's blocks of the default's figures, written by a render of the main table:
# its speed-up targets, and what k workers act as.
README_SPEEDUPS = (
    "<!-- scaling speed-ups: python -m bench.scaling --render writes this -->",
    "<!-- end of scaling speed-ups -->",
)
README_WORKERS = (
    "<!-- scaling workers: python -m bench.scaling --render writes this -->",
    "<!-- end of scaling workers -->",
)


def readme_workers(runs: list[dict[str, Any]]) -> list[str]:
    """What k workers running the default act as on each benchmark, and the epochs they
    spend for the same result as one at a time (``analyse.worth``), for the README."""
    rows = worth(runs, DEFAULT)
    table = []
    for bench in BENCHMARKS:
        cells = {}
        for r in (r for r in rows if r["bench"] == bench):
            # beyond k=1's run: k=1's figures are its end, so k's lower bounds, and the
            # epochs' multiple an upper one
            low, high = ("≥ ", "≤ ") if r["beyond"] else ("", "")
            cells[f"k{r['workers']}"] = (
                f"{low}{r['speedup']:.1f} ({high}{1 / r['epoch_ratio']:.1f}x the epochs)"
            )
        if cells:
            table.append({"bench": bench, **cells})
    ks = sorted({r["workers"] for r in rows})
    ratios = [r["epoch_ratio"] for r in rows if not r["beyond"]]
    return [
        README_WORKERS[0],
        markdown_table(table, {"bench": "benchmark", **{f"k{k}": f"k={k}" for k in ks}}),
        "",
        f"Seeds {seed_ranges(sorted({r['seed'] for r in runs if r['method'] == DEFAULT}))}; "
        "epochs one at a time over k at a time, median over every benchmark and k: "
        f"{statistics.median(ratios):.2f}.",
        README_WORKERS[1],
    ]


def readme_speedups(tables: Sequence[dict[str, Any]]) -> list[str]:
    """The default's speed-up targets on each table's seeds (the main table, then those
    kept beside it), one row per (seeds, k), for the README: its figures then follow the
    tables and go stale with them, not by hand."""
    table = []
    benches = [b for b in BENCHMARKS if any(_has_bench(data, b) for data in tables)]
    for data in tables:
        rows = {(r["bench"], r["workers"]): r for r in speedups(data["reach"], data["runs"])}
        for k, need in SPEEDUP_TARGETS.items():
            mine = [rows[b, k] for b in benches if (b, k) in rows]
            table.append(
                {
                    "seeds": seed_ranges(data["meta"]["seeds"]),
                    "k": k,
                    **{r["bench"]: _speedup(r) + _share(r) for r in mine},
                    "met": f"{sum(map(_met, mine))} of {len(mine)} (>= {need:g}x)",
                }
            )
    return [
        README_SPEEDUPS[0],
        markdown_table(
            table, {"seeds": "seeds", "k": "k", **{b: b for b in benches}, "met": "met"}
        ),
        README_SPEEDUPS[1],
    ]


def write_readme_blocks(readme: Path, *blocks: list[str]) -> None:
    """Put each of ``blocks`` between its markers in the README (its first and last
    lines, ``README_SPEEDUPS`` or ``README_WORKERS``), atomically."""
    text = readme.read_text()
    for block in blocks:
        first, last = block[0], block[-1]
        start, end = text.find(first), text.find(last)
        if start < 0 or end < start:
            raise ValueError(f"{readme}: no '{first}' ... '{last}' block")
        text = text[:start] + "\n".join(block) + text[end + len(last) :]
    new = text
    tmp = readme.with_name(f".{readme.name}.tmp")
    tmp.write_text(new)
    os.replace(tmp, readme)


def render(
    data: dict[str, Any], beside: Sequence[tuple[dict[str, Any], str]] = ()
) -> tuple[str, list[dict[str, Any]], list[tuple[str, Any]]]:
    """(markdown, targets as JSON, [(png stem, figure)]); ``beside``: other tables (their
    scaling.json, and their directory beside this one: a run on fresh seeds, a pool),
    whose targets follow ours."""
    with records_unchanged():  # it reads the records, changing none
        return _render(data, beside)


def _render(
    data: dict[str, Any], beside: Sequence[tuple[dict[str, Any], str]]
) -> tuple[str, list[dict[str, Any]], list[tuple[str, Any]]]:
    from bench.scaling.plots import SEARCHERS, plot, plot_draws, plot_worth

    runs, reach = data["runs"], data["reach"]
    rows = quality(runs)
    # each method's speed-up rows, with its baseline's k=1 target and time
    by_method = {m: speedups(reach, runs, m) for m in sorted({r["method"] for r in reach})}
    speed = by_method.get(DEFAULT, [])
    comparisons = [
        c
        for bench in BENCHMARKS
        for k in sorted({r["workers"] for r in runs})
        for other in (
            "random_asha",
            "tpe_fifo",
            "optuna_hyperband",
            "wandb",
            "before_fix",
            "tpe_asha",
        )
        if (c := equal_epochs(runs, bench, DEFAULT, other, k)) is not None
    ]
    budgets = [
        c
        for bench in BENCHMARKS
        for k in sorted({r["workers"] for r in runs})
        for other in ("random_asha", "optuna_hyperband")
        if (c := at_budget(runs, data.get("budget") or [], bench, other, k)) is not None
    ]
    rivals = [  # the two equal-epoch rivals against each other, both ways
        c
        for bench in BENCHMARKS
        for k in sorted({r["workers"] for r in runs})
        for a, b in (("tpe_fifo", "random_asha"), ("random_asha", "tpe_fifo"))
        if (c := equal_epochs(runs, bench, a, b, k)) is not None
    ]
    decisions, reality = data.get("decisions") or [], data.get("reality")
    benches = sorted({r["bench"] for r in runs if r["method"] == DEFAULT and r["workers"] == 1})
    targets = [
        t.to_json() for t in _targets(speed, comparisons, budgets, decisions, reality, benches)
    ]
    later = []
    for run in data.get("later", []):  # what --merge added, and from which commit
        git = run["git"]
        code = f"git {git['sha'][:10]}" + (" with uncommitted changes" if git["dirty"] else "")
        later += [f"- `{run['invocation']}` ({code})"]
    met = {
        method: (sum(map(_met, mine)), len(mine))
        for method, rows_of in by_method.items()
        if (mine := [r for r in rows_of if r["workers"] in SPEEDUP_TARGETS])
    }
    searchers = [r for r in rows if r["method"] in SEARCHERS]
    show_searchers = {r["method"] for r in searchers} > {DEFAULT}  # and one to compare
    history = why_lines(rows, data.get("rungs") or [])  # empty without the history's runs
    story = history + liar_lines(rows, runs)
    story += candidate_lines(rows, runs, met)
    if show_searchers:
        story += [
            "The default's joint TPE beside the searchers that draw more widely, and "
            "random + ASHA:",
            "",
            "![regret against k: searchers](scaling_searchers.png)",
            "",
        ]
    story += gate_lines(runs)
    lines = header("Search quality against trials at once (simulated)", data["meta"])
    if pooled := data["meta"].get("pooled"):  # --pool: the tables it joins
        lines += [
            "Pooled from "
            + " and ".join(source["table"] for source in pooled)
            + " (their own tables give the commands and commits that ran them): their runs "
            "as they were recorded, and the default's reach runs run again against the "
            "median of all their k=1 runs.",
            "",
        ]
    lines += [
        "The answers first: the targets and the plot of regret against k, then the tables "
        "they come from (quality against k, the default's speed-up, equal epochs), why the "
        "missed targets are missed, the simulator against real Ray runs and the decision "
        "time."
        + (
            " After them, how the default came to be: why quality dropped as k grew, and "
            "every candidate measured on the way, kept or not."
            if history
            else ""
        )
        + (" Last, every command that added to this file." if later else ""),
    ]
    if stale := stale_lines(data):  # figures measured on an earlier recording of a table
        lines += ["", *stale[:-1]]
    lines += targets_section(targets, "regret against k", "scaling.png")
    fresh = 0
    for other, where in beside:
        lines += beside_lines(
            other, where, data["meta"]["seeds"], again=fresh > 0, mine={r["bench"] for r in runs}
        )
        fresh += not set(other["meta"]["seeds"]) & set(data["meta"]["seeds"])
    lines += ["", *setup_lines({r["method"] for r in runs}, data["meta"]["seeds"])]
    lines += [
        "## Quality against k",
        "",
        "Regret after 200 trials: median [25th, 75th percentile] over seeds; epochs: all "
        "trials' epochs (median).",
        "",
    ]
    lines += _quality_tables(rows)
    lines += [
        "## Speed-up of the default",
        "",
        "A search at k trials at once goes on until it reaches the target, the default's "
        "median regret after 200 trials at k=1, or until 2 T1 / s: T1 the median time one "
        "trial at a time takes to it, s the speed-up the target asks for at k "
        f"({', '.join(f'{v:g} at k={k}' for k, v in SPEEDUP_TARGETS.items())}; k itself "
        "elsewhere). That is long enough for the median over seeds to decide the target. "
        "Where the median is not reached, the speed-up reads '< x': T1 over the least the "
        "median can be, with every seed not reached counted at the limit. Beside it, the "
        "seeds' spread: the k=1 median time over the time by which three quarters of the "
        "seeds reached the target (the slow quarter), and over the time by which a quarter "
        "had ('<' where that seed had not reached it by the limit). In brackets after a "
        f"speed-up with a target: the share of {RESAMPLES:,} bootstrap resamples of the "
        "seeds (the k=1 times and the times at k, each drawn with replacement) whose "
        "medians meet the target. Near 100% or 0% the seeds settle the verdict; near 50% "
        "they do not, and other seeds may well read it the other way.",
        "",
    ]
    lines += _speedup_lines(speed)
    candidates = [row for m, rows_of in by_method.items() if m != DEFAULT for row in rows_of]
    if candidates:
        lines += [
            "Other searches' reach runs, each with its baseline's target, k=1 time and time "
            "limits (the candidates measured on TPE + ASHA, the default before the gate: its "
            "own; k = 16 and 64; `--methods NAME --parts reach --merge`):",
            "",
        ]
        lines += _speedup_lines(candidates)
        lines += _candidate_speedup_verdicts(candidates, by_method, reach)
    owned = sorted({r["method"] for r in reach if reach_against(r) == r["method"]} - {DEFAULT})
    own = [row for m in owned for row in speedups(reach, runs, m, own=True)]
    own = [row for row in own if row["method"] != METHODS[row["method"]].baseline]
    if own:
        lines += [
            "Candidates' reach runs against their own k=1 median and time, as the default's "
            "are measured (what the targets would read if the candidate were the default; "
            "`--methods NAME --parts reach --own-reach --merge`):",
            "",
        ]
        lines += _speedup_lines(own)
        for method in sorted({r["method"] for r in own}):
            mine = [r for r in own if r["method"] == method and r["workers"] in SPEEDUP_TARGETS]
            lines.append(
                f"- {METHODS[method].label}, against its own k=1: speed-up target met in "
                f"{sum(map(_met, mine))} of {len(mine)} (benchmark, k) cells."
            )
        lines.append("")
    worth_rows = [row for method in WORTH for row in worth(runs, method)]
    lines += _worth_lines(worth_rows)
    lines += ["## At equal epochs", ""]
    lines += [_comparison_table(comparisons), ""]
    lines += _budget_lines(budgets)
    lines += _rung_lines(data.get("rungs") or [])
    mine = [r for r in worth_rows if r["method"] == DEFAULT]
    to_default = [r for r in candidates if METHODS[r["method"]].baseline == DEFAULT]
    lines += bound_lines(
        speed,
        comparisons,
        data.get("rungs") or [],
        budgets,
        mine,
        to_default,
        drawn=bool(data.get("draws")),
        rivals=rivals,
    )
    lines += draws_lines(data.get("draws") or [], runs, beside)
    lines += _start_lines(runs, data.get("start") or [], beside)
    lines += _reality_lines(data.get("reality"))
    lines += _replay_lines(data.get("replay") or [], bool(data.get("reality")))
    lines += timed_lines(data.get("timed") or [], bool(data.get("reality") or data.get("replay")))
    lines += _decision_lines(data.get("decisions") or [])
    lines += story
    if later:
        lines += ["## How this file was made", "", "The command above, then:", "", *later]
    figures = [("scaling", plot(rows))]
    if show_searchers:
        figures.append(("scaling_searchers", plot(searchers, SEARCHERS)))
    if worth_rows:
        figures.append(("scaling_speedup", plot_worth(worth_rows)))
    if data.get("draws"):
        figures.append(("scaling_draws", plot_draws(draws_rows(data["draws"]))))
    return "\n".join(lines) + "\n", targets, figures
