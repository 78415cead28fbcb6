"""The proof's report (``python -m bench.selection report``): README.md and selection.json.

Per search seed and variant, the pick's validation and test values and whether they hold;
per variant the val-to-test rank correlation over the completed trials of all its searches
(with a bootstrap interval over trials); per loss strategy the completed trials' values and
the finalists' replicates. The example run (the ``origins`` search of ``--example-seed``)
is copied whole (no Tune directory) with its comparison report (``raysearch compare``);
every other search's small files go to ``seeds/<variant>-seed<N>/``. Machine paths in the
copied text files become placeholders. A hand-written ``notes.md`` in the output directory
(the verdict in words) is appended to the README.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from bench.common import ROOT, log
from raysearch.data.reading import read_parquet

TEST = "test/anchored_test_loss"
VAL = "best_anchored_val_loss"
EXAMPLE_FILES = (
    "summary.md", "summary.json", "trials.parquet", "epochs.parquet", "finalists.parquet",
    "best_config.yaml", "metadata.json",
)  # fmt: skip
SEED_FILES = ("summary.md", "summary.json", "trials.parquet", "finalists.parquet", "metadata.json")
TARGET_SEARCHES = 5  # issue 15 judges its targets over 5 search seeds
SPREAD_Z = 2.0  # "within the seed spread": |test - val| <= SPREAD_Z pooled replicate sds


def run_dir(root: Path, space: str, variant: str, seed: int) -> Path:
    space_dir = space if variant == "origins" else f"{space}_holdout"
    return root / space_dir / f"{variant}-seed{seed}"


def _load(root: Path, space: str, variant: str, seed: int) -> dict[str, Any] | None:
    found = run_dir(root, space, variant, seed)
    if not (found / "summary.json").is_file():
        return None
    finalists = found / "finalists.parquet"
    wall = found / "wall.json"
    return {
        "dir": found,
        "summary": json.loads((found / "summary.json").read_text()),
        "trials": read_parquet(found / "trials.parquet"),
        "finalists": read_parquet(finalists) if finalists.is_file() else None,
        "wall": json.loads(wall.read_text()) if wall.is_file() else {},
    }


def _strategy(config: dict[str, Any]) -> str:
    return str(config.get("loss_strategy", config.get("loss.strategy", "?")))


def _number(value: float | None) -> float:
    """A number from a run's summary.json, where a missing one is null."""
    return math.nan if value is None else float(value)


def _seed_row(seed: int, found: dict[str, Any]) -> dict[str, Any]:
    """The pick of one search and whether it holds on test."""
    summary = found["summary"]
    best = summary["best"] or {}
    row: dict[str, Any] = {
        "seed": seed,
        "search_best": _strategy(best.get("config", {})),
        "search_best_val": _number(best.get(VAL)),
        "search_best_test": _number(best.get("test", {}).get("anchored_test_loss")),
        "wall_min": found["wall"].get("wall_s", math.nan) / 60,
        "load": found["wall"].get("load_at_start", math.nan),
        "warnings": len(summary["evidence"]["warnings"]),
    }
    pick = summary.get("pick")
    if pick:
        sd = _number(summary["evidence"]["noise"]["finalists"]["sd"])
        test = _number(pick["test"]["anchored_test_loss"])
        gap = test - _number(pick[VAL])
        row.update(
            pick=_strategy(pick["config"]),
            pick_val=_number(pick[VAL]),
            pick_sd=_number(pick["sd"]),
            noise_sd=sd,
            pick_test=test,
            gap_in_sd=gap / sd if sd else math.nan,
        )
    else:  # no finalists: the search's best trial is the pick
        row.update(
            pick=row["search_best"],
            pick_val=row["search_best_val"],
            pick_test=row["search_best_test"],
        )
    row["beats_references"] = bool(row["pick_test"] < 0)
    row["within_spread"] = bool(abs(row.get("gap_in_sd", math.inf)) <= SPREAD_Z)
    row["rung1_rho"] = _number((summary["evidence"]["rungs"] or [{}])[0].get("spearman"))
    return row


def _completed(trials: pd.DataFrame) -> pd.DataFrame:
    return trials[(trials["status"] == "completed") & trials[TEST].notna()]


def _val_test(trials: pd.DataFrame, seed: int) -> tuple[float, float, float]:
    """Spearman over completed trials, and a bootstrap 10-90% interval over trials."""
    from raysearch.results.evidence import spearman

    done = _completed(trials)
    rho = spearman(done[VAL], done[TEST])
    rng = np.random.default_rng(seed)
    draws = []
    for _ in range(2000):
        pick = rng.integers(0, len(done), len(done))
        draws.append(spearman(done[VAL].to_numpy()[pick], done[TEST].to_numpy()[pick]))
    arr = np.array(draws, dtype=float)
    return rho, float(np.nanquantile(arr, 0.1)), float(np.nanquantile(arr, 0.9))


