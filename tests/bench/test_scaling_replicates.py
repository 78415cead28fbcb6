"""bench.scaling's han-fresh benchmark: the HAN table with each trial of a configuration on a
recorded seed it has not had yet (``SimSettings.fresh_replicates``, as ``raysearch simulate``
runs a table), beside the table as its committed figures were measured."""

from __future__ import annotations

from bench.scaling.benchmarks import BENCHMARKS, MAIN_BENCHMARKS


def test_han_fresh_draws_a_configuration_again_on_its_other_seed_and_runs_only_when_named() -> None:
    """han-fresh is the HAN table as ``raysearch simulate`` runs it (a configuration drawn
    again on a recorded seed it has not had yet); han keeps each trial's own seed, as its
    committed figures were measured. The main runs (no --benchmarks) leave the variant out."""
    from bench.scaling.grid import Job, simulate_job

    runs = {b: simulate_job(Job(b, "default", 1, 0, trials=60))[1] for b in ("han", "han-fresh")}
    han, fresh = runs["han"].trials, runs["han-fresh"].trials
    assert (han["curve_seed"] == han["seed"]).all()
    again = fresh["curve_seed"] != fresh["seed"]
    assert again.any()  # 60 draws on 54 configurations: some drawn again
    assert not again.iloc[: int(again.to_numpy().argmax())].any()  # until then, its own seed
    assert BENCHMARKS["han-fresh"].variant_of == "han"
    assert "han-fresh" not in MAIN_BENCHMARKS and "han" in MAIN_BENCHMARKS

    from bench.scaling.__main__ import _parse

    assert _parse([]).benchmarks == MAIN_BENCHMARKS
    assert _parse(["--benchmarks", "han", "han-fresh"]).benchmarks == ["han", "han-fresh"]


def test_a_table_on_a_variant_is_introduced_as_one_unless_this_table_has_it_too() -> None:
    """Beside the main table (no han-fresh runs), the replicates' table is said to be the
    HAN table seen with fresh replicates; beside the replicates' own table, a table on
    other seeds with the same benchmarks is a run on fresh seeds."""
    from bench.scaling.report import beside_lines

    target = {"name": "k=64 ...", "figure": "han-fresh 53.7x", "met": True, "bound": None}
    other = {
        "meta": {"seeds": [0, 1], "command": "python -m bench.scaling --benchmarks han han-fresh"},
        "runs": [{"bench": "han"}, {"bench": "han-fresh"}],
        "targets": [target],
    }
    beside_main = "\n".join(beside_lines(other, "scaling_replicates", [0, 1], mine={"han"}))
    assert "not had yet, as `raysearch simulate` runs a table (`han-fresh`)" in beside_main
    assert "on seeds 0-1, the same targets read ([scaling_replicates/" in beside_main
    mine = {"han", "han-fresh"}
    fresh = {**other, "meta": {**other["meta"], "seeds": [1000, 1001]}}
    beside_own = "\n".join(beside_lines(fresh, "scaling_fresh", [0, 1], mine=mine))
    assert "has not had yet" not in beside_own and "On fresh seeds 1000-1001" in beside_own
