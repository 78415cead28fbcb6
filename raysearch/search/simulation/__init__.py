"""A simulator that drives raysearch's own searcher and scheduler on recorded or synthetic
learning curves, with k simulated workers and no Ray cluster (python -m raysearch.simulate)."""

from raysearch.search.simulation.curves import Curve, CurveSource, TrialCurve
from raysearch.search.simulation.engine import Policy, SimResult, SimSettings, simulate
from raysearch.search.simulation.runs import run_search, summarise

__all__ = [
    "Curve",
    "CurveSource",
    "Policy",
    "SimResult",
    "SimSettings",
    "TrialCurve",
    "run_search",
    "simulate",
    "summarise",
]
