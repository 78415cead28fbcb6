"""``raysearch data``: make, import and describe datasets.

raysearch data synth OUT_DIR [--preset small] [--days N --raions R --seed S] [--overwrite]
raysearch data import-war-losses SRC_DIR OUT_DIR [--phases PHASES_CSV] [--casualty]
raysearch data import-phases PHASES_CSV DATASET_DIR [--no-casualty]
raysearch data firms FIRMS_CSV OUT_DIR [--raions GEOMETRY] [--skip-malformed]
raysearch data describe DIR [--daily-window 365 --monthly-window 12 --horizon 7]
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from raysearch.cli import command_description
from raysearch.cli.args import (
    StrictParser,
    flag_named,
    int_at_least,
    non_negative_int,
    positive_int,
)
from raysearch.cli.entry_point import run_as_program
from raysearch.core.data_config import INT_LEAST, SYNTH_PRESETS, DataConfig, SynthConfig
from raysearch.core.errors import ConfigError, RaysearchError
from raysearch.core.files import staged_directory
from raysearch.core.spec import TASK_NAMES
from raysearch.data.manifest import MANIFEST_NAME
from raysearch.data.raw import RawDataset
from raysearch.data.writer import write_dataset

__all__ = ["main", "task_report", "windows_too_long"]


def _parser() -> argparse.ArgumentParser:
    p = StrictParser(
        prog="raysearch data",
        description=command_description("data"),
        epilog="examples:\n" + textwrap.indent(__doc__.split("\n\n", 1)[1], "  "),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True)
    # The commands that write a new dataset directory; the dataset is written beside it
    # and takes its place only once complete (``core.files.staged_directory``).
    overwrite = StrictParser(add_help=False)
    overwrite.add_argument(
        "--overwrite",
        action="store_true",
        help="replace the dataset OUT_DIR holds (without it, a non-empty OUT_DIR is refused)",
    )
    s = sub.add_parser("synth", parents=[overwrite], help="write the synthetic dataset to OUT_DIR")
    s.add_argument("out_dir", metavar="OUT_DIR", help="the dataset directory to write")
    s.add_argument(
        "--preset",
        choices=sorted(SYNTH_PRESETS),
        default="small",
        help="days and raions: "
        + ", ".join(f"{n} {v['days']}x{v['raions']}" for n, v in SYNTH_PRESETS.items())
        + " (default: %(default)s)",
    )
    s.add_argument("--days", type=positive_int, help="overrides the preset")
    s.add_argument("--raions", type=positive_int, help="overrides the preset")
    s.add_argument(
        "--seed", type=non_negative_int, default=0, help="the data's seed (default: %(default)s)"
    )
    s.add_argument(
        "--format",
        choices=("parquet", "csv"),
        default="parquet",
        help="the sources' file format (default: %(default)s)",
    )
    i = sub.add_parser(
        "import-war-losses",
        aliases=["import-losses"],  # the old name, kept for one release (until 0.3)
        parents=[overwrite],
        help="the war's daily losses JSON -> equipment, personnel sources",
    )
    i.add_argument(
        "src_dir", metavar="SRC_DIR", help="the directory of the two JSON files (data/README.md)"
    )
    i.add_argument("out_dir", metavar="OUT_DIR", help="the dataset directory to write")
    i.add_argument("--phases", help="war-phases CSV: adds monthly regime and transition targets")
    i.add_argument(
        "--casualty", action="store_true", help="add the monthly casualty count (personnel)"
    )
    ph = sub.add_parser(
        "import-phases", help="add regime, transition (and casualty) targets to a dataset"
    )
    ph.add_argument("phases", metavar="PHASES_CSV", help="the war-phases CSV")
    ph.add_argument(
        "dataset_dir",
        metavar="DATASET_DIR",
        help="an imported war-losses dataset, changed in place",
    )
    ph.add_argument(
        "--no-casualty",
        action="store_true",
        help="do not add the monthly casualty count from the personnel source",
    )
    f = sub.add_parser(
        "firms",
        parents=[overwrite],
        help="NASA FIRMS archive CSV -> firms daily (and raion) source",
    )
    f.add_argument("firms_csv", metavar="FIRMS_CSV", help="a FIRMS archive CSV of detections")
    f.add_argument("out_dir", metavar="OUT_DIR", help="the dataset directory to write")
    f.add_argument("--raions", help="raion geometry: CSV (raion, lat, lon) or GeoJSON polygons")
    f.add_argument("--skip-malformed", action="store_true", help="drop malformed rows, count them")
    f.add_argument("--start", help="first day (YYYY-MM-DD); default: the first fire's date")
    f.add_argument("--end", help="last day (YYYY-MM-DD); default: the last fire's date")
    d = sub.add_parser("describe", help="date ranges, observed fractions, target coverage")
    d.add_argument("dir", metavar="DIR", help="a dataset directory")
    for flag, field, text in (
        ("--daily-window", "daily_window", "daily input window in days"),
        ("--monthly-window", "monthly_window", "monthly input window in months"),
        ("--horizon", "forecast_horizon_days", "forecast horizon in days"),
    ):  # with DataConfig's bound, so a bad value is refused naming the flag
        d.add_argument(
            flag,
            type=int_at_least(INT_LEAST[field]),
            default=getattr(DataConfig, field),
            help=f"{text}, for the splits' sample counts (default: %(default)s)",
        )
    return p


def task_report(raw: RawDataset) -> list[str]:
    """One line per HAN task: months with a target, derived, or absent (never stood in for)."""
    lines = ["tasks:"]
    n_months = len(raw.months)
    for task in TASK_NAMES:
        if task in raw.targets:
            k = int((~np.isnan(raw.targets[task])).sum())
            lines.append(f"  {task:<15} target in {k}/{n_months} months ({k / n_months:.1%})")
        elif task in raw.derived_tasks:
            lines.append(f"  {task:<15} derived from the sources")
        elif task == "forecast":
            lines.append(f"  {task:<15} absent: no monthly source to forecast (not trained)")
        else:
            lines.append(f"  {task:<15} absent: no real target in this dataset (not trained)")
    return lines


_SHOWN = 6  # the features observed on fewer days that an import names, at most


def _imported(raw: RawDataset, out_dir: str) -> str:
    from raysearch.data.describe import source_summary  # Deferred: see _dataset

    lines = [f"wrote {out_dir}: {raw.n_days} days from {raw.start}"]
    for name, s in source_summary(raw).items():
        low = [f"{f} {v:.1%}" for f, v in s["observed"].items() if v < 1.0]
        shown = ", ".join(low[:_SHOWN]) + (
            f", ... ({len(low)} in all; raysearch data describe lists each)"
            if len(low) > _SHOWN
            else ""
        )
        observed = f"; observed on part of the days: {shown}" if low else ", each observed daily"
        lines.append(f"  {name}: {len(s['observed'])} features{observed}")
    return "\n".join(lines + task_report(raw))


def _dataset(args: argparse.Namespace) -> tuple[RawDataset, str, str]:
    """The dataset a writing command makes, every input read and checked before anything
    is written: (dataset, file format, the report to print once it is written)."""
    # Deferred (each command's imports, here, in _run and in _imported): --help and a bad
    # flag answer before them, and each command pays only for what it runs (torch only
    # when describing a dataset, inside raysearch.data.describe).
    if args.command == "synth":
        from raysearch.data.synth import generate

        base = SYNTH_PRESETS[args.preset]
        days = args.days if args.days is not None else base["days"]
        raions = args.raions if args.raions is not None else base["raions"]
        try:
            synth = SynthConfig(days=days, raions=raions, seed=args.seed)
        except ConfigError as err:  # named by the flags, as train names a bad value
            flags = {f"synth.{n}": f"--{n}" for n in ("days", "raions", "seed")}
            raise ConfigError(flag_named(err.problems, flags), err.context) from None
        made = f"{synth.days} days x {synth.raions} raions from {synth.start}, seed {synth.seed}"
        return generate(synth), args.format, f"wrote {Path(args.out_dir) / MANIFEST_NAME} ({made})"
    if args.command in ("import-war-losses", "import-losses"):
        from raysearch.data.adapters.war_losses import war_losses_dataset

        raw = war_losses_dataset(args.src_dir, args.phases, args.casualty)
        return raw, "parquet", _imported(raw, args.out_dir)
    assert args.command == "firms", args.command  # the parsers with an out_dir
    from raysearch.data.adapters.firms import drop_report, firms_raw

    raw, dropped = firms_raw(args.firms_csv, args.raions, args.start, args.end,
                             args.skip_malformed)  # fmt: skip
    return raw, "parquet", _imported(raw, args.out_dir) + "\n" + drop_report(dropped)


def _run(args: argparse.Namespace) -> str:
    """Run a command that reads a dataset (and may add targets to it)."""
    if args.command == "import-phases":
        from raysearch.data.adapters.war_phases import import_phases  # Deferred: see _dataset

        raw = import_phases(args.phases, args.dataset_dir, casualty=not args.no_casualty)
        return _imported(raw, args.dataset_dir)
    from raysearch.data.contract import load_dataset
    from raysearch.data.describe import describe, describe_sources

    cfg = DataConfig(
        path=args.dir,
        daily_window=args.daily_window,
        monthly_window=args.monthly_window,
        forecast_horizon_days=args.horizon,
    )
    raw = load_dataset(args.dir)
    try:
        return describe(raw, cfg)
    except ConfigError as err:
        if err.context != "data splits":
            raise
        # what needs no splits is printed all the same; the splits' own words name config
        # fields, where the user set (or left) flags
        print("\n".join(describe_sources(raw)), flush=True)
        named = (
            f"--daily-window {args.daily_window}, --monthly-window {args.monthly_window}, "
            f"--horizon {args.horizon}"
        )
        windows = {"--daily-window": args.daily_window, "--monthly-window": args.monthly_window}
        too_long = windows_too_long(named, windows, f"{args.dir}'s", raw.n_days, horizon=True)
        raise ConfigError([*([too_long] if too_long else []), *err.problems], err.context) from None


def windows_too_long(
    named: str, windows: Mapping[str, int], data: str, n_days: int, *, horizon: bool = False
) -> str | None:
    """The problem of windows that leave ``data``'s ``n_days`` days too few samples for the
    splits (``data``: the dataset as the command names it, possessive), where ``windows``
    (--daily-window and --monthly-window: their values) are longer than the tiny preset's,
    with the tiny preset's where the data has its days. Where they are no longer: with a
    ``horizon`` flag (describe's), a shorter horizon or windows; without one (train's),
    None: the windows are not what to shorten, and the splits' own problem says what else
    leaves too few samples. ``named``: the windows (and horizon) as the command names them,
    with their values."""
    tiny = {"--daily-window": 60, "--monthly-window": 3}  # the tiny preset's, which fit
    if not any(windows[flag] > tiny[flag] for flag in tiny):
        if not horizon:
            return None
        return (
            f"{named}: windows this long leave too few samples of {data} {n_days} days for "
            "training, validation and test; give a shorter horizon or windows, or a longer "
            "dataset"
        )
    days = SYNTH_PRESETS["tiny"]["days"]
    fits = " ".join(f"{flag} {n}" for flag, n in tiny.items())
    shorter = (
        f"give shorter ones (the tiny preset's {days} days: {fits})"
        if n_days >= days
        else "give shorter ones, or a longer dataset"
    )
    return (
        f"{named}: windows this long leave too few samples of {data} {n_days} days for "
        f"training, validation and test; {shorter}"
    )


def _check_out_dir(out: Path, overwrite: bool) -> None:
    """A dataset is written into a new or empty directory, or over a dataset with
    ``--overwrite``; anything else there is a ConfigError."""
    if not out.exists():
        return
    if not out.is_dir():
        raise ConfigError([f"out_dir {out}: is a file; give a directory for the dataset"])
    if not any(out.iterdir()):
        return
    if not (out / MANIFEST_NAME).is_file():
        raise ConfigError(
            [
                f"out_dir {out}: not empty, and it holds no dataset ({MANIFEST_NAME}); give a "
                "new or empty directory"
            ]
        )
    if not overwrite:
        raise ConfigError(
            [
                f"out_dir {out}: holds a dataset already; give --overwrite to replace it, or "
                "a new directory"
            ]
        )


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "import-losses":
        print("note: `raysearch data import-losses` is now `raysearch data import-war-losses`; "
              "the old name goes in raysearch 0.3", file=sys.stderr)  # fmt: skip
    try:
        if getattr(args, "out_dir", None) is None:
            print(_run(args))
        else:
            out = Path(args.out_dir)
            _check_out_dir(out, args.overwrite)
            raw, fmt, report = _dataset(args)
            with staged_directory(out) as staging:
                write_dataset(raw, staging, fmt)
            print(report)
    except RaysearchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    run_as_program(main)
