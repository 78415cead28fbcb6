"""raysearch train --workers N: what the command makes of Ray Train's Result, and what it
refuses before Ray starts. Ray Train is stood in for (``fit_distributed`` faked): no Ray."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

import raysearch.cli.train as train_cli
import raysearch.train.ray_train as ray_train

# a tiny synthetic run, as the README's example
ARGV = ["--synth", "tiny", "--size", "tiny", "--daily-window", "60", "--monthly-window", "3"]
# the last epoch's report: what Ray Train's Result.metrics holds
LAST_EPOCH = {"epoch": 2, "anchored_val_loss": 0.5, "best_anchored_val_loss": 0.4}


def _ray_train_returns(monkeypatch: pytest.MonkeyPatch, value: dict[str, Any]) -> None:
    """fit_distributed as Ray Train ends: no error, the last report in ``metrics``, rank
    0's return value in ``return_value``."""
    result = SimpleNamespace(
        error=None, metrics=dict(LAST_EPOCH), checkpoint=None, return_value=value
    )
    monkeypatch.setattr(ray_train, "fit_distributed", lambda *a, **k: result)


def test_a_trial_failure_on_the_workers_fails_the_command_with_exit_1(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A non-finite loss on the workers comes back as rank 0's return value, not as
    Result.error (Ray Train would retry an exception): the command printed the last
    epoch's metrics as its result and exited 0."""
    reason = "NonFiniteLossError: training loss is not finite at epoch 1 (daily_forecast)"
    _ray_train_returns(monkeypatch, {"trial_failure": reason})
    out = tmp_path / "out.json"
    argv = [*ARGV, "--workers", "2", "--cache-dir", str(tmp_path / "c"), "--json", str(out),
            "--checkpoint-dir", str(tmp_path / "ck")]  # fmt: skip
    assert train_cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err == f"error: the run failed: {reason}\n", err  # as --workers 1 words it
    assert not out.exists()


def test_a_worker_that_raised_fails_the_command_with_exit_1_and_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A worker's exception (or its process's death) reaches the command as Ray Train's
    error of every rank: it was not caught, and the command ended in a traceback of each
    rank's traceback. It is said in one line, naming the worker the others followed."""
    from ray.train import WorkerGroupError

    snippets = (
        "[Rank 0 Error Snippet]:\nTraceback (most recent call last):\n  File x.py\n"
        "OSError: [Errno 28] No space left on device\n[Rank 1 Error Snippet]:\n"
        "RuntimeError: [gloo/transport/tcp/pair.cc:553] Connection closed by peer"
    )
    failures = {0: OSError(28, "No space left on device"), 1: RuntimeError("closed by peer")}

    def fit_distributed(*args: Any, **kwargs: Any) -> None:
        raise WorkerGroupError(snippets, failures)

    monkeypatch.setattr(ray_train, "fit_distributed", fit_distributed)
    argv = [*ARGV, "--workers", "2", "--cache-dir", str(tmp_path / "c"),
            "--checkpoint-dir", str(tmp_path / "ck")]  # fmt: skip
    assert train_cli.main(argv) == 1
    err = capsys.readouterr().err
    assert err.startswith(
        "error: the run failed: worker 0: OSError: [Errno 28] No space left on device "
        "(1 other worker failed after it: RuntimeError: "
    ), err
    assert err.count("\n") == 1, err


