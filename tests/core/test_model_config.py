"""Size presets and ModelConfig validation."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from raysearch.core.errors import ConfigError
from raysearch.core.model_config import (
    ModelConfig,
    SizePreset,
    list_presets,
    preset,
    register_preset,
)


def test_registry_holds_the_four_sizes_in_growing_width() -> None:
    names = list_presets()
    assert names[:4] == ["tiny", "small", "base", "large"]
    widths = [preset(n).d_model for n in names[:4]]
    assert widths == sorted(widths) and len(set(widths)) == 4
    assert (preset("base").d_model, preset("base").nhead) == (64, 4)  # report 000


def test_unknown_preset_names_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match=r"'huge'.*tiny.*large"):
        ModelConfig(size="huge")
    with pytest.raises(ConfigError, match="huge"):
        preset("huge")


def test_registering_a_name_twice_fails() -> None:
    with pytest.raises(ValueError, match="tiny"):
        register_preset(lambda: SizePreset("tiny", 8, 2, 1))


def test_knobs_override_the_preset() -> None:
    dims = ModelConfig(size="tiny", d_model=24, nhead=3, layers=2, dropout=0.25).resolve()
    assert (dims.d_model, dims.nhead, dims.layers, dims.dropout) == (24, 3, 2, 0.25)
    assert dims.head_dim == 8
    base = ModelConfig(size="base").resolve()
    assert (base.d_model, base.nhead, base.layers) == (64, 4, 2)


def test_every_problem_is_reported_at_once_quoting_the_values() -> None:
    with pytest.raises(ConfigError) as err:
        ModelConfig(size="nope", d_model=0, nhead=-2, layers=1.5, dropout=1.0)  # type: ignore[arg-type]
    problems = err.value.problems
    assert len(problems) == 5
    for bad in ("'nope'", "0", "-2", "1.5", "1.0"):
        assert any(bad in p for p in problems), bad


def test_d_model_must_divide_by_nhead() -> None:
    with pytest.raises(ConfigError, match=r"d_model=30, nhead=4"):
        ModelConfig(size="small", d_model=30)
    with pytest.raises(ConfigError, match=r"d_model=16, nhead=3"):
        ModelConfig(size="tiny", nhead=3)


def test_config_pickles_and_compares_equal() -> None:
    cfg = ModelConfig(size="base", dropout=0.3, layers=1)
    assert pickle.loads(pickle.dumps(cfg)) == cfg


def test_numpy_knobs_from_a_search_are_accepted_as_plain_numbers() -> None:
    dims = ModelConfig(size="tiny", d_model=np.int64(32), dropout=np.float64(0.2)).resolve()
    assert type(dims.d_model) is int and dims.d_model == 32 and dims.dropout == 0.2
    with pytest.raises(ConfigError, match="True"):
        ModelConfig(size="tiny", layers=True)


def test_a_size_that_is_not_a_name_is_a_config_problem_quoting_it() -> None:
    """A space file's ``model.size: [tiny]`` is a list, no dict key: a TypeError (unhashable
    type: 'list') before, without the value."""
    with pytest.raises(ConfigError) as err:
        ModelConfig(size=["tiny"], dropout=1.5)  # type: ignore[arg-type]
    assert err.value.problems == [
        "size: unknown preset ['tiny']; valid: ['tiny', 'small', 'base', 'large']",
        "dropout: must be in [0, 1), got 1.5",
    ]
    with pytest.raises(ConfigError, match=r"\['tiny'\]"):
        preset(["tiny"])  # type: ignore[arg-type]
