"""Zero-inflated negative binomial (ZINB) negative log-likelihood, per element.

The model's casualty head emits ``[pi_logit, log_mu, log_theta]`` (spec.py). With
``pi = sigmoid(pi_logit)``, ``mu = exp(log_mu)`` (mean), ``theta = exp(log_theta)`` (dispersion)::

    P(Y=0) = pi + (1-pi) * NB(0 | mu, theta)
    P(Y=k) = (1-pi) * NB(k | mu, theta),   k > 0
    log NB(k) = lgamma(k+theta) - lgamma(theta) - lgamma(k+1)
                - theta * log(1 + mu/theta) - k * log(1 + theta/mu)

Everything is computed in log space (``softplus``/``logaddexp``, no ``exp`` of a large
number) and in float64, because ``lgamma(k+theta) - lgamma(theta)`` cancels badly in float32
for large ``theta``. ``log_mu`` and ``log_theta`` are clamped to ``[-LOG_CLAMP, LOG_CLAMP]``,
the numerical domain of the parameters (not a floor on the loss), by ``inward_clamp``
(``clamps``): a value beyond the bound is scored at the bound and still gets the gradient
where a descent step moves it back inside (0 where it would move it further out), so a
count head whose output drifts past the bound is pulled back; a plain clamp's gradient
there is 0. The NLL of a probability mass function is never negative.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from raysearch.scoring.clamps import inward_clamp

__all__ = ["LOG_CLAMP", "zinb_nll"]

LOG_CLAMP = 20.0


def zinb_nll(params: Tensor, y: Tensor) -> Tensor:
    """Per-element NLL: ``params`` (N, 3) ``[pi_logit, log_mu, log_theta]``, ``y`` (N,) counts."""
    if params.ndim != 2 or params.shape[-1] != 3 or params.shape[0] != y.shape[0]:
        raise ValueError(
            f"zinb_nll: expected params (N, 3) and y (N,), got {params.shape}, {y.shape}"
        )
    p = params.double()
    k = y.double()
    pi_logit = p[:, 0]
    log_mu = inward_clamp(p[:, 1], (-LOG_CLAMP, LOG_CLAMP))
    log_theta = inward_clamp(p[:, 2], (-LOG_CLAMP, LOG_CLAMP))
    theta = log_theta.exp()
    nb_zero = -theta * F.softplus(log_mu - log_theta)  # log NB(0) = theta*log(theta/(theta+mu))
    nb = (
        torch.lgamma(k + theta)
        - torch.lgamma(theta)
        - torch.lgamma(k + 1.0)
        + nb_zero
        - k * F.softplus(log_theta - log_mu)
    )
    log_zero = torch.logaddexp(F.logsigmoid(pi_logit), F.logsigmoid(-pi_logit) + nb_zero)
    log_pos = F.logsigmoid(-pi_logit) + nb
    log_p = torch.where(k == 0, log_zero, log_pos)
    return (-log_p).to(params.dtype)
