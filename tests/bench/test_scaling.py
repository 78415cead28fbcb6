"""The scaling benchmark's pieces: the synthetic HAN table, the other searches as
simulation policies, and the figures read back from run records."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.scaling.analyse import best_at, equal_epochs, equal_time, regret, worth
from bench.scaling.grid import Job, run_job
from bench.scaling.report import _start_cells
from bench.scaling.synthetic import grid, synthetic_han_table
from raysearch.search.settings import SearchSettings
from raysearch.search.simulation.engine import SimSettings, simulate
from raysearch.search.simulation.hartmann import HartmannCurves, hartmann_space
from raysearch.search.simulation.runs import run_search
from raysearch.search.simulation.table import TableCurves, check_space
from raysearch.search.space import ParamSpec, SearchSpace


def _han_like_space(trials: int = 24) -> SearchSpace:
    """The HAN table's shape: categorical values, two of them only under a3dro."""
    settings = SearchSettings(num_samples=trials, max_epochs=9, n_startup_trials=4)
    params = {
        "size": ParamSpec(type="categorical", choices=["tiny", "small"]),
        "loss_strategy": ParamSpec(type="categorical", choices=["uniform", "a3dro"]),
        "dropout": ParamSpec(type="categorical", choices=[0.0, 0.15]),
        "budget_beta": ParamSpec(
            type="categorical", choices=[0.0, 0.35], when={"loss_strategy": "a3dro"}
        ),
    }
    return SearchSpace("han-like", "", settings, params)


def test_the_default_search_runs_on_a_table_of_the_han_contract() -> None:
    space = _han_like_space()
    frame = synthetic_han_table(space, seeds=2)
    assert len(grid(space)) == 2 * 2 + 2 * 2 * 2  # uniform: size x dropout; a3dro: x beta
    assert frame["budget_beta"].isna().sum() == 2 * 2 * 2 * 9  # uniform rows, 2 seeds, 9 epochs
    table = TableCurves(frame, tuple(space.parameters))
    assert check_space(table, space) == []
    result = run_search(space, table, workers=4, seed=1)
    assert len(result.configs) == 24
    held = [{k: v for k, v in c.items() if v is not None} for c in table.configurations]
    assert all(c in held for c in result.configs)
    assert result.best >= table.optimum


def test_check_space_names_what_the_table_cannot_run() -> None:
    space = _han_like_space()
    table = TableCurves(synthetic_han_table(space), tuple(space.parameters))
    wider = SearchSpace(
        "wider",
        "",
        space.settings,
        {**space.parameters, "dropout": ParamSpec(type="categorical", choices=[0.0, 0.3])},
    )
    problems = check_space(table, wider)
    # the value the table lacks, and the one it holds that the space does not list
    assert problems and all(
        "dropout=0.3" in p or "dropout=0.15 is in the table" in p for p in problems
    )
    assert any(
        "dropout=0.15 is in the table but not among the space's values" in p for p in problems
    )
    floats = SearchSpace(
        "floats",
        "",
        space.settings,
        {**space.parameters, "dropout": ParamSpec(type="float", low=0, high=1)},
    )
    assert check_space(table, floats) == [
        "parameters.dropout: a table holds listed values; make it categorical"
    ]


def _hartmann_search(method: str, trials: int, workers: int) -> Any:
    """A registered method's search of ``trials`` trials on 10-epoch Hartmann (room for 3
    brackets); checks that every trial got a full configuration."""
    from bench.scaling.methods import METHODS

    settings = SearchSettings(num_samples=trials, max_epochs=10, grace_period=1, reduction_factor=3)
    policy = METHODS[method].policy(hartmann_space(settings), 0, workers)
    result = simulate(
        policy, HartmannCurves(max_epochs=10), SimSettings(workers=workers, num_trials=trials)
    )
    assert len(result.configs) == trials
    assert all(set(c) == {f"x{i}" for i in range(1, 7)} for c in result.configs)
    return result


@pytest.mark.parametrize("name", ["optuna_hyperband", "wandb"])
def test_the_other_searches_run_on_the_simulator(name: str) -> None:
    if name == "wandb":
        pytest.importorskip("sweeps")
    result = _hartmann_search(name, trials=12, workers=3)
    assert result.trials["stopped"].any()  # its early stopping reached the trials
    assert (result.trials["epochs"] < 9).sum() == result.trials["stopped"].sum()


def _every_method() -> list[str]:
    from bench.scaling.methods import METHODS

    # wandb: the test above. syne-tune's methods need the bench install (requirements-bench:
    # syne-tune pulls in XGBoost and NCCL, about 700 MB), which the test install leaves out;
    # `synetune_asha` checks their policy against random + ASHA in scaling.md.
    return [name for name in METHODS if name != "wandb" and not name.startswith("synetune_")]


@pytest.mark.parametrize("name", _every_method())
def test_every_method_builds_and_searches_on_the_simulator(name: str) -> None:
    """Every registered method (the decision-time variants too) runs a small search."""
    _hartmann_search(name, trials=8, workers=2)


def _record(points: list[list[float]], epochs: int, seed: int = 0) -> dict:
    return {"improvements": points, "epochs": epochs, "optimum": 0.0, "seed": seed}


def test_best_at_reads_the_best_at_a_budget_of_epochs_or_seconds() -> None:
    record = _record([[1, 2.0, 0.9], [5, 6.0, 0.5], [9, 9.5, 0.1]], epochs=12)
    assert best_at(record, epochs=0) == math.inf
    assert best_at(record, epochs=4) == 0.9
    assert best_at(record, epochs=5) == 0.5
    assert best_at(record, seconds=9.4) == 0.5
    assert best_at(record, seconds=100) == 0.1


def test_a_run_is_judged_on_its_best_at_its_own_end_though_its_time_rounds_above_it() -> None:
    """A run's improvements keep their times to 0.01 s; its end is exact. One trial of
    augmented Hartmann improves at every epoch, and with seed 0 ends at 27.0855 s, its last
    improvement kept at 27.09: at its own end (the budget of an equal-wall-time comparison
    in which it is the shorter run) its best is its last value, not the one before."""
    run = run_job(Job("hartmann", "random_asha", 1, 0, trials=1))
    last = run["improvements"][-1]
    assert last[0] == run["epochs"] and last[1] > run["end"]  # the case in point
    assert best_at(run, seconds=run["end"]) == last[2]
    longer = {**run, "method": "b", "end": run["end"] + 100.0}
    found = equal_time([{**run, "method": "a"}, longer], "hartmann", "a", "b", 1)
    assert found is not None
    assert found["regret_a"]["median"] == found["regret_b"]["median"] == regret(run, last[2])


@settings(max_examples=200, deadline=None)
@given(
    optimum=st.floats(-10, 10, allow_nan=False),
    above=st.lists(st.floats(0, 5, allow_nan=False), min_size=2, max_size=2),
)
def test_a_run_that_reached_the_optimum_has_no_regret_at_its_records_precision(
    optimum, above
) -> None:
    # a run's improvements keep 6 significant digits (bench.scaling.grid); its optimum all
    kept = float(f"{optimum:.6g}")
    record = _record([[1, 1.0, float(f"{optimum + max(above):.6g}")], [3, 2.0, kept]], epochs=3)
    record["optimum"] = optimum
    assert regret(record, best_at(record, epochs=3)) == 0  # not minus the rounding
    assert regret(record, best_at(record, epochs=1)) >= 0
    low, high = sorted(optimum + a for a in above)
    assert regret(record, low) <= regret(record, high)  # orders values as they are ordered


def test_equal_epochs_compares_each_seed_at_the_smaller_budget() -> None:
    runs = []
    for seed in range(3):
        mine = _record([[1, 1.0, 0.8], [40, 40.0, 0.2]], epochs=50, seed=seed)
        theirs = _record([[1, 1.0, 0.6]], epochs=30, seed=seed)
        runs += [
            {**mine, "bench": "b", "method": "default", "workers": 4},
            {**theirs, "bench": "b", "method": "random_asha", "workers": 4},
        ]
    found = equal_epochs(runs, "b", "default", "random_asha", 4)
    assert found is not None
    # at 30 epochs the default had 0.8 (its 0.2 came at epoch 40): it is worse there
    assert found["regret_a"]["median"] == pytest.approx(0.8)
    assert found["regret_b"]["median"] == pytest.approx(0.6)
    assert found["a_not_worse"] == 0 and found["seeds"] == 3
    assert np.isclose(found["epochs"]["median"], 30)


def test_records_unchanged_keeps_a_lists_cells_only_while_it_holds_the_same_records() -> None:
    """A render groups the same lists hundreds of times, once each within
    records_unchanged; a list given a record since is grouped again, and once it closes
    nothing is kept (a record changed then is grouped as it is now)."""
    from bench.scaling.analyse import records_unchanged

    def run(seed: int, best: float) -> dict:
        return {**_record([[1, 1.0, best]], epochs=10, seed=seed), "bench": "b", "workers": 2}

    runs = [{**run(0, 0.5), "method": "a"}, {**run(0, 0.4), "method": "c"}]
    with records_unchanged():
        assert equal_epochs(runs, "b", "a", "c", 2)["seeds"] == 1
        runs.append({**run(1, 0.3), "method": "a"})
        runs.append({**run(1, 0.6), "method": "c"})
        found = equal_epochs(runs, "b", "a", "c", 2)
        assert found["seeds"] == 2 and found["a_not_worse"] == 1
        assert equal_epochs(list(runs), "b", "a", "c", 2) == found  # another list alike
    runs[3]["method"] = "d"  # changed in place, outside: nothing was kept, it counts
    assert equal_epochs(runs, "b", "a", "c", 2)["seeds"] == 1


def _budget_record(seed: int, best: float, epochs: int, trials: int = 200) -> dict:
    return {"seed": seed, "best": best, "optimum": 0.0, "epochs": epochs, "trials": trials}


def test_budget_runs_give_each_seed_the_defaults_epochs_at_its_k() -> None:
    from bench.scaling.__main__ import budget_jobs

    runs = [
        {"bench": "b", "method": "default", "workers": k, "seed": s, "epochs": 100 * k + s}
        for k in (1, 4)
        for s in range(2)
    ]
    runs.append({"bench": "b", "method": "random_asha", "workers": 1, "seed": 0, "epochs": 7})
    jobs = budget_jobs(runs, ["b"])
    random = {(j.workers, j.seed): j.epoch_budget for j in jobs if j.method == "random_asha"}
    assert random == {(1, 0): 100, (1, 1): 101, (4, 0): 400, (4, 1): 401}
    # Optuna alone is a k=1 target only
    assert {(j.workers, j.seed) for j in jobs if j.method == "optuna_hyperband"} == {(1, 0), (1, 1)}
    assert all(j.kind == "budget" for j in jobs)
    assert budget_jobs(runs, ["other"]) == []


def test_the_budget_part_runs_the_budget_jobs_and_keeps_other_benchmarks(monkeypatch) -> None:
    """``--parts budget`` re-measures the budget runs of the benchmarks asked for, from the
    default's recorded epochs, and keeps the rest (a refactor once dropped the part)."""
    import bench.scaling.__main__ as scaling

    ran: list[Any] = []

    def fake_pool(jobs: list[Any], processes: int) -> list[dict]:
        ran.extend(jobs)
        return [
            {"bench": j.bench, "method": j.method, "epoch_budget": j.epoch_budget} for j in jobs
        ]

    monkeypatch.setattr(scaling, "pool_map", fake_pool)
    runs = [
        {"bench": b, "method": "default", "workers": 1, "seed": 0, "epochs": 9}
        for b in ("han", "hartmann")
    ]
    old_b = {"bench": "hartmann", "method": "random_asha", "epoch_budget": 1}
    old = {"meta": {}, "runs": runs, "budget": [{**old_b, "bench": "han"}, old_b]}
    args = scaling._parse(["--methods", "default", "--parts", "budget", "--benchmarks", "han"])
    found = scaling._run(args, old)["budget"]
    assert {(j.bench, j.method, j.epoch_budget) for j in ran} == {
        ("han", "random_asha", 9),
        ("han", "optuna_hyperband", 9),
    }
    assert old_b in found and {**old_b, "bench": "han"} not in found  # replaced, not kept
    assert len(found) == 3


