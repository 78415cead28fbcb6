"""Phase labels per day and per month, transitions, the casualty count and import-phases."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from raysearch.cli.data import main
from raysearch.core.errors import DataError
from raysearch.data import writer
from raysearch.data.adapters.casualty import monthly_casualty
from raysearch.data.adapters.war_losses import PERSONNEL_FILE
from raysearch.data.adapters.war_phases import BASELINE_CLASS, daily_phases, phase_targets
from raysearch.data.contract import load_dataset
from raysearch.data.raw import RawDataset, RawSource
from raysearch.data.writer import write_dataset

FIXTURES = Path(__file__).parent / "fixtures"
START = dt.date(2022, 2, 25)  # the losses files' first day
N_DAYS = 1626


@pytest.fixture(scope="module")
def phases_csv(real_data_dir: Path) -> Path:
    return real_data_dir / "war-phases" / "phases.csv"


@pytest.fixture(scope="module")
def real_days(phases_csv: Path) -> dict[str, np.ndarray]:
    return daily_phases(phases_csv, START, N_DAYS)


def _on(labels: np.ndarray, day: str, start: dt.date = START) -> object:
    return labels[(dt.date.fromisoformat(day) - start).days]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        ("2022-03-15", 0),  # initial offensives (Kyiv, Kharkiv, Mariupol)
        ("2022-05-10", 1),  # Sievierodonetsk (started 05-06) outranks Kharkiv and Mariupol
        ("2022-07-15", BASELINE_CLASS),  # between Sievierodonetsk and Bakhmut: no operation
        ("2022-09-10", 1),  # Kharkiv counteroffensive (09-06) started after Bakhmut (08-01)
        ("2023-01-15", 2),  # Bakhmut
        ("2023-12-01", 2),  # Avdiivka
        ("2024-06-01", 3),  # 2024 Kharkiv offensive
        ("2024-09-01", 3),  # Kursk operation
        ("2026-08-08", 3),  # Kursk, ongoing (empty end) until the dataset's last day
    ],
)
def test_regime_on_known_dates(real_days, day: str, expected: int) -> None:
    assert _on(real_days["regime"], day) == expected


def test_transitions_exactly_on_start_and_end_dates(real_days, phases_csv: Path) -> None:
    ops = pd.read_csv(phases_csv)
    bounds = set(ops["start"]) | set(ops["end"].dropna())
    first, last = pd.Timestamp(START), pd.Timestamp(START) + pd.Timedelta(days=N_DAYS - 1)
    inside = {d for d in bounds if first <= pd.Timestamp(d) <= last}
    flagged = pd.date_range(START, periods=N_DAYS)[real_days["transition"]].strftime("%Y-%m-%d")
    assert set(flagged) == inside
    assert "2024-08-06" in inside and "2022-02-24" not in inside  # Kursk start; pre-calendar
    assert not _on(real_days["transition"], "2026-08-08")  # an ongoing operation has not ended


def test_overlap_rule_most_recent_start_then_later_row() -> None:
    days = daily_phases(FIXTURES / "phases_overlap.csv", dt.date(2022, 1, 1), 59)
    regime = days["regime"]
    start = dt.date(2022, 1, 1)
    assert _on(regime, "2022-01-09", start) == 0
    assert _on(regime, "2022-01-10", start) == 1  # Inner started later: it is primary
    assert _on(regime, "2022-01-20", start) == 1  # end date inclusive
    assert _on(regime, "2022-01-21", start) == 0  # back to the still-running Long
    assert _on(regime, "2022-02-05", start) == 1  # same start day: the later row wins
    assert _on(regime, "2022-02-17", start) == BASELINE_CLASS
    assert _on(regime, "2022-02-28", start) == 3  # Open: ongoing
    monthly = phase_targets(FIXTURES / "phases_overlap.csv", start, 59)
    # January: 20 days of class 0, 11 of class 1 -> 0; February: 14 days of class 1 against
    # 5 baseline + 9 Open = 14 of class 3: a tie goes to the later class
    assert monthly["regime"].tolist() == [0, 3]
    shorter = phase_targets(FIXTURES / "phases_overlap.csv", start, 58)  # one Open day less
    assert shorter["regime"].tolist() == [0, 1]
    assert monthly["transition"].tolist() == [1, 1]


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.integers(0, 60), st.integers(0, 30), st.integers(0, 3), st.booleans()),
        min_size=1,
        max_size=5,
    ),
    st.integers(1, 90),
)
def test_month_regime_is_a_majority_class_and_transition_any_boundary(
    tmp_path_factory: pytest.TempPathFactory, ops: list, n_days: int
) -> None:
    start = dt.date(2023, 1, 1)
    rows = []
    for offset, length, cls, ongoing in ops:
        s = start + dt.timedelta(days=offset)
        end = "" if ongoing else (s + dt.timedelta(days=length)).isoformat()
        rows.append(f"op,{s.isoformat()},{end},p,0,{cls}")
    path = tmp_path_factory.mktemp("ph") / "phases.csv"
    path.write_text("operation,start,end,phase,phase_index,coarse_class\n" + "\n".join(rows))
    if all(offset >= n_days for offset, *_ in ops):  # every operation starts after the end
        with pytest.raises(DataError, match="covers a day of the dataset"):
            phase_targets(path, start, n_days)
        return
    days = daily_phases(path, start, n_days)
    months = phase_targets(path, start, n_days)
    month_of = pd.date_range(start, periods=n_days).month.to_numpy() - 1
    for m in range(len(months["regime"])):
        counts = np.bincount(days["regime"][month_of == m], minlength=4)
        assert counts[int(months["regime"][m])] == counts.max()
        assert months["transition"][m] == float(days["transition"][month_of == m].any())


def test_end_before_start_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "phases.csv"
    bad.write_text("operation,start,end,coarse_class\nX,2022-03-10,2022-03-01,1\n")
    with pytest.raises(DataError, match="row 1: end 2022-03-01 is before start 2022-03-10"):
        daily_phases(bad, START, 30)


def _personnel_raw(values: list[float], start: dt.date) -> RawDataset:
    arr = np.asarray(values, dtype=np.float32)[:, None]
    src = RawSource("personnel", "daily", ("personnel",), arr)
    return RawDataset("p", start, len(values), {"personnel": src}, {}, ("daily_forecast",))


def test_casualty_sums_months_keeps_corrections_and_drops_incomplete_months() -> None:
    jan = [10.0] * 31
    feb = [5.0] * 27 + [-20.0]  # a correction: kept in the sum
    mar = [1.0] * 10 + [np.nan] + [1.0] * 20  # one missing day: no target
    apr = [2.0] * 5  # partial month at the end of the calendar: no target
    out = monthly_casualty(_personnel_raw(jan + feb + mar + apr, dt.date(2023, 1, 1)))
    assert out[0] == 310 and out[1] == 5 * 27 - 20
    assert np.isnan(out[2]) and np.isnan(out[3])
    late = monthly_casualty(_personnel_raw([1.0] * 58, dt.date(2023, 1, 2)))
    assert np.isnan(late[0]) and late[1] == 28  # January lacks its first day


def test_casualty_without_personnel_source_is_an_error() -> None:
    raw = _personnel_raw([1.0] * 5, dt.date(2023, 1, 1))
    raw.sources = {}
    with pytest.raises(DataError, match="casualty needs the daily source 'personnel'"):
        monthly_casualty(raw)


def test_import_phases_adds_targets_and_reports_absent_tasks(
    real_data_dir: Path, phases_csv: Path, tmp_path: Path, capsys
) -> None:
    src = real_data_dir / "ukraine-losses"
    out = tmp_path / "real"
    assert main(["import-war-losses", str(src), str(out)]) == 0
    capsys.readouterr()
    assert main(["import-phases", str(phases_csv), str(out)]) == 0
    text = capsys.readouterr().out
    assert "anomaly         absent" in text and "forecast        absent" in text
    assert "casualty        target in 53/55 months" in text
    back = load_dataset(out)
    assert set(back.targets) == {"regime", "transition", "casualty"}
    months = list(back.months.strftime("%Y-%m"))
    cum = {r["date"]: r["personnel"] for r in json.loads((src / PERSONNEL_FILE).read_text())}
    march = cum["2022-03-31"] - cum["2022-02-28"]
    assert back.targets["casualty"][months.index("2022-03")] == march
    assert np.isnan(back.targets["casualty"][0])  # February 2022 starts on the 25th
    assert back.targets["regime"][months.index("2024-09")] == 3
    one_step = tmp_path / "one_step"  # import-losses --phases --casualty: the same targets
    argv = ["import-war-losses", str(src), str(one_step), "--phases", str(phases_csv), "--casualty"]
    assert main(argv) == 0
    again = load_dataset(one_step)
    for task, values in back.targets.items():
        np.testing.assert_array_equal(again.targets[task], values)


def test_import_phases_keeps_a_csv_dataset_csv(tmp_path: Path) -> None:
    start = dt.date(2023, 1, 1)
    write_dataset(_personnel_raw([3.0] * 92, start), tmp_path / "d", "csv")
    phases = tmp_path / "phases.csv"
    shutil.copy(FIXTURES / "phases_overlap.csv", phases)
    assert main(["import-phases", str(phases), str(tmp_path / "d")]) == 0
    assert (tmp_path / "d" / "daily" / "personnel.csv").is_file()
    assert not (tmp_path / "d" / "daily" / "personnel.parquet").exists()
    back = load_dataset(tmp_path / "d")
    assert back.targets["casualty"].tolist()[:3] == [93.0, 84.0, 93.0]
    assert np.isnan(back.targets["casualty"][3])  # April: 2 of 30 days


def test_import_phases_keeps_the_dataset_name(tmp_path: Path) -> None:
    """import-phases wrote back the name the manifest reader gave: the path of the last file
    the manifest names."""
    write_dataset(_personnel_raw([3.0] * 92, dt.date(2023, 1, 1)), tmp_path / "d", "csv")
    manifest = tmp_path / "d" / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("name: p\n", "name: my-dataset\n"))
    assert main(["import-phases", str(FIXTURES / "phases_overlap.csv"), str(tmp_path / "d")]) == 0
    assert yaml.safe_load(manifest.read_text())["name"] == "my-dataset"
    assert load_dataset(tmp_path / "d").name == "my-dataset"


def _counts_dataset(root: Path) -> dict[str, bytes]:
    """A CSV dataset of its user's: counts above float32's exact integers, a note beside
    the data, a manifest with the user's own layout; returns its files' bytes."""
    (root / "notes").mkdir(parents=True)
    (root / "notes" / "README.txt").write_text("mine")
    days = pd.date_range("2022-01-01", "2022-06-30")
    values = 100_000_000 + np.arange(len(days))  # 100000001 is 1e+08 in float32
    pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "personnel": values}).to_csv(
        root / "personnel counts.csv", index=False
    )
    (root / "manifest.yaml").write_text(
        "name: counts\nstart: 2022-01-01\nend: 2022-06-30\n"
        "sources:\n  personnel: {resolution: daily, file: personnel counts.csv}\n"
        "tasks:\n  daily_forecast: derived\n"
    )
    return _files(root)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def test_import_phases_adds_its_targets_and_leaves_every_other_file_as_it_was(
    tmp_path: Path, capsys
) -> None:
    """import-phases rewrote every source from the loader's float32 arrays into new files
    (100000001 came back as 1e+08) and pointed the manifest at them; it adds its targets
    and their manifest entries, and nothing else changes."""
    root = tmp_path / "d"
    before = _counts_dataset(root)
    assert main(["import-phases", str(FIXTURES / "phases_overlap.csv"), str(root)]) == 0
    capsys.readouterr()
    after = _files(root)
    added = {"targets/regime.csv", "targets/transition.csv", "targets/casualty.csv"}
    assert set(after) == set(before) | added
    assert {f: after[f] for f in before if f != "manifest.yaml"} == {
        f: v for f, v in before.items() if f != "manifest.yaml"
    }
    man = yaml.safe_load(after["manifest.yaml"])
    old = yaml.safe_load(before["manifest.yaml"])
    assert {k: v for k, v in man.items() if k != "tasks"} == {
        k: v for k, v in old.items() if k != "tasks"
    }
    assert man["tasks"] == {"daily_forecast": "derived", **{Path(f).stem: f for f in added}}
    back = load_dataset(root)
    assert set(back.targets) == {"regime", "transition", "casualty"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]  # nothing left beside it


def test_an_import_phases_that_fails_leaves_the_dataset_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The targets were written straight into the dataset: a write that failed midway (a
    full disk) left some written and the manifest not naming them."""
    root = tmp_path / "d"
    before = _counts_dataset(root)
    real = writer._write
    written: list[Path] = []

    def fail_on_the_second_file(frame, path: Path, fmt: str) -> None:
        if written:
            raise OSError("disk full")
        written.append(path)
        real(frame, path, fmt)

    monkeypatch.setattr(writer, "_write", fail_on_the_second_file)
    with pytest.raises(OSError, match="disk full"):
        main(["import-phases", str(FIXTURES / "phases_overlap.csv"), str(root)])
    assert len(written) == 1  # one target was written, somewhere
    assert _files(root) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


