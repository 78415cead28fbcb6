"""python -m bench.scaling [--quick] [--out DIR] [--render] [--processes N]
[--benchmarks NAME ...] [--methods NAME ...] [--parts PART ...] [--merge] [--first-seed N]
[--pool DIR DIR ...]

Runs every (benchmark, method, k, seed) on the simulator (``runs``), then the default's
reach runs (``reach``: trials keep coming until the default's k=1 median is reached), the
searches that spend fewer epochs than the default given the default's epochs (``budget``), the
default, random + ASHA and TPE without early stopping again, recording what every trial's
configuration would reach if run to its end (``draws``: bench/scaling/draws.py), the
decision-time runs (``decisions``), the decision cap's effect on quality (``cap``), the
rungs' reliability (``rungs``), the check against real Ray runs (``reality``: Hartmann
at k=4, starts a local Ray) and the same searches run by Ray Tune one trial at a time
(``replay``: every benchmark, trial for trial; starts a local Ray) and 4 at once, each
epoch taking its recorded time, scaled (``timed``: LCBench 189906 only; distributions;
30 min; starts a local Ray), and
the default and random + ASHA with a start cost per trial (``start``); writes scaling.md,
scaling.json and scaling.png. ``--merge`` keeps what scaling.json holds of the benchmarks,
methods and parts not re-measured (W&B's slow runs: ``--methods wandb --merge``).
``--render`` re-renders the table from scaling.json. Simulated searches run in
``--processes`` worker processes, niced. ``--first-seed N`` runs seeds N to N + 9 instead of
0-9, into a directory of their own (``--out``): the default was chosen on seeds 0-9, so its
figures there flatter it, and fresh seeds tell what it does on seeds nothing was picked on.
``--pool DIR DIR ...`` pools tables on disjoint seeds (the main table and fresh ones) into
one (``--out``): their runs and budget runs of the methods they share, and the default's
reach runs measured again against the median of all their k=1 runs (with ``--benchmarks``,
of those benchmarks only, the others' kept from --out's earlier pool of the same tables).
Ten seeds decide a target per (benchmark, k) only roughly, and the cells they miss move
from one set of seeds to the next; more decide it more steadily.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn, TypedDict

from bench.common import OUT, ROOT, base_meta, log, merge_lock, recorded_meta, refuse, write_outputs
from bench.scaling.analyse import reach_limit
from bench.scaling.benchmarks import BENCHMARKS, MAIN_BENCHMARKS
from bench.scaling.grid import Job, pool_map
from bench.scaling.methods import DEFAULT, MAIN, METHODS


class Scale(TypedDict):
    """A run's size: seeds, the k (trials at once) measured, the decision runs' trials."""

    seeds: int
    workers: tuple[int, ...]
    decision_trials: int


WORKERS = (1, 4, 16, 64)
FULL: Scale = {"seeds": 10, "workers": WORKERS, "decision_trials": 2000}
QUICK: Scale = {"seeds": 2, "workers": (1, 16), "decision_trials": 200}
SUBSETS = {  # method -> (benchmarks, k): the candidates and W&B run on part of the grid
    "liar_off": (("hartmann", "lcbench-189906"), (1, 16, 64)),
    "told_pruned": (("hartmann", "lcbench-189906"), (1, 16, 64)),
    "budget_view": (("hartmann", "lcbench-189906"), (1, 16, 64)),
    "wandb": (
        ("hartmann", "lcbench-167168", "lcbench-189873", "lcbench-189906", "han"),
        (1, 16, 64),
    ),
    "gated_asha_05": (("hartmann", "lcbench-167168", "lcbench-189906", "han"), (1, 16)),
    "gated_asha_lazy_07": (("lcbench-167168", "lcbench-189906", "han"), (1, 16, 64)),
    # a check of the syne-tune policy on two tasks
    "synetune_asha": (("lcbench-167168", "lcbench-189906"), (1, 16)),
}
# Where runs on fresh seeds (--first-seed) are kept beside the main table, whose targets
# section then shows theirs too: directories named FRESH, FRESH + "2", ...
FRESH = "scaling_fresh"
README = ROOT / "README.md"  # whose block of the default's speed-ups a render rewrites
# Where the pool of the main table and the fresh ones (--pool) is kept, beside the main table.
POOLED = "scaling_pooled"
# Where the HAN table's runs with fresh replicates (benchmark han-fresh, beside han on the
# same seeds) are kept, beside the main table: its targets section shows theirs too.
REPLICATES = "scaling_replicates"
PARTS = (
    "runs",
    "reach",
    "budget",
    "draws",
    "decisions",
    "cap",
    "rungs",
    "reality",
    "replay",
    "timed",
    "start",
)
# the benchmarks the timed check runs on (each takes reality.TIMED_TOTAL_S of real runs):
# LCBench 189906, the task of the tightest speed-up miss, with epoch times of its own
TIMED_BENCHES = ("lcbench-189906",)
# start runs: the default and random + ASHA again with each trial taking START_S simulated
# seconds before its first epoch (about what a two-worker trial's start costs here:
# results/benchmarks/overhead.md)
START_S = 20.0
START_METHODS = ("default", "random_asha")
# budget runs: the searches the targets compare at equal epochs that spend fewer epochs in
# 200 trials than the default, given the default's epochs seed by seed (at these k)
BUDGET_METHODS = {"random_asha": WORKERS, "optuna_hyperband": (1,)}
# The candidate fixes, the ASHA variants and W&B (about a second per suggestion) are run
# separately and merged: --methods liar_off told_pruned budget_view grace3 brackets3 --merge
DEFAULT_METHODS = list(MAIN)  # the searches a full run measures; the rest with --methods


def seeds_of(scale: dict[str, Any]) -> list[int]:
    """The seeds a run measures: ``scale["seed_list"]`` (a pool), or ``scale["seeds"]`` of
    them from ``scale["first_seed"]``."""
    if "seed_list" in scale:
        return list(scale["seed_list"])
    first = scale.get("first_seed", 0)
    return list(range(first, first + scale["seeds"]))


def _jobs(benches: list[str], methods: list[str], scale: dict[str, Any]) -> list[Job]:
    jobs = []
    for bench in benches:
        for method in methods:
            workers = scale["workers"]
            if method in SUBSETS:
                benches_of, workers_of = SUBSETS[method]
                if bench not in benches_of:
                    continue
                workers = tuple(k for k in workers if k in workers_of)
            for k in workers:
                jobs += [Job(bench, method, k, seed) for seed in seeds_of(scale)]
    return jobs


def _candidate_reach_jobs(
    reach: list[dict[str, Any]], methods: list[str], benches: list[str]
) -> list[Job]:
    """Reach runs of other methods at k = 16 and 64 (the targets' k), with their baseline's
    target, k=1 time and time limits, from the baseline's recorded k=1 reach runs."""
    jobs = []
    for bench in benches:
        for method in methods:
            base = (bench, METHODS[method].baseline, 1)
            ones = [r for r in reach if (r["bench"], r["method"], r["workers"]) == base]
            times = [r["end"] if r["reached"] else float("inf") for r in ones]
            if not ones or statistics.median(times) == float("inf"):
                continue
            t1 = statistics.median(times)
            jobs += [
                Job(
                    bench,
                    method,
                    k,
                    r["seed"],
                    kind="reach",
                    target=r["target"],
                    time_limit=reach_limit(t1, k),
                )
                for k in (16, 64)
                for r in ones
            ]
    return jobs


def budget_jobs(runs: list[dict[str, Any]], benches: list[str]) -> list[Job]:
    """Each of BUDGET_METHODS at the default's epochs: per benchmark, k and seed of the
    default's recorded runs, as many trials as it takes to spend as many epochs."""
    spent = {
        (r["bench"], r["workers"], r["seed"]): r["epochs"]
        for r in runs
        if r["method"] == DEFAULT and r.get("kind", "trials") == "trials"
    }
    return [
        Job(bench, method, k, seed, kind="budget", epoch_budget=epochs)
        for (bench, k, seed), epochs in sorted(spent.items())
        for method, workers in BUDGET_METHODS.items()
        if bench in benches and k in workers
    ]


def _reach_jobs(
    trials: list[dict[str, Any]],
    benches: list[str],
    scale: dict[str, Any],
    processes: int,
    method: str = DEFAULT,
) -> list[dict[str, Any]]:
    """A method's reach runs against its own k=1 median (the default's, unless another
    method is given): k=1 first (no time limit), then k > 1 up to ``reach_limit``."""
    found = []
    for bench in benches:
        firsts = [
            r["best"]
            for r in trials
            if r["bench"] == bench and r["method"] == method and r["workers"] == 1
        ]
        if not firsts:
            continue
        target = statistics.median(firsts)
        against = None if method == DEFAULT else method
        base = [
            Job(bench, method, 1, s, kind="reach", target=target, against=against)
            for s in seeds_of(scale)
        ]
        ones = pool_map(base, processes)
        found += ones
        t1 = statistics.median(r["end"] if r["reached"] else float("inf") for r in ones)
        if t1 == float("inf"):
            log(f"scaling: {bench}: k=1 does not reach its own median in most seeds")
            continue
        more = [
            replace(job, workers=k, time_limit=reach_limit(t1, k))
            for k in scale["workers"]
            if k > 1
            for job in base
        ]
        found += pool_map(more, processes)
    return found


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.scaling", description=__doc__.splitlines()[0])
    p.add_argument("--quick", action="store_true", help="2 seeds, k = 1 and 16")
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--render", action="store_true", help="re-render from scaling.json")
    p.add_argument("--processes", type=int, default=2)
    p.add_argument(
        "--benchmarks",
        nargs="+",
        choices=list(BENCHMARKS),
        default=MAIN_BENCHMARKS,
        help=f"default: {' '.join(MAIN_BENCHMARKS)} (the others only when named)",
    )
    p.add_argument("--methods", nargs="+", choices=list(METHODS), help="default: " + " ".join(MAIN))
    p.add_argument("--merge", action="store_true", help="keep scaling.json's other runs")
    p.add_argument(
        "--workers",
        nargs="+",
        type=int,
        choices=WORKERS,
        help="with --merge and --parts runs: measure the methods at these k only, keeping "
        "their runs at the others (default: every k the method runs at)",
    )
    p.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="the first of the seeds run (default 0: seeds 0-9); fresh seeds go to an --out "
        "of their own",
    )
    p.add_argument(
        "--own-reach",
        action="store_true",
        help="with --parts reach: the methods' reach runs against their own k=1 median, as "
        "the default's are, instead of their baseline's",
    )
    p.add_argument(
        "--parts",
        nargs="+",
        choices=PARTS,
        help="what to measure (default: all; with --merge, the rest is kept from "
        "scaling.json; with --pool, reach alone)",
    )
    p.add_argument(
        "--pool",
        nargs="+",
        type=Path,
        metavar="DIR",
        help="pool these tables (on disjoint seeds) into --out: their shared methods' runs, "
        "and the default's reach runs against the pooled k=1 median",
    )
    args = p.parse_args(argv)
    if args.pool is not None:
        given = [
            flag
            for flag, used in (
                ("--methods", args.methods is not None),
                ("--merge", args.merge),
                ("--render", args.render),
                ("--first-seed", args.first_seed != 0),
                ("--quick", args.quick),
                ("--own-reach", args.own_reach),
                ("--parts other than reach", args.parts not in (None, ["reach"])),
            )
            if used
        ]
        if given:
            p.error(
                f"--pool takes its methods and runs from the pooled tables and measures the "
                f"default's reach runs alone: drop {', '.join(given)}"
            )
        if len(args.pool) < 2:
            p.error(f"--pool needs two tables or more, got {len(args.pool)}")
        if args.out.resolve() in {OUT.resolve(), *(d.resolve() for d in args.pool)}:
            p.error(f"--pool: the pool goes to an --out of its own, not {args.out}")
        args.methods, args.parts = [DEFAULT], ["reach"]
    args.methods = args.methods or list(DEFAULT_METHODS)
    args.parts = args.parts or list(PARTS)
    if args.workers is not None and (not args.merge or args.parts != ["runs"]):
        p.error("--workers needs --merge and --parts runs: the other parts read every k")
    if args.own_reach and ("reach" not in args.parts or args.methods == [DEFAULT]):
        p.error("--own-reach needs --parts reach and a method other than the default")
    if args.first_seed < 0:
        p.error(f"--first-seed must be >= 0, got {args.first_seed}")
    if args.first_seed and args.out.resolve() == OUT.resolve():
        p.error(
            f"--first-seed {args.first_seed}: fresh seeds go to an --out of their own, not "
            f"{OUT} (whose tables every other search is compared on, seeds 0-9)"
        )
    return args


