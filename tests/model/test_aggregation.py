"""Learnable monthly aggregation: a month slot reads only its own days."""

from __future__ import annotations

import pytest
import torch

from raysearch.core.model_config import ModelConfig
from raysearch.model.aggregation import MonthlyAggregation


@pytest.mark.parametrize("month", [0, 1, 2, 3])
def test_a_months_aggregate_depends_only_on_its_own_days(month: int) -> None:
    torch.manual_seed(0)
    agg = MonthlyAggregation(4, ModelConfig(size="tiny").resolve()).eval()
    day_month = torch.tensor(
        [[0] * 5 + [1] * 9 + [2] * 7 + [3] * 4, [0] * 2 + [1] * 12 + [2] * 10 + [3]]
    )
    daily = torch.randn(2, 25, 16)
    ref = agg(daily, day_month)
    changed = daily.clone()
    own = day_month == month
    changed[own] = torch.randn(int(own.sum()), 16) * 10
    out = agg(changed, day_month)
    others = [k for k in range(4) if k != month]
    torch.testing.assert_close(out[:, others], ref[:, others])
    assert not torch.allclose(out[:, month], ref[:, month])


def test_a_month_with_no_day_in_the_window_is_finite_and_constant() -> None:
    torch.manual_seed(0)
    agg = MonthlyAggregation(3, ModelConfig(size="tiny").resolve()).eval()
    day_month = torch.tensor([[1] * 6 + [2] * 4])  # slot 0 has no day
    a = agg(torch.randn(1, 10, 16), day_month)
    b = agg(torch.randn(1, 10, 16), day_month)
    assert torch.isfinite(a).all()
    torch.testing.assert_close(a[:, 0], b[:, 0])
