"""Task losses, loss strategies and the anchored validation metric.

>>> from raysearch.losses import anchored_loss
>>> anchored_loss({"regime": 0.5}, {"regime": 1.0})[0] < 0
True
"""

from raysearch.losses.anchored import DEFAULT_ANCHOR_CLIP, anchored_loss, log_ratio
from raysearch.losses.config import STRATEGY_NAMES, LossConfig
from raysearch.losses.plain import observed, plain_loss_elements, plain_loss_sum
from raysearch.losses.strategies import (
    STRATEGIES,
    A3DROStrategy,
    KendallStrategy,
    LossStrategy,
    SoftplusKendallStrategy,
    UniformStrategy,
    a3dro_weights,
    build_strategy,
    kendall_terms,
    weight_cap,
)
from raysearch.losses.tasks import (
    BatchLosses,
    focal_loss,
    gated_tasks,
    inverse_frequency_weights,
    task_losses,
)
from raysearch.losses.zinb import zinb_nll

__all__ = [
    "DEFAULT_ANCHOR_CLIP",
    "STRATEGIES",
    "STRATEGY_NAMES",
    "A3DROStrategy",
    "BatchLosses",
    "KendallStrategy",
    "LossConfig",
    "LossStrategy",
    "SoftplusKendallStrategy",
    "UniformStrategy",
    "a3dro_weights",
    "anchored_loss",
    "build_strategy",
    "focal_loss",
    "gated_tasks",
    "inverse_frequency_weights",
    "kendall_terms",
    "log_ratio",
    "observed",
    "plain_loss_elements",
    "plain_loss_sum",
    "task_losses",
    "weight_cap",
    "zinb_nll",
]
