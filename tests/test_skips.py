"""--only-gpu-skips (raysearch/testing/skips.py): a skip whose reason does not mention the
GPU fails the session; a "no GPU" skip does not. Run on a throwaway test file."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from raysearch.testing.skips import allowed_skip

TESTS = """
import pytest

def test_runs():
    assert True

@pytest.mark.skipif(True, reason="needs a CUDA device")
def test_gpu():
    pass

@pytest.mark.xfail(reason="a known bug", strict=True)
def test_known_bug():
    assert False
"""
FAKE_SKIP = """

def test_data():
    pytest.skip("shared data directory not found")
"""


def _pytest(tmp_path: Path, source: str, *flags: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_example.py").write_text(source)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "raysearch.testing.skips", "-rs", "-q",
         "-p", "no:cacheprovider", *flags, str(tmp_path / "test_example.py")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


@pytest.mark.parametrize("processes", [[], ["-n", "2"]], ids=["one process", "xdist"])
def test_a_skip_that_is_not_no_gpu_fails_the_session(tmp_path: Path, processes: list[str]) -> None:
    """Also when the tests run on pytest-xdist's processes, as `make test` runs most."""
    proc = _pytest(tmp_path, TESTS + FAKE_SKIP, "--only-gpu-skips", *processes)
    assert proc.returncode == 1, proc.stdout
    assert "test_data: Skipped: shared data directory not found" in proc.stdout
    assert "test_gpu" not in proc.stdout.split("skipped for a reason other than no GPU")[1]
    assert "1 test(s) skipped for a reason that does not mention the GPU" in proc.stdout
    assert "SKIPPED [1]" in proc.stdout  # -rs prints the reasons


def test_only_gpu_skips_pass(tmp_path: Path) -> None:
    proc = _pytest(tmp_path, TESTS, "--only-gpu-skips")
    assert proc.returncode == 0, proc.stdout
    assert "needs a CUDA device" in proc.stdout and "1 skipped" in proc.stdout


def test_without_the_flag_a_skip_is_only_reported(tmp_path: Path) -> None:
    proc = _pytest(tmp_path, TESTS + FAKE_SKIP)
    assert proc.returncode == 0, proc.stdout
    assert "shared data directory not found" in proc.stdout


@pytest.mark.parametrize(
    ("reason", "allowed"),
    [("needs a CUDA device", True), ("no GPU here", True), ("gpu test", True),
     ("file not found", False), ("cudagraphs off", False), ("", False)],
)  # fmt: skip
def test_allowed_reasons(reason: str, allowed: bool) -> None:
    assert allowed_skip(reason) is allowed


def test_the_make_test_target_uses_the_check() -> None:
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    test_target = makefile.split("\ntest: ")[1].split("\n\n")[0]
    runs = [line for line in test_target.splitlines() if "$(PYTEST)" in line]
    assert len(runs) == 2  # the tests that start no Ray, then the integration tests
    for line in runs:
        assert "--only-gpu-skips" in line and "-rs" in line, line
