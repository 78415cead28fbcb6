"""``raysearch curves``: a grid's curves recorded by real training, then simulated on; bad
spaces and a table of another plan are refused with exit status 2 before anything trains."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from raysearch.cli.curves import main as curves
from raysearch.cli.simulate import main as simulate
from raysearch.core.errors import ConfigError
from raysearch.search.simulation.record import partial_path, record_curves
from raysearch.search.simulation.table import TableCurves, check_space
from raysearch.search.space import load_space
from raysearch.testing.curves import fake_recording
from tests.search.test_session import closed_port

GRID = """\
settings: {num_samples: 4, max_epochs: 2, grace_period: 1, reduction_factor: 2,
           n_startup_trials: 2}
fixed: {size: tiny, daily_window: 30, monthly_window: 3, anchor_stride: 8,
        raion_pca_components: 2, synth_days: 420, synth_raions: 6}
parameters:
  dropout: {type: categorical, choices: [0.0, 0.3]}
"""


def test_recorded_curves_are_simulated_on_and_not_trained_twice(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    space = tmp_path / "grid.yaml"
    space.write_text(GRID)
    out = tmp_path / "curves.parquet"
    args = ["--space", str(space), "--seeds", "1", "--out", str(out)]
    args += ["--cache-dir", str(tmp_path / "cache"), "--device", "cpu"]
    assert curves(args) == 0
    table = pd.read_parquet(out)
    assert sorted(table["dropout"].unique()) == [0.0, 0.3]
    assert table.groupby("dropout")["epoch"].apply(list).tolist() == [[1, 2], [1, 2]]
    assert (table["epoch_time_s"] > 0).all() and table["anchored_val_loss"].notna().all()
    said = capsys.readouterr().out
    assert f"raysearch simulate --table {out} --space {space}" in said
    assert curves(args) == 0  # kept, not trained again
    assert "already holds these curves" in capsys.readouterr().out
    pd.testing.assert_frame_equal(pd.read_parquet(out), table)
    wide = tmp_path / "two_at_once.parquet"
    assert curves([*args[:-6], "--out", str(wide), *args[-4:], "--processes", "2"]) == 0
    same = ["dropout", "seed", "epoch", "anchored_val_loss", "anchored_test_loss"]
    pd.testing.assert_frame_equal(pd.read_parquet(wide)[same], table[same])
    sim = ["--table", str(out), "--space", str(space), "--workers", "1", "2", "--seeds", "2"]
    assert simulate(sim) == 0
    assert "| 2 |" in capsys.readouterr().out


def test_another_plan_over_a_recorded_table_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    space = tmp_path / "grid.yaml"
    space.write_text(GRID)
    out = tmp_path / "curves.parquet"
    frame = pd.DataFrame({"dropout": [0.0]})
    frame.attrs = {"plan": "another"}
    frame.to_parquet(out)
    monkeypatch.setattr("raysearch.search.simulation.record_runs._train", pytest.fail)
    assert curves(["--space", str(space), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert f"  - --out: {out} holds curves recorded for another" in err
    for text in ("", "dropout,seed\n0.0,1\n"):  # an empty file, a CSV: no table of curves
        out.write_text(text)
        assert curves(["--space", str(space), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert f"  - --out: {out} is there and is no parquet table of curves (" in err, err
        assert "Traceback" not in err and out.read_text() == text


def test_a_space_that_is_not_a_grid_is_refused_naming_each_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    space = tmp_path / "grid.yaml"
    space.write_text(GRID + "  lr: {type: float, low: 0.001, high: 0.01}\n")
    monkeypatch.setattr("raysearch.search.simulation.record_runs._train", pytest.fail)
    code = curves(["--space", str(space), "--data", str(tmp_path / "nowhere")])
    assert code == 2
    err = capsys.readouterr().err
    assert "parameters.lr" in err and "categorical" in err and "nowhere" in err
    assert not (Path("results") / "curves" / "grid.parquet").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.yaml"]


def test_points_record_a_float_space_and_write_its_grid_beside_the_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    trained = fake_recording(monkeypatch)
    space = tmp_path / "floats.yaml"
    space.write_text(
        GRID + "  lr: {type: float, low: 0.0001, high: 0.01, log: true, when: {dropout: 0.3}}\n"
    )
    out = tmp_path / "curves" / "floats.parquet"
    assert curves(["--space", str(space), "--points", "3", "--out", str(out)]) == 0
    grid_file = out.with_suffix(".yaml")
    assert f"--table {out} --space {grid_file}" in capsys.readouterr().out
    grid = load_space(str(grid_file))
    assert grid.parameters["lr"].choices == [0.0001, 0.001, 0.01]
    assert len(trained) == (1 + 3) * 2  # dropout 0.0, and 0.3 with 3 lrs; 2 seeds
    table = pd.read_parquet(out)
    assert check_space(TableCurves(table, tuple(grid.parameters)), grid) == []
    sim = ["--table", str(out), "--space", str(grid_file), "--workers", "2", "--seeds", "2"]
    assert simulate(sim) == 0
    assert curves(["--space", str(space), "--points", "2", "--out", str(out)]) == 2
    assert "holds curves recorded for another" in capsys.readouterr().err


def test_an_address_with_no_cluster_is_refused_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    space = tmp_path / "grid.yaml"
    space.write_text(GRID)

    def no_cluster(**kwargs: object) -> None:  # what ray.init raises where none runs
        raise ConnectionError("Could not find any running Ray instance.")

    monkeypatch.setattr("raysearch.search.session.ray.init", no_cluster)
    monkeypatch.setattr("raysearch.search.simulation.record_runs._train", pytest.fail)
    out = tmp_path / "curves.parquet"
    code = curves(["--space", str(space), "--out", str(out), "--address", "auto"])
    assert code == 2
    err = capsys.readouterr().err
    assert "  - --address: no Ray cluster to join at 'auto'" in err and "ray start --head" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.yaml"]  # nothing written


def test_an_address_where_nothing_answers_is_refused_before_ray_joins(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    space = tmp_path / "grid.yaml"
    space.write_text(GRID)
    monkeypatch.setattr("raysearch.search.session.ray.init", pytest.fail)
    monkeypatch.setattr("raysearch.search.simulation.record_runs._train", pytest.fail)
    address = f"127.0.0.1:{closed_port()}"
    out = tmp_path / "curves.parquet"
    assert curves(["--space", str(space), "--out", str(out), "--address", address]) == 2
    assert f"  - --address: nothing answers at '{address}'" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.yaml"]  # nothing written
    with pytest.raises(ConfigError) as err:  # from Python: record_curves' keyword
        record_curves(str(space), out=out, address=address)
    assert err.value.problems[0].startswith(f"address: nothing answers at '{address}'")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["grid.yaml"]


def test_an_address_where_nothing_answers_is_said_before_anything_is_printed_or_prepared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the other problems, before a word on stdout, the dataset's preparation (the
    check of its test split) or a file: not as Ray joins, after all three."""
    prepared: list[object] = []
    monkeypatch.setattr(
        "raysearch.search.simulation.record._check_test_split",
        lambda plan, cache_dir: prepared.append(plan),
    )
    monkeypatch.setattr("raysearch.search.simulation.record_runs._train", pytest.fail)
    address = f"127.0.0.1:{closed_port()}"
    out = tmp_path / "cv.parquet"
    assert (
        curves(["--space", "smoke", "--points", "2", "--out", str(out), "--address", address]) == 2
    )
    said = capsys.readouterr()
    assert said.out == "" and prepared == []
    assert said.err.startswith("error: invalid curve recording (1 problem(s)):\n")
    assert f"  - --address: nothing answers at '{address}'" in said.err
    assert not list(tmp_path.iterdir())
    pd.DataFrame({"dropout": [0.0]}).to_parquet(out)  # a table there trains nothing
    assert (
        curves(["--space", "smoke", "--points", "2", "--out", str(out), "--address", address]) == 2
    )
    err = capsys.readouterr().err
    assert "holds curves recorded for another" in err and "--address: nothing" not in err


