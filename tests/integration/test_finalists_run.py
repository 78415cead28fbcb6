"""A smoke search with two validation origins and finalists, end to end on a local Ray; and
Ctrl+C as the finalists re-train, then ``--resume``. Finalists whose replicates train
data-parallel: tests/integration/test_ddp_faults.py."""

from __future__ import annotations

import json
import math
import signal
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from raysearch.search.finalists import REPLICATE_SEED_OFFSET
from raysearch.search.space import SPACES_DIR
from raysearch.testing.cli import run_cli, start_cli, tiny_space, traceback_of
from raysearch.testing.cluster import LocalCluster

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, shared_ray: LocalCluster) -> Path:
    root = tmp_path_factory.mktemp("finalists")
    space = yaml.safe_load((SPACES_DIR / "smoke.yaml").read_text())
    space["fixed"]["val_origins"] = 2
    path = root / "smoke_origins.yaml"
    path.write_text(yaml.safe_dump(space, sort_keys=False))
    with shared_ray.joined() as address:
        proc = run_cli(
            ["--space", str(path), "--smoke", "--finalists", "2", "--replicates", "2",
             "--no-wandb", "--results", str(root), "--name", "it", "--seed", "1"],
            address=address,
        )  # fmt: skip
    assert proc.returncode == 0, traceback_of(proc.stdout + proc.stderr)
    return root / "smoke_origins" / "it"


def test_every_epoch_reports_the_mean_of_two_origins(run_dir: Path) -> None:
    epochs = pd.read_parquet(run_dir / "epochs.parquet")
    per_origin = epochs[["anchored_val_loss/origin_1", "anchored_val_loss/origin_2"]]
    assert (per_origin.mean(axis=1) - epochs["anchored_val_loss"]).abs().max() < 1e-9


def test_finalists_retrain_with_fresh_seeds_and_only_the_pick_is_tested(run_dir: Path) -> None:
    table = pd.read_parquet(run_dir / "finalists.parquet")
    assert sorted(table["finalist"]) == [1, 1, 2, 2]
    assert set(table["seed"]) == {1 + REPLICATE_SEED_OFFSET, 2 + REPLICATE_SEED_OFFSET}
    assert (table["status"] == "completed").all() and (table["epochs_run"] == 3).all()
    pick = table[table["pick"]]
    assert pick["finalist"].nunique() == 1
    assert pick["test/anchored_test_loss"].map(math.isfinite).all()
    assert table.loc[~table["pick"], "test/anchored_test_loss"].isna().all()
    means = table.groupby("finalist")["best_anchored_val_loss"].mean()
    assert int(pick["finalist"].iloc[0]) == int(means.idxmin())
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["pick"]["finalist"] == int(means.idxmin())
    assert math.isclose(summary["pick"]["test"]["anchored_test_loss"],
                        pick["test/anchored_test_loss"].mean())  # fmt: skip
    assert {"rungs", "val_test", "noise", "warnings"} <= set(summary["evidence"])
    best = yaml.safe_load((run_dir / "best_config.yaml").read_text())
    # the pick's searched values, and the space's fixed ones, as without finalists
    assert summary["pick"]["config"].items() <= best["config"].items()
    assert best["config"]["data.daily_window"] == 60
    # with the seed of one of its replicates, a training measured at full budget (not the
    # run's seed, which its values alone resolve to)
    assert best["config"]["trainer.seed"] == summary["pick"]["seed"]
    assert summary["pick"]["seed"] in set(pick.loc[pick["status"] == "completed", "seed"])
    assert best["resolved"]["trainer.seed"] == summary["pick"]["seed"]
    assert "Evidence: will the pick hold?" in (run_dir / "summary.md").read_text()


def _finalist_epochs(run_dir: Path) -> int:
    """The epochs the finalists' replicates reported so far (Tune's result.json lines)."""
    return sum(
        len(p.read_text().splitlines()) for p in (run_dir / "finalists").glob("*/result.json")
    )


def test_ctrl_c_as_the_finalists_train_is_an_interruption_that_resume_finishes(
    tmp_path: Path, ray_address: str
) -> None:
    """It was a finished search: exit 0, summary "finished", a pick on the one replicate
    that had ended, and --resume refused ("that search ended (finished)")."""
    space = tmp_path / "fin.yaml"
    space.write_text(
        tiny_space(
            "{num_samples: 2, max_epochs: 3, grace_period: 3, n_startup_trials: 2, "
            "finalists: 2, replicates: 2}"
        )
    )
    run_dir = tmp_path / "fin" / "f"
    log = tmp_path / "first.log"
    proc = start_cli(
        ["--space", str(space), "--max-concurrent", "1", "--no-wandb",
         "--results", str(tmp_path), "--name", "f"],
        log,
        ray_address,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 400
        while _finalist_epochs(run_dir) < 2 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _finalist_epochs(run_dir) >= 2, log.read_text()[-3000:]
        proc.send_signal(signal.SIGINT)  # Ctrl+C once, as the finalists train
        code = proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 130, log.read_text()[-3000:]
    assert "replicate(s) unfinished" in log.read_text() and f"--resume {run_dir}" in log.read_text()
    table = pd.read_parquet(run_dir / "finalists.parquet")
    # 2 finalists x 2 replicates, each with a row (those never created too); some unfinished
    assert len(table) == 4 and (table["status"] == "unfinished").any(), table
    assert not table["pick"].any()  # no pick, and no test split scored, on part of them
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["state"] == "interrupted" and summary["pick"] is None
    assert summary["unfinished_replicates"] == int((table["status"] == "unfinished").sum())
    searched = pd.read_parquet(run_dir / "trials.parquet")

    resumed = run_cli(["--resume", str(run_dir)], timeout=600)  # joins the run's Ray
    assert resumed.returncode == 0, traceback_of(resumed.stdout + resumed.stderr)
    table = pd.read_parquet(run_dir / "finalists.parquet")
    assert len(table) == 4 and (table["status"] == "completed").all(), table
    assert (table["epochs_run"] == 3).all() and table["pick"].any()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["state"] == "finished" and summary["pick"]["replicates"] == 2
    # the finalists went on; the search was not run again
    again = pd.read_parquet(run_dir / "trials.parquet")
    assert sorted(again["trial_id"]) == sorted(searched["trial_id"])
