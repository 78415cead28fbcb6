"""Faults: a killed trial process resumes from its checkpoint; an interrupted search
resumes with --resume and finishes exactly its trials."""

from __future__ import annotations

import json
import re
import signal
import time
from pathlib import Path

import pandas as pd
import pytest

from raysearch.testing.cli import run_cli, start_cli, traceback_of

pytestmark = pytest.mark.integration

# The tiny sizes of --smoke, spelled out: --smoke would also shorten ASHA's grace period,
# and these tests need every trial to run to its end.
SPACE = """
settings: {num_samples: 3, max_epochs: 4, grace_period: 4, n_startup_trials: 3}
fixed: {size: tiny, daily_window: 60, monthly_window: 3, raion_pca_components: 2,
        anchor_stride: 3, data.synth.days: 420, data.synth.raions: 6}
parameters:
  loss_strategy: {type: categorical, choices: [uniform, kendall, softplus_kendall]}
"""


def _reports(tune_dir: Path) -> dict[str, list[dict]]:
    """Every report each trial made so far (Tune's result.json, one JSON line each)."""
    out: dict[str, list[dict]] = {}
    for path in tune_dir.glob("*/result.json"):
        lines = [json.loads(x) for x in path.read_text().splitlines() if x.strip()]
        if lines:
            out[lines[0]["trial_id"]] = lines
    return out


def _wait_for(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.5)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _args(tmp_path: Path, name: str, space: Path) -> list[str]:
    return ["--space", str(space), "--num-samples", "3", "--max-epochs", "4",
            "--max-concurrent", "1", "--results", str(tmp_path / "results"), "--name", name,
            "--no-wandb"]  # fmt: skip


@pytest.fixture
def space(tmp_path: Path) -> Path:
    path = tmp_path / "faults.yaml"
    path.write_text(SPACE)
    return path


def test_a_killed_trial_process_resumes_from_its_checkpoint(tmp_path: Path, space: Path) -> None:
    """SIGKILL a trial's process the moment the driver has its epoch-3 report and checkpoint
    (tests/integration/kill_after_report.py): the retry resumes from that checkpoint, and
    no epoch's report is lost (Ray's stock result logger dropped epoch 3's line here)."""
    done = run_cli(
        ["3", *_args(tmp_path, "kill", space), "--max-failures", "1"],
        timeout=600,
        module="tests.integration.kill_after_report",
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, traceback_of(output)
    victim = re.search(r"killing trial (\S+) \(pid \d+\) after epoch 3", output).group(1)
    run_dir = tmp_path / "results" / "faults" / "kill"
    trials = pd.read_parquet(run_dir / "trials.parquet")
    row = trials.set_index("trial_id").loc[victim]
    assert row["status"] == "completed" and row["epochs_run"] == 4
    reports = [r for r in _reports(run_dir / "tune")[victim] if not r.get("final")]
    restored = [r for r in reports if r["iterations_since_restore"] == 1 and r["epoch"] > 1]
    assert restored, "the retried trial started over instead of resuming from its checkpoint"
    assert [r["epoch"] for r in reports] == [1, 2, 3, 4]  # resumed after 3: nothing re-run
    epochs = pd.read_parquet(run_dir / "epochs.parquet")
    assert sorted(epochs[epochs["trial_id"] == victim]["epoch"]) == [1, 2, 3, 4]


def test_an_interrupted_search_resumes_and_finishes_exactly_its_trials(
    tmp_path: Path, space: Path
) -> None:
    log = tmp_path / "first.log"
    proc = start_cli(_args(tmp_path, "resume", space), log)
    run_dir = tmp_path / "results" / "faults" / "resume"
    try:
        # interrupt once the first trial finished and the second is running
        def second_running() -> bool:
            reports = list(_reports(run_dir / "tune").values())
            return len(reports) >= 2 and any(r[-1].get("final") for r in reports)

        _wait_for(second_running, 400, "a second trial to start after the first finished")
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    before = _reports(run_dir / "tune")
    done_before = {t for t, r in before.items() if any(x.get("final") for x in r)}
    assert len(done_before) < 3, "the search finished before it could be interrupted"

    resumed = run_cli(["--resume", str(run_dir)])
    assert resumed.returncode == 0, traceback_of(resumed.stdout + resumed.stderr)
    trials = pd.read_parquet(run_dir / "trials.parquet")
    assert len(trials) == 3 and trials["trial_id"].is_unique
    assert set(trials["status"]) == {"completed"}
    after = _reports(run_dir / "tune")
    for trial_id in done_before:  # finished trials were not run again
        assert len(after[trial_id]) == len(before[trial_id])
    epochs = pd.read_parquet(run_dir / "epochs.parquet")
    assert not epochs.duplicated(["trial_id", "epoch"]).any()
