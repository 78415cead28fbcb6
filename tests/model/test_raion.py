"""Geographic encoders: soft adjacency, cross-raion masking, mask-aware pooling."""

from __future__ import annotations

import math

import torch

from raysearch.core.model_config import ModelConfig
from raysearch.model.raion import GeographicAdjacency, RaionEncoders, great_circle_km
from raysearch.model.specs import tiny_spec
from raysearch.testing.model import random_batch

COORDS = ((48.0, 30.0), (48.0, 31.0), (48.0, 33.0), (51.0, 34.0))  # (lat, lon)


def test_adjacency_bias_falls_with_distance_and_is_zero_on_the_diagonal() -> None:
    bias = GeographicAdjacency(COORDS)().detach()
    assert bias.shape == (4, 4)
    assert torch.equal(bias, bias.T) and (bias.diagonal() == 0).all()
    assert bias[0, 1] > bias[0, 2] > bias[0, 3]  # nearer raions, larger bias
    assert GeographicAdjacency(())() is None


def test_distances_are_great_circle_km_in_lat_lon_order() -> None:
    d = great_circle_km(((50.0, 30.0), (50.0, 31.0), (51.0, 30.0), (0.0, 0.0), (0.0, 1.0)))
    assert abs(d[0, 2].item() - 111.2) < 0.5  # one degree of latitude
    assert abs(d[3, 4].item() - 111.2) < 0.5  # one degree of longitude on the equator
    assert abs(d[0, 1].item() - 111.2 * math.cos(math.radians(50.0))) < 0.5


def test_the_adjacency_scale_is_learnable() -> None:
    adj = GeographicAdjacency(COORDS)
    adj().sum().backward()
    assert adj.raw_scale.grad is not None and adj.raw_scale.grad != 0


def test_without_coordinates_there_is_no_scale_parameter() -> None:
    assert list(GeographicAdjacency(COORDS).parameters()) != []
    assert list(GeographicAdjacency(()).parameters()) == []


def _encoder() -> tuple[RaionEncoders, dict]:
    torch.manual_seed(0)
    spec = tiny_spec()
    enc = RaionEncoders(
        spec.raion, spec.n_raions, spec.raion_coords, ModelConfig(size="tiny").resolve()
    )
    return enc.eval(), random_batch(spec, batch_size=2, seed=0)["raion"]


def test_an_unobserved_raion_does_not_reach_the_pooled_token() -> None:
    enc, raion = _encoder()
    src = raion["geoconfirmed"]
    src["m"][:, :, 2] = False  # raion 2 never observed
    src["x"][:, :, 2] = 0.0
    ref, _ = enc(raion)
    src["x"][:, :, 2] = 1e6  # masked: must not matter
    src2 = {k: v.clone() for k, v in src.items()}
    out, _ = enc({**raion, "geoconfirmed": src2})
    torch.testing.assert_close(out, ref, rtol=0, atol=0)


def test_a_day_without_any_raion_observed_is_the_sources_no_observation_token() -> None:
    enc, raion = _encoder()
    for src in raion.values():
        src["m"][0, 7] = False
        src["x"][0, 7] = 0.0
    tok, observed = enc(raion)
    assert tok.shape == (2, 2, 40, 16) and observed.shape == (2, 2, 40)
    assert not observed[:, 0, 7].any()
    torch.testing.assert_close(tok[:, 0, 7], enc.no_observation.detach())


def _raion_states(enc: RaionEncoders, raion: dict) -> tuple[torch.Tensor, torch.Tensor]:
    """The pooled tokens (G, B, T, D) and each raion's state after the last block, before
    pooling (G, B, T, R, D)."""
    seen: list[torch.Tensor] = []
    hook = enc.blocks[-1].register_forward_hook(lambda _m, _i, out: seen.append(out))
    try:
        tokens, _ = enc(raion)
    finally:
        hook.remove()
    (h,) = seen  # every (batch, day) pair in one batched attention
    b, t, r = raion[enc.names[0]]["m"].shape[:3]
    return tokens, h.view(len(enc.names), b, t, r, -1)


def test_raions_talk_to_each_other_on_the_same_day_only() -> None:
    """Changing one raion's input on one day changes another raion's state on that day (so
    raions attend to each other), and nothing on any other day or of the other source."""
    enc, raion = _encoder()
    g = enc.names.index("firms_raion")
    src = raion["firms_raion"]
    src["m"][:, 9, :2] = True  # raions 0 and 1 observed on day 9
    ref, ref_h = _raion_states(enc, raion)
    src["x"][:, 9, 0] += 5.0  # change raion 0 alone, on day 9 alone
    out, out_h = _raion_states(enc, raion)
    assert not torch.allclose(out_h[g, :, 9, 1], ref_h[g, :, 9, 1])  # raion 1 heard it
    days = [d for d in range(40) if d != 9]
    torch.testing.assert_close(out_h[:, :, days], ref_h[:, :, days])
    torch.testing.assert_close(out[:, :, days], ref[:, :, days])
    torch.testing.assert_close(out_h[1 - g], ref_h[1 - g])  # the other raion source
    torch.testing.assert_close(out[1 - g], ref[1 - g])
    assert not torch.allclose(out[g, :, 9], ref[g, :, 9])


def test_chunked_and_checkpointed_raion_attention_equals_the_one_shot_result() -> None:
    enc, raion = _encoder()
    enc.train()
    enc.drop.p = 0.0
    ref, _ = enc(raion)
    ref.square().sum().backward()
    ref_grads = {n: p.grad.clone() for n, p in enc.named_parameters()}
    enc.zero_grad()
    enc.chunk_elements = 2 * 2 * 25 * 7  # 7 (b, t) pairs per chunk: 12 chunks, a ragged last
    out, _ = enc(raion)
    out.square().sum().backward()
    torch.testing.assert_close(out, ref)
    for n, p in enc.named_parameters():
        torch.testing.assert_close(p.grad, ref_grads[n], msg=n)


def test_a_batch_whose_maps_fit_a_few_chunks_runs_whole_without_recomputation(
    monkeypatch,
) -> None:
    """Chunks are recomputed in the backward pass (activation checkpointing), which costs
    their forward pass again. A batch just over one chunk (24 raions, 16 x 365 pairs: 1.2
    chunks) was split into a large chunk and a rest, both recomputed, for no memory saved:
    40% of a training step. It runs whole up to WHOLE_CHUNKS chunks' worth; beyond, in
    chunks."""
    import raysearch.model.raion as raion_module

    enc, raion = _encoder()
    enc.train()
    g, (b, t, r) = len(enc.names), raion["geoconfirmed"]["m"].shape[:3]
    per_pair = g * enc.nhead * r * r
    recomputed: list[int] = []
    real = raion_module.checkpoint

    def counted(fn, *args, **kwargs):
        recomputed.append(args[0].shape[1])  # the chunk's (b, t) pairs
        return real(fn, *args, **kwargs)

    monkeypatch.setattr(raion_module, "checkpoint", counted)
    for pairs_per_chunk, chunked in (
        (b * t // 2, False),
        (b * t // (raion_module.WHOLE_CHUNKS + 1), True),
    ):
        recomputed.clear()
        enc.chunk_elements = pairs_per_chunk * per_pair
        out, _ = enc(raion)
        out.square().sum().backward()
        assert bool(recomputed) == chunked
        assert sum(recomputed) == (b * t if chunked else 0)
