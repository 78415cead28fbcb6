"""Heads: output layouts per task kind, the latent daily forecaster, the ZINB moments."""

from __future__ import annotations

import torch

from raysearch.core.spec import TaskKind, TaskSpec
from raysearch.model.heads import LatentStatePredictor, build_head


def test_each_kind_gets_the_output_layout_of_spec_py() -> None:
    h = torch.randn(3, 16)
    cases = {
        TaskSpec("regime", TaskKind.CLASSIFICATION, 4): (3, 4),
        TaskSpec("transition", TaskKind.BINARY): (3,),
        TaskSpec("casualty", TaskKind.COUNT): (3, 3),
        TaskSpec("anomaly", TaskKind.REGRESSION): (3,),
        TaskSpec("forecast", TaskKind.FORECAST, 11): (3, 11),
        TaskSpec("daily_forecast", TaskKind.DAILY_FORECAST, 9, horizon=7): (3, 7, 9),
    }
    for task, shape in cases.items():
        assert build_head(task, 16, 0.0)(h, h).shape == shape, task.name


def test_latent_predictor_is_small_and_every_day_ahead_differs() -> None:
    torch.manual_seed(0)
    head = LatentStatePredictor(d=64, horizon=7, n_features=165)  # report 000: 165 x 7 days
    assert sum(p.numel() for p in head.parameters()) < 100_000  # the original's head: 4.4M
    y = head(torch.randn(2, 64), torch.randn(2, 64))
    assert y.shape == (2, 7, 165)
    assert not torch.allclose(y[:, 0], y[:, 1])


def test_daily_forecast_reads_the_last_day() -> None:
    torch.manual_seed(0)
    head = LatentStatePredictor(d=8, horizon=3, n_features=4)
    h = torch.randn(1, 8)
    assert not torch.allclose(head(h, torch.zeros(1, 8)), head(h, torch.ones(1, 8)))


def test_zinb_moments_match_sampling() -> None:
    from raysearch.model.heads import zinb_moments

    g = torch.Generator().manual_seed(0)
    pi, mu, theta = 0.3, 4.0, 2.0
    params = torch.tensor([[torch.logit(torch.tensor(pi)).item(), mu, theta]]).clone()
    params[0, 1:] = params[0, 1:].log()
    mean, var = zinb_moments(params)
    n = 200_000
    rate = torch.distributions.Gamma(theta, theta / mu).sample((n,))
    counts = torch.poisson(rate, generator=g) * (torch.rand(n, generator=g) > pi)
    torch.testing.assert_close(mean, counts.mean().reshape(1), rtol=0.03, atol=0)
    torch.testing.assert_close(var, counts.var().reshape(1), rtol=0.06, atol=0)
