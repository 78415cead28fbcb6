"""The command line: bad input gives one clear error and starts nothing."""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

import raysearch.api
from raysearch.cli.args import duration
from raysearch.cli.run import main as run_main
from raysearch.cli.run import parse_args
from raysearch.core.errors import ConfigError
from raysearch.search.options import LEAST, RunOptions
from raysearch.search.tracking import WandbOptions
from tests.search.test_session import closed_port
from tests.test_api import NAMED, Named, prepare_named, stand_in_ray


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "raysearch.run", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_unknown_space_lists_valid_spaces_and_writes_nothing(tmp_path: Path) -> None:
    results = tmp_path / "results"
    proc = _run(["--space", "no_such_space", "--results", str(results)], tmp_path)
    assert proc.returncode == 2
    assert "no_such_space" in proc.stderr
    assert "loss_ablation" in proc.stderr and "smoke" in proc.stderr
    assert "Started a local Ray instance" not in proc.stdout + proc.stderr
    assert not results.exists()


def test_unknown_flag_is_an_error_listing_the_valid_flags(tmp_path: Path) -> None:
    proc = _run(["--space", "smoke", "--num-sample", "3"], tmp_path)
    assert proc.returncode == 2
    assert "--num-sample" in proc.stderr
    assert "valid flags:" in proc.stderr and "--num-samples" in proc.stderr


