"""``raysearch simulate`` (or ``python -m raysearch.simulate``): how a search would go with k
trials at once, in seconds.

Runs raysearch's own searcher and scheduler (what ``python -m raysearch.run`` builds for the
space) on a discrete-event clock with k simulated workers; each trial's curve comes from a
table of recorded curves (``--table``, e.g. results/benchmarks/han_table.parquet with
``--space bench/spaces/han_table.yaml``) or from augmented Hartmann 6-D (``--curves
hartmann``). No Ray cluster starts and nothing trains. For each k: the best value found
(median and spread over ``--seeds`` searches), the simulated wall time, and how much sooner
than with the first k it reaches the first k's median result (searches that go on until
they reach it, up to 5 times the trials), with the range 90% of bootstrap resamples of the
seeds give it. ``--against SETTING=VALUE ...``: the search again
with those settings changed, on the same seeds, compared with it seed by seed. With ASHA,
how well its rungs rank the curves, over all of them and over the best tenth, at least 5
(search/simulation/rungs.py). ``--trial-start-s S``: each trial also takes S simulated
seconds before its first epoch (what a cluster pays per trial beside its epochs), which
costs most the searches that start many short trials. ``--time-budget T``: each search
also ends after T simulated seconds, as ``raysearch run --time-budget`` ends a real one,
so the table says what T buys at each k. ``--out`` writes the figures as JSON, ``--plot``
draws them (search/simulation/scaling_plot.py). Progress, a line per simulated search, goes
to stderr; the tables to stdout. ``raysearch.simulate_search`` is this command from Python.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from raysearch.cli import command_description
from raysearch.cli.args import StrictParser, duration, non_negative_float, positive_int
from raysearch.cli.entry_point import run_as_program
from raysearch.cli.simulate_tables import paired_table, quality_table, rung_table
from raysearch.core.errors import RaysearchError
from raysearch.core.files import why_no_file, write_json
from raysearch.core.metrics import VAL_METRIC
from raysearch.core.timing import time_unit

# pydantic only: --help stays quick
from raysearch.search.settings import SCHEDULERS

__all__ = ["main"]


def _parser() -> StrictParser:
    p = StrictParser(prog="raysearch simulate", description=command_description("simulate"))
    curves = p.add_mutually_exclusive_group(required=True)
    curves.add_argument("--table", type=Path, help="recorded curves (parquet or CSV, long format)")
    curves.add_argument("--curves", choices=["hartmann"], help="a synthetic benchmark")
    p.add_argument("--space", help="space name or YAML file (required with --table)")
    p.add_argument(
        "--metric", help=f"table column to minimise (with --table; default {VAL_METRIC})"
    )
    p.add_argument(
        "--workers",
        type=positive_int,
        nargs="+",
        default=[1, 4, 16, 64],
        metavar="K",
        help="trials at once, each k a set of searches (default: 1 4 16 64)",
    )
    p.add_argument(
        "--seeds", type=positive_int, default=10, help="searches per k (default: %(default)s)"
    )
    p.add_argument("--num-samples", type=positive_int, help="trials per search")
    p.add_argument("--searcher", choices=["tpe", "random"], help="override the space's")
    p.add_argument(
        "--multivariate",
        action=argparse.BooleanOptionalAction,
        help="TPE models the parameters jointly; --no-multivariate: one model per parameter "
        "(override the space's)",
    )
    p.add_argument(
        "--independent-when-running",
        action=argparse.BooleanOptionalAction,
        help="joint TPE draws a trial with one model per parameter with probability "
        "r / (r + 16), r the trials running (on by default with joint TPE); "
        "--no-independent-when-running: joint TPE for every draw (override the space's)",
    )
    p.add_argument("--scheduler", choices=SCHEDULERS, help="override the space's")
    p.add_argument(
        "--gate-against",
        choices=["next", "chain"],
        help="what gated_asha's gate judges a rung by: its agreement with the next rung, or "
        "along the chain of rungs to the end (override the space's)",
    )
    p.add_argument(
        "--gate-unmeasured",
        choices=["asha", "defer"],
        help="what gated_asha's gate does with ASHA's stop at a rung it cannot judge yet: "
        "let it stand, or defer it until the rung is measured (override the space's)",
    )
    p.add_argument(
        "--gate-cut-cost",
        action=argparse.BooleanOptionalAction,
        help="gated_asha's gate also asks that a rung's cut keep the trials that end best "
        "(on by default wherever the gate runs; --no-gate-cut-cost: by its correlation "
        "alone; override the space's)",
    )
    p.add_argument("--grace-period", type=positive_int, help="ASHA's (override the space's)")
    p.add_argument(
        "--brackets", type=positive_int, help="ASHA's Hyperband brackets (override the space's)"
    )
    p.add_argument(
        "--cutoff-window",
        type=positive_int,
        help="ASHA's cut-off at a rung from its last N values (override the space's; >= 3)",
    )
    p.add_argument(
        "--against",
        nargs="+",
        metavar="SETTING=VALUE",
        help="also run the search with these space settings changed (e.g. multivariate=false "
        "scheduler=asha), on the same seeds, and compare the two seed by seed",
    )
    p.add_argument(
        "--time-budget",
        type=duration,
        metavar="DURATION",
        help="each search also ends after this much simulated time (600 = seconds, 45m, 8h), "
        "as raysearch run --time-budget ends a real one: what the budget buys at each k "
        "(the epoch that ends across it still counts); default: no limit",
    )
    p.add_argument(
        "--trial-start-s",
        type=non_negative_float,
        default=0.0,
        metavar="SECONDS",
        help="simulated seconds each trial takes before its first epoch, and a paused trial "
        "before it resumes: what a cluster pays per trial beside its epochs (Ray starting "
        "it, loading data, building the model; results/benchmarks/overhead.md measured "
        "about 3 s for a one-worker trial and about 20 s for a two-worker one on a 2-core "
        "machine); default 0, epochs only",
    )
    p.add_argument("--out", type=Path, help="write the figures as JSON here")
    p.add_argument(
        "--plot",
        type=Path,
        metavar="FILE",
        help="draw the figures here (.png, .pdf or .svg): the best so far against simulated "
        "wall time per k, the best after all trials against k, the speed-up against k",
    )
    return p


def _against_values(pairs: list[str]) -> tuple[dict[str, Any], dict[str, str], list[str]]:
    """``--against``'s settings (SETTING=VALUE, VALUE read as YAML: false, 27, null), each
    setting's SETTING=VALUE as written, and the problems with how they are written (which
    settings a simulation takes is the search layer's check)."""
    values: dict[str, Any] = {}
    written: dict[str, str] = {}
    problems = []
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            problems.append(f"--against {pair!r}: expected SETTING=VALUE, e.g. multivariate=false")
        elif key in values:
            problems.append(f"--against {pair!r}: {key} is given twice")
        else:
            try:
                values[key], written[key] = yaml.safe_load(text) if text else None, pair
            except yaml.YAMLError as err:
                reason = str(err).splitlines()[0]
                problems.append(f"--against {pair!r}: the value is not YAML ({reason})")
    return values, written, problems


