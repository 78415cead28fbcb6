"""Data-parallel trials (``--workers-per-trial 2``, Ray Train) on a real local Ray with 2
CPUs: two gloo ranks follow the curve of one process; ASHA stopping a 2-worker trial frees its
workers for the next trial; a non-finite loss fails its trial once with its reason (Ray Train
does not retry it); a killed worker is retried from the last checkpoint up to
--max-failures; and the finalists' replicates train data-parallel too, the pick scored from
their checkpoint. The first three are read from one search of three trials, the last two
from another.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from raysearch.core.params import build_trial_config
from raysearch.data.prepared import prepare
from raysearch.search.tracking import flat_config
from raysearch.testing.cli import run_cli, traceback_of
from raysearch.testing.cluster import LocalCluster
from raysearch.train.loop import EpochResult, fit

pytestmark = pytest.mark.integration

# no dropout: two ranks and one process then draw the same numbers (the trainer's
# global-batch sampler gives them the same global batches)
FIXED = """fixed: {size: tiny, dropout: 0.0, daily_window: 60, monthly_window: 3,
        raion_pca_components: 2, anchor_stride: 3, data.synth.days: 420, data.synth.raions: 6}
"""
# Trials run in the order of the start points, one at a time (a 2-worker trial takes both
# CPUs). lr 1e-8 barely moves from its initial weights: worse than lr 3e-3 after an epoch,
# so ASHA stops it at its first rung; lr 1e12 overflows in the first epoch.
# ASHA's stop stands at once (gate_unmeasured: asha): the default would defer it until
# the rung had 8 pairs, and 3 trials never give it them
ASHA_SPACE = (
    "settings: {num_samples: 3, max_epochs: 2, grace_period: 1, reduction_factor: 2,\n"
    "           n_startup_trials: 3, gate_unmeasured: asha}\n"
    + FIXED
    + """parameters:
  lr: {type: float, low: 1.0e-8, high: 1.0e+12, log: true}
start: [{lr: 3.0e-3}, {lr: 1.0e-8}, {lr: 1.0e+12}]
"""
)
# the completed trial's two replicates then re-train data-parallel as the one finalist
KILL_SPACE = (
    "settings: {num_samples: 2, max_epochs: 3, grace_period: 3, n_startup_trials: 2,\n"
    "           finalists: 1, replicates: 2}\n"
    + FIXED
    + """parameters:
  lr: {type: float, low: 1.0e-4, high: 1.0e-2, log: true}
start: [{lr: 1.0e-3}, {lr: 2.0e-3}]
"""
)


def _search(
    tmp_path: Path,
    address: str,
    text: str,
    name: str,
    extra: list[str],
    kills: str | None = None,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """Run the search CLI (with ``kills``: its variant that kills Ray Train workers)."""
    space = tmp_path / f"{name}.yaml"
    space.write_text(text)
    args = ["--space", str(space), "--workers-per-trial", "2", "--max-concurrent", "1",
            "--results", str(tmp_path / "results"), "--name", name, "--no-wandb",
            *extra]  # fmt: skip
    if kills is None:
        done = run_cli(args, timeout=900, address=address)
    else:
        module = "tests.integration.kill_ddp_worker"
        done = run_cli([kills, *args], 900, module=module, address=address)
    return done, tmp_path / "results" / name / name


def _epochs_reported(run_dir: Path) -> dict[str, list[int]]:
    """Each trial's epoch reports as Tune received them (result.json), final report left out."""
    out = {}
    for path in run_dir.glob("tune/*/result.json"):
        lines = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
        if lines:
            out[lines[0]["trial_id"]] = [r["epoch"] for r in lines if not r.get("final")]
    return out