def test_at_budget_compares_the_defaults_run_with_theirs_at_its_epochs() -> None:
    from bench.scaling.analyse import at_budget

    runs = [
        {**_budget_record(s, 0.2 + s, 500), "bench": "b", "method": "default", "workers": 4}
        for s in range(3)
    ]
    budget = [  # seed 2 ran out of trials at 300 epochs
        {**_budget_record(s, b, e, 1000), "bench": "b", "method": "random_asha", "workers": 4}
        for s, b, e in ((0, 0.1, 500), (1, 1.5, 500), (2, 2.2, 300))
    ]
    budget = [{**r, "epoch_budget": 500} for r in budget]
    found = at_budget(runs, budget, "b", "random_asha", 4)
    assert found is not None
    assert found["a_not_worse"] == 2 and found["seeds"] == 3  # seeds 1 and 2
    assert found["regret_a"]["median"] == pytest.approx(1.2)
    assert found["regret_b"]["median"] == pytest.approx(1.5)
    assert found["short"] == 1
    assert found["trials_b"]["median"] == 1000
    assert at_budget(runs, budget, "b", "random_asha", 16) is None
    # the default re-measured since (other epochs): its old budget runs are not compared
    stale = [{**r, "epoch_budget": 400} if r["seed"] == 0 else r for r in budget]
    assert at_budget(runs, stale, "b", "random_asha", 4)["seeds"] == 2


def test_the_gate_section_compares_each_gated_candidate_with_tpe_and_asha() -> None:
    from bench.scaling.gate_notes import gate_lines

    def run(method: str, seed: int, points: list[list[float]], epochs: int) -> dict[str, Any]:
        extra = {"bench": "hartmann", "method": method, "workers": 16, "best": points[-1][2]}
        extra |= {"end": 1.0, "busy": 1.0, "decide_ms_mean": 1.0}
        return {**_record(points, epochs, seed), **extra}

    runs = [run("tpe_asha", s, [[1, 1.0, 0.5]], 100) for s in range(3)]
    assert gate_lines(runs) == []
    # the gated runs end better (0.1) but spend 200 epochs: at 100 they still had 0.7
    runs += [run("gated_asha_lazy", s, [[1, 1.0, 0.7], [150, 2.0, 0.1]], 200) for s in range(3)]
    text = "\n".join(gate_lines(runs))
    row = next(line for line in text.splitlines() if line.startswith("| hartmann"))
    assert "0.1 [0.1, 0.1] (200)" in row and "0.5 [0.5, 0.5] (100)" in row
    assert "0.7 [0.7, 0.7] vs 0.5 [0.5, 0.5]" in row and row.rstrip(" |").endswith("0/3")
    assert "HAN table's rungs unreliable" not in text  # no HAN runs: no HAN figure claimed
    # at equal wall time (the shorter run's end, 1.0 s) both had their first value
    assert "at equal simulated wall time, better in 0, worse in 3" in text
    han = [{**r, "bench": "han", "workers": 1} for r in runs]
    han = [{**r, "method": "gated_asha"} if r["method"] != "tpe_asha" else r for r in han]
    text = "\n".join(gate_lines(han))
    assert "(k=1: regret after 200 trials 0.1 instead of 0.5)" in text  # from the runs


def _reach(method: str, k: int, ends: list[float]) -> list[dict]:
    return [
        {
            "bench": "b", "method": method, "workers": k, "seed": seed, "kind": "reach",
            "end": end, "reached": math.isfinite(end), "target": 0.5, "optimum": 0.0,
            "time_limit": None if k == 1 else 2 * 200 / k, "best": 0.4,
        }
        for seed, end in enumerate(ends)
    ]  # fmt: skip


def test_a_candidates_speed_up_is_measured_against_its_baselines_k1_time() -> None:
    from bench.scaling.__main__ import _candidate_reach_jobs
    from bench.scaling.analyse import speedups

    # final_scale_running was measured on TPE + ASHA (tpe_asha), the default before the gate
    ones = _reach("tpe_asha", 1, [100.0, 200.0, 300.0])
    jobs = _candidate_reach_jobs(ones, ["final_scale_running"], ["b"])
    assert {(j.method, j.workers, j.time_limit, j.target) for j in jobs} == {
        ("final_scale_running", 16, 2 * 200 / 10, 0.5),  # the targets' 10x and 32x
        ("final_scale_running", 64, 2 * 200 / 32, 0.5),
    }
    assert sorted(j.seed for j in jobs if j.workers == 16) == [0, 1, 2]
    assert _candidate_reach_jobs(ones, ["random_asha"], ["b"]) == []  # its baseline: the default
    reach = ones + _reach("tpe_asha", 16, [40.0] * 3)
    reach += _reach("final_scale_running", 16, [10.0, 20.0, math.inf])
    mine = {r["workers"]: r for r in speedups(reach, [], "tpe_asha")}
    theirs = speedups(reach, [], "final_scale_running")
    assert mine[16]["speedup"] == pytest.approx(5.0) and set(mine) == {1, 16}
    assert speedups(reach, []) == []  # the default has no reach runs here
    assert [(r["workers"], r["reached"]) for r in theirs] == [(16, 2)]
    assert theirs[0]["speedup"] == pytest.approx(200 / 20)
    from bench.scaling.report import _candidate_speedup_verdicts

    verdict = _candidate_speedup_verdicts(theirs, {"tpe_asha": list(mine.values())})
    assert "met in 1 of 1 (benchmark, k) cells; TPE + ASHA, the default before" in verdict[0]
    assert verdict[0].endswith("in 0 of 1.")
    # with the reach runs: seed by seed, 10 and 20 s beat 40 s, inf (never) loses to it
    verdict = _candidate_speedup_verdicts(theirs, {"tpe_asha": list(mine.values())}, reach)
    assert verdict[0].endswith(
        "Seed by seed it reached the target sooner in 2 runs and later in 1 "
        "(two-sided sign test p = 1)."
    )


def test_a_candidate_whose_reach_runs_had_less_time_than_its_baseline_is_not_judged() -> None:
    from bench.scaling.analyse import speedups
    from bench.scaling.report import _candidate_speedup_verdicts

    reach = _reach("tpe_asha", 1, [100.0, 200.0, 300.0]) + _reach("tpe_asha", 16, [40.0] * 3)
    short = _reach("final_scale_running", 16, [10.0, 20.0, math.inf])
    for limit, fair in ((2 * 200 / 16, True), (2 * 200 / 32, False)):
        mine = [{**r, "time_limit": limit} for r in short]
        theirs = speedups(reach + mine, [], "final_scale_running")
        base = speedups(reach + mine, [], "tpe_asha")
        (line, _) = _candidate_speedup_verdicts(theirs, {"tpe_asha": base}, reach + mine)
        assert ("Seed by seed" in line) == fair
        assert ("not a fair comparison" in line) != fair


def test_re_measuring_reach_runs_replaces_only_their_kind() -> None:
    from bench.scaling.__main__ import redone

    window = _reach("window_asha", 16, [1.0])[0]  # against the default's k=1
    window_own = {**window, "against": "window_asha"}
    tpe_asha = _reach("tpe_asha", 16, [1.0])[0]  # its own baseline: its runs are its own
    tpe_asha_own = {**tpe_asha, "against": "tpe_asha"}
    records = [window, window_own, tpe_asha, tpe_asha_own]
    assert [redone(r, ["b"], ["window_asha"], own=False) for r in records] == [1, 0, 0, 0]
    assert [redone(r, ["b"], ["window_asha"], own=True) for r in records] == [0, 1, 0, 0]
    assert [redone(r, ["b"], ["tpe_asha"], own=True) for r in records] == [0, 0, 1, 1]
    assert not redone(tpe_asha, ["other"], ["tpe_asha"], own=True)


def test_a_reach_run_goes_on_long_enough_to_decide_the_target() -> None:
    from bench.scaling.analyse import reach_limit, speedups

    assert (reach_limit(200.0, 4), reach_limit(200.0, 16), reach_limit(200.0, 64)) == (
        100.0,  # no target at k=4: 2 T1 / k
        40.0,  # 2 T1 / 10
        12.5,  # 2 T1 / 32
    )
    # 10 seeds at k=16, T1 = 200: five reach by 15 s, five do not within the limit (40 s).
    # The median is the mean of the 5th and 6th: at least (15 + 40) / 2 = 27.5 s, so the
    # speed-up is below 200 / 27.5 = 7.3x: the 10x target is missed, and the bound says by
    # how much (not k/2 = 8x, nor 200 / 40 = 5x)
    ones = _reach("default", 1, [100.0, 200.0, 300.0])
    late = [
        {**r, "time_limit": 40.0}
        for r in _reach("default", 16, [5.0, 8.0, 10.0, 12.0, 15.0] + [math.inf] * 5)
    ]
    (row,) = [r for r in speedups(ones + late, []) if r["workers"] == 16]
    assert math.isnan(row["speedup"]) and row["reached"] == 5
    assert row["speedup_floor"] == pytest.approx(200 / 27.5)
    # the seeds' spread: three quarters of them reached it only past the limit (a bound,
    # 200 / 40), a quarter by 10 s (the third fastest of ten)
    assert row["speedup_quartiles"] == [(5.0, True), (20.0, False)]
    from bench.scaling.report import _speedup_spread

    assert _speedup_spread(row) == "< 5.0x, 20.0x"


def test_a_candidates_own_reach_runs_are_kept_apart_from_those_against_its_baseline() -> None:
    """window_asha's baseline is the default as it was (before_mix): its reach runs against
    that k=1 and against its own k=1 (``against``) are two speed-ups, neither mixed into the
    other."""
    from bench.scaling.analyse import speedups

    reach = _reach("before_mix", 1, [100.0, 200.0, 300.0])  # its baseline's k=1: median 200
    reach += _reach("window_asha", 16, [10.0, 20.0, 30.0])  # against its baseline's
    own = _reach("window_asha", 1, [40.0, 50.0, 60.0]) + _reach("window_asha", 16, [5.0] * 3)
    reach += [{**r, "against": "window_asha"} for r in own]
    vs_default = speedups(reach, [], "window_asha")
    vs_own = speedups(reach, [], "window_asha", own=True)
    assert [(r["workers"], r["speedup"]) for r in vs_default] == [(16, pytest.approx(10.0))]
    assert [(r["workers"], r["speedup"]) for r in vs_own] == [
        (1, pytest.approx(1.0)),
        (16, pytest.approx(50 / 5)),
    ]
    assert [r["workers"] for r in speedups(reach, [], "before_mix")] == [1]  # its own
    assert speedups(reach, []) == []  # the default has no reach runs here


def test_a_candidates_verdict_counts_cells_and_seeds_against_its_baseline() -> None:
    from bench.scaling.analyse import quality
    from bench.scaling.notes import against_baseline, paired_cells, paired_table

    def run(method: str, k: int, seed: int, best: float, end: float = 10.0) -> dict:
        # the run's first result (0.95) at 1 s, its best at its end
        return {**_record([[1, 1.0, 0.95], [10, end, best]], epochs=10, seed=seed),
                "bench": "b", "method": method, "workers": k, "best": best, "end": end,
                "busy": 1.0, "decide_ms_mean": 1.0}  # fmt: skip

    runs = [run("tpe_asha", k, s, 0.5) for k in (1, 16) for s in range(3)]
    runs += [run("grace3", 1, s, 0.5) for s in range(3)]  # k=1: the same
    # k=16: grace3 ends better in seeds 0 and 1, but seed 1 got there after the default's end
    runs += [run("grace3", 16, 0, 0.4), run("grace3", 16, 1, 0.4, end=20.0)]
    runs += [run("grace3", 16, 2, 0.9)]
    rows = quality(runs)
    cells = paired_cells(rows, runs, "grace3")  # against its baseline, tpe_asha
    assert paired_cells(rows, runs, "brackets3") == []
    verdict = against_baseline(cells)
    # median at k=16: 0.4 against 0.5 (better); seeds at k > 1: 2 better, 1 worse
    assert verdict.startswith("median regret better in 1 of 2 cells, worse in 0")
    assert "at k > 1, better in 2 of 3 runs, worse in 1, the same in 0" in verdict
    # at equal wall time (10 s) seed 1 had only its first result: worse, like seed 2
    assert "at equal simulated wall time, better in 1, worse in 2" in verdict
    assert "sign test p = 1" in verdict  # 1 against 2 is no evidence either way
    every = against_baseline(cells, least_k=1)
    assert "at every k, better in 2 of 6 runs, worse in 1, the same in 3" in every
    table = "\n".join(paired_table(cells))
    assert "| grace3 | b | 16 | 0.4 | 0.5 | 2/3 | 1/3 | 1/2 |" in table
    assert "| grace3 | b | 1 | 0.5 | 0.5 | 0/3 | 0/3 | 0/0 |" in table
    # against another search than its baseline: brackets3 ran only where grace3 did
    runs += [run("brackets3", 16, s, 0.45) for s in range(3)]
    rows = quality(runs)
    other = paired_cells(rows, runs, "grace3", against="brackets3")
    assert [(c["baseline"], c["workers"], c["better"], c["worse"]) for c in other] == [
        ("brackets3", 16, 2, 1)
    ]


