"""The Makefile's set-up on machines other than this one, read from ``make -n venv``: a CPU
machine whose sources are only PyPI and PyTorch's CPU index gets the +cpu wheel from that
index, with bounded network waits; a GPU node gets the CUDA build from PyPI."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CPU_INDEX = "https://download.pytorch.org/whl/cpu"


def _dry_run(tmp_path: Path, *args: str, gpu: bool = False) -> list[str]:
    env = dict(os.environ)
    path = env["PATH"].split(os.pathsep)
    path = [p for p in path if not (Path(p) / "nvidia-smi").exists()]
    if gpu:  # a stand-in nvidia-smi: the Makefile only asks whether one exists
        (tmp_path / "bin").mkdir()
        (tmp_path / "bin" / "nvidia-smi").write_text("#!/bin/sh\n")
        (tmp_path / "bin" / "nvidia-smi").chmod(0o755)
        path.insert(0, str(tmp_path / "bin"))
    env["PATH"] = os.pathsep.join(path)
    proc = subprocess.run(
        ["make", "-n", "venv", f"VENV={tmp_path / 'venv'}", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return [line for line in proc.stdout.splitlines() if "pip install" in line]


def _torch_line(lines: list[str]) -> str:
    (line,) = [line for line in lines if '"torch==' in line]
    return line


def test_cpu_install_falls_back_to_pytorchs_cpu_index_with_bounded_waits(tmp_path) -> None:
    lines = _dry_run(tmp_path)
    torch = _torch_line(lines)
    local, _, fallback = torch.partition("||")
    assert '"torch==2.13.0+cpu"' in local and "--extra-index-url" not in local
    assert f"--extra-index-url {CPU_INDEX}" in fallback and '"torch==2.13.0+cpu"' in fallback
    for line in lines:  # every install bounds its network waits
        assert "--timeout 15" in line and "--retries 1" in line, line
    assert all("-c constraints.txt" in line for line in lines if " -r " in line or "torch" in line)


def test_gpu_node_gets_the_cuda_build_from_pypi(tmp_path) -> None:
    torch = _torch_line(_dry_run(tmp_path, gpu=True))
    assert '"torch==2.13.0"' in torch and "--extra-index-url" not in torch and "||" not in torch


def test_the_index_can_be_left_out(tmp_path) -> None:
    torch = _torch_line(_dry_run(tmp_path, "TORCH_INDEX="))
    assert '"torch==2.13.0+cpu"' in torch and "--extra-index-url" not in torch


@pytest.mark.parametrize(
    ("first", "second", "ok", "ran"),
    [(0, 0, True, ["unit", "integration"]), (5, 0, True, ["unit", "integration"]),
     (0, 5, True, ["unit", "integration"]), (1, 0, False, ["unit"]),
     (0, 1, False, ["unit", "integration"]), (5, 5, False, ["unit", "integration"])],
)  # fmt: skip
def test_make_test_runs_both_phases_and_fails_when_either_fails_or_neither_has_a_test(
    tmp_path: Path, first: int, second: int, ok: bool, ran: list[str]
) -> None:
    """`make test`'s two pytest runs (the tests that start no Ray, then the integration
    tests), here a stand-in python that exits with the given status: 5 is pytest's "no
    test selected", which one phase may be (ARGS naming only unit tests) but not both."""
    fake = tmp_path / "python"
    fake.write_text(
        "#!/bin/sh\n"
        f'case "$*" in *"not integration"*) echo unit; exit {first};; esac\n'
        f"echo integration; exit {second}\n"
    )
    fake.chmod(0o755)
    proc = subprocess.run(
        ["make", "-s", "-o", "venv", "test", f"PY={fake}"],
        cwd=REPO, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (proc.returncode == 0) is ok, proc.stdout + proc.stderr
    assert proc.stdout.split() == ran
    assert ("no test selected" in proc.stderr) is (first == second == 5)
