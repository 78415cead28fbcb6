"""bench.scaling.draws: what a search draws, apart from what its stops keep."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bench.scaling.draws import (
    AGAINST,
    DRAWS_METHODS,
    depth_at,
    drawn_best,
    draws_lines,
    draws_rows,
)
from bench.scaling.grid import Job, run_job


@pytest.mark.parametrize("method", ["random_asha", "tpe_fifo"])
def test_a_draws_run_records_each_trials_whole_curve_and_when_it_first_reported(method) -> None:
    """Every trial's entry is the best of its configuration's whole curve, which is never
    worse than what the run reached from it; without stops (TPE alone) the run reaches
    exactly its best draw, with ASHA's it may not."""
    record = run_job(Job("hartmann", method, 2, 3, kind="draws", trials=24))
    drawn = record["drawn"]
    assert len(drawn) == record["trials"] == 24
    firsts = [before for before, _ in drawn]
    # each trial's first report is its own row of the run's epochs, the first of them row 0
    assert len(set(firsts)) == len(firsts) and min(firsts) == 0
    assert all(0 <= f < record["epochs"] for f in firsts)
    assert drawn_best(record) <= record["best"] + 1e-6
    if method == "tpe_fifo":
        assert drawn_best(record) == pytest.approx(record["best"], rel=1e-5)
    # within the first epoch reported, one configuration had been drawn: the first to report
    assert drawn_best(record, epochs=1) == next(best for before, best in drawn if before == 0)
    # each improvement's epoch of its own trial: the first is any trial's first epoch
    depths = record["depths"]
    assert len(depths) == len(record["improvements"]) and depths[0] == 1
    assert all(1 <= d <= 27 for d in depths)  # Hartmann's curves run 27 epochs
    assert depth_at(record, record["epochs"]) == depths[-1]
    if method == "tpe_fifo":  # every trial runs to its end, so some best comes after epoch 1
        assert max(depths) > 1


def test_the_first_epochs_index_is_the_epochs_reported_before_it() -> None:
    """Two workers, three trials of fixed curves: the third starts when the first ends."""
    from types import SimpleNamespace

    import pandas as pd

    from bench.scaling.draws import drawn
    from raysearch.search.simulation.curves import Curve

    curves = {0: [3.0, 2.0], 1: [5.0, 1.0, 4.0], 2: [0.5]}
    source = SimpleNamespace(
        curve=lambda config, seed: Curve(curves[config["x"]], [1.0] * len(curves[config["x"]]))
    )
    result = SimpleNamespace(
        # the order the policy heard them: trial 0 and 1 together, then 2 after 0 ended
        epochs=pd.DataFrame(
            {"trial": [0, 1, 0, 1, 2], "epoch": [1, 1, 2, 2, 1], "value": [3, 5, 2, 1, 0.5]}
        ),
        trials=pd.DataFrame(
            {"trial": [0, 1, 2, 3], "seed": [7, 8, 9, 10], "curve_seed": [7, 8, 9, 10]}
        ),
        configs=[{"x": 0}, {"x": 1}, {"x": 2}, {"x": 0}],  # trial 3: cut off before a result
    )
    assert drawn(result, source) == [[0, 2.0], [1, 1.0], [4, 0.5], [5, 2.0]]