def test_the_liar_paragraph_sets_optunas_liar_beside_the_live_view() -> None:
    from bench.scaling.analyse import quality
    from bench.scaling.notes import liar_lines

    def run(method: str, k: int, seed: int, best: float) -> dict:
        return {**_record([[1, 1.0, 0.95], [10, 10.0, best]], epochs=10, seed=seed),
                "bench": "b", "method": method, "workers": k, "best": best, "end": 10.0,
                "busy": 1.0, "decide_ms_mean": 1.0}  # fmt: skip

    runs = [run("tpe_fifo", k, s, 0.5 if k == 1 else 0.6) for k in (1, 16) for s in range(3)]
    assert liar_lines(quality(runs), runs) == []  # nothing to set beside it
    runs += [
        run("tpe_fifo_optuna", k, s, 0.5 if k == 1 else 0.8) for k in (1, 16) for s in range(3)
    ]
    text = "\n".join(liar_lines(quality(runs), runs))
    assert "- b: the live view k=1 0.5, k=16 0.6; Optuna's liar k=1 0.5, k=16 0.8" in text
    assert "at k > 1, better in 0 of 3 runs, worse in 3" in text
    assert "neither is ahead seed by seed" in text  # 0 against 3: p = 0.25
    runs += [run("tpe_fifo", 16, s, 0.6) for s in range(3, 10)]
    runs += [run("tpe_fifo_optuna", 16, s, 0.8) for s in range(3, 10)]
    text = "\n".join(liar_lines(quality(runs), runs))
    assert "the live view is ahead, by a margin the seeds support" in text  # 0 against 10
    assert "By benchmark over every k: b 0 better, 10 worse." in text


def test_the_confirmation_needs_more_wins_at_equal_wall_time_and_a_small_p() -> None:
    from bench.scaling.confirm import verdict

    def cells(better: int, worse: int) -> list[dict]:
        return [{"time_better": better, "time_worse": worse}]

    assert verdict(cells(104, 70))["met"]  # p = 0.012
    assert not verdict(cells(96, 78))["met"]  # p = 0.2: more wins, not enough
    assert not verdict(cells(70, 104))["met"]  # as unlikely, the other way
    assert verdict(cells(9, 0))["p"] < 0.05 and not verdict(cells(0, 0))["met"]


def test_a_missed_claim_says_whether_the_candidate_stays_one_or_became_the_default() -> None:
    from bench.scaling.confirm import _claim_target

    missed = {"better": 48, "worse": 43, "p": 0.68, "met": False}
    adopted = _claim_target("claim", missed, "sooner", "later", "gated_defer")
    assert adopted.bound == "not confirmed: made the default on its other claim, which held"
    assert _claim_target("claim", missed, "sooner", "later", "gated_chain").bound == (
        "not confirmed: it stays a candidate"
    )
    held = _claim_target("claim", {**missed, "met": True}, "sooner", "later", "gated_defer")
    assert (
        held.met and held.bound == "" and held.figure == "sooner in 48 runs, later in 43, p = 0.68"
    )


def test_a_reach_claim_compares_times_to_the_baselines_target_seed_by_seed() -> None:
    """Sooner counts a run the baseline never reached; both never reaching it is a tie."""
    from bench.scaling.confirm import reach_verdict

    def run(method: str, seed: int, end: float) -> dict:
        return {
            "bench": "b", "method": method, "workers": 16, "seed": seed,
            "end": end if math.isfinite(end) else 99.0, "reached": math.isfinite(end),
        }  # fmt: skip

    pairs = [(5.0, 9.0), (5.0, math.inf), (9.0, 5.0), (math.inf, math.inf)]
    runs = [run("window_asha", s, mine) for s, (mine, _) in enumerate(pairs)]
    runs += [run("before_mix", s, theirs) for s, (_, theirs) in enumerate(pairs)]
    found = reach_verdict(runs, "window_asha")
    assert (found["better"], found["worse"]) == (2, 1) and not found["met"]
    many = []
    for s in range(10):
        many += [run("window_asha", s, 5.0), run("before_mix", s, math.inf)]
    assert reach_verdict(many, "window_asha")["met"]  # 10 to 0: p = 0.002


def test_reach_references_are_the_baselines_own_k1_target_and_median_time() -> None:
    from bench.scaling.confirm import reach_references

    ones = _reach("default", 1, [100.0, 200.0, 300.0])
    others = [{**r, "bench": "hartmann"} for r in ones]
    never = [{**r, "bench": "han", "end": 9.0, "reached": False} for r in ones]
    # another method's k=1 runs are not the baseline's
    own = [{**r, "bench": "hartmann", "method": "window_asha", "against": "window_asha"}
           for r in ones]  # fmt: skip
    found = reach_references({"reach": others + never + own}, "default")
    assert found == {"hartmann": {"target": 0.5, "t1": 200.0}}  # han: T1 not finite


def test_a_confirmations_reach_runs_go_on_as_long_as_the_benchmarks_and_render_so() -> None:
    from bench.scaling.analyse import reach_limit
    from bench.scaling.confirm import reach_jobs, run_limit, with_limits

    references = with_limits({"hartmann": {"target": 0.5, "t1": 200.0}})
    jobs = reach_jobs(references, ("default", "window_asha"), [60, 61])
    assert {(j.workers, j.time_limit) for j in jobs} == {(16, 40.0), (64, 12.5)}
    assert {(j.method, j.seed, j.target) for j in jobs} == {
        (m, s, 0.5) for m in ("default", "window_asha") for s in (60, 61)
    }
    # the limits are kept with the confirmation, and a later rule does not re-write them
    assert run_limit(references["hartmann"], 16) == reach_limit(200.0, 16) == 40.0
    assert run_limit({"target": 0.5, "t1": 200.0, "limits": {"16": 25.0}}, 16) == 25.0
    # a confirmation recorded before limits were kept stopped its runs at 2 T1 / k
    assert run_limit({"target": 0.5, "t1": 200.0}, 16) == 25.0


def test_the_caps_effect_compares_capped_and_uncapped_seed_by_seed() -> None:
    from bench.scaling.decisions import decision_figures

    def run(method: str, seed: int, best: float) -> dict:
        return {"kind": "cap", "bench": "b", "method": method, "seed": seed, "best": best,
                "optimum": 0.0, "decide_ms_mean": 5.0, "trials": 1000}  # fmt: skip

    records = [run("default", s, b) for s, b in enumerate([0.1, 0.2, 0.3])]
    records += [run("default_uncapped", s, b) for s, b in enumerate([0.2, 0.1, 0.3])]
    (effect,) = decision_figures(records)["effect"]
    assert (effect["capped_not_worse"], effect["seeds"]) == (2, 3)  # seeds 0 and 2
    assert effect["default"]["median"] == pytest.approx(0.2) and effect["trials"] == 1000


def test_the_decision_table_lists_runs_by_benchmark_and_method_not_as_they_finished() -> None:
    from bench.scaling.methods import METHODS
    from bench.scaling.report import _decision_lines

    def run(bench: str, method: str) -> dict:
        return {"kind": "decisions", "bench": bench, "method": method,
                "decide_ms": [1.0] * 4, "decide_cpu_ms": [1.0] * 4}  # fmt: skip

    finished = [run("han", "default"), run("hartmann", "default_journal"),
                run("hartmann", "default"), run("han", "before_fix")]  # fmt: skip
    table = "\n".join(_decision_lines(finished)).splitlines()
    rows = [line.split(" | ")[:2] for line in table if line[:2] == "| "]
    assert [(b[2:], m) for b, m in rows[1:]] == [
        ("hartmann", METHODS["default"].label),
        ("hartmann", "the default, its study in Optuna's journal file (as a run keeps it)"),
        ("han", METHODS["default"].label),
        ("han", "raysearch before the fix (TPE + ASHA)"),
    ]


def test_a_confirmation_gets_seeds_no_earlier_confirmation_used() -> None:
    from bench.scaling.confirm import fresh_seeds

    done = [{"method": "a", "seeds": list(range(10, 20))}]
    assert fresh_seeds([], None, 10) == list(range(10, 20))
    assert fresh_seeds(done, None, 10) == list(range(20, 30))
    assert fresh_seeds(done, 40, 3) == [40, 41, 42]
    with pytest.raises(ValueError, match=r"seeds \[18, 19\] already judged a"):
        fresh_seeds(done, 18, 4)
    with pytest.raises(ValueError, match="seeds below 10 chose the candidates"):
        fresh_seeds(done, 5, 2)


def test_the_confirmation_ledger_reads_a_table_of_one_confirmation_and_adds_to_it() -> None:
    from bench.scaling.confirm import ledger

    git = {"sha": "0" * 40, "dirty": False}
    one = {"meta": {"method": "grace3", "seeds": [10], "command": "c", "git": git},
           "runs": [{"seed": 10}]}  # fmt: skip
    (old,) = ledger(one)
    assert (old["method"], old["seeds"], old["runs"]) == ("grace3", [10], [{"seed": 10}])
    two = {"meta": one["meta"], "confirmations": [old, {**old, "method": "brackets3"}]}
    assert [c["method"] for c in ledger(two)] == ["grace3", "brackets3"]


def test_the_reality_check_runs_raysearchs_default_search() -> None:
    """The simulator is checked against real Ray runs of the search users get by default."""
    from bench.scaling.reality import _method
    from raysearch.search.settings import SearchSettings

    default = SearchSettings(num_samples=1, max_epochs=1)
    assert (_method().searcher, _method().scheduler) == (default.searcher, default.scheduler)


def test_the_reality_paragraph_names_the_search_and_the_agreement() -> None:
    from bench.scaling.report import _reality_lines

    record = {"workers": 4, "trials": 200, "seeds": [0, 1, 2], "real_quartiles": [0.1, 0.2, 0.3],
              "simulated_quartiles": [0.1, 0.25, 0.3], "mannwhitney_p": 0.85,
              "real_s": 300, "real": [0.21, 0.03, 0.19],
              "simulated": [0.02, 0.04, 0.2]}  # fmt: skip
    text = "\n".join(_reality_lines(record))
    assert "raysearch's default: Optuna TPE + rung-gated ASHA" in text
    assert "real Ray Tune 0.2 [0.1, 0.3], simulated 0.25 [0.1, 0.3]" in text and "p = 0.85" in text
    # seed by seed: real higher in seed 0, lower in seeds 1 and 2
    assert "the higher regret in 1 and the lower in 2" in text
    # the widest gap of the pooled six is 0.04 to 0.19: two real runs above it, one simulated
    assert "between 0.04 and 0.19: real runs ended above that gap in 2 of 3" in text
    assert "simulated ones in 1 of 3" in text