def test_a_refused_grid_recording_leaves_no_space_file_and_a_cache_file_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("raysearch.search.session.ray.init", pytest.fail)
    monkeypatch.setattr("raysearch.search.simulation.record_runs._train", pytest.fail)
    out = tmp_path / "cv.parquet"
    args = ["--space", "smoke", "--points", "2", "--out", str(out)]
    address = f"127.0.0.1:{closed_port()}"
    assert curves([*args, "--address", address]) == 2
    assert f"nothing answers at '{address}'" in capsys.readouterr().err
    assert not list(tmp_path.iterdir())  # the grid's space file comes with its curves
    (tmp_path / "afile").write_text("")
    assert curves([*args, "--cache-dir", str(tmp_path / "afile")]) == 2
    assert "  - --cache-dir: " in capsys.readouterr().err and not out.exists()
    assert curves([*args, "--cache-dir", str(tmp_path / "afile" / "sub")]) == 2
    err = capsys.readouterr().err  # a directory cannot be made under a file either
    assert f"{tmp_path / 'afile'} is a file, so" in err and not out.exists()
    (tmp_path / "adir.parquet").mkdir()
    cache = ["--cache-dir", str(tmp_path / "cache")]
    for bad, said in (
        (tmp_path / "afile" / "cv.parquet", f"{tmp_path / 'afile'} is a file"),
        (tmp_path / "adir.parquet", f"{tmp_path / 'adir.parquet'} is a directory"),
    ):  # as --out
        assert curves(["--space", "smoke", "--points", "2", "--out", str(bad), *cache]) == 2
        assert f"  - --out: {said}" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir.parquet", "afile"]


