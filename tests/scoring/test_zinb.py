"""ZINB NLL: matches the distribution's definition, is a valid pmf, is never negative."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from raysearch.core.spec import TaskKind, TaskSpec
from raysearch.scoring import zinb
from raysearch.scoring.plain import plain_loss_sum
from raysearch.scoring.zinb import LOG_CLAMP, zinb_nll


def _reference_nll(pi: float, mu: float, theta: float, k: int) -> float:
    log_nb = (
        math.lgamma(k + theta)
        - math.lgamma(theta)
        - math.lgamma(k + 1)
        + theta * math.log(theta / (theta + mu))
        + k * math.log(mu / (theta + mu))
    )
    if k == 0:
        return -math.log(pi + (1 - pi) * math.exp(log_nb))
    return -(math.log(1 - pi) + log_nb)  # in logs: NB(k) of a large count underflows


@settings(max_examples=60, deadline=None)
@given(
    pi_logit=st.floats(-4, 4),
    log_mu=st.floats(-3, 4),
    log_theta=st.floats(-2, 4),
    k=st.integers(0, 60),
)
def test_matches_the_textbook_formula(
    pi_logit: float, log_mu: float, log_theta: float, k: int
) -> None:
    params = torch.tensor([[pi_logit, log_mu, log_theta]])
    got = float(zinb_nll(params, torch.tensor([float(k)])))
    pi = 1 / (1 + math.exp(-pi_logit))
    expected = _reference_nll(pi, math.exp(log_mu), math.exp(log_theta), k)
    assert math.isclose(got, expected, rel_tol=1e-4, abs_tol=1e-4)
    assert got >= 0


@settings(max_examples=60, deadline=None)
@given(
    pi_logit=st.floats(-4, 4),
    log_mu=st.floats(10.5, LOG_CLAMP),
    log_theta=st.floats(-2, 4),
    ratio=st.floats(0.0, 3.0),
)
def test_matches_the_textbook_formula_for_large_means_inside_the_clamp(
    pi_logit: float, log_mu: float, log_theta: float, ratio: float
) -> None:
    """Means up to e^LOG_CLAMP (the parameters' domain) with counts around them (k = ratio
    * mu): the clamp is the numerical domain, not a smaller bound on the mean."""
    mu = math.exp(log_mu)
    k = round(ratio * mu)
    params = torch.tensor([[pi_logit, log_mu, log_theta]], dtype=torch.float64)
    got = float(zinb_nll(params, torch.tensor([float(k)], dtype=torch.float64)))
    pi = 1 / (1 + math.exp(-pi_logit))
    expected = _reference_nll(pi, mu, math.exp(log_theta), k)
    assert math.isclose(got, expected, rel_tol=1e-6, abs_tol=1e-6)


@settings(max_examples=20, deadline=None)
@given(pi_logit=st.floats(-3, 3), log_mu=st.floats(-2, 2), log_theta=st.floats(-1, 3))
def test_probabilities_sum_to_one(pi_logit: float, log_mu: float, log_theta: float) -> None:
    k = torch.arange(0, 400, dtype=torch.float32)
    params = torch.tensor([[pi_logit, log_mu, log_theta]]).expand(len(k), 3)
    total = torch.exp(-zinb_nll(params, k).double()).sum()
    assert abs(float(total) - 1.0) < 1e-4


def test_extreme_parameters_stay_finite_with_finite_gradients() -> None:
    params = torch.tensor([[30.0, 50.0, -60.0], [-30.0, -50.0, 60.0]], requires_grad=True)
    loss = zinb_nll(params, torch.tensor([0.0, 1e6])).sum()
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(params.grad).all()


def test_plain_loss_of_count_task_is_the_zinb_nll() -> None:
    task = TaskSpec("casualty", TaskKind.COUNT)
    params = torch.tensor([[0.0, 1.0, 0.5], [1.0, 0.0, 0.0]])
    y = torch.tensor([3.0, 0.0])
    s, c = plain_loss_sum(task, params, {"y": y, "m": torch.tensor([True, False])})
    assert int(c) == 1 and torch.allclose(s, zinb_nll(params[:1], y[:1]).sum())


def _nll_and_grad(params: list[float], y: float) -> tuple[float, list[float]]:
    x = torch.tensor([params], dtype=torch.float64, requires_grad=True)
    loss = zinb_nll(x, torch.tensor([y], dtype=torch.float64)).sum()
    (grad,) = torch.autograd.grad(loss, x)
    return float(loss.detach()), grad[0].tolist()


@pytest.mark.parametrize(
    ("column", "params", "y"),
    [
        (1, [-10.0, LOG_CLAMP + 5, 1.0], 3.0),  # a mean far above the count
        (1, [-10.0, -LOG_CLAMP - 5, 1.0], 3.0),  # a mean far below it
        (2, [-10.0, 2.0, LOG_CLAMP + 5], 50.0),  # near-Poisson, counts overdispersed
        (2, [-10.0, 1.0, -LOG_CLAMP - 5], 3.0),  # dispersion far too large
    ],
)
def test_a_parameter_beyond_the_clamp_gets_the_gradient_that_points_back_inside(
    column: int, params: list[float], y: float
) -> None:
    """A count head whose log_mu or log_theta drifts past +-LOG_CLAMP is scored at the bound
    and still gets the bound's gradient, whose descent step moves it back inside (a hard
    clamp's gradient there is exactly 0, so the head got no signal back)."""
    at_bound = list(params)
    at_bound[column] = max(-LOG_CLAMP, min(LOG_CLAMP, params[column]))
    loss, grad = _nll_and_grad(params, y)
    bound_loss, bound_grad = _nll_and_grad(at_bound, y)
    assert loss == bound_loss
    assert grad[column] != 0.0 and grad[column] == bound_grad[column]
    step_back = -grad[column] if params[column] > LOG_CLAMP else grad[column]
    assert step_back < 0  # a descent step moves the value toward the bound


def test_a_parameter_beyond_the_clamp_gets_no_gradient_pushing_it_further_out() -> None:
    """A mean already at e^LOG_CLAMP that the count (1e12) wants larger still gets 0."""
    _, grad = _nll_and_grad([-10.0, LOG_CLAMP + 5, 1.0], 1e12)
    _, bound_grad = _nll_and_grad([-10.0, LOG_CLAMP, 1.0], 1e12)
    assert bound_grad[1] < 0 and grad[1] == 0.0


@settings(max_examples=60, deadline=None)
@given(
    pi_logit=st.floats(-4, 4),
    log_mu=st.floats(-LOG_CLAMP, LOG_CLAMP),
    log_theta=st.floats(-LOG_CLAMP, LOG_CLAMP),
    k=st.integers(0, 60),
)
def test_inside_the_clamp_value_and_gradient_are_the_hard_clamp_s(
    pi_logit: float, log_mu: float, log_theta: float, k: int
) -> None:
    """Inside [-LOG_CLAMP, LOG_CLAMP] (bounds included) the NLL and its gradient are exactly
    those computed with a plain clamp."""
    params = [pi_logit, log_mu, log_theta]
    got = _nll_and_grad(params, float(k))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(zinb, "inward_clamp", lambda x, c: x.clamp(c[0], c[1]))
        plain = _nll_and_grad(params, float(k))
    assert got == plain
