"""The shipped test doubles follow spec.py's batch layout."""

from __future__ import annotations

import torch

from raysearch.core.spec import TaskKind
from raysearch.model.specs import original_spec, tiny_spec
from raysearch.testing.model import random_batch


def test_random_batch_follows_the_layout_of_spec_py() -> None:
    spec = tiny_spec()
    assert {t.kind for t in spec.tasks} == set(TaskKind)
    assert spec.daily and spec.monthly and spec.raion and len(spec.raion_coords) == spec.n_raions
    b = random_batch(spec, batch_size=3, seed=1)
    t, m, r = spec.daily_window, spec.monthly_window, spec.n_raions
    for s in spec.daily:
        assert b["daily"][s.name]["x"].shape == (3, t, s.n_features)
    for s in spec.monthly:
        assert b["monthly"][s.name]["m"].shape == (3, m, s.n_features)
        assert not b["monthly"][s.name]["m"][:, -1].any()  # anchor month not yet published
    for s in spec.raion:
        assert b["raion"][s.name]["x"].shape == (3, t, r, s.n_features)
    for res in ("daily", "monthly", "raion"):
        for src in b[res].values():
            assert src["m"].dtype == torch.bool
            assert (src["x"][~src["m"]] == 0).all() and 0 < src["m"].float().mean() < 1
    assert b["calendar"].shape == (3, t, 2) and b["calendar"][..., 0].max() <= 6
    dm = b["day_month"]
    assert dm.min() >= 0 and (dm[:, -1] == m - 1).all() and (dm.diff(dim=1) >= 0).all()
    assert b["targets"]["daily_forecast"]["y"].shape == (3, 3, 7)


def test_random_batch_is_deterministic_in_its_seed() -> None:
    a, b, c = (random_batch(tiny_spec(), 2, seed=s) for s in (5, 5, 6))
    x = "equipment"
    assert torch.equal(a["daily"][x]["x"], b["daily"][x]["x"])
    assert not torch.equal(a["daily"][x]["x"], c["daily"][x]["x"])


def test_seed_spec_has_the_seed_runs_feature_counts() -> None:
    spec = original_spec()
    assert sum(s.n_features for s in spec.daily) == 96
    assert sum(s.n_features for s in spec.monthly) == 85
    assert [s.n_features for s in spec.raion] == [8, 8, 8] and spec.n_raions == 263
    assert (spec.daily_window, spec.monthly_window) == (365, 12)
