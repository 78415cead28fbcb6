"""Faults of a one-worker search through the command line: a killed trial process resumes
from its checkpoint; Ctrl+C once writes an honest summary and --resume finishes exactly the
search's trials; SIGTERM while the driver starts its own Ray is Ctrl+C there; Ctrl+C
twice, then a killed driver, and --resume still finishes it; a corrupt checkpoint fails its
trial clearly, once."""

from __future__ import annotations

import json
import re
import shutil
import signal
import time
from pathlib import Path

import pandas as pd
import psutil
import pytest

from raysearch.testing.cli import (
    run_cli,
    start_cli,
    tiny_space,
    traceback_of,
    without_ray_sigterm_noise,
)

pytestmark = pytest.mark.integration

# Every trial runs to its end (grace period = max_epochs).
SPACE = tiny_space("{num_samples: 3, max_epochs: 4, grace_period: 4, n_startup_trials: 3}")


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


def _args(tmp_path: Path, name: str, space: Path, samples: int = 3) -> list[str]:
    return ["--space", str(space), "--num-samples", str(samples), "--max-epochs", "4",
            "--max-concurrent", "1", "--results", str(tmp_path / "results"), "--name", name,
            "--no-wandb"]  # fmt: skip


@pytest.fixture
def space(tmp_path: Path) -> Path:
    path = tmp_path / "faults.yaml"
    path.write_text(SPACE)
    return path


def test_a_killed_trial_process_resumes_from_its_checkpoint(
    tmp_path: Path, space: Path, ray_address: str
) -> None:
    """SIGKILL a trial's process the moment the driver has its epoch-3 report and checkpoint
    (tests/integration/kill_after_report.py): the retry resumes from that checkpoint, and
    no epoch's report is lost (Ray's stock result logger dropped epoch 3's line here)."""
    done = run_cli(
        ["3", *_args(tmp_path, "kill", space, samples=1), "--max-failures", "1"],
        timeout=600,
        module="tests.integration.kill_after_report",
        address=ray_address,
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
    tmp_path: Path, space: Path, ray_address: str
) -> None:
    log = tmp_path / "first.log"
    proc = start_cli(_args(tmp_path, "resume", space), log, ray_address)
    run_dir = tmp_path / "results" / "faults" / "resume"
    try:
        # interrupt once the first trial finished and the second is running
        def second_running() -> bool:
            reports = list(_reports(run_dir / "tune").values())
            return len(reports) >= 2 and any(r[-1].get("final") for r in reports)

        _wait_for(second_running, 400, "a second trial to start after the first finished")
        # SIGTERM (kill, ray job stop) stops it as one Ctrl+C does (Tune's own way, which
        # the Ctrl+C test below takes first); it used to die in Ray's shutdown, exit 134
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=300) == 130, log.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
    before = _reports(run_dir / "tune")
    done_before = {t for t, r in before.items() if any(x.get("final") for x in r)}
    assert len(done_before) < 3, "the search finished before it could be interrupted"
    # the summary of the interrupted search says so, and names only files that exist
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["state"] == "interrupted" and summary["stopped_by_asha"] == 0
    assert summary["completed"] == len(done_before) and summary["planned"] == 3
    assert summary["interrupted"] + summary["not_started"] == 3 - len(done_before)
    assert summary["interrupted"] >= 1  # the second trial had reported when Ctrl+C came
    assert all(Path(path).is_file() for path in summary["files"].values()), summary["files"]
    assert "--resume" in log.read_text()
    assert "SIGTERM: stopping as Ctrl+C does" in log.read_text()

    # a copy elsewhere is refused before Ray: Tune's experiment resumes only where it began
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(run_dir, elsewhere / "copy")
    copied = run_cli(["--resume", str(elsewhere / "copy")], timeout=120)
    assert copied.returncode == 2 and "move the run back" in copied.stderr, copied.stderr
    shutil.rmtree(elsewhere / "copy")
    # resumed from another working directory: --resume continues the directory it names
    resumed = run_cli(["--resume", str(run_dir)], cwd=elsewhere)  # joins the run's Ray
    assert resumed.returncode == 0, traceback_of(resumed.stdout + resumed.stderr)
    assert not list(elsewhere.iterdir())  # nothing written where it was run from
    assert json.loads((run_dir / "summary.json").read_text())["state"] == "finished"
    trials = pd.read_parquet(run_dir / "trials.parquet")
    assert len(trials) == 3 and trials["trial_id"].is_unique
    assert set(trials["status"]) == {"completed"}
    after = _reports(run_dir / "tune")
    for trial_id in done_before:  # finished trials were not run again
        assert len(after[trial_id]) == len(before[trial_id])
    epochs = pd.read_parquet(run_dir / "epochs.parquet")
    assert not epochs.duplicated(["trial_id", "epoch"]).any()


