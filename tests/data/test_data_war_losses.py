"""The real daily losses files (data/ukraine-losses in the repository) through the adapter."""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from raysearch.cli.data import main
from raysearch.core.data_config import DataConfig
from raysearch.core.errors import DataError
from raysearch.data.adapters.war_losses import (
    CORRECTION_FILE,
    EQUIPMENT_FILE,
    PERSONNEL_FILE,
    war_losses_raw,
)
from raysearch.data.adapters.war_phases import phase_targets
from raysearch.data.contract import load_dataset
from raysearch.data.prepared import prepare


@pytest.fixture(scope="module")
def src(real_data_dir: Path) -> Path:
    return real_data_dir / "ukraine-losses"


@pytest.fixture(scope="module")
def raw(src: Path):
    return war_losses_raw(src)


def _col(raw, source: str, feature: str) -> np.ndarray:
    s = raw.sources[source]
    return s.values[:, s.features.index(feature)]


def test_days_and_late_starting_classes(raw, src: Path) -> None:
    assert raw.n_days == 1626 and str(raw.start) == "2022-02-25"
    records = json.loads((src / EQUIPMENT_FILE).read_text())
    for key, name in (("submarines", "submarines"), ("cruise missiles", "cruise_missiles"),
                      ("ground robotic systems", "ground_robotic_systems")):  # fmt: skip
        reported = np.array([key in r for r in records])
        observed = ~np.isnan(_col(raw, "equipment", name))
        # unobserved on every day the class was absent, and on its first (cumulative) day
        assert not observed[~reported].any()
        assert observed.sum() == reported.sum() - 1
    assert 0.6 < (~np.isnan(_col(raw, "equipment", "submarines"))).mean() < 0.7
    pow_ = _col(raw, "personnel", "pow")
    assert np.isnan(pow_[100:]).all() and not np.isnan(pow_[:60]).any()


def test_no_zero_where_the_source_did_not_report(raw, src: Path) -> None:
    records = json.loads((src / EQUIPMENT_FILE).read_text())
    for key, name in (
        ("military auto", "military_auto"),
        ("mobile SRBM system", "mobile_srbm_system"),
    ):
        reported = np.array([key in r for r in records])
        assert (~reported).any(), f"every record reports {key!r}: nothing to check"
        assert np.isnan(_col(raw, "equipment", name)[~reported]).all()


def test_daily_values_merge_and_corrections(raw, src: Path) -> None:
    records = json.loads((src / EQUIPMENT_FILE).read_text())
    tank = _col(raw, "equipment", "tank")
    cum = np.array([r["tank"] for r in records], dtype=float)
    assert np.array_equal(np.cumsum(tank), cum)  # differences of the cumulative counts
    assert (tank < 0).sum() >= 1  # corrections kept as data
    vft = _col(raw, "equipment", "vehicles_and_fuel_tanks")
    assert not np.isnan(vft).any()  # merged class extended backwards
    may1 = [r["date"] for r in records].index("2022-05-01")
    assert vft[may1] == 1796 - (1701 + 76)
    assert _col(raw, "equipment", "correction_reported").sum() == 28


