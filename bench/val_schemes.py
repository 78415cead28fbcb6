"""How well each validation scheme's score predicts the test score, and at what cost.

    python -m bench val_schemes          (both spaces; about 2 hours of one core)
    python -m bench.val_schemes [--spaces loss_ablation war_losses] [--configs 10]
        [--epochs 6] [--schemes holdout rolling2 rolling3 blocked3] [--quick]

The same configurations (drawn at random from a space, each with its own training seed)
are trained at full budget (no scheduler) under each scheme: one validation split (K = 1,
``holdout``), rolling origins and blocked (purged) folds over time. Per scheme: Spearman's
rho over configurations between the validation value (``best_anchored_val_loss``, the mean
over origins) and (a) the scheme's own test value (its last origin's model) and (b) a
common test target, the mean test value of the configuration over all schemes' models (the
same target for every scheme, so the correlations compare; the schemes' test values differ
by their references b_i, fitted on each scheme's last training part, and a forecast task's
targets by the statistics they are normalised with, fitted on its preprocessing period: the
same for every configuration of a scheme); a bootstrap over the
configurations gives each rho's spread and the probability that the scheme ranks better
than holdout. Cost: the CPU seconds of train + validation (one thread), against holdout.
Rows are appended to a partial file as they finish, so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import (
    OUT,
    ROOT,
    base_meta,
    header,
    log,
    markdown_table,
    write_outputs,
)

# rollingK: the validation period cut into K blocks; rollingKw: K blocks each as large as
# the one validation split (val_fraction x K), so each origin's b_i rests on as many samples.
SCHEMES: dict[str, dict[str, Any]] = {
    "holdout": {"val_origins": 1},
    "rolling2": {"val_origins": 2, "val_scheme": "rolling"},
    "rolling3": {"val_origins": 3, "val_scheme": "rolling"},
    "rolling2w": {"val_origins": 2, "val_scheme": "rolling", "widen": True},
    "rolling3w": {"val_origins": 3, "val_scheme": "rolling", "widen": True},
    "blocked3": {"val_origins": 3, "val_scheme": "blocked"},
}
BOOTSTRAP = 2000


def draw_configs(space_name: str, n: int, seed: int) -> list[dict[str, Any]]:
    """``n`` random draws from the space (values only), each with its training seed."""
    import optuna

    from raysearch.search.space import load_space

    space = load_space(space_name)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    configs = []
    for k in range(n):
        trial = study.ask()
        configs.append({**space.sample(trial), "trainer.seed": seed + k})
        study.tell(trial, 0.0)
    return configs


def run_one(
    space_name: str, config: dict[str, Any], scheme: str, epochs: int, data_dir: str | None
) -> dict[str, Any]:
    """One fit of ``config`` under ``scheme``: its val and test values and CPU cost."""
    import torch

    from raysearch.core.metrics import BEST_VAL_METRIC, TEST_METRIC
    from raysearch.core.params import build_trial_config
    from raysearch.data.prepared import prepare
    from raysearch.search.space import load_space
    from raysearch.train.loop import fit

    torch.set_num_threads(1)
    space = load_space(space_name)
    scheme_values = {k: v for k, v in SCHEMES[scheme].items() if k != "widen"}
    values = {**space.fixed, **config, **scheme_values, "trainer.max_epochs": epochs}
    values["data.path"] = data_dir
    if SCHEMES[scheme].get("widen"):
        base = build_trial_config({**space.fixed, **config}).data.val_fraction
        values["val_fraction"] = base * scheme_values["val_origins"]
    cfg = build_trial_config(values)
    data = prepare(cfg.data, ROOT / "results" / ".cache" / "data")
    cpu = time.process_time()
    result = fit(cfg, data)
    return {
        "val": float(result.history[-1][BEST_VAL_METRIC]),
        "test": float(result.test_metrics[TEST_METRIC]),
        "cpu_s": time.process_time() - cpu,
        "train_val_s": sum(h["epoch_time_s"] for h in result.history),
        "samples": {f"origin{j}": len(o.splits["train"]) for j, o in enumerate(data.origins())},
    }


def _bootstrap(rows: dict[str, list[dict[str, Any]]], target: str, seed: int) -> dict:
    """Per scheme: rho on resampled configuration sets; and P(rho > holdout's)."""
    from raysearch.results.evidence import spearman

    rng = np.random.default_rng(seed)
    n = len(next(iter(rows.values())))
    draws: dict[str, list[float]] = {s: [] for s in rows}
    for _ in range(BOOTSTRAP):
        pick = rng.integers(0, n, n)
        for scheme, found in rows.items():
            val = [found[i]["val"] for i in pick]
            draws[scheme].append(spearman(val, [found[i][target] for i in pick]))
    out = {}
    for scheme, values in draws.items():
        arr = np.array(values)
        ok = np.isfinite(arr) & np.isfinite(np.array(draws["holdout"]))
        out[scheme] = {
            "q10": float(np.nanquantile(arr, 0.1)),
            "q90": float(np.nanquantile(arr, 0.9)),
            "p_better": float((arr[ok] > np.array(draws["holdout"])[ok]).mean()),
        }
    return out


def analyse(rows: list[dict[str, Any]], schemes: list[str]) -> dict[str, Any]:
    from raysearch.results.evidence import spearman

    n = len({r["config"] for r in rows})
    by = {
        s: sorted((r for r in rows if r["scheme"] == s), key=lambda r: r["config"]) for s in schemes
    }
    common = [statistics.fmean(by[s][i]["test"] for s in schemes) for i in range(n)]
    for s in schemes:
        for i, row in enumerate(by[s]):
            row["common_test"] = common[i]
    own, shared = _bootstrap(by, "test", 0), _bootstrap(by, "common_test", 1)
    base_cpu = sum(r["cpu_s"] for r in by["holdout"])
    table = []
    for s in schemes:
        val = [r["val"] for r in by[s]]
        table.append(
            {
                "scheme": s,
                "configs": len(val),
                "rho_own": spearman(val, [r["test"] for r in by[s]]),
                "rho_own_q10": own[s]["q10"],
                "rho_own_q90": own[s]["q90"],
                "rho_common": spearman(val, common),
                "rho_common_q10": shared[s]["q10"],
                "rho_common_q90": shared[s]["q90"],
                "p_better_common": shared[s]["p_better"],
                "mean_val": statistics.fmean(val),
                "mean_test": statistics.fmean(r["test"] for r in by[s]),
                "cpu_ratio": sum(r["cpu_s"] for r in by[s]) / base_cpu,
            }
        )
    return {"table": table, "rows": {s: by[s] for s in schemes}}


def render(data: dict[str, Any]) -> str:
    meta = data["meta"]
    lines = header("Validation schemes: does the validation score predict the test score?", meta)
    lines += [
        f"Space `{meta['space']}` (its fixed values; "
        f"{'the synthetic default' if not meta.get('data') else 'the real data of data/'}), "
        f"{meta['configs']} configurations drawn at random (Optuna RandomSampler, seed "
        f"{meta['seed']}; training seed = seed + index), each trained {meta['epochs']} epochs "
        "under every scheme with the same seed; one thread; no scheduler.",
        "",
        "rho_own: Spearman over configurations between the validation value and the scheme's "
        "own test value; rho_common: against the configuration's mean test value over every "
        "scheme's model (one target for all). q10-q90: bootstrap over configurations "
        f"({BOOTSTRAP} resamples); p_better: the share of resamples where the scheme's "
        "rho_common exceeds holdout's. cpu_ratio: CPU seconds of train + validation against "
        "holdout.",
        "",
        markdown_table(
            data["table"],
            {
                "scheme": "scheme",
                "rho_own": "rho own",
                "rho_own_q10": "q10",
                "rho_own_q90": "q90",
                "rho_common": "rho common",
                "rho_common_q10": "q10",
                "rho_common_q90": "q90",
                "p_better_common": "p better",
                "mean_val": "mean val",
                "mean_test": "mean test",
                "cpu_ratio": "cpu ratio",
            },
            fmt=".2f",
        ),
        "",
        f"![validation against common test, per scheme]({data['name']}.png)",
    ]
    return "\n".join(lines)


def figure(data: dict[str, Any]) -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    schemes = [t["scheme"] for t in data["table"]]
    cols = min(3, len(schemes))
    rows = math.ceil(len(schemes) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.8 * cols, 3.4 * rows), squeeze=False)
    for ax, s, t in zip(axes.flat, schemes, data["table"], strict=False):
        found = data["rows"][s]
        ax.scatter([r["val"] for r in found], [r["common_test"] for r in found], s=18)
        ax.set_title(f"{s}: rho {t['rho_common']:.2f} (cpu x{t['cpu_ratio']:.1f})", fontsize=9)
        ax.set_xlabel("best_anchored_val_loss", fontsize=8)
        ax.set_ylabel("mean anchored_test_loss", fontsize=8)
    for ax in list(axes.flat)[len(schemes) :]:
        ax.set_axis_off()
    fig.suptitle(f"{data['meta']['space']}: validation against the common test target")
    fig.tight_layout()
    return fig


