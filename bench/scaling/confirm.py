"""python -m bench.scaling.confirm --method NAME [--first-seed N] [--seeds N] [--out DIR]
[--processes N] [--render]

A candidate that looked better than its baseline (the default, or the search it was
measured on) in scaling.md was picked from several candidates, all measured on seeds 0-9:
the best of many comparisons looks better than it is. This runs the baseline and the
candidate again on fresh seeds, on every benchmark and k,
and judges the claim stated before those runs: at equal simulated wall time (seed by seed,
the shorter run's end) the candidate is better in more runs than it is worse, with a
two-sided sign test p < ``ALPHA``.

scaling_confirm.{md,json} is a ledger: each confirmation is added to the ones before, and
gets seeds no earlier confirmation used (by default the next block of ``--seeds`` after
them, from 10 up), so no candidate is judged on seeds that judged another. ``--render``
re-renders the ledger from the JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from bench.common import OUT, Target, base_meta, header, recorded_meta, write_outputs
from bench.scaling.analyse import quality
from bench.scaling.benchmarks import BENCHMARKS
from bench.scaling.methods import DEFAULT, METHODS
from bench.scaling.notes import against_baseline, paired_cells, paired_table, sign_p

ALPHA = 0.05
WORKERS = (1, 4, 16, 64)
FIRST_SEED = 10  # scaling.md's runs use seeds 0-9


def verdict(cells: list[dict[str, Any]]) -> dict[str, Any]:
    """The stated claim over every (benchmark, k) cell: runs better and worse at equal wall
    time, the sign test's p, and whether the claim holds."""
    better = sum(c["time_better"] for c in cells)
    worse = sum(c["time_worse"] for c in cells)
    p = sign_p(better, worse)
    return {"better": better, "worse": worse, "p": p, "met": better > worse and p < ALPHA}


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


def _section(confirmation: dict[str, Any]) -> tuple[list[str], Target]:
    method, runs, seeds = confirmation["method"], confirmation["runs"], confirmation["seeds"]
    base = METHODS[method].baseline
    cells = paired_cells(quality(runs), runs, method)
    found = verdict(cells)
    target = Target(
        f"{METHODS[method].label} is better than {METHODS[base].label} at equal simulated "
        f"wall time on fresh seeds ({seeds[0]}-{seeds[-1]}; sign test p < {ALPHA:g})",
        f"better in {found['better']} runs, worse in {found['worse']}, p = {found['p']:.2g}",
        found["met"],
        "" if found["met"] else "not confirmed: it stays a candidate",
    )
    git = confirmation["git"]
    code = f"git {git['sha'][:10]}" + (" with uncommitted changes" if git["dirty"] else "")
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
        f"Ran: `{confirmation['command']}` ({code}).",
        "",
        f"Against {METHODS[base].label}: {against_baseline(cells, least_k=1)}",
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
        "Each candidate here beat its baseline on seeds 0-9 in scaling.md, where it was "
        "measured beside other candidates. Each is judged on seeds no other confirmation "
        "used, by a claim stated before its runs.",
        "",
    ]
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
    p.add_argument("--first-seed", type=int, default=None, help="default: the next fresh seed")
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--render", action="store_true", help="re-render from the JSON")
    args = p.parse_args(argv)
    if not args.render and args.method is None:
        p.error("--method is required (or --render)")
    return args


def main(argv: list[str] | None = None) -> None:
    from bench.scaling.grid import Job, pool_map

    args = _parse(argv)
    path = args.out / "scaling_confirm.json"
    old = json.loads(path.read_text()) if path.is_file() else {}
    if old:
        old["meta"] = recorded_meta(old["meta"], "scaling_confirm")
    if args.render:
        if not old:
            print(f"error: --render: no {path} to render", file=sys.stderr)
            raise SystemExit(2)
        data = old
    else:
        confirmations = ledger(old) if old else []
        try:
            seeds = fresh_seeds(confirmations, args.first_seed, args.seeds)
        except ValueError as e:
            print(f"error: {e}", file=sys.stderr)
            raise SystemExit(2) from None
        jobs = [
            Job(bench, method, k, seed)
            for bench in BENCHMARKS
            for method in (METHODS[args.method].baseline, args.method)
            for k in WORKERS
            for seed in seeds
        ]
        meta = base_meta(False, seeds=seeds, method=args.method, processes=args.processes)
        confirmations.append(
            {
                "method": args.method,
                "seeds": seeds,
                "command": meta["command"],
                "git": meta["git"],
                "runs": pool_map(jobs, args.processes),
            }
        )
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
