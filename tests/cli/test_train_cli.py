"""The debugging CLI: arguments -> one validated TrialConfig (no training here)."""

from __future__ import annotations

import dataclasses
import re

import pytest

from raysearch.cli.train import CONFIG_FLAGS, build_config, parse_args
from raysearch.core.data_config import DataConfig
from raysearch.core.errors import ConfigError
from raysearch.core.loss_config import LossConfig
from raysearch.core.model_config import ModelConfig
from raysearch.core.trainer_config import TrainerConfig
from raysearch.core.trial_config import TrialConfig


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
