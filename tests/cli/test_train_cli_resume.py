"""raysearch train --resume CK: the configuration given against the one the checkpoint was
trained with, compared before the data is prepared (the checkpoint holds it, "config")."""

from __future__ import annotations

import dataclasses
import sys
import types
from pathlib import Path

import pytest
import yaml

import raysearch.cli.train as train_cli
import raysearch.data.prepared as prepared
from raysearch.cli.train_resume import resume_problems
from raysearch.core.files import CHECKPOINT_FILE
from raysearch.core.params import build_trial_config
from raysearch.data.cache import fingerprint
from raysearch.search.resources import ResourcePlan
from raysearch.search.tracking import flat_config
from raysearch.search.trainable import TrialSetup, trial_config
from raysearch.train.checkpoint import load_checkpoint, save_checkpoint
from raysearch.train.resume import RESUMABLE
from tests.data.test_data_reading import user_dataset

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
    (a size mismatch per weight) came out as a traceback, after the data was prepared. The
    default a flag not given takes is said as one (it was said '(--size)', as if given:
    found by a README audit helper)."""
    ck, cache = checkpoint
    argv = [a for i, a in enumerate(BASE) if "--size" not in BASE[i : i + 2]]  # the default
    assert train_cli.main([*argv, "--cache-dir", str(cache), "--resume", str(ck)]) == 2
    err = capsys.readouterr().err
    assert "1 problem(s)" in err
    assert "model.size: 'tiny' in the checkpoint, 'small' given (--size not given: its " in err
    assert train_cli.main([*argv, "--size", "small", "--cache-dir", str(cache), "--resume",
                           str(ck)]) == 2  # fmt: skip
    assert "model.size: 'tiny' in the checkpoint, 'small' given (--size)\n" in (
        capsys.readouterr().err
    )


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
    (tmp_path / "a-file").write_text("")  # --json under it cannot be written
    argv = [*BASE, "--json", str(tmp_path / "a-file" / "out.json")]
    assert train_cli.main([*argv, "--resume", str(damaged)]) == 2
    err = capsys.readouterr().err
    assert "2 problem(s)" in err and "--json" in err, err
    assert f"--resume {damaged}: checkpoint {damaged / CHECKPOINT_FILE} cannot be read" in err
    save_checkpoint(tmp_path / "bare", {"epoch": 1})
    assert train_cli.main([*BASE, "--resume", str(tmp_path / "bare")]) == 2
    assert "holds no training configuration" in capsys.readouterr().err


def _problems(argv: list[str]) -> list[str]:
    """What --resume's check (before the data) says of the command line ``argv``."""
    args = train_cli.parse_args(argv)
    return resume_problems(args, train_cli.build_config(args), train_cli._FIELD_FLAGS)


