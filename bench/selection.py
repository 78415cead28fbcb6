"""Does the configuration a search picks hold up on the test split? (issue 15's proof)

    python -m bench.selection run --space loss_ablation        (seeds 0 1000 2000 3000 4000)
    python -m bench.selection run --space war_losses --data DIR --seeds 0 1000 2000
    python -m bench.selection report --space loss_ablation --out results/examples/loss_ablation

``run`` (start it niced, ``nice -n 10 python -m bench.selection run ...``: its searches
inherit the niceness) searches the space once per seed and variant, one search at a time, each with
``python -m raysearch.run`` (W&B off): ``origins`` is the space as shipped (its validation
origins and finalists); ``holdout`` is the same space with one validation split and no
finalists (a copy of the space file with ``val_origins: 1``). A finished run directory is
skipped, so an interrupted ``run`` continues. ``report`` writes README.md and
selection.json to ``--out`` with, per seed, the pick's validation and test values and
whether they hold, per variant the val-to-test rank correlation over the completed trials
of all its searches, and per loss strategy the values, replicates and spread; it copies
each run's small files (summary.md, trials/epochs/finalists parquet, metadata.json).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from bench.common import ROOT, log

VARIANTS = ("origins", "holdout")
COPIED = ("summary.md", "trials.parquet", "epochs.parquet", "finalists.parquet", "metadata.json")
TEST = "test/anchored_test_loss"
VAL = "best_anchored_val_loss"


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
            stamp = {"wall_s": wall, "load_at_start": load, "returncode": proc.returncode}
            run_dir.mkdir(parents=True, exist_ok=True)
            (run_dir / "wall.json").write_text(json.dumps(stamp))
            log(f"selection: {name} exit {proc.returncode} in {wall / 60:.1f} min")
            if proc.returncode:
                return proc.returncode
    return 0


def _load(root: Path, space: str, variant: str, seed: int) -> dict[str, Any] | None:
    space_dir = space if variant == "origins" else f"{space}_holdout"
    run_dir = root / space_dir / f"{variant}-seed{seed}"
    if not (run_dir / "summary.json").is_file():
        return None
    finalists = run_dir / "finalists.parquet"
    wall = run_dir / "wall.json"
    return {
        "dir": run_dir,
        "summary": json.loads((run_dir / "summary.json").read_text()),
        "trials": pd.read_parquet(run_dir / "trials.parquet"),
        "finalists": pd.read_parquet(finalists) if finalists.is_file() else None,
        "wall": json.loads(wall.read_text()) if wall.is_file() else _timing(run_dir),
    }


def _timing(run_dir: Path) -> dict[str, float]:
    """The driver's own phase clock, when the runner did not time the search."""
    timing = json.loads((run_dir / "timing.json").read_text())
    return {"wall_s": sum(v for k, v in timing.items() if k.endswith("_s"))}


def _strategy(config: dict[str, Any]) -> str:
    return str(config.get("loss_strategy", config.get("loss.strategy", "?")))


def _seed_row(seed: int, found: dict[str, Any]) -> dict[str, Any]:
    """The pick of one search and whether it holds on test."""
    summary = found["summary"]
    best = summary["best"] or {}
    row: dict[str, Any] = {
        "seed": seed,
        "search_best": _strategy(best.get("config", {})),
        "search_best_val": best.get(VAL, math.nan),
        "search_best_test": best.get("test", {}).get("anchored_test_loss", math.nan),
        "wall_min": found["wall"].get("wall_s", math.nan) / 60,
        "warnings": len(summary["evidence"]["warnings"]),
    }
    pick = summary.get("pick")
    if pick:
        sd = summary["evidence"]["noise"]["finalists"]["sd"]
        gap = pick["test"]["anchored_test_loss"] - pick[VAL]
        row.update(
            pick=_strategy(pick["config"]),
            pick_val=pick[VAL],
            pick_sd=pick["sd"],
            noise_sd=sd,
            pick_test=pick["test"]["anchored_test_loss"],
            gap_in_sd=gap / sd if sd else math.nan,
        )
    else:  # no finalists: the search's best trial is the pick
        row.update(
            pick=row["search_best"],
            pick_val=row["search_best_val"],
            pick_test=row["search_best_test"],
        )
    row["beats_references"] = bool(row["pick_test"] < 0)
    row["within_spread"] = bool(abs(row.get("gap_in_sd", math.inf)) <= 2)
    row["rung1_rho"] = (summary["evidence"]["rungs"] or [{}])[0].get("spearman", math.nan)
    return row


