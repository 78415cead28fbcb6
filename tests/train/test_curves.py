"""Scoring the test split every epoch (raysearch.train.curves) changes nothing in the training,
and its figure at the selected epoch is the one ``fit`` reports for test."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from raysearch.core.data_config import DataConfig, SynthConfig
from raysearch.core.loss_config import LossConfig
from raysearch.core.model_config import ModelConfig
from raysearch.core.trainer_config import TrainerConfig
from raysearch.core.trial_config import TrialConfig
from raysearch.data.prepared import build
from raysearch.data.synth import generate
from raysearch.train.curves import CURVE_COLUMNS, epoch_seconds, fit_with_test_curve
from raysearch.train.loop import fit


@pytest.fixture(scope="module")
def tiny():
    synth = SynthConfig.preset("tiny")
    cfg = DataConfig(
        synth=synth, daily_window=30, monthly_window=3, anchor_stride=4, raion_pca_components=2
    )
    return build(cfg, generate(synth))


def test_the_curves_match_a_plain_fit(tiny) -> None:
    # dropout > 0: the training draws from torch's RNG, which the test scoring must not move
    cfg = TrialConfig(
        model=ModelConfig(size="tiny", dropout=0.3),
        loss=LossConfig(strategy="kendall"),
        trainer=TrainerConfig(max_epochs=3, lr=5e-3, seed=3, device="cpu", patience=3),
    )
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        rows, result = fit_with_test_curve(cfg, tiny)
        plain = fit(cfg, tiny)
    finally:
        torch.set_num_threads(threads)
    assert [r["epoch"] for r in rows] == [1, 2, 3]
    assert all(set(r) == set(CURVE_COLUMNS) for r in rows)
    assert [r["anchored_val_loss"] for r in rows] == [h["anchored_val_loss"] for h in plain.history]
    assert result.best_epoch == plain.best_epoch
    at_best = rows[plain.best_epoch - 1]["anchored_test_loss"]
    assert at_best == pytest.approx(plain.test_metrics["anchored_test_loss"], abs=1e-9)
    assert len({r["anchored_test_loss"] for r in rows}) > 1
    for r in rows:
        assert 0 < r["epoch_time_s"] <= r["epoch_wall_s"]


@settings(max_examples=60, deadline=None)
@given(
    epoch_wall=st.floats(0.0, 1e4),
    cpu=st.floats(0.0, 1e4),
    wall=st.floats(0.0, 1e4),
    device=st.sampled_from(["cpu", "cuda", "mps"]),
)
def test_an_epoch_takes_its_core_share_on_the_cpu_and_its_wall_time_elsewhere(
    epoch_wall: float, cpu: float, wall: float, device: str
) -> None:
    seconds = epoch_seconds(epoch_wall, cpu, wall, device)
    if device != "cpu":
        assert seconds == epoch_wall  # a GPU epoch waits for the device, not for a core
    else:
        assert 0.0 <= seconds <= epoch_wall
        if wall > 0 and cpu < wall:
            assert seconds == pytest.approx(epoch_wall * cpu / wall)


@pytest.mark.parametrize("score_test", [True, False])
def test_a_curve_refuses_a_test_split_nothing_can_score_before_it_trains(
    tmp_path: Path, score_test: bool
) -> None:
    """A curve scores the test split every epoch, whatever trainer.score_test says: with it
    off, fit let such data through and the curve failed after its first epoch (found by a
    review helper); with it on, fit told the user to turn it off."""
    from raysearch.core.data_config import DataConfig
    from raysearch.core.errors import DataError
    from raysearch.core.trainer_config import TrainerConfig
    from raysearch.core.trial_config import TrialConfig
    from raysearch.data.prepared import prepare
    from tests.data.test_data_reading import user_dataset
    from tests.data.test_data_tasks import _regime_only

    root = _regime_only(user_dataset(tmp_path / "ds", days=400), slice(0, 11))
    cfg = DataConfig(path=str(root), daily_window=30, monthly_window=3)
    data = prepare(cfg)
    trainer = TrainerConfig(max_epochs=1, batch_size=8, warmup_epochs=0, min_epochs=1,
                            score_test=score_test)  # fmt: skip
    with pytest.raises(DataError) as refused:
        fit_with_test_curve(TrialConfig(data=cfg, trainer=trainer), data)
    assert refused.value.problems == [
        f"{p}; a learning curve scores the test split every epoch" for p in data.test_unscorable
    ]
