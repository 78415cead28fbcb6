"""Every report carries the metric and time attribute ASHA needs, finite."""

from __future__ import annotations

import math

import pytest

from raysearch.core.metrics import BEST_VAL_METRIC, TIME_ATTR, VAL_METRIC
from raysearch.search.report import NonFiniteMetricError, check_report


def test_a_complete_report_passes_unchanged() -> None:
    metrics = {TIME_ATTR: 3, VAL_METRIC: -0.2, BEST_VAL_METRIC: -0.3, "val_loss/regime": 1.1}
    assert check_report(metrics) == metrics


@pytest.mark.parametrize("missing", [VAL_METRIC, BEST_VAL_METRIC, TIME_ATTR])
def test_a_report_without_metric_or_time_attribute_is_refused(missing: str) -> None:
    metrics = {TIME_ATTR: 1, VAL_METRIC: 0.1, BEST_VAL_METRIC: 0.1}
    del metrics[missing]
    with pytest.raises(KeyError, match=missing):
        check_report(metrics)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_non_finite_metric_fails_the_trial_with_its_reason(value: float) -> None:
    with pytest.raises(NonFiniteMetricError, match="epoch 4"):
        check_report({TIME_ATTR: 4, VAL_METRIC: value, BEST_VAL_METRIC: 0.0})
