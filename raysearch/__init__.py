"""raysearch: hyperparameter search for the Multi-Resolution HAN (Ray Tune, Optuna, ASHA).

The Python API, for a notebook or a script::

    import raysearch
    summary = raysearch.run_search(space="smoke", smoke=True)   # a whole search
    run = raysearch.load_run(summary["run_dir"])                 # its tables, read back
    study = raysearch.open_study(summary["run_dir"])             # its Optuna study
    raysearch.compare_runs([run, other_run], "results/compare/ab")  # raysearch compare
    curves = raysearch.record_curves("loss_ablation", points=3)  # for raysearch simulate
    sim = raysearch.simulate_search(curves.space, table=curves.table, workers=[1, 16])

``run_search(space=..., **fields)`` takes a keyword for each field of
``raysearch.RunOptions`` (its help says what each is: ``num_samples``, ``max_epochs``,
``data``, ``results``, ``name``, ``seed``, ``warm_start``, ...) but ``argv``, which
records the command line and only the command line sets; or ``options=`` whole. It
returns the summary it wrote to ``results/<space>/<run>/``; each call not given a
``name`` gets a run directory of its own. ``load_run(run_dir)`` returns a ``RunData``
(trials and epochs as pandas DataFrames, the metadata), and ``open_study(run_dir)`` its
``optuna.Study``. ``compare_runs(run_dirs, out_dir)`` is
``raysearch compare``: report.md and its figures for the runs, in ``out_dir``.
``record_curves(space, ...)`` is ``raysearch curves``: it records the learning curves of a
space's grid and returns where the table and the space file to simulate on are.
``simulate_search(space, table=...)`` is ``raysearch simulate``: the space's search with k
trials at once on those curves, on a simulated clock, with no cluster; ``.frame()`` is its
table, one row per k.
``run_search(..., wandb=WandbOptions(project=..., group=...))`` sets W&B's project and
group (``wandb=False``: off). The
errors raised on purpose are here too: ``raysearch.ConfigError`` and ``DataError`` (bad
input, each problem listed, before Ray starts), ``SearchInterrupted``, ``SearchFailed``,
``ResultsNotWritten``; ``RaysearchError`` is their base. The command line is
``raysearch <command>``.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import TYPE_CHECKING

# The errors run_search raises on purpose, to catch by name (light: no third-party import)
from raysearch.core.errors import (
    ConfigError,
    DataError,
    RaysearchError,
    ResultsNotWritten,
    SearchFailed,
    SearchInterrupted,
)
from raysearch.core.lazy import lazy_names

if TYPE_CHECKING:
    from raysearch.api import run_search
    from raysearch.results.comparison import compare_runs
    from raysearch.results.runs import load_run
    from raysearch.search.options import RunOptions
    from raysearch.search.simulation.record import record_curves
    from raysearch.search.simulation.scaling import simulate_search
    from raysearch.search.study import open_study
    from raysearch.search.tracking import WandbOptions

__all__ = [
    "ConfigError",
    "DataError",
    "RaysearchError",
    "ResultsNotWritten",
    "RunOptions",
    "SearchFailed",
    "SearchInterrupted",
    "WandbOptions",
    "__version__",
    "compare_runs",
    "load_run",
    "open_study",
    "record_curves",
    "run_search",
    "simulate_search",
]

try:
    __version__ = version("raysearch")
except PackageNotFoundError:  # imported from a checkout that was never installed
    __version__ = "0+unknown"

# Deferred (PEP 562): the API's functions (``_LAZY``) are imported on
# first use, because importing the search stack (torch, Ray, pandas) takes seconds;
# ``import raysearch`` stays light, so a command line reports a bad flag at once and
# ``raysearch.__version__`` is free.
_LAZY = {
    "run_search": "raysearch.api",
    "load_run": "raysearch.results.runs",
    "compare_runs": "raysearch.results.comparison",
    "open_study": "raysearch.search.study",
    "record_curves": "raysearch.search.simulation.record",
    "simulate_search": "raysearch.search.simulation.scaling",
    "RunOptions": "raysearch.search.options",
    "WandbOptions": "raysearch.search.tracking",
}


__getattr__, __dir__ = lazy_names(__name__, _LAZY)