def test_a_data_parallel_run_prints_the_summary_a_one_process_run_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The summary (stdout and --json) was Ray Train's Result.metrics, the last epoch's
    report: no stop reason, no best epoch, no test metrics. Rank 0's worker loop runs here
    as Ray Train would run it (its reports and context stood in for, a fake model and
    data), and its return value reaches the command: the summary is the one-process one."""
    import ray.train
    import torch

    import raysearch.data.prepared as prepared
    from raysearch.testing.train import factory, fake_data
    from raysearch.train import loop

    data = fake_data(n_train=32, n_eval=16)
    real_fit = loop.fit
    monkeypatch.setattr(loop, "fit", lambda *a, **k: real_fit(*a, **k, model_factory=factory()))
    monkeypatch.setattr(prepared, "prepare", lambda *a, **k: data)
    monkeypatch.setattr(ray.train, "get_context", lambda: SimpleNamespace(get_world_rank=lambda: 0))
    monkeypatch.setattr(ray.train, "get_checkpoint", lambda: None)
    monkeypatch.setattr(ray.train, "report", lambda metrics, checkpoint=None: None)
    monkeypatch.setattr(ray_train.RankZeroReports, "install", lambda rank: None)

    def fit_distributed(cfg, plan, cache_dir, **kwargs):  # type: ignore[no-untyped-def]
        loop_config = {"trial_config": cfg, "cache_dir": str(cache_dir),
                       "cpus_per_worker": 1.0, "submitted_unix": 0.0}  # fmt: skip
        returned = ray_train._worker_loop(loop_config)
        return SimpleNamespace(error=None, metrics=dict(LAST_EPOCH), return_value=returned)

    monkeypatch.setattr(ray_train, "fit_distributed", fit_distributed)
    out = tmp_path / "out.json"
    argv = [*ARGV, "--max-epochs", "3", "--warmup-epochs", "0", "--batch-size", "8"]
    threads = torch.get_num_threads()
    try:
        storage = ["--checkpoint-dir", str(tmp_path / "ck")]
        assert train_cli.main([*argv, "--workers", "2", "--json", str(out), *storage]) == 0
        one_process = real_fit(train_cli.build_config(train_cli.parse_args(argv)), data,
                               model_factory=factory())  # fmt: skip
    finally:
        torch.set_num_threads(threads)
    summary = json.loads(out.read_text())
    assert json.loads(capsys.readouterr().out.split("\n", 1)[1]) == summary  # after the config
    assert summary == {  # the same fit, on one thread
        "stop_reason": one_process.stop_reason,
        "best_epoch": one_process.best_epoch,
        "best_metrics": one_process.best_metrics,
        "test_metrics": one_process.test_metrics,
    }
    assert "anchored_test_loss" in summary["test_metrics"]


def test_a_data_parallel_run_prints_a_line_per_epoch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The command promises a line per epoch; through Ray Train it printed none of its own.
    Ray Train's controller calls the command's callback after each epoch's reports (sent
    to it pickled, as Ray sends it), with every rank's metrics."""
    from ray import cloudpickle

    epochs = [
        {**LAST_EPOCH, "epoch": e, "train_objective": 1.5, "lr": 1e-3, "epoch_time_s": 0.5}
        for e in (1, 2)
    ]

    def fit_distributed(*args: object, callbacks: list[Any], **kwargs: object) -> Any:
        [callback] = [cloudpickle.loads(cloudpickle.dumps(c)) for c in callbacks]
        for metrics in epochs:
            callback.after_report(None, [metrics, dict(metrics)], None)  # rank 0's, rank 1's
        summary = {"stop_reason": "max_epochs", "best_epoch": 2, "best_metrics": epochs[1],
                   "test_metrics": {"anchored_test_loss": 0.45}}  # fmt: skip
        return SimpleNamespace(error=None, metrics=epochs[1],
                               return_value={"final_report": {}, "summary": summary})  # fmt: skip

    monkeypatch.setattr(ray_train, "fit_distributed", fit_distributed)
    storage = ["--cache-dir", str(tmp_path / "c"), "--checkpoint-dir", str(tmp_path / "ck")]
    assert train_cli.main([*ARGV, "--workers", "2", *storage]) == 0
    lines = [line for line in capsys.readouterr().out.splitlines() if line.startswith("epoch")]
    assert lines == [
        "epoch   1  anchored_val_loss +0.5000  best +0.4000  train_objective 1.5000  "
        "lr 1.00e-03  0.5s",
        "epoch   2  anchored_val_loss +0.5000  best +0.4000  train_objective 1.5000  "
        "lr 1.00e-03  0.5s",
    ]


