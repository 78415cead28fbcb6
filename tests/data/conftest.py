"""Small datasets shared by the data tests (tiny shapes: the suite runs in seconds)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from raysearch.core.data_config import DataConfig, SynthConfig
from raysearch.data.prepared import PreparedData, build
from raysearch.data.raw import RawDataset
from raysearch.data.synth import generate


def _tiny_cfg(**kw: object) -> DataConfig:
    base: dict = {
        "synth": SynthConfig.preset("tiny"),
        "daily_window": 30,
        "monthly_window": 4,
        "raion_pca_components": 3,
        "val_fraction": 0.2,
        "test_fraction": 0.2,
    }
    base.update(kw)
    return DataConfig(**base)


@pytest.fixture(scope="session")
def tiny_cfg() -> Callable[..., DataConfig]:
    """Factory of small DataConfigs (tiny synthetic preset, 30-day window, 4 months)."""
    return _tiny_cfg


@pytest.fixture(scope="session")
def tiny_raw() -> RawDataset:
    return generate(SynthConfig.preset("tiny"))


@pytest.fixture(scope="session")
def tiny_data(tiny_raw: RawDataset) -> PreparedData:
    return build(_tiny_cfg(), tiny_raw)
