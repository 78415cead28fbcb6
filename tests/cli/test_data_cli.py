from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from raysearch.cli.data import main
from raysearch.core.data_config import SynthConfig
from raysearch.data import writer
from raysearch.data.contract import load_dataset
from raysearch.data.synth import generate


def test_synth_writes_the_generator_output(tmp_path: Path, capsys) -> None:
    assert main(["synth", str(tmp_path), "--preset", "tiny", "--days", "200", "--seed", "5"]) == 0
    assert "manifest.yaml" in capsys.readouterr().out
    back = load_dataset(tmp_path)
    ref = generate(SynthConfig(days=200, raions=6, seed=5))
    assert back.n_days == 200
    for name, src in ref.sources.items():
        assert np.array_equal(back.sources[name].values, src.values, equal_nan=True)


def test_describe_reports_a_bad_dataset_and_exit_code(tmp_path: Path, capsys) -> None:
    assert main(["describe", str(tmp_path)]) == 2
    assert "manifest file missing" in capsys.readouterr().err


def test_describing_the_tiny_preset_names_the_flags_that_make_its_windows_fit(
    tmp_path: Path, capsys
) -> None:
    """The README's two commands in a row: the default windows (a year of days) leave the
    tiny preset's 420 days no training sample; the error names the flags and the shorter
    windows that fit, and those describe it."""
    assert main(["synth", str(tmp_path), "--preset", "tiny"]) == 0
    capsys.readouterr()
    assert main(["describe", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "--daily-window 365, --monthly-window 12, --horizon 7: windows this long" in err
    assert f"{tmp_path}'s 420 days" in err and "--daily-window 60 --monthly-window 3" in err
    assert main(["describe", str(tmp_path), "--daily-window", "60", "--monthly-window", "3"]) == 0
    assert "tasks (samples per split: train" in capsys.readouterr().out


def test_bad_arguments_exit_through_argparse(tmp_path: Path, capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["synth", str(tmp_path), "--dayz", "3"])
    assert exit_info.value.code == 2  # argparse's usage error
    assert "unrecognized arguments: --dayz 3" in capsys.readouterr().err
    assert main(["synth", str(tmp_path), "--days", "5"]) == 2  # ConfigError: days >= 120


def test_too_few_days_are_named_by_the_flag(tmp_path: Path, capsys) -> None:
    """`data synth OUT --days 10` said 'synth.days: must be an int >= 120', the field the
    flag sets; raysearch train names a bad value by its flag, then its field."""
    assert main(["synth", str(tmp_path / "d"), "--days", "10"]) == 2
    err = capsys.readouterr().err
    assert "--days (synth.days): must be an int >= 120 (four months), got 10" in err, err
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize(
    "flags", [["--days", "0"], ["--raions", "0"], ["--seed", "-1"], ["--days", "x"]]
)
def test_a_count_below_its_least_is_refused_not_replaced_by_the_presets(
    tmp_path: Path, flags: list[str], capsys
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["synth", str(tmp_path / "d"), "--preset", "tiny", *flags])
    assert exit_info.value.code == 2 and flags[0] in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


@pytest.mark.parametrize(
    ("flag", "value"), [("--daily-window", "0"), ("--monthly-window", "-1"), ("--horizon", "x")]
)
def test_describe_names_the_flag_of_a_bad_window(
    tmp_path: Path, flag: str, value: str, capsys
) -> None:
    """describe's windows were plain ints: 0 was refused by DataConfig as "daily_window: must
    be an int >= 1" (the field, not the flag), and x as argparse's "invalid int value"."""
    with pytest.raises(SystemExit) as exit_info:
        main(["describe", str(tmp_path), flag, value])
    assert exit_info.value.code == 2
    shown = value if value.lstrip("-").isdigit() else repr(value)
    assert f"argument {flag}: expected a positive integer, got {shown}" in capsys.readouterr().err


def test_a_dataset_is_not_written_over_a_file(tmp_path: Path, capsys) -> None:
    (tmp_path / "afile").write_text("mine")
    assert main(["synth", str(tmp_path / "afile"), "--preset", "tiny"]) == 2
    assert "is a file; give a directory" in capsys.readouterr().err
    assert (tmp_path / "afile").read_text() == "mine"


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_a_dataset_is_written_into_a_new_or_empty_directory_only(tmp_path: Path, capsys) -> None:
    """A directory holding other files is refused and left alone; one holding a dataset is
    replaced with --overwrite only, and the old dataset's files do not linger."""
    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("mine")
    assert main(["synth", str(other), "--preset", "tiny"]) == 2
    assert "not empty, and it holds no dataset (manifest.yaml)" in capsys.readouterr().err
    assert main(["synth", str(other), "--preset", "tiny", "--overwrite"]) == 2
    assert _files(other) == {"notes.txt": b"mine"}

    data = tmp_path / "data"
    data.mkdir()  # empty: written into
    assert main(["synth", str(data), "--preset", "tiny"]) == 0
    first = _files(data)
    assert main(["synth", str(data), "--preset", "tiny", "--seed", "1"]) == 2
    assert "holds a dataset already; give --overwrite" in capsys.readouterr().err
    assert _files(data) == first
    assert main(["synth", str(data), "--preset", "tiny", "--format", "csv", "--overwrite"]) == 0
    replaced = _files(data)
    assert not any(name.endswith(".parquet") for name in replaced)  # the old format's files
    assert load_dataset(data).n_days == 420
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", "other"]  # nothing beside


def test_a_write_that_fails_leaves_the_directory_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    assert main(["synth", str(data), "--preset", "tiny"]) == 0
    before = _files(data)
    real = writer._write
    written: list[Path] = []

    def fail_on_the_third_file(frame, path: Path, fmt: str) -> None:
        if len(written) == 2:
            raise OSError("disk full")
        written.append(path)
        real(frame, path, fmt)

    monkeypatch.setattr(writer, "_write", fail_on_the_third_file)
    with pytest.raises(OSError, match="disk full"):
        main(["synth", str(data), "--preset", "tiny", "--seed", "3", "--overwrite"])
    assert len(written) == 2  # two files of the new dataset were written, somewhere
    assert _files(data) == before
    with pytest.raises(OSError, match="disk full"):
        written.clear()
        main(["synth", str(tmp_path / "new"), "--preset", "tiny"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]


@pytest.mark.parametrize(
    "argv",
    [
        ["synth", "{new}/out", "--preset", "tiny", "--days", "1"],
        ["import-war-losses", "{new}/missing-src", "{new}/out"],
        ["firms", "{new}/missing.csv", "{new}/out"],
    ],
)
def test_a_write_refused_for_its_inputs_creates_no_directory(
    tmp_path: Path, argv: list[str], capsys
) -> None:
    """A bad flag or a missing input file is found before anything is written: the parents
    of OUT_DIR that did not exist are not created."""
    new = tmp_path / "a" / "b"
    assert main([arg.replace("{new}", str(new)) for arg in argv]) == 2
    assert capsys.readouterr().err.startswith("error: ")
    assert list(tmp_path.iterdir()) == []


def test_a_write_that_fails_removes_the_parents_it_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write that fails midway (a full disk) removes the directories it made for OUT_DIR,
    and only those."""
    (tmp_path / "a").mkdir()

    def disk_full(frame, path: Path, fmt: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(writer, "_write", disk_full)
    with pytest.raises(OSError, match="disk full"):
        main(["synth", str(tmp_path / "a" / "b" / "c" / "out"), "--preset", "tiny"])
    assert [p.name for p in tmp_path.rglob("*")] == ["a"]


def test_a_failed_write_keeps_a_parent_it_created_that_something_else_wrote_into(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file another process put into a parent the write created stays, with the parent;
    the write's own error is the one raised (not the parent's 'directory not empty')."""

    def others_file_then_disk_full(frame, path: Path, fmt: str) -> None:
        (tmp_path / "a" / "b" / "theirs.txt").write_text("kept")
        raise OSError("disk full")

    monkeypatch.setattr(writer, "_write", others_file_then_disk_full)
    with pytest.raises(OSError, match="disk full"):
        main(["synth", str(tmp_path / "a" / "b" / "c" / "out"), "--preset", "tiny"])
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")) == [
        "a",
        "a/b",
        "a/b/theirs.txt",
    ]


def test_describing_a_file_says_it_is_not_a_directory(tmp_path: Path, capsys) -> None:
    (tmp_path / "data.csv").write_text("date,x\n")
    assert main(["describe", str(tmp_path / "data.csv")]) == 2
    assert "data.csv: is a file, not a dataset directory" in capsys.readouterr().err


def _raion_dataset(root: Path, n_features: int) -> Path:
    """400 days, 3 raions, a raion source of ``n_features`` features and a daily source."""
    root.mkdir(parents=True)
    rng = np.random.default_rng(0)
    days = pd.date_range("2022-01-01", periods=400).strftime("%Y-%m-%d")
    raions = ["A", "B", "C"]
    pd.DataFrame({"raion": raions, "lat": [50, 49, 48], "lon": [30, 31, 32]}).to_csv(
        root / "raions.csv", index=False
    )
    rows = pd.DataFrame({"date": np.repeat(days, 3), "raion": raions * len(days)})
    for i in range(n_features):
        rows[f"f{i}"] = rng.normal(size=len(rows))
    rows.to_csv(root / "r.csv", index=False)
    pd.DataFrame({"date": days, "x": rng.normal(size=len(days))}).to_csv(
        root / "d.csv", index=False
    )
    manifest = {
        "name": "raions",
        "start": days[0],
        "end": days[-1],
        "raions": "raions.csv",
        "sources": {
            "r": {"resolution": "raion", "file": "r.csv"},
            "d": {"resolution": "daily", "file": "d.csv"},
        },
        "tasks": {"daily_forecast": "derived"},
    }
    (root / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    return root


def test_describe_does_not_refuse_a_dataset_for_the_raion_pca(tmp_path: Path, capsys) -> None:
    """describe built the data with DataConfig's 8 raion PCA components (it has no flag for
    them) and refused a valid dataset whose raion source has fewer features, although
    nothing it reports depends on the PCA."""
    root = _raion_dataset(tmp_path / "ds", n_features=4)
    assert main(["describe", str(root), "--daily-window", "30", "--monthly-window", "2"]) == 0
    out = capsys.readouterr().out
    assert "source r (raion): 2022-01-01 .. 2023-02-04, 4 features" in out
    assert "tasks (samples per split: train" in out


def test_describe_prints_the_sources_when_the_windows_leave_no_split(
    tmp_path: Path, capsys
) -> None:
    """A dataset too short for the windows was described by its error alone, though its
    dates and sources need no splits; and the error advised the tiny preset's windows to
    a user who had given them already."""
    assert main(["synth", str(tmp_path), "--preset", "tiny"]) == 0
    capsys.readouterr()
    argv = ["describe", str(tmp_path), "--daily-window", "60", "--monthly-window", "3"]
    assert main([*argv, "--horizon", "400"]) == 2
    out, err = capsys.readouterr()
    assert out.startswith("dataset synthetic(days=420") and "observed" in out, out
    assert "tasks (samples per split" not in out
    assert "--horizon 400: windows this long" in err
    assert "give a shorter horizon or windows, or a longer dataset" in err
    assert "the tiny preset's 420 days" not in err


def test_an_import_names_at_most_six_partly_observed_features_a_line(
    real_data_dir: Path, tmp_path: Path, capsys
) -> None:
    """The import printed each source's partly observed features as one Python dict (some
    2,000 characters for a synthetic dataset's raion source); synth printed SynthConfig(...)."""
    from raysearch.data.contract import load_dataset
    from raysearch.data.describe import source_summary

    assert main(["import-war-losses", str(real_data_dir / "ukraine-losses"), str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    for name, summary in source_summary(load_dataset(str(tmp_path))).items():
        (line,) = [row for row in lines if row.startswith(f"  {name}: ")]
        low = {f: v for f, v in summary["observed"].items() if v < 1.0}
        named = line.partition("observed on part of the days: ")[2].split(", ")
        assert "{" not in line and len([n for n in named if "%" in n]) == min(len(low), 6), line
        assert (f"({len(low)} in all;" in line) == (len(low) > 6), line
    assert main(["synth", str(tmp_path / "s"), "--preset", "tiny"]) == 0
    assert "(420 days x 6 raions from 2022-02-24, seed 0)" in capsys.readouterr().out
