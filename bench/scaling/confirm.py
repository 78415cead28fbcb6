"""python -m bench.scaling.confirm --method NAME [--claim wall|reach] [--first-seed N]
[--seeds N] [--out DIR] [--processes N] [--render] [--again BENCH]

A candidate that looked better than its baseline (the default, or the search it was
measured on) in scaling.md was picked from several candidates, all measured on seeds 0-9:
the best of many comparisons looks better than it is. This runs the baseline and the
candidate again on fresh seeds, on every benchmark and k,
and judges the claim stated before those runs: at equal simulated wall time (seed by seed,
the shorter run's end) the candidate is better in more runs than it is worse, with a
two-sided sign test p < ``ALPHA``. With ``--claim reach`` the claim is about the speed-up
targets instead: at k = 16 and 64, with the baseline's k=1 target and time as recorded in
scaling.json (seeds 0-9; its reach runs), the candidate reaches the target sooner than
the baseline (seed by seed; a run that does not reach it within ``reach_limit``, 2 T1 / s
with s the speed-up the target asks for at k, counts as never) in more runs than later,
sign test p < ``ALPHA``. Confirmations recorded before that rule stopped runs at 2 T1 / k,
and render as they ran.

scaling_confirm.{md,json} is a ledger: each confirmation is added to the ones before, and
gets seeds no earlier confirmation used (by default the next block of ``--seeds`` after
them, from 10 up), so no candidate is judged on seeds that judged another. ``--render``
re-renders the ledger from the JSON. ``--again han``, after the HAN table is recorded
again, measures every confirmation's HAN runs again on its own seeds, as its claim ran
them (a reach claim with its baseline's k=1 target and time on the new table, from
scaling.json, whose reach runs go first); each confirmation names the command.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    OUT,
    Target,
    base_meta,
    header,
    markdown_table,
    merge_lock,
    recorded_meta,
    refuse,
    write_outputs,
)
from bench.scaling.analyse import quality, reach_against, reach_limit
from bench.scaling.benchmarks import BENCHMARKS, TABLES
from bench.scaling.grid import Job, pool_map
from bench.scaling.methods import ADOPTED, DEFAULT, METHODS
from bench.scaling.notes import (
    ALPHA,
    against_baseline,
    bench_counts,
    paired_cells,
    paired_table,
    sign_p,
)
from bench.scaling.stale import stale_lines

WORKERS = (1, 4, 16, 64)
REACH_WORKERS = (16, 64)  # the speed-up targets' k
LEGACY_REACH_FLOOR = 2  # confirmations without recorded limits stopped at 2 T1 / k
FIRST_SEED = 10  # scaling.md's runs use seeds 0-9


def verdict(cells: list[dict[str, Any]]) -> dict[str, Any]:
    """The stated claim over every (benchmark, k) cell: runs better and worse at equal wall
    time, the sign test's p, and whether the claim holds."""
    better = sum(c["time_better"] for c in cells)
    worse = sum(c["time_worse"] for c in cells)
    p = sign_p(better, worse)
    return {"better": better, "worse": worse, "p": p, "met": better > worse and p < ALPHA}


def reach_references(scaling: dict[str, Any], baseline: str) -> dict[str, dict[str, float]]:
    """Per benchmark, the baseline's k=1 target and median time to reach it (T1), from its
    reach runs against its own k=1 in scaling.json; benchmarks where T1 is not finite are
    left out (no speed-up can be measured)."""
    import statistics

    found = {}
    for bench in BENCHMARKS:
        ones = [
            r
            for r in scaling.get("reach", [])
            if (r["bench"], r["method"], r["workers"]) == (bench, baseline, 1)
            and reach_against(r) == baseline
        ]
        if not ones:
            continue
        t1 = statistics.median(r["end"] if r["reached"] else float("inf") for r in ones)
        if t1 < float("inf"):
            found[bench] = {"target": float(ones[0]["target"]), "t1": float(t1)}
    return found


