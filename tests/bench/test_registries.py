"""bench/'s registries: methods and benchmarks defined once, looked up loudly, and what the
benchmarks compare and run taken from them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

import bench.hartmann
import bench.search
from bench.__main__ import main as bench_main
from bench.benchmarks import BENCHMARKS, Benchmark, by_module, resolve
from bench.common import OUT
from bench.methods import METHODS, Method
from bench.registry import Registry, RegistryError
from raysearch.search.settings import SearchSettings
from raysearch.search.space import ParamSpec, SearchSpace


@dataclass(frozen=True)
class Thing:
    name: str
    size: int = 0


def test_a_registry_refuses_a_name_twice_and_lists_the_valid_ones_on_a_miss() -> None:
    things: Registry[Thing] = Registry("thing")
    first = things.register(Thing("a", 1))
    things.register(Thing("b"))
    with pytest.raises(RegistryError, match="thing 'a' is already registered"):
        things.register(Thing("a", 2))
    assert things["a"] is first  # the duplicate did not replace it
    with pytest.raises(RegistryError, match=r"unknown thing 'c'; valid: a, b"):
        things["c"]
    with pytest.raises(RegistryError, match=r"'c', 'd'; valid: a, b"):
        things.select(["a", "c", "d"])
    assert [t.name for t in things.select(["b", "a"])] == ["b", "a"]  # the order asked for
    assert [t.name for t in things] == ["a", "b"]  # registration order


def test_the_compared_methods_are_the_registrys_own_definitions() -> None:
    for module in (bench.search, bench.hartmann):
        assert module.BASELINE in module.NAMES
        for method in module.METHODS:
            assert METHODS[method.name] is method, f"{module.__name__} redefines {method.name}"


def test_a_method_reports_every_problem_at_once() -> None:
    with pytest.raises(ValueError) as err:
        Method("Bad-Name", " ", searcher="bayes", scheduler="asha", concurrent=0)
    message = str(err.value)
    for part in ("lower-case", "description is empty", "concurrent 0", "searcher 'bayes'"):
        assert part in message
    with pytest.raises(ValueError, match=r"scheduler 'asha' \(optuna_alone\): valid: hyperband"):
        Method("x", "x", searcher="tpe", scheduler="asha", engine="optuna_alone")
    with pytest.raises(ValueError, match="engine 'ray': valid: tune, optuna_alone"):
        Method("x", "x", searcher="tpe", scheduler="asha", engine="ray")
    with pytest.raises(ValueError, match="no_such_setting"):
        Method("x", "x", searcher="tpe", scheduler="fifo", settings={"no_such_setting": 1})


def _space(settings: SearchSettings) -> SearchSpace:
    return SearchSpace("s", "", settings, {"x": ParamSpec(type="float", low=0.0, high=1.0)})


def test_a_method_sets_its_searcher_scheduler_and_settings_over_the_benchmarks() -> None:
    base = SearchSettings(num_samples=40, max_epochs=9, grace_period=2, n_startup_trials=10)
    tpe_fifo = Method(
        "tpe_fifo", "TPE, no early stopping", "tpe", "fifo", settings={"n_startup_trials": 3}
    )
    s = tpe_fifo.tune_space(_space(base)).settings
    assert (s.searcher, s.scheduler, s.n_startup_trials) == ("tpe", "fifo", 3)
    assert (s.num_samples, s.max_epochs) == (40, 9)  # the benchmark's
    assert s.grace_period == 1  # the benchmark's (2) means nothing under fifo: set aside
    assert s.independent_when_running  # the default's, with joint TPE
    # random search over the benchmark's TPE settings: the default that needs TPE follows it
    r = METHODS["random_asha"].tune_space(_space(base)).settings
    assert (r.searcher, r.independent_when_running, r.num_samples) == ("random", False, 40)
    optuna = METHODS["optuna_hyperband"].optuna_alone(base, seed=5, processes=2)
    assert (optuna.n_trials, optuna.max_resource, optuna.min_resource) == (40, 9, 2)
    assert (optuna.n_startup_trials, optuna.processes, optuna.seed) == (10, 2, 5)
    sequential = Method(
        "optuna_seq", "Optuna alone, one trial at a time", "tpe", "hyperband", "optuna_alone",
        concurrent=1,
    )  # fmt: skip
    assert sequential.optuna_alone(base, seed=5, processes=2).processes == 1
    with pytest.raises(ValueError, match="runs on 'optuna_alone', not 'tune'"):
        sequential.tune_space(_space(base))


def test_every_benchmark_is_a_bench_module_with_a_main() -> None:
    import importlib.util

    for b in BENCHMARKS:
        assert importlib.util.find_spec(b.module) is not None, b.module
        assert by_module(b.module) is b
        spec = importlib.util.find_spec(b.module)
        assert spec is not None and spec.origin is not None
        origin = Path(spec.origin)
        if spec.submodule_search_locations:  # a package: python -m runs its __main__
            origin = origin.with_name("__main__.py")
        source = origin.read_text()
        assert "def main(" in source and '__name__ == "__main__"' in source, b.module


def test_every_committed_table_is_written_by_a_registered_benchmark() -> None:
    tables = {p.stem for p in OUT.glob("*.json")} - {"durations"}
    assert len(tables) >= 7, tables  # data, model, overhead, search, parallel, hartmann, ...
    written = {t for b in BENCHMARKS for t in b.writes}
    assert tables <= written, f"no benchmark writes {sorted(tables - written)}"
    durations = json.loads((OUT / "durations.json").read_text())
    assert set(durations) <= set(BENCHMARKS.names())


def test_names_resolve_to_benchmarks_once_each_aliases_included() -> None:
    assert [b.name for b in resolve(["parallel", "data", "search"])] == ["search", "data"]
    assert resolve([]) == list(BENCHMARKS)
    with pytest.raises(RegistryError, match=r"'nope'; valid: .*parallel \(runs search\)"):
        resolve(["nope", "data"])


def test_a_benchmark_definition_is_checked() -> None:
    with pytest.raises(ValueError) as err:
        Benchmark("x", "raysearch.cli.run", "s", writes=("y",), quick_args=("--out", "d"))
    message = str(err.value)
    assert "must include its own table 'x'" in message
    assert "a module of bench/" in message
    assert "--out is given by python -m bench" in message
    b = BENCHMARKS["model"]
    assert b.argv(True, Path("o")) == ["-m", "bench.bench_model", "--quick", "--out", "o"]
    assert b.argv(False, Path("o"))[2:] == ["--rounds", "3", "--threads", "1", "--out", "o"]


def test_an_unknown_benchmark_exits_2_naming_the_valid_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_:
        bench_main(["serch"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "'serch'" in err
    for name in BENCHMARKS.names():
        assert name in err


def test_the_han_search_gives_a_methods_own_settings_through_a_copy_of_its_space(
    tmp_path: Path,
) -> None:
    from raysearch.search.space import load_space

    assert bench.search._space_file(METHODS["tpe_asha"], str(tmp_path)) == bench.search.SPACE
    method = Method(
        "tpe_fifo", "TPE, no early stopping", "tpe", "fifo", settings={"n_startup_trials": 2}
    )
    copy = load_space(str(bench.search._space_file(method, str(tmp_path))))
    original = load_space(str(bench.search.SPACE))
    assert copy.settings.n_startup_trials == 2 != original.settings.n_startup_trials
    assert original.settings.model_copy(update={"n_startup_trials": 2}) == copy.settings
    assert (copy.parameters, copy.fixed) == (original.parameters, original.fixed)
