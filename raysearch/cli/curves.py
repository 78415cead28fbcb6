"""Record the learning curves of a space's grid, for ``raysearch simulate --table``.

    raysearch curves --space my_grid.yaml --seeds 2 --out results/curves/my_grid.parquet
    raysearch curves --space my_grid.yaml --data results/datasets/ukraine
    raysearch curves --space loss_ablation --points 3   # floats: 3 values across each range

Every combination of the space's categorical values (with ``--points N``, N values across
each float and int parameter's range, the grid's space file written beside the table) is
trained for the space's ``max_epochs`` with early stopping off, once per training seed, on
the dataset a search would use (``--data``, or the synthetic default), one torch thread
each, so an epoch's recorded time is one core's; ``--processes N`` trains N at once.
``--address auto`` joins a running Ray cluster and trains the runs as Ray tasks across its
nodes (one CPU each, or one GPU each where the cluster has GPUs; ``--processes N`` then
caps how many train at once); the table is written where this command runs.
Progress and an estimate of the time left are printed after each run. An interrupted
recording (Ctrl+C, exit status 130) resumes where it stopped (``<out>.partial.jsonl``); a
finished table is kept and not trained again. Then simulate searches on it:

    raysearch simulate --table results/curves/my_grid.parquet --space my_grid.yaml \\
        --workers 1 4 16 64 --seeds 10
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from raysearch.cli import command_description
from raysearch.cli.args import StrictParser, positive_int
from raysearch.cli.entry_point import INTERRUPTED, run_as_program
from raysearch.core.errors import RaysearchError
from raysearch.core.signals import command_takes_sigterm_as_ctrl_c

__all__ = ["main"]


def _parser() -> StrictParser:
    p = StrictParser(prog="raysearch curves", description=command_description("curves"))
    p.add_argument("--space", required=True, help="space name or YAML file (categorical values)")
    p.add_argument("--data", default=None, help="dataset directory (default: synthetic)")
    p.add_argument(
        "--seeds",
        type=positive_int,
        default=2,
        help="training seeds per configuration (default: %(default)s)",
    )
    p.add_argument(
        "--out", type=Path, default=None, help="the table (default: results/curves/<space>.parquet)"
    )
    p.add_argument(
        "--points",
        type=positive_int,
        default=None,
        help="record N values across each float and int parameter's range (geometric where "
        "log) and write the grid's space file beside the table (x.parquet: x.yaml)",
    )
    p.add_argument(
        "--processes",
        type=positive_int,
        default=None,
        help="runs at once, one core each (on a GPU node, a GPU each, in turn); default 1, "
        "with --address as many as the cluster fits",
    )
    p.add_argument(
        "--address",
        default=None,
        help="join this Ray cluster (auto: the one this node belongs to) and train the runs "
        "as Ray tasks across its nodes; --data must be at the same path on each node",
    )
    p.add_argument("--device", default=None, help="the trainer's device (default: its own, auto)")
    p.add_argument(
        "--cache-dir",
        default=os.path.join(".cache", "raysearch"),
        help="where the prepared data is cached (default: .cache/raysearch here)",
    )
    return p


def main(argv: Sequence[str] | None = None) -> int:
    # kill, a batch scheduler's stop: as Ctrl+C (the runs in flight are stopped, the finished
    # kept); SIGTERM's default ended the command without a word, its pool's runs training on
    with command_takes_sigterm_as_ctrl_c():
        return _record(argv)


def _record(argv: Sequence[str] | None) -> int:
    args = _parser().parse_args(argv)
    # Deferred: the search layer imports Ray and Optuna (seconds); --help needs neither.
    from raysearch.search.names import CLI
    from raysearch.search.simulation.record import record_curves_for

    try:
        recorded = record_curves_for(
            CLI,
            args.space,
            out=args.out,
            data=args.data,
            seeds=args.seeds,
            points=args.points,
            processes=args.processes,
            address=args.address,
            device=args.device,
            cache_dir=args.cache_dir,
        )
    except KeyboardInterrupt:
        print("interrupted: the same command resumes from the finished runs", file=sys.stderr)
        return INTERRUPTED
    except RaysearchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(
        f"next: raysearch simulate --table {recorded.table} --space {recorded.space} "
        "--workers 1 4 16 64 --seeds 10"
    )
    return 0


if __name__ == "__main__":
    run_as_program(main)
