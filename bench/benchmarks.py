"""The benchmarks ``python -m bench`` runs (``BENCHMARKS``), each defined once.

A benchmark is a module run as ``python -m MODULE ARGS --out DIR`` in its own process (one
after another, so none competes for the cores) that writes ``<table>.md`` and
``<table>.json`` (and plots) for each table in ``writes``. ``full_args`` and ``quick_args``
are what ``python -m bench NAME`` and ``python -m bench NAME --quick`` pass it. A table
other than the benchmark's own name is an alias: ``python -m bench parallel`` runs
``search``, which measures parallel efficiency on its runs. A new benchmark is one
``register(Benchmark(...))`` call here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bench.registry import Registry, RegistryError

__all__ = ["BENCHMARKS", "Benchmark", "aliases", "by_module", "register", "resolve"]

_NAME = re.compile(r"[a-z][a-z0-9_]*")


@dataclass(frozen=True)
class Benchmark:
    name: str
    module: str  # run as python -m MODULE
    summary: str  # what it measures, for python -m bench --help
    writes: tuple[str, ...]  # its tables: <table>.md and <table>.json in the output directory
    full_args: tuple[str, ...] = ()
    quick_args: tuple[str, ...] = ("--quick",)

    def __post_init__(self) -> None:
        problems = []
        for table in (self.name, *self.writes):
            if not _NAME.fullmatch(table):
                problems.append(f"name {table!r}: lower-case letters, digits and _")
        if self.name not in self.writes:
            problems.append(f"writes {self.writes}: must include its own table {self.name!r}")
        if not self.module.startswith("bench."):
            problems.append(f"module {self.module!r}: a module of bench/")
        if "--out" in (*self.full_args, *self.quick_args):
            problems.append("--out is given by python -m bench, not in the arguments")
        if problems:
            raise ValueError(f"benchmark {self.name!r}: " + "; ".join(problems))

    def argv(self, quick: bool, out: Path) -> list[str]:
        """The arguments after ``python``: ``-m MODULE ARGS --out OUT``."""
        args = self.quick_args if quick else self.full_args
        return ["-m", self.module, *args, "--out", str(out)]

    def command(self, quick: bool) -> str:
        """What a person types to run it."""
        return f"python -m bench {self.name}" + (" --quick" if quick else "")


BENCHMARKS: Registry[Benchmark] = Registry("benchmark")
register = BENCHMARKS.register


def aliases() -> dict[str, str]:
    """table -> the benchmark that writes it, for every table not named after its benchmark."""
    return {t: b.name for b in BENCHMARKS for t in b.writes if t != b.name}


def resolve(names: list[str]) -> list[Benchmark]:
    """The benchmarks named (by name or by a table they write), each once, in the order
    given; all of them when ``names`` is empty (RegistryError names every unknown one)."""
    if not names:
        return list(BENCHMARKS)
    table = aliases()
    unknown = [n for n in names if n not in BENCHMARKS and n not in table]
    if unknown:
        valid = [*BENCHMARKS.names(), *(f"{t} (runs {b})" for t, b in table.items())]
        raise RegistryError(
            f"unknown benchmark(s) {', '.join(map(repr, unknown))}; valid: {', '.join(valid)}"
        )
    return list(dict.fromkeys(BENCHMARKS.select(table.get(n, n) for n in names)))


def by_module(module: str) -> Benchmark | None:
    """The benchmark run as ``python -m module`` (None: not a registered benchmark)."""
    return next((b for b in BENCHMARKS if b.module == module), None)


register(
    Benchmark(
        "data",
        "bench.bench_data",
        "data build time and memory, small and full scale (DESIGN: < 60 s, < 4 GiB; a "
        "cached load < 1 s)",
        writes=("data",),
    )
)
register(
    Benchmark(
        "model",
        "bench.bench_model",
        "HAN forward+backward throughput per size preset",
        writes=("model",),
        full_args=("--rounds", "3", "--threads", "1"),
    )
)
register(
    Benchmark(
        "overhead",
        "bench.overhead",
        "where a trial's wall time goes, 1-worker and 2-worker Ray Train trials, against a "
        "bare fit() of the same configuration (DESIGN: < 5% outside train+val)",
        writes=("overhead",),
    )
)
register(
    Benchmark(
        "search",
        "bench.search",
        "TPE+ASHA vs random (full budget) vs random+ASHA vs Optuna alone (TPE + Hyperband, "
        "2 processes on a journal storage) on the HAN; anytime curves; also writes "
        "parallel.md (DESIGN: <= 1/3 of random's epochs; >= 90% busy)",
        writes=("search", "parallel"),
    )
)
register(
    Benchmark(
        "hartmann",
        "bench.hartmann",
        "the same searchers and schedulers on BoTorch's augmented Hartmann 6-D "
        "(multi-fidelity, known optimum), hundreds of trials: simple regret vs budget",
        writes=("hartmann",),
    )
)
register(
    Benchmark(
        "bookkeeping",
        "bench.bookkeeping",
        "per-trial driver overhead for hundreds of trivial trials, beside Ray's release-test "
        "figure (10,000 1-s trials in < 800 s on 16 CPUs)",
        writes=("bookkeeping",),
    )
)
register(
    Benchmark(
        "han_table",
        "bench.han_table",
        "the HAN learning-curve table (a discrete HAN space, every epoch's val and test loss "
        "and time, 2 seeds), its rung reliability and seed noise; built once (about 2 h of one "
        "core), then only re-rendered while the grid is unchanged",
        writes=("han_table",),
    )
)
register(
    Benchmark(
        "fair_splits",
        "bench.fair_splits",
        "the synthetic default's regime coverage per split and val-vs-test agreement of fixed "
        "configurations, per generator version",
        writes=("fair_splits",),
        quick_args=("--epochs", "2"),
    )
)
register(
    Benchmark(
        "scaling",
        "bench.scaling",
        "search quality against trials at once (k = 1, 4, 16, 64) on the simulator, on "
        "Hartmann, LCBench and the HAN table: the default against random+ASHA, TPE without "
        "early stopping, Optuna alone and W&B Sweeps; its speed-up, its decision time to "
        "2,000 trials, the simulator against real Ray runs",
        writes=("scaling",),
    )
)
register(
    Benchmark(
        "scaling_anatomy",
        "bench.scaling.anatomy",
        "where the default's time to the HAN table's speed-up target goes: its reach runs "
        "in scaling.json run again and split at the trial that reached the target (when it "
        "started, its epochs, its pauses), and the speed-up no search could beat there",
        writes=("scaling_anatomy",),
        quick_args=(),  # it reads the reach runs scaling wrote, quick or not
    )
)
register(
    Benchmark(
        "scaling_confirm",
        "bench.scaling.confirm",
        "a candidate that beat the default in scaling.md (seeds 0-9), run again with the "
        "default on fresh seeds (10-19): the claim, stated before, is judged by a sign test",
        writes=("scaling_confirm",),
        full_args=("--method", "brackets3_final_scale_running"),
        quick_args=("--method", "brackets3_final_scale_running", "--seeds", "2"),
    )
)
register(
    Benchmark(
        "finalist_margins",
        "bench.finalist_margins",
        "the pick's margin over the runner-up on the committed examples' finalists, against "
        "the seed noise by their means and paired seed by seed (seconds; nothing trains)",
        writes=("finalist_margins",),
        quick_args=(),  # as fast either way
    )
)
register(
    Benchmark(
        "val_schemes",
        "bench.val_schemes",
        "validation schemes (one split, rolling origins, blocked folds over time) on "
        "loss_ablation and war_losses: how well the validation value ranks configurations "
        "by their test value, and the CPU cost (issue 15)",
        writes=("val_schemes", "val_schemes_war_losses"),
    )
)
register(
    Benchmark(
        "parquet_exit",
        "bench.parquet_exit",
        "how often a process that read parquet aborts at exit (exit 134), pandas opening the "
        "file against raysearch's read_parquet (pyarrow opens it), hundreds of processes",
        writes=("parquet_exit",),
    )
)