def _val_test(trials: pd.DataFrame, seed: int) -> tuple[float, float, float]:
    """Spearman over completed trials, and a bootstrap 10-90% interval over trials."""
    from raysearch.results.evidence import spearman

    done = trials[(trials["status"] == "completed") & trials[TEST].notna()]
    rho = spearman(done[VAL], done[TEST])
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(2000):
        pick = rng.integers(0, len(done), len(done))
        draws.append(spearman(done[VAL].to_numpy()[pick], done[TEST].to_numpy()[pick]))
    arr = np.array(draws, dtype=float)
    return rho, float(np.nanquantile(arr, 0.1)), float(np.nanquantile(arr, 0.9))


def _strategies(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per loss strategy over every search of a variant: completed trials' values and the
    finalists' replicates."""
    trials = pd.concat([r["trials"] for r in runs], ignore_index=True)
    trials["strategy"] = trials["config/loss_strategy"]
    finalists = [r["finalists"] for r in runs if r["finalists"] is not None]
    reps = pd.concat(finalists, ignore_index=True) if finalists else pd.DataFrame()
    picks = [
        _strategy((r["summary"].get("pick") or r["summary"]["best"] or {}).get("config", {}))
        for r in runs
    ]
    rows = []
    for name, group in trials.groupby("strategy"):
        done = group[group["status"] == "completed"]
        row = {
            "strategy": name,
            "trials": len(group),
            "completed": len(done),
            "val_mean": done[VAL].mean(),
            "val_sd": done[VAL].std(ddof=1),
            "test_mean": done[TEST].mean(),
            "test_sd": done[TEST].std(ddof=1),
            "picked": picks.count(str(name)),
        }
        if len(reps):
            mine = reps[(reps["config/loss_strategy"] == name) & (reps["status"] == "completed")]
            row.update(
                replicates=len(mine),
                rep_val_mean=mine[VAL].mean(),
                rep_val_sd=mine[VAL].std(ddof=1),
            )
        rows.append(row)
    return rows


def _copy(source: Path, target: Path, root: Path, data: str | None) -> None:
    """Copy a run's file; in text files, machine paths become placeholders."""
    if source.suffix not in (".md", ".json"):
        shutil.copy2(source, target)
        return
    target.write_text(_clean(source.read_text(), root, data))


def _clean(text: str, root: Path, data: str | None) -> str:
    """``text`` with the dataset, results and repository paths as placeholders."""
    for path, name in ((data, "DATASET_DIR"), (str(root.resolve()), "RESULTS"),
                       (str(root), "RESULTS"), (str(ROOT), ".")):  # fmt: skip
        if path:
            text = text.replace(path, name)
    return text


def _fmt(value: Any, digits: int = 3) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "n/a" if not math.isfinite(value) else f"{value:.{digits}f}"
    return str(value)


def _table(rows: list[dict[str, Any]], columns: dict[str, str]) -> list[str]:
    lines = ["| " + " | ".join(columns.values()) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_fmt(r.get(k, "")) for k in columns) + " |" for r in rows]
    return lines


PICK_COLUMNS = {
    "seed": "seed", "pick": "pick", "pick_val": "val (mean)", "pick_sd": "sd",
    "pick_test": "test", "beats_references": "test < 0", "noise_sd": "noise sd",
    "gap_in_sd": "(test-val)/sd", "within_spread": "within 2 sd", "search_best": "search best",
    "search_best_val": "its val", "search_best_test": "its test", "rung1_rho": "rung-1 rho",
    "warnings": "warnings", "wall_min": "wall min",
}  # fmt: skip
STRATEGY_COLUMNS = {
    "strategy": "strategy", "trials": "trials", "completed": "completed",
    "val_mean": "val mean", "val_sd": "val sd", "test_mean": "test mean", "test_sd": "test sd",
    "replicates": "finalist replicates", "rep_val_mean": "their val mean",
    "rep_val_sd": "their val sd", "picked": "picked",
}  # fmt: skip


