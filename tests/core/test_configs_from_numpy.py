"""Configs built from NumPy's numbers (a DataFrame's row, ``np.arange``'s grid): each field
is taken as Python's, so the config equals the one built from Python's numbers, pickles and
writes as JSON; a NumPy value of the wrong kind is refused as Python's would be."""

from __future__ import annotations

import dataclasses
import json
import pathlib
import pickle

import numpy as np
import pytest

from raysearch.core.data_config import DataConfig, SynthConfig
from raysearch.core.errors import ConfigError
from raysearch.core.loss_config import LossConfig
from raysearch.core.model_config import ModelConfig
from raysearch.core.trainer_config import TrainerConfig

CONFIGS = (SynthConfig, DataConfig, LossConfig, ModelConfig, TrainerConfig)


def _numbers(config: object) -> dict[str, object]:
    """Each int, float and bool field's default, as NumPy's."""
    out: dict[str, object] = {}
    for field in dataclasses.fields(config):  # type: ignore[arg-type]
        value = getattr(config, field.name)
        if isinstance(value, bool):
            out[field.name] = np.bool_(value)
        elif isinstance(value, int):
            out[field.name] = np.int64(value)
        elif isinstance(value, float):
            out[field.name] = (
                np.float32(value) if float(np.float32(value)) == value else np.float64(value)
            )
    return out


@pytest.mark.parametrize("kind", CONFIGS, ids=lambda kind: kind.__name__)
def test_a_config_of_numpy_numbers_is_the_config_of_python_numbers(kind: type) -> None:
    default = kind()
    given = _numbers(default)
    assert given, f"{kind.__name__} has no number field to check"
    made = kind(**given)
    assert made == default
    for name in given:
        assert type(getattr(made, name)) is type(getattr(default, name)), name
    assert pickle.loads(pickle.dumps(made)) == default
    json.dumps(dataclasses.asdict(made))  # np.int64 is no JSON: this raised TypeError


def test_a_model_size_knob_from_numpy_resolves_to_python_ints() -> None:
    dims = ModelConfig(size="tiny", d_model=np.int64(32), layers=np.int32(1)).resolve()
    assert (type(dims.d_model), type(dims.layers)) == (int, int)
    assert (dims.d_model, dims.layers) == (32, 1)


@pytest.mark.parametrize(
    ("kind", "field", "value", "said"),
    [
        (
            TrainerConfig,
            "batch_size",
            np.float64(16.5),
            "batch_size: must be an int >= 1, got 16.5",
        ),
        (TrainerConfig, "max_epochs", np.bool_(True), "max_epochs: must be an int >= 1, got True"),
        (SynthConfig, "days", np.int64(7), "synth.days: must be an int >= 120"),
        (
            LossConfig,
            "budget_beta",
            np.float64(np.nan),
            "budget_beta: must be a number in [0.0, 1.0]",
        ),
    ],
)
def test_a_numpy_number_of_the_wrong_kind_is_refused_quoted_as_python_s(
    kind: type, field: str, value: object, said: str
) -> None:
    with pytest.raises(ConfigError) as err:
        kind(**{field: value})
    assert said in str(err.value)
    assert "np." not in str(err.value)


def test_a_data_path_given_as_a_pathlib_path_is_its_str(tmp_path: pathlib.Path) -> None:
    config = DataConfig(path=tmp_path / "data")  # type: ignore[arg-type]
    assert config.path == str(tmp_path / "data")
    assert config == DataConfig(path=str(tmp_path / "data"))
