"""``raysearch run --space NAME`` (also ``python -m raysearch.run``): the search, end to end.

Parse, validate everything (space, flags, data) before Ray starts a trial, plan resources
from the cluster, run Tune (OptunaSearch TPE + ASHA on the anchored validation loss),
then write results/<space>/<run>/ and print a summary.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from raysearch.cli import command_description
from raysearch.cli.args import StrictParser, duration, int_at_least, int_between, path
from raysearch.cli.entry_point import INTERRUPTED, run_as_program
from raysearch.core.errors import (
    ConfigError,
    RaysearchError,
    ResultsNotWritten,
    SearchFailed,
    SearchInterrupted,
)
from raysearch.core.signals import command_takes_sigterm_as_ctrl_c
from raysearch.search.options import LEAST, MOST, RunOptions
from raysearch.search.settings import SCHEDULERS
from raysearch.search.space import SMOKE_SETTINGS, available_spaces
from raysearch.search.tracking import WandbOptions

__all__ = ["main", "parse_args"]


def _count(field: str) -> Callable[[str], int]:
    """The flag's argparse type, with RunOptions' bounds for ``field`` (one bound for the
    command line and run_search)."""
    if field in MOST:
        return int_between(LEAST[field], MOST[field])
    return int_at_least(LEAST[field])


def parse_args(argv: Sequence[str] | None = None) -> RunOptions:
    parser = StrictParser(
        prog="raysearch run",
        description=command_description("run"),
    )
    parser.add_argument(
        "--space",
        help=f"a shipped space ({', '.join(available_spaces())}) or the path of a space "
        "file (.yaml); needed unless --resume",
    )
    parser.add_argument(
        "--num-samples", type=_count("num_samples"), help="trials (default: the space's)"
    )
    parser.add_argument(
        "--max-epochs", type=_count("max_epochs"), help="epochs per trial (default: the space's)"
    )
    parser.add_argument(
        "--max-concurrent",
        type=_count("max_concurrent"),
        help="trials at once (default: as many as the cluster fits)",
    )
    parser.add_argument(
        "--workers-per-trial",
        type=_count("workers_per_trial"),
        default=1,
        help="data-parallel workers per trial; >= 2 runs each trial with Ray Train "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--data", type=path, help="dataset directory (default: the embedded synthetic dataset)"
    )
    parser.add_argument(
        "--results", type=path, default="results", help="results root (default: results/)"
    )
    parser.add_argument(
        "--time-budget",
        type=duration,
        metavar="DURATION",
        help="stop the search after this long (600 = seconds, 45m, 8h, 1h30m): running "
        "trials are cut and no more start; the finalists, if any, train after it "
        "(default: no limit, the search ends after --num-samples trials)",
    )
    parser.add_argument("--name", help="run name (default: a timestamp and a random suffix)")
    parser.add_argument(
        "--seed",
        type=_count("seed"),
        default=0,
        help="seed of the searcher and the trials, 0 to 2**32 - 1 (trial n trains with seed + "
        "n, wrapping past 2**32 - 1 to 0; default: %(default)s, the same for every search not "
        "given one)",
    )
    parser.add_argument("--address", help="join an existing Ray cluster (e.g. 'auto')")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help=f"tiny model and data, at most {SMOKE_SETTINGS['num_samples']} trials of at most "
        f"{SMOKE_SETTINGS['max_epochs']} epochs (a space's fewer are kept; --num-samples "
        "and --max-epochs still set them): a first look in minutes (what the space searches, "
        "such as the model size, stays searched)",
    )
    parser.add_argument(
        "--searcher",
        choices=["tpe", "random"],
        help="how trials are drawn (default: the space's, tpe); random is the baseline",
    )
    parser.add_argument(
        "--scheduler",
        choices=SCHEDULERS,
        help="asha stops weak trials at its rungs; gated_asha only at rungs that have shown "
        "they rank trials; fifo runs every trial at full budget (default: the space's, gated_asha)",
    )
    parser.add_argument(
        "--finalists",
        type=_count("finalists"),
        metavar="N",
        help="after the search, re-train the N best configurations with fresh seeds and "
        "pick on their mean (0 = off; default: the space's, 0 under --smoke)",
    )
    parser.add_argument(
        "--replicates",
        type=_count("replicates"),
        metavar="R",
        help="fresh seeds per finalist, at least 2; needs finalists (--finalists N, or the "
        "space's; --smoke turns the space's off), and is refused without them (default: the "
        "space's)",
    )
    parser.add_argument(
        "--storage",
        type=path,
        help="where Tune keeps checkpoints and search state: a shared path or s3://, gs:// URI "
        "(default: the run directory under --results)",
    )
    parser.add_argument(
        "--max-failures",
        type=_count("max_failures"),
        default=1,
        help="times a trial whose worker died is retried from its last checkpoint "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--no-wandb",
        action="store_true",
        help="do not log trials to W&B (spares the search its W&B logging process on the "
        "driver's node)",
    )
    parser.add_argument("--wandb-project", help=f"W&B project (default: {WandbOptions().project})")
    parser.add_argument("--wandb-group", help="W&B group (default: <space>/<run>)")
    parser.add_argument(
        "--resume",
        type=path,
        metavar="RUN_DIR",
        help="continue an interrupted search in RUN_DIR (results/<space>/<run>)",
    )
    parser.add_argument(
        "--warm-start",
        type=path,
        metavar="RUN_DIR",
        help="seed the new search's Optuna study with the finished trials of RUN_DIR "
        "(a run of a space with the same parameters), for TPE to start from: refused with "
        "--searcher random, which reads no study",
    )
    args = parser.parse_args(argv)
    if args.resume is not None:
        others = [
            a
            for a in (argv if argv is not None else sys.argv[1:])
            if a.startswith("--") and a != "--resume" and not a.startswith("--resume=")
        ]
        if others:  # valid flags, but not here: one line, no list of valid flags
            parser.exit(
                2,
                f"{parser.prog}: error: --resume takes no other flags (the run's own are "
                f"reused), got {others}: they are for a new search, given without --resume\n",
            )
        return RunOptions(space="", resume=args.resume, argv=_argv(argv))
    if args.space is None:
        parser.error("the following arguments are required: --space (or --resume RUN_DIR)")
    if args.no_wandb:
        where = [
            flag
            for flag, value in (
                ("--wandb-project", args.wandb_project),
                ("--wandb-group", args.wandb_group),
            )
            if value is not None
        ]
        if where:
            parser.exit(
                2,
                f"{parser.prog}: error: {' and '.join(where)} "
                f"{'say' if len(where) > 1 else 'says'} where W&B logs, and --no-wandb "
                "turns W&B off: give one or the other\n",
            )
    try:
        return _options(args, argv)
    except ConfigError as err:  # a value no flag's type refuses (a --name with a '/'...)
        parser.exit(2, f"{parser.prog}: error: {err}\n")


def _options(args: argparse.Namespace, argv: Sequence[str] | None) -> RunOptions:
    return RunOptions(
        space=args.space,
        num_samples=args.num_samples,
        max_epochs=args.max_epochs,
        max_concurrent=args.max_concurrent,
        workers_per_trial=args.workers_per_trial,
        data=args.data,
        results=args.results,
        name=args.name,
        seed=args.seed,
        address=args.address,
        smoke=args.smoke,
        searcher=args.searcher,
        scheduler=args.scheduler,
        finalists=args.finalists,
        replicates=args.replicates,
        max_failures=args.max_failures,
        time_budget_s=args.time_budget,
        storage=args.storage,
        wandb=WandbOptions(
            not args.no_wandb,
            WandbOptions().project if args.wandb_project is None else args.wandb_project,
            args.wandb_group,
        ),
        warm_start=args.warm_start,
        argv=_argv(argv),
    )


# The command a user typed, by the file Python ran for it: the package's __main__ for
# `python -m raysearch run`, the promised alias for `python -m raysearch.run`, this module
# for `python -m raysearch.cli.run`; the console script (and a call of main from Python,
# whose arguments are this command's) is `raysearch run`.
_PACKAGE = Path(__file__).resolve().parents[1]
_PYTHON_M = {
    _PACKAGE / "__main__.py": "python -m raysearch run",
    _PACKAGE / "run.py": "python -m raysearch.run",
    _PACKAGE / "cli" / "run.py": "python -m raysearch.cli.run",
}
_COMMAND = "raysearch run"


def _typed_command() -> str:
    """``raysearch run``, or the ``python -m`` form that started this process."""
    ran = sys.argv[0] if sys.argv else ""
    return _PYTHON_M.get(Path(ran).resolve(), _COMMAND) if ran else _COMMAND


def _argv(argv: Sequence[str] | None) -> tuple[str, ...]:
    """The command line as its user typed it, as RunOptions keeps it (its errors then name
    options by their flags, and a new run's metadata repeats it): the command
    (``_typed_command``), then its arguments (``argv``; None: this process's)."""
    return (_typed_command(), *(sys.argv[1:] if argv is None else argv))


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    with command_takes_sigterm_as_ctrl_c():  # kill, ray job stop: as Ctrl+C
        return _search(argv)


def _search(argv: Sequence[str] | None) -> int:
    options = parse_args(argv)
    # Deferred: the search stack (torch, Ray) takes seconds to import; a bad flag is
    # reported without it.
    from raysearch.api import run_search

    try:
        run_search(options=options)
    except SearchInterrupted as err:
        print(f"interrupted: {err}", file=sys.stderr)
        return INTERRUPTED
    except KeyboardInterrupt:  # Ctrl+C before the search started: nothing to resume
        print("interrupted before the search started; nothing was run", file=sys.stderr)
        return INTERRUPTED
    except (SearchFailed, ResultsNotWritten) as err:  # ran, but no result to use
        print(f"error: {err}", file=sys.stderr)
        return 1
    except RaysearchError as err:  # bad input, refused before anything ran
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    run_as_program(main)
