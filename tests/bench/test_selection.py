"""The issue-15 proof's arithmetic (bench/selection.py) and the scheme table (val_schemes)."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from bench.selection_report import _clean, _seed_row, _strategies, _targets
from bench.val_schemes import SCHEMES, analyse


def _found(test: float, val: float, sd: float) -> dict:
    pick = {"config": {"loss_strategy": "kendall"}, "best_anchored_val_loss": val, "sd": sd,
            "test": {"anchored_test_loss": test}}  # fmt: skip
    summary = {
        "best": {"config": {"loss_strategy": "a3dro"}, "best_anchored_val_loss": -0.5,
                 "test": {"anchored_test_loss": 0.1}},
        "pick": pick,
        "evidence": {"noise": {"finalists": {"sd": sd}}, "warnings": [],
                     "rungs": [{"spearman": 0.4}]},
    }  # fmt: skip
    return {"summary": summary, "wall": {"wall_s": 600.0}}


def test_a_pick_holds_when_its_test_is_below_zero_and_within_two_sds_of_its_val() -> None:
    row = _seed_row(0, _found(test=-0.10, val=-0.15, sd=0.03))
    assert row["pick"] == "kendall" and row["search_best"] == "a3dro"
    assert row["beats_references"] and row["within_spread"]
    assert row["gap_in_sd"] == pytest.approx(0.05 / 0.03)
    far = _seed_row(1, _found(test=0.05, val=-0.15, sd=0.03))
    assert not far["beats_references"] and not far["within_spread"]


def test_a_missing_number_in_summary_json_is_nan_in_the_row() -> None:
    found = _found(test=-0.10, val=-0.15, sd=None)  # type: ignore[arg-type]
    found["summary"]["evidence"]["rungs"] = [{"spearman": None}]  # JSON null: too few trials
    row = _seed_row(0, found)
    assert math.isnan(row["noise_sd"]) and math.isnan(row["pick_sd"])
    assert math.isnan(row["gap_in_sd"]) and math.isnan(row["rung1_rho"])
    assert row["pick_test"] == pytest.approx(-0.10) and not row["within_spread"]


def test_the_targets_count_the_seeds_and_compare_the_correlations() -> None:
    picks = [_seed_row(s, _found(-0.1 if s < 4 else 0.2, -0.12, 0.05)) for s in range(5)]
    data = {
        "variants": {
            "origins": {"picks": picks, "val_test": {"spearman": 0.6}},
            "holdout": {"picks": [], "val_test": {"spearman": 0.2}},
        }
    }
    text = "\n".join(_targets(data))
    assert "4 of 5: **met**" in text and "0.60 against one split 0.20: **met**" in text
    data["variants"]["holdout"]["val_test"]["spearman"] = math.nan
    assert "**missed**" in "\n".join(_targets(data))
    data["variants"]["origins"]["picks"] = picks[:1]  # one search: figures, no verdicts
    one = "\n".join(_targets(data))
    assert "1 of 1" in one and "**met**" not in one and "**missed**" not in one


def test_committed_text_loses_the_machine_paths(tmp_path: Path) -> None:
    root = tmp_path / "runs"
    text = f"--data /data/dir --results {root} {root.resolve()}/x/summary.md"
    cleaned = _clean(text, root, "/data/dir")
    assert "/data/dir" not in cleaned and str(tmp_path) not in cleaned
    assert "--data DATASET_DIR" in cleaned and "RESULTS/x/summary.md" in cleaned
    # searches run from another checkout: its paths are the repository's too
    spaces = "/elsewhere/raysearch/raysearch/search/spaces/loss_ablation.yaml"
    assert _clean(spaces, root, None, "/elsewhere/raysearch") == (
        "./raysearch/search/spaces/loss_ablation.yaml"
    )


def test_the_scheme_table_ranks_against_a_target_common_to_every_scheme() -> None:
    rows = []
    for k in range(5):  # holdout ranks configurations backwards, rolling2 in order
        rows.append({"config": k, "scheme": "holdout", "val": -k, "test": k, "cpu_s": 10.0})
        rows.append({"config": k, "scheme": "rolling2", "val": k, "test": k, "cpu_s": 21.0})
    result = analyse(rows, ["holdout", "rolling2"])
    table = {t["scheme"]: t for t in result["table"]}
    assert table["holdout"]["rho_common"] == pytest.approx(-1.0)
    assert table["rolling2"]["rho_common"] == pytest.approx(1.0)
    assert table["rolling2"]["cpu_ratio"] == pytest.approx(2.1)
    assert table["rolling2"]["p_better_common"] > 0.9
    assert {"holdout", "rolling2", "blocked3"} <= set(SCHEMES)


def _run(strategies: list[str], vals: list[float], tests: list[float], pick: str) -> dict:
    trials = pd.DataFrame(
        {
            "config/loss_strategy": strategies,
            "status": [*(["completed"] * (len(strategies) - 1)), "stopped"],
            "best_anchored_val_loss": vals,
            "test/anchored_test_loss": [*tests[:-1], math.nan],
        }
    )
    finalists = pd.DataFrame(
        {
            "config/loss_strategy": [pick, pick, "a3dro", "a3dro"],
            "status": ["completed"] * 4,
            "best_anchored_val_loss": [-0.2, -0.1, -0.3, 0.1],
            "test/anchored_test_loss": [-0.05, -0.15, math.nan, math.nan],
        }
    )
    summary = {"pick": {"config": {"loss_strategy": pick}}, "best": None}
    return {"trials": trials, "finalists": finalists, "summary": summary}


def test_the_strategy_table_pools_searches_and_tests_only_the_picks_replicates() -> None:
    runs = [
        _run(["kendall", "a3dro", "kendall"], [-0.2, 0.1, -0.9], [-0.1, 0.3, 9.0], "kendall"),
        _run(["kendall", "uniform", "a3dro"], [-0.4, 0.0, -0.9], [0.1, 0.2, 9.0], "uniform"),
    ]
    rows = {r["strategy"]: r for r in _strategies(runs)}
    kendall = rows["kendall"]
    # the stopped trial (val -0.9, no test) counts as a trial, not in the means
    assert (kendall["trials"], kendall["completed"]) == (3, 2)
    assert kendall["val_mean"] == pytest.approx(-0.3) and kendall["test_mean"] == pytest.approx(0)
    assert (
        kendall["picked"] == 1 and rows["uniform"]["picked"] == 1 and rows["a3dro"]["picked"] == 0
    )
    # replicates: kendall is a finalist once (2), a3dro twice (4); only picks are tested
    assert kendall["replicates"] == 2 and rows["a3dro"]["replicates"] == 4
    assert kendall["rep_test_n"] == 2 and kendall["rep_test_mean"] == pytest.approx(-0.1)
    assert rows["a3dro"]["rep_test_n"] == 0 and math.isnan(rows["a3dro"]["rep_test_mean"])
