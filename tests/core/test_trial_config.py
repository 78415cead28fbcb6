"""The trial config's checks across its sections."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from raysearch.core.errors import ConfigError
from raysearch.core.loss_config import STRATEGY_NAMES, LossConfig
from raysearch.core.params import build_trial_config
from raysearch.core.trainer_config import TrainerConfig
from raysearch.core.trial_config import TrialConfig


@settings(max_examples=100, deadline=None)
@given(
    strategy=st.sampled_from(STRATEGY_NAMES),
    warm=st.integers(1, 40),
    max_epochs=st.integers(1, 40),
)
def test_a3dro_warm_up_must_end_before_the_last_epoch(
    strategy: str, warm: int, max_epochs: int
) -> None:
    """A3DRO is uniform until the end of epoch ``warm``: with warm >= max_epochs it never
    weights by regret and budget_beta, regret_clip and temperature do nothing."""
    loss = LossConfig(strategy=strategy, a3dro_warmup_epochs=warm)
    trainer = TrainerConfig(max_epochs=max_epochs, warmup_epochs=0)
    if strategy == "a3dro" and warm >= max_epochs:
        with pytest.raises(ConfigError) as err:
            TrialConfig(loss=loss, trainer=trainer)
        (problem,) = err.value.problems
        assert problem.startswith("loss.a3dro_warmup_epochs")
        assert f"trainer.max_epochs ({max_epochs})" in problem and f"got {warm}" in problem
    else:
        assert TrialConfig(loss=loss, trainer=trainer).loss == loss


def test_a_flat_trial_config_with_a3dro_warm_up_as_long_as_training_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"a3dro_warmup_epochs.*max_epochs \(3\), got 3"):
        build_trial_config(
            {"loss.strategy": "a3dro", "loss.a3dro_warmup_epochs": 3, "trainer.max_epochs": 3}
        )
    cfg = build_trial_config(
        {"loss.strategy": "a3dro", "loss.a3dro_warmup_epochs": 2, "trainer.max_epochs": 3}
    )
    assert (cfg.loss.a3dro_warmup_epochs, cfg.trainer.max_epochs) == (2, 3)


def test_a_long_a3dro_warm_up_is_judged_against_the_epochs_given_with_it_in_any_order() -> None:
    """The loss section listed before the trainer's (a space's fixed values come before the
    search's max_epochs) is checked against the trainer's final max_epochs, not its default
    (20): warm-up 25 of 30 epochs is valid."""
    values = {"loss.strategy": "a3dro", "loss.a3dro_warmup_epochs": 25, "trainer.max_epochs": 30}
    for ordered in (values, dict(reversed(values.items()))):
        cfg = build_trial_config(ordered)
        assert (cfg.loss.a3dro_warmup_epochs, cfg.trainer.max_epochs) == (25, 30)
