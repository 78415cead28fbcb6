"""Data commands.

python -m raysearch.data synth OUT_DIR [--preset small] [--days N --raions R --seed S]
python -m raysearch.data import-losses SRC_DIR OUT_DIR
python -m raysearch.data describe DIR [--daily-window 365 --monthly-window 12 --horizon 7]
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from raysearch.data.config import SYNTH_PRESETS, DataConfig, SynthConfig
from raysearch.errors import RaysearchError

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m raysearch.data", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    sub = p.add_subparsers(dest="command", required=True)
    s = sub.add_parser("synth", help="write the synthetic dataset to OUT_DIR")
    s.add_argument("out_dir")
    s.add_argument("--preset", choices=sorted(SYNTH_PRESETS), default="small")
    s.add_argument("--days", type=int, help="overrides the preset")
    s.add_argument("--raions", type=int, help="overrides the preset")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    i = sub.add_parser("import-losses", help="daily losses JSON -> equipment, personnel sources")
    i.add_argument("src_dir")
    i.add_argument("out_dir")
    i.add_argument("--phases", help="war-phases CSV: adds monthly regime and transition targets")
    d = sub.add_parser("describe", help="date ranges, observed fractions, target coverage")
    d.add_argument("dir")
    d.add_argument("--daily-window", type=int, default=DataConfig.daily_window)
    d.add_argument("--monthly-window", type=int, default=DataConfig.monthly_window)
    d.add_argument("--horizon", type=int, default=DataConfig.forecast_horizon_days)
    return p


def _run(args: argparse.Namespace) -> str:
    from raysearch.data.contract import load_dataset
    from raysearch.data.describe import describe, source_summary
    from raysearch.data.losses_adapter import import_losses
    from raysearch.data.synth import generate
    from raysearch.data.writer import write_dataset

    if args.command == "synth":
        base = SYNTH_PRESETS[args.preset]
        cfg = SynthConfig(days=args.days or base["days"], raions=args.raions or base["raions"],
                          seed=args.seed)  # fmt: skip
        path = write_dataset(generate(cfg), args.out_dir, args.format)
        return f"wrote {path} ({cfg})"
    if args.command == "import-losses":
        raw = import_losses(args.src_dir, args.out_dir, args.phases)
        lines = [f"wrote {args.out_dir}: {raw.n_days} days from {raw.start}"]
        for name, s in source_summary(raw).items():
            low = {f: round(v, 3) for f, v in s["observed"].items() if v < 1.0}
            lines.append(f"  {name}: {len(s['observed'])} features; observed < 100%: {low}")
        return "\n".join(lines)
    cfg = DataConfig(
        path=args.dir,
        daily_window=args.daily_window,
        monthly_window=args.monthly_window,
        forecast_horizon_days=args.horizon,
    )
    return describe(load_dataset(args.dir), cfg)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        print(_run(args))
    except RaysearchError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
