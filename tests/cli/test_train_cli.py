"""The debugging CLI: arguments -> one validated TrialConfig (no training here)."""

from __future__ import annotations

import pytest

from raysearch.cli.train import build_config, parse_args
from raysearch.core.errors import ConfigError


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
