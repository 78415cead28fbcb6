"""Loss strategies: one module each, one interface (``LossStrategy``), a name registry."""

from raysearch.losses.strategies.a3dro import A3DROStrategy, a3dro_weights, weight_cap
from raysearch.losses.strategies.base import LossStrategy
from raysearch.losses.strategies.kendall import KendallStrategy, kendall_terms
from raysearch.losses.strategies.registry import STRATEGIES, build_strategy
from raysearch.losses.strategies.softplus_kendall import SoftplusKendallStrategy
from raysearch.losses.strategies.uniform import UniformStrategy

__all__ = [
    "STRATEGIES",
    "A3DROStrategy",
    "KendallStrategy",
    "LossStrategy",
    "SoftplusKendallStrategy",
    "UniformStrategy",
    "a3dro_weights",
    "build_strategy",
    "kendall_terms",
    "weight_cap",
]
