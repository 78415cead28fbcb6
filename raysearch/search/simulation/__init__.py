"""A simulator that drives raysearch's own searcher and scheduler on recorded or synthetic
learning curves, with k simulated workers and no Ray cluster (python -m raysearch.simulate)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from raysearch.core.lazy import lazy_names

if TYPE_CHECKING:
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

# Deferred (PEP 562): the simulator's names are imported on first use, because the engine's
# modules import Ray Tune and Optuna (a second or two); the package's light modules (record:
# raysearch.record_curves, grid, curve_plan) are imported without them, so a bad argument
# of record_curves is named at once.
_LAZY = {
    "Curve": "raysearch.search.simulation.curves",
    "CurveSource": "raysearch.search.simulation.curves",
    "TrialCurve": "raysearch.search.simulation.curves",
    "Policy": "raysearch.search.simulation.engine",
    "SimResult": "raysearch.search.simulation.engine",
    "SimSettings": "raysearch.search.simulation.engine",
    "simulate": "raysearch.search.simulation.engine",
    "run_search": "raysearch.search.simulation.runs",
    "summarise": "raysearch.search.simulation.runs",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)
