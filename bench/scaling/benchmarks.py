"""The benchmarks: a curve source and a search space each, by name."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from bench.common import OUT, ROOT

__all__ = [
    "BENCHMARKS",
    "HAN_SPACE",
    "HAN_TABLE",
    "MAIN_BENCHMARKS",
    "TABLES",
    "Benchmark",
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
    # a configuration drawn again draws a curve with a seed it has not had yet, as in
    # `raysearch simulate` (SimSettings.fresh_replicates); False: with its trial's own seed
    fresh_replicates: bool = True


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


BENCHMARKS = {
    b.name: b
    for b in (
        Benchmark("hartmann", "augmented Hartmann 6-D (27 epochs)", _hartmann),
        *(
            Benchmark(f"lcbench-{t}", f"LCBench {t} (YAHPO surrogate, 50 epochs)", _lcbench(t))
            for t in ("167168", "189873", "189906")
        ),
        # the table as every HAN figure in scaling.md was measured: a trial's own seed
        # picks the recorded curve (seed mod 2), so a configuration drawn again trains the
        # curve it trained before half the time
        Benchmark("han", "HAN learning-curve table", han_table, fresh_replicates=False),
        Benchmark(
            "han-fresh",
            "HAN learning-curve table, each trial of a configuration on a recorded seed it "
            "has not had yet",
            han_table,
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
