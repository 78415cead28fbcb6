"""The HAN learning-curve table: real training of a discrete HAN space, every epoch recorded.

    python -m bench han_table          # the table (about 2 hours of one core), resumable
    python -m bench han_table --quick  # a tiny table in about a minute -> results/benchmarks/quick/
    python -m bench.han_table --rebuild # train again though a table for this grid exists

Every configuration of bench/spaces/han_table.yaml's grid (its categorical values; A3DRO's
budget and clip only under A3DRO) is trained with raysearch's own ``fit`` for the space's
``max_epochs`` with early stopping off, once per trainer seed, on one core (torch threads =
1), on the synthetic default (the small preset, data seed 0) with the space's fixed data
settings. Each epoch's anchored validation and test loss and its train + validation time
(CPU seconds, ``bench.epoch_curves``) become one row of han_table.parquet:

    size, loss_strategy, dropout, budget_beta, regret_clip (NaN unless a3dro), seed, epoch
    (1..E), anchored_val_loss, anchored_test_loss, epoch_time_s, epoch_wall_s

A simulator looks a trial's curve up in it instead of training (``curve``). Finished runs
are appended to han_table.partial.jsonl as they end, so an interrupted build resumes where
it stopped; the parquet is written when every run is in, and the partial file removed.
The table is built once: while the grid, settings and generator are unchanged, ``python -m
bench han_table`` only reports the existing parquet.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import pandas as pd

from bench.common import OUT, ROOT, log

__all__ = [
    "COLUMNS",
    "GRID_COLUMNS",
    "SPACE",
    "TablePlan",
    "curve",
    "grid",
    "plan_for",
    "rows_of",
    "run",
]

SPACE = ROOT / "bench" / "spaces" / "han_table.yaml"
NAME = "han_table"
GRID_COLUMNS = ("size", "loss_strategy", "dropout", "budget_beta", "regret_clip")
COLUMNS = (
    *GRID_COLUMNS, "seed", "epoch", "anchored_val_loss", "anchored_test_loss", "epoch_time_s",
    "epoch_wall_s",
)  # fmt: skip
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


class TablePlan:
    """What the table trains: the grid, the seeds, the epochs and the fixed settings."""

    def __init__(
        self, configs: list[dict[str, Any]], seeds: tuple[int, ...], epochs: int, fixed: dict
    ) -> None:
        self.configs, self.seeds, self.epochs, self.fixed = configs, seeds, epochs, fixed

    def runs(self) -> list[tuple[dict[str, Any], int]]:
        return [(c, s) for c in self.configs for s in self.seeds]

    def fingerprint(self) -> str:
        from raysearch.data.synth import GENERATOR_VERSION

        body = [self.configs, list(self.seeds), self.epochs, self.fixed, GENERATOR_VERSION]
        return hashlib.blake2b(json.dumps(body, sort_keys=True).encode(), digest_size=8).hexdigest()


def grid(parameters: dict[str, Any]) -> list[dict[str, Any]]:
    """Every combination of categorical ``parameters`` (name -> ParamSpec), a parameter
    taking part only where its ``when`` holds; in the file's order."""
    not_grid = [n for n, p in parameters.items() if p.type != "categorical"]
    if not_grid:
        raise ValueError(f"a table grid takes categorical parameters only, got {not_grid}")
    configs: list[dict[str, Any]] = [{}]
    for name, p in parameters.items():
        grown = []
        for config in configs:
            if p.allowed_by(config):
                grown += [{**config, name: value} for value in p.choices]
            else:
                grown.append(config)
        configs = grown
    return configs


def plan_for(quick: bool, space_path: Path = SPACE) -> TablePlan:
    from raysearch.search.space import load_space

    space = load_space(str(space_path))
    params = dict(space.parameters)
    if quick:
        params = {n: p.model_copy(update={"choices": QUICK_CHOICES[n]}) for n, p in params.items()}
    epochs = QUICK_EPOCHS if quick else space.settings.max_epochs
    fixed = {**space.fixed, **(QUICK_FIXED if quick else {})}
    return TablePlan(grid(params), SEEDS, epochs, fixed)


def rows_of(config: dict[str, Any], seed: int, epochs: list[dict[str, float]]) -> list[dict]:
    """The table's rows of one run: the grid's values (NaN where inactive) per epoch."""
    fixed = {c: config.get(c, math.nan) for c in GRID_COLUMNS}
    for c in ("dropout", "budget_beta", "regret_clip"):
        fixed[c] = float(fixed[c])
    return [{**fixed, "seed": seed, **e} for e in epochs]


def curve(table: pd.DataFrame, config: dict[str, Any], seed: int) -> pd.DataFrame:
    """One run's rows, by epoch: ``config`` names the grid's values (a3dro's too)."""
    mask = table["seed"] == seed
    for c in GRID_COLUMNS:
        value = config.get(c)
        mask &= table[c].isna() if value is None else table[c] == value
    return table[mask].sort_values("epoch").reset_index(drop=True)