def _kept(
    old: list[dict[str, Any]],
    benches: list[str],
    methods: list[str] | None = None,
    workers: list[int] | None = None,
) -> list[dict[str, Any]]:
    """Old records outside what this run re-measures (by benchmark, and method and k if
    given)."""
    return [
        r
        for r in old
        if r["bench"] not in benches
        or (methods is not None and r["method"] not in methods)
        or (workers is not None and r["workers"] not in workers)
    ]


def redone(record: dict[str, Any], benches: list[str], methods: list[str], own: bool) -> bool:
    """The reach run is one that re-measuring ``methods``' reach runs (against their own
    k=1 with ``own``, or against their baseline's) replaces. A method that is its own
    baseline (``tpe_asha``) has one kind of reach run, recorded either way."""
    from bench.scaling.analyse import reach_against

    mine = reach_against(record) == record["method"]
    return record["bench"] in benches and record["method"] in methods and mine == own


def _refuse(message: str) -> NoReturn:
    refuse("python -m bench.scaling", message)


def pooled(dirs: list[Path]) -> dict[str, Any]:
    """The tables in ``dirs`` as one: their seeds (disjoint), and their runs, budget runs
    and draws runs of the methods every one of them ran (drew), and their start runs when
    every one has them. Refused (exit 2) when a table is missing, quick, at other k, or
    shares a seed with another."""
    tables = []
    for d in dirs:
        path = d / "scaling.json"
        if not path.is_file():
            _refuse(f"--pool: {path} does not exist (run the table first)")
        tables.append((path, json.loads(path.read_text())))
    seen: dict[int, Path] = {}
    for path, table in tables:
        meta = table["meta"]
        if meta["quick"] or meta["workers"] != list(FULL["workers"]):
            _refuse(
                f"--pool: {path} is a quick table or runs other k ({meta['workers']}); a "
                f"pool needs full tables (k = {list(FULL['workers'])})"
            )
        for seed in meta["seeds"]:
            if seed in seen:
                _refuse(f"--pool: seed {seed} is in both {seen[seed]} and {path}")
            seen[seed] = path
    shared = set.intersection(*({r["method"] for r in t["runs"]} for _, t in tables))
    if DEFAULT not in shared:
        _refuse(f"--pool: not every table ran the default ({DEFAULT})")
    # the draws runs of the methods every table drew (none if a table has none)
    drawn = set.intersection(*({r["method"] for r in t.get("draws", [])} for _, t in tables))
    # the start runs, where every table has them for the methods the start part runs
    started = all(
        set(START_METHODS) <= {r["method"] for r in t.get("start", [])} for _, t in tables
    )
    return {
        "seeds": sorted(seen),
        "runs": [r for _, t in tables for r in t["runs"] if r["method"] in shared],
        "budget": [r for _, t in tables for r in t.get("budget", []) if r["method"] in shared],
        "draws": [r for _, t in tables for r in t.get("draws", []) if r["method"] in drawn],
        "start": [r for _, t in tables for r in t.get("start", [])] if started else [],
        # a benchmark's rung reliability is measured on random configurations, not seeds
        "rungs": next((t["rungs"] for _, t in tables if t.get("rungs")), []),
        "from": [
            {
                "table": str(path),
                "command": t["meta"]["command"],
                # None: a table measured before benchmarks recorded their commit
                "git": t["meta"]["git"]["sha"] if t["meta"]["git"] else None,
            }
            for path, t in tables
        ],
    }


