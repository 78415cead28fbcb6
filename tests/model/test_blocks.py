"""Attention masking, grouped layers, masks and causal convolutions."""

from __future__ import annotations

import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from raysearch.model.blocks import (
    CrossAttention,
    GroupedLinear,
    GroupedTransformerBlock,
    attend,
    causal_mask,
    window_mask,
)
from raysearch.model.conv import MultiScaleCausalConv


def test_a_row_with_no_allowed_key_is_zero_not_nan() -> None:
    q, k, v = (torch.randn(2, 2, 3, 4) for _ in range(3))
    allowed = torch.tensor([[True, False, True], [False, False, False], [False, True, False]])
    out = attend(q, k, v, allowed)
    assert torch.isfinite(out).all()
    assert (out[:, :, 1] == 0).all() and (out[:, :, 0] != 0).any()
    bias = torch.randn(3, 3)
    assert torch.isfinite(attend(q, k, v, allowed, bias)).all()


def test_disallowed_keys_have_no_influence() -> None:
    q, k, v = (torch.randn(1, 1, 4, 8) for _ in range(3))
    allowed = causal_mask(4)
    ref = attend(q, k, v, allowed)
    k2, v2 = k.clone(), v.clone()
    k2[..., 3, :] += 100.0
    v2[..., 3, :] += 1e6
    torch.testing.assert_close(attend(q, k2, v2, allowed)[..., :3, :], ref[..., :3, :])


@given(st.integers(1, 40), st.integers(1, 40))
def test_window_mask_is_causal_local_and_keeps_the_diagonal(length: int, window: int) -> None:
    m = window_mask(length, window)
    i, j = torch.meshgrid(torch.arange(length), torch.arange(length), indexing="ij")
    assert torch.equal(m, (j <= i) & (i - j < window))
    assert m.diagonal().all()  # no empty row: every query may attend to itself
    assert torch.equal(window_mask(length, length), causal_mask(length))


def test_grouped_linear_is_one_independent_linear_per_group() -> None:
    lin = GroupedLinear(3, 5, 7)
    x = torch.randn(3, 2, 4, 5)
    y = lin(x)
    for g in range(3):
        expected = x[g] @ lin.weight[g] + lin.bias[g, 0]
        torch.testing.assert_close(y[g], expected)


def test_groups_of_a_transformer_block_do_not_mix() -> None:
    torch.manual_seed(0)
    blk = GroupedTransformerBlock(3, 8, 2, 2, 0.0)
    x = torch.randn(3, 2, 5, 8)
    ref = blk(x, causal_mask(5))
    x2 = x.clone()
    x2[1] += 1.0
    out = blk(x2, causal_mask(5))
    torch.testing.assert_close(out[[0, 2]], ref[[0, 2]])
    assert not torch.allclose(out[1], ref[1])


def test_cross_attention_without_any_allowed_key_reads_the_null_key() -> None:
    torch.manual_seed(0)
    att = CrossAttention(8, 2, 0.0)
    q, keys = torch.randn(2, 3, 8), torch.randn(2, 6, 8)
    none = torch.zeros(2, 1, 3, 6, dtype=torch.bool)
    out = att(q, keys, none)
    out2 = att(q, torch.randn(2, 6, 8) * 50, none)
    assert torch.isfinite(out).all()
    torch.testing.assert_close(out, out2)  # the keys do not matter when none is allowed


@settings(max_examples=20, deadline=None)
@given(st.integers(1, 29), st.integers(0, 10_000))
def test_multiscale_conv_is_causal(t: int, seed: int) -> None:
    torch.manual_seed(0)
    conv = MultiScaleCausalConv(4, (3, 7, 14)).eval()
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2, 30, 4, generator=g)
    x2 = x.clone()
    x2[:, t:] = torch.randn(2, 30 - t, 4, generator=g) * 10
    torch.testing.assert_close(conv(x2)[:, :t], conv(x)[:, :t])


def test_the_causal_flag_equals_the_explicit_causal_mask() -> None:
    torch.manual_seed(0)
    blk = GroupedTransformerBlock(2, 8, 2, 2, 0.0)
    x = torch.randn(2, 3, 6, 8)
    torch.testing.assert_close(blk(x, None, causal=True), blk(x, causal_mask(6)))
