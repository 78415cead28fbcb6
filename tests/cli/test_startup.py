"""--help, a bad flag and a bad value answer before torch, Ray, matplotlib, Optuna,
scikit-learn and SciPy are imported (together they take seconds): a user's typo is
reported at once, by every command."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

HEAVY = ("torch", "ray", "matplotlib", "optuna", "sklearn", "scipy")

CASES = [
    ["run", "--help"],
    ["run", "--space", "smoke", "--max-epochs", "0"],
    ["run", "--space", "nosuch", "--results", "{tmp}"],
    ["spaces", "list", "--all"],
    ["compare", "--help"],
    ["compare", "{tmp}/nosuch", "--out", "{tmp}/out"],
    ["simulate", "--help"],
    ["data", "--help"],
    ["data", "synth", "{tmp}/out", "--preset", "huge"],
    ["data", "describe", "{tmp}/nosuch"],
    ["train", "--help"],
    ["train", "--max-epochs", "0"],
    ["model", "--help"],
    ["model", "summary", "--d-model", "30", "--nhead", "4"],
]


def test_help_and_bad_input_answer_before_the_heavy_imports(tmp_path: Path) -> None:
    """Every case in one process, in turn: a case that imported one of HEAVY is the first
    whose list is not empty (the modules stay imported for the cases after it)."""
    cases = [[a.replace("{tmp}", str(tmp_path)) for a in argv] for argv in CASES]
    code = textwrap.dedent(
        f"""
        import contextlib, io, json, sys
        from raysearch.cli import main
        for argv in {cases!r}:
            out = io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                try:
                    status = main(argv)
                except SystemExit as exit:
                    status = exit.code
            heavy = sorted({{n.split(".")[0] for n in sys.modules}} & set({HEAVY!r}))
            print(json.dumps([argv, status, heavy]))
        """
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    answers = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(answers) == len(cases)
    for argv, status, heavy in answers:
        assert status == (0 if "--help" in argv else 2), argv
        assert heavy == [], f"{' '.join(argv)} imported {heavy} before answering"


def test_importing_a_dataset_does_not_import_torch(real_data_dir: Path, tmp_path: Path) -> None:
    """The importers print each source's summary; only describing a dataset builds its
    samples, which needs torch."""
    out = tmp_path / "ukraine"
    argv = ["data", "import-war-losses", str(real_data_dir / "ukraine-losses"), str(out)]
    code = (
        f"import sys; from raysearch.cli import main; status = main({argv!r}); "
        f"print(status, sorted({{n.split('.')[0] for n in sys.modules}} & set({HEAVY!r})))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == "0 []"
    assert "equipment" in proc.stdout  # the summary was printed
