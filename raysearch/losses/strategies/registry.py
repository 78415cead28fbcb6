"""Strategy names -> classes; an unknown name fails listing the valid ones."""

from __future__ import annotations

from collections.abc import Sequence

from raysearch.core.errors import ConfigError
from raysearch.core.loss_config import LossConfig
from raysearch.losses.strategies.a3dro import A3DROStrategy
from raysearch.losses.strategies.base import LossStrategy
from raysearch.losses.strategies.kendall import KendallStrategy
from raysearch.losses.strategies.softplus_kendall import SoftplusKendallStrategy
from raysearch.losses.strategies.uniform import UniformStrategy

__all__ = ["STRATEGIES", "build_strategy"]

STRATEGIES: dict[str, type[LossStrategy]] = {
    "uniform": UniformStrategy,
    "kendall": KendallStrategy,
    "softplus_kendall": SoftplusKendallStrategy,
    "a3dro": A3DROStrategy,
}


def build_strategy(cfg: LossConfig, task_names: Sequence[str]) -> LossStrategy:
    """The strategy ``cfg.strategy`` over ``task_names``."""
    cls = STRATEGIES.get(cfg.strategy)
    if cls is None:
        raise ConfigError(
            [f"strategy: unknown loss strategy {cfg.strategy!r}; valid: {sorted(STRATEGIES)}"],
            "loss config",
        )
    return cls(tuple(task_names), cfg)