def test_import_phases_does_not_write_over_a_file_the_manifest_names(
    tmp_path: Path, capsys
) -> None:
    root = tmp_path / "d"
    _counts_dataset(root)
    (root / "targets").mkdir()
    (root / "personnel counts.csv").rename(root / "targets" / "regime.csv")
    manifest = root / "manifest.yaml"
    manifest.write_text(manifest.read_text().replace("personnel counts.csv", "targets/regime.csv"))
    before = _files(root)
    assert main(["import-phases", str(FIXTURES / "phases_overlap.csv"), str(root)]) == 2
    err = capsys.readouterr().err
    assert "sources.personnel.file: 'targets/regime.csv' is where import-phases writes" in err
    assert _files(root) == before


def test_an_empty_phases_csv_is_one_error_naming_the_file(tmp_path: Path) -> None:
    """A file with no header row is a DataError naming it, not pandas' EmptyDataError."""
    empty = tmp_path / "phases.csv"
    empty.write_text("")
    with pytest.raises(DataError, match=r"phases\.csv: empty file \(expected the war-phases CSV"):
        daily_phases(empty, START, 30)


def test_import_phases_without_a_personnel_source_names_no_casualty(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The error said the casualty target needs a personnel source, not how to import the
    phases without it."""
    root = tmp_path / "ds"
    source = RawSource("x", "daily", ("a",), np.ones((60, 1), np.float32))
    write_dataset(RawDataset("mine", START, 60, {"x": source}, {}, ("daily_forecast",)), root)
    phases = FIXTURES / "phases_overlap.csv"
    assert main(["import-phases", str(phases), str(root)]) == 2
    assert (
        "casualty needs the daily source 'personnel' with feature 'personnel'; the dataset's "
        "daily sources are {'x': ['a']}; to add the regime and transition targets only, give "
        "--no-casualty (import_phases: casualty=False)" in capsys.readouterr().err
    )
    assert main(["import-phases", str(phases), str(root), "--no-casualty"]) == 0


def test_a_phases_csv_with_only_its_header_is_refused_and_the_dataset_kept(
    real_data_dir: Path, phases_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A header-only file was accepted ('regime target in 55/55 months') and replaced the
    dataset's regime and transition with constants (baseline 3, no transition)."""
    out = tmp_path / "real"
    argv = ["import-war-losses", str(real_data_dir / "ukraine-losses"), str(out)]
    assert main([*argv, "--phases", str(phases_csv), "--casualty"]) == 0
    before = _files(out)
    header = tmp_path / "phases.csv"
    header.write_text(phases_csv.read_text().splitlines()[0] + "\n")
    capsys.readouterr()
    assert main(["import-phases", str(header), str(out)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        f"error: invalid phases file {header} (1 problem(s)):\n"
        f"  - {header}: no operations (a header row only); expected one row per operation\n"
    )
    assert _files(out) == before


def test_phases_covering_no_day_of_the_dataset_are_refused(
    phases_csv: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Operations all outside the dataset's days give the same constant targets as no
    operation at all (every month baseline, no transition): refused the same way."""
    root = tmp_path / "d"
    write_dataset(_personnel_raw([3.0] * 120, dt.date(2021, 6, 1)), root, "csv")
    before = _files(root)
    assert main(["import-phases", str(phases_csv), str(root)]) == 2
    assert (
        f"{phases_csv}: none of its 11 operation(s) covers a day of the dataset "
        "(2021-06-01..2021-09-28): every month's regime would be baseline (3) and no month a "
        "transition"
    ) in capsys.readouterr().err
    assert _files(root) == before
    # one operation reaching the dataset's last day is enough: its month is not baseline
    reaching = tmp_path / "reaching.csv"
    reaching.write_text(phases_csv.read_text() + "Early,2021-09-28,2021-09-28,x,0,0\n")
    assert main(["import-phases", str(reaching), str(root), "--no-casualty"]) == 0
    back = load_dataset(root)
    assert back.targets["regime"].tolist() == [3, 3, 3, 3]  # one day of 30 in September
    assert back.targets["transition"].tolist() == [0, 0, 0, 1]
