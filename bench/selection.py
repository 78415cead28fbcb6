"""Does the configuration a search picks hold up on the test split? (issue 15's proof)

    python -m bench.selection run --space loss_ablation        (seeds 0 1000 2000 3000 4000)
    python -m bench.selection run --space war_losses --data DIR --seeds 0 1000 2000
    python -m bench.selection report --space loss_ablation --out results/examples/loss_ablation

``run`` (start it niced, ``nice -n 10 python -m bench.selection run ...``: its searches
inherit the niceness) searches the space once per seed and variant, one search at a time,
each with ``python -m raysearch.run`` (W&B off): ``origins`` is the space as shipped (its validation
origins and finalists); ``holdout`` is the same space with one validation split and no
finalists (a copy of the space file with ``val_origins: 1``). A finished run directory is
skipped, so an interrupted ``run`` continues; ``--max-concurrent 1`` runs one trial at a
time (a shared machine). ``report`` (``bench/selection_report.py``) writes README.md and
selection.json to ``--out`` and copies the runs' small files there.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml

from bench.common import ROOT, log

VARIANTS = ("origins", "holdout")


def _space_file(space: str, variant: str, root: Path) -> str:
    """The space as shipped, or its holdout copy (one validation split, no finalists)."""
    from raysearch.search.space import SPACES_DIR

    if variant == "origins":
        return space
    raw = yaml.safe_load((SPACES_DIR / f"{space}.yaml").read_text())
    raw["fixed"] = {**raw.get("fixed", {}), "val_origins": 1}
    raw["settings"] = {**raw["settings"], "finalists": 0}
    path = root / f"{space}_holdout.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(raw, sort_keys=False))
    return str(path)


def run(args: argparse.Namespace) -> int:
    root = Path(args.results)
    root.mkdir(parents=True, exist_ok=True)
    for variant in args.variants:
        space = _space_file(args.space, variant, root)
        for seed in args.seeds:
            name = f"{variant}-seed{seed}"
            space_dir = Path(space).stem if space.endswith(".yaml") else space
            run_dir = root / space_dir / name
            if (run_dir / "summary.json").is_file():
                log(f"selection: {run_dir} done, skipped")
                continue
            command = [
                sys.executable,
                "-m",
                "raysearch.run",
                "--space",
                space,
                "--seed",
                str(seed),
                "--name",
                name,
                "--results",
                str(root),
                "--no-wandb",
            ]
            command += ["--data", args.data] if args.data else []
            if args.max_concurrent:
                command += ["--max-concurrent", str(args.max_concurrent)]
            resume = run_dir / "options.json"
            if resume.is_file():  # started before: continue it
                command = [sys.executable, "-m", "raysearch.run", "--resume", str(run_dir)]
            log(f"selection: {' '.join(command)}")
            started, load = time.time(), os.getloadavg()[0]
            log_file = root / f"{space_dir}-{name}.log"
            with log_file.open("ab") as out:
                proc = subprocess.run(
                    command,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    check=False,
                )
            wall = time.time() - started
            stamp = {"wall_s": wall, "load_at_start": load, "load_at_end": os.getloadavg()[0],
                     "returncode": proc.returncode}  # fmt: skip
            run_dir.mkdir(parents=True, exist_ok=True)
            (run_dir / "wall.json").write_text(json.dumps(stamp))
            log(f"selection: {name} exit {proc.returncode} in {wall / 60:.1f} min")
            if proc.returncode:
                return proc.returncode
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m bench.selection",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("command", choices=["run", "report"])
    p.add_argument("--space", default="loss_ablation")
    # Far apart: a trial trains with seed = run seed + trial number, so runs with seeds 0
    # and 1 would train the same configuration with the same seed (identical trials).
    p.add_argument("--seeds", type=int, nargs="+", default=[0, 1000, 2000, 3000, 4000])
    p.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    p.add_argument("--data", help="dataset directory (default: the synthetic default)")
    p.add_argument("--results", default=str(ROOT / "results" / "selection"))
    p.add_argument("--max-concurrent", type=int, help="run: trials at once (default: all fit)")
    p.add_argument("--out", default=None, help="report directory (default: results/examples/SPACE)")
    p.add_argument(
        "--example-seed",
        type=int,
        help="report: the seed of the example run "
        "copied whole with its comparison report (default: the first)",
    )
    p.add_argument("--prepare", help="report: the command that built DATASET_DIR, shown first")
    p.add_argument(
        "--checkout",
        help="report: the checkout the searches ran from, if not this one (its paths in the "
        "copied files become '.', as this one's do)",
    )
    args = p.parse_args(argv)
    args.out = args.out or str(Path("results") / "examples" / args.space)
    args.example_seed = args.seeds[0] if args.example_seed is None else args.example_seed
    if args.command == "run":
        return run(args)
    from bench.selection_report import report

    return report(args)


if __name__ == "__main__":
    raise SystemExit(main())
