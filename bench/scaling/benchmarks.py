"""The benchmarks: a curve source and a search space each, by name."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.common import OUT, ROOT

if TYPE_CHECKING:
    from raysearch.search.simulation.curves import Curve
    from raysearch.search.simulation.table import Key, TableCurves

__all__ = [
    "BENCHMARKS",
    "HAN_SPACE",
    "HAN_TABLE",
    "MAIN_BENCHMARKS",
    "TABLES",
    "Benchmark",
    "FreshReplicates",
    "load",
    "measured_on",
    "table_digest",
]

HAN_TABLE = OUT / "han_table.parquet"
HAN_SPACE = ROOT / "bench" / "spaces" / "han_table.yaml"
TRIALS = 200  # a search's trials (the "200 trials at k=1")
STARTUP = 10  # TPE's random start-up trials on the synthetic benchmarks (as bench/hartmann)


@dataclass(frozen=True)
class Benchmark:
    name: str
    title: str
    build: Callable[[], tuple[Any, Any]]  # -> (search space, curve source)
    # another benchmark's curves seen another way: run only when named (--benchmarks)
    variant_of: str | None = None


def _settings(epochs: int) -> Any:
    from raysearch.search.settings import SearchSettings

    return SearchSettings(
        num_samples=TRIALS,
        max_epochs=epochs,
        grace_period=1,
        reduction_factor=3,
        n_startup_trials=STARTUP,
    )


def _hartmann() -> tuple[Any, Any]:
    from raysearch.search.simulation.hartmann import HartmannCurves, hartmann_space

    source = HartmannCurves(max_epochs=27)
    return hartmann_space(_settings(27)), source


def _lcbench(task: str) -> Callable[[], tuple[Any, Any]]:
    def build() -> tuple[Any, Any]:
        from bench.lcbench import EPOCHS, LCBenchCurves, lcbench_space

        return lcbench_space(_settings(EPOCHS)), LCBenchCurves(task)

    return build


def han_table(path: Path = HAN_TABLE, space_file: Path = HAN_SPACE) -> tuple[Any, Any]:
    """The HAN table's space (its own settings, 200 trials) and its recorded curves."""
    from raysearch.data.reading import read_parquet
    from raysearch.search.simulation.table import TableCurves, check_space
    from raysearch.search.space import load_space

    space = load_space(str(space_file)).with_settings(num_samples=TRIALS)
    if not path.is_file():
        raise FileNotFoundError(
            f"{path}: the HAN learning-curve table is not there; build it with "
            "`python -m bench han_table` (about 2 hours of one core; `python -m bench.han_table "
            "--processes 2` trains two runs at once) or leave out --benchmarks han"
        )
    source = TableCurves(read_parquet(path), tuple(space.parameters), name="han-table")
    problems = check_space(source, space)
    if problems:
        raise ValueError(f"{path}: {'; '.join(problems)}")
    return space, source


class FreshReplicates:
    """A recorded table as one search sees it when each trial of a configuration trains
    with a seed of its own, as in a real search (a trial's seed is the search's seed plus
    its number), and a new seed gives a new curve: the j-th trial of a configuration in the
    search gets the recorded seed j seeds on from its first trial's, so no configuration
    sees one recorded curve twice before it has seen them all. The table alone
    (``TableCurves.curve``) gives a trial the recorded seed its own seed picks (seed mod
    their number): with 2 recorded seeds, two trials of one configuration then train the
    same curve half the time. One instance per search: it counts each configuration's
    trials as it gives them curves."""

    def __init__(self, table: TableCurves, name: str) -> None:
        self.table = table
        self.name = name
        self._given: dict[Key, tuple[int, int]] = {}  # key: (its first trial's seed, trials)

    @property
    def max_epochs(self) -> int:
        return self.table.max_epochs

    @property
    def optimum(self) -> float:
        return self.table.optimum

    @property
    def configurations(self) -> list[dict[str, Any]]:
        return self.table.configurations

    def key(self, config: Mapping[str, Any]) -> Key:
        return self.table.key(config)

    def curve(self, config: Mapping[str, Any], seed: int) -> Curve:
        key = self.table.key(config)
        first, given = self._given.get(key, (seed, 0))
        curve = self.table.curve(config, first + given)  # refuses an unknown configuration
        self._given[key] = (first, given + 1)
        return curve


def _han_fresh() -> tuple[Any, Any]:
    space, table = han_table()
    return space, FreshReplicates(table, name="han-table, fresh replicates")


BENCHMARKS = {
    b.name: b
    for b in (
        Benchmark("hartmann", "augmented Hartmann 6-D (27 epochs)", _hartmann),
        *(
            Benchmark(f"lcbench-{t}", f"LCBench {t} (YAHPO surrogate, 50 epochs)", _lcbench(t))
            for t in ("167168", "189873", "189906")
        ),
        Benchmark("han", "HAN learning-curve table", han_table),
        Benchmark(
            "han-fresh",
            "HAN learning-curve table, each trial of a configuration on a recorded seed it "
            "has not had yet",
            _han_fresh,
            variant_of="han",
        ),
    )
}
# the benchmarks a run measures unless told (--benchmarks): each variant only when named
MAIN_BENCHMARKS = [name for name, b in BENCHMARKS.items() if b.variant_of is None]


# the benchmarks whose curves are a recorded table: a record measured on one names the
# table's digest (``measured_on``), so figures measured on an earlier recording show as such
TABLES = {"han": HAN_TABLE, "han-fresh": HAN_TABLE}


@cache
def table_digest(name: str) -> str | None:
    """The first 12 hex digits of the SHA-256 of benchmark ``name``'s recorded table as it
    is now (None for a benchmark whose curves are computed, or a table not there)."""
    path = TABLES.get(name)
    if path is None or not path.is_file():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()[:12]


def measured_on(name: str) -> dict[str, str]:
    """What a record of benchmark ``name`` notes of the curves it was measured on:
    ``{"table": digest}`` for a recorded table, nothing for computed curves."""
    digest = table_digest(name)
    return {} if digest is None else {"table": digest}


def load(name: str) -> tuple[Any, Any]:
    """(space, source) of a benchmark, by name."""
    if name not in BENCHMARKS:
        raise ValueError(f"unknown benchmark {name!r}; valid: {', '.join(BENCHMARKS)}")
    return BENCHMARKS[name].build()
