"""The HAN learning-curve table: real training of a discrete HAN space, every epoch recorded.

    python -m bench han_table          # the table (about 2 hours of one core), resumable
    python -m bench han_table --quick  # a tiny table in about a minute -> results/benchmarks/quick/
    python -m bench.han_table --rebuild # train again though a table for this grid exists
    python -m bench.han_table --rebuild --processes 2 # two runs at once, one core each

Every configuration of bench/spaces/han_table.yaml's grid (its categorical values; A3DRO's
budget and clip only under A3DRO) is trained with raysearch's own ``fit`` for the space's
``max_epochs`` with early stopping off, once per trainer seed, on one core (torch threads =
1), on the synthetic default (the small preset, data seed 0) with the space's fixed data
settings: ``raysearch curves``' recording (raysearch.search.simulation.record) with the CPU
as the device. Each epoch's anchored validation and test loss and its train + validation
time (CPU seconds) become one row of han_table.parquet:

    size, loss_strategy, dropout, budget_beta, regret_clip (NaN unless a3dro), seed, epoch
    (1..E), anchored_val_loss, anchored_test_loss, epoch_time_s, epoch_wall_s

A simulator looks a trial's curve up in it instead of training (``curve``). Finished runs
are appended to han_table.parquet.partial.jsonl as they end, so an interrupted build resumes where
it stopped; the parquet is written when every run is in, and the partial file removed.
The table is built once: while the grid, settings and generator are unchanged, ``python -m
bench han_table`` only reports the existing parquet.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import pandas as pd

from bench.common import OUT, ROOT, log
from raysearch.data.reading import read_parquet
from raysearch.search.simulation.curve_plan import CurvePlan
from raysearch.search.simulation.grid import grid
from raysearch.search.simulation.record import CURVE_COLUMNS, record

__all__ = [
    "COLUMNS",
    "GRID_COLUMNS",
    "SPACE",
    "curve",
    "plan_for",
    "run",
]

SPACE = ROOT / "bench" / "spaces" / "han_table.yaml"
NAME = "han_table"
GRID_COLUMNS = ("size", "loss_strategy", "dropout", "budget_beta", "regret_clip")
COLUMNS = (*GRID_COLUMNS, *CURVE_COLUMNS)
SEEDS = (0, 1)
# --quick: the tiny preset and model, a 2 x 2 grid, 4 epochs (rungs 1 and 3).
QUICK_CHOICES = {
    "size": ["tiny"],
    "loss_strategy": ["uniform", "a3dro"],
    "dropout": [0.0, 0.3],
    "budget_beta": [0.35],
    "regret_clip": [3.0],
}
QUICK_FIXED = {"data.synth.days": 420, "data.synth.raions": 6, "daily_window": 30}
QUICK_EPOCHS = 4


def plan_for(quick: bool, space_path: Path = SPACE) -> CurvePlan:
    """The table's grid, seeds and epochs, trained on the CPU (``raysearch curves``' plan)."""
    from raysearch.search.space import load_space

    space = load_space(str(space_path))
    params = dict(space.parameters)
    if quick:
        params = {n: p.model_copy(update={"choices": QUICK_CHOICES[n]}) for n, p in params.items()}
    return CurvePlan(
        params=tuple(params),
        configs=tuple(grid(params)),
        seeds=SEEDS,
        epochs=QUICK_EPOCHS if quick else space.settings.max_epochs,
        fixed={**space.fixed, **(QUICK_FIXED if quick else {})},
        device="cpu",
    )


def curve(table: pd.DataFrame, config: dict[str, Any], seed: int) -> pd.DataFrame:
    """One run's rows, by epoch: ``config`` names the grid's values (a3dro's too)."""
    mask = table["seed"] == seed
    for c in GRID_COLUMNS:
        value = config.get(c)
        mask &= table[c].isna() if value is None else table[c] == value
    return table[mask].sort_values("epoch").reset_index(drop=True)


def run(plan: CurvePlan, out: Path, processes: int = 1) -> pd.DataFrame:
    """Record every (configuration, seed) not yet recorded, ``processes`` at once (each on
    one core), then write the table."""
    return record(plan, out / f"{NAME}.parquet", processes=processes, log=log)


def existing(plan: CurvePlan, out: Path) -> pd.DataFrame | None:
    """The table already built for ``plan`` in ``out``; None if there is none. A table of
    another grid or generator exits with status 1: rebuilding costs hours, so it is asked
    for (--rebuild), never started by a plain ``python -m bench``."""
    path = out / f"{NAME}.parquet"
    if not path.is_file():
        return None
    table = read_parquet(path)
    if table.attrs.get("plan") != plan.fingerprint():
        log(f"error: {path} was built for another grid or generator (plan "
            f"{table.attrs.get('plan')}, now {plan.fingerprint()}); rebuild it with "
            "python -m bench.han_table --rebuild (about 2 hours of one core)")  # fmt: skip
        sys.exit(1)
    return table


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.han_table", description=__doc__)
    p.add_argument("--quick", action="store_true", help="a tiny table in about a minute")
    p.add_argument("--out", type=Path, default=OUT, help="output directory")
    p.add_argument("--rebuild", action="store_true", help="train again though a table exists")
    p.add_argument(
        "--processes", type=int, default=1,
        help="runs trained at once, one core each (default 1)",
    )  # fmt: skip
    args = p.parse_args(argv)
    if args.processes < 1:
        p.error(f"--processes {args.processes}: at least 1")
    from bench.han_table_report import write_report

    plan = plan_for(args.quick)
    table = None if args.quick or args.rebuild else existing(plan, args.out)
    if table is None:
        table = run(plan, args.out, args.processes)
    else:
        log(f"{NAME}: the table for this grid exists; reporting it (--rebuild trains again)")
    write_report(table, plan, args.out, args.quick)
    log(f"wrote {args.out / (NAME + '.md')}")


if __name__ == "__main__":
    main()