def test_the_timed_check_tells_each_benchmarks_distributions_and_where_they_differ() -> None:
    """Ten seeds a benchmark: on han the two ways agree; on lcbench-1 the real runs spend
    twice the epochs, every one of them more than any simulated run (p < 0.05)."""
    from bench.scaling.reality import timed_lines

    def rec(bench: str, seed: int, real_epochs: int) -> dict:
        return {"bench": bench, "seed": seed, "workers": 4, "time_scale": 0.05, "trials": 200,
                "real_regret": 0.01 * (seed % 5), "simulated_regret": 0.01 * ((seed + 1) % 5),
                "real_epochs": real_epochs, "simulated_epochs": 1000 + seed,
                "real_s": 130.0, "simulated_s": 120.0}  # fmt: skip

    timed = [rec("han", s, 1000 + (s * 7) % 10) for s in range(10)]
    timed += [rec("lcbench-1", s, 2000 + s) for s in range(10)]
    text = "\n".join(timed_lines(timed, under=True))
    assert not text.startswith("## ")  # under the section Hartmann's check began
    assert "With 4 trials at once" in text and "(200 trials, seeds 0-9; 2600 s of real" in text
    assert "| han | 4 | 0.05 | 0.02 [0.01, 0.03] | 0.02 [0.01, 0.03] | 1.00 |" in text
    assert "| 2,004 [2,002, 2,007] | 1,004 [1,002, 1,007] | 0.00 | 130 / 120 |" in text
    assert "Where the two differ at p < 0.05: lcbench-1 (epochs, p = 0.00)." in text
    agree = "\n".join(timed_lines(timed[:10], under=False))
    assert agree.startswith("## The simulator against real Ray runs")
    assert "No benchmark's regrets or epochs differ between the two at p < 0.05." in agree
    assert timed_lines([], under=True) == []


def test_pending_random_draws_at_random_only_while_other_trials_run() -> None:
    """At k=1 nothing else runs when a trial is drawn: no draw is random and the search is
    the default's. At k=8 some draws are random."""
    from bench.scaling.methods import METHODS

    settings = SearchSettings(num_samples=40, max_epochs=10, grace_period=1, reduction_factor=3)
    found = {}
    for k in (1, 8):
        policy = METHODS["pending_random"].policy(hartmann_space(settings), 0, k)
        sim = SimSettings(workers=k, num_trials=40)
        found[k] = (simulate(policy, HartmannCurves(max_epochs=10), sim).configs, policy)
    sampler = found[1][1].searcher.searcher._sampler  # ConcurrencyLimiter -> OptunaSearch
    assert sampler._random_trials == set()
    assert found[1][0] == _hartmann_search("default", 40, 1).configs
    assert found[8][1].searcher.searcher._sampler._random_trials


def _curve_run(points: list[list[float]], workers: int, seed: int, method: str = "m") -> dict:
    """A 200-trial run record whose improvements are ``points`` (epochs, seconds, value)."""
    return {
        **_record(points, epochs=int(points[-1][0]), seed=seed),
        "bench": "b",
        "method": method,
        "workers": workers,
        "best": points[-1][2],
        "end": points[-1][1],
    }


_improvements = st.lists(
    st.tuples(
        st.integers(1, 50), st.floats(0.5, 50.0), st.floats(0.01, 1.0)
    ),  # (epochs, seconds, drop in value) per new best
    min_size=1,
    max_size=6,
).map(
    lambda steps: [
        [sum(s[0] for s in steps[: i + 1]), sum(s[1] for s in steps[: i + 1]),
         10.0 - sum(s[2] for s in steps[: i + 1])]
        for i in range(len(steps))
    ]
)  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(st.lists(_improvements, min_size=1, max_size=5), st.sampled_from([4, 16, 64]))
def test_k_runs_that_are_k_times_faster_copies_of_k1_read_as_a_speed_up_of_k(
    curves: list[list[list[float]]], k: int
) -> None:
    ones = [_curve_run(c, 1, seed) for seed, c in enumerate(curves)]
    fast = [_curve_run([[e, t / k, v] for e, t, v in c], k, seed) for seed, c in enumerate(curves)]
    (row,) = worth(ones + fast, "m")
    assert row["workers"] == k and not row["beyond"]
    assert row["speedup"] == pytest.approx(k)
    assert row["epoch_ratio"] == pytest.approx(1.0)
    assert row["regret"] == pytest.approx(float(np.median([c[-1][2] for c in curves])))


def test_worth_reads_each_side_at_the_regret_k_reaches_and_bounds_what_k1_never_reached() -> None:
    ones = [_curve_run([[10, 100.0, 0.5], [40, 400.0, 0.2]], 1, seed) for seed in range(3)]
    # k=4 gets to 0.2 after 80 epochs and 50 s: k=1 took 40 epochs and 400 s to get there
    fours = [_curve_run([[20, 10.0, 0.4], [80, 50.0, 0.2]], 4, seed) for seed in range(3)]
    # k=16 gets lower than k=1 ever did: k=1's end stands in, a lower bound
    sixteens = [_curve_run([[16, 5.0, 0.1]], 16, seed) for seed in range(3)]
    others = [_curve_run([[1, 1.0, 0.0]], 4, seed, method="other") for seed in range(3)]
    rows = {r["workers"]: r for r in worth(ones + fours + sixteens + others, "m")}
    assert set(rows) == {4, 16}  # no k=1 row, no other method's
    assert rows[4]["speedup"] == pytest.approx(8.0)
    assert rows[4]["epoch_ratio"] == pytest.approx(0.5)
    assert not rows[4]["beyond"]
    assert rows[16]["beyond"]
    assert rows[16]["speedup"] == pytest.approx(80.0)  # 400 s (k=1's end) / 5 s
    assert rows[16]["epoch_ratio"] == pytest.approx(40 / 16)


def test_the_worth_section_has_a_row_per_cell_marks_lower_bounds_and_shows_its_plot() -> None:
    from bench.scaling.plots import plot_worth
    from bench.scaling.report import _worth_lines

    ones = [_curve_run([[10, 100.0, 0.5], [40, 400.0, 0.2]], 1, s, "default") for s in range(3)]
    fours = [_curve_run([[20, 10.0, 0.4], [80, 50.0, 0.2]], 4, s, "default") for s in range(3)]
    sixteens = [_curve_run([[16, 5.0, 0.1]], 16, s, "default") for s in range(3)]
    for record in ones + fours + sixteens:
        record["bench"] = "hartmann"  # a benchmark the plot has a panel for
    rows = worth(ones + fours + sixteens, "default")
    lines = _worth_lines(rows)
    text = "\n".join(lines).splitlines()
    table = [line for line in text if line.startswith("| raysearch default")]
    assert len(table) == 2
    assert "| 8.0x |" in table[0] and "≥" not in table[0]
    assert "| ≥ 80.0x |" in table[1]
    assert "![speed-up against k](scaling_speedup.png)" in lines
    assert _worth_lines([]) == []
    figure = plot_worth(rows)
    assert len(figure.axes) == 1 and figure.axes[0].get_title()  # one benchmark, one panel


def _cell(bench: str, k: int, mine: float, theirs: float) -> dict:
    return {"bench": bench, "workers": k, "mine": mine, "theirs": theirs}


def test_by_bench_sorts_benchmarks_into_better_worse_same_and_mixed() -> None:
    from bench.scaling.notes import by_bench

    cells = [
        _cell("a", 1, 0.1, 0.2), _cell("a", 16, 0.1, 0.3),  # better at both k
        _cell("b", 1, 0.5, 0.2), _cell("b", 16, 0.4, 0.3),  # worse at both
        _cell("c", 1, 0.1, 0.2), _cell("c", 16, 0.4, 0.3),  # one each
        _cell("d", 4, 0.2, 0.2),  # a tie is not better
        _cell("e", 1, 0.2, 0.2), _cell("e", 4, 0.2, 0.3),  # a tie and a win
        _cell("f", 1, 0.2, 0.2 * (1 + 1e-12)), _cell("f", 4, 0.0, 1e-15),  # last-digit ties
    ]  # fmt: skip
    assert by_bench(cells) == (
        "better at every k on a; worse at every k on b; the same median at every k on d, f; "
        "better at some k and not at others on c, e"
    )
    assert by_bench(cells[:2]) == "better at every k on a"


def test_bench_counts_sums_equal_wall_time_verdicts_over_k_per_benchmark() -> None:
    from bench.scaling.notes import bench_counts

    def cell(bench: str, k: int, better: int, worse: int) -> dict[str, Any]:
        return {**_cell(bench, k, 0.1, 0.2), "time_better": better, "time_worse": worse}

    cells = [cell("b", 1, 2, 7), cell("a", 1, 6, 3), cell("a", 16, 4, 5), cell("b", 64, 9, 1)]
    assert bench_counts(cells) == "a 10 better, 8 worse, b 11 better, 8 worse"
    assert bench_counts(cells, by="workers") == (
        "k=1 8 better, 10 worse, k=16 4 better, 5 worse, k=64 9 better, 1 worse"
    )


def test_epoch_share_pairs_runs_by_benchmark_k_and_seed_with_the_baseline() -> None:
    from bench.scaling.methods import METHODS
    from bench.scaling.notes import epoch_share

    base = METHODS["synetune_bohb"].baseline

    def run(method: str, k: int, seed: int, epochs: int) -> dict:
        return {"method": method, "bench": "h", "workers": k, "seed": seed, "epochs": epochs}

    runs = [
        run("synetune_bohb", 1, 0, 50), run(base, 1, 0, 100),
        run("synetune_bohb", 16, 0, 30), run(base, 16, 0, 120),
        run("synetune_bohb", 16, 1, 200), run(base, 16, 1, 100),
        run("synetune_bohb", 64, 0, 10),  # no baseline run: left out
        {**run(base, 1, 0, 10), "kind": "reach"},  # a reach run is not a 200-trial run
    ]  # fmt: skip
    assert epoch_share(runs, "synetune_bohb") == (0.5, 0.25, 2.0)
    assert all(math.isnan(x) for x in epoch_share(runs[:1], "synetune_bohb"))


def test_same_runs_counts_runs_with_the_same_best_and_epochs_at_the_same_k_and_seed() -> None:
    from bench.scaling.notes import _same_runs

    def run(method: str, k: int, seed: int, best: float, epochs: int) -> dict:
        return {"method": method, "bench": "hartmann", "workers": k, "seed": seed,
                "best": best, "epochs": epochs}  # fmt: skip

    runs = [
        run("a", 1, 0, 0.5, 10), run("b", 1, 0, 0.5, 10),  # the same
        run("a", 1, 1, 0.5, 10), run("b", 1, 1, 0.5, 11),  # other epochs
        run("a", 4, 0, 0.4, 10), run("b", 4, 0, 0.3, 10),  # another best
        run("a", 16, 0, 0.2, 9),  # nothing to compare with
        run("a", 64, 0, -3.2913995289152624, 9),  # the same but in the last digit
        run("b", 64, 0, -3.291399528915263, 9),
    ]  # fmt: skip
    assert _same_runs(runs, "a", "b", "hartmann") == (2, 5)
    assert _same_runs(runs, "a", "b", "lcbench-189906") == (0, 0)


def test_a_candidate_that_became_the_default_says_why_runs_part_only_when_some_do() -> None:
    from bench.scaling.notes import _same_line

    def run(method: str, seed: int, best: float) -> dict:
        return {"method": method, "bench": "han", "workers": 4, "seed": seed, "best": best,
                "epochs": 10}  # fmt: skip

    same = [run(m, s, 0.5) for m in ("default", "pending_mix") for s in (0, 1)]
    assert _same_line(same, "pending_mix").startswith("2 of its 2 runs found the same best")
    assert "part" not in _same_line(same, "pending_mix")
    parted = [*same[:3], run("pending_mix", 1, 0.4)]
    assert _same_line(parted, "pending_mix").startswith("1 of its 2 runs")
    assert "(the others: han 1; runs recorded on different machines can part" in _same_line(
        parted, "pending_mix"
    )


def test_the_synetune_check_says_where_a_difference_comes_from_only_when_seeds_support_it() -> None:
    from bench.scaling.notes import _synetune_lines

    def check(time_better: int, time_worse: int) -> str:
        cell = {**_cell("lcbench-189906", 16, 0.05, 0.047), "better": time_better,
                "worse": time_worse, "seeds": 20, "time_better": time_better,
                "time_worse": time_worse}  # fmt: skip
        return _synetune_lines({"synetune_asha": [cell], "synetune_bohb": []}, [])[0]

    assert "comes from its searcher, not from its scheduler" in check(9, 11)  # p = 0.82
    even = check(18, 2)  # p = 0.0004: the schedulers differ
    assert "differs from Ray's ASHA by more than the seeds' noise" in even
    assert "comes from its searcher" not in even