def _earlier_reach(out: Path, pool: dict[str, Any], benches: list[str]) -> list[dict[str, Any]]:
    """The reach runs of the other benchmarks than ``benches`` that --out's earlier pool of
    the same tables measured, which a pool of ``benches`` alone keeps. Refused (exit 2)
    unless --out pools the same tables and seeds, and each kept benchmark's reach runs
    were measured against the median of the k=1 runs the tables hold now (else they were
    measured on other runs, and the pool measures every benchmark again)."""
    path = out / "scaling.json"
    again = f"--pool --benchmarks {' '.join(benches)}"
    if not path.is_file():
        _refuse(
            f"{again}: {path} does not exist; a first pool measures every benchmark "
            "(leave out --benchmarks)"
        )
    earlier = json.loads(path.read_text())
    tables = [source["table"] for source in earlier["meta"].get("pooled", [])]
    if earlier["meta"]["seeds"] != pool["seeds"] or tables != [s["table"] for s in pool["from"]]:
        _refuse(
            f"{again}: {path} pools {', '.join(tables) or 'nothing'} (seeds "
            f"{earlier['meta']['seeds']}), not these tables; pool every benchmark (leave "
            "out --benchmarks)"
        )
    kept = [r for r in earlier["reach"] if r["bench"] not in benches]
    for bench in sorted({r["bench"] for r in kept}):
        median = statistics.median(
            r["best"]
            for r in pool["runs"]
            if r["bench"] == bench and r["method"] == DEFAULT and r["workers"] == 1
        )
        if {r["target"] for r in kept if r["bench"] == bench} != {median}:
            _refuse(
                f"{again}: {path}'s reach runs on {bench} were measured against another "
                f"median than the pooled tables' k=1 runs give now ({median:g}); pool "
                f"{bench} again too"
            )
    return kept