def _train(plan: TablePlan, config: dict[str, Any], seed: int, data: Any) -> list[dict]:
    from bench.epoch_curves import fit_with_test_curve
    from raysearch.core.params import build_trial_config

    values = {**plan.fixed, **config, "trainer.seed": seed, "trainer.device": "cpu"}
    values |= {"trainer.max_epochs": plan.epochs, "trainer.patience": plan.epochs}
    epochs, _ = fit_with_test_curve(build_trial_config(values), data)
    return epochs


def _load_partial(path: Path, fingerprint: str) -> dict[str, list[dict]]:
    if not path.is_file():
        path.write_text(json.dumps({"plan": fingerprint}) + "\n")
        return {}
    text = path.read_text()
    if not text.endswith("\n"):  # a line a crash cut short: drop it before appending again
        text = text[: text.rfind("\n") + 1]
        path.write_text(text)
    lines = text.splitlines()
    head = json.loads(lines[0])
    if head.get("plan") != fingerprint:
        log(f"error: {path} was built for another grid/settings (plan {head.get('plan')}, now "
            f"{fingerprint}); delete it to start over")  # fmt: skip
        sys.exit(2)
    done = {}
    for line in lines[1:]:
        entry = json.loads(line)
        done[entry["key"]] = entry["rows"]
    return done


def _key(config: dict[str, Any], seed: int) -> str:
    return json.dumps([config, seed], sort_keys=True)


def run(plan: TablePlan, out: Path) -> pd.DataFrame:
    """Train every (configuration, seed) not yet in the partial file, then the table."""
    import torch

    from raysearch.core.params import build_trial_config
    from raysearch.data.prepared import build
    from raysearch.data.synth import generate

    torch.set_num_threads(1)
    out.mkdir(parents=True, exist_ok=True)
    partial = out / f"{NAME}.partial.jsonl"
    done = _load_partial(partial, plan.fingerprint())
    runs = plan.runs()
    todo = [(c, s) for c, s in runs if _key(c, s) not in done]
    log(f"{NAME}: {len(runs)} runs ({len(plan.configs)} configurations x {len(plan.seeds)} "
        f"seeds, {plan.epochs} epochs); {len(runs) - len(todo)} already done")  # fmt: skip
    if todo:
        cfg = build_trial_config(dict(plan.fixed))
        data = build(cfg.data, generate(cfg.data.synth))
    spent: dict[str, list[float]] = {}
    for i, (config, seed) in enumerate(todo, 1):
        started = time.perf_counter()
        rows = rows_of(config, seed, _train(plan, config, seed, data))
        with partial.open("a") as fh:
            fh.write(json.dumps({"key": _key(config, seed), "rows": rows}) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        spent.setdefault(config["size"], []).append(time.perf_counter() - started)
        left = todo[i:]
        mean_all = sum(map(sum, spent.values())) / sum(map(len, spent.values()))
        eta = sum(
            sum(spent[c["size"]]) / len(spent[c["size"]]) if c["size"] in spent else mean_all
            for c, _ in left
        )
        cpu = sum(r["epoch_time_s"] for r in rows)
        log(f"[{len(runs) - len(left)}/{len(runs)}] {config} seed {seed}: val "
            f"{rows[-1]['anchored_val_loss']:+.3f} test {rows[-1]['anchored_test_loss']:+.3f} "
            f"at epoch {plan.epochs}; {cpu:.0f} s CPU, {time.perf_counter() - started:.0f} s "
            f"wall; ETA {eta / 60:.0f} min")  # fmt: skip
    done = _load_partial(partial, plan.fingerprint())
    rows = [r for c, s in runs for r in done[_key(c, s)]]
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    table["seed"] = table["seed"].astype("int64")
    table["epoch"] = table["epoch"].astype("int64")
    table.attrs = {"plan": plan.fingerprint()}  # kept in the parquet's metadata
    target = out / f"{NAME}.parquet"
    tmp = target.with_name(f".{target.name}.tmp")
    table.to_parquet(tmp, index=False)
    os.replace(tmp, target)
    partial.unlink()
    return table


def existing(plan: TablePlan, out: Path) -> pd.DataFrame | None:
    """The table already built for ``plan`` in ``out``; None if there is none. A table of
    another grid or generator exits with status 1: rebuilding costs hours, so it is asked
    for (--rebuild), never started by a plain ``python -m bench``."""
    path = out / f"{NAME}.parquet"
    if not path.is_file():
        return None
    table = pd.read_parquet(path)
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
    args = p.parse_args(argv)
    from bench.han_table_report import write_report

    plan = plan_for(args.quick)
    table = None if args.quick or args.rebuild else existing(plan, args.out)
    if table is None:
        table = run(plan, args.out)
    else:
        log(f"{NAME}: the table for this grid exists; reporting it (--rebuild trains again)")
    write_report(table, plan, args.out, args.quick)
    log(f"wrote {args.out / (NAME + '.md')}")


if __name__ == "__main__":
    main()