def _sd(values: pd.Series) -> float:
    return float(values.std(ddof=1)) if len(values) >= 2 else math.nan


def _strategies(runs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per loss strategy over every search of a variant: completed trials' values, the
    finalists' replicates (validation; test on the picks' replicates) and the picks."""
    trials = pd.concat([r["trials"] for r in runs], ignore_index=True)
    finalists = [r["finalists"] for r in runs if r["finalists"] is not None]
    reps = pd.concat(finalists, ignore_index=True) if finalists else pd.DataFrame()
    picks = [
        _strategy((r["summary"].get("pick") or r["summary"]["best"] or {}).get("config", {}))
        for r in runs
    ]
    rows = []
    for name, group in trials.groupby("config/loss_strategy"):
        done = _completed(group)
        row = {
            "strategy": name,
            "trials": len(group),
            "completed": len(done),
            "val_mean": done[VAL].mean(),
            "val_sd": _sd(done[VAL]),
            "test_mean": done[TEST].mean(),
            "test_sd": _sd(done[TEST]),
            "picked": picks.count(str(name)),
        }
        if len(reps):
            mine = reps[(reps["config/loss_strategy"] == name) & (reps["status"] == "completed")]
            tested = mine[TEST].dropna() if TEST in mine else pd.Series(dtype=float)
            row.update(
                replicates=len(mine),
                rep_val_mean=mine[VAL].mean(),
                rep_val_sd=_sd(mine[VAL]),
                rep_test_n=len(tested),
                rep_test_mean=tested.mean() if len(tested) else math.nan,
                rep_test_sd=_sd(tested),
            )
        rows.append(row)
    return rows


def _clean(text: str, root: Path, data: str | None, checkout: str | None = None) -> str:
    """``text`` with the dataset, results and repository paths as placeholders (``checkout``:
    the checkout the searches ran from, if not this one, is the repository too)."""
    for path, name in ((data, "DATASET_DIR"), (str(root.resolve()), "RESULTS"),
                       (str(root), "RESULTS"), (checkout, "."), (str(ROOT), ".")):  # fmt: skip
        if path:
            text = text.replace(path, name)
    return text


def _copy(
    source: Path, target: Path, root: Path, data: str | None, checkout: str | None = None
) -> None:
    """Copy a run's file; in text files, machine paths become placeholders."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if source.suffix not in (".md", ".json", ".yaml"):
        shutil.copy2(source, target)
        return
    target.write_text(_clean(source.read_text(), root, data, checkout))


def _compare(
    source: Path, out: Path, root: Path, data: str | None, checkout: str | None = None
) -> None:
    """The example run's comparison report, in ``out`` (its text cleaned of paths)."""
    if out.exists():
        shutil.rmtree(out)
    command = [sys.executable, "-m", "raysearch", "compare", str(source), "--out", str(out)]
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL)
    for md in out.glob("*.md"):
        md.write_text(_clean(md.read_text(), root, data, checkout))


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
    "warnings": "warnings", "wall_min": "wall min", "load": "load",
}  # fmt: skip
STRATEGY_COLUMNS = {
    "strategy": "strategy", "trials": "trials", "completed": "completed",
    "val_mean": "val mean", "val_sd": "val sd", "test_mean": "test mean", "test_sd": "test sd",
    "replicates": "replicates", "rep_val_mean": "their val mean", "rep_val_sd": "their val sd",
    "rep_test_n": "tested (picks)", "rep_test_mean": "their test mean",
    "rep_test_sd": "their test sd", "picked": "picked",
}  # fmt: skip


def _variant(args: argparse.Namespace, variant: str, root: Path, out: Path) -> dict | None:
    """One variant's figures; its searches' small files copied to ``out/seeds``."""
    from raysearch.results.evidence import spearman

    found = [(s, r) for s in args.seeds if (r := _load(root, args.space, variant, s))]
    if not found:
        return None
    trials = pd.concat([r["trials"] for _, r in found], ignore_index=True)
    rho, q10, q90 = _val_test(trials, 0)
    per_search = [spearman(_completed(r["trials"])[VAL], _completed(r["trials"])[TEST])
                  for _, r in found]  # fmt: skip
    finite = [x for x in per_search if math.isfinite(x)]
    meta = json.loads((found[0][1]["dir"] / "metadata.json").read_text())
    for s, r in found:
        for name in SEED_FILES:
            if (r["dir"] / name).is_file():
                target = out / "seeds" / f"{variant}-seed{s}" / name
                _copy(r["dir"] / name, target, root, args.data, args.checkout)
    return {
        "picks": [_seed_row(s, r) for s, r in found],
        "val_test": {"completed": len(_completed(trials)), "spearman": rho, "q10": q10,
                     "q90": q90, "per_search": per_search,
                     "per_search_median": statistics.median(finite) if finite else math.nan},
        "strategies": _strategies([r for _, r in found]),
        "command": _clean(meta["command"], root, args.data, args.checkout),
        "settings": meta["settings"],
        "fixed": meta["fixed"],
    }  # fmt: skip


