"""What the searches draw, apart from what their stops keep (``--parts draws``).

A search's regret mixes two things: where it draws configurations (its model) and which of
them its scheduler runs far enough to show what they are worth (its stops). A draws run is
a search run as ``runs`` makes it that also records, for every trial in the order they
started, the best value its configuration's whole curve reaches (as if it had run to its
last epoch) and how many epochs all trials had reported before its first, and for each new
best the run found, the epoch of its own trial it was reported at. From these, the regret
of the best configuration drawn: after the search's trials, and at random + ASHA's epochs
(seed by seed, the fewer of the two runs'), beside the regret the search reached and how
far along its trial's curve that was found.
"""

from __future__ import annotations

import itertools
import math
import statistics
from collections.abc import Sequence
from typing import Any

from bench.common import markdown_table, seed_ranges
from bench.scaling.analyse import Record, best_at, quartiles, regret, spread
from bench.scaling.benchmarks import BENCHMARKS
from bench.scaling.grid import Job
from bench.scaling.methods import DEFAULT, METHODS
from raysearch.search.simulation.runs import whole_curve_bests

__all__ = [
    "DRAWS_METHODS",
    "depth_at",
    "drawn",
    "drawn_best",
    "draws_jobs",
    "draws_lines",
    "draws_rows",
]

# the default; random search, whose draws ignore every result; TPE that runs every trial to
# its end, whose stops keep everything it draws
DRAWS_METHODS = (DEFAULT, "random_asha", "tpe_fifo")
AGAINST = "random_asha"  # the search whose epochs the draws are also compared at


def draws_jobs(benches: list[str], seeds: list[int], workers: tuple[int, ...]) -> list[Job]:
    return [
        Job(bench, method, k, seed, kind="draws")
        for bench in benches
        for method in DRAWS_METHODS
        for k in workers
        for seed in seeds
    ]


def drawn(result: Any, source: Any) -> list[list[float]]:
    """Per trial of a simulated run (``result``, on ``source``), in trial order: [the epochs
    all trials had reported before its first, the best value of its whole curve]. A trial
    cut off before its first epoch counts from the run's last."""
    order = result.epochs.reset_index(drop=True)
    first = order.reset_index().groupby("trial")["index"].min().to_dict()
    # unrounded: a regret of 0 stays 0 where the best draw is the optimum
    return [
        [int(first.get(number, len(order))), float(best)]
        for number, best in enumerate(whole_curve_bests(result, source))
    ]


def drawn_best(record: Record, epochs: float = math.inf) -> float:
    """The best whole-curve value of the configurations the run had drawn before
    ``epochs`` epochs were reported (inf if none)."""
    return min((best for before, best in record["drawn"] if before < epochs), default=math.inf)


def depth_at(record: Record, epochs: float) -> float:
    """The epoch of its own trial at which the run's best value after ``epochs`` epochs
    was reported (NaN before its first result, or for a record without ``depths``: runs
    recorded before they were kept)."""
    depths = record.get("depths")
    if depths is None:
        return math.nan
    found = math.nan
    for point, depth in zip(record["improvements"], depths, strict=True):
        if point[0] > epochs:
            break
        found = float(depth)
    return found


def _started(record: Record, epochs: float) -> int:
    return sum(before < epochs for before, _ in record["drawn"])


def draws_rows(draws: list[Record]) -> list[dict[str, Any]]:
    """Per (benchmark, k, method): the regret reached after the search's trials and the
    regret of the best configuration it drew; at ``AGAINST``'s epochs (seed by seed, the
    fewer of the two runs'), the same and the trials it had drawn."""
    cells: dict[tuple[str, int, str], dict[int, Record]] = {}
    for r in draws:
        cells.setdefault((r["bench"], r["workers"], r["method"]), {})[r["seed"]] = r
    rows = []
    for (bench, k, method), mine in sorted(cells.items()):
        theirs = cells.get((bench, k, AGAINST), {})
        seeds = sorted(mine)
        budgets = {s: min(mine[s]["epochs"], theirs[s]["epochs"]) for s in seeds if s in theirs}
        rows.append(
            {
                "bench": bench,
                "workers": k,
                "method": method,
                "reached": spread([mine[s]["best"] - mine[s]["optimum"] for s in seeds]),
                "drawn": spread([drawn_best(mine[s]) - mine[s]["optimum"] for s in seeds]),
                "at": {
                    "epochs": spread(list(budgets.values())),
                    "trials": spread([_started(mine[s], e) for s, e in budgets.items()]),
                    "reached": spread(
                        [regret(mine[s], best_at(mine[s], epochs=e)) for s, e in budgets.items()]
                    ),
                    "drawn": spread(
                        [regret(mine[s], drawn_best(mine[s], e)) for s, e in budgets.items()]
                    ),
                    "depth": spread([depth_at(mine[s], e) for s, e in budgets.items()]),
                },
            }
        )
    return rows


