"""The search: spaces, resources, the Tune set-up (OptunaSearch TPE + ASHA) and the driver."""

from raysearch.search.report import BEST_METRIC, METRIC, MODE, TIME_ATTR, check_report
from raysearch.search.resources import ResourcePlan, plan_resources
from raysearch.search.space import SearchSettings, SearchSpace, available_spaces, load_space

__all__ = [
    "BEST_METRIC",
    "METRIC",
    "MODE",
    "TIME_ATTR",
    "ResourcePlan",
    "SearchSettings",
    "SearchSpace",
    "available_spaces",
    "check_report",
    "load_space",
    "plan_resources",
]