def _run(args: argparse.Namespace, old: dict[str, Any]) -> dict[str, Any]:
    scale = {**(QUICK if args.quick else FULL), "first_seed": args.first_seed}
    pool = pooled(args.pool) if args.pool else None
    if pool is not None:
        scale["seed_list"] = pool["seeds"]
        old = {k: pool[k] for k in ("runs", "budget", "rungs", "draws", "start")}
        held = {r["bench"] for r in pool["runs"]}
        if not held <= set(args.benchmarks):  # the others' reach runs: --out's
            old["reach"] = _earlier_reach(args.out, pool, args.benchmarks)
    if old and old.get("meta", {}).get("seeds") not in (None, seeds_of(scale)):
        _refuse(
            f"--merge: {args.out / 'scaling.json'} holds seeds {old['meta']['seeds']}, this "
            f"run {seeds_of(scale)}; a table holds one set of seeds (give another --out)"
        )
    started = time.perf_counter()
    benches = args.benchmarks
    runs = old.get("runs", [])
    if "runs" in args.parts:
        measured = {**scale, "workers": tuple(args.workers or scale["workers"])}
        new = pool_map(_jobs(benches, args.methods, measured), args.processes)
        runs = _kept(runs, benches, args.methods, args.workers) + new
    reach, decisions = old.get("reach", []), old.get("decisions", [])
    budget = old.get("budget", [])
    rungs, reality = old.get("rungs", []), old.get("reality")
    parts = set(args.parts) if DEFAULT in args.methods else set()  # the default's own figures
    if "reach" in parts:
        reach = _kept(reach, benches, [DEFAULT]) + _reach_jobs(runs, benches, scale, args.processes)
    others = [m for m in args.methods if m != DEFAULT]
    if "reach" in args.parts and others:
        kept = [r for r in reach if not redone(r, benches, others, args.own_reach)]
        if args.own_reach:
            for method in others:
                kept += _reach_jobs(runs, benches, scale, args.processes, method=method)
            reach = kept
        else:
            reach = kept + pool_map(_candidate_reach_jobs(reach, others, benches), args.processes)
    if "budget" in parts:
        budget = _kept(budget, benches) + pool_map(budget_jobs(runs, benches), args.processes)
    draws = old.get("draws", [])
    if "draws" in parts:
        from bench.scaling.draws import draws_jobs

        jobs = draws_jobs(benches, seeds_of(scale), tuple(scale["workers"]))
        draws = _kept(draws, benches) + pool_map(jobs, args.processes)
    for kind in ("decisions", "cap"):  # the records of both parts share one list, by kind
        if kind not in parts:
            continue
        from bench.scaling.decisions import cap_jobs, decision_jobs

        jobs = (
            decision_jobs(benches, scale["decision_trials"])
            if kind == "decisions"
            else cap_jobs(benches, scale["decision_trials"], args.quick)
        )
        kept = [r for r in decisions if r["kind"] != kind or r["bench"] not in benches]
        decisions = kept + pool_map(jobs, args.processes)
    if "rungs" in parts:
        from bench.scaling.rungs import rung_reliability

        rungs = _kept(rungs, benches) + [rung_reliability(bench) for bench in benches]
    if "reality" in parts and "hartmann" in benches:
        from bench.scaling.reality import compare_with_ray

        reality = compare_with_ray(seeds_of(scale))
    start = old.get("start", [])
    if "start" in parts:
        jobs = [
            Job(bench, method, k, seed, start_s=START_S)
            for bench in benches
            for method in START_METHODS
            for k in scale["workers"]
            for seed in seeds_of(scale)
        ]
        start = _kept(start, benches) + pool_map(jobs, args.processes)
    replay = old.get("replay", [])
    if "replay" in parts:
        from bench.scaling.reality import replay_with_ray

        replay = _kept(replay, benches) + replay_with_ray(benches, seeds_of(scale))
    timed = old.get("timed", [])
    if "timed" in parts and (timing := [b for b in benches if b in TIMED_BENCHES]):
        from bench.scaling.reality import timed_with_ray

        timed = _kept(timed, timing) + timed_with_ray(timing, seeds_of(scale))
    meta = base_meta(
        args.quick,
        seeds=seeds_of(scale),
        workers=list(scale["workers"]),
        processes=args.processes,
        **({"pooled": pool["from"]} if pool is not None else {}),
    )
    # a merged table: the first run's header, then each later run's command and commit
    later = old.get("later", [])
    if "meta" in old:
        later = [*later, {k: meta[k] for k in ("command", "invocation", "git")}]
    command = meta["command"]
    return {
        "meta": recorded_meta(old["meta"], "scaling") if "meta" in old else meta,
        "later": later,
        "runs": runs,
        "reach": reach,
        "budget": budget,
        "draws": draws,
        "decisions": decisions,
        "reality": reality,
        "replay": replay,
        "timed": timed,
        "start": start,
        "rungs": rungs,
        "benchmark_s": {
            **old.get("benchmark_s", {}),
            command: round(time.perf_counter() - started, 1),
        },
    }


