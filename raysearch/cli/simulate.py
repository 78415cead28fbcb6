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
how well its rungs rank the curves, over all of them and over the best tenth
(search/simulation/rungs.py). ``--trial-start-s S``: each trial also takes S simulated
seconds before its first epoch (what a cluster pays per trial beside its epochs), which
costs most the searches that start many short trials. ``--time-budget T``: each search
also ends after T simulated seconds, as ``raysearch run --time-budget`` ends a real one,
so the table says what T buys at each k.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from raysearch.cli import command_description
from raysearch.cli.args import StrictParser, duration, non_negative_float, positive_int
from raysearch.cli.entry_point import run_as_program
from raysearch.cli.simulate_tables import paired_table, quality_table, rung_table
from raysearch.core.errors import ConfigError, RaysearchError
from raysearch.core.files import why_no_file, write_json

# pydantic only: --help stays quick
from raysearch.search.settings import SCHEDULERS, SearchSettings

__all__ = ["main"]

DEFAULT_METRIC = "anchored_val_loss"  # --table's column unless --metric names another
REACH_CAP = 5  # searches for the target run at most this many times the space's trials


def _parser() -> StrictParser:
    p = StrictParser(prog="raysearch simulate", description=command_description("simulate"))
    curves = p.add_mutually_exclusive_group(required=True)
    curves.add_argument("--table", type=Path, help="recorded curves (parquet or CSV, long format)")
    curves.add_argument("--curves", choices=["hartmann"], help="a synthetic benchmark")
    p.add_argument("--space", help="space name or YAML file (required with --table)")
    p.add_argument(
        "--metric", help=f"table column to minimise (with --table; default {DEFAULT_METRIC})"
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
    return p


# Settings of what follows a search, which a simulation of the search never runs
_AFTER_THE_SEARCH = ("finalists", "replicates")


def _against_values(pairs: list[str]) -> tuple[dict[str, Any], list[str]]:
    """``--against``'s settings (SETTING=VALUE, VALUE read as YAML: false, 27, null), and the
    problems with them."""
    values: dict[str, Any] = {}
    problems = []
    taken = [k for k in SearchSettings.model_fields if k not in _AFTER_THE_SEARCH]
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key:
            problems.append(f"--against {pair!r}: expected SETTING=VALUE, e.g. multivariate=false")
        elif key in _AFTER_THE_SEARCH:
            problems.append(
                f"--against {pair!r}: the simulation runs the search alone, not the finalists' "
                f"re-training after it, so {key} would change nothing; settings: "
                + ", ".join(taken)
            )
        elif key not in SearchSettings.model_fields:
            problems.append(
                f"--against {pair!r}: no setting {key!r}; settings: " + ", ".join(taken)
            )
        elif key in values:
            problems.append(f"--against {pair!r}: {key} is given twice")
        else:
            try:
                values[key] = yaml.safe_load(text) if text else None
            except yaml.YAMLError as err:
                reason = str(err).splitlines()[0]
                problems.append(f"--against {pair!r}: the value is not YAML ({reason})")
    return values, problems


def _inputs(args: Any) -> tuple[Any, Any, Any]:
    """The space, the curve source and the space ``--against`` compares with (None without
    it), or a ConfigError listing every problem with the arguments."""
    values, problems = _against_values(args.against or [])
    # said before the simulation runs: a directory there, or a file in the way of one to
    # make (missing directories are made, as every command makes its output's)
    if args.out is not None and (why := why_no_file(args.out)):
        problems.append(f"--out {args.out}: {why}")
    try:
        space, source = _resolve(args)
    except ConfigError as err:
        raise ConfigError([*err.problems, *problems], err.context) from None
    if problems:
        raise ConfigError(problems, "arguments")
    if not args.against:
        return space, source, None
    try:
        other = space.replace_settings(**values)
    except ConfigError as err:
        raise ConfigError([f"--against: {p}" for p in err.problems], "arguments") from None
    if other.settings == space.settings:
        raise ConfigError(
            [f"--against {' '.join(args.against)}: the space's settings already are these"],
            "arguments",
        )
    if other.settings.max_epochs != source.max_epochs:  # before the first search runs
        raise ConfigError(
            [f"--against {' '.join(args.against)}: max_epochs {other.settings.max_epochs}, "
             f"but the curves have {source.max_epochs} epochs"],
            "arguments",
        )  # fmt: skip
    return space, source, other


def _resolve(args: Any) -> tuple[Any, Any]:
    """The space and the curve source, or a ConfigError listing every problem."""
    # Deferred: the search layer imports Ray and Optuna (seconds); --help needs neither.
    from raysearch.search.simulation.hartmann import HartmannCurves, hartmann_space
    from raysearch.search.simulation.table import (
        TableError,
        check_space,
        not_categorical,
        read_table,
    )
    from raysearch.search.simulation.table_rows import listed_values
    from raysearch.search.space import load_space

    overrides = {
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
    if args.curves == "hartmann":
        unused = [
            "--space: not used with --curves hartmann (its space is x1..x6)" if args.space else "",
            "--metric: not used with --curves hartmann (it has one value, f(x))"
            if args.metric
            else "",
        ]
        if any(unused):
            raise ConfigError([u for u in unused if u], "arguments")
        hartmann = HartmannCurves()
        space = hartmann_space(SearchSettings(num_samples=200, max_epochs=hartmann.max_epochs))
        return space.with_settings(**overrides), hartmann
    if not args.space:
        raise ConfigError(["--space: required with --table (its parameters name table columns)"])
    space = load_space(args.space).with_settings(**overrides)
    try:
        metric = args.metric or DEFAULT_METRIC
        source = read_table(args.table, list(space.parameters), metric, listed_values(space))
    except TableError as err:
        # with what the space alone says is wrong, which may be why the table cannot be read
        problems = [f"--space {args.space}: {p}" for p in not_categorical(space)]
        table = [f"--table {args.table}: {p}" for p in err.problems]
        raise ConfigError([*problems, *table], "arguments") from None
    problems = check_space(source, space)
    if problems:
        raise ConfigError([f"--table {args.table}: {p}" for p in problems], "arguments")
    return space, source


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        space, source, other = _inputs(args)
    except RaysearchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    # Deferred: as in _resolve (Ray and Optuna only once the arguments are good).
    import statistics

    import numpy as np
    import optuna

    from raysearch.search.scheduler import GATE_PAIRS, GATE_THRESHOLD
    from raysearch.search.simulation.rungs import rank_rungs, sample_curves
    from raysearch.search.simulation.runs import (
        median_found,
        paired,
        resampled_speedups,
        run_search,
        summarise,
        time_to_reach,
    )
    from raysearch.search.simulation.stopping import TrainerStopped

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    curves = source  # whole: what the rung table ranks
    if args.table:  # a trial of the space stops itself where its trainer would stop it
        source = TrainerStopped(source, space)  # (--against changes no trainer setting)
    seeds, start, budget = range(args.seeds), args.trial_start_s, args.time_budget
    rows = []
    for k in args.workers:
        results = [
            run_search(space, source, k, seed, start_s=start, time_limit=budget) for seed in seeds
        ]
        rows.append(
            {
                "workers": k,
                "summary": summarise(results, source.optimum, source),
                "bests": [x.best for x in results],
            }
        )
        if other is not None:
            theirs = [
                run_search(other, source, k, seed, start_s=start, time_limit=budget)
                for seed in seeds
            ]
            rows[-1]["against"] = {
                "summary": summarise(theirs, source.optimum),
                **paired(results, theirs),
            }
    target = median_found(rows[0]["bests"])  # the first k's median result, as found
    cap = REACH_CAP * space.settings.num_samples
    for r in rows:  # trials keep coming until the first k's median is reached (or the cap)
        reach = [
            run_search(
                space, source, r["workers"], seed, num_trials=cap, target=target, start_s=start
            )
            for seed in seeds
        ]
        r["reach_times"] = [time_to_reach(x, target) for x in reach]
        r["reach_s"] = statistics.median(r["reach_times"])
    first = rows[0]["reach_s"]
    for r in rows:
        r["speedup"] = first / r["reach_s"] if r["reach_s"] > 0 else math.inf
        if r is not rows[0]:  # how far the seeds pin it down: 5th and 95th of resamples
            ratios = resampled_speedups(rows[0]["reach_times"], r["reach_times"])
            r["speedup_range"] = (
                float(np.quantile(ratios, 0.05, method="lower")),
                float(np.quantile(ratios, 0.95, method="higher")),
            )
    s = space.settings
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
        f"{space.name} on {source.name}: {s.num_samples} trials per search, "
        f"{s.searcher}{'' if s.multivariate else ' (independent)'}"
        f"{' (independent as trials run)' if s.independent_when_running else ''}"
        f" + {s.scheduler}{asha}, "
        f"{args.seeds} seed{'s' * (args.seeds != 1)}"
        + (f", {source.describe()}" if isinstance(source, TrainerStopped) else "")
        + (f", each trial starting {start:g} s before its first epoch" if start else "")
        + (
            f", each search ending after {budget / 3600:.3g} simulated h (--time-budget) "
            "if its trials have not all ended ('sooner than k=1': its searches run on past the "
            "budget until they reach k=1's median)"
            if budget
            else ""
        )
    )
    print(quality_table(rows))
    if other is not None:
        print()
        print(paired_table(rows, " ".join(args.against)))
    ranks = None
    if epochs := s.rung_epochs():
        ranks = rank_rungs(sample_curves(space, curves), epochs)
        print()
        gated = s.gate_against if s.scheduler == "gated_asha" else None
        print(
            rung_table(ranks, GATE_THRESHOLD, gated, s.gate_unmeasured, GATE_PAIRS, s.gate_cut_cost)
        )
    if args.out:
        record = {
            "space": space.name,
            "settings": s.model_dump(),
            "trial_start_s": start,
            "time_budget_s": budget,
            "rows": rows,
        }
        if ranks is not None:
            record["rungs"] = dataclasses.asdict(ranks)
        if other is not None:
            record["against"] = {"given": args.against, "settings": other.settings.model_dump()}
        write_json(args.out, record)  # standard JSON: an undefined figure is null
    return 0


if __name__ == "__main__":
    run_as_program(main)
