"""Every command answers a bad flag or value with one clear message and exit status 2,
never a traceback (``python -m raysearch <command>``, what the console script runs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CASES = {
    "unknown command": (["nosuch"], "unknown command 'nosuch'"),
    "run: bad flag": (["run", "--space", "smoke", "--num-sample", "3"], "--num-sample"),
    "run: bad value": (["run", "--space", "smoke", "--max-epochs", "0"], "got 0"),
    "run: unknown space": (["run", "--space", "nosuch", "--results", "{tmp}"], "nosuch"),
    "spaces: unknown space": (["spaces", "show", "nosuch"], "nosuch"),
    "spaces: bad flag": (["spaces", "list", "--all"], "--all"),
    "compare: not a run": (["compare", "{tmp}/nosuch", "--out", "{tmp}/out"], "nosuch"),
    "data: missing dataset": (["data", "describe", "{tmp}/nosuch"], "nosuch"),
    "data: bad value": (["data", "synth", "{tmp}/out", "--preset", "huge"], "'huge'"),
    "train: bad value": (["train", "--max-epochs", "0", "--dropout", "1.5"], "1.5"),
    "train: bad flag": (["train", "--epochs", "3"], "--epochs"),
    "train: missing sweep file": (["train", "--from-wandb", "{tmp}/none.json"], "none.json"),
    "model: bad value": (["model", "summary", "--d-model", "30", "--nhead", "4"], "30"),
    "model: bad flag": (["model", "summary", "--width", "3"], "--width"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_exits_2_with_one_message(case: str, tmp_path: Path) -> None:
    argv, expected = CASES[case]
    argv = [a.replace("{tmp}", str(tmp_path)) for a in argv]
    proc = subprocess.run(
        [sys.executable, "-m", "raysearch", *argv],
        cwd=tmp_path, capture_output=True, text=True, timeout=180, check=False,
    )  # fmt: skip
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    assert expected in proc.stderr, proc.stderr
    assert "error" in proc.stderr.lower()