def _real_data() -> str:
    """The war_losses dataset built from the repository's data/ (once)."""
    from raysearch.data.adapters.war_losses import import_war_losses

    out = ROOT / "results" / "datasets" / "ukraine"
    if not (out / "manifest.yaml").is_file():
        data = ROOT / "data"
        import_war_losses(
            data / "ukraine-losses", out, data / "war-phases" / "phases.csv", casualty=True
        )
    return str(out)


def measure(space: str, args: argparse.Namespace) -> dict[str, Any]:
    """Every configuration under every scheme (resuming from the partial file), analysed."""
    data_dir = args.data or (_real_data() if space == "war_losses" else None)
    partial = (
        ROOT / "results" / ".cache" / f"val_schemes-{space}-{args.configs}-{args.epochs}.jsonl"
    )
    partial.parent.mkdir(parents=True, exist_ok=True)
    lines = partial.read_text().splitlines() if partial.is_file() else []
    done = [json.loads(line) for line in lines]
    seen = {(r["config"], r["scheme"]) for r in done}
    for k, config in enumerate(draw_configs(space, args.configs, args.seed)):
        for scheme in args.schemes:
            if (k, scheme) in seen:
                continue
            log(f"val_schemes: {space} config {k} {config} under {scheme}")
            row = {
                "config": k,
                "scheme": scheme,
                "values": config,
                **run_one(space, config, scheme, args.epochs, data_dir),
            }
            done.append(row)
            with partial.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
    rows = [r for r in done if r["scheme"] in args.schemes and r["config"] < args.configs]
    name = "val_schemes" if space == "loss_ablation" else f"val_schemes_{space}"
    meta = base_meta(
        args.quick,
        seeds=[args.seed],
        space=space,
        data="ukraine" if data_dir else None,
        configs=args.configs,
        epochs=args.epochs,
        seed=args.seed,
    )
    return {"meta": meta, "name": name, **analyse(rows, args.schemes)}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m bench.val_schemes", description=__doc__)
    p.add_argument("--spaces", nargs="+", default=["loss_ablation", "war_losses"])
    p.add_argument("--data", help="dataset directory (default: synthetic; war_losses: data/)")
    p.add_argument("--configs", type=int, default=10)
    p.add_argument("--epochs", type=int, default=6)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--schemes",
        nargs="+",
        default=["holdout", "rolling2", "rolling3", "blocked3"],
        choices=list(SCHEMES),
    )
    p.add_argument("--quick", action="store_true")
    p.add_argument("--out", type=Path, default=OUT)
    args = p.parse_args(argv)
    if args.quick:
        args.configs, args.epochs = 4, 2
    for space in args.spaces:
        data = measure(space, args)
        write_outputs(data["name"], render(data), data, args.out, [(data["name"], figure(data))])
        for t in data["table"]:
            log(
                f"{space} {t['scheme']}: rho_own {t['rho_own']:.2f} rho_common "
                f"{t['rho_common']:.2f} cpu x{t['cpu_ratio']:.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
