"""Write a search's results directory and the short summary printed at the end."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from raysearch.core.files import (
    BEST_CONFIG,
    EPOCHS,
    FINALISTS,
    SUMMARY_JSON,
    SUMMARY_MD,
    TRIALS,
    atomic_write_text,
    write_json,
    write_parquet,
    write_yaml,
)
from raysearch.core.metrics import BEST_VAL_METRIC
from raysearch.results.evidence import picked_config
from raysearch.results.evidence_report import evidence_markdown, gather_evidence

__all__ = ["summarize", "write_results"]


def _missing(value: Any) -> bool:
    """NaN/None: a conditional parameter this trial did not use."""
    return value is None or (isinstance(value, float) and math.isnan(value))


def _plain(value: Any) -> Any:
    """numpy scalars -> Python, for YAML/JSON."""
    return value.item() if hasattr(value, "item") else value


def summarize(trials: pd.DataFrame, run_dir: Path) -> dict[str, Any]:
    """What the user reads first: the best trial, how trials ended, where the files are."""
    counts = trials["status"].value_counts().to_dict() if not trials.empty else {}
    finite = (
        trials[trials[BEST_VAL_METRIC].map(lambda v: v is not None and math.isfinite(v))]
        if not trials.empty
        else trials
    )
    best: dict[str, Any] | None = None
    if not finite.empty:
        row = finite.iloc[0]
        best = {
            "trial_id": row["trial_id"],
            BEST_VAL_METRIC: float(row[BEST_VAL_METRIC]),
            "best_epoch": int(row["best_epoch"]),
            "config": {
                k[len("config/") :]: _plain(v)
                for k, v in row.items()
                if isinstance(k, str) and k.startswith("config/") and not _missing(v)
            },
            "test": {
                k[len("test/") :]: _plain(v)
                for k, v in row.items()
                if isinstance(k, str) and k.startswith("test/") and not pd.isna(v)
            },
        }
    failed = trials[trials["status"] == "failed"] if not trials.empty else trials
    return {
        "run_dir": str(run_dir),
        "n_trials": len(trials),
        "completed": int(counts.get("completed", 0)),
        "stopped_by_asha": int(counts.get("stopped", 0)),
        "failed": int(counts.get("failed", 0)),
        "failures": [
            {"trial_id": r["trial_id"], "reason": r["stop_reason"]} for _, r in failed.iterrows()
        ],
        "best": best,
        "files": {name: str(run_dir / name) for name in (TRIALS, EPOCHS, BEST_CONFIG, SUMMARY_MD)},
    }


def _markdown(summary: dict[str, Any], trials: pd.DataFrame) -> str:
    best = summary["best"]
    run_dir = Path(summary["run_dir"])  # shown as <space>/<run>: no machine path in the file
    lines = [f"# Search results: {run_dir.parent.name}/{run_dir.name}", ""]
    lines.append(
        f"{summary['n_trials']} trials: {summary['completed']} completed, "
        f"{summary['stopped_by_asha']} stopped early by ASHA, {summary['failed']} failed."
    )
    if best:
        lines += [
            "",
            f"Best: trial {best['trial_id']}, {BEST_VAL_METRIC} = {best[BEST_VAL_METRIC]:.4f} "
            f"at epoch {best['best_epoch']}",
            "",
        ]
        lines += [f"- {k}: {v}" for k, v in best["config"].items()]
        if best["test"]:
            lines += ["", "Test split (same metric, best checkpoint):", ""]
            lines += [f"- {k}: {v:.4f}" for k, v in best["test"].items()]
    for failure in summary["failures"]:
        lines.append(f"- failed {failure['trial_id']}: {failure['reason']}")
    shown = [
        c
        for c in ("trial_id", "status", "epochs_run", BEST_VAL_METRIC, "stop_reason")
        if c in trials
    ]
    shown += [c for c in trials.columns if c.startswith("config/") and trials[c].nunique() > 1]
    if not trials.empty:
        lines += ["", trials[shown].to_markdown(index=False, floatfmt=".4f")]
    return "\n".join(lines) + "\n"


def write_results(
    run_dir: Path,
    trials: pd.DataFrame,
    epochs: pd.DataFrame,
    resolve: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
    *,
    settings: dict[str, Any] | None = None,
    finalists: pd.DataFrame | None = None,
) -> dict[str, Any]:
    """Write trials/epochs parquet, best_config.yaml and the summary; return the summary.

    ``resolve`` maps the best trial's config to its full resolved configuration (every
    field of every section), written to best_config.yaml so the trial can be re-run.
    """
    write_parquet(run_dir / TRIALS, trials)
    write_parquet(run_dir / EPOCHS, epochs)
    summary = summarize(trials, run_dir)
    best = summary["best"]
    # issue 15: the evidence section, and the finalists' pick (when there are finalists)
    if finalists is not None:
        write_parquet(run_dir / FINALISTS, finalists)
    summary["evidence"] = gather_evidence(trials, epochs, settings or {}, finalists)
    summary["pick"] = picked_config(finalists)
    if summary["pick"]:  # best_config.yaml holds the finalists' pick, chosen on the mean
        best = {**summary["pick"], "trial_id": f"finalist {summary['pick']['finalist']}"}
    if best:
        content = {
            BEST_VAL_METRIC: best[BEST_VAL_METRIC],
            "trial_id": best["trial_id"],
            "config": best["config"],
        }
        if resolve is not None:
            content["resolved"] = resolve(best["config"])
        write_yaml(run_dir / BEST_CONFIG, content)
    write_json(run_dir / SUMMARY_JSON, summary)
    evidence = evidence_markdown(summary["evidence"], summary["pick"])
    markdown = _markdown(summary, trials) + "\n" + "\n".join(evidence)
    atomic_write_text(run_dir / SUMMARY_MD, markdown)
    return summary