def _sigterm_once_ray_init_started_the_gcs(
    tmp_path: Path, space: Path, name: str
) -> tuple[int, str, list[psutil.Process]]:
    """Start a search with a Ray of its own and SIGTERM the driver once its ray.init has
    started the GCS: the driver's exit status (SIGKILL's when the signal was lost and the
    search went on), its output, and the Ray processes it had started."""
    log = tmp_path / f"{name}.log"
    proc = start_cli(_args(tmp_path, name, space), log)  # no --address: a Ray of its own

    def gcs_started() -> list[psutil.Process]:
        children = psutil.Process(proc.pid).children(recursive=True)
        return [p for p in children if "gcs_server" in p.name()]

    def ended_or_lost() -> bool:
        return proc.poll() is not None or "Exception ignored in" in log.read_text()

    try:
        ray_processes = _wait_for(gcs_started, 300, "the driver's ray.init to start the GCS")
        proc.send_signal(signal.SIGTERM)
        _wait_for(ended_or_lost, 300, "the driver to end")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=60)
    return proc.returncode, log.read_text(), ray_processes


def test_sigterm_while_the_driver_starts_its_ray_is_ctrl_c_as_the_search_starts(
    tmp_path: Path, space: Path
) -> None:
    """SIGTERM within ray.init (the driver's own local Ray: its GCS is up, the rest not
    yet) ends the driver as Ctrl+C does there, not with Ray's sys.exit(15) and no word:
    ray.init first installs a SIGTERM handler of its own (search/session.py). A signal
    that lands while ray.init forks a process is lost, Ctrl+C's as well: Python runs the
    handler in an at-fork hook and ignores what it raises ("Exception ignored in ...
    _releaseLock"), and the search goes on; the test tries again then."""
    for attempt in range(3):
        name = f"start{attempt}"
        code, output, ray_processes = _sigterm_once_ray_init_started_the_gcs(tmp_path, space, name)
        if "Exception ignored in" not in output:
            break
    assert code == 130, (code, output[-3000:])
    assert "SIGTERM: stopping as Ctrl+C does" in output, output[-3000:]
    assert "interrupted as the search started" in output, output[-3000:]
    assert not (tmp_path / "results" / "faults" / name).exists()  # nothing kept
    _, left = psutil.wait_procs(ray_processes, timeout=30)
    assert not left, f"the half-started Ray was left running: {left}"


def _wait_for_log(log: Path, text: str, timeout: float) -> None:
    _wait_for(lambda: text in log.read_text(errors="replace"), timeout, repr(text))


def _epochs_reported(run_dir: Path) -> int:
    return sum(len(r) for r in _reports(run_dir / "tune").values())