@pytest.fixture(scope="module")
def asha_search(
    tmp_path_factory: pytest.TempPathFactory, shared_ray: LocalCluster
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """ASHA_SPACE's search, run once for the tests that read it."""
    tmp_path = tmp_path_factory.mktemp("ddp_asha")
    with shared_ray.joined() as address:
        return _search(tmp_path, address, ASHA_SPACE, "asha", ["--max-failures", "2"])


def test_two_workers_follow_the_curve_of_one_process(
    asha_search: tuple[subprocess.CompletedProcess[str], Path], tmp_path: Path
) -> None:
    """The completed trial trained on two gloo ranks; the same configuration, rebuilt from
    best_config.yaml, trains here in one process. Same global batches, same initial weights,
    no dropout: they agree up to float32 reduction order, which Adam carries through the
    steps. A rank reading the whole global batch instead of its slice parts them by 0.016
    in anchored_val_loss after two epochs."""
    done, run_dir = asha_search
    assert done.returncode == 0, traceback_of(done.stdout + done.stderr)
    best = yaml.safe_load((run_dir / "best_config.yaml").read_text())
    cfg = build_trial_config({**best["config"], "trainer.max_epochs": 2})
    assert flat_config(cfg) == best["resolved"]  # the trial's configuration, every field
    one: list[dict] = []

    def on_epoch(result: EpochResult) -> None:
        one.append(result.metrics)

    fit(cfg, prepare(cfg.data, tmp_path / "cache"), on_epoch=on_epoch)
    epochs = pd.read_parquet(run_dir / "epochs.parquet")
    two = epochs[epochs["trial_id"] == best["trial_id"]].sort_values("epoch")
    assert list(two["epoch"]) == [m["epoch"] for m in one] == [1, 2]
    columns = ["anchored_val_loss", "train_objective"] + [
        c for c in one[0] if c.startswith(("train_loss/", "val_loss/"))
    ]
    assert len(columns) > 2
    for column in columns:
        np.testing.assert_allclose(
            two[column], [m[column] for m in one], rtol=2e-3, atol=1e-4, err_msg=column
        )


def test_asha_stops_a_two_worker_trial_the_next_starts_and_a_nan_trial_fails_once(
    asha_search: tuple[subprocess.CompletedProcess[str], Path],
) -> None:
    done, run_dir = asha_search
    output = done.stdout + done.stderr
    assert done.returncode == 0, traceback_of(output)
    trials = pd.read_parquet(run_dir / "trials.parquet").sort_values("created")
    assert list(trials["config/lr"]) == [3e-3, 1e-8, 1e12]
    good, weak, nan = (row for _, row in trials.iterrows())
    assert good["status"] == "completed" and good["epochs_run"] == 2
    assert pd.notna(good["test/anchored_test_loss"])  # the final report reached Tune
    assert weak["status"] == "stopped" and weak["epochs_run"] == 1
    # the trial after the stopped one got both CPUs: the stopped trial's workers were freed
    assert nan["status"] == "failed", nan["stop_reason"]
    assert nan["stop_reason"].startswith("NonFiniteLossError: training loss is not finite")
    assert nan["trial_id"] in output
    # Ray Train never retried it (a retry logs its failure policy's decision)
    assert "[FailurePolicy]" not in output
    summary = json.loads((run_dir / "summary.json").read_text())
    assert (summary["completed"], summary["stopped_by_asha"], summary["failed"]) == (1, 1, 1)


def test_a_killed_worker_is_retried_from_its_checkpoint_and_finalists_train_data_parallel(
    tmp_path: Path, ray_address: str
) -> None:
    """Trial 0 loses a worker after epochs 1 and 2, one more than --max-failures 1 allows,
    and fails; the search goes on: trial 1 loses a worker after epoch 1 and resumes. Its
    replicates, as the one finalist, train on two workers each."""
    retries = ["--max-failures", "1"]
    done, run_dir = _search(tmp_path, ray_address, KILL_SPACE, "kill", retries, "0:1,0:2,1:1")
    output = done.stdout + done.stderr
    assert done.returncode == 0, traceback_of(output)
    assert len(re.findall(r"killing a Ray Train worker", output)) == 3
    trials = pd.read_parquet(run_dir / "trials.parquet").sort_values("created")
    exhausted, resumed = (row for _, row in trials.iterrows())
    reported = _epochs_reported(run_dir)
    assert exhausted["status"] == "failed" and exhausted["epochs_run"] == 2
    assert "worker" in exhausted["stop_reason"]  # the worker's death, as Ray reports it
    assert reported[exhausted["trial_id"]] == [1, 2]  # resumed after epoch 1: none re-run
    assert resumed["status"] == "completed", resumed["stop_reason"]
    assert reported[resumed["trial_id"]] == [1, 2, 3]  # resumed after epoch 1: none re-run
    assert pd.notna(resumed["test/anchored_test_loss"])
    # the one finalist, the completed trial, re-trained by two replicates through Ray Train;
    # the test split is scored from the checkpoint the workers reported (Tune had none before,
    # and the search stopped there with an AttributeError)
    table = pd.read_parquet(run_dir / "finalists.parquet")
    assert len(table) == 2 and table["pick"].all()
    assert (table["status"] == "completed").all() and (table["epochs_run"] == 3).all()
    assert table["test/anchored_test_loss"].map(math.isfinite).all()
    assert (table["config/lr"] == resumed["config/lr"]).all()
