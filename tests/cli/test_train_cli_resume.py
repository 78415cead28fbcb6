"""raysearch train --resume CK: the configuration given against the one the checkpoint was
trained with, compared before the data is prepared (the checkpoint holds it, "config")."""

from __future__ import annotations

from pathlib import Path

import pytest

import raysearch.cli.train as train_cli
import raysearch.data.prepared as prepared
from raysearch.core.files import CHECKPOINT_FILE
from raysearch.train.checkpoint import load_checkpoint, save_checkpoint

# a tiny synthetic run, as the README's example, on one thread
BASE = ["--synth", "tiny", "--size", "tiny", "--daily-window", "60", "--monthly-window", "3"]


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(checkpoint directory, data cache) of two epochs at lr 0.001 (a few seconds)."""
    root = tmp_path_factory.mktemp("resume")
    argv = [*BASE, "--max-epochs", "2", "--lr", "0.001", "--threads", "1",
            "--cache-dir", str(root / "cache"), "--checkpoint-dir", str(root / "ck")]  # fmt: skip
    assert train_cli.main(argv) == 0
    return root / "ck", root / "cache"


@pytest.fixture
def no_data(monkeypatch: pytest.MonkeyPatch) -> None:
    """The data is not prepared: the command is refused before."""
    monkeypatch.setattr(prepared, "prepare", pytest.fail)


def test_a_learning_rate_other_than_the_checkpoints_is_refused_naming_both(
    checkpoint: tuple[Path, Path], no_data: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """--resume CK --lr 0.5 trained on at the checkpoint's 0.001 (the optimiser's and the
    schedule's state bring it back) while the configuration it printed said 0.5."""
    ck, cache = checkpoint
    argv = [*BASE, "--max-epochs", "3", "--lr", "0.5", "--cache-dir", str(cache)]
    assert train_cli.main([*argv, "--resume", str(ck)]) == 2
    err = capsys.readouterr().err
    assert f"--resume {ck}: a resume continues the configuration the checkpoint" in err, err
    assert "trainer.lr: 0.001 in the checkpoint, 0.5 given (--lr)" in err, err
    assert "drop --resume to train this configuration afresh" in err
    assert "trainer.max_epochs" in err  # what it may change: --max-epochs 3 is not refused


def test_a_checkpoint_of_another_model_is_refused_naming_the_field_before_the_data(
    checkpoint: tuple[Path, Path], no_data: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """A --size tiny checkpoint resumed without --size tiny: load_state_dict's RuntimeError
    (a size mismatch per weight) came out as a traceback, after the data was prepared."""
    ck, cache = checkpoint
    argv = [a for i, a in enumerate(BASE) if "--size" not in BASE[i : i + 2]]  # the default
    assert train_cli.main([*argv, "--cache-dir", str(cache), "--resume", str(ck)]) == 2
    err = capsys.readouterr().err
    assert "1 problem(s)" in err and "model.size: 'tiny' in the checkpoint, 'small' given" in err


def test_a_resume_may_train_for_more_epochs(
    checkpoint: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ck, cache = checkpoint
    argv = [*BASE, "--lr", "0.001", "--threads", "1", "--cache-dir", str(cache)]
    out = tmp_path / "ck"
    assert train_cli.main([*argv, "--max-epochs", "3", "--resume", str(ck),
                           "--checkpoint-dir", str(out)]) == 0  # fmt: skip
    assert [line[:9] for line in capsys.readouterr().out.splitlines() if line[:5] == "epoch"] == [
        "epoch   3"
    ]
    assert load_checkpoint(out)["epoch"] == 3


def test_a_checkpoint_that_cannot_be_read_or_holds_no_configuration_is_refused(
    tmp_path: Path, no_data: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Read before the data is prepared, with the command line's other problems."""
    damaged = tmp_path / "damaged"
    damaged.mkdir()
    (damaged / CHECKPOINT_FILE).write_bytes(b"not a checkpoint")
    argv = [*BASE, "--json", str(tmp_path / "no" / "out.json")]
    assert train_cli.main([*argv, "--resume", str(damaged)]) == 2
    err = capsys.readouterr().err
    assert "2 problem(s)" in err and "--json" in err, err
    assert f"--resume {damaged}: checkpoint {damaged / CHECKPOINT_FILE} cannot be read" in err
    save_checkpoint(tmp_path / "bare", {"epoch": 1})
    assert train_cli.main([*BASE, "--resume", str(tmp_path / "bare")]) == 2
    assert "holds no training configuration" in capsys.readouterr().err