def _best_draw(row: dict[str, Any], at: bool) -> float:
    """The row's median regret of its best draw: after its trials, or (``at``) at
    ``AGAINST``'s epochs."""
    return float((row["at"] if at else row)["drawn"]["median"])


def _cell_sentences(rows: list[dict[str, Any]]) -> list[str]:
    """How often the default's best draw is no worse than random search's, after 200 trials
    and at random + ASHA's epochs, and where not."""
    by = {(r["bench"], r["workers"], r["method"]): r for r in rows}
    pairs = [
        (by[b, k, DEFAULT], by[b, k, AGAINST])
        for b, k, m in sorted(by)
        if m == DEFAULT and (b, k, AGAINST) in by
    ]
    if not pairs:
        return []
    out = []
    for when, at in (("after their 200 trials", False), ("at random + ASHA's epochs", True)):
        worse = [
            f"{a['bench']} k={a['workers']}: {_best_draw(a, at):.3g} vs {_best_draw(b, at):.3g}"
            for a, b in pairs
            if _best_draw(a, at) > _best_draw(b, at)
        ]
        out.append(
            f"- The default's best draw {when} (median regret, were it run to its end) is no "
            f"worse than random search's in {len(pairs) - len(worse)} of {len(pairs)} cells"
            + (f"; worse: {'; '.join(worse)}." if worse else ".")
        )
    trailing = {
        k: statistics.median(
            a["at"]["reached"]["median"] - a["at"]["drawn"]["median"]
            for a, _ in pairs
            if a["workers"] == k
        )
        for k in sorted({a["workers"] for a, _ in pairs})
    }
    out.append(
        "- At random + ASHA's epochs, what the default has reached trails its best draw (by "
        "then, were it run to its end) by a median over the benchmarks of "
        + ", ".join(f"{gap:.3g} at k={k}" for k, gap in trailing.items())
        + (
            ": the more trials at once, the further it trails, its best draws not yet run "
            "far enough to show what they are worth."
            if all(a <= b for a, b in itertools.pairwise(trailing.values()))
            else "."
        )
    )
    out += _depth_sentence(pairs)
    lost = [
        (a["reached"]["median"] - a["drawn"]["median"], a["bench"], a["workers"]) for a, _ in pairs
    ]
    gap, bench, k = max(lost)
    out.append(
        "- What the default's stops lose after its 200 trials (median regret reached minus "
        f"that of its best draw) is largest on {bench} at k={k}: {gap:.3g}; the median over "
        f"every cell is {statistics.median(g for g, _, _ in lost):.3g}."
    )
    return out


