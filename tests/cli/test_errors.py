"""Every command answers a bad flag or value with one clear message and exit status 2,
never a traceback (``python -m raysearch <command>``, what the console script runs)."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

CASES = {
    "unknown command": (["nosuch"], "unknown command 'nosuch'"),
    "run: bad flag": (["run", "--space", "smoke", "--num-sample", "3"], "--num-sample"),
    "run: bad value": (["run", "--space", "smoke", "--max-epochs", "0"], "got 0"),
    "run: bad duration": (["run", "--space", "smoke", "--time-budget", "8 hours"], "'8 hours'"),
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


def test_only_rays_sigterm_race_is_dropped_from_a_logs_tracebacks() -> None:
    """When Ray stops a trial's process (at Ctrl+C, or once its trial ends or is cut), Ray's
    SIGTERM handler can raise SystemExit while Python runs a callback; Python prints that
    block, which the driver forwards. It is dropped; any other traceback, from a worker or
    the driver, stays."""
    from raysearch.testing.cli import without_ray_sigterm_noise

    def worker(pid: int, text: str) -> str:
        return f"\x1b[36m(run_trial pid={pid})\x1b[0m {text}"

    race = [
        worker(7, "Exception ignored in: <function WeakSet.__init__.<locals>._remove>"),
        worker(7, "Traceback (most recent call last):"),
        worker(7, '  File "python3.11/_weakrefset.py", line 39, in _remove'),
        worker(7, "    def _remove(item, selfref=ref(self)):"),
        worker(7, ""),  # Python's blank line, forwarded with the worker's prefix
        worker(7, '  File "ray/_private/worker.py", line 1060, in sigterm_handler'),
        worker(7, "SystemExit: 1"),
    ]
    crash = [
        worker(8, "Exception ignored in: <function f>"),
        worker(8, "Traceback (most recent call last):"),
        worker(8, "ValueError: boom"),
        worker(9, "Exception ignored in: <function g>"),  # an exit that is not Ray's handler
        worker(9, "Traceback (most recent call last):"),
        worker(9, '  File "trainable.py", line 3, in on_exit'),
        worker(9, "SystemExit: 1"),
    ]
    log = "\n".join(["search started", *race, *crash, "interrupted: --resume x"])
    cleaned = without_ray_sigterm_noise(log)
    assert cleaned.splitlines() == ["search started", *crash, "interrupted: --resume x"]
    assert without_ray_sigterm_noise("\n".join(race)) == ""
    driver = "Traceback (most recent call last):\nKeyError: 'x'"
    assert without_ray_sigterm_noise(driver) == driver


@pytest.mark.parametrize(
    ("module", "argv", "prog", "flags"),
    [
        ("data", ["synth", "OUT", "--bogus"], "raysearch data synth",
         "--days, --format, --help, --overwrite, --preset, --raions, --seed"),
        ("spaces", ["show", "smoke", "--bogus"], "raysearch spaces show", "--help"),
        ("model", ["summary", "--bogus"], "raysearch model summary", "--d-model"),
        # before the sub-command, a sub-command's flag is not the parent's: the parent says
        # so (it was said unknown to synth and listed among synth's valid flags)
        ("data", ["--bogus", "synth", "OUT"], "raysearch data", "--help"),
    ],
)  # fmt: skip
def test_an_unknown_flag_is_said_by_the_parser_it_was_given_to_with_its_flags(
    module: str, argv: list[str], prog: str, flags: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """argparse hands flags a sub-command does not know back to its parent, which listed its
    own (`valid flags: --help`) where the README promises the valid ones (found by a README
    audit helper)."""
    import importlib

    main = importlib.import_module(f"raysearch.cli.{module}").main
    with pytest.raises(SystemExit) as exited:
        main(argv)
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert f"{prog}: error: unrecognized arguments: --bogus\n" in err, err
    assert f"valid flags: {flags}" in err, err


@pytest.mark.parametrize(
    ("module", "argv", "said"),
    [
        ("train", ["--max-epoch", "3"],
         "raysearch train: error: unrecognized arguments: --max-epoch 3 (--max-epoch: did "
         "you mean '--max-epochs'?)\n"),
        # a required flag missing: argparse said only that, never the misspelt one given
        ("curves", ["--spce", "smoke"],
         "raysearch curves: error: the following arguments are required: --space; "
         "unrecognized arguments: --spce smoke (--spce: did you mean '--space'?)\n"),
        ("data", ["synth", "--seed", "1", "--preset=tiny", "--ovewrite"],
         "raysearch data synth: error: the following arguments are required: OUT_DIR; "
         "unrecognized arguments: --ovewrite (--ovewrite: did you mean '--overwrite'?)\n"),
        # a required group missing (argparse's 'one of the arguments ... is required')
        ("simulate", ["--tabel", "x.parquet", "--space", "smoke"],
         "raysearch simulate: error: one of the arguments --table --curves is required; "
         "unrecognized arguments: --tabel x.parquet (--tabel: did you mean '--table'?)\n"),
        # a flag the command knows, unknown after '--', is no misspelling of itself
        ("train", ["--", "--seed", "1"],
         "raysearch train: error: unrecognized arguments: -- --seed 1\n"),
    ],
)  # fmt: skip
def test_a_misspelt_flag_is_named_with_the_flag_it_likely_means(
    module: str, argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    import importlib

    with pytest.raises(SystemExit) as exited:
        importlib.import_module(f"raysearch.cli.{module}").main(argv)
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert said in err, err
    assert err.count("error:") == 1, err


@pytest.mark.parametrize("command", ["data", "spaces", "model"])
def test_a_command_without_its_sub_command_lists_them(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`raysearch data` alone said "the following arguments are required: command" and
    "valid flags: --help", not which commands there are."""
    import importlib

    module = importlib.import_module(f"raysearch.cli.{command}")
    with pytest.raises(SystemExit) as exited:
        module.main([])
    err = capsys.readouterr().err
    assert exited.value.code == 2
    assert f"raysearch {command}: error: give a command:\n" in err, err
    listed = err.split("give a command:\n", 1)[1].splitlines()
    subparsers = next(
        a for a in module._parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    names = [a.dest for a in subparsers._choices_actions]
    assert [line.split()[0] for line in listed] == names, err
    assert "valid flags" not in err


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["spaces", "--format=wandb", "export", "smoke"],
         "raysearch spaces: error: --format came before the command 'export': a command's "
         "flags go after its name, as in: raysearch spaces export --format=wandb smoke\n"),
        (["data", "--overwrite", "synth", "OUT"],
         "raysearch data: error: --overwrite came before the command 'synth': a command's "
         "flags go after its name, as in: raysearch data synth --overwrite OUT\n"),
        # argparse took the value for the command: "invalid choice: '3'"
        (["data", "--dayly-window", "3", "describe", "DIR"],
         "raysearch data: error: --dayly-window (did you mean '--daily-window'?) came before "
         "the command 'describe': a command's flags go after its name, as in: raysearch data "
         "describe --dayly-window 3 DIR\n"),
        (["model", "--size", "tiny", "summary"],
         "raysearch model: error: --size came before the command 'summary': a command's "
         "flags go after its name, as in: raysearch model summary --size tiny\n"),
        # before the command raysearch itself runs: it said "unknown command '--space'"
        (["--space", "smoke", "run", "--smoke"],
         "raysearch: error: --space smoke came before the command 'run': a command's flags go "
         "after its name, as in: raysearch run --space smoke --smoke\n"),
    ],
)  # fmt: skip
def test_a_command_s_flag_given_before_its_name_is_said_so_with_the_command_as_it_goes(
    argv: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """`raysearch spaces --format=wandb export smoke` said '--format is required', with the
    flag given; `raysearch data --dayly-window 3 describe DIR`, "invalid choice: '3'"."""
    from raysearch.cli import _main

    try:
        status = _main(argv)  # raysearch's own problems are returned, a command's exit
    except SystemExit as exited:
        status = exited.code
    assert status == 2
    err = capsys.readouterr().err
    assert said in err, err
    assert err.count("error:") == 1, err