def test_the_same_dataset_named_otherwise_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Trained with --data ds, resumed with --data ./ds (its absolute path, ds/): the same
    directory was refused as 'data.path differs'."""
    monkeypatch.chdir(tmp_path)
    data = user_dataset(tmp_path / "ds", days=200)
    cfg = train_cli.build_config(train_cli.parse_args(["--data", "ds"]))
    save_checkpoint(tmp_path / "ck", {"config": cfg, "data_fingerprint": fingerprint(cfg.data)})
    for same in (str(data), "./ds", "ds/"):
        assert _problems(["--data", same, "--resume", "ck"]) == [], same


def test_a_search_trials_checkpoint_resumes_where_its_data_lives_now(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search trial's checkpoint holds the absolute path of the search's data, on the
    machine that ran it: --config refuses that path where it is not, asking for --data,
    and --resume refused the --data given (data.path differs): no command resumed it."""
    monkeypatch.chdir(tmp_path)
    user_dataset(tmp_path / "here", days=200)
    elsewhere = user_dataset(tmp_path / "there", days=200)
    base = build_trial_config({"data.path": "/cluster/datasets/ukraine", "trainer.seed": 0})
    setup = TrialSetup(base, {"model.size": "tiny"}, 5, "c", "s", ResourcePlan(1, 1, 1.0, 0.0, {}))
    trained = trial_config(setup, {"trainer.lr": 0.000123456789, "trainer.seed": 12})
    recorded = fingerprint(dataclasses.replace(trained.data, path=str(elsewhere)))
    save_checkpoint(tmp_path / "ck", {"config": trained, "data_fingerprint": recorded})
    config = {"resolved": flat_config(trained)}
    (tmp_path / "best_config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    argv = ["--config", "best_config.yaml", "--data", "here", "--resume", "ck"]
    assert _problems(argv) == []


def test_a_checkpoint_of_other_data_is_refused_before_the_data(
    tmp_path: Path, no_data: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """The dataset's path is not compared; its fingerprint, which the checkpoint records, is:
    the same directory holding other data is refused, as is synthetic data for a checkpoint
    of a dataset directory."""
    data = user_dataset(tmp_path / "ds", days=200)
    argv = ["--data", str(data), "--cache-dir", str(tmp_path / "c")]
    cfg = train_cli.build_config(train_cli.parse_args(argv))
    save_checkpoint(tmp_path / "ck", {"config": cfg, "data_fingerprint": fingerprint(cfg.data)})
    assert _problems([*argv, "--resume", str(tmp_path / "ck")]) == []
    (data / "daily.csv").write_text((data / "daily.csv").read_text().replace(",6\n", ",5\n"))
    assert train_cli.main([*argv, "--resume", str(tmp_path / "ck")]) == 2
    err = capsys.readouterr().err
    assert f"the checkpoint was trained on other data than the dataset at {data} (data " in err
    (data / "manifest.yaml").unlink()  # no dataset there: said once, by the command's check
    assert train_cli.main([*argv, "--resume", str(tmp_path / "ck")]) == 2
    err = capsys.readouterr().err
    assert "(1 problem(s))" in err, err
    assert f"--data: {data / 'manifest.yaml'}: manifest file missing" in err
    assert _problems(["--resume", str(tmp_path / "ck")]) == [
        f"--resume {tmp_path / 'ck'}: a resume continues the configuration the checkpoint was "
        "trained with (its weights, optimiser and learning-rate schedule are restored), and "
        f"this command gives another:\n      data.path: {str(data)!r} in the checkpoint, None "
        "given (--data not given: its default)\n    resume it with the checkpoint's values "
        "(the flags, or the --config file, of the run that wrote it), or drop --resume to "
        "train this configuration "
        f"afresh; a resume may change only {', '.join(sorted(RESUMABLE))}"
    ]


def test_a_real_data_trial_resumes_with_the_flags_of_its_values(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A search on a dataset directory whose trial trained with seed 12: --seed 12 also
    sets data.synth.seed (the synthetic data's, unused with --data), which the search left
    at 0, and the resume was refused for it, a field no flag sets apart. Synthetic data given
    for it are refused as such, not for their generator's fields."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "ds").mkdir()
    base = build_trial_config({"data.path": str(tmp_path / "ds"), "trainer.seed": 0})
    setup = TrialSetup(base, {}, 20, "c", "s", ResourcePlan(1, 1, 1.0, 0.0, {}))
    trained = trial_config(setup, {"trainer.lr": 0.003, "trainer.seed": 12})
    save_checkpoint(tmp_path / "ck", {"config": trained})
    argv = ["--data", "ds", "--lr", "0.003", "--seed", "12", "--resume", "ck"]
    assert _problems(argv) == []
    problems = _problems(["--lr", "0.003", "--seed", "12", "--resume", "ck"])  # synthetic
    assert "data.path: " in problems[0] and "data.synth" not in problems[0], problems[0]


def test_a_checkpoint_of_an_older_raysearch_is_refused_in_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    no_data: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A checkpoint pickled its configuration as raysearch.train.config.TrialConfig before
    the configurations moved to raysearch.core: reading it for --resume's check let
    unpickling's ModuleNotFoundError out as a traceback (a class gone from a module that
    is still there: AttributeError)."""
    old = types.ModuleType("raysearch.train.config")

    @dataclasses.dataclass(frozen=True)
    class TrialConfig:  # the class as an older raysearch pickled it
        lr: float = 1e-3

    TrialConfig.__module__, TrialConfig.__qualname__ = old.__name__, "TrialConfig"
    old.TrialConfig = TrialConfig  # type: ignore[attr-defined]
    for gone in ("module", "class"):
        monkeypatch.setitem(sys.modules, old.__name__, old)
        save_checkpoint(tmp_path / "ck", {"config": TrialConfig(), "epoch": 1})
        if gone == "module":
            monkeypatch.delitem(sys.modules, old.__name__)
        else:
            del old.TrialConfig  # type: ignore[attr-defined]
        assert train_cli.main([*BASE, "--resume", str(tmp_path / "ck")]) == 2
        err = capsys.readouterr().err
        assert (
            f"  - --resume {tmp_path / 'ck'}: checkpoint {tmp_path / 'ck' / CHECKPOINT_FILE} was "
            "written by an older raysearch and cannot be resumed: it refers to what this one "
            "no longer has (" in err
        ), err
        assert "drop --resume to train this configuration afresh\n" in err
        assert "Traceback" not in err and "1 problem(s)" in err


def test_a_field_no_flag_sets_is_said_to_be_the_default_and_how_to_give_it(
    tmp_path: Path, no_data: None
) -> None:
    """A field no flag sets (a default changed since the checkpoint was written, or a
    search's value) was met with advice to give the flags of the run that wrote it, which
    do not exist. It is said to be the default here, and the --config file that gives the
    checkpoint's value is named; that file resumes it."""
    cfg = train_cli.build_config(train_cli.parse_args(BASE))
    trained = dataclasses.replace(
        cfg,
        trainer=dataclasses.replace(cfg.trainer, weight_decay=0.5),
        loss=dataclasses.replace(cfg.loss, kendall_clamp=(-1.0, 1.0)),
    )
    save_checkpoint(tmp_path / "ck", {"config": trained})
    [problem] = _problems([*BASE, "--resume", str(tmp_path / "ck")])
    unset = (
        " (no flag sets it: the default here; the checkpoint's came from a --config file, "
        "a search, or an older default)"
    )
    assert (
        f"trainer.weight_decay: 0.5 in the checkpoint, {cfg.trainer.weight_decay!r} given{unset}"
        in problem
    )
    assert (
        "(the flags, or the --config file, of the run that wrote it; what no flag sets, with "
        "--config FILE whose resolved: section holds loss.kendall_clamp: [-1.0, 1.0], "
        "trainer.weight_decay: 0.5), or drop --resume" in problem
    ), problem
    (tmp_path / "c.yaml").write_text(
        "resolved:\n  loss.kendall_clamp: [-1.0, 1.0]\n  trainer.weight_decay: 0.5\n"
    )
    assert (
        _problems([*BASE, "--config", str(tmp_path / "c.yaml"), "--resume", str(tmp_path / "ck")])
        == []
    )


def _seed_problem(argv: list[str]) -> str:
    [problem] = _problems(argv)
    return problem


def test_the_synthetic_datas_seed_is_said_to_come_from_seed_only_where_seed_gives_it(
    tmp_path: Path,
) -> None:
    """--seed sets data.synth.seed with trainer.seed, and only without --config; the refusal
    named (--seed) for it beside --config, and for a search trial's checkpoint, whose two
    seeds differ (the search's data seed, the trial's own), where no flag gives both and a
    --config file's resolved: section does. Found by a review helper."""
    trained = train_cli.build_config(train_cli.parse_args(["--seed", "3"]))
    save_checkpoint(tmp_path / "ck", {"config": trained})
    (tmp_path / "c.yaml").write_text("resolved:\n  trainer.lr: 0.001\n")
    ck = str(tmp_path / "ck")
    problem = _seed_problem(["--config", str(tmp_path / "c.yaml"), "--seed", "3", "--resume", ck])
    assert "      data.synth.seed: 3 in the checkpoint, 0 given\n" in problem, problem
    assert "data.synth.seed: 3 in the checkpoint, 5 given (--seed)" in _seed_problem(
        ["--seed", "5", "--resume", ck]
    )
    setup = TrialSetup(
        build_trial_config({"trainer.seed": 0}), {}, 20, "c", "s", ResourcePlan(1, 1, 1.0, 0.0, {})
    )
    save_checkpoint(tmp_path / "trial", {"config": trial_config(setup, {"trainer.seed": 12})})
    problem = _seed_problem(["--seed", "12", "--resume", str(tmp_path / "trial")])
    assert "resolved: section holds data.synth.seed: 0" in problem, problem


def test_a_config_files_value_is_said_as_the_files_not_as_a_flag_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With --config, a value that differs from the checkpoint's because the file says so
    was said '(--lr)', as if typed (found by a review helper); a flag typed over the file
    is said as given."""
    monkeypatch.chdir(tmp_path)
    trained = train_cli.build_config(train_cli.parse_args(["--lr", "0.001"]))
    save_checkpoint(tmp_path / "ck", {"config": trained})
    other = train_cli.build_config(train_cli.parse_args(["--lr", "0.5"]))
    (tmp_path / "best.yaml").write_text(yaml.safe_dump({"resolved": flat_config(other)}))
    [problem] = _problems(["--config", "best.yaml", "--resume", "ck"])
    assert "trainer.lr: 0.001 in the checkpoint, 0.5 given (--config best.yaml)\n" in problem
    [problem] = _problems(["--config", "best.yaml", "--lr", "0.4", "--resume", "ck"])
    assert "trainer.lr: 0.001 in the checkpoint, 0.4 given (--lr)\n" in problem