def reach_verdict(runs: list[dict[str, Any]], method: str) -> dict[str, Any]:
    """Seed by seed at each (benchmark, k): the candidate's time to reach against its
    baseline's (never reached: inf); runs sooner, later, the sign test's p, the claim."""
    base = METHODS[method].baseline
    time = {
        (r["bench"], r["method"], r["workers"], r["seed"]): r["end"] if r["reached"] else math.inf
        for r in runs
    }
    sooner = later = 0
    for (bench, m, k, seed), mine in time.items():
        if m != method:
            continue
        theirs = time[(bench, base, k, seed)]
        sooner += mine < theirs
        later += mine > theirs
    p = sign_p(sooner, later)
    return {"better": sooner, "worse": later, "p": p, "met": sooner > later and p < ALPHA}


def with_limits(references: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """``references`` with each benchmark's ``reach_limit`` per k, which the confirmation
    keeps, so it renders as it ran."""
    return {
        bench: {**ref, "limits": {str(k): reach_limit(ref["t1"], k) for k in REACH_WORKERS}}
        for bench, ref in references.items()
    }


def reach_jobs(
    references: dict[str, dict[str, Any]], methods: tuple[str, ...], seeds: list[int]
) -> list[Job]:
    """The reach runs of a confirmation, each at k going on for the limit ``references``
    hold (``with_limits``)."""
    return [
        Job(
            bench,
            method,
            k,
            seed,
            kind="reach",
            target=ref["target"],
            time_limit=ref["limits"][str(k)],
        )
        for bench, ref in references.items()
        for method in methods
        for k in REACH_WORKERS
        for seed in seeds
    ]


def again_jobs(confirmation: dict[str, Any], bench: str, scaling: dict[str, Any]) -> list[Job]:
    """A confirmation's runs on ``bench`` again: its seeds, claim and methods, and for a
    reach claim its baseline's k=1 target and time on ``bench`` as scaling.json holds them
    now (which the confirmation's references take, with limits if it recorded limits).
    No runs where its baseline's k=1 never reached a target there (the benchmark drops out)."""
    method, seeds = confirmation["method"], confirmation["seeds"]
    pair = (METHODS[method].baseline, method)
    if confirmation.get("claim") != "reach":
        return [Job(bench, m, k, seed) for m in pair for k in WORKERS for seed in seeds]
    references = confirmation["references"]
    ref = reach_references(scaling, pair[0]).get(bench)
    references.pop(bench, None)
    if ref is None:
        return []
    if all("limits" in other for other in references.values()):
        ref = with_limits({bench: ref})[bench]
    references[bench] = ref
    return [
        Job(bench, m, k, seed, kind="reach", target=ref["target"], time_limit=run_limit(ref, k))
        for m in pair
        for k in REACH_WORKERS
        for seed in seeds
    ]


def _again(old: dict[str, Any], bench: str, out: Path, processes: int) -> dict[str, Any]:
    """The ledger with every confirmation's runs on ``bench`` measured again (``--again``):
    its other runs, seeds and claims as they were, each noting the command that did."""
    scaling = json.loads((out / "scaling.json").read_text())
    confirmations = ledger(old)
    runs = pool_map(
        [job for c in confirmations for job in again_jobs(c, bench, scaling)], processes
    )
    seeds = sorted({s for c in confirmations for s in c["seeds"]})
    meta = base_meta(False, seeds=seeds, again=bench, processes=processes)
    for c in confirmations:  # on seeds of their own: a run's seed names its confirmation
        c["runs"] = [r for r in c["runs"] if r["bench"] != bench] + [
            r for r in runs if r["bench"] == bench and r["seed"] in c["seeds"]
        ]
        c["again"] = [
            *c.get("again", []),
            {"bench": bench, "command": meta["command"], "git": meta["git"]},
        ]
    later = [*old.get("later", []), {k: meta[k] for k in ("command", "invocation", "git")}]
    return {"meta": old["meta"], "later": later, "confirmations": confirmations}


def ledger(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The confirmations in the order they ran (a table written before the ledger held one
    confirmation in ``meta`` and ``runs``)."""
    if "confirmations" in data:
        return list(data["confirmations"])
    meta = data["meta"]
    return [
        {
            "method": meta["method"],
            "seeds": meta["seeds"],
            "command": meta["command"],
            "git": meta["git"],
            "runs": data["runs"],
        }
    ]


def fresh_seeds(confirmations: list[dict[str, Any]], first: int | None, count: int) -> list[int]:
    """``count`` seeds from ``first`` (default: past every seed used so far, from
    FIRST_SEED); ValueError if an earlier confirmation used any of them."""
    used = {s for c in confirmations for s in c["seeds"]}
    start = first if first is not None else max(used | {FIRST_SEED - 1}) + 1
    seeds = list(range(start, start + count))
    if start < FIRST_SEED:
        raise ValueError(
            f"--first-seed {start}: seeds below {FIRST_SEED} chose the candidates (scaling.md)"
        )
    taken = sorted(used & set(seeds))
    if taken:
        by = sorted({c["method"] for c in confirmations if set(c["seeds"]) & set(taken)})
        raise ValueError(
            f"--first-seed {start}: seeds {taken} already judged {', '.join(by)}; a "
            "confirmation needs fresh seeds (leave --first-seed out for the next free ones)"
        )
    return seeds


def _claim_target(claim: str, found: dict[str, Any], more: str, less: str, method: str) -> Target:
    """The confirmation's target: ``claim``, with the runs it won (``more``) and lost; a
    miss by a candidate that became the default anyway says so."""
    if found["met"]:
        bound = ""
    elif method in ADOPTED:
        bound = "not confirmed: made the default on its other claim, which held"
    else:
        bound = "not confirmed: it stays a candidate"
    return Target(
        claim,
        f"{more} in {found['better']} runs, {less} in {found['worse']}, p = {found['p']:.2g}",
        found["met"],
        bound,
    )


def _code(confirmation: dict[str, Any]) -> str:
    git = confirmation["git"]
    return f"git {git['sha'][:10]}" + (" with uncommitted changes" if git["dirty"] else "")


def _again_lines(confirmation: dict[str, Any]) -> list[str]:
    """Which of the confirmation's benchmarks were measured again, and by which command."""
    return [
        f"Its {again['bench']} runs measured again (the benchmark's table was recorded again): "
        f"`{again['command']}` ({_code(again)})."
        for again in confirmation.get("again", [])
    ]


def run_limit(reference: dict[str, Any], k: int) -> float:
    """How long the confirmation's reach runs at k went on: the limit it recorded, or, for
    a confirmation recorded before limits were (``reach_limit`` since), 2 T1 / k."""
    limits = reference.get("limits")
    if limits is None:
        return LEGACY_REACH_FLOOR * reference["t1"] / k
    return float(limits[str(k)])


def _reach_section(confirmation: dict[str, Any]) -> tuple[list[str], Target]:
    method, runs, seeds = confirmation["method"], confirmation["runs"], confirmation["seeds"]
    references = confirmation["references"]
    recorded = all("limits" in ref for ref in references.values())
    rule = "2 T1 / s (s: the speed-up the target asks for)" if recorded else "2 T1 / k"
    base = METHODS[method].baseline
    target = _claim_target(
        f"{METHODS[method].label} reaches {METHODS[base].label}'s k=1 median sooner at k = "
        f"16 and 64 on fresh seeds ({seeds[0]}-{seeds[-1]}; sign test p < {ALPHA:g})",
        reach_verdict(runs, method),
        "sooner",
        "later",
        method,
    )
    table = []
    for bench, ref in references.items():
        for k in REACH_WORKERS:
            row: dict[str, Any] = {"bench": bench, "k": k}
            for who, m in (("base", base), ("mine", method)):
                cell = [r for r in runs if (r["bench"], r["method"], r["workers"]) == (bench, m, k)]
                times = [r["end"] if r["reached"] else math.inf for r in cell]
                tk = float(np.median(times)) if times else math.inf
                row[f"{who}_reached"] = f"{sum(math.isfinite(t) for t in times)}/{len(times)}"
                row[f"{who}_speedup"] = (
                    f"{ref['t1'] / tk:.1f}x"
                    if math.isfinite(tk)
                    else f"< {ref['t1'] / run_limit(ref, k):g}x"
                )
            table.append(row)
    lines = [
        f"## `{method}`, speed-ups: seeds {seeds[0]}-{seeds[-1]}",
        "",
        f"Candidate: `{method}` ({METHODS[method].label}). The claim, stated before these "
        f"runs: at k = 16 and 64, with {METHODS[base].label}'s k=1 target and time as "
        "scaling.md recorded them on seeds 0-9, it reaches the target sooner than "
        f"{METHODS[base].label} (seed by seed; not within {rule} counts as never) in more "
        f"runs than later, two-sided sign test p < {ALPHA:g}.",
        "",
        f"Ran: `{confirmation['command']}` ({_code(confirmation)}).",
        *_again_lines(confirmation),
        "",
        markdown_table(
            table,
            {
                "bench": "benchmark",
                "k": "k",
                "base_reached": "baseline: seeds reached",
                "base_speedup": "baseline: speed-up",
                "mine_reached": "candidate: seeds reached",
                "mine_speedup": "candidate: speed-up",
            },
        ),
        "",
        f"Verdict: {target.figure}: **{'confirmed' if target.met else 'not confirmed'}**.",
        "",
    ]
    return lines, target


def _section(confirmation: dict[str, Any]) -> tuple[list[str], Target]:
    if confirmation.get("claim") == "reach":
        return _reach_section(confirmation)
    method, runs, seeds = confirmation["method"], confirmation["runs"], confirmation["seeds"]
    base = METHODS[method].baseline
    cells = paired_cells(quality(runs), runs, method)
    target = _claim_target(
        f"{METHODS[method].label} is better than {METHODS[base].label} at equal simulated "
        f"wall time on fresh seeds ({seeds[0]}-{seeds[-1]}; sign test p < {ALPHA:g})",
        verdict(cells),
        "better",
        "worse",
        method,
    )
    lines = [
        f"## `{method}`: seeds {seeds[0]}-{seeds[-1]}",
        "",
        f"Candidate: `{method}` ({METHODS[method].label}), measured in scaling.md on seeds "
        "0-9 beside other candidates. The claim, stated before these runs: at equal "
        f"simulated wall time it is better than its baseline ({METHODS[base].label}) in "
        "more seeded runs than it is "
        f"worse, two-sided sign test p < {ALPHA:g}, over every benchmark and k = "
        f"{', '.join(map(str, WORKERS))} (200 trials each, as in scaling.md).",
        "",
        f"Ran: `{confirmation['command']}` ({_code(confirmation)}).",
        *_again_lines(confirmation),
        "",
        f"Against {METHODS[base].label}: {against_baseline(cells, least_k=1)}",
        "",
        f"At equal simulated wall time, by benchmark over every k: {bench_counts(cells)}; by "
        f"k over every benchmark: {bench_counts(cells, by='workers')}.",
        "",
        *paired_table(cells),
        "",
        f"Verdict: {target.figure}: **{'confirmed' if target.met else 'not confirmed'}**.",
        "",
    ]
    return lines, target


def render(data: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """(markdown, targets as JSON): one section and one target per confirmation."""
    lines = header("Candidates against their baseline on fresh seeds (simulated)", data["meta"])
    for later in data.get("later", []):
        lines += [f"Then: `{later['command']}` (git {later['git']['sha'][:10]}).", ""]
    lines += [
        "Each candidate here looked better than its baseline on seeds 0-9 in scaling.md, "
        "where it was measured beside other candidates. Each is judged on seeds no other "
        "confirmation used, by a claim stated before its runs.",
        "",
    ]
    lines += stale_lines(data)
    targets = []
    for confirmation in ledger(data):
        section, target = _section(confirmation)
        lines += section
        targets.append(target)
    lines += ["## Targets", ""]
    for t in targets:
        state = "met" if t.met else "missed"
        lines.append(f"- {t.name}: {t.figure}: **{state}**" + (f" ({t.bound})" if t.bound else ""))
    return "\n".join(lines) + "\n", [t.to_json() for t in targets]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.scaling.confirm", description=__doc__)
    p.add_argument("--method", choices=[m for m in METHODS if m != DEFAULT])
    p.add_argument(
        "--claim",
        choices=["wall", "reach"],
        default="wall",
        help="better at equal wall time (default), or sooner to the speed-up targets",
    )
    p.add_argument("--first-seed", type=int, default=None, help="default: the next fresh seed")
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--render", action="store_true", help="re-render from the JSON")
    p.add_argument(
        "--again",
        choices=list(TABLES),
        metavar="BENCH",
        help="measure every confirmation's runs on this benchmark again, on its seeds, "
        "after its recorded table was recorded again (a reach claim takes its baseline's "
        f"k=1 target and time from scaling.json as they are now); one of {', '.join(TABLES)}",
    )
    args = p.parse_args(argv)
    if args.again is not None:
        given = [
            flag
            for flag, used in (
                ("--method", args.method is not None),
                ("--render", args.render),
                ("--first-seed", args.first_seed is not None),
                ("--claim", args.claim != "wall"),
            )
            if used
        ]
        if given:
            p.error(
                f"--again measures the ledger's own confirmations again: drop {', '.join(given)}"
            )
    elif not args.render and args.method is None:
        p.error("--method is required (or --render, or --again)")
    return args


def main(argv: list[str] | None = None) -> None:
    args = _parse(argv)
    path = args.out / "scaling_confirm.json"
    # held from reading the ledger to writing it: a second confirmation waits, then takes
    # the seeds after this one's
    with merge_lock(path):
        _confirm(args, path)


def _confirm(args: argparse.Namespace, path: Path) -> None:
    old = json.loads(path.read_text()) if path.is_file() else {}
    if old:
        old["meta"] = recorded_meta(old["meta"], "scaling_confirm")
    if (args.render or args.again) and not old:
        flag, what = ("--render", "render") if args.render else ("--again", "measure again")
        refuse("python -m bench.scaling.confirm", f"{flag}: no {path} to {what}")
    if args.render:
        data = old
    elif args.again:
        data = _again(old, args.again, args.out, args.processes)
    else:
        confirmations = ledger(old) if old else []
        try:
            seeds = fresh_seeds(confirmations, args.first_seed, args.seeds)
        except ValueError as e:
            refuse("python -m bench.scaling.confirm", str(e))
        base = METHODS[args.method].baseline
        references: dict[str, dict[str, float]] = {}
        if args.claim == "reach":
            scaling = args.out / "scaling.json"
            if scaling.is_file():
                references = reach_references(json.loads(scaling.read_text()), base)
            if not references:
                refuse(
                    "python -m bench.scaling.confirm",
                    f"--claim reach: no reach runs of {base} at k=1 in {scaling}",
                )
            references = with_limits(references)
            jobs = reach_jobs(references, (base, args.method), seeds)
        else:
            jobs = [
                Job(bench, method, k, seed)
                for bench in BENCHMARKS
                for method in (base, args.method)
                for k in WORKERS
                for seed in seeds
            ]
        meta = base_meta(False, seeds=seeds, method=args.method, processes=args.processes)
        confirmation = {
            "method": args.method,
            "claim": args.claim,
            "seeds": seeds,
            "command": meta["command"],
            "git": meta["git"],
            "runs": pool_map(jobs, args.processes),
        }
        if references:
            confirmation["references"] = references
        confirmations.append(confirmation)
        later = old.get("later", [])
        if old:
            later = [*later, {k: meta[k] for k in ("command", "invocation", "git")}]
        first = old["meta"] if old else meta
        data = {"meta": first, "later": later, "confirmations": confirmations}
    text, targets = render(data)
    data["targets"] = targets
    print(text)
    write_outputs("scaling_confirm", text, data, args.out)


if __name__ == "__main__":
    main()