def test_ctrl_c_twice_then_a_killed_driver_and_resume_still_finish_the_search(
    tmp_path: Path, space: Path, ray_address: str
) -> None:
    run_dir = tmp_path / "results" / "faults" / "twice"
    log = tmp_path / "first.log"
    proc = start_cli(_args(tmp_path, "twice", space), log, ray_address)
    try:
        _wait_for(lambda: _epochs_reported(run_dir) >= 1, 400, "a first report")
        proc.send_signal(signal.SIGINT)
        _wait_for_log(log, "Stop signal received", 60)  # Tune took the first Ctrl+C
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        # 130, or killed by the signal when it came after the driver's last word, while
        # Python shut down: a shell reports both as 130
        assert proc.wait(timeout=300) in (130, -signal.SIGINT)
    finally:
        if proc.poll() is None:
            proc.kill()
    output = log.read_text()
    # Usually the second Ctrl+C lands while Tune is still stopping ("interrupted twice"); on
    # a loaded machine Tune may have stopped already, and it lands as the results are written,
    # or after (the driver reports the unfinished trials). Each way: one message with the
    # resume command, no traceback, exit 130 (Ray stopping the trial's worker may print its
    # own SIGTERM race, which is not the search's).
    said = ("interrupted twice", "interrupted as the results were written", "unfinished trial(s)")
    assert any(words in output for words in said), output
    assert f"--resume {run_dir}" in output, output
    assert "Traceback" not in without_ray_sigterm_noise(output), output
    assert f"Results: {run_dir}" in output and "Result logdir" not in output  # the trial table
    assert (run_dir / "options.json").is_file()  # what --resume needs
    assert not list(run_dir.glob(".*.tmp")), "a half-written file was left"

    log = tmp_path / "second.log"
    proc = start_cli(["--resume", str(run_dir)], log)
    try:
        reported = _epochs_reported(run_dir)
        _wait_for(lambda: _epochs_reported(run_dir) > reported, 400, "a report after resuming")
        proc.kill()  # SIGKILL: the driver writes nothing more
        proc.wait(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()

    resumed = run_cli(["--resume", str(run_dir)])  # joins the run's Ray: its --address
    assert resumed.returncode == 0, traceback_of(resumed.stdout + resumed.stderr)
    trials = pd.read_parquet(run_dir / "trials.parquet")
    assert len(trials) == 3 and set(trials["status"]) == {"completed"}
    epochs = pd.read_parquet(run_dir / "epochs.parquet")
    assert (
        epochs.groupby("trial_id")["epoch"].apply(sorted).map(tuple).tolist() == [(1, 2, 3, 4)] * 3
    )
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["state"] == "finished" and summary["completed"] == 3


CORRUPT_SPACE = """
settings: {num_samples: 3, max_epochs: 3, grace_period: 3, n_startup_trials: 3}
fixed: {size: tiny, daily_window: 60, monthly_window: 3, raion_pca_components: 2,
        anchor_stride: 3, data.synth.days: 420, data.synth.raions: 6}
parameters:
  lr: {type: float, low: 1.0e-4, high: 1.0e+12, log: true}
start: [{lr: 1.0e-3}, {lr: 1.0e+12}, {lr: 2.0e-3}]
"""


def test_a_corrupt_checkpoint_or_a_nan_loss_fails_its_trial_once_and_the_search_goes_on(
    tmp_path: Path, ray_address: str
) -> None:
    """Trial 1's checkpoint of epoch 2 is cut in half and its process killed: the retry
    cannot resume from it and fails the trial, naming the file (retrying again would read
    the same bytes). Trial 2 (lr 1e12) overflows in its first epoch and fails with that
    reason, recorded once (a retry reads the record and fails without training). Trial 3
    runs to its end."""
    space = tmp_path / "faults.yaml"
    space.write_text(CORRUPT_SPACE)
    args = ["--space", str(space), "--max-concurrent", "1", "--max-failures", "2",
            "--results", str(tmp_path / "results"), "--name", "corrupt", "--no-wandb"]  # fmt: skip
    module = "tests.integration.kill_after_report"
    done = run_cli(["2:corrupt", *args], timeout=600, module=module, address=ray_address)
    output = done.stdout + done.stderr
    assert done.returncode == 0, traceback_of(output)
    victim = re.search(r"cut checkpoint \S+ of trial (\S+) in half", output).group(1)
    run_dir = tmp_path / "results" / "faults" / "corrupt"
    trials = pd.read_parquet(run_dir / "trials.parquet").sort_values("created")
    corrupt, nan, fine = (row for _, row in trials.iterrows())
    assert corrupt["trial_id"] == victim and corrupt["status"] == "failed"
    assert corrupt["stop_reason"].startswith("CorruptCheckpointError: checkpoint")
    assert "checkpoint.pt" in corrupt["stop_reason"]
    # epochs 1 and 2 only: the retry failed before training, and was not retried into it
    assert [r["epoch"] for r in _reports(run_dir / "tune")[victim]] == [1, 2]
    assert nan["status"] == "failed"
    assert nan["stop_reason"].startswith("NonFiniteLossError: training loss is not finite")
    (record,) = run_dir.glob(f"tune/*{nan['trial_id']}*/failed.json")
    assert json.loads(record.read_text())["reason"] == nan["stop_reason"]
    assert fine["status"] == "completed" and fine["epochs_run"] == 3