def test_a_batch_the_workers_cannot_share_is_refused_before_ray_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--batch-size 16 over --workers 3: every worker refused it (train/loop.py), once Ray
    had started and the data was prepared. It is refused with the command line's other
    problems, exit 2, naming where the batch size came from; nothing is written."""
    monkeypatch.setattr(ray_train, "fit_distributed", pytest.fail)  # Ray must not start
    cache = tmp_path / "cache"
    argv = [*ARGV, "--workers", "3", "--cache-dir", str(cache)]
    assert train_cli.main([*argv, "--batch-size", "16", "--threads", "1"]) == 2
    err = capsys.readouterr().err
    assert "2 problem(s)" in err and "--threads 1" in err, err  # said together
    assert (
        "--batch-size 16 (trainer.batch_size): each of the --workers 3 takes an equal share "
        "of a batch, and 16 is not divisible by 3" in err
    ), err
    config = tmp_path / "best_config.yaml"
    config.write_text("resolved:\n  trainer.batch_size: 8\n")
    assert train_cli.main([*argv, "--config", str(config)]) == 2
    assert f"--config {config}: trainer.batch_size 8: each of the --workers 3" in (
        capsys.readouterr().err
    )
    assert not cache.exists()


def test_a_batch_size_flag_over_a_config_file_is_named_as_the_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--batch-size 9 over --config's batch size 8: the batch the workers cannot share is
    the flag's, and the refusal names the flag the user typed, not the file it overrode."""
    monkeypatch.setattr(ray_train, "fit_distributed", pytest.fail)  # Ray must not start
    config = tmp_path / "best_config.yaml"
    config.write_text("resolved:\n  trainer.batch_size: 8\n")
    argv = [*ARGV, "--workers", "2", "--cache-dir", str(tmp_path / "c"), "--config",
            str(config), "--batch-size", "9"]  # fmt: skip
    assert train_cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "--batch-size 9 (trainer.batch_size): each of the --workers 2 takes" in err, err
    assert "--config" not in err, err


def test_a_batch_larger_than_the_training_split_is_refused_before_ray_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With --workers, a batch no training split could fill failed on every worker, a
    traceback and exit 1 once Ray had started; one process refused it with exit 2. It is
    refused on the data the driver prepares (cached for the workers), exit 2, before Ray."""
    monkeypatch.setattr(ray_train, "fit_distributed", pytest.fail)  # Ray must not start
    argv = [*ARGV, "--workers", "2", "--cache-dir", str(tmp_path / "c")]
    assert train_cli.main([*argv, "--batch-size", "100000"]) == 2
    err = capsys.readouterr().err
    assert "--batch-size 100000 (trainer.batch_size): exceeds the " in err, err
    assert "training samples (the workers train on whole batches of them)" in err, err


def test_a_batch_is_held_to_the_first_origins_training_split_the_smallest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """With two validation origins the first trains on 160 samples, the last on 191: a
    batch of 162 fits the last but failed on every worker at the first; a batch of exactly
    160 is one whole batch and must reach the workers."""
    monkeypatch.setattr(ray_train, "fit_distributed", pytest.fail)  # Ray must not start
    argv = [*ARGV, "--workers", "2", "--cache-dir", str(tmp_path / "c"), "--val-origins", "2"]
    assert train_cli.main([*argv, "--batch-size", "162"]) == 2
    assert "--batch-size 162 (trainer.batch_size): exceeds the 160 training samples" in (
        capsys.readouterr().err
    )
    _ray_train_returns(monkeypatch, {"trial_failure": "the workers trained"})
    assert train_cli.main([*argv, "--batch-size", "160"]) == 1
    assert capsys.readouterr().err == "error: the run failed: the workers trained\n"


def test_a_test_split_with_no_target_is_refused_before_ray_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The dataset's newest months have no target yet and trainer.score_test is on (the
    default): every worker would fail scoring the test split once Ray had started. It is
    refused on the data the driver prepares, exit 2, saying how to train without it."""
    from tests.data.test_data_reading import user_dataset
    from tests.data.test_data_tasks import _regime_only

    monkeypatch.setattr(ray_train, "fit_distributed", pytest.fail)  # Ray must not start
    root = _regime_only(user_dataset(tmp_path / "ds", days=400), slice(0, 11))
    argv = ["--data", str(root), "--size", "tiny", "--daily-window", "30",
            "--monthly-window", "3", "--workers", "2", "--batch-size", "8",
            "--cache-dir", str(tmp_path / "c")]  # fmt: skip
    assert train_cli.main(argv) == 2
    err = capsys.readouterr().err
    assert "the test split (anchor days 2022-12-05..2023-01-28; targets for months " in err, err
    assert "trainer.score_test would score it" in err, err


