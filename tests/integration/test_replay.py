"""One trial at a time, the simulator runs exactly the search Ray Tune runs.

Ray Tune's own run of a search (raysearch.search.simulation.replay.run_in_tune: the searcher
and scheduler raysearch builds, in a real Tuner on the shared Ray, each trial reporting a
curve) and the simulator's run of it with the same seed must start the same trials with the
same seeds and stop each at the same epoch: with one trial at a time nothing but the search
orders what happens. Any call the simulator makes out of Tune's order, or with other
values, shows up as a different draw or stop.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import ray

from raysearch.search.settings import SearchSettings
from raysearch.search.simulation.hartmann import HartmannCurves, hartmann_space
from raysearch.search.simulation.replay import first_difference, run_in_tune
from raysearch.search.simulation.runs import run_search
from raysearch.search.simulation.table import TableCurves
from raysearch.search.space import load_space

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.integration  # the tests run on the shared Ray

HAN_TABLE = ROOT / "results" / "benchmarks" / "han_table.parquet"
HAN_SPACE = ROOT / "bench" / "spaces" / "han_table.yaml"


@pytest.fixture
def joined(ray_address: str) -> Iterator[None]:
    ray.init(address=ray_address, logging_level="ERROR")
    try:
        yield
    finally:
        ray.shutdown()


def _hartmann(scheduler: str) -> tuple[Any, Any]:
    settings = SearchSettings(
        num_samples=40, max_epochs=9, grace_period=1, reduction_factor=3, n_startup_trials=5
    )  # ASHA's; a fifo search sets its rungs aside
    return hartmann_space(settings.replaced(scheduler=scheduler)), HartmannCurves(max_epochs=9)


def _han_table() -> tuple[Any, Any]:
    """The committed HAN table: categorical parameters, one only under a condition."""
    space = load_space(str(HAN_SPACE)).with_settings(num_samples=30)
    return space, TableCurves(pd.read_parquet(HAN_TABLE), tuple(space.parameters))


@pytest.mark.parametrize(
    "build",
    [lambda: _hartmann("gated_asha"), lambda: _hartmann("asha"), _han_table],
    ids=["hartmann-default", "hartmann-asha", "han-table-default"],
)
def test_one_trial_at_a_time_the_simulator_runs_the_search_tune_runs(
    build: Any, joined: None, tmp_path: Path
) -> None:
    space, source = build()
    real = run_in_tune(space, source, seed=3, root=tmp_path)
    simulated = run_search(space, source, 1, seed=3)
    assert len(real.configs) == space.settings.num_samples
    assert first_difference(simulated, real) is None
    assert real.best == simulated.best
    if space.name == "hartmann":  # the rungs rank Hartmann's curves: the check covers stops
        ran = real.epochs.groupby("trial")["epoch"].max()
        assert (ran < space.settings.max_epochs).any()


def test_two_trials_at_once_run_side_by_side_and_more_than_rays_cpus_are_refused(
    joined: None, tmp_path: Path
) -> None:
    """With 2 workers two trials run at once: a later trial reports while an earlier one
    has epochs still to come (one at a time, never); each epoch sleeps (its 1 s +- 20%
    scaled to 80-120 ms: a trial runs about 3 s) so both are running when the second
    starts, on a busy machine too (at 20-30 ms one could end before the next started). 3
    workers on the shared Ray's 2 CPUs is refused before anything runs."""
    space, source = _hartmann("fifo")
    space = space.with_settings(num_samples=6)
    real = run_in_tune(space, source, seed=3, root=tmp_path, workers=2, time_scale=0.1)
    order = real.epochs["trial"].tolist()
    assert sorted(set(order)) == list(range(6))
    last = {t: max(i for i, x in enumerate(order) if x == t) for t in set(order)}
    first = {t: min(i for i, x in enumerate(order) if x == t) for t in set(order)}
    assert any(first[b] < last[a] for a in last for b in first if b > a)
    assert (real.epochs.groupby("trial")["epoch"].max() == space.settings.max_epochs).all()
    with pytest.raises(ValueError, match="workers: 3 trials at once need 3 CPUs; Ray has 2"):
        run_in_tune(space, source, seed=3, root=tmp_path / "refused", workers=3)
    assert not (tmp_path / "refused").exists()