def test_the_searchers_plot_draws_only_its_methods_each_once() -> None:
    from bench.scaling.methods import METHODS
    from bench.scaling.plots import SEARCHERS, plot

    def row(method: str, k: int) -> dict:
        regret = {"median": 0.1 / k, "q25": 0.05 / k, "q75": 0.2 / k}
        return {"bench": "hartmann", "method": method, "workers": k, "regret": regret}

    rows = [row(m, k) for m in ("default", "tpe_independent", "tpe_fifo") for k in (1, 4)]
    figure = plot(rows, SEARCHERS)
    labels = [text.get_text() for text in figure.legends[0].get_texts()]
    assert labels == [METHODS["default"].label, METHODS["tpe_independent"].label]
    (ax,) = figure.axes
    assert [list(line.get_xdata()) for line in ax.get_lines()] == [[1, 4], [1, 4]]


def test_a_candidates_paragraph_counts_the_targets_from_the_reach_runs_it_is_given() -> None:
    from bench.scaling.notes import targets_met

    met = {"default": (4, 10), "before_mix": (2, 10), "narrow_ei": (3, 10), "wandb": (1, 10)}
    # beside its own baseline's: the default as it was then, or the default
    assert targets_met(met, "narrow_ei") == "meet 3 of the 10 targets, `before_mix` 2"
    assert targets_met(met, "wandb") == "meet 1 of the 10 targets, the default 4"
    assert targets_met({"narrow_ei": (1, 4)}, "narrow_ei") == "meet 1 of the 4 targets"
    assert targets_met(met, "gated_brackets3") == "have not been run"


def test_among_the_best_records_raysearchs_rung_ranks_at_the_rungs_below_the_end() -> None:
    from bench.scaling.rungs import among_the_best
    from raysearch.search.simulation.rungs import rank_rungs

    rng = np.random.default_rng(0)
    values = np.sort(rng.random((60, 30)), axis=1)[:, ::-1]  # 30 epochs: rungs 1, 3, 9, 27
    found = among_the_best(values)
    ranks = rank_rungs(values, [1, 3, 9, 27])
    assert (found["curves"], found["of"]) == (ranks.best_curves, ranks.curves) == (6, 60)
    assert found["rho"] == {
        str(r.epoch): {"final": r.best, "next": r.best_later} for r in ranks.rungs
    }
    assert list(among_the_best(values[:, :9])["rho"]) == ["1", "3"]  # rung 9 is the end


def test_the_rung_section_shows_the_best_configurations_and_why_lines_cite_them() -> None:
    from bench.scaling.notes import bound_lines
    from bench.scaling.report import _rung_lines

    rungs = [
        {
            "bench": "lcbench-1",
            "configs": 400,
            "rho": {"1": 0.84, "3": 0.93},
            "best": {
                "curves": 200,
                "of": 2000,
                "drawn": 2000,
                "rho": {"1": {"final": 0.07, "next": 0.97}, "3": {"final": 0.2, "next": 0.9}},
            },
            "trial_s": {"median": 80.0, "p10": 40.0},
        }
    ]
    text = "\n".join(_rung_lines(rungs))
    assert "| lcbench-1 | 200 of 2,000 | 0.07 (0.97) | 0.20 (0.90) |" in text
    comparison = {
        "bench": "lcbench-1",
        "workers": 1,
        "b": "tpe_fifo",
        "regret_a": {"median": 0.04},
        "regret_b": {"median": 0.02},
    }
    why = "\n".join(bound_lines([], [comparison], rungs))
    assert "epoch 1 ranks them far worse (lcbench-1 0.07)" in why
    assert "agrees with the next rung (lcbench-1 0.97)" in why
    # without the figures, no claim about them
    plain = [{k: v for k, v in rungs[0].items() if k != "best"}]
    assert "far worse" not in "\n".join(bound_lines([], [comparison], plain))
    # against random + ASHA: the draws section is named only where the table has it
    rand = {**comparison, "b": "random_asha"}
    assert "What the searches draw" in "\n".join(bound_lines([], [rand], rungs, drawn=True))
    assert "What the searches draw" not in "\n".join(bound_lines([], [rand], rungs))

    # the two rivals against each other: said where the default misses against both
    def cell(a: str, b: str, mine: float, theirs: float) -> dict:
        return {"a": a, "b": b, "regret_a": {"median": mine}, "regret_b": {"median": theirs}}

    rivals = [
        cell("tpe_fifo", "random_asha", 0.05, 0.04),  # TPE without early stopping worse
        cell("random_asha", "tpe_fifo", 0.04, 0.05),
        cell("tpe_fifo", "random_asha", 0.01, 0.03),  # and better
        cell("random_asha", "tpe_fifo", 0.03, 0.01),
        cell("tpe_fifo", "random_asha", 0.02, 0.02),  # level: no worse both ways
        cell("random_asha", "tpe_fifo", 0.02, 0.02),
    ]
    both = "\n".join(bound_lines([], [comparison, rand], rungs, rivals=rivals))
    assert "no worse than random + ASHA in 2 of 3 cells" in both
    assert "random + ASHA no worse than it in 2 of 3" in both
    assert "rivals" not in "\n".join(bound_lines([], [rand], rungs, rivals=rivals))


def test_the_chain_paragraph_counts_the_runs_that_are_its_baselines() -> None:
    from bench.scaling.notes import _held_line

    def run(method: str, bench: str, seed: int, best: float) -> dict:
        return {"method": method, "bench": bench, "workers": 4, "seed": seed, "best": best,
                "epochs": 100}  # fmt: skip

    runs = [
        run("before_defer", "hartmann", 0, 0.1), run("gated_chain", "hartmann", 0, 0.1),
        run("before_defer", "hartmann", 1, 0.2), run("gated_chain", "hartmann", 1, 0.3),
        run("before_defer", "han", 0, 0.5), run("gated_chain", "han", 0, 0.5),
    ]  # fmt: skip
    line = _held_line(runs)
    assert "on Hartmann, whose rungs rank perfectly, 1 of its 2" in line
    assert "the HAN table, whose rungs the default's gate already holds, 1 of its 1" in line
    assert _held_line([r for r in runs if r["bench"] == "lcbench"]) == ""


def test_the_cut_paragraph_reads_the_han_loss_and_the_defer_paragraph_the_k64_loss() -> None:
    from bench.scaling.analyse import quality
    from bench.scaling.notes import _han_cut_loss, _han_k64

    def run(method: str, k: int, seed: int, best: float, epochs: int) -> dict:
        return {"method": method, "bench": "han", "workers": k, "seed": seed, "best": best,
                "optimum": 0.0, "epochs": epochs, "end": 3600.0, "busy": 1.0,
                "decide_ms_mean": 1.0}  # fmt: skip

    runs = [run("before_cut", 1, s, 0.0, 5400) for s in range(4)] + [
        run("gated_cut", 1, s, b, 3900) for s, b in enumerate((0.0, 0.0, 0.1, 0.2))
    ]
    cells = [{**_cell("han", 1, 0.05, 0.0), "better": 0, "worse": 2, "seeds": 4,
              "time_better": 1, "time_worse": 3},
             {**_cell("hartmann", 1, 0.1, 0.1), "better": 0, "worse": 0, "seeds": 4,
              "time_better": 5, "time_worse": 0}]  # fmt: skip
    loss = _han_cut_loss(cells, quality(runs))
    assert loss.startswith(" (at k = 1 worse than the default in 2 of 4 seeds and better in 0")
    assert "epochs 3,900 against 5,400" in loss
    assert loss.endswith("over every k, 1 runs better and 3 worse)")  # the HAN table's only
    assert _han_cut_loss([c for c in cells if c["bench"] != "han"], quality(runs)) == ""
    k64 = [{**r, "workers": 64} for r in runs]
    assert _han_k64(k64, "gated_cut") == "0.05 [0, 0.125]"
    assert _han_k64(k64, "tpe_fifo") is None


def test_a_missed_speed_up_names_the_other_searches_that_meet_it() -> None:
    from bench.scaling.notes import bound_lines

    def row(method: str, k: int, speedup: float) -> dict:
        return {"bench": "han", "method": method, "workers": k, "speedup": speedup,
                "seconds": 3600.0 / speedup, "target_regret": 0.0,
                "regret_trials": {"median": 0.1}}  # fmt: skip

    speed = [row("default", 1, 1.0), row("default", 16, 6.3), row("default", 64, 40.0)]
    others = [row("tpe_fifo", 16, 10.8), row("random_asha", 16, math.nan)]
    why = "\n".join(bound_lines(speed, [], [], others=others))
    assert "Of the 2 other searches run to the same target, 1 meets it: TPE (joint)" in why
    assert "no early stopping (10.8x)." in why
    assert "k=64" not in why  # met by the default: not a missed target
    # a search that falls short of 10x, or did not reach it, does not meet it
    short = [row("tpe_fifo", 16, 9.9), row("random_asha", 16, math.nan)]
    assert "None of the 2 other searches" in "\n".join(bound_lines(speed, [], [], others=short))
    assert "other searches" not in "\n".join(bound_lines(speed, [], []))


def test_a_missed_no_worse_target_names_each_lost_cell_with_its_seeds() -> None:
    """The default against another search cell by cell: met only when no cell's median is
    worse; a lost cell names both medians and in how many seeds the default was no worse."""
    from bench.scaling.report import _no_worse_target

    def cell(k: int, mine: float, theirs: float, not_worse: int) -> dict[str, Any]:
        return {"bench": "hartmann", "workers": k, "b": "random_asha", "seeds": 10,
                "regret_a": {"median": mine}, "regret_b": {"median": theirs},
                "a_not_worse": not_worse}  # fmt: skip

    cells = [cell(1, 0.1, 0.2, 9), cell(4, 0.31, 0.3, 6), cell(16, 0.5, 0.2, 1)]
    missed = _no_worse_target(cells, "random_asha", None, "at equal epochs")
    assert missed is not None and not missed.met
    assert missed.figure.startswith("1/3 cells no worse")
    assert "hartmann k=4: 0.31 vs 0.3 (no worse in 6/10 seeds)" in missed.figure
    assert "hartmann k=16: 0.5 vs 0.2 (no worse in 1/10 seeds)" in missed.figure
    assert "k=1:" not in missed.figure
    only_k1 = _no_worse_target(cells, "random_asha", 1, "at equal epochs")
    assert only_k1 is not None and only_k1.met and only_k1.figure == "1/1 cells no worse"


def test_the_committed_table_renders_with_the_answers_first_and_its_commands_last(
    as_committed: Callable[[Path, str], None],
) -> None:
    """scaling.md is long: a reader meets the targets and the plot first, the tables they
    come from next, the story of the candidates after them, and the log of every command
    that added to the table last. Rendered from the committed scaling.json and the tables
    beside it, as ``python -m bench.scaling --render`` does, it is the committed scaling.md
    line for line, so the code and the committed records still agree."""
    import matplotlib.pyplot as plt

    from bench.common import OUT, recorded_meta
    from bench.scaling.__main__ import beside_tables
    from bench.scaling.report import render

    data = json.loads((OUT / "scaling.json").read_text())
    data["meta"] = recorded_meta(data["meta"], "scaling")
    markdown, targets, figures = render(data, beside_tables(OUT))
    for _, figure in figures:
        plt.close(figure)
    as_committed(OUT / "scaling.md", markdown)
    headings = [line for line in markdown.splitlines() if line.startswith("## ")]
    order = [
        "## Targets",
        "## What is measured",
        "## Quality against k",
        "## Speed-up of the default",
        "## At equal epochs",
        "## Why the targets are missed",
        "## Why quality dropped with k, and the fix",
        "## How this file was made",
    ]
    assert [h for h in headings if h in order] == order
    assert headings[0] == "## Targets" and headings[-1] == "## How this file was made"
    assert markdown.index("![regret against k](scaling.png)") < markdown.index("## What is")
    log = markdown[markdown.index("## How this file was made") :]
    assert log.count("- `python -m bench.scaling") == len(data["later"])
    assert "Then:" not in markdown
    assert targets == data["targets"]