def _run(method: str, seed: int, epochs: int, best: float, drawn: list[list[float]], k=4) -> dict:
    return {
        "bench": "lcbench-167168",
        "method": method,
        "workers": k,
        "seed": seed,
        "epochs": epochs,
        "optimum": 0.0,
        "best": best,
        "trials": len(drawn),
        "improvements": [[1, 1.0, best + 0.5], [epochs // 2, 2.0, best]],
        "drawn": drawn,
    }


@given(
    st.lists(st.tuples(st.integers(0, 500), st.floats(0.0, 1.0)), min_size=1, max_size=30).map(
        lambda pairs: [list(p) for p in pairs]
    ),
    st.integers(0, 600),
)
def test_drawn_best_is_the_least_over_the_trials_that_reported_before_the_budget(
    drawn, epochs
) -> None:
    record = {"drawn": drawn}
    found = drawn_best(record, epochs)
    kept = [best for before, best in drawn if before < epochs]
    assert found == (min(kept) if kept else math.inf)
    assert drawn_best(record) <= found  # more epochs: never a worse best draw


@given(
    st.lists(st.tuples(st.integers(1, 40), st.integers(1, 50)), min_size=1, max_size=20),
    st.integers(0, 900),
)
def test_depth_at_is_the_trial_epoch_of_the_last_improvement_within_the_budget(
    steps, epochs
) -> None:
    """Improvements at rising epochs spent; the depth read back at a budget is that of the
    last improvement at or before it, NaN before the first, and NaN without depths."""
    spent = [sum(gap for gap, _ in steps[: i + 1]) for i in range(len(steps))]
    record = {
        "improvements": [[e, float(e), 1.0 / e] for e in spent],
        "depths": [d for _, d in steps],
    }
    kept = [d for e, (_, d) in zip(spent, steps, strict=True) if e <= epochs]
    found = depth_at(record, epochs)
    assert found == kept[-1] if kept else math.isnan(found)
    assert math.isnan(depth_at({"improvements": record["improvements"]}, epochs))


def test_draws_rows_compare_each_seed_at_random_ashas_epochs() -> None:
    draws = []
    for seed in range(3):
        # the default draws its best configuration late, after random + ASHA's epochs
        draws.append(
            _run("default", seed, 900, 0.2, [[0, 0.6], [50, 0.3], [400, 0.1], [800, 0.05]])
        )
        draws.append(_run(AGAINST, seed, 300, 0.25, [[0, 0.5], [10, 0.2], [20, 0.15]]))
    rows = {r["method"]: r for r in draws_rows(draws)}
    mine, theirs = rows["default"], rows[AGAINST]
    assert mine["drawn"]["median"] == 0.05 and mine["reached"]["median"] == 0.2
    assert mine["at"]["epochs"]["median"] == 300  # the fewer of the two runs' epochs
    assert mine["at"]["trials"]["median"] == 2  # reported before epoch 300: two of four
    assert mine["at"]["drawn"]["median"] == 0.3
    assert theirs["at"]["drawn"]["median"] == 0.15
    runs = [{k: v for k, v in r.items() if k != "drawn"} for r in draws]
    runs[0] = {**runs[0], "best": 0.19}  # one run above ended otherwise
    text = "\n".join(draws_lines(draws, runs))
    assert "seeds 0-2; 5 of the 6 that repeat a run above ended as it did" in text
    assert "## What the searches draw, and what their stops keep" in text
    assert "scaling_draws.png" in text
    # after 200 trials the default drew the better configuration; at random's epochs not
    assert "no worse than random search's in 1 of 1 cells." in text
    assert "in 0 of 1 cells; worse: lcbench-167168 k=4: 0.3 vs 0.15." in text
    assert "largest on lcbench-167168 at k=4: 0.15" in text
    # by random's 300 epochs the default had reached 0.7 (0.2 + 0.5) and drawn 0.3
    assert "trails its best draw (by then, were it run to its end) by a median over the " in text
    assert "benchmarks of 0.4 at k=4: the more trials at once, the further it trails" in text
    wider = [{**r, "workers": 16, "improvements": [[1, 1.0, 0.35]]} for r in draws]
    text = "\n".join(draws_lines(draws + wider, runs))
    assert "0.4 at k=4, 0.05 at k=16." in text  # trails less at k=16: no such claim
    assert "the epoch of its own trial at which each search's best" not in text  # no depths
    assert "| - |" in text


def test_the_section_says_how_deep_in_its_trial_each_searchs_best_was_found() -> None:
    """Improvements at epochs 1 and half the run's: by random + ASHA's 300 epochs the
    default's best is its first (epoch 2 of its trial), random's its second (epoch 50)."""
    draws = []
    for seed in range(3):
        mine = _run("default", seed, 900, 0.2, [[0, 0.6]])
        theirs = _run(AGAINST, seed, 300, 0.25, [[0, 0.5]])
        draws += [{**mine, "depths": [1, 2]}, {**theirs, "depths": [1, 50]}]
    draws[0] = {**draws[0], "depths": [2, 9]}  # the first seed's: its first found at epoch 2
    text = "\n".join(draws_lines(draws, draws))
    assert "at k = 4: the default's 1; random + ASHA's 50. Where random + ASHA's is the " in text
    assert "deeper (k = 4), in as few epochs its stops had run a few trials far" in text
    assert "| 50 |" in text and "| 1 |" in text
    assert "Where the two are as deep" not in text
    shallow = [{**r, "depths": [1, 1]} if r["method"] == AGAINST else r for r in draws]
    wide = [{**r, "workers": 16} for r in draws]  # at k=16 random + ASHA's is deeper
    text = "\n".join(draws_lines(shallow + wide, shallow + wide))
    assert "at k = 4, 16: the default's 1, 1; random + ASHA's 1, 50." in text
    assert "Where random + ASHA's is the deeper (k = 16)," in text
    assert "Where the two are as deep (k = 4), what parts them is which configurations" in text


def test_draws_on_fresh_seeds_beside_the_table_are_summed_up_in_its_section() -> None:
    def pair(seed: int, late: bool) -> list[dict]:
        best = [[0, 0.6], [400, 0.05]] if late else [[0, 0.1]]
        return [
            _run("default", seed, 900, 0.2, best),
            _run(AGAINST, seed, 300, 0.25, [[0, 0.5], [10, 0.2]]),
        ]

    draws = pair(0, late=True) + pair(1, late=True)
    fresh = {"draws": pair(1000, late=False) + pair(1001, late=False)}
    pooled = {"draws": draws + fresh["draws"]}  # this table's seeds and more: told after
    again = {"draws": draws}  # only this table's seeds: told in its own section already
    beside = [(fresh, "scaling_fresh"), (again, "scaling_again"), (pooled, "scaling_pooled")]
    text = "\n".join(draws_lines(draws, draws, beside))
    text, pool = text.split("On seeds 0-1 and 1000-1001 pooled (4 seeds)")
    mine, theirs = text.split("On fresh seeds 1000-1001, which chose nothing")
    assert "at random + ASHA's epochs (median regret, were it run to its end) is no worse " in mine
    assert "in 0 of 1 cells; worse:" in mine
    assert "(scaling_fresh/scaling.md#what-the-searches-draw-and-what-their-stops-keep)" in theirs
    assert (
        "at random + ASHA's epochs (median regret, were it run to its end) is no worse " in theirs
    )
    assert "in 1 of 1 cells." in theirs.split("at random + ASHA's epochs")[1]
    assert "scaling_again" not in text + pool
    assert "(scaling_pooled/scaling.md#what-the-searches-draw" in pool
    assert "at random + ASHA's epochs (median regret, were it run to its end)" in pool
    assert "scaling_draws.png" in pool  # the fresh seeds, then the pool, then the figure


def test_no_draws_runs_no_section() -> None:
    assert draws_lines([], []) == []
    assert set(DRAWS_METHODS) >= {"default", AGAINST}