def test_cli_import_then_describe_then_prepare(src: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "losses"
    assert main(["import-war-losses", str(src), str(out)]) == 0
    assert "1626 days" in capsys.readouterr().out
    back = load_dataset(out)
    assert back.n_days == 1626 and set(back.sources) == {"equipment", "personnel"}
    assert main(["describe", str(out), "--daily-window", "60"]) == 0
    text = capsys.readouterr().out
    assert "submarines" in text and "65.1%" in text and "daily_forecast" in text
    data = prepare(DataConfig(path=str(out), daily_window=60))
    assert data.spec.task_names == ("daily_forecast",)
    assert data.references["val"]["daily_forecast"] > 0


def test_the_old_command_name_imports_the_same_and_says_the_new_one(
    src: Path, tmp_path: Path, capsys
) -> None:
    assert main(["import-losses", str(src), str(tmp_path / "old")]) == 0
    captured = capsys.readouterr()
    assert "now `raysearch data import-war-losses`" in captured.err
    assert "1626 days" in captured.out


def test_missing_input_file_is_a_clear_error(tmp_path: Path, capsys) -> None:
    assert main(["import-war-losses", str(tmp_path), os.fspath(tmp_path / "out")]) == 2
    assert "russia_losses_equipment.json: file missing" in capsys.readouterr().err


def test_phases_give_monthly_regime_and_transition(
    real_data_dir: Path, src: Path, tmp_path: Path
) -> None:
    phases = real_data_dir / "war-phases" / "phases.csv"
    out = tmp_path / "with_phases"
    assert main(["import-war-losses", str(src), str(out), "--phases", str(phases)]) == 0
    back = load_dataset(out)
    months = list(back.months.strftime("%Y-%m"))
    regime, transition = back.targets["regime"], back.targets["transition"]
    assert regime[months.index("2022-03")] == 0  # Kyiv, Kharkiv, Mariupol
    assert regime[months.index("2023-01")] == 2  # Bakhmut
    assert regime[months.index("2025-06")] == 3  # Kursk, ongoing
    assert transition[months.index("2022-05")] == 1  # Sievierodonetsk starts 05-06
    assert transition[months.index("2023-01")] == 0
    assert 0 < transition.mean() < 0.4  # rare positives
    data = prepare(DataConfig(path=str(out), daily_window=90))
    assert {"regime", "transition", "daily_forecast"} <= set(data.spec.task_names)


def test_bad_phases_file_names_row_and_value(tmp_path: Path) -> None:
    bad = tmp_path / "phases.csv"
    bad.write_text("operation,start,end,coarse_class\nX,2022-02-30,,1\nY,2022-03-01,,7\n")
    with pytest.raises(DataError) as info:
        phase_targets(bad, dt.date(2022, 2, 25), 100)
    text = str(info.value)
    assert "'2022-02-30' at row 1" in text and "'7' at row 2" in text


def test_an_empty_records_list_is_one_error_naming_the_file(src: Path, tmp_path: Path) -> None:
    """`[]` is valid JSON with no day in it: a DataError naming the file, not an IndexError."""
    copy = Path(shutil.copytree(src, tmp_path / "src"))
    (copy / EQUIPMENT_FILE).write_text("[]")
    with pytest.raises(DataError, match=f"{EQUIPMENT_FILE}: no records"):
        war_losses_raw(copy)


def test_the_problems_of_every_losses_file_are_reported_at_once(
    src: Path, tmp_path: Path, capsys
) -> None:
    copy = Path(shutil.copytree(src, tmp_path / "src"))
    (copy / EQUIPMENT_FILE).write_text("[]")
    personnel = json.loads((copy / PERSONNEL_FILE).read_text())
    personnel[1]["date"] = "2022-02-30"
    (copy / PERSONNEL_FILE).write_text(json.dumps(personnel))
    (copy / CORRECTION_FILE).write_text(json.dumps([{"date": "March"}]))
    assert main(["import-war-losses", str(copy), str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "(3 problem(s))" in err
    assert f"{EQUIPMENT_FILE}: no records" in err
    assert f"{PERSONNEL_FILE}: record 2: date '2022-02-30'" in err
    assert f"{CORRECTION_FILE}: record 1: date 'March'" in err
    assert not (tmp_path / "out").exists()


def test_a_bad_date_in_the_corrections_file_names_the_file_and_value(
    src: Path, tmp_path: Path, capsys
) -> None:
    copy = Path(shutil.copytree(src, tmp_path / "src"))
    records = [{"date": "2022-02-30"}, {"date": "2022-03-01"}, {"date": "March"}]
    (copy / CORRECTION_FILE).write_text(json.dumps(records))
    with pytest.raises(DataError) as info:
        war_losses_raw(copy)
    text = str(info.value)
    assert f"{CORRECTION_FILE}: record 1: date '2022-02-30', expected YYYY-MM-DD" in text
    assert "record 3: date 'March'" in text and "record 2" not in text
    assert main(["import-war-losses", str(copy), str(tmp_path / "out")]) == 2
    assert f"{CORRECTION_FILE}: record 1: date '2022-02-30'" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_bad_or_repeated_date_in_the_losses_names_each_record(src: Path, tmp_path: Path) -> None:
    """A date given twice was kept once (the later record) without a word; a bad one was
    'unparseable or duplicate' with no record named. Records count from 1, as in the
    corrections file's messages (they counted from 0)."""
    copy = Path(shutil.copytree(src, tmp_path / "src"))
    records = json.loads((copy / EQUIPMENT_FILE).read_text())
    records[5]["date"] = records[4]["date"]
    records[7]["date"] = "2022-02-30"
    (copy / EQUIPMENT_FILE).write_text(json.dumps(records))
    with pytest.raises(DataError) as info:
        war_losses_raw(copy)
    assert [p.split(": ", 1)[1] for p in info.value.problems] == [
        f"record 6: date {records[4]['date']} is record 5's too",
        "record 8: date '2022-02-30', expected YYYY-MM-DD",
    ]


def test_records_without_a_date_are_named(src: Path, tmp_path: Path) -> None:
    """A record without a 'date' (or not a record) was 'expected a list of records, each
    with a 'date'', naming none of them in a file of some 1,600."""
    copy = Path(shutil.copytree(src, tmp_path / "src"))
    records = json.loads((copy / EQUIPMENT_FILE).read_text())
    del records[501]["date"]
    records[700] = ["2022-07-01", 3]
    (copy / EQUIPMENT_FILE).write_text(json.dumps(records))
    with pytest.raises(DataError) as info:
        war_losses_raw(copy)
    assert info.value.problems == [
        f"{copy / EQUIPMENT_FILE}: record(s) 502, 701 (2 in all) hold no 'date'; expected a "
        "list of records, each with a 'date'"
    ]
    (copy / EQUIPMENT_FILE).write_text(json.dumps({"date": "2022-02-25"}))
    with pytest.raises(
        DataError, match="expected a list of records, each with a 'date', got a dict"
    ):
        war_losses_raw(copy)


def _edit(src: Path, name: str, edit: Callable[[list[dict]], object]) -> None:
    """Apply ``edit`` to the records of ``src / name``, in place."""
    records = json.loads((src / name).read_text())
    edit(records)
    (src / name).write_text(json.dumps(records))


def test_a_value_that_is_not_a_number_is_refused_naming_file_record_field_and_value(
    src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """'tank': 'x' was read as 'tank not reported that day', silently; the data contract
    refuses a non-numeric value. A null stays 'not reported', as an absent key does."""

    def bad_counts(records: list[dict]) -> None:
        records[501]["tank"] = "x"  # the 502nd record
        records[600]["tank"] = "y"
        records[7]["drone"] = True
        records[9]["APC"] = None

    copy = Path(shutil.copytree(src, tmp_path / "src"))
    _edit(copy, EQUIPMENT_FILE, bad_counts)
    out = tmp_path / "out"
    assert main(["import-war-losses", str(copy), str(out)]) == 2
    err = capsys.readouterr().err
    assert (
        f"{copy / EQUIPMENT_FILE}: record 502: field 'tank': 'x' is not a number (2 in all); "
        "expected a count (a finite number), or null or no key when the class is not reported"
    ) in err
    assert f"{EQUIPMENT_FILE}: record 8: field 'drone': True is not a number (1 in all)" in err
    assert "'APC'" not in err and not out.exists()
    people = Path(shutil.copytree(src, tmp_path / "people"))
    _edit(people, PERSONNEL_FILE, lambda records: records[3].update(personnel="lots"))
    assert main(["import-war-losses", str(people), str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{people / PERSONNEL_FILE}: record 4: field 'personnel': 'lots' is not a num" in err
    assert not out.exists()
    nulls = Path(shutil.copytree(src, tmp_path / "nulls"))
    _edit(nulls, EQUIPMENT_FILE, lambda records: records[9].update(APC=None))
    apc = _col(war_losses_raw(nulls), "equipment", "apc")
    assert np.isnan(apc[9:11]).all()  # the day of the null and the day after it
    assert not np.isnan(np.delete(apc, [9, 10])).any()


def test_a_losses_file_without_its_counts_names_what_is_missing(
    src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """With no 'personnel' key in any record, the error blamed the dates ('2022-02-25..
    2022-04-27 differ from ...': the days of the records holding POW) instead of the
    missing field; an equipment file of dates alone was imported as a source of nothing."""
    copy = Path(shutil.copytree(src, tmp_path / "src"))
    _edit(copy, PERSONNEL_FILE, lambda records: [r.pop("personnel") for r in records])
    out = tmp_path / "out"
    assert main(["import-war-losses", str(copy), str(out)]) == 2
    err = capsys.readouterr().err
    assert f"{copy / PERSONNEL_FILE}: no record has a 'personnel' count" in err
    assert "differ from" not in err and not out.exists()
    # an equipment file with dates only: a source of nothing was imported
    dates = Path(shutil.copytree(src, tmp_path / "dates"))
    _edit(
        dates,
        EQUIPMENT_FILE,
        lambda records: [r.pop(k) for r in records for k in list(r) if k != "date"],
    )
    assert main(["import-war-losses", str(dates), str(out)]) == 2
    assert f"{dates / EQUIPMENT_FILE}: no record holds a count" in capsys.readouterr().err
    assert not out.exists()


def test_a_record_with_no_count_is_a_day_with_nothing_observed(src: Path, tmp_path: Path) -> None:
    """A record whose counts are all null was dropped from the calendar: on the last day,
    the personnel file's dates then 'differed' from the equipment file's."""
    copy = Path(shutil.copytree(src, tmp_path / "src"))
    _edit(copy, PERSONNEL_FILE, lambda records: records[-1].update(personnel=None))
    raw = war_losses_raw(copy)
    assert raw.n_days == 1626
    personnel = _col(raw, "personnel", "personnel")
    assert np.isnan(personnel[-1]) and not np.isnan(personnel[:-1]).any()
