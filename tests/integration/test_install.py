"""raysearch as a stranger installs it: ``pip install .`` (not editable) into a fresh venv
outside the checkout, then a search from a directory outside the checkout, by the console
command (starting its own Ray) and by the Python API (joining one), with the search spaces
found inside the installed package.

The checkout's files (tracked, or new and not ignored: what a clone holds) are copied to a
scratch directory and installed from there with ``pip install .``, so a stale ``build/`` in
the checkout cannot supply files a clean build lacks, and the test writes nothing into it.
Affordable on 2 cores: the fresh venv sees the test run's own environment for the
dependencies (a .pth line, so pip finds torch, Ray, ... already there and installs only
raysearch); raysearch itself is built and installed into the fresh venv.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.integration, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def _run(args: list[str], cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(WANDB_MODE="offline", RAY_AIR_NEW_OUTPUT="0")
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv (outside the checkout) with raysearch installed by ``pip install .``."""
    root = tmp_path_factory.mktemp("install")
    venv, source = root / "venv", root / "raysearch"
    assert not root.is_relative_to(REPO)
    files = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True, text=True, check=True, timeout=60,
    ).stdout.split("\0")  # fmt: skip
    for name in filter(None, files):
        if (REPO / name).is_file():  # a tracked file deleted in the work tree is skipped
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, source / name)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    purelib = "import sysconfig; print(sysconfig.get_path('purelib'))"
    site = Path(_run([str(venv / "bin" / "python"), "-c", purelib], cwd=venv).stdout.strip())
    # the dependencies: this test run's environment, appended to the fresh venv's path
    (site / "_raysearch_test_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    started = time.perf_counter()
    proc = _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "."],
                cwd=source)  # fmt: skip
    print(f"pip install . took {time.perf_counter() - started:.0f} s")
    assert proc.returncode == 0, proc.stderr[-3000:]
    return venv


def test_the_installed_package_is_not_the_checkout(installed: Path, tmp_path: Path) -> None:
    code = (
        "import raysearch, raysearch.search.space as s; "
        "print(raysearch.__file__); print(s.SPACES_DIR); print(raysearch.__version__)"
    )
    proc = _run([str(installed / "bin" / "python"), "-c", code], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    module, spaces, version = proc.stdout.split()
    assert Path(module).is_relative_to(installed) and not Path(module).is_relative_to(REPO)
    assert not Path(module).is_relative_to(installed.parent / "raysearch")  # not the copy
    assert Path(spaces).is_relative_to(installed)  # package data, from the installed copy
    assert {p.stem for p in Path(spaces).glob("*.yaml")} >= {"smoke", "loss_ablation"}
    assert version == "0.2.0"
    listed = _run([str(installed / "bin" / "raysearch"), "spaces", "list"], cwd=tmp_path)
    assert listed.returncode == 0 and "smoke" in listed.stdout, listed.stderr


def test_a_search_from_outside_the_checkout(installed: Path, tmp_path: Path) -> None:
    proc = _run([str(installed / "bin" / "raysearch"), "run", "--space", "smoke", "--smoke"],
                cwd=tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    (run_dir,) = (tmp_path / "results" / "smoke").iterdir()
    assert (run_dir / "trials.parquet").is_file() and (run_dir / "optuna.journal").is_file()


def test_the_python_api_from_outside_the_checkout(
    installed: Path, tmp_path: Path, ray_address: str
) -> None:
    """Joining a running Ray, as a notebook on a cluster would (the search above started
    its own)."""
    code = (
        f"import raysearch; s = raysearch.run_search(space='smoke', smoke=True, "
        f"address={ray_address!r}); print(len(raysearch.load_run(s['run_dir']).trials))"
    )
    proc = _run([str(installed / "bin" / "python"), "-c", code], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().splitlines()[-1] == "4"
    assert len(list((tmp_path / "results" / "smoke").iterdir())) == 1