def _depth_sentence(pairs: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[str]:
    """At random + ASHA's epochs, how deep in its trial each search's best by then was found,
    per k (none when a run has no depths recorded)."""
    if any(math.isnan(r["at"]["depth"]["median"]) for pair in pairs for r in pair):
        return []
    ks = sorted({a["workers"] for a, _ in pairs})
    depth = {
        (side, k): statistics.median(
            p[side]["at"]["depth"]["median"] for p in pairs if p[0]["workers"] == k
        )
        for side in (0, 1)
        for k in ks
    }
    deeper = [k for k in ks if depth[1, k] > depth[0, k]]
    level = [k for k in ks if depth[1, k] == depth[0, k]]
    out = (
        "- At random + ASHA's epochs, how far along its trial each search's best by then was "
        "reported (its trial's epoch; median over seeds, then over the benchmarks), at k = "
        + _ks(ks)
        + ": the default's "
        + ", ".join(f"{depth[0, k]:.0f}" for k in ks)
        + "; random + ASHA's "
        + ", ".join(f"{depth[1, k]:.0f}" for k in ks)
        + "."
    )
    if deeper:
        out += (
            f" Where random + ASHA's is the deeper (k = {_ks(deeper)}), in as few epochs its "
            "stops had run a few trials far, while the default's epochs were spread over trials "
            "not as far along their curves."
        )
    if level:
        out += (
            f" Where the two are as deep (k = {_ks(level)}), what parts them is which "
            "configurations each had run that far."
        )
    return [out]


def _ks(ks: list[int]) -> str:
    return ", ".join(str(k) for k in ks)


def same_runs(draws: list[Record], runs: list[Record]) -> tuple[int, int]:
    """How many draws runs ended as the run of the same benchmark, method, k and seed among
    ``runs`` did (the same best value after as many epochs), of those that have one."""
    ended = {(r["bench"], r["method"], r["workers"], r["seed"]): r for r in runs}
    twins = [
        (d, ended[key])
        for d in draws
        if (key := (d["bench"], d["method"], d["workers"], d["seed"])) in ended
    ]
    same = sum(d["best"] == r["best"] and d["epochs"] == r["epochs"] for d, r in twins)
    return same, len(twins)


def draws_lines(
    draws: list[Record], runs: list[Record], beside: Sequence[tuple[dict[str, Any], str]] = ()
) -> list[str]:
    """The section of scaling.md on draws and stops (empty without draws runs); ``runs``:
    the table's runs, which the draws runs repeat; ``beside``: the tables kept beside this
    one, as (scaling.json, directory), whose draws runs on other seeds are summed up too."""
    if not draws:
        return []
    rows = draws_rows(draws)
    same, twins = same_runs(draws, runs)
    table = [
        {
            "bench": r["bench"],
            "k": r["workers"],
            "search": METHODS[r["method"]].label,
            "reached": quartiles(r["reached"]),
            "drawn": quartiles(r["drawn"]),
            "epochs": f"{r['at']['epochs']['median']:,.0f}",
            "at_trials": f"{r['at']['trials']['median']:,.0f}",
            "at_reached": quartiles(r["at"]["reached"]),
            "at_drawn": quartiles(r["at"]["drawn"]),
            "at_depth": _depth_cell(r["at"]["depth"]),
        }
        for bench in BENCHMARKS
        for r in rows
        if r["bench"] == bench
    ]
    seeds = sorted({r["seed"] for r in draws})
    return [
        "## What the searches draw, and what their stops keep",
        "",
        "A search's regret mixes where it draws configurations (its model) with which of them "
        "its scheduler runs far enough to show what they are worth (its stops). Here the "
        "searches were run again as above, recording for every trial the best value its "
        "configuration's whole curve reaches, as if it had run to its last epoch "
        "(`--parts draws`, `bench.scaling.draws`; seeds "
        f"{seed_ranges(seeds)}; {same} of the {twins} that repeat a run above ended as it "
        "did). 'Best drawn': the regret of the best configuration the "
        "search drew; 'reached': the regret it found. At random + ASHA's epochs: seed by seed "
        "at the fewer of the two runs' epochs, as the equal-epochs tables compare, with the "
        "trials each had started by then, and the epoch of its own trial at which the best "
        "it had reached by then was reported ('its trial's epoch', median; '-' for runs "
        "recorded before it was kept). Median [25th, 75th percentile] over seeds.",
        "",
        markdown_table(
            table,
            {
                "bench": "benchmark",
                "k": "k",
                "search": "search",
                "reached": "after 200 trials: reached",
                "drawn": "best drawn",
                "epochs": "random + ASHA's epochs",
                "at_trials": "trials by then",
                "at_reached": "reached by then",
                "at_drawn": "best drawn by then",
                "at_depth": "its trial's epoch",
            },
        ),
        "",
        *_cell_sentences(rows),
        *_beside_sentences(beside, seeds),
        "",
        "![best drawn and reached against k](scaling_draws.png)",
        "",
    ]


def _depth_cell(depth: dict[str, float]) -> str:
    return "-" if math.isnan(depth["median"]) else f"{depth['median']:.0f}"


def _beside_sentences(beside: Sequence[tuple[dict[str, Any], str]], seeds: list[int]) -> list[str]:
    """The same sentences on each table beside this one with draws runs on seeds of its own
    (fresh seeds, which chose nothing), or on this table's seeds and more (a pool)."""
    out = []
    for other, where in beside:
        theirs = sorted({r["seed"] for r in other.get("draws") or []})
        link = f"{where}/scaling.md#what-the-searches-draw-and-what-their-stops-keep"
        if theirs and not set(theirs) & set(seeds):
            intro = f"On fresh seeds {seed_ranges(theirs)}, which chose nothing"
        elif set(seeds) < set(theirs):
            intro = f"On seeds {seed_ranges(theirs)} pooled ({len(theirs)} seeds)"
        else:
            continue
        out += [
            "",
            f"{intro} ([{where}]({link})):",
            "",
            *_cell_sentences(draws_rows(other["draws"])),
        ]
    return out
