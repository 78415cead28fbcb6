"""Observation embedding: log compression, per-feature masks, the no-observation token."""

from __future__ import annotations

import torch
from hypothesis import given
from hypothesis import strategies as st

from raysearch.model.embedding import COMPRESS_ABOVE, ObservationEmbedding, log_compress

finite = st.floats(-1e30, 1e30, allow_nan=False)


@given(finite, finite)
def test_log_compress_is_monotone_odd_and_identity_below_the_threshold(a: float, b: float) -> None:
    x = torch.tensor([a, b], dtype=torch.float64)
    y = log_compress(x)
    assert torch.isfinite(y).all()
    if a <= b:
        assert y[0] <= y[1]
    torch.testing.assert_close(log_compress(-x), -y)
    small = x.abs() <= COMPRESS_ABOVE
    torch.testing.assert_close(y[small], x[small])
    assert (y.abs() <= x.abs()).all()


def test_a_feature_masked_on_its_own_is_ignored_while_its_neighbours_count() -> None:
    torch.manual_seed(0)
    emb = ObservationEmbedding(4, 8)
    x = torch.randn(1, 3, 4)
    m = torch.ones(1, 3, 4, dtype=torch.bool)
    m[0, 1, 2] = False
    ref, obs = emb(x, m)
    x2 = x.clone()
    x2[0, 1, 2] = float("nan")
    out, _ = emb(x2, m)
    torch.testing.assert_close(out, ref)
    assert obs.all()  # the timestep is still observed through its other features
    x3 = x.clone()
    x3[0, 1, 1] += 1.0  # an observed neighbour does change the token
    assert not torch.allclose(emb(x3, m)[0][0, 1], ref[0, 1])


def test_mask_status_itself_is_information() -> None:
    torch.manual_seed(0)
    emb = ObservationEmbedding(3, 8)
    x = torch.zeros(1, 1, 3)  # an observed zero is not a missing value
    observed = torch.ones(1, 1, 3, dtype=torch.bool)
    missing = observed.clone()
    missing[..., 0] = False
    assert not torch.allclose(emb(x, observed)[0], emb(x, missing)[0])


def test_a_fully_unobserved_timestep_is_the_no_observation_token() -> None:
    torch.manual_seed(0)
    emb = ObservationEmbedding(3, 8)
    x = torch.randn(2, 4, 3)
    m = torch.rand(2, 4, 3) > 0.2
    m[0, 2] = False
    tok, obs = emb(x, m)
    assert not obs[0, 2]
    torch.testing.assert_close(tok[0, 2], emb.no_observation.detach())
    zeros, _ = ObservationEmbedding(3, 8, no_observation_token=False)(x, m)
    assert (zeros[0, 2] == 0).all()