def test_a_data_parallel_checkpoint_is_refused_before_the_data_whatever_the_workers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A checkpoint of a two-worker fit (two ranks' generators): --workers 2 said to resume
    it with --workers 1, which passed the check before the data, prepared them, and only
    then was refused by the loop ('written by 2 worker(s) ... resume it with as many'). No
    command resumes it, and each says so, the same, before the data and before Ray."""
    import raysearch.data.prepared as prepared
    from raysearch.train.checkpoint import save_checkpoint

    monkeypatch.setattr(prepared, "prepare", pytest.fail)
    monkeypatch.setattr(ray_train, "fit_distributed", pytest.fail)
    cfg = train_cli.build_config(train_cli.parse_args(ARGV))
    save_checkpoint(tmp_path / "ck", {"config": cfg, "rng": [{}, {}], "origins": [{}]})
    argv = [*ARGV, "--cache-dir", str(tmp_path / "c"), "--resume", str(tmp_path / "ck")]
    said = []
    for workers in ("1", "2"):
        assert train_cli.main([*argv, "--workers", workers]) == 2
        said.append(capsys.readouterr().err)
    assert said[0] == said[1] and "1 problem(s)" in said[0], said
    assert (
        "the checkpoint was written by a data-parallel fit of 2 workers (it holds each one's "
        "random generators), which raysearch train cannot resume" in said[0]
    )
    save_checkpoint(tmp_path / "ck", {"config": cfg, "rng": [{}], "origins": [{}]})
    assert train_cli.main([*argv, "--workers", "2"]) == 2
    err = capsys.readouterr().err
    assert "1 problem(s)" in err and "resume this checkpoint with --workers 1" in err, err


def test_a_data_parallel_run_without_checkpoint_dir_leaves_no_directory_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without --checkpoint-dir the command kept Ray Train's storage (every epoch's
    checkpoint) in a directory made by tempfile.mkdtemp and never removed: every run left
    a raysearch-train-* directory in the system's temporary directory."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the system's, here
    summary = {"stop_reason": "max_epochs", "best_epoch": 1, "best_metrics": {},
               "test_metrics": {}}  # fmt: skip
    storages = []

    def fit_distributed(*args: object, storage_path: str, **kwargs: object) -> Any:
        storages.append(Path(storage_path))
        (Path(storage_path) / "debug" / "checkpoint_000000").mkdir(parents=True)  # as Ray Train
        return SimpleNamespace(error=None, metrics={}, checkpoint=None,
                               return_value={"final_report": {}, "summary": summary})  # fmt: skip

    monkeypatch.setattr(ray_train, "fit_distributed", fit_distributed)
    argv = [*ARGV, "--workers", "2", "--cache-dir", str(tmp_path / "cache")]
    assert train_cli.main(argv) == 0
    assert storages[0].parent == tmp_path and storages[0].name.startswith("raysearch-train-")
    assert not storages[0].exists()
    assert train_cli.main([*argv, "--checkpoint-dir", str(tmp_path / "ck")]) == 0
    assert storages[1] == tmp_path / "ck" and (tmp_path / "ck" / "debug").is_dir()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith("raysearch-train-")]


def test_a_relative_dataset_and_cache_reach_the_workers_as_absolute_paths(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ray Train worker runs in a directory of Ray's own: a relative --data named nothing
    there, and a relative --cache-dir another cache than the one the driver prepared the
    data into (found by a review helper)."""
    from tests.data.test_data_reading import user_dataset

    user_dataset(tmp_path / "ds", days=400)
    monkeypatch.chdir(tmp_path)
    given: list[tuple[Any, Any]] = []

    def fit_distributed(cfg: Any, plan: Any, cache_dir: Any, **kwargs: object) -> Any:
        given.append((cfg.data.path, cache_dir))
        summary = {"stop_reason": "max_epochs", "best_epoch": 1, "best_metrics": LAST_EPOCH,
                   "test_metrics": {}}  # fmt: skip
        return SimpleNamespace(error=None, metrics=LAST_EPOCH,
                               return_value={"final_report": {}, "summary": summary})  # fmt: skip

    monkeypatch.setattr(ray_train, "fit_distributed", fit_distributed)
    argv = ["--data", "ds", "--size", "tiny", "--daily-window", "30", "--monthly-window", "3"]
    assert train_cli.main([*argv, "--workers", "2", "--cache-dir", "c"]) == 0
    assert given == [(str(tmp_path / "ds"), str(tmp_path / "c"))]
    assert list((tmp_path / "c").glob("*.pt"))  # prepared by the driver, for the workers
