"""The debugging CLI: arguments -> one validated TrialConfig (no training here)."""

from __future__ import annotations

import dataclasses
import re

import pytest

import raysearch.cli.train as train_cli
from raysearch.cli.train import CONFIG_FLAGS, build_config, parse_args
from raysearch.core.data_config import DataConfig
from raysearch.core.errors import ConfigError
from raysearch.core.files import CHECKPOINT_FILE
from raysearch.core.loss_config import LossConfig
from raysearch.core.model_config import ModelConfig
from raysearch.core.trainer_config import TrainerConfig
from raysearch.core.trial_config import TrialConfig
from raysearch.train.epoch import NonFiniteLossError


def test_arguments_reach_every_section() -> None:
    args = parse_args(
        [
            "--size",
            "tiny",
            "--loss-strategy",
            "a3dro",
            "--max-epochs",
            "5",
            "--synth",
            "tiny",
            "--budget-beta",
            "0.5",
            "--daily-window",
            "60",
            "--pca",
            "0",
            "--seed",
            "7",
        ]
    )
    cfg = build_config(args)
    assert cfg.model.size == "tiny" and cfg.loss.strategy == "a3dro"
    assert cfg.loss.budget_beta == 0.5 and cfg.trainer.max_epochs == 5
    assert cfg.trainer.seed == 7 and cfg.data.synth.seed == 7
    assert cfg.data.daily_window == 60 and cfg.data.raion_pca_components == 0
    assert cfg.data.path is None and cfg.data.synth.days == 420  # the tiny preset


def test_bad_arguments_fail_before_anything_runs_naming_the_value() -> None:
    with pytest.raises(ConfigError, match=r"'sgd'.*valid"):
        build_config(parse_args(["--loss-strategy", "sgd"]))
    with pytest.raises(ConfigError, match="max_epochs"):
        build_config(parse_args(["--max-epochs", "0"]))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--threads", "0"], "argument --threads: expected a positive integer, got 0"),
        (["--workers", "0"], "argument --workers: expected a positive integer, got 0"),
        (["--data", "d", "--synth", "tiny"], "--synth makes a synthetic dataset and --data"),
    ],
)
def test_flags_that_would_be_ignored_are_refused(argv: list[str], message: str, capsys) -> None:
    """--threads 0 left torch's threads as they were, --workers 0 trained on one process,
    and --synth beside --data was dropped: each is refused, naming the flag."""
    with pytest.raises(SystemExit) as exited:
        parse_args(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_no_flag_trains_the_default_trial_config() -> None:
    assert build_config(parse_args([])) == TrialConfig()


_SECTIONS = {"data": DataConfig, "model": ModelConfig, "loss": LossConfig, "trainer": TrainerConfig}
# A valid value different from any default, per field type (str fields: another choice).
_OTHER_STR = {"size": "tiny", "strategy": "kendall"}


@pytest.mark.parametrize("flag", list(CONFIG_FLAGS))
def test_a_changed_config_default_reaches_the_flag_and_its_help(
    flag: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The flag's default is the dataclass field's: change the field's default (as editing
    the config would) and the parsed arguments, the config and --help follow it."""
    section, name, _ = CONFIG_FLAGS[flag]
    config = _SECTIONS[section]
    field = next(f for f in dataclasses.fields(config) if f.name == name)
    old = field.default
    new = _OTHER_STR[name] if isinstance(old, str) else old + 1 if isinstance(old, int) else old / 2
    monkeypatch.setattr(field, "default", new)

    args = parse_args([])
    assert getattr(getattr(build_config(args), section), name) == new
    with pytest.raises(SystemExit):
        parse_args(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    metavar = flag.removeprefix("--").replace("-", "_").upper()
    shown = re.search(rf"{flag} {metavar} .*?\(default: ([^)]*)\)", help_text)
    assert shown is not None and shown.group(1) == str(new)


def test_files_it_could_not_use_are_named_before_it_trains_and_a_failed_run_is_one_line(
    tmp_path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(train_cli, "_train", pytest.fail)  # nothing may train
    assert train_cli.main(["--resume", str(tmp_path / "nope.pt")]) == 2
    assert "--resume" in capsys.readouterr().err
    assert train_cli.main(["--resume", str(tmp_path)]) == 2  # a directory without one
    assert f"no checkpoint there (a {CHECKPOINT_FILE}" in capsys.readouterr().err
    assert train_cli.main(["--json", str(tmp_path)]) == 2
    assert "--json" in capsys.readouterr().err

    def diverged(args: object, cfg: object) -> None:
        raise NonFiniteLossError("training", ["daily_forecast"], 1)

    monkeypatch.setattr(train_cli, "_train", diverged)
    assert train_cli.main([]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: the run failed: NonFiniteLossError") and "Traceback" not in err


def test_every_bad_value_of_the_command_line_is_one_error(
    tmp_path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The sections were built one at a time: the first bad one hid the others, and a
    --resume with no checkpoint hid every bad value."""
    monkeypatch.setattr(train_cli, "_train", pytest.fail)  # nothing may train
    assert train_cli.main(["--dropout", "nan", "--lr", "inf", "--pca", "-1"]) == 2
    err = capsys.readouterr().err
    for named in ("dropout", "nan", "lr", "inf", "raion_pca_components", "-1"):
        assert named in err, err
    assert train_cli.main(["--resume", str(tmp_path), "--dropout", "2"]) == 2
    err = capsys.readouterr().err
    assert "--resume" in err and "dropout" in err and "2" in err, err


@pytest.mark.parametrize(
    ("flag", "why"),
    [("--resume", "resumes only from its own checkpoints"), ("--threads", "its own threads")],
)
def test_a_flag_the_distributed_path_cannot_use_is_refused(
    tmp_path, capsys, monkeypatch: pytest.MonkeyPatch, flag: str, why: str
) -> None:
    """--workers 2 trains through Ray Train, which never read --resume, and --threads set
    only the driver's torch threads: refused, saying why, before anything trains."""
    import raysearch.train.ray_train as ray_train

    monkeypatch.setattr(ray_train, "fit_distributed", pytest.fail)
    (tmp_path / CHECKPOINT_FILE).write_bytes(b"x")
    value = str(tmp_path) if flag == "--resume" else "1"
    argv = ["--synth", "tiny", "--daily-window", "60", "--monthly-window", "3"]
    assert train_cli.main([*argv, "--workers", "2", flag, value]) == 2
    err = capsys.readouterr().err
    assert f"{flag} {value}" in err and "--workers 2" in err and why in err, err


@pytest.mark.parametrize("given", [["--seed", "0"], ["--workers", "1"], ["--size", "small"]])
def test_from_wandb_refuses_a_config_flag_even_at_its_default(
    given: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """The check compared values with their defaults: a flag given at its default value was
    taken and then ignored (the sweep's config wins)."""
    with pytest.raises(SystemExit) as exited:
        parse_args(["--from-wandb", "args.json", *given])
    assert exited.value.code == 2
    assert given[0].removeprefix("--") in capsys.readouterr().err
