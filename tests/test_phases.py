"""The integration phase's collection (raysearch/testing/phases.py): with ``-m
integration`` alone, a test file that does not name the mark is not imported, and a test
marked integration in a file that does not name the mark so is a collection error, in one
process and on pytest-xdist's. Run on throwaway test files."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

MARKED = """
import pytest

pytestmark = pytest.mark.integration


def test_on_ray():
    assert True
"""
# imported, it fails the session: the integration phase must not import it
UNMARKED = """
raise RuntimeError("imported by the integration phase")


def test_unit():
    assert True
"""
# marked integration, but not as pytest.mark.integration
ALIASED = """
from pytest import mark


@mark.integration
def test_hidden():
    assert True


def test_unit():
    assert True
"""


def _pytest(tmp_path: Path, files: dict[str, str], *flags: str) -> subprocess.CompletedProcess:
    for name, source in files.items():
        (tmp_path / name).write_text(source)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "raysearch.testing.phases", "-q",
         "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestUnknownMarkWarning", *flags,
         str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def test_the_integration_phase_imports_only_the_files_that_name_the_mark(
    tmp_path: Path,
) -> None:
    proc = _pytest(tmp_path, {"test_ray.py": MARKED, "test_unit.py": UNMARKED},
                   "-m", "integration")  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "1 passed" in proc.stdout and "imported by" not in proc.stdout


@pytest.mark.parametrize("processes", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_a_test_marked_integration_in_a_file_not_naming_the_mark_fails_the_first_phase(
    tmp_path: Path, processes: list[str]
) -> None:
    """The second phase would not have collected it: the first refuses it."""
    proc = _pytest(tmp_path, {"test_alias.py": ALIASED}, "-m", "not integration", *processes)
    assert proc.returncode not in (0, 5), proc.stdout
    assert "ERROR collecting test_alias.py" in proc.stdout
    assert "test_hidden marked integration, but test_alias.py does not name" in proc.stdout