def beside_tables(out: Path) -> list[tuple[dict[str, Any], str]]:
    """The tables kept beside the main table in ``out``, as (scaling.json, directory): each
    run on fresh seeds (``FRESH``, ``FRESH`` + "2", ... in the order of their first seed),
    then the pool of them all (``POOLED``), then the HAN table with fresh replicates
    (``REPLICATES``: the pool of its seeds, ``REPLICATES/POOLED``, where there is one)."""
    fresh = [
        (json.loads(path.read_text()), path.parent.name)
        for path in out.glob(f"{FRESH}*/scaling.json")
        if path.parent.name == FRESH or path.parent.name[len(FRESH) :].isdigit()
    ]
    fresh.sort(key=lambda table: min(table[0]["meta"]["seeds"]))
    # the replicates' table: the pool of its runs on every set of seeds, once there is one
    replicates = next(
        (
            where
            for where in (f"{REPLICATES}/{POOLED}", REPLICATES)
            if (out / where / "scaling.json").is_file()
        ),
        REPLICATES,
    )
    kept = [
        (json.loads(path.read_text()), name)
        for name in (POOLED, replicates)
        if (path := out / name / "scaling.json").is_file()
    ]
    return fresh + kept


def readme_tables(
    data: dict[str, Any], beside: list[tuple[dict[str, Any], str]]
) -> list[dict[str, Any]]:
    """The tables whose speed-ups the README shows: the main table and those beside it on
    its benchmarks and other seeds (not the replicates' table, on a variant of one)."""
    return [data, *(other for other, where in beside if not where.startswith(REPLICATES))]


def main(argv: list[str] | None = None) -> None:
    args = _parse(argv)
    from bench.scaling.report import readme_speedups, readme_workers, render, write_readme_blocks

    path = args.out / "scaling.json"
    with merge_lock(path):
        if args.render:
            data = json.loads(path.read_text())
            data["meta"] = recorded_meta(data["meta"], "scaling")
        else:
            old = json.loads(path.read_text()) if args.merge and path.is_file() else {}
            data = _run(args, old)
        # the main table: the same targets on each set of fresh seeds, and on all pooled
        beside = [] if args.first_seed or args.pool else beside_tables(args.out)
        text, targets, figures = render(data, beside)
        data["targets"] = targets
        print(text)
        write_outputs("scaling", text, data, args.out, figures)
        if args.out.resolve() == OUT.resolve():  # the README's speed-ups follow the tables
            tables = readme_tables(data, beside)
            write_readme_blocks(README, readme_speedups(tables), readme_workers(data["runs"]))


if __name__ == "__main__":
    main()
