"""python -m bench.scaling.confirm --method NAME [--first-seed N] [--seeds N] [--out DIR]
[--processes N] [--render]

A candidate that looked better than the default in scaling.md was picked as the best of
several candidates, all measured on seeds 0-9: the best of many comparisons looks better
than it is. This runs the default and the candidate again on fresh seeds (by default 10-19),
on every benchmark and k, and judges the claim stated before those runs: at equal
simulated wall time (seed by seed, the shorter run's end) the candidate is better in more
runs than it is worse, with a two-sided sign test p < ``ALPHA``. Writes scaling_confirm.md
and scaling_confirm.json; ``--render`` re-renders them from the JSON.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from bench.common import OUT, Target, base_meta, header, recorded_meta, write_outputs
from bench.scaling.analyse import quality
from bench.scaling.benchmarks import BENCHMARKS
from bench.scaling.methods import DEFAULT, METHODS
from bench.scaling.notes import against_default, paired_cells, paired_table, sign_p

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


def render(data: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """(markdown, targets as JSON)."""
    method, runs = data["meta"]["method"], data["runs"]
    cells = paired_cells(quality(runs), runs, method)
    found = verdict(cells)
    seeds = data["meta"]["seeds"]
    target = Target(
        f"{METHODS[method].label} is better than the default at equal simulated wall time on "
        f"fresh seeds ({seeds[0]}-{seeds[-1]}; sign test p < {ALPHA:g})",
        f"better in {found['better']} runs, worse in {found['worse']}, p = {found['p']:.2g}",
        found["met"],
        "" if found["met"] else "not confirmed: it stays a candidate",
    )
    lines = header("A candidate against the default on fresh seeds (simulated)", data["meta"])
    lines += [
        f"Candidate: `{method}` ({METHODS[method].label}), measured in scaling.md on seeds "
        "0-9 beside other candidates. The claim, stated before these runs: at equal "
        "simulated wall time it is better than the default in more seeded runs than it is "
        f"worse, two-sided sign test p < {ALPHA:g}, over every benchmark and k = "
        f"{', '.join(map(str, WORKERS))} (200 trials each, as in scaling.md).",
        "",
        f"Against the default: {against_default(cells, least_k=1)}",
        "",
    ]
    lines += paired_table(cells)
    state = "met" if target.met else "missed"
    lines += ["## Target", "", f"- {target.name}: {target.figure}: **{state}**"]
    if target.bound:
        lines[-1] += f" ({target.bound})"
    return "\n".join(lines) + "\n", [target.to_json()]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.scaling.confirm", description=__doc__)
    p.add_argument("--method", choices=[m for m in METHODS if m != DEFAULT], required=True)
    p.add_argument("--first-seed", type=int, default=FIRST_SEED)
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--processes", type=int, default=2)
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--render", action="store_true", help="re-render from the JSON")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    from bench.scaling.grid import Job, pool_map

    args = _parse(argv)
    path = args.out / "scaling_confirm.json"
    if args.render:
        data = json.loads(path.read_text())
        data["meta"] = recorded_meta(data["meta"], "scaling_confirm")
    else:
        seeds = list(range(args.first_seed, args.first_seed + args.seeds))
        jobs = [
            Job(bench, method, k, seed)
            for bench in BENCHMARKS
            for method in (DEFAULT, args.method)
            for k in WORKERS
            for seed in seeds
        ]
        meta = base_meta(False, seeds=seeds, method=args.method, processes=args.processes)
        data = {"meta": meta, "runs": pool_map(jobs, args.processes)}
    text, targets = render(data)
    data["targets"] = targets
    print(text)
    write_outputs("scaling_confirm", text, data, args.out)


if __name__ == "__main__":
    main()