def test_the_candidates_measured_on_an_earlier_default_are_introduced_only_where_they_ran() -> None:
    """Each era of candidates (measured on a default since replaced) opens with one line
    naming that default, the change that replaced it and the candidate adopted; a page
    without that era's candidates has no such line."""
    from bench.scaling.methods import BEFORE_CUT, BEFORE_DEFER, METHODS
    from bench.scaling.notes import CANDIDATES, _era_lines

    found: dict[str, list[dict[str, Any]]] = {m: [] for m in CANDIDATES}
    assert _era_lines(found, BEFORE_CUT, "gate_cut_cost", "alone", "gated_next_cut") == []
    found["mix_half4"] = [{"bench": "hartmann"}]  # measured on before_cut
    assert METHODS["mix_half4"].baseline == BEFORE_CUT
    line, blank = _era_lines(found, BEFORE_CUT, "gate_cut_cost", "alone", "gated_next_cut")
    assert blank == ""
    assert "before `gate_cut_cost`: alone (`before_cut`, their baseline" in line
    assert line.endswith("The last of them, `gated_next_cut`, is the default now.")
    assert _era_lines(found, BEFORE_DEFER, "gate_unmeasured: defer", "x", "gated_defer") == []


def test_fresh_seeds_run_their_own_seeds_into_their_own_table(monkeypatch, tmp_path) -> None:
    """``--first-seed`` moves every job's seed and the recorded seeds, refuses the main
    table (seeds 0-9, which every search is compared on) and a merge into another seed set."""
    import bench.scaling.__main__ as scaling

    ran: list[Any] = []

    def fake_pool(jobs: list[Any], processes: int) -> list[dict]:
        ran.extend(jobs)
        return [{"bench": j.bench, "method": j.method, "workers": j.workers} for j in jobs]

    monkeypatch.setattr(scaling, "pool_map", fake_pool)
    argv = ["--methods", "random_asha", "--parts", "runs", "--benchmarks", "han"]
    data = scaling._run(scaling._parse([*argv, "--first-seed", "200", "--out", str(tmp_path)]), {})
    assert {j.seed for j in ran} == set(range(200, 210))
    assert data["meta"]["seeds"] == list(range(200, 210))
    with pytest.raises(SystemExit) as refused:
        scaling._parse([*argv, "--first-seed", "200"])  # the main table's --out
    assert refused.value.code == 2
    with pytest.raises(SystemExit) as refused:
        scaling._run(scaling._parse([*argv, "--out", str(tmp_path), "--merge"]), data)
    assert refused.value.code == 2


def test_workers_measures_a_method_at_those_k_and_keeps_its_runs_at_the_others(
    monkeypatch,
) -> None:
    import bench.scaling.__main__ as scaling

    ran: list[Any] = []

    def fake_pool(jobs: list[Any], processes: int) -> list[dict]:
        ran.extend(jobs)
        return [
            {"bench": j.bench, "method": j.method, "workers": j.workers, "new": 1} for j in jobs
        ]

    monkeypatch.setattr(scaling, "pool_map", fake_pool)
    old_runs = [
        {"bench": b, "method": m, "workers": k, "seed": 0}
        for b in ("han", "hartmann")
        for m in ("wandb", "default")
        for k in (1, 16, 64)
    ]
    argv = ["--methods", "wandb", "--parts", "runs", "--benchmarks", "han", "--merge"]
    runs = scaling._run(scaling._parse([*argv, "--workers", "64"]), {"runs": old_runs})["runs"]
    assert {(j.bench, j.method, j.workers) for j in ran} == {("han", "wandb", 64)}
    replaced = {"bench": "han", "method": "wandb", "workers": 64, "seed": 0}
    assert replaced not in runs and [r for r in old_runs if r != replaced] == runs[:-10]
    assert all(r.get("new") for r in runs[-10:])  # ten seeds at k=64
    for wrong in (argv[:-1], [*argv[:3], "runs", "budget", *argv[4:]]):
        with pytest.raises(SystemExit) as refused:
            scaling._parse([*wrong, "--workers", "64"])  # no merge; a part reading every k
        assert refused.value.code == 2


def test_the_main_table_shows_the_fresh_and_pooled_seeds_targets_beside_its_own() -> None:
    from bench.scaling.report import beside_lines

    targets = [
        {"name": "k=16 reaches it >= 10x sooner", "figure": "han 12.0x", "met": True},
        {"name": "k=64 reaches it >= 32x sooner", "figure": "han 20.0x", "met": False},
    ]
    fresh = {
        "meta": {"seeds": list(range(1000, 1010)), "command": "python -m x"},
        "targets": targets,
    }
    text = "\n".join(beside_lines(fresh, "scaling_fresh", list(range(10))))
    assert "seeds 0-9" in text and "fresh seeds 1000-1009" in text
    assert "- k=16 reaches it >= 10x sooner: han 12.0x: **met**" in text
    assert "- k=64 reaches it >= 32x sooner: han 20.0x: **missed**" in text
    assert "(scaling_fresh/scaling.md)" in text
    more = {**fresh, "meta": {**fresh["meta"], "seeds": list(range(2000, 2010))}}
    text = "\n".join(beside_lines(more, "scaling_fresh2", list(range(10)), again=True))
    assert "flatter" not in text  # said before the first set of fresh seeds
    assert "On fresh seeds 2000-2009 as well" in text and "(scaling_fresh2/scaling.md)" in text
    pool = {**fresh, "meta": {**fresh["meta"], "seeds": [*range(10), *range(1000, 1010)]}}
    text = "\n".join(beside_lines(pool, "scaling_pooled", list(range(10))))
    assert "fresh seeds" not in text  # ours are among them
    assert "seeds 0-9 and 1000-1009 pooled (20 seeds" in text
    assert "(scaling_pooled/scaling.md)" in text and "han 20.0x: **missed**" in text


def _table(
    path: Path,
    seeds: list[int],
    methods: list[str],
    drawn: tuple[str, ...] = (),
    benches: tuple[str, ...] = ("han",),
    **meta: Any,
) -> Path:
    """A minimal scaling.json: k=1 runs of ``methods`` on ``benches`` (the HAN table),
    best = seed, and draws runs (k=1) of the methods ``drawn``."""
    runs = [
        {"bench": b, "method": m, "workers": 1, "seed": s, "best": float(s)}
        for b in benches
        for m in methods
        for s in seeds
    ]
    draws = [{**r, "kind": "draws"} for r in runs if r["method"] in drawn]
    path.mkdir(parents=True)
    meta = {"quick": False, "workers": [1, 4, 16, 64], "seeds": seeds, "command": "c", **meta}
    table = {"meta": {**meta, "git": {"sha": "abc"}}, "runs": runs, "budget": [], "draws": draws}
    (path / "scaling.json").write_text(json.dumps(table))
    return path


def _recording_pool(ran: list[Any]) -> Any:
    """A stand-in for ``pool_map`` that keeps the jobs in ``ran`` and gives each a record
    that reached its target at 100 simulated s."""

    def pool_map(jobs: list[Any], processes: int) -> list[dict]:
        ran.extend(jobs)
        return [
            {"bench": j.bench, "method": j.method, "workers": j.workers, "seed": j.seed}
            | {"end": 100.0, "reached": True, "target": j.target}
            for j in jobs
        ]

    return pool_map


def test_a_pool_joins_tables_on_disjoint_seeds_and_reaches_the_pooled_median(
    monkeypatch, tmp_path
) -> None:
    """``--pool``: the seeds of both tables, the runs of the methods both ran, and the
    default's reach runs over every seed against the median of all k=1 runs."""
    import bench.scaling.__main__ as scaling

    a = _table(tmp_path / "a", [0, 1, 2], ["default", "random_asha"])
    b = _table(tmp_path / "b", [10, 11], ["default"])
    ran: list[Any] = []
    monkeypatch.setattr(scaling, "pool_map", _recording_pool(ran))
    argv = ["--out", str(tmp_path / "pool"), "--pool", str(a), str(b)]
    data = scaling._run(scaling._parse(argv), {})
    assert data["meta"]["seeds"] == [0, 1, 2, 10, 11]
    assert [p["table"] for p in data["meta"]["pooled"]] == [
        str(a / "scaling.json"),
        str(b / "scaling.json"),
    ]
    assert {r["method"] for r in data["runs"]} == {"default"}  # b did not run random_asha
    assert {j.kind for j in ran} == {"reach"} and {j.method for j in ran} == {"default"}
    assert {j.seed for j in ran if j.workers == 1} == {0, 1, 2, 10, 11}
    assert {j.target for j in ran} == {2.0}  # the median of bests 0, 1, 2, 10, 11
    assert {j.workers for j in ran} == {1, 4, 16, 64}


def test_a_first_pool_of_a_variants_tables_measures_every_benchmark_they_hold(
    monkeypatch, tmp_path
) -> None:
    """``--pool`` of the replicates' tables with ``--benchmarks han han-fresh`` (every
    benchmark they hold, one not among the main ones) is a first pool, not one that keeps
    another benchmark's reach runs from an earlier pool (it was refused: none existed)."""
    import bench.scaling.__main__ as scaling

    tables = [
        str(_table(tmp_path / name, seeds, ["default"], benches=("han", "han-fresh")))
        for name, seeds in (("a", [0, 1]), ("b", [10, 11]))
    ]
    ran: list[Any] = []
    monkeypatch.setattr(scaling, "pool_map", _recording_pool(ran))
    argv = ["--out", str(tmp_path / "pool"), "--pool", *tables, "--benchmarks", "han", "han-fresh"]
    data = scaling._run(scaling._parse(argv), {})
    assert {j.bench for j in ran} == {"han", "han-fresh"}
    assert data["meta"]["seeds"] == [0, 1, 10, 11]


def test_a_pool_of_some_benchmarks_keeps_the_others_reach_runs_from_the_same_pool(
    monkeypatch, tmp_path, capsys
) -> None:
    """``--pool ... --benchmarks han`` measures the HAN reach runs again and keeps --out's
    other benchmarks' from its earlier pool of the same tables, while they were measured
    against the median the tables give now; else it is refused before anything runs."""
    import bench.scaling.__main__ as scaling

    tables = [
        _table(tmp_path / "a", [0, 1, 2], ["default"]),
        _table(tmp_path / "b", [10], ["default"]),
    ]

    def add_hartmann(path: Path, shift: float) -> None:
        table = json.loads((path / "scaling.json").read_text())
        table["runs"] += [
            {**r, "bench": "hartmann", "best": r["best"] + shift} for r in table["runs"]
        ]
        (path / "scaling.json").write_text(json.dumps(table))

    for path in tables:
        add_hartmann(path, 100.0)
    ran: list[Any] = []

    def fake_pool(jobs: list[Any], processes: int) -> list[dict]:
        ran.extend(jobs)
        return [
            {"bench": j.bench, "method": j.method, "workers": j.workers, "seed": j.seed}
            | {"end": 100.0 + len(ran), "reached": True, "target": j.target}
            for j in jobs
        ]

    monkeypatch.setattr(scaling, "pool_map", fake_pool)
    out = tmp_path / "pool"
    pool = ["--out", str(out), "--pool", *map(str, tables)]
    with pytest.raises(SystemExit) as refused:  # no earlier pool to keep from
        scaling._run(scaling._parse([*pool, "--benchmarks", "han"]), {})
    assert refused.value.code == 2 and "leave out --benchmarks" in capsys.readouterr().err
    first = scaling._run(scaling._parse(pool), {})
    out.mkdir()
    (out / "scaling.json").write_text(json.dumps(first))
    hartmann = [r for r in first["reach"] if r["bench"] == "hartmann"]
    assert {r["target"] for r in hartmann} == {101.5}  # the median of 100, 101, 102, 110
    ran.clear()
    again = scaling._run(scaling._parse([*pool, "--benchmarks", "han"]), {})
    assert {j.bench for j in ran} == {"han"}
    assert [r for r in again["reach"] if r["bench"] == "hartmann"] == hartmann
    assert {r["bench"] for r in again["reach"]} == {"han", "hartmann"}
    # a table's hartmann runs changed since: the kept reach runs aimed at another median
    table = json.loads((tables[1] / "scaling.json").read_text())
    for r in table["runs"]:
        r["best"] -= 50.0 if r["bench"] == "hartmann" else 0.0
    (tables[1] / "scaling.json").write_text(json.dumps(table))
    ran.clear()
    with pytest.raises(SystemExit) as refused:
        scaling._run(scaling._parse([*pool, "--benchmarks", "han"]), {})
    assert refused.value.code == 2 and "pool hartmann again too" in capsys.readouterr().err
    assert ran == []


