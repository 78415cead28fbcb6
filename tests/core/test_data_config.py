from __future__ import annotations

import datetime as dt
import json
import pickle

import pytest

from raysearch.core.data_config import DataConfig, SynthConfig
from raysearch.core.errors import ConfigError


def test_data_config_collects_every_problem_and_quotes_values() -> None:
    with pytest.raises(ConfigError) as info:
        DataConfig(corr_threshold=1.5, daily_window=0, val_fraction=0.6, test_fraction=0.5)
    text = str(info.value)
    assert len(info.value.problems) == 3
    for needle in ("corr_threshold", "1.5", "daily_window", "0", "val_fraction + test_fraction"):
        assert needle in text


def test_synth_config_rejects_bad_values_together() -> None:
    with pytest.raises(ConfigError) as info:
        SynthConfig(days=10, raions=0, start="2022-13-01")
    assert len(info.value.problems) == 3
    assert "'2022-13-01'" in str(info.value)


def test_presets_and_unknown_preset() -> None:
    assert SynthConfig.preset("full").days == 1426
    assert SynthConfig.preset("full").raions == 263
    assert SynthConfig.preset("small") == SynthConfig()
    with pytest.raises(ConfigError, match="'huge'"):
        SynthConfig.preset("huge")


def test_configs_pickle_and_preprocessing_key_excludes_identity() -> None:
    cfg = DataConfig(path="/x", raion_pca_components=4)
    assert pickle.loads(pickle.dumps(cfg)) == cfg
    key = cfg.preprocessing_key()
    assert "path" not in key and "synth" not in key and key["raion_pca_components"] == 4


def test_a_whole_number_given_for_a_float_field_keys_the_same_data_as_its_float() -> None:
    """corr_threshold: 1 and 1.0 prepare the same data, yet their keys (json.dumps) differed:
    the cache was built twice, and a checkpoint's data fingerprint refused the same data as
    other data. Found by a review helper."""
    as_int, as_float = DataConfig(corr_threshold=1), DataConfig(corr_threshold=1.0)
    assert json.dumps(as_int.preprocessing_key()) == json.dumps(as_float.preprocessing_key())


@pytest.mark.parametrize(
    ("kwargs", "quoted"),
    [
        ({"seed": -1}, "synth.seed: must be an int >= 0, got -1"),  # numpy: no negative seed
        ({"seed": True}, "synth.seed: must be an int >= 0, got True"),
        ({"raions": True}, "synth.raions: must be an int >= 1, got True"),  # not a count
        ({"days": True}, "synth.days: must be an int >= 120 (four months), got True"),
        ({"start": 20220224}, "synth.start: must be an ISO date YYYY-MM-DD, got 20220224"),
        ({"start": dt.date(2022, 2, 24)}, "(quote it), got datetime.date(2022, 2, 24)"),
    ],
)
def test_synth_config_refuses_what_the_generator_cannot_take(kwargs, quoted: str) -> None:
    """A negative or true seed, a true count, a start that is not ISO text: each refused on
    construction, not met later as numpy's, JSON's or fromisoformat's traceback."""
    with pytest.raises(ConfigError) as info:
        SynthConfig(**kwargs)
    (problem,) = info.value.problems
    assert quoted in problem


def test_a_synth_preset_that_is_not_a_name_is_a_config_problem_quoting_it() -> None:
    with pytest.raises(ConfigError, match=r"\['tiny'\]"):
        SynthConfig.preset(["tiny"])  # type: ignore[arg-type]
