"""evaluate_split: the split's per-task loss L_i (what anchored_val_loss is built from), its
regrets and prediction spread, against one forward pass over the whole split."""

from __future__ import annotations

import math

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from torch.utils.data import DataLoader

from raysearch.scoring.plain import plain_loss_elements
from raysearch.testing.train import factory, fake_data
from raysearch.train.evaluate import evaluate_split

CPU = torch.device("cpu")


@settings(max_examples=20, deadline=None)
@given(batch_size=st.integers(1, 32), missing=st.sampled_from([0.0, 0.2, 0.7]))
@example(batch_size=3, missing=0.2)
@example(batch_size=8, missing=0.2)
@example(batch_size=32, missing=0.2)
def test_a_splits_loss_is_its_observed_targets_mean_whatever_the_batch_size(
    batch_size: int, missing: float
) -> None:
    """L_i is the mean plain loss over every observed target of the split (sums and counts
    over all batches): not the last batch's, and divided by the count itself; regrets are
    clip(log(L_i / b_i), -3, 3); the prediction spread is each output dimension's population
    std over the split's samples, averaged over dimensions."""
    data = fake_data(n_eval=32, missing=missing)
    model = factory()(data.spec, None)
    val, refs = data.splits["val"], data.references["val"]
    res = evaluate_split(
        model, DataLoader(val, batch_size=batch_size), data.spec.tasks, refs, "val", CPU
    )
    (whole,) = list(DataLoader(val, batch_size=len(val)))
    model.eval()
    with torch.no_grad():
        out = model(whole)
    metrics, spreads = res.metrics(), []
    for task in data.spec.tasks:
        target = whole["targets"][task.name]
        n_observed = int(target["m"].sum())
        if n_observed == 0:
            assert task.name not in res.losses
            continue
        elements = plain_loss_elements(task, out[task.name].float(), target).double()
        expected = float(elements.sum()) / n_observed
        assert res.losses[task.name] == pytest.approx(expected, rel=1e-5)
        regret = max(-3.0, min(3.0, math.log(expected / refs[task.name])))
        assert metrics[f"val_regret/{task.name}"] == pytest.approx(regret, abs=1e-5)
        assert metrics[f"val_loss/{task.name}"] == res.losses[task.name]
        flat = out[task.name].double().reshape(len(val), -1)
        spreads.append(float(flat.std(0, unbiased=False).mean()))
        assert res.prediction_std[task.name] == pytest.approx(spreads[-1], rel=1e-6)
    assert min(spreads) > 0  # the predictions vary: the spread check can fail
    mean_regret = sum(res.regrets.values()) / len(res.regrets)
    assert metrics["anchored_val_loss"] == pytest.approx(mean_regret)