def report(args: argparse.Namespace) -> int:
    root, out = Path(args.results), Path(args.out)
    data: dict[str, Any] = {"space": args.space, "seeds": args.seeds, "variants": {}}
    lines = [f"# `{args.space}`: does the pick hold on held-out time?", ""]
    for variant in args.variants:
        runs = [(s, _load(root, args.space, variant, s)) for s in args.seeds]
        found = [(s, r) for s, r in runs if r is not None]
        if not found:
            continue
        rows = [_seed_row(s, r) for s, r in found]
        trials = pd.concat([r["trials"] for _, r in found], ignore_index=True)
        rho, q10, q90 = _val_test(trials, 0)
        meta = json.loads((found[0][1]["dir"] / "metadata.json").read_text())
        data["variants"][variant] = {
            "picks": rows,
            "val_test": {"completed": int(((trials["status"] == "completed")
                                           & trials[TEST].notna()).sum()),
                         "spearman": rho, "q10": q10, "q90": q90},
            "strategies": _strategies([r for _, r in found]),
            "command": _clean(meta["command"], root, args.data),
            "settings": meta["settings"],
            "fixed": meta["fixed"],
        }  # fmt: skip
        for s, r in found:
            target = out / f"{variant}-seed{s}"
            target.mkdir(parents=True, exist_ok=True)
            for name in COPIED:
                if (r["dir"] / name).is_file():
                    _copy(r["dir"] / name, target / name, root, args.data)
    lines += _render(data, args)
    out.mkdir(parents=True, exist_ok=True)
    (out / "selection.json").write_text(json.dumps(data, indent=1, default=str) + "\n")
    (out / "README.md").write_text("\n".join(lines) + "\n")
    log(f"selection: wrote {out / 'README.md'}")
    return 0


def _render(data: dict[str, Any], args: argparse.Namespace) -> list[str]:
    lines = ["Commands (from the repository root; one search at a time, niced):", "", "```"]
    lines.append(
        f"python -m bench.selection run --space {args.space} --seeds "
        + " ".join(map(str, args.seeds))
        + (" --data DATASET_DIR" if args.data else "")
    )
    lines.append(f"python -m bench.selection report --space {args.space} --out {args.out}")
    lines += ["```", ""]
    for variant, found in data["variants"].items():
        s = found["settings"]
        lines += [
            f"## Variant `{variant}`",
            "",
            f"One search: `{found['command']}`.",
            "",
            f"Settings: {s['num_samples']} trials, {s['max_epochs']} epochs, ASHA grace "
            f"{s['grace_period']} / factor {s['reduction_factor']}, finalists "
            f"{s.get('finalists', 0)} x {s.get('replicates', 0)} replicates; fixed: "
            + ", ".join(f"{k}={v}" for k, v in found["fixed"].items())
            + ".",
            "",
        ]
        lines += _table(found["picks"], PICK_COLUMNS)
        vt = found["val_test"]
        lines += [
            "",
            f"Val-to-test agreement over the {vt['completed']} completed trials of "
            f"these searches: Spearman {_fmt(vt['spearman'], 2)} (bootstrap 10-90%: "
            f"{_fmt(vt['q10'], 2)} to {_fmt(vt['q90'], 2)}).",
            "",
            "Per loss strategy (completed trials of every search; finalist replicates):",
            "",
        ]
        lines += _table(found["strategies"], STRATEGY_COLUMNS)
        lines.append("")
    lines += _targets(data)
    notes = Path(args.out) / "notes.md"
    if notes.is_file():
        lines += ["", notes.read_text().strip()]
    return lines


def _targets(data: dict[str, Any]) -> list[str]:
    found = data["variants"]
    if "origins" not in found:
        return []
    picks = found["origins"]["picks"]
    beat = sum(p["beats_references"] for p in picks)
    within = sum(p["within_spread"] for p in picks)
    lines = ["## Targets (issue 15, done when)", "",
             f"- the pick beats the references on test (anchored_test_loss < 0) in >= 4 of 5 "
             f"searches: {beat} of {len(picks)}: **{'met' if beat >= 4 else 'missed'}**",
             f"- its test figure lies within the finalists' seed spread of its validation "
             f"figure (|test - val| <= 2 pooled sd): {within} of {len(picks)}"]  # fmt: skip
    if "holdout" in found:
        a, b = found["origins"]["val_test"]["spearman"], found["holdout"]["val_test"]["spearman"]
        met = math.isfinite(a) and math.isfinite(b) and a > b
        lines.append(
            f"- val-to-test rank correlation over completed trials, rolling origins "
            f"{_fmt(a, 2)} against one split {_fmt(b, 2)}: **{'met' if met else 'missed'}**"
        )
    return lines


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
    p.add_argument("--out", default=None, help="report directory (default: results/examples/SPACE)")
    args = p.parse_args(argv)
    args.out = args.out or str(Path("results") / "examples" / args.space)
    return run(args) if args.command == "run" else report(args)


if __name__ == "__main__":
    raise SystemExit(main())
