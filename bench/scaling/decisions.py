"""The driver's decision time as a search grows to 2,000 trials (issue 14 item 5).

Per trial, the real seconds the driver spends deciding for it: the searcher's suggestion
and the handling of each of its results by the scheduler and the searcher (what Tune's
controller calls; the simulator times each call). The default caps the observations TPE
fits on (raysearch.search.live_tpe). Measured: the default (study in memory), the default
with its study in Optuna's journal file as ``raysearch run`` keeps it (and in SQLite, as
runs kept it before), the default before ``independent_when_running`` (joint TPE for every
draw), the default with independent TPE (``multivariate: false``: one TPE call per
parameter), the default without the cap and the search before the fix; and the cap's
effect on quality at 1,000 trials.
"""

from __future__ import annotations

from typing import Any, TypedDict

from bench.scaling.grid import Job

__all__ = ["binned", "cap_jobs", "decision_figures", "decision_jobs"]

COST_METHODS = ("default", "before_mix", "tpe_independent", "default_uncapped", "before_fix")
COST_BENCHMARKS = ("hartmann", "lcbench-189906", "han")
STORED = ("default_sqlite", "default_journal")  # the study in a file: on Hartmann only
COST_WORKERS = 16


class Quality(TypedDict):
    """The cap's quality runs: the benchmarks, trials per search and seeds."""

    benchmarks: tuple[str, ...]
    trials: int
    seeds: int


QUALITY: Quality = {"benchmarks": ("hartmann", "lcbench-189906"), "trials": 1000, "seeds": 10}


def decision_jobs(benches: list[str], trials: int) -> list[Job]:
    """The decision-time runs: one search of ``trials`` trials per benchmark and method."""
    return [
        Job(bench, method, COST_WORKERS, 0, kind="decisions", trials=trials)
        for bench in COST_BENCHMARKS
        if bench in benches
        for method in (*COST_METHODS, *(STORED if bench == "hartmann" else ()))
    ]


def cap_jobs(benches: list[str], trials: int, quick: bool) -> list[Job]:
    """The cap's effect on quality: capped and uncapped searches of half the decision
    runs' trials (1,000), 10 seeds (the uncapped ones cost minutes each: part ``cap``)."""
    seeds = 2 if quick else QUALITY["seeds"]
    size = trials // 2 if quick else QUALITY["trials"]
    return [
        Job(bench, method, COST_WORKERS, seed, kind="cap", trials=size)
        for bench in QUALITY["benchmarks"]
        if bench in benches
        for method in ("default", "default_uncapped")
        for seed in range(seeds)
    ]


def binned(decide_ms: list[float], width: int) -> list[dict[str, Any]]:
    """Mean decision time per trial over trials [i, i + width)."""
    import statistics

    return [
        {
            "from": i,
            "to": min(i + width, len(decide_ms)),
            "mean_ms": statistics.fmean(decide_ms[i : i + width]),
        }
        for i in range(0, len(decide_ms), width)
    ]


def decision_figures(records: list[dict[str, Any]], width: int = 250) -> dict[str, Any]:
    """Per (benchmark, method): mean decision ms per trial in bins of ``width`` trials;
    and the cap's effect: regret after the cap runs' trials, capped against uncapped."""
    from bench.scaling.analyse import spread

    cost = [
        {
            "bench": r["bench"],
            "method": r["method"],
            "bins": binned(r["decide_ms"], width),
            "cpu_bins": binned(r.get("decide_cpu_ms") or r["decide_ms"], width),
        }
        for r in records
        if r["kind"] == "decisions"
    ]
    effect = []
    for bench in sorted({r["bench"] for r in records if r["kind"] == "cap"}):
        row: dict[str, Any] = {"bench": bench}
        for method in ("default", "default_uncapped"):
            mine = [
                r
                for r in records
                if r["kind"] == "cap" and r["bench"] == bench and r["method"] == method
            ]
            row[method] = spread([r["best"] - r["optimum"] for r in mine])
            row[f"{method}_ms"] = spread([r["decide_ms_mean"] for r in mine])
            row["trials"] = mine[0]["trials"] if mine else 0
        regret = {
            (r["method"], r["seed"]): r["best"]
            for r in records
            if r["kind"] == "cap" and r["bench"] == bench
        }
        seeds = [s for m, s in regret if m == "default" and ("default_uncapped", s) in regret]
        row["seeds"] = len(seeds)
        row["capped_not_worse"] = sum(
            regret[("default", s)] <= regret[("default_uncapped", s)] for s in seeds
        )
        effect.append(row)
    return {"cost": cost, "effect": effect}
