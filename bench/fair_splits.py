"""Are the synthetic default's time splits fair? Regime coverage and val-vs-test agreement.

    python -m bench.fair_splits            # the current generator -> fair_splits/<version>.json
                                           # and fair_splits.md (every version measured)
    python -m bench.fair_splits --render   # fair_splits.md again from fair_splits/*.json

For the data of ``make run`` (loss_ablation's settings on the small synthetic preset, data
seed 0): the regime classes and transitions each split holds, and, for a few fixed
configurations (each loss strategy, tiny and small model, trainer seed 0, ``EPOCHS``
epochs), the anchored validation and test loss at the epoch ``fit`` selects and at the last
epoch. A fair split gives a test loss close to the validation loss and ranks the
configurations alike. The older generator's figures come from this script run at that
generator's commit (the md names both); the script only ever measures the code it runs
with.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    OUT,
    base_meta,
    header,
    log,
    markdown_table,
    recorded_meta,
    write_outputs,
)

EPOCHS = 8
DATA = {"daily_window": 90, "monthly_window": 4, "anchor_stride": 3, "raion_pca_components": 4}
CONFIGS = (
    {"loss_strategy": "uniform"},
    {"loss_strategy": "kendall"},
    {"loss_strategy": "softplus_kendall"},
    {"loss_strategy": "a3dro", "budget_beta": 0.35, "regret_clip": 3.0},
)
SIZES = ("tiny", "small")


def coverage(data: Any, raw: Any) -> dict[str, dict[str, Any]]:
    """Per split: its target months, the regime classes and the transitions they hold."""
    regime, transition = raw.targets["regime"], raw.targets["transition"]
    out = {}
    for split, days in data.split_days.items():
        months = np.unique(raw.day_month[days] + 1)
        r, t = regime[months], transition[months]
        out[split] = {
            "target_months": len(months),
            "classes": sorted(int(c) for c in np.unique(r[~np.isnan(r)])),
            "transitions": int(np.nansum(t)),
        }
    return out


def measure(epochs: int) -> dict[str, Any]:
    import torch

    from raysearch.core.params import build_trial_config
    from raysearch.data.prepared import build
    from raysearch.data.synth import GENERATOR_VERSION, generate
    from raysearch.train.curves import fit_with_test_curve

    torch.set_num_threads(1)
    base = {**DATA, "dropout": 0.1, "trainer.max_epochs": epochs, "trainer.device": "cpu"}
    cfg0 = build_trial_config(base)
    raw = generate(cfg0.data.synth)
    data = build(cfg0.data, raw)
    rows = []
    for size in SIZES:
        for params in CONFIGS:
            started = time.perf_counter()
            cfg = build_trial_config({**base, "size": size, **params})
            curve, result = fit_with_test_curve(cfg, data)
            best = curve[result.best_epoch - 1]
            rows.append(
                {
                    "size": size,
                    **params,
                    "best_epoch": result.best_epoch,
                    "val_at_best": best["anchored_val_loss"],
                    "test_at_best": best["anchored_test_loss"],
                    "val_last": curve[-1]["anchored_val_loss"],
                    "test_last": curve[-1]["anchored_test_loss"],
                    "curve": curve,
                }
            )
            log(
                f"{size} {params}: val {best['anchored_val_loss']:+.3f} test "
                f"{best['anchored_test_loss']:+.3f} ({time.perf_counter() - started:.0f} s)"
            )
    return {
        "generator": GENERATOR_VERSION,
        "meta": base_meta(False, seeds=[0], epochs=epochs, data=DATA, preset="small"),
        "coverage": coverage(data, raw),
        "rows": rows,
    }


def _spearman(a: list[float], b: list[float]) -> float:
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def markdown(results: list[dict[str, Any]]) -> str:
    lines = header(
        "Fair splits: the synthetic default's regime coverage and val-vs-test agreement",
        results[-1]["meta"],
    )
    lines += [
        f"Data: the small synthetic preset (seed 0), {DATA}. Configurations: each loss "
        f"strategy x model size, trainer seed 0, {results[-1]['meta']['epochs']} epochs. "
        "Each generator version was measured by this script at a commit that had it.",
        "",
    ]
    for res in results:
        lines += [f"## Generator {res['generator']}", ""]
        cov = [{"split": k, **v} for k, v in res["coverage"].items()]
        cols = {"split": "split", "target_months": "target months", "classes": "regime classes"}
        lines += [markdown_table(cov, cols | {"transitions": "transitions"})]
        rows = [{**r, "config": f"{r['size']} {r['loss_strategy']}"} for r in res["rows"]]
        cols = {"config": "configuration", "best_epoch": "best epoch"}
        cols |= {"val_at_best": "val (best)", "test_at_best": "test (best)"}
        cols |= {"val_last": "val (last)", "test_last": "test (last)"}
        val, test = [r["val_at_best"] for r in rows], [r["test_at_best"] for r in rows]
        lines += ["", markdown_table(rows, cols, ".3f"), ""]
        lines += [
            f"Test < 0 (beats the references) in {sum(t < 0 for t in test)}/{len(test)}; "
            f"median val {np.median(val):+.3f}, median test {np.median(test):+.3f}; "
            f"Spearman(val, test) over configurations {_spearman(val, test):+.2f}.",
            "",
        ]
    return "\n".join(lines)


def measured(folder: Path) -> list[dict[str, Any]]:
    """Every generator version's result in ``folder``, oldest first, each with its meta
    as a header reads it (one recorded before results kept their command and commit
    says so: ``recorded_meta``)."""
    results = [json.loads(f.read_text()) for f in sorted(folder.glob("*.json"))]
    return [{**r, "meta": recorded_meta(r["meta"], "fair_splits")} for r in results]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m bench.fair_splits", description=__doc__)
    how = p.add_mutually_exclusive_group()
    how.add_argument("--epochs", type=int, default=EPOCHS)
    how.add_argument("--render", action="store_true", help="re-render from fair_splits/*.json")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    folder = args.out / "fair_splits"
    if not args.render:
        result = measure(args.epochs)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{result['generator']}.json").write_text(json.dumps(result, indent=1) + "\n")
    results = measured(folder)
    if not results:
        p.error(f"--render: {folder} holds no result (run python -m bench.fair_splits)")
    write_outputs("fair_splits", markdown(results), {"generators": results}, args.out)
    log(f"wrote {args.out / 'fair_splits.md'}")


if __name__ == "__main__":
    main()