def test_sigterm_stops_a_recording_as_ctrl_c_does(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """kill (a batch scheduler's stop) ended raysearch curves without a word, and the pool's
    runs trained on, orphaned. Found by a walkthrough helper. What it says of the signal
    names no search (it said "stopping the search": curves runs none)."""
    import os
    import signal
    import time

    def stopped_while_recording(*args: object, **kwargs: object) -> None:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler raises within this
        pytest.fail("SIGTERM did not stop the recording")

    monkeypatch.setattr(
        "raysearch.search.simulation.record.record_curves_for", stopped_while_recording
    )
    before = signal.getsignal(signal.SIGTERM)
    # left in place if curves does not take SIGTERM: the test fails, not the test process
    signal.signal(signal.SIGTERM, lambda *a: pytest.fail("SIGTERM kept its default action"))
    try:
        assert curves(["--space", "smoke", "--out", str(tmp_path / "c.parquet")]) == 130
    finally:
        signal.signal(signal.SIGTERM, before)
    assert "interrupted: the same command resumes from the finished runs" in (
        capsys.readouterr().err
    )
    (said,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("SIGTERM")]
    assert said == "SIGTERM: stopping as Ctrl+C does"


def _wait_for_line(path: Path, text: str, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while text not in (path.read_text() if path.exists() else ""):
        assert time.monotonic() < deadline, f"no {text!r} in {timeout_s} s:\n{path.read_text()}"
        time.sleep(0.1)


# Two fast runs (the tiny model) and two slow ones (the large): with 3 processes, one has no
# run left once the second fast one ends, while the slow ones train for seconds more
SLOW_AND_FAST = (
    GRID.replace("max_epochs: 2", "max_epochs: 3")
    .replace("fixed: {size: tiny, ", "fixed: {")
    .replace(
        "  dropout: {type: categorical, choices: [0.0, 0.3]}",
        "  size: {type: categorical, choices: [tiny, large]}\n"
        "  dropout: {type: categorical, choices: [0.0, 0.3]}",
    )
)


def _ctrl_c_as_at_a_terminal() -> None:
    """The command's SIGINT as a terminal's command has it: a test run started with '&'
    from a script (a CI job's) inherits SIGINT ignored, and passes it on."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.integration
def test_a_sigterm_to_the_process_group_ends_a_recording_in_processes(tmp_path: Path) -> None:
    """A batch scheduler's SIGTERM (or timeout's) reaches every process of the group. In
    multiprocessing's Pool, a worker waiting for its next run died holding the task
    queue's lock, and the pool's terminate waited on it for good: the command hung after
    'SIGTERM: stopping as Ctrl+C does' (5 times in 6 with more processes than runs, a
    helper found). Ctrl+C printed each worker's KeyboardInterrupt traceback."""
    space = tmp_path / "grid.yaml"
    space.write_text(SLOW_AND_FAST)
    out, log = tmp_path / "curves.parquet", tmp_path / "out.log"
    args = ["--space", str(space), "--seeds", "1", "--out", str(out), "--processes", "3"]
    args += ["--cache-dir", str(tmp_path / "cache"), "--device", "cpu"]
    for signum in (signal.SIGTERM, signal.SIGINT):
        partial_path(out).unlink(missing_ok=True)
        with log.open("w") as sink:
            proc = subprocess.Popen(
                [sys.executable, "-m", "raysearch", "curves", *args],
                stdout=sink,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, as a batch job's
                env={**os.environ, "PYTHONUNBUFFERED": "1"},  # each line as it is said
                preexec_fn=_ctrl_c_as_at_a_terminal,
            )
            try:
                # the fast runs in: one process waits, the slow runs train
                _wait_for_line(log, "[2/4]", 240)
                os.killpg(proc.pid, signum)
                code = proc.wait(timeout=60)
            finally:
                if proc.poll() is None:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
        said = log.read_text()
        assert code == 130, said
        assert "interrupted: the same command resumes from the finished runs" in said
        assert "[4/4]" not in said and "Traceback" not in said, said
        assert partial_path(out).is_file() and not out.exists()  # the finished runs kept
