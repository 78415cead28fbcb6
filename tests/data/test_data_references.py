from __future__ import annotations

import math

import numpy as np
import torch
from torch.utils.data import default_collate

from raysearch.data.prepared import PreparedData
from raysearch.data.references import _fit_zinb
from raysearch.scoring.plain import plain_loss_sum
from raysearch.scoring.zinb import zinb_nll


def test_casualty_reference_recovers_a_known_zinb() -> None:
    rng = np.random.default_rng(0)
    pi, mu, theta = 0.3, 12.0, 2.0
    counts = rng.poisson(rng.gamma(theta, mu / theta, 4000))
    counts[rng.random(4000) < pi] = 0
    p = _fit_zinb(torch.as_tensor(counts, dtype=torch.float32))
    assert abs(float(torch.sigmoid(p[0])) - pi) < 0.05
    assert abs(float(p[1].exp()) - mu) < 1.5
    assert abs(float(p[2].exp()) - theta) < 0.5


def _brute_force_reference(item: dict, task: str) -> torch.Tensor:
    """The reference output for one item, read from the item itself."""
    if task == "daily_forecast":
        x = torch.cat([v["x"] for v in item["daily"].values()], dim=1)
        m = torch.cat([v["m"] for v in item["daily"].values()], dim=1)
    else:
        x = torch.cat([v["x"] for v in item["monthly"].values()], dim=1)
        m = torch.cat([v["m"] for v in item["monthly"].values()], dim=1)
    last = torch.zeros(x.shape[1])
    for f in range(x.shape[1]):
        seen = torch.nonzero(m[:, f]).flatten()
        if len(seen):
            last[f] = x[seen[-1], f]
    return last


def test_vectorised_anchors_equal_a_loop_over_dataset_items(tiny_data: PreparedData) -> None:
    spec = tiny_data.spec
    ds = tiny_data.splits["val"]
    items = [ds[i] for i in range(len(ds))]
    batch = default_collate(items)
    for task in ("forecast", "daily_forecast"):
        t = spec.task(task)
        pred = torch.stack([_brute_force_reference(it, task) for it in items])
        if task == "daily_forecast":
            pred = pred[:, None, :].expand(-1, t.horizon, -1)
        total, count = plain_loss_sum(t, pred, batch["targets"][task])
        assert np.isclose(float(total) / float(count), tiny_data.references["val"][task], rtol=1e-5)


def test_constant_references_use_train_targets_only(tiny_data: PreparedData) -> None:
    """Every constant reference (regime, transition, casualty, anomaly), fitted by hand on
    the train samples' targets, scores the validation samples as the b_i say."""
    train = default_collate(
        [tiny_data.splits["train"][i] for i in range(len(tiny_data.splits["train"]))]
    )
    val = default_collate([tiny_data.splits["val"][i] for i in range(len(tiny_data.splits["val"]))])
    y, m = train["targets"]["anomaly"]["y"], train["targets"]["anomaly"]["m"]
    mean = y[m].mean()
    yv, mv = val["targets"]["anomaly"]["y"], val["targets"]["anomaly"]["m"]
    assert np.isclose(
        float(((yv[mv] - mean) ** 2).mean()), tiny_data.references["val"]["anomaly"], rtol=1e-5
    )
    y, m = train["targets"]["regime"]["y"][train["targets"]["regime"]["m"]], None
    prior = (torch.bincount(y, minlength=4) + 1.0) / (len(y) + 4.0)
    yv = val["targets"]["regime"]["y"][val["targets"]["regime"]["m"]]
    ce = float(-prior.log()[yv].mean())
    assert np.isclose(ce, tiny_data.references["val"]["regime"], rtol=1e-5)
    # transition: the constant logit of the add-half train rate, (positives + 1/2) / (n + 1)
    y = train["targets"]["transition"]["y"][train["targets"]["transition"]["m"]].double()
    rate = (float(y.sum()) + 0.5) / (len(y) + 1.0)
    yv = val["targets"]["transition"]["y"][val["targets"]["transition"]["m"]].double()
    bce = float(-(yv * math.log(rate) + (1 - yv) * math.log(1 - rate)).mean())
    assert np.isclose(bce, tiny_data.references["val"]["transition"], rtol=1e-5)
    # casualty: the one ZINB fitted by maximum likelihood to the train counts
    y = train["targets"]["casualty"]["y"][train["targets"]["casualty"]["m"]]
    zinb = _fit_zinb(y)
    yv = val["targets"]["casualty"]["y"][val["targets"]["casualty"]["m"]]
    nll = float(zinb_nll(zinb.expand(len(yv), 3), yv).mean())
    assert np.isclose(nll, tiny_data.references["val"]["casualty"], rtol=1e-5)


def test_availability_is_the_fraction_of_samples_with_a_target(tiny_data: PreparedData) -> None:
    """A sample counts once it has any target element of the task (a forecast's months or
    a daily forecast's days), on every split: availability gating reads the train split's."""
    partly = 0  # samples with some but not all of a multi-element target: the test can fail
    for split, ds in tiny_data.splits.items():
        for task in ("anomaly", "forecast", "daily_forecast"):
            m = torch.stack([ds[i]["targets"][task]["m"] for i in range(len(ds))])
            per_sample = m.reshape(len(ds), -1)
            expected = float(per_sample.any(dim=1).float().mean())
            assert np.isclose(tiny_data.availability[split][task], expected), (split, task)
            partly += int((per_sample.any(dim=1) & ~per_sample.all(dim=1)).sum())
    assert partly > 0
    assert set(tiny_data.references) == {"val", "test"}
