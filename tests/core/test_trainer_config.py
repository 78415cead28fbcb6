"""The trainer's configuration: its seed is one every generator takes."""

from __future__ import annotations

import numpy as np
import pytest

from raysearch.core.errors import ConfigError
from raysearch.core.trainer_config import SEED_MAX, TrainerConfig, wrap_seed


def test_a_trainer_seed_numpy_cannot_take_is_refused_quoting_it() -> None:
    assert TrainerConfig(seed=SEED_MAX).seed == SEED_MAX
    np.random.RandomState(SEED_MAX)  # the largest seed NumPy takes
    with pytest.raises(ConfigError) as err:
        TrainerConfig(seed=SEED_MAX + 1)
    assert err.value.problems == [
        "seed: must be an int <= 4294967295 (2**32 - 1: NumPy's seeds), got 4294967296"
    ]
    with pytest.raises(ConfigError, match=r"seed: must be an int >= 0, got -1$"):
        TrainerConfig(seed=-1)  # one problem, not the upper bound's too


def test_a_derived_seed_wraps_into_the_range_every_generator_takes() -> None:
    assert [wrap_seed(SEED_MAX + n) for n in range(3)] == [SEED_MAX, 0, 1]
    assert wrap_seed(7) == 7
    # a training seed times 1000 plus a rank (train/loop.py): distinct per rank, in range
    ranks = {wrap_seed(SEED_MAX * 1_000 + rank) for rank in range(4)}
    assert len(ranks) == 4 and all(0 <= s <= SEED_MAX for s in ranks)