@pytest.mark.parametrize("flag", ["--num-samples", "--max-epochs", "--workers-per-trial"])
def test_counts_must_be_positive(flag: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--space", "smoke", flag, "0"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    # one line naming the flag and the value: no usage block, no list of every flag
    assert err == (
        f"raysearch run: error: argument {flag}: expected a positive integer, got 0 "
        "(raysearch run --help: every flag)\n"
    )


def test_flags_reach_the_options() -> None:
    options = parse_args(
        [
            "--space",
            "smoke",
            "--num-samples",
            "5",
            "--max-epochs",
            "2",
            "--max-concurrent",
            "1",
            "--workers-per-trial",
            "2",
            "--data",
            "d",
            "--results",
            "r",
            "--seed",
            "7",
            "--address",
            "auto",
            "--smoke",
            "--name",
            "x",
        ]
    )
    assert (options.num_samples, options.max_epochs, options.max_concurrent) == (5, 2, 1)
    assert (options.workers_per_trial, options.data, options.results) == (2, "d", "r")
    assert (options.seed, options.address, options.smoke, options.name) == (7, "auto", True, "x")


def test_searcher_and_scheduler_flags_take_only_known_values(tmp_path: Path) -> None:
    options = parse_args(["--space", "smoke", "--searcher", "random", "--scheduler", "fifo"])
    assert (options.searcher, options.scheduler) == ("random", "fifo")
    assert parse_args(["--space", "smoke"]).searcher is None  # the space decides
    proc = _run(["--space", "smoke", "--searcher", "grid"], tmp_path)
    assert proc.returncode == 2
    assert "--searcher" in proc.stderr and "'tpe'" in proc.stderr and "'random'" in proc.stderr


def test_finalists_flags_reach_the_options_and_a_bad_count_exits_2(tmp_path: Path) -> None:
    options = parse_args(["--space", "smoke", "--finalists", "3", "--replicates", "2"])
    assert (options.finalists, options.replicates) == (3, 2)
    assert parse_args(["--space", "smoke"]).finalists is None  # the space decides
    results = tmp_path / "results"
    proc = _run(["--space", "smoke", "--finalists", "2", "--replicates", "1",
                 "--results", str(results)], tmp_path)  # fmt: skip
    assert proc.returncode == 2
    assert "replicates" in proc.stderr and "Started a local Ray" not in proc.stdout + proc.stderr
    assert not results.exists()


def test_replicates_under_smoke_are_refused_saying_finalists_are_off_and_write_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--space smoke --smoke --replicates 3` ran and exited 0: --smoke turns finalists off,
    so the replicates did nothing, and nothing said so. With --finalists N they are
    searched."""
    results = tmp_path / "results"
    proc = _run(["--space", "smoke", "--smoke", "--replicates", "3", "--no-wandb",
                 "--results", str(results)], tmp_path)  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr == (
        "error: invalid arguments (1 problem(s)):\n  - --replicates 3: sets the fresh seeds "
        "each finalist is re-trained with, and this search re-trains no finalist (space "
        "'smoke' sets finalists: 0); give --finalists N with N >= 1 to re-train the N best "
        "configurations, or leave --replicates out\n"
    )
    assert not results.exists()

    def refuse(*args: object) -> None:
        raise AssertionError("the search went past validation: the data would be prepared")

    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    monkeypatch.setattr(raysearch.api, "_prepare_data", refuse)
    args = ["--space", "loss_ablation", "--smoke", "--no-wandb", "--results", str(results)]
    assert run_main([*args, "--replicates", "3"]) == 2
    assert "(--smoke turns off the space's 2 finalists)" in capsys.readouterr().err
    with pytest.raises(AssertionError, match="went past validation"):
        run_main([*args, "--finalists", "2", "--replicates", "3"])
    assert not results.exists()


def test_an_address_where_nothing_answers_exits_2_before_the_data_is_prepared(
    tmp_path: Path,
) -> None:
    results, address = tmp_path / "results", f"127.0.0.1:{closed_port()}"
    args = ["--space", "smoke", "--smoke", "--no-wandb", "--results", str(results)]
    proc = _run([*args, "--address", address], tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert f"  - --address: nothing answers at '{address}'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "ready in" not in proc.stderr  # refused before the data was prepared
    assert not list(results.glob("**/options.json"))  # no run directory was begun


@given(hours=st.integers(0, 99), minutes=st.integers(0, 59), seconds=st.integers(0, 59))
def test_a_duration_is_the_seconds_its_units_add_up_to(
    hours: int, minutes: int, seconds: int
) -> None:
    spelled = f"{hours}h{minutes}m{seconds}s"
    total = 3600 * hours + 60 * minutes + seconds
    if total == 0:
        with pytest.raises(argparse.ArgumentTypeError, match="above 0"):
            duration(spelled)
    else:
        assert duration(spelled) == total
        assert duration(str(total)) == total  # a bare number is seconds
        assert duration(f"{total / 60!r}m") == pytest.approx(total)


@pytest.mark.parametrize(
    "text", ["", "8 hours", "h", "1h30", "-5", "1e3", "nan", "inf", "30x", "10m10m", "30m1h"]
)
def test_a_duration_that_is_not_one_is_refused_quoting_it(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=re.escape(repr(text))):
        duration(text)


def test_the_time_budget_reaches_the_options_in_seconds(tmp_path: Path) -> None:
    assert parse_args(["--space", "smoke", "--time-budget", "1h30m"]).time_budget_s == 5400
    assert parse_args(["--space", "smoke"]).time_budget_s is None  # no limit
    results = tmp_path / "results"
    proc = _run(["--space", "smoke", "--time-budget", "0s", "--results", str(results)], tmp_path)
    assert proc.returncode == 2
    assert "--time-budget" in proc.stderr and "'0s'" in proc.stderr
    assert not results.exists()


def test_resume_takes_its_directory_in_either_spelling(capsys: pytest.CaptureFixture[str]) -> None:
    assert parse_args(["--resume=runs/a"]).resume == parse_args(["--resume", "runs/a"]).resume
    with pytest.raises(SystemExit):
        parse_args(["--resume=runs/a", "--seed", "3"])
    assert "--resume takes no other flags" in capsys.readouterr().err


def test_a_flag_beside_resume_is_refused_without_a_list_saying_it_is_valid(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """'--resume takes no other flags, got ['--space']' was followed by 'valid flags: ...
    --space ...', contradicting it."""
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--resume", "runs/a", "--space", "loss_ablation"])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err == (
        "raysearch run: error: --resume takes no other flags (the run's own are reused), got "
        "['--space']: they are for a new search, given without --resume\n"
    )


def test_a_resume_whose_options_json_holds_no_options_exits_2_naming_the_file(
    tmp_path: Path,
) -> None:
    """An options.json of '{}' was refused with Python's words for RunOptions' missing
    argument, not naming the file."""
    run = tmp_path / "results" / "smoke" / "r"
    run.mkdir(parents=True)
    (run / "options.json").write_text("{}")
    proc = _run(["--resume", str(run)], tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert f"  - --resume {run}: {run / 'options.json'}: missing field 'space'\n" in proc.stderr
    assert "RunOptions" not in proc.stderr and "Traceback" not in proc.stderr


def test_an_empty_run_name_is_refused_not_replaced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:  # RunOptions refuses it
        parse_args(["--space", "smoke", "--name", ""])
    assert exit_info.value.code == 2 and "one path component" in capsys.readouterr().err
    proc = _run(["--space", "smoke", "--name", "", "--results", str(tmp_path / "r")], tmp_path)
    assert proc.returncode == 2 and "one path component" in proc.stderr


@pytest.mark.parametrize("field", sorted(LEAST))
def test_a_counts_bound_is_run_search_s(field: str, capsys: pytest.CaptureFixture[str]) -> None:
    """The flags take RunOptions' bounds, which run_search's keywords are checked against."""
    flag, least = "--" + field.replace("_", "-"), LEAST[field]
    assert getattr(parse_args(["--space", "smoke", flag, str(least)]), field) == least
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--space", "smoke", flag, str(least - 1)])
    assert exit_info.value.code == 2
    assert f"argument {flag}: expected " in capsys.readouterr().err
    with pytest.raises(ConfigError, match=f"{field}: must be an int >= {least}, got {least - 1}"):
        RunOptions(space="smoke", **{field: least - 1})


@pytest.mark.parametrize(
    "flags",
    [
        ["--wandb-project", "P"],
        ["--wandb-group", "G"],
        ["--wandb-project", "P", "--wandb-group", "G"],
    ],
)
def test_wandb_project_or_group_with_no_wandb_is_refused_naming_the_flags(
    flags: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--space", "smoke", "--no-wandb", *flags])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    named = [f for f in flags if f.startswith("--")]
    verb = "say" if len(named) > 1 else "says"
    assert f"{' and '.join(named)} {verb} where W&B logs, and --no-wandb turns W&B off" in err, err


def test_wandb_project_and_group_reach_the_options_with_wandb_on() -> None:
    assert parse_args(["--space", "smoke"]).wandb == WandbOptions(True, "raysearch", None)
    options = parse_args(["--space", "smoke", "--wandb-project", "P", "--wandb-group", "G"])
    assert options.wandb == WandbOptions(True, "P", "G")
    assert parse_args(["--space", "smoke", "--no-wandb"]).wandb.enabled is False


@pytest.mark.parametrize("flag", ["--data", "--results", "--storage", "--warm-start", "--resume"])
def test_an_empty_path_is_refused_naming_the_flag_not_taken_as_the_working_directory(
    flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse_args([*(["--space", "smoke"] if flag != "--resume" else []), flag, ""])
    assert exit_info.value.code == 2
    assert f"argument {flag}: expected a path, got ''" in capsys.readouterr().err


def test_a_seed_numpy_cannot_take_is_refused_naming_the_flag_and_the_field(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """NumPy seeds ASHA's brackets and TPE with the search's seed: 2**32 failed after Ray
    started, leaving the run directory's files behind."""
    assert parse_args(["--space", "smoke", "--seed", str(2**32 - 1)]).seed == 2**32 - 1
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--space", "smoke", "--seed", str(2**32)])
    assert exit_info.value.code == 2
    assert (
        "argument --seed: expected an integer from 0 to 4294967295, got 4294967296"
        in capsys.readouterr().err
    )
    with pytest.raises(ConfigError) as err:
        RunOptions(space="smoke", seed=2**32)
    assert err.value.problems == ["seed: must be an int <= 4294967295, got 4294967296"]


def test_every_problem_of_the_flags_is_reported_at_once_before_ray(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--space nosuch --results FILE reported only the results file. Each problem names its
    flag (they named RunOptions' fields: results:, name:, storage:)."""

    def refuse(*args: object) -> None:
        raise AssertionError("the search went past validation: Ray would start now")

    monkeypatch.setattr(raysearch.api, "_search", refuse)
    (tmp_path / "f").write_text("x")
    assert run_main(["--space", "nosuch", "--results", str(tmp_path / "f")]) == 2
    err = capsys.readouterr().err
    assert "invalid run options (2 problem(s))" in err, err
    assert f"  - --results: {tmp_path / 'f'} is a file" in err
    assert "  - --space: unknown space 'nosuch'" in err
    with pytest.raises(SystemExit) as exited:  # the parser's own error
        run_main(["--space", "smoke", "--name", "a/b", "--storage", "ftp://x"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "  - --name: the run directory's name" in err, err
    assert "  - --storage: Ray Tune keeps its experiment on s3" in err


@pytest.mark.parametrize("name", ["taken", "n" * 300])
def test_a_run_name_the_file_system_cannot_take_exits_2_before_ray(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A run directory that is a file, or a name too long, was found after Ray started (17 s)
    and exited 1 asking to free space."""

    def refuse(*args: object) -> None:
        raise AssertionError("the search went past validation: Ray would start now")

    monkeypatch.setattr(raysearch.api, "_search", refuse)
    (tmp_path / "smoke").mkdir()
    (tmp_path / "smoke" / "taken").write_text("x")
    argv = ["--space", "smoke", "--smoke", "--no-wandb", "--results", str(tmp_path)]
    assert run_main([*argv, "--name", name]) == 2
    err = capsys.readouterr().err
    assert f"--name {name[:40]}" in err and "choose another --name" in err, err
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["smoke", "taken"]


@pytest.mark.parametrize("case", NAMED, ids=[c.name for c in NAMED])
def test_run_errors_name_the_flags_as_the_api_names_its_keywords(
    case: Named,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The checks run_search shares with the command line name run_search's keywords when
    Python calls it (tests/test_api.py); from the command line they name the flags, under
    'invalid arguments', as they did (a resume too, of a run started from Python)."""
    prepare_named(tmp_path, case, cli=True)
    with stand_in_ray(monkeypatch, case.nodes):
        assert run_main(case.flags(tmp_path)) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: invalid {case.context} ("), err
    first = err.splitlines()[1]
    assert first.startswith(f"  - {case.cli.format(tmp=tmp_path)}"), err
    assert "run_search" not in err and "=" not in first.split(":")[0], err


_PACKAGE = Path(raysearch.api.__file__).parent


@pytest.mark.parametrize(
    ("started", "typed"),
    [
        (None, "raysearch run"),  # the console script, or main called from Python
        (_PACKAGE / "__main__.py", "python -m raysearch run"),
        (_PACKAGE / "run.py", "python -m raysearch.run"),  # the alias, recorded as typed
        (_PACKAGE / "cli" / "run.py", "python -m raysearch.cli.run"),
    ],
)
def test_the_command_line_is_kept_as_its_user_typed_it(
    started: Path | None, typed: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RunOptions.argv (options.json; metadata.json's command repeats it) began
    'raysearch.run' however the search was started, and metadata.json said
    `python -m raysearch.run ...` for `raysearch run ...`."""
    if started is not None:
        monkeypatch.setattr(sys, "argv", [str(started), "--space", "smoke"])
    given = None if started == _PACKAGE / "run.py" else ["--space", "smoke"]
    assert parse_args(given).argv == (typed, "--space", "smoke")
