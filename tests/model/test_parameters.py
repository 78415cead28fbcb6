"""Parameter summary and the ``raysearch model summary`` command."""

from __future__ import annotations

import json

import pytest

from raysearch.cli.model import main
from raysearch.core.model_config import ModelConfig
from raysearch.model.han import build_model
from raysearch.model.parameters import parameter_counts
from raysearch.model.specs import original_spec, tiny_spec

ORIGINAL_TOTAL = 7_340_782  # report 000's run, d_model 64 / nhead 4
SEED_DAILY_FORECAST_HEAD = 4_400_000  # its DailyForecastingHead, replaced by a latent predictor


def test_stage_counts_add_up_to_the_models_parameters() -> None:
    counts = parameter_counts(tiny_spec(), ModelConfig(size="tiny"))
    model = build_model(tiny_spec(), ModelConfig(size="tiny"))
    assert counts["total"] == sum(p.numel() for p in model.parameters())
    assert {"daily_encoders", "monthly_aggregation", "heads.daily_forecast"} <= set(counts)


def test_base_at_the_seeds_feature_counts_matches_the_seed_without_its_forecast_head() -> None:
    counts = parameter_counts(original_spec(), ModelConfig(size="base"))
    comparable = ORIGINAL_TOTAL - SEED_DAILY_FORECAST_HEAD  # ~2.9M: everything but that head
    assert abs(counts["total"] - comparable) <= 0.3 * comparable
    assert counts["heads.daily_forecast"] < 100_000  # tens of thousands, not millions


def test_summary_command_prints_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "--size", "tiny", "--dataset", "tiny", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["size"] == "tiny"
    assert doc["parameters"] == parameter_counts(tiny_spec(), ModelConfig(size="tiny"))


def test_summary_command_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["summary", "--size", "small", "--dataset", "tiny", "--layers", "2"]) == 0
    out = capsys.readouterr().out
    assert "layers=2" in out and "total" in out and "daily_encoders" in out


def test_the_old_dataset_name_is_unlisted_and_said_to_be_the_new_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["summary", "--help"])
    assert "{default,original,tiny}" in capsys.readouterr().out
    assert main(["summary", "--size", "tiny", "--dataset", "seed", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["dataset"] == "original"
    assert "note: --dataset seed is now --dataset original" in captured.err
