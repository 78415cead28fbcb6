"""The Multi-Resolution HAN: encoders, fusion, aggregation, heads; size presets.

>>> from raysearch.model import ModelConfig, build_model
>>> from raysearch.model.testing import random_batch, tiny_spec
>>> model = build_model(tiny_spec(), ModelConfig(size="tiny"))
>>> sorted(model(random_batch(tiny_spec(), 2, seed=0)))[:2]
['anomaly', 'casualty']
"""

from raysearch.model.config import (
    ModelConfig,
    ModelDims,
    SizePreset,
    list_presets,
    preset,
    register_preset,
)
from raysearch.model.han import (
    MultiResolutionHAN,
    build_model,
    check_batch,
    check_spec,
    observation_density,
)
from raysearch.model.summary import parameter_summary

__all__ = [
    "ModelConfig",
    "ModelDims",
    "MultiResolutionHAN",
    "SizePreset",
    "build_model",
    "check_batch",
    "check_spec",
    "list_presets",
    "observation_density",
    "parameter_summary",
    "preset",
    "register_preset",
]
