"""The package's Python API: ``raysearch.run_search``, ``raysearch.load_run`` (imported on
first use) and ``raysearch.__version__``; ``import raysearch`` loads none of the heavy
libraries."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from types import ModuleType

import pytest

import raysearch

HEAVY = ("torch", "ray", "pandas", "optuna", "wandb", "numpy")


def test_import_raysearch_is_light() -> None:
    code = (
        "import sys, raysearch; raysearch.__version__; "
        f"print(','.join(sorted({{n.split('.')[0] for n in sys.modules}} & set({HEAVY!r}))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


# What the API's names may not import before they are called: the search stack
SEARCH_STACK = ("torch", "ray", "optuna")


def _search_stack_after(code: str) -> str:
    """Which of SEARCH_STACK are imported after ``code`` runs, in a fresh interpreter."""
    full = f"{code}\nimport sys\nprint(sorted(m for m in {SEARCH_STACK!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", full], capture_output=True, text=True, check=True)
    return out.stdout.strip().splitlines()[-1]


def test_a_star_import_loads_none_of_the_search_stack() -> None:
    """`from raysearch import *` resolves record_curves, whose package's __init__ imported
    the simulator (Ray Tune, Optuna) with it: 1.5 s."""
    assert _search_stack_after("from raysearch import *") == "[]"


def test_a_trial_worker_loads_neither_scikit_learn_nor_scipy() -> None:
    """What a trial's Ray Train workers import to train reads the prepared cache and fits
    nothing: the PCA (scikit-learn) and the reference fit (SciPy) load only when a cache is
    built. Both cost 1.2 s of CPU in each worker process of each trial."""
    code = (
        "import sys, raysearch.search.trainable, raysearch.train.ray_train, "
        "raysearch.train.loop\n"
        "print(sorted({n.split('.')[0] for n in sys.modules} & {'sklearn', 'scipy'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_record_curves_names_a_bad_argument_before_the_search_stack_loads() -> None:
    code = (
        "import raysearch\n"
        "try:\n"
        "    raysearch.record_curves(space=3)\n"
        "except raysearch.ConfigError as err:\n"
        "    print(err.problems)\n"
    )
    assert _search_stack_after(code) == "[]"
    # the simulator's names are still the package's, loaded on first use
    code = "from raysearch.search.simulation import SimSettings, run_search, simulate"
    assert _search_stack_after(code) == "['optuna', 'ray']"


def test_the_api_is_exported() -> None:
    from raysearch.api import run_search
    from raysearch.results.comparison import compare_runs
    from raysearch.results.runs import load_run
    from raysearch.search.options import RunOptions
    from raysearch.search.simulation.record import record_curves
    from raysearch.search.simulation.scaling import simulate_search
    from raysearch.search.study import open_study
    from raysearch.search.tracking import WandbOptions

    assert raysearch.run_search is run_search and raysearch.load_run is load_run
    assert raysearch.record_curves is record_curves and raysearch.open_study is open_study
    assert raysearch.simulate_search is simulate_search  # raysearch simulate
    assert raysearch.compare_runs is compare_runs  # raysearch compare
    assert raysearch.WandbOptions is WandbOptions  # run_search's wandb= (project, group)
    assert raysearch.RunOptions is RunOptions  # run_search's keywords, or its options=
    names = {"run_search", "load_run", "open_study", "record_curves", "simulate_search",
             "compare_runs", "WandbOptions", "RunOptions", "__version__"}  # fmt: skip
    errors = {"ConfigError", "DataError", "RaysearchError", "SearchInterrupted", "SearchFailed",
              "ResultsNotWritten"}  # fmt: skip
    assert names | errors <= set(dir(raysearch))
    assert set(raysearch.__all__) == names | errors
    assert raysearch.run_search.__doc__ and raysearch.load_run.__doc__
    assert raysearch.record_curves.__doc__ and raysearch.open_study.__doc__
    assert raysearch.simulate_search.__doc__ and raysearch.compare_runs.__doc__


def test_dir_offers_the_api_not_the_names_imported_to_build_it() -> None:
    """dir(raysearch) offered Any, TYPE_CHECKING, PackageNotFoundError, annotations and
    version (importlib.metadata's function, easily taken for __version__)."""
    import raysearch.search.simulation as simulation

    for package in (raysearch, simulation):
        public = {n for n in dir(package) if not n.startswith("_")}
        modules = {n for n in public if isinstance(getattr(package, n), ModuleType)}
        assert public - modules == set(package.__all__) - {"__version__"}, package.__name__
        assert all(
            m.startswith(f"{package.__name__}.")
            for m in (getattr(package, n).__name__ for n in modules)
        )
    assert "__version__" in dir(raysearch) and "version" not in dir(raysearch)


def test_version_is_the_installed_distributions() -> None:
    assert raysearch.__version__ == version("raysearch")


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'runsearch'"):
        raysearch.runsearch  # noqa: B018


def test_the_command_line_prints_the_installed_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "raysearch", "--version"], capture_output=True, text=True, check=True
    )
    assert out.stdout == f"raysearch {version('raysearch')}\n"


def test_a_subprocess_of_the_tests_imports_this_checkout(tmp_path: Path) -> None:
    """`python -m raysearch ...` run by a test from a temporary directory tests this
    checkout, not the copy the virtualenv installed (another clone's, when clones share a
    virtualenv): tests/conftest.py puts the checkout first on PYTHONPATH."""
    code = "import raysearch; print(raysearch.__file__)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=tmp_path
    )
    checkout = Path(__file__).resolve().parents[1]
    assert Path(out.stdout.strip()).resolve().is_relative_to(checkout), out.stdout


def test_the_api_says_every_keyword_and_every_key_of_the_summary(tmp_path) -> None:
    """help(raysearch.run_search) said "any field of RunOptions", which was not exported
    and described none of them, and named no key of the summary it returns."""
    import dataclasses
    import json

    from raysearch.testing.results import write_fake_run

    fields = {f.name for f in dataclasses.fields(raysearch.RunOptions)}
    undescribed = [f for f in fields if f"``{f}``:" not in (raysearch.RunOptions.__doc__ or "")]
    assert undescribed == [], undescribed
    summary = json.loads((write_fake_run(tmp_path / "run") / "summary.json").read_text())
    keys = {*summary, "timing"}  # timing: the returned summary's, written to timing.json
    assert {"state", "best", "files", "pick"} <= keys
    doc = raysearch.run_search.__doc__ or ""
    assert [k for k in sorted(keys) if f"``{k}``" not in doc] == []
