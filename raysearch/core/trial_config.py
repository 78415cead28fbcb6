"""The trial configuration: data, model, loss and trainer sections, each validated.

>>> TrialConfig().loss.strategy
'uniform'
"""

from __future__ import annotations

from dataclasses import dataclass, field

from raysearch.core.data_config import DataConfig
from raysearch.core.errors import ConfigError, ErrorCollector
from raysearch.core.loss_config import LossConfig
from raysearch.core.model_config import ModelConfig
from raysearch.core.trainer_config import TrainerConfig

__all__ = ["SECTIONS", "TrialConfig"]

SECTIONS = ("data", "model", "loss", "trainer")


@dataclass(frozen=True)
class TrialConfig:
    """Everything one trial needs: data, model, loss and trainer sections."""

    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    trainer: TrainerConfig = field(default_factory=TrainerConfig)

    def __post_init__(self) -> None:
        errs = ErrorCollector()
        for name, kind in (
            ("data", DataConfig),
            ("model", ModelConfig),
            ("loss", LossConfig),
            ("trainer", TrainerConfig),
        ):
            value = getattr(self, name)
            errs.check(
                isinstance(value, kind),
                name,
                f"must be a {kind.__name__}, got {type(value).__name__}",
            )
        if (
            isinstance(self.loss, LossConfig)
            and isinstance(self.trainer, TrainerConfig)
            and self.loss.strategy == "a3dro"
        ):
            # A3DRO weights uniformly until its baselines freeze at the end of its warm-up:
            # with warm-up >= max_epochs no epoch trains with its weights, and budget_beta,
            # regret_clip and temperature do nothing while a search still searches them
            warm, epochs = self.loss.a3dro_warmup_epochs, self.trainer.max_epochs
            errs.check(
                warm < epochs,
                "loss.a3dro_warmup_epochs",
                f"must be < trainer.max_epochs ({epochs}), got {warm}: A3DRO weights "
                "uniformly until its warm-up ends, so it would never weight by regret; "
                "train for more epochs or shorten the warm-up",
            )
        errs.raise_if_any(ConfigError, "trial config")
