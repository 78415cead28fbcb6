"""``raysearch compare RUN_DIR [RUN_DIR ...]``: compare finished searches.

Writes report.md and its PNG figures to ``--out`` (default results/compare/<timestamp>/)
and prints where. Every RUN_DIR and ``--out`` are checked first; every problem is reported
at once (naming the directory and the missing file) before anything is written. ``--out``
is new, empty or holds an earlier report, which the new one replaces whole; one holding
anything else is refused, naming it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path

from raysearch.cli import command_description
from raysearch.cli.args import StrictParser, int_between
from raysearch.cli.entry_point import run_as_program
from raysearch.core.errors import RaysearchError
from raysearch.results.report_dir import runs_to_compare
from raysearch.search.names import CLI, Names
from raysearch.search.options import LEAST, MOST

__all__ = ["main"]


# how errors name the report directory when --out is not given
_DEFAULT_OUT = Names(
    cli=True, given_as=(("out_dir", "report directory (the default; --out DIR gives another)"),)
)


def main(argv: Sequence[str] | None = None) -> int:
    parser = StrictParser(
        prog="raysearch compare",
        description=command_description("compare"),
    )
    parser.add_argument(
        "run_dirs", nargs="+", type=Path, metavar="RUN_DIR", help="results/<space>/<run>"
    )
    parser.add_argument(
        "--out", type=Path, help="report directory (default: results/compare/<timestamp>/)"
    )
    parser.add_argument(
        "--seed",
        type=int_between(LEAST["seed"], MOST["seed"]),  # run's --seed's bounds
        default=0,
        help="seed of the fANOVA forest, 0 to 2**32 - 1 (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    try:
        runs = runs_to_compare(args.run_dirs, args.out, CLI)  # before the slow imports
        # Deferred: matplotlib, optuna and scikit-learn take seconds to import.
        from raysearch.results.comparison import new_out_dir, unlike_runs, write_report

        if args.out is not None:
            report = write_report(runs, args.out, seed=args.seed, names=CLI)
        else:  # the default, not given: said as what it is, not as --out
            with new_out_dir(names=_DEFAULT_OUT) as out:
                report = write_report(runs, out, seed=args.seed, names=_DEFAULT_OUT)
    except RaysearchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for note in unlike_runs(runs):  # said where it is read first, as in the report
        print(note.replace("**", "").replace("`", ""))
    print(f"report: {report}")
    # the figures report.md shows: --out holds exactly them and report.md
    figures = sorted(set(re.findall(r"!\[[^\]]*\]\(([^)]+\.png)\)", report.read_text())))
    print(f"figures: {', '.join(figures)}")
    return 0


if __name__ == "__main__":
    run_as_program(main)
