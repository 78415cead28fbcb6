"""raysearch train --json FILE: the result is written there after the run, so a FILE that is
one of the files the command reads is refused before anything trains."""

from __future__ import annotations

from pathlib import Path

import pytest

import raysearch.cli.train as train_cli
from raysearch.core.files import CHECKPOINT_FILE
from tests.data.test_data_reading import user_dataset


def _refused(argv: list[str], said: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert train_cli.main(argv) == 2
    out, err = capsys.readouterr()
    assert "1 problem(s)" in err and said in err, err
    assert out == ""


def test_a_json_that_is_the_config_file_is_refused_naming_both_and_the_file_is_kept(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """`train --config bc.yaml --json bc.yaml` trained, exited 0 and replaced the
    configuration with the result's JSON."""
    monkeypatch.setattr(train_cli, "_train", pytest.fail)  # nothing may train
    monkeypatch.chdir(tmp_path)
    text = "resolved:\n  trainer.warmup_epochs: 0\n"
    Path("bc.yaml").write_text(text)
    said = "--json bc.yaml: the file --config bc.yaml reads; give a file of its own for the result"
    _refused(["--config", "bc.yaml", "--json", "bc.yaml", "--max-epochs", "2"], said, capsys)
    other = str(tmp_path / "sub" / ".." / "bc.yaml")  # the same file, spelt otherwise
    _refused(["--config", "bc.yaml", "--json", other], f"--json {other}: the file --config", capsys)
    run = Path("run")  # a run directory: the best_config.yaml in it
    run.mkdir()
    (run / "best_config.yaml").write_text(text)
    said = (
        f"--json ./run/best_config.yaml: the file --config run reads ({run / 'best_config.yaml'})"
    )
    _refused(["--config", "run", "--json", "./run/best_config.yaml"], said, capsys)
    assert Path("bc.yaml").read_text() == text
    assert (run / "best_config.yaml").read_text() == text


def test_a_json_that_is_a_checkpoint_sweep_arguments_or_dataset_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The other files train reads: --resume's checkpoint, --from-wandb's arguments, the
    files of the dataset that its manifest names."""
    monkeypatch.setattr(train_cli, "_train", pytest.fail)  # nothing may train
    ck = tmp_path / "ck"
    ck.mkdir()
    (ck / CHECKPOINT_FILE).write_bytes(b"x")
    json = str(ck / CHECKPOINT_FILE)
    assert train_cli.main(["--resume", str(ck), "--json", json]) == 2  # and it cannot be read
    said = f"--json {json}: the checkpoint --resume {ck} resumes; give a file of its own"
    assert said in capsys.readouterr().err
    sweep = tmp_path / "args.json"
    sweep.write_text('{"lr": 0.001}')
    said = f"--json {sweep}: the file --from-wandb {sweep} reads; give a file of its own"
    _refused(["--from-wandb", str(sweep), "--json", str(sweep)], said, capsys)
    data = user_dataset(tmp_path / "ds")
    for name in ("manifest.yaml", "daily.csv", "regime.csv"):
        said = f"--json {data / name}: a file of the dataset --data {data}; give a file of its own"
        _refused(["--data", str(data), "--json", str(data / name)], said, capsys)
    assert sweep.read_text() == '{"lr": 0.001}' and (ck / CHECKPOINT_FILE).read_bytes() == b"x"


def test_a_json_that_is_a_file_the_sweep_names_or_the_checkpoint_kept_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --from-wandb the dataset and the space file are the sweep's (data.path,
    raysearch_space): --json on its manifest or space file replaced them, and every later
    agent run failed; --json on the checkpoint --checkpoint-dir keeps left one that could
    not be resumed (a review helper)."""
    monkeypatch.setattr(train_cli, "_train", pytest.fail)  # nothing may train
    data = user_dataset(tmp_path / "ds")
    space = tmp_path / "mine.yaml"
    space.write_text("parameters: {}\n")
    sweep = tmp_path / "args.json"
    sweep.write_text(f'{{"raysearch_space": "{space}", "data.path": "{data}"}}')
    said = f"--json {data / 'manifest.yaml'}: a file of the dataset the sweep names (data.path "
    _refused(["--from-wandb", str(sweep), "--json", str(data / "manifest.yaml")], said, capsys)
    said = f"--json {space}: the space file the sweep of --from-wandb {sweep} names; give"
    _refused(["--from-wandb", str(sweep), "--json", str(space)], said, capsys)
    kept = tmp_path / "ck" / CHECKPOINT_FILE
    said = f"--json {kept}: the checkpoint --checkpoint-dir {kept.parent} keeps; give a file"
    _refused(["--checkpoint-dir", str(kept.parent), "--json", str(kept)], said, capsys)
    assert space.read_text() == "parameters: {}\n" and not kept.exists()


def test_a_json_beside_the_files_it_reads_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the files read are refused: a file of its own in the dataset's directory, or
    beside the --config file, takes the result."""
    monkeypatch.setattr(train_cli, "_train", lambda args, cfg: {"best_epoch": 3})
    data = user_dataset(tmp_path / "ds")
    assert train_cli.main(["--data", str(data), "--json", str(data / "result.json")]) == 0
    config = tmp_path / "bc.yaml"
    config.write_text("resolved:\n  trainer.warmup_epochs: 0\n")
    assert train_cli.main(["--config", str(config), "--json", str(tmp_path / "r.json")]) == 0
    assert (data / "result.json").is_file() and (tmp_path / "r.json").is_file()
