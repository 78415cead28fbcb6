"""The package's Python API: ``raysearch.run_search``, ``raysearch.load_run`` (imported on
first use) and ``raysearch.__version__``; ``import raysearch`` loads none of the heavy
libraries."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

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


def test_the_api_is_exported() -> None:
    from raysearch.api import run_search
    from raysearch.results.runs import load_run
    from raysearch.search.simulation.record import record_curves
    from raysearch.search.study import open_study
    from raysearch.search.tracking import WandbOptions

    assert raysearch.run_search is run_search and raysearch.load_run is load_run
    assert raysearch.record_curves is record_curves and raysearch.open_study is open_study
    assert raysearch.WandbOptions is WandbOptions  # run_search's wandb= (project, group)
    names = {"run_search", "load_run", "open_study", "record_curves", "WandbOptions",
             "__version__"}  # fmt: skip
    errors = {"ConfigError", "DataError", "RaysearchError", "SearchInterrupted", "SearchFailed",
              "ResultsNotWritten"}  # fmt: skip
    assert names | errors <= set(dir(raysearch))
    assert set(raysearch.__all__) == names | errors
    assert raysearch.run_search.__doc__ and raysearch.load_run.__doc__
    assert raysearch.record_curves.__doc__ and raysearch.open_study.__doc__


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