def test_a_pool_carries_the_draws_runs_of_the_methods_every_table_drew(tmp_path) -> None:
    import bench.scaling.__main__ as scaling

    a = _table(tmp_path / "a", [0, 1], ["default", "random_asha"], ("default", "random_asha"))
    b = _table(tmp_path / "b", [10], ["default", "random_asha"], ("default",))
    pool = scaling.pooled([a, b])
    assert sorted((r["method"], r["seed"]) for r in pool["draws"]) == [
        ("default", 0),
        ("default", 1),
        ("default", 10),
    ]
    c = _table(tmp_path / "c", [20], ["default"])  # no draws runs
    assert scaling.pooled([a, b, c])["draws"] == []  # draws on some seeds only: none


def test_a_pool_carries_the_start_runs_when_every_table_has_them(tmp_path) -> None:
    import bench.scaling.__main__ as scaling

    tables = [
        _table(tmp_path / "a", [0, 1], ["default", "random_asha"]),
        _table(tmp_path / "b", [10], ["default", "random_asha"]),
    ]
    for path in tables:
        table = json.loads((path / "scaling.json").read_text())
        table["start"] = [{**r, "start_s": scaling.START_S} for r in table["runs"]]
        (path / "scaling.json").write_text(json.dumps(table))
    found = scaling.pooled(tables)["start"]
    assert sorted((r["method"], r["seed"]) for r in found) == [
        (m, s) for m in ("default", "random_asha") for s in (0, 1, 10)
    ]
    c = _table(tmp_path / "c", [20], ["default", "random_asha"])  # no start runs
    assert scaling.pooled([*tables, c])["start"] == []  # on some seeds only: none


def test_a_pool_is_refused_before_it_runs(monkeypatch, tmp_path, capsys) -> None:
    """Overlapping seeds, a quick table, a missing table, flags a pool does not take and an
    --out among the pooled tables exit 2, naming what is wrong, and nothing runs."""
    import bench.scaling.__main__ as scaling

    monkeypatch.setattr(scaling, "pool_map", lambda jobs, processes: pytest.fail("ran"))
    a = _table(tmp_path / "a", [0, 1], ["default"])
    b = _table(tmp_path / "b", [1, 2], ["default"])
    q = _table(tmp_path / "q", [5, 6], ["default"], quick=True)
    out = ["--out", str(tmp_path / "pool")]
    for pool, named in (
        ([a, b], "seed 1 is in both"),
        ([a, q], "quick"),
        ([a, tmp_path / "none"], "none/scaling.json does not exist"),
    ):
        with pytest.raises(SystemExit) as refused:
            scaling._run(scaling._parse([*out, "--pool", *map(str, pool)]), {})
        assert refused.value.code == 2
        assert named in capsys.readouterr().err
    for argv, named in (
        ([*out, "--pool", str(a), str(b), "--parts", "runs"], "--parts other than reach"),
        ([*out, "--pool", str(a), str(b), "--methods", "default"], "--methods"),
        ([*out, "--pool", str(a), str(b), "--render"], "--render"),
        ([*out, "--pool", str(a)], "two tables or more"),
        (["--out", str(a), "--pool", str(a), str(b)], "an --out of its own"),
    ):
        with pytest.raises(SystemExit) as refused:
            scaling._parse(argv)
        assert refused.value.code == 2
        assert named in capsys.readouterr().err


@given(st.sets(st.integers(0, 60), min_size=1))
def test_seed_ranges_name_every_seed_once(seeds: set[int]) -> None:
    from bench.common import seed_ranges

    named: list[int] = []
    for part in seed_ranges(seeds).replace(" and ", ", ").split(", "):
        first, _, last = part.partition("-")
        assert not named or int(first) > named[-1] + 1  # runs are maximal
        named += range(int(first), int(last or first) + 1)
    assert named == sorted(seeds)


def test_a_tables_methods_paragraph_names_the_methods_it_ran() -> None:
    from bench.scaling.notes import setup_lines

    text = "\n".join(setup_lines({"default", "random_asha"}, [0, 1, 2]))
    assert "random search + ASHA" in text and "the default (what" in text
    assert "`before_cut`" not in text and "candidate fixes" not in text
    assert "Same seeds (0-2)" in text
    text = "\n".join(setup_lines({"default", "before_cut", "gated_chain"}, [0, 5]))
    assert "`before_cut`" in text and "candidate fixes" in text
    assert "random search + ASHA" not in text and "Same seeds (0 and 5)" in text


_times = st.lists(st.floats(1.0, 1e4), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(_times, _times, st.sampled_from([10.0, 32.0]), st.floats(0.05, 1.0))
def test_a_speedup_verdicts_share_of_resamples_follows_the_times(
    ones: list[float], at_k: list[float], need: float, faster: float
) -> None:
    """The share of seed resamples meeting a speed-up target: every resample meets it when
    every seed at k beats every seed at k=1 by the target, none when none does or none
    reached it, and a search faster at every seed never meets it less often."""
    from bench.scaling.analyse import met_share

    share = met_share(ones, at_k, need)
    assert 0.0 <= share <= 1.0
    if max(at_k) * need <= min(ones):
        assert share == 1.0
    if min(at_k) * need > max(ones):
        assert share == 0.0
    assert met_share(ones, [math.inf] * len(at_k), need) == 0.0
    assert met_share([math.inf] * len(ones), [math.inf] * len(at_k), need) == 0.0
    assert met_share(ones, [t * faster for t in at_k], need) >= share


def test_a_table_without_the_history_runs_tells_no_history() -> None:
    """A table on fresh seeds or a pool holds no search from before the fix: the story of
    the fix, which reads those runs, is left out rather than told with blanks."""
    from bench.scaling.notes import why_lines

    row = {"bench": "hartmann", "workers": 1, "regret": {"median": 0.1}, "epochs": {}}
    assert why_lines([{**row, "method": "default"}], []) == []
    told = why_lines([{**row, "method": "before_fix"}, {**row, "method": "tpe_asha"}], [])
    assert "Before the fix, on Hartmann the default's median regret" in "\n".join(told)


def test_a_speedup_just_short_of_its_target_does_not_read_as_meeting_it() -> None:
    from bench.scaling.report import _speedup

    assert _speedup({"speedup": 9.962, "workers": 16}) == "9.96x"  # not "10.0x", missed
    assert _speedup({"speedup": 10.04, "workers": 16}) == "10.0x"
    assert _speedup({"speedup": 31.97, "workers": 64}) == "31.97x"
    assert _speedup({"speedup": 9.962, "workers": 4}) == "10.0x"  # no target at k=4


def test_the_readmes_speedups_are_the_committed_tables() -> None:
    """The README's table of the default's speed-ups is what the committed tables give (a
    re-run without its render, or a hand edit, would leave it stale)."""
    from bench.common import ROOT
    from bench.scaling.__main__ import beside_tables, readme_tables
    from bench.scaling.report import (
        README_SPEEDUPS,
        README_WORKERS,
        readme_speedups,
        readme_workers,
    )

    out = ROOT / "results" / "benchmarks"
    beside = beside_tables(out)
    assert [where for _, where in beside] == [
        "scaling_fresh", "scaling_fresh2", "scaling_pooled", "scaling_replicates/scaling_pooled",
    ]  # fmt: skip
    tables = readme_tables(json.loads((out / "scaling.json").read_text()), beside)
    assert len(tables) == 4  # not the replicates' table: a variant of the HAN table's
    readme = (ROOT / "README.md").read_text()
    block = readme[
        readme.index(README_SPEEDUPS[0]) : readme.index(README_SPEEDUPS[1])
        + len(README_SPEEDUPS[1])
    ]
    assert block == "\n".join(readme_speedups(tables))
    assert "| 0-9, 1000-1009 and 2000-2009 | 16 |" in block  # the pool is among them
    first, last = README_WORKERS
    workers = readme[readme.index(first) : readme.index(last) + len(last)]
    assert workers == "\n".join(readme_workers(tables[0]["runs"]))
    assert "| lcbench-167168 |" in workers


def test_the_tables_beside_the_main_one_are_each_fresh_set_by_its_seeds_then_the_pool(
    tmp_path,
) -> None:
    from bench.scaling.__main__ import beside_tables

    def table(where: str, seeds: list[int]) -> None:
        (tmp_path / where).mkdir(exist_ok=True)
        (tmp_path / where / "scaling.json").write_text(json.dumps({"meta": {"seeds": seeds}}))

    assert beside_tables(tmp_path) == []
    table("scaling_pooled", [0, 1000, 2000])
    table("scaling_fresh3", [2000])
    table("scaling_fresh", [1000])
    table("scaling_freshest", [3000])  # not a set of fresh seeds' directory
    (tmp_path / "scaling_fresh2").mkdir()  # a run not yet written
    assert [(t["meta"]["seeds"], where) for t, where in beside_tables(tmp_path)] == [
        ([1000], "scaling_fresh"),
        ([2000], "scaling_fresh3"),
        ([0, 1000, 2000], "scaling_pooled"),
    ]
    table("scaling_replicates", [0])
    assert [where for _, where in beside_tables(tmp_path)][-2:] == [
        "scaling_pooled",
        "scaling_replicates",
    ]
    (tmp_path / "scaling_replicates" / "scaling_pooled").mkdir()  # a pool not yet written
    assert [where for _, where in beside_tables(tmp_path)][-1] == "scaling_replicates"
    table("scaling_replicates/scaling_pooled", [0, 1000])  # written: it stands for them
    assert [where for _, where in beside_tables(tmp_path)][-2:] == [
        "scaling_pooled",
        "scaling_replicates/scaling_pooled",
    ]


def test_the_readme_block_is_written_between_its_markers(tmp_path) -> None:
    from bench.scaling.report import README_SPEEDUPS, README_WORKERS, write_readme_blocks

    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{README_SPEEDUPS[0]}\nold\n{README_SPEEDUPS[1]}\nafter\n")
    write_readme_blocks(readme, [README_SPEEDUPS[0], "new", README_SPEEDUPS[1]])
    assert readme.read_text() == f"before\n{README_SPEEDUPS[0]}\nnew\n{README_SPEEDUPS[1]}\nafter\n"
    readme.write_text(
        f"{README_SPEEDUPS[0]}\n{README_SPEEDUPS[1]}\n{README_WORKERS[0]}\n{README_WORKERS[1]}"
    )
    write_readme_blocks(readme, [README_SPEEDUPS[0], "a", README_SPEEDUPS[1]], [*README_WORKERS])
    assert readme.read_text().split("\n") == [
        README_SPEEDUPS[0],
        "a",
        README_SPEEDUPS[1],
        *README_WORKERS,
    ]
    readme.write_text("no markers\n")
    with pytest.raises(ValueError, match=r"README\.md: no"):
        write_readme_blocks(readme, ["x"])


def test_a_confirmation_refuses_what_it_cannot_run_before_it_runs(
    monkeypatch, tmp_path, capsys
) -> None:
    """Nothing to render, seeds that chose the candidates, and a reach claim without the
    baseline's reach runs each exit 2 with one line naming it, and nothing runs."""
    import bench.scaling.confirm as confirm

    monkeypatch.setattr(confirm, "pool_map", lambda jobs, processes: pytest.fail("ran"))
    out = ["--out", str(tmp_path)]
    for argv, named in (
        (["--render"], "--render: no"),
        (["--again", "han"], "--again: no"),
        (["--method", "gated_chain", "--first-seed", "3"], "--first-seed 3: seeds below"),
        (["--method", "gated_chain", "--claim", "reach"], "--claim reach: no reach runs"),
    ):
        with pytest.raises(SystemExit) as refused:
            confirm.main([*argv, *out])
        assert refused.value.code == 2
        err = capsys.readouterr().err
        assert err.startswith("python -m bench.scaling.confirm: error: ") and named in err


def test_equal_time_compares_two_searches_at_the_shorter_runs_end() -> None:
    from bench.scaling.analyse import equal_time

    def run(method: str, seed: int, points: list[list[float]], end: float) -> dict:
        return {**_record(points, 10, seed), "bench": "b", "method": method, "workers": 4}

    # seed 0: the default ends first (100 s), when the other still had 0.6; seed 1: the
    # other ends first (50 s), when the default had not yet found its 0.2
    runs = [
        {**run("default", 0, [[1, 10.0, 0.5]], 100), "end": 100.0},
        {**run("random_asha", 0, [[1, 10.0, 0.6], [9, 150.0, 0.1]], 200), "end": 200.0},
        {**run("default", 1, [[1, 10.0, 0.5], [5, 60.0, 0.2]], 90), "end": 90.0},
        {**run("random_asha", 1, [[1, 40.0, 0.3]], 50), "end": 50.0},
    ]
    found = equal_time(runs, "b", "default", "random_asha", 4)
    assert found is not None
    assert found["a_not_worse"] == 1 and found["seeds"] == 2  # seed 0 only
    assert found["hours"]["median"] == pytest.approx(75 / 3600)
    assert found["regret_a"]["median"] == pytest.approx(0.5)
    assert found["regret_b"]["median"] == pytest.approx(0.45)  # 0.6 and 0.3
    assert equal_time(runs, "b", "default", "random_asha", 16) is None


def test_the_start_part_runs_the_default_and_random_asha_with_a_start_cost(monkeypatch) -> None:
    import bench.scaling.__main__ as scaling
    from bench.scaling.report import _start_lines

    ran: list[Any] = []

    def fake_pool(jobs: list[Any], processes: int) -> list[dict]:
        ran.extend(jobs)
        # with the start cost the default reaches 0.1 by 10 s, random + ASHA 0.2
        return [
            {
                **_record([[1, 10.0, 0.1 if j.method == "default" else 0.2]], 5, j.seed),
                "bench": j.bench,
                "method": j.method,
                "workers": j.workers,
                "start_s": j.start_s,
                "end": 20.0,
            }
            for j in jobs
        ]

    monkeypatch.setattr(scaling, "pool_map", fake_pool)
    old = {"meta": {}, "start": [{"bench": "hartmann", "kept": True}]}
    args = scaling._parse(["--quick", "--parts", "start", "--benchmarks", "han"])
    start = scaling._run(args, old)["start"]
    assert {(j.bench, j.method, j.start_s) for j in ran} == {
        ("han", "default", scaling.START_S),
        ("han", "random_asha", scaling.START_S),
    }
    assert {(j.workers, j.seed) for j in ran} == {(k, s) for k in (1, 16) for s in (0, 1)}
    assert {"bench": "hartmann", "kept": True} in start  # another benchmark's: kept
    # without a start cost (the main runs) random + ASHA is ahead at equal time
    runs = [
        {**r, "improvements": [[1, 10.0, 0.3 if r["method"] == "default" else 0.2]]}
        for r in start
        if r["bench"] == "han"
    ]
    text = "\n".join(_start_lines(runs, [r for r in start if r["bench"] == "han"]))
    assert (
        "no worse in 0 of 2 cells with no start cost and in 2 of 2 with 20 s; at equal "
        "epochs, in 0 and 2 (seeds 0-1)" in text
    )
    assert "| han | 16 | 20 s | 0.00556 | 0.1 [0.1, 0.1] | 0.2 [0.2, 0.2] | 2/2 |" in text
    assert "| han | 16 | 0 s |" in text
    assert _start_lines(runs, []) == []
    # a table beside it on fresh seeds with start runs of its own is counted too; one on
    # the same seeds (a pool) is not
    han = [r for r in start if r["bench"] == "han"]
    fresh = [{**r, "seed": r["seed"] + 5} for r in han]
    fresh_runs = [{**r, "seed": r["seed"] + 5} for r in runs]
    beside = [({"runs": fresh_runs, "start": fresh}, "fresh"), ({"runs": runs, "start": han}, "p")]
    text = "\n".join(_start_lines(runs, han, beside))
    assert (
        "(seeds 0-1); on fresh seeds 5-6 ([fresh](fresh/scaling.md#with-a-start-cost-per-trial"
        ")), the default is no worse in 0 of 2 cells with no start cost and in 2 of 2 with "
        "20 s; at equal epochs, in 0 and 2. A start cost" in text
    )
    assert "(p/scaling.md" not in text
    # a pool of this table's seeds and more is counted, named as a pool
    both = [*han, *fresh]
    text = "\n".join(_start_lines(runs, han, [({"runs": runs + fresh_runs, "start": both}, "q")]))
    assert "on seeds 0-1 and 5-6 pooled (4 seeds) ([q](q/scaling.md#with-a-start-cost" in text


def test_a_runs_start_cost_adds_to_each_trial_one_at_a_time() -> None:
    from bench.scaling.grid import Job, run_job

    plain = run_job(Job("hartmann", "random_asha", 1, 0, trials=6))
    started = run_job(Job("hartmann", "random_asha", 1, 0, trials=6, start_s=30.0))
    assert started["start_s"] == 30.0 and started["epochs"] == plain["epochs"]
    assert started["end"] == pytest.approx(plain["end"] + 6 * 30.0)


def _start_record(method: str, start_s: float, best: float) -> dict[str, Any]:
    return {
        "bench": "hartmann", "method": method, "workers": 1, "seed": 0, "kind": "trials",
        "start_s": start_s, "optimum": -3.32237, "epochs": 10, "end": 10.0 + start_s,
        "best": best, "improvements": [[1, 1.0 + start_s, best]],
    }  # fmt: skip


def test_each_start_cost_compares_the_runs_made_with_it() -> None:
    """With two start costs, each one's cells pair the default's and its rival's runs at
    that cost, seed by seed, not every run of both."""
    runs = [_start_record("default", 0.0, -3.0), _start_record("random_asha", 0.0, -2.0)]
    start = [
        _start_record("default", 20.0, -3.0),  # at 20 s the default is ahead
        _start_record("random_asha", 20.0, -2.0),
        _start_record("default", 60.0, -1.0),  # at 60 s it is behind
        _start_record("random_asha", 60.0, -2.5),
    ]
    rows, counts = _start_cells(runs, start)
    assert {label: cells["seeds"] for label, cells in rows} == {"0 s": 1, "20 s": 1, "60 s": 1}
    assert (counts["20 s"][:2], counts["60 s"][:2]) == ((1, 1), (0, 1))


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(st.floats(0, 100, allow_nan=False), st.just(math.inf)), min_size=1, max_size=12
    )
)
def test_spread_orders_inf_last_and_never_gives_nan(values: list[float]) -> None:
    """A quartile at or between finite values is numpy's; one that reaches towards an inf is
    inf. np.quantile itself gave NaN there (inf - inf, inf * 0), and quartiles() printed it
    (found by a review helper)."""
    from bench.scaling.analyse import quartiles, spread

    s = spread(values)
    held = [1e308 if math.isinf(v) else v for v in values]
    top = max((v for v in values if math.isfinite(v)), default=-math.inf)
    for key, q in (("q25", 0.25), ("median", 0.5), ("q75", 0.75)):
        expected = float(np.quantile(held, q))
        assert s[key] == (math.inf if expected > top else pytest.approx(expected)), (key, s)
    assert "nan" not in quartiles(s)