def _seconds(seconds: float) -> str:
    """A time in the unit it reads best in (s, min or h: ``time_unit``), however short."""
    unit, per = time_unit(seconds)
    return f"{seconds / per:.3g} {unit}"


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    against, written, problems = _against_values(args.against or [])
    # said before the simulation runs: a directory there, or a file in the way of one to
    # make (missing directories are made, as every command makes its output's)
    if args.out is not None and (why := why_no_file(args.out)):
        problems.append(f"--out {args.out}: {why}")
    # Deferred: the search layer imports Ray and Optuna (seconds); --help needs neither.
    from raysearch.search.names import CLI
    from raysearch.search.simulation.scaling import run_simulation
    from raysearch.search.simulation.scaling_plan import check_simulation, plot_problem

    if len(set(args.workers)) < len(args.workers):
        problems.append(f"--workers: each k once, got {' '.join(map(str, args.workers))}")
    if args.plot is not None and (why := plot_problem(args.plot)):
        problems.append(f"--plot {args.plot}: {why}")

    settings = {
        "num_samples": args.num_samples,
        "searcher": args.searcher,
        "multivariate": args.multivariate,
        "independent_when_running": args.independent_when_running,
        "scheduler": args.scheduler,
        "grace_period": args.grace_period,
        "brackets": args.brackets,
        "cutoff_window": args.cutoff_window,
        "gate_against": args.gate_against,
        "gate_unmeasured": args.gate_unmeasured,
        "gate_cut_cost": args.gate_cut_cost,
    }
    try:
        plan = check_simulation(
            args.space,
            table=args.table,
            curves=args.curves,
            metric=args.metric,
            # the well-formed pairs: none of them (--against scheduler) is no comparison to
            # check, not one with the space's own settings
            against=against or None,
            settings={k: v for k, v in settings.items() if v is not None},  # flags given
            names=CLI,
            problems=problems,
            against_said=lambda key: (
                f"--against {' '.join(written.values())}"
                if key is None
                else f"--against {written[key]!r}"
            ),
        )
    except RaysearchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    # Deferred: Ray Tune's scheduler module (a second), once the arguments are good.
    from raysearch.search.scheduler import GATE_PAIRS, GATE_THRESHOLD

    sim = run_simulation(
        plan,
        args.workers,
        args.seeds,
        trial_start_s=args.trial_start_s,
        time_budget_s=args.time_budget,
        log=lambda line: print(line, file=sys.stderr, flush=True),  # stdout: the tables
    )
    s, start, budget = sim.settings, sim.trial_start_s, sim.time_budget_s
    asha = (
        f" (grace period {s.grace_period}"
        + (f", {s.brackets} brackets" if s.brackets > 1 else "")
        + (f", cut-offs from each rung's last {s.cutoff_window} values" if s.cutoff_window else "")
        + (", its gate along the chain of rungs" if s.gate_against == "chain" else "")
        + (", its gate weighing what a cut costs" if s.gate_cut_cost else "")
        + (", stops at unmeasured rungs deferred" if s.gate_unmeasured == "defer" else "")
        + ")"
        if s.scheduler != "fifo"
        else ""
    )
    print(
        f"{sim.space} on {sim.source}: {s.num_samples} trials per search, "
        f"{s.searcher}{'' if s.multivariate else ' (independent)'}"
        f"{' (independent as trials run)' if s.independent_when_running else ''}"
        f" + {s.scheduler}{asha}, "
        f"{sim.seeds} seed{'s' * (sim.seeds != 1)}"
        + (f", {sim.trial_ends}" if sim.trial_ends else "")
        + (f", each trial starting {start:g} s before its first epoch" if start else "")
        + (
            f", each search ending after {_seconds(budget)} of simulated time (--time-budget) "
            "if its trials have not all ended ('sooner than k=1': its searches run on past the "
            "budget until they reach k=1's median)"
            if budget
            else ""
        )
    )
    rows = list(sim.rows)
    print(quality_table(rows))
    if wide := [r["workers"] for r in rows if r["workers"] > s.num_samples]:
        print(
            f"\nk={', '.join(map(str, wide))}: more than the {s.num_samples} trials each search "
            "runs: all of them start at once, and a larger k adds nothing (the reach runs, "
            "which go on drawing, still use it); --num-samples sets the trials"
        )
    if again := [r for r in rows if r["summary"]["retrained"]["median"] > 0]:
        counts = ", ".join(
            f"k={r['workers']}: {r['summary']['retrained']['median']:g} of "
            f"{r['summary']['trials']['median']:g}"
            for r in again
        )
        print(
            f"\ncurves trained again: {counts} trials (median over seeds) trained a curve an "
            "earlier trial of their configuration had trained: the search drew those "
            "configurations more often than the table has seeds of them, where a real search "
            "trains each trial with a new seed, so it saw less of the seed-to-seed spread "
            "than a real one. Record more seeds (raysearch curves --seeds) to simulate "
            "searches this long"
        )
    if args.against:
        print()
        print(paired_table(rows, " ".join(args.against)))
    if sim.rungs is not None:
        print()
        gated = s.gate_against if s.scheduler == "gated_asha" else None
        held: dict[int, int] = {}  # the stops the gate held, over every k's searches
        for r in rows:
            for epoch, n in r["gate_held"].items():
                held[epoch] = held.get(epoch, 0) + n
        print(
            rung_table(
                sim.rungs,
                GATE_THRESHOLD,
                gated,
                s.gate_unmeasured,
                GATE_PAIRS,
                s.gate_cut_cost,
                held,
                len(rows) * sim.seeds,
            )
        )
    if args.out:
        write_json(args.out, sim.record())  # standard JSON: an undefined figure is null
    if args.plot:
        sim.plot(args.plot)
    return 0


if __name__ == "__main__":
    run_as_program(main)
