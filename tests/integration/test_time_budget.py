"""A search with ``--time-budget`` on a real Ray: when the budget runs out, the trial
running is cut and recorded as such, no more are created, the search ends with status 0 and
an honest summary, the study records no trial as still running, and ``--resume`` is refused
in favour of ``--warm-start``, which can start from the run."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pandas as pd
import pytest

from raysearch.search.space import load_space
from raysearch.search.study import STUDY_NAME, open_storage, warm_start_trials
from raysearch.testing.cli import run_cli, tiny_space, traceback_of

pytestmark = pytest.mark.integration

# Long trials (ASHA never stops one: grace period = max_epochs; nor does the trainer's early
# stopping: patience = max_epochs) and many of them: a short budget runs out while a trial
# runs, long before the last is created. With the default patience two trials could end
# within the budget, and the third be cut before its first epoch (seen on a quiet machine).
SPACE = tiny_space(
    "{num_samples: 20, max_epochs: 200, grace_period: 200, n_startup_trials: 3}"
).replace("data.synth.raions: 6}", "data.synth.raions: 6, patience: 200}")


def test_a_time_budget_cuts_the_running_trial_and_ends_the_search(
    tmp_path: Path, ray_address: str
) -> None:
    space = tmp_path / "budget.yaml"
    space.write_text(SPACE)
    done = run_cli(
        ["--space", str(space), "--time-budget", "20s", "--max-concurrent", "1",
         "--results", str(tmp_path / "results"), "--name", "b", "--no-wandb"],
        timeout=600,
        address=ray_address,
    )  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, traceback_of(output)
    run_dir = tmp_path / "results" / "budget" / "b"
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["state"] == "out of time" and summary["time_budget_s"] == 20
    trials = pd.read_parquet(run_dir / "trials.parquet")
    assert 1 <= len(trials) < 20 and summary["n_trials"] == len(trials)
    cut = trials[trials["status"] == "out of time"]
    assert len(cut) >= 1 and set(trials["status"]) <= {"completed", "out of time"}
    assert summary["out_of_time"] == len(cut) and summary["not_started"] == 0
    for _, row in cut.iterrows():
        assert row["epochs_run"] < 200
        assert row["stop_reason"].startswith("the time budget ran out")
    # Each cut trial's epochs are all recorded, however many it ran before the budget ran
    # out: how many fit in 20 s is the machine's (none where Ray's workers start slowly;
    # epochs.parquet then has no columns), so the test asks for no number.
    epochs = pd.read_parquet(run_dir / "epochs.parquet")
    recorded: dict[str, list[int]] = {}
    for trial_id, epoch in zip(epochs.get("trial_id", []), epochs.get("epoch", []), strict=True):
        recorded.setdefault(trial_id, []).append(int(epoch))
    for _, row in cut.iterrows():
        ran = list(range(1, row["epochs_run"] + 1))
        assert sorted(recorded.get(row["trial_id"], [])) == ran
    assert "time budget of 20 s ran out" in output and "--warm-start" in output  # rich wraps
    study = optuna.load_study(study_name=STUDY_NAME, storage=open_storage(run_dir))
    assert not [t for t in study.trials if t.state == optuna.trial.TrialState.RUNNING]
    assert warm_start_trials(run_dir, load_space(str(space)))  # the cut trial seeds one

    before = (run_dir / "summary.json").read_text()
    resumed = run_cli(["--resume", str(run_dir)], timeout=120)
    assert resumed.returncode == 2, resumed.stdout + resumed.stderr
    assert f"--warm-start {run_dir}" in resumed.stderr
    assert (run_dir / "summary.json").read_text() == before