def test_a_speed_up_target_needs_every_benchmark_the_default_ran_on() -> None:
    """A benchmark whose k=1 runs did not reach their own median in most seeds gets no
    reach runs at k > 1, so no speed-up row: 'on each benchmark' was judged on the others
    and could read met. It is named as not measured, and the target is missed."""
    from bench.scaling.report import _targets

    def row(bench: str, k: int, speedup: float) -> dict[str, Any]:
        return {"bench": bench, "workers": k, "speedup": speedup, "met_share": 1.0}

    speed = [row(b, k, 100.0) for b in ("hartmann", "han") for k in (1, 16, 64)]
    found = _targets(speed, [], [], [], None, benches=["han", "hartmann", "lcbench-189906"])
    k16 = next(t for t in found if t.name.startswith("k=16 reaches"))
    assert not k16.met and "lcbench-189906 not measured" in k16.figure
    complete = _targets(speed, [], [], [], None, benches=["han", "hartmann"])
    assert next(t for t in complete if t.name.startswith("k=16 reaches")).met


def test_again_measures_every_confirmations_runs_on_one_benchmark_anew(
    monkeypatch, tmp_path, capsys
) -> None:
    """``confirm --again han``: each confirmation's HAN runs replaced by runs on its own
    seeds and claim (a reach claim with its baseline's k=1 target and time from
    scaling.json now), its other runs kept, the command named in its section; with
    --method it is refused before anything runs."""
    import bench.scaling.confirm as confirm
    from bench.scaling.methods import METHODS

    base = METHODS["window_asha"].baseline
    git = {"sha": "0" * 40, "dirty": False}
    old_run = {"method": base, "workers": 1, "seed": 10, "end": 1.0, "reached": True}
    two = ("han", "hartmann")
    wall = {"method": "window_asha", "claim": "wall", "seeds": [10], "command": "w", "git": git,
            "runs": [{**old_run, "bench": b, "best": 9.0} for b in two]}  # fmt: skip
    ref = {"target": 1.0, "t1": 100.0, "limits": {"16": 20.0, "64": 6.0}}
    reach = {"method": "window_asha", "claim": "reach", "seeds": [20], "command": "r", "git": git,
             "references": {"han": dict(ref), "hartmann": dict(ref)},
             "runs": [{**old_run, "seed": 20, "bench": b} for b in two]}  # fmt: skip
    meta = {"command": "c", "git": git, "seeds": [10]}
    (tmp_path / "scaling_confirm.json").write_text(
        json.dumps({"meta": meta, "confirmations": [wall, reach]})
    )
    # scaling.json now: window_asha's baseline reaches -2.0 at k=1 in 50 s
    ones = [{"bench": "han", "method": base, "workers": 1, "seed": s, "target": -2.0,
             "end": 50.0, "reached": True, "against": base} for s in range(3)]  # fmt: skip
    (tmp_path / "scaling.json").write_text(json.dumps({"reach": ones}))
    ran: list[Any] = []

    def fake_pool(jobs: list[Any], processes: int) -> list[dict]:
        ran.extend(jobs)
        return [
            {"bench": j.bench, "method": j.method, "workers": j.workers, "seed": j.seed}
            | {"kind": j.kind, "target": j.target, "time_limit": j.time_limit, "new": True}
            | {
                "end": 1.0,
                "reached": True,
                "best": 0.5,
                "epochs": 3,
                "improvements": [[1, 1.0, 0.5]],
            }
            for j in jobs
        ]

    monkeypatch.setattr(confirm, "pool_map", fake_pool)
    monkeypatch.setattr(confirm, "write_outputs", lambda *a, **k: None)
    monkeypatch.setattr(confirm, "render", lambda data: ("", []))
    out = ["--out", str(tmp_path)]
    with pytest.raises(SystemExit) as refused:
        confirm.main([*out, "--again", "han", "--method", "window_asha"])
    assert refused.value.code == 2 and "drop --method" in capsys.readouterr().err
    assert ran == []
    written: dict[str, Any] = {}
    monkeypatch.setattr(
        confirm, "write_outputs", lambda name, text, data, out: written.update(data)
    )
    confirm.main([*out, "--again", "han"])
    first, second = written["confirmations"]
    # the wall claim: both methods at every k on its seed; the reach claim: k = 16, 64
    assert sorted((j.method, j.workers, j.seed) for j in ran if j.kind == "trials") == [
        (m, k, 10) for m in sorted((base, "window_asha")) for k in (1, 4, 16, 64)
    ]
    reach_jobs = [j for j in ran if j.kind == "reach"]
    assert {(j.workers, j.seed) for j in reach_jobs} == {(16, 20), (64, 20)}
    assert {j.target for j in reach_jobs} == {-2.0}
    assert second["references"]["han"]["t1"] == 50.0
    assert second["references"]["hartmann"] == ref  # the other benchmark's as it was
    assert {j.time_limit for j in reach_jobs if j.workers == 16} == {
        second["references"]["han"]["limits"]["16"]
    }
    for c in (first, second):
        assert all(r.get("new") for r in c["runs"] if r["bench"] == "han")
        assert [r for r in c["runs"] if r["bench"] == "hartmann"] == [
            r for r in (wall if c is first else reach)["runs"] if r["bench"] == "hartmann"
        ]
        assert {r["seed"] for r in c["runs"]} == set(c["seeds"])
        assert c["again"][0]["bench"] == "han"
    (line,) = confirm._again_lines(first)  # each section says so, under its own command
    assert line.startswith("Its han runs measured again") and first["again"][0]["command"] in line
