"""Reference predictors and their losses ``b_i``, the denominators of the anchored loss.

Each reference is fitted on the training samples and emits outputs in the model's layout
(spec.py), so the same ``plain_loss_sum`` scores the model and the reference:
regime = train class prior (log-probs, add-one smoothed so no class has -inf);
transition = train positive rate (logit, add-half smoothed); casualty = one ZINB fitted
to the train counts by maximum likelihood; anomaly = train mean; forecast and
daily_forecast = persistence (last observed value in the sample's window, else 0).

Scored with ``raysearch.scoring.plain.plain_loss_sum``: the same code that scores the model.
"""

from __future__ import annotations

import numpy as np
import torch

from raysearch.core.spec import TaskKind, TaskSpec
from raysearch.data.windows import SeriesTensors
from raysearch.scoring.plain import plain_loss_sum
from raysearch.scoring.zinb import zinb_nll

__all__ = ["compute_references", "fit_references", "reference_outputs", "split_targets"]

N_CLASSES = 4


def split_targets(
    s: SeriesTensors, anchors: np.ndarray, tasks: tuple[TaskSpec, ...]
) -> dict[str, dict[str, torch.Tensor]]:
    """Batched targets of the samples at ``anchors`` (same values the Dataset yields)."""
    a = torch.as_tensor(anchors, dtype=torch.long)
    nxt = s.day_month[a] + 1
    out = {}
    for t in tasks:
        if t.name in s.targets:
            y, m = s.targets[t.name]
            out[t.name] = {"y": y[nxt], "m": m[nxt]}
        elif t.kind == TaskKind.FORECAST and s.forecast is not None:
            fx, fm = s.forecast
            out[t.name] = {"y": fx[nxt + s.pad], "m": fm[nxt + s.pad]}
        elif t.kind == TaskKind.DAILY_FORECAST and s.daily_forecast is not None:
            idx = a[:, None] + 1 + torch.arange(s.horizon)[None, :]  # (B, H)
            dx, dm = s.daily_forecast
            out[t.name] = {"y": dx[idx], "m": dm[idx]}
    return out


def _last_observed(x: torch.Tensor, m: torch.Tensor, rows: torch.Tensor, low: torch.Tensor):
    """Value of each feature at its last observed row <= ``rows`` and >= ``low``, else 0."""
    r = torch.arange(len(m))[:, None].expand_as(m)
    last = torch.where(m, r, torch.full_like(r, -1)).cummax(dim=0).values  # (N, F)
    at = last[rows]  # (B, F)
    ok = at >= low[:, None]
    vals = torch.gather(x, 0, at.clamp(min=0))
    return torch.where(ok, vals, torch.zeros_like(vals))


def fit_references(
    s: SeriesTensors, train: np.ndarray, tasks: tuple[TaskSpec, ...]
) -> dict[str, torch.Tensor]:
    """Constant parameters per task, from the training samples' targets only."""
    tgt = split_targets(s, train, tasks)
    params: dict[str, torch.Tensor] = {}
    for t in tasks:
        if t.name not in tgt:
            continue
        y, m = tgt[t.name]["y"], tgt[t.name]["m"]
        seen = y[m].double()
        if t.kind == TaskKind.CLASSIFICATION:
            counts = torch.bincount(seen.long(), minlength=t.n_outputs).double() + 1.0
            params[t.name] = (counts / counts.sum()).log().float()
        elif t.kind == TaskKind.BINARY:
            rate = (seen.sum() + 0.5) / (len(seen) + 1.0)
            params[t.name] = torch.logit(rate).float().reshape(())
        elif t.kind == TaskKind.COUNT:
            params[t.name] = _fit_zinb(seen.float())
        elif t.kind == TaskKind.REGRESSION:
            params[t.name] = seen.mean().float().reshape(())
    return params


def _fit_zinb(y: torch.Tensor) -> torch.Tensor:
    """Maximum-likelihood constant ZINB [pi_logit, log_mu, log_theta] (scipy L-BFGS)."""
    v = y.double().numpy()
    zero = float((v == 0).mean()) if len(v) else 0.5
    pos = v[v > 0]
    mu0 = float(pos.mean()) if len(pos) else 1.0
    init = np.array([np.log(max(zero, 1e-3) / max(1 - zero, 1e-3)), np.log(mu0), 0.0])
    if not len(v):
        return torch.as_tensor(init, dtype=torch.float32)

    def nll(p: np.ndarray) -> float:
        out = torch.as_tensor(p, dtype=torch.float64).expand(len(v), 3)
        return float(zinb_nll(out, torch.as_tensor(v)).mean())

    # Deferred: as sklearn in raysearch.data.preprocess, SciPy is not loaded by the trial
    # workers that only read the prepared cache.
    from scipy.optimize import minimize

    res = minimize(nll, init, method="L-BFGS-B", bounds=[(-12, 12), (-12, 20), (-8, 8)])
    return torch.as_tensor(res.x, dtype=torch.float32)


def reference_outputs(
    s: SeriesTensors,
    anchors: np.ndarray,
    tasks: tuple[TaskSpec, ...],
    params: dict[str, torch.Tensor],
    daily_window: int,
    monthly_window: int,
) -> dict[str, torch.Tensor]:
    """The references' outputs for the samples at ``anchors`` (model output layout)."""
    a = torch.as_tensor(anchors, dtype=torch.long)
    b = len(a)
    out: dict[str, torch.Tensor] = {}
    for t in tasks:
        if t.name in params:
            p = params[t.name]
            out[t.name] = p.expand(b, *p.shape).clone()
        elif t.kind == TaskKind.FORECAST and s.forecast is not None:
            mi = s.day_month[a] + s.pad  # padded row of the anchor's (masked) month
            out[t.name] = _last_observed(*s.forecast, mi - 1, mi - monthly_window + 1)
        elif t.kind == TaskKind.DAILY_FORECAST and s.daily_forecast is not None:
            last = _last_observed(*s.daily_forecast, a, a - daily_window + 1)  # (B, F)
            out[t.name] = last[:, None, :].expand(b, t.horizon, last.shape[-1]).clone()
    return out


def compute_references(
    s: SeriesTensors,
    splits: dict[str, np.ndarray],
    tasks: tuple[TaskSpec, ...],
    daily_window: int,
    monthly_window: int,
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, float]]]:
    """(references, availability): split -> task -> b_i, and -> fraction of samples with a target.

    ``references`` covers "val" and "test", and only tasks with a target in that split.
    """
    params = fit_references(s, splits["train"], tasks)
    references: dict[str, dict[str, float]] = {}
    avail: dict[str, dict[str, float]] = {}
    for split, days in splits.items():
        tgt = split_targets(s, days, tasks)
        outs = reference_outputs(s, days, tasks, params, daily_window, monthly_window)
        avail[split] = {}
        scores = {}
        for t in tasks:
            m = tgt[t.name]["m"]
            avail[split][t.name] = float(m.reshape(len(days), -1).any(dim=1).float().mean())
            total, count = plain_loss_sum(t, outs[t.name], tgt[t.name])
            if int(count) > 0:
                scores[t.name] = float(total) / float(count)
        if split != "train":
            references[split] = scores
    return references, avail