def report(args: argparse.Namespace) -> int:
    root, out = Path(args.results), Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    data: dict[str, Any] = {"space": args.space, "seeds": args.seeds, "variants": {}}
    for variant in args.variants:
        figures = _variant(args, variant, root, out)
        if figures is not None:
            data["variants"][variant] = figures
    example = run_dir(root, args.space, "origins", args.example_seed)
    if (example / "summary.json").is_file():
        for name in EXAMPLE_FILES:
            if (example / name).is_file():
                _copy(example / name, out / name, root, args.data, args.checkout)
        _compare(example, out / "report", root, args.data, args.checkout)
        data["example"] = f"origins-seed{args.example_seed}"
    lines = [f"# `{args.space}`: does the pick hold on held-out time?", "", *_render(data, args)]
    (out / "selection.json").write_text(json.dumps(data, indent=1, default=str) + "\n")
    (out / "README.md").write_text("\n".join(lines) + "\n")
    log(f"selection: wrote {out / 'README.md'}")
    return 0


def _commands(data: dict[str, Any], args: argparse.Namespace) -> list[str]:
    seeds = " ".join(map(str, args.seeds))
    variants = " ".join(data["variants"])
    lines = ["Commands (from the repository root; one search at a time, niced):", "", "```"]
    lines += [args.prepare] if args.prepare else []
    lines.append(
        f"nice -n 10 python -m bench.selection run --space {args.space} --seeds {seeds} "
        f"--variants {variants} --max-concurrent {args.max_concurrent or 'N'}"
        + (" --data DATASET_DIR" if args.data else "")
    )
    lines.append(
        f"python -m bench.selection report --space {args.space} --seeds {seeds} "
        f"--variants {variants} --example-seed {args.example_seed} --out {args.out}"
        + (" --data DATASET_DIR" if args.data else "")
    )
    lines += ["```", ""]
    if "example" in data:
        lines += [
            f"The files beside this README are the `{data['example']}` search (summary, "
            "tables, best_config.yaml, metadata.json; `report/` is its `raysearch compare` "
            "report); `seeds/` holds every search's summary and its trials table (and its "
            "finalists' where it had them; not its per-epoch table, so `raysearch compare` "
            "takes the search beside this README, not those in `seeds/`); `selection.json` "
            "holds the figures below.",
            "",
        ]
    return lines


def _render(data: dict[str, Any], args: argparse.Namespace) -> list[str]:
    lines = _commands(data, args)
    for variant, found in data["variants"].items():
        s, vt = found["settings"], found["val_test"]
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
            *_table(found["picks"], PICK_COLUMNS),
            "",
            f"Val-to-test agreement over the {vt['completed']} completed trials of these "
            f"searches: Spearman {_fmt(vt['spearman'], 2)} (bootstrap over trials, 10-90%: "
            f"{_fmt(vt['q10'], 2)} to {_fmt(vt['q90'], 2)}); per search: "
            + ", ".join(_fmt(x, 2) for x in vt["per_search"])
            + f" (median {_fmt(vt['per_search_median'], 2)}).",
            "",
            "Per loss strategy (val, test: completed trials of every search; replicates: the "
            "finalists' re-trainings, tested only for the picks):",
            "",
            *_table(found["strategies"], STRATEGY_COLUMNS),
            "",
        ]
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
    judged = len(picks) >= TARGET_SEARCHES  # the done-when lines are about 5 search seeds

    def verdict(met: bool) -> str:
        return f": **{'met' if met else 'missed'}**" if judged else ""

    head = (
        "## Targets (issue 15, done when)"
        if judged
        else (
            f"## Against issue 15's targets ({len(picks)} search(es); the targets are judged "
            f"over {TARGET_SEARCHES}: figures only)"
        )
    )
    lines = [head, "",
             f"- the pick beats the references on test (anchored_test_loss < 0) in >= 4 of 5 "
             f"searches: {beat} of {len(picks)}" + verdict(beat >= 4),
             f"- its test figure lies within the finalists' seed spread of its validation "
             f"figure (|test - val| <= {SPREAD_Z:g} pooled replicate sd): {within} of "
             f"{len(picks)}" + verdict(within == len(picks))]  # fmt: skip
    if "holdout" in found:
        a, b = found["origins"]["val_test"]["spearman"], found["holdout"]["val_test"]["spearman"]
        met = math.isfinite(a) and math.isfinite(b) and a > b
        lines.append(
            f"- val-to-test rank correlation over completed trials, rolling origins "
            f"{_fmt(a, 2)} against one split {_fmt(b, 2)}" + verdict(met)
        )
    return lines
