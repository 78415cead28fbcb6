"""``raysearch spaces list | show NAME | export NAME --format wandb``.

list: the shipped search spaces; show: one space, validated, as the search will run it;
export: the same space in another tool's format (W&B sweeps), to stdout or ``--out FILE``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from raysearch.cli import command_description
from raysearch.cli.args import StrictParser
from raysearch.cli.entry_point import run_as_program
from raysearch.core.errors import ConfigError, RaysearchError
from raysearch.core.files import atomic_write_text, why_no_file
from raysearch.core.numbers import counted
from raysearch.search.names import Names
from raysearch.search.settings import SearchSettings
from raysearch.search.space import SearchSpace, available_spaces, load_space
from raysearch.search.wandb_sweep import sweep_yaml

__all__ = ["describe_space", "main"]

FORMATS = ("wandb",)


def _range(name: str, space: SearchSpace) -> str:
    p = space.parameters[name]
    if p.type == "categorical":
        text = f"categorical {list(p.choices or [])}"
    else:
        text = f"{p.type} [{p.low:g}, {p.high:g}]"
        text += " log" if p.log else ""
        text += f" step {p.step:g}" if p.step else ""
    if p.when:
        text += f"  (only when {p.when})"
    return text


def _searcher(s: SearchSettings) -> str:
    """How the search draws its trials (``searcher``, and TPE's settings)."""
    if s.searcher == "random":
        return "random sampling"
    n = s.n_startup_trials
    start = f"after {n} start-up trial{'' if n == 1 else 's'}" if n else "from the first trial"
    if not s.multivariate:
        return f"independent TPE (a model per parameter) {start}"
    if s.independent_when_running:
        return f"joint TPE {start}, more of its draws independent as more trials run at once"
    return f"joint TPE for every draw {start}"


def _scheduler(s: SearchSettings) -> list[str]:
    """What stops trials early: the scheduler, its rungs, and gated_asha's gate."""
    if s.scheduler == "fifo":
        return [
            "scheduler: FIFO, which stops no trial (each runs to max_epochs or until the "
            "trainer's own early stopping)"
        ]
    rungs = s.rung_epochs()
    text = f"{'gated ASHA' if s.scheduler == 'gated_asha' else 'ASHA'}, grace {s.grace_period}, "
    text += f"reduction {s.reduction_factor:g} "
    text += (
        f"(rungs at epoch{'s' if len(rungs) > 1 else ''} {', '.join(map(str, rungs))})"
        if rungs
        else "(no rung before the last epoch: it stops no trial)"
    )
    text += f", {s.brackets} brackets" if s.brackets > 1 else ""
    text += f", cut-off from each rung's last {s.cutoff_window} values" if s.cutoff_window else ""
    if s.scheduler != "gated_asha":
        return [f"scheduler: {text}"]
    gate = "a rung stops trials only while " + (
        "it ranks them as the next rung does"
        if s.gate_against == "next"
        else "each measured step from it to the last epoch keeps their order"
    )
    gate += ", weighing what its cut costs" if s.gate_cut_cost else ""
    gate += f"; stops at unmeasured rungs {'wait' if s.gate_unmeasured == 'defer' else 'stand'}"
    return [f"scheduler: {text}", f"  gate: {gate}"]


def describe_space(space: SearchSpace) -> str:
    """A plain-text description: settings, fixed values, parameters, start points."""
    s = space.settings
    lines = [
        f"{space.name}: {space.description}",
        f"file: {space.path}",
        f"settings: {counted(s.num_samples, 'trial')}, up to {counted(s.max_epochs, 'epoch')}",
        f"  searcher: {_searcher(s)}",
        *[f"  {line}" for line in _scheduler(s)],
    ]
    if s.finalists:
        best = (
            "the best configuration"
            if s.finalists == 1
            else f"the best {s.finalists} configurations"
        )
        pick = (
            "" if s.finalists == 1 else "; the pick: the fewest failed seeds, then the lowest mean"
        )
        lines.append(
            f"  finalists: {best} trained again, {counted(s.replicates, 'seed')} each{pick}"
        )
    if space.requires_data:
        lines.append("  data: made for a real dataset (requires_data): give --data DATASET_DIR")
    lines += [
        "fixed:",
        *[f"  {k} = {v!r}" for k, v in space.fixed.items()],
        "parameters:",
        *[f"  {name}: {_range(name, space)}" for name in space.parameters],
    ]
    if space.start:
        lines += ["start points:", *[f"  {point}" for point in space.start]]
    return "\n".join(lines)


def _list() -> str:
    rows = []
    for name in available_spaces():
        space = load_space(name)
        rows.append(
            f"{name:<20} {len(space.parameters):>2} params  {space.settings.num_samples:>3} trials"
            f"  {space.description}"
        )
    return "\n".join(rows) if rows else "(no shipped spaces)"


def _exported(args: argparse.Namespace) -> SearchSpace:
    """The space ``export`` writes, once its name and ``--out`` were checked together (a
    directory or a file in the way of --out, or --out the space file itself, is refused
    before anything is written)."""
    problems = []
    if args.out is not None and (why := why_no_file(args.out)):
        problems.append(f"--out {args.out}: {why}")
    if args.data is not None and not Path(args.data).is_dir():
        problems.append(f"--data {args.data}: not a directory; give the dataset's directory")
    try:
        space = load_space(args.name, names=_NAMES)
    except ConfigError as err:
        raise ConfigError([*err.problems, *problems], err.context) from None
    if args.out is not None and args.out.resolve() == Path(space.path).resolve():
        also = "" if str(args.out) == space.path else f" ({space.path})"
        problems.append(
            f"--out {args.out}: the space file being exported{also}; give a file of its own "
            "for the sweep"
        )
    if problems:
        raise ConfigError(problems, "arguments")
    return space


_NAMES = Names(cli=True, given_as=(("space", "NAME"),))  # errors name the space NAME


def _parser() -> StrictParser:
    parser = StrictParser(
        prog="raysearch spaces",
        description=command_description("spaces"),
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=StrictParser)
    sub.add_parser("list", help="the shipped spaces")
    show = sub.add_parser("show", help="one space, validated")
    show.add_argument("name", metavar="NAME", help="space name or path to a space file")
    export = sub.add_parser("export", help="the space in another tool's format")
    export.add_argument("name", metavar="NAME", help="space name or path to a space file")
    export.add_argument("--format", required=True, choices=FORMATS, help="output format")
    export.add_argument("--out", type=Path, help="file to write (default: stdout)")
    export.add_argument("--project", help="W&B project to put in the sweep config")
    export.add_argument(
        "--data",
        metavar="DATASET_DIR",
        help="the dataset every sweep run trains on (needed by a space made for a real "
        "dataset, such as war_losses)",
    )
    export.add_argument(
        "--smoke",
        action="store_true",
        help="as `raysearch run --smoke` runs it: tiny model and data, a few short trials",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            print(_list())
        elif args.command == "show":
            print(describe_space(load_space(args.name, names=_NAMES)))
        else:
            text = sweep_yaml(
                _exported(args), project=args.project, smoke=args.smoke, data=args.data
            )
            if args.out is None:
                sys.stdout.write(text)
            else:
                atomic_write_text(args.out, text)
                print(f"wrote {args.out}")
    except RaysearchError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    run_as_program(main)
