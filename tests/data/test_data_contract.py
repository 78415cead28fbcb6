from __future__ import annotations

import datetime as dt
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from raysearch.core.data_config import DataConfig, SynthConfig
from raysearch.core.errors import DataError
from raysearch.data.contract import load_dataset, read_table
from raysearch.data.manifest import read_manifest
from raysearch.data.prepared import prepare
from raysearch.data.raw import RawDataset
from raysearch.data.synth import generate
from raysearch.data.writer import write_dataset


@pytest.fixture(scope="session")
def csv_master(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 240-day, 3-raion dataset as CSV (small: every test copies and reloads it)."""
    root = tmp_path_factory.mktemp("tiny_csv")
    write_dataset(generate(SynthConfig(days=240, raions=3)), root, fmt="csv")
    return root


@pytest.fixture()
def ds(csv_master: Path, tmp_path: Path) -> Path:
    """A fresh, writable copy of the tiny CSV dataset."""
    return Path(shutil.copytree(csv_master, tmp_path / "ds"))


def _edit(path: Path, fn) -> None:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    fn(df).to_csv(path, index=False)


def _problems(root: Path) -> str:
    with pytest.raises(DataError) as info:
        load_dataset(root)
    return str(info.value)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_round_trip_is_exact(tiny_raw: RawDataset, tmp_path: Path, fmt: str) -> None:
    write_dataset(tiny_raw, tmp_path, fmt=fmt)
    back = load_dataset(tmp_path)
    assert back.n_days == tiny_raw.n_days and back.raions == tiny_raw.raions
    assert back.raion_coords == tiny_raw.raion_coords
    for name, src in tiny_raw.sources.items():
        assert back.sources[name].features == src.features
        assert np.array_equal(back.sources[name].values, src.values, equal_nan=True)
    for name, y in tiny_raw.targets.items():
        assert np.array_equal(back.targets[name], y, equal_nan=True)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_zero_padded_raion_names_are_kept_as_written(tmp_path: Path, fmt: str) -> None:
    """raions.csv (and a raion source's CSV) was read with type guessing: the raion 0101
    became 101, renaming a CSV dataset's raions, and a parquet raion source (text) was
    refused as naming raions not in raions.csv."""
    raw = generate(SynthConfig(days=120, raions=3))
    raw.raions = ("0101", "0102", "0103")
    write_dataset(raw, tmp_path, fmt=fmt)
    back = load_dataset(tmp_path)
    assert back.raions == raw.raions
    for name, src in raw.sources.items():
        assert np.array_equal(back.sources[name].values, src.values, equal_nan=True)


def test_missing_file_and_missing_manifest(ds: Path) -> None:
    (ds / "daily" / "firms.csv").unlink()
    text = _problems(ds)
    assert "firms.csv" in text and "file missing" in text
    (ds / "manifest.yaml").unlink()
    assert "manifest file missing" in _problems(ds)


def test_unknown_and_missing_columns(ds: Path) -> None:
    path = ds / "daily" / "viina.csv"
    _edit(path, lambda df: df.rename(columns={"events": "evnts"}))
    text = _problems(ds)
    assert "viina.csv" in text and "missing feature column(s) ['events']" in text
    assert "unknown column(s) ['evnts']" in text


def test_non_numeric_value_names_column_row_and_value(ds: Path) -> None:
    def bad(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[4, "tank_delta"] = "about 5"
        return df

    _edit(ds / "daily" / "equipment.csv", bad)
    text = _problems(ds)
    assert "equipment.csv: column 'tank_delta'" in text
    assert "'about 5' at row 5" in text


def test_duplicate_and_unsorted_dates(ds: Path) -> None:
    path = ds / "daily" / "personnel.csv"
    _edit(path, lambda df: pd.concat([df.iloc[:10], df.iloc[[3]], df.iloc[10:]]))
    text = _problems(ds)
    # the date as the file writes it, not pandas' "2022-02-27 00:00:00"
    assert "personnel.csv: duplicate date 2022-02-27 at row 11 (1 in all)" in text, text
    assert "not sorted" in text and "row 11" in text
    raion = ds / "raion" / "raion_deepstate.csv"
    _edit(raion, lambda df: pd.concat([df.iloc[:10], df.iloc[[4]], df.iloc[10:]]))
    text = _problems(ds)
    assert "raion_deepstate.csv: duplicate (date, raion) (2022-02-25, R001) at row 11" in text


def test_dates_outside_the_declared_range(ds: Path) -> None:
    def shift(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[len(df) - 1, "date"] = "2030-01-01"
        return df

    _edit(ds / "daily" / "deepstate.csv", shift)
    text = _problems(ds)
    assert (
        "deepstate.csv" in text and "2030-01-01" in text and "outside the manifest's range" in text
    )


def test_raion_source_without_raion_column(ds: Path) -> None:
    _edit(ds / "raion" / "raion_firms.csv", lambda df: df.drop(columns=["raion"]))
    text = _problems(ds)
    assert "raion_firms.csv" in text and "missing key column 'raion'" in text


def test_empty_source_and_task_without_targets(ds: Path) -> None:
    _edit(ds / "monthly" / "iom.csv", lambda df: df.iloc[:0])
    _edit(ds / "targets" / "anomaly.csv", lambda df: df.assign(value=""))
    with pytest.raises(DataError) as info:
        load_dataset(ds)
    err = info.value
    text = str(err)
    assert "iom.csv" in text and "is empty" in text
    assert "anomaly.csv" in text and "task 'anomaly' has no targets" in text
    assert len(err.problems) == 2  # both reported at once


def test_bad_target_values_and_manifest_keys(ds: Path) -> None:
    def bad(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[3, "value"] = "7"
        return df

    _edit(ds / "targets" / "regime.csv", bad)
    man = yaml.safe_load((ds / "manifest.yaml").read_text())
    man["tasks"]["regmie"] = "targets/regime.csv"
    (ds / "manifest.yaml").write_text(yaml.safe_dump(man))
    assert "tasks.regmie: unknown task" in _problems(ds)
    del man["tasks"]["regmie"]
    (ds / "manifest.yaml").write_text(yaml.safe_dump(man))
    assert "7.0 at row 4, expected an integer class 0..3" in _problems(ds)


def test_nothing_starts_on_a_bad_dataset(ds: Path, tmp_path: Path) -> None:
    (ds / "targets" / "casualty.csv").unlink()
    with pytest.raises(DataError, match=r"casualty\.csv"):
        prepare(DataConfig(path=str(ds), daily_window=30), cache_dir=tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("*.pt"))


def test_absent_task_is_dropped_loudly(ds: Path, caplog: pytest.LogCaptureFixture) -> None:
    man = yaml.safe_load((ds / "manifest.yaml").read_text())
    del man["tasks"]["anomaly"]
    (ds / "manifest.yaml").write_text(yaml.safe_dump(man))
    data = prepare(
        DataConfig(path=str(ds), daily_window=30, monthly_window=4, raion_pca_components=2)
    )
    assert "anomaly" not in data.spec.task_names
    assert "anomaly" not in data.splits["train"][0]["targets"]
    assert any("'anomaly' absent" in r.getMessage() for r in caplog.records)


def test_task_without_training_targets_is_dropped_from_spec_and_batch(
    ds: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = ds / "targets" / "casualty.csv"
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df.loc[: len(df) // 2, "value"] = ""  # no casualty target in the first half
    df.to_csv(path, index=False)
    cfg = DataConfig(path=str(ds), daily_window=30, monthly_window=4, raion_pca_components=2)
    data = prepare(cfg)
    assert "casualty" not in data.spec.task_names
    assert "casualty" not in data.splits["test"][0]["targets"]
    assert any(
        "'casualty' absent: no target in the training" in r.getMessage() for r in caplog.records
    )


@pytest.mark.parametrize(
    ("second", "what"),
    [("2022-03-01T12:00", "time of day"), ("2022-03-02T00:00+02:00", "time zone")],
)
def test_a_datetime_column_holds_days_only(tmp_path: Path, second: str, what: str) -> None:
    """A parquet date column of timestamps: 00:00 and 12:00 on one day passed the duplicate
    check, both landed on day 0, and the later row overwrote the earlier; a time zone
    shifts days."""
    stamps = ["2022-03-01T00:00", second, "2022-03-03T00:00"]
    dates = pd.Series([pd.Timestamp(s) for s in stamps])
    if what == "time zone":
        dates = pd.to_datetime(dates, utc=True)
    pd.DataFrame({"date": dates, "a": [1.0, 2.0, 3.0]}).to_parquet(tmp_path / "d.parquet")
    manifest = {
        "name": "t",
        "start": "2022-03-01",
        "end": "2022-03-03",
        "sources": {"s": {"resolution": "daily", "file": "d.parquet"}},
        "tasks": {"daily_forecast": "derived"},
    }
    (tmp_path / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    with pytest.raises(DataError) as raised:
        load_dataset(tmp_path)
    row = "row 2" if what == "time of day" else "row 1"
    assert f"has a {what}; expected dates only (Y-m-d)" in str(raised.value)
    assert row in str(raised.value) and "column 'date'" in str(raised.value)


def _parquet_manifest(root: Path, end: str) -> None:
    """The manifest of a daily source d.parquet from 2022-03-01 to ``end`` and an anomaly
    target anomaly.parquet."""
    manifest = {
        "name": "t",
        "start": "2022-03-01",
        "end": end,
        "sources": {"s": {"resolution": "daily", "file": "d.parquet"}},
        "tasks": {"daily_forecast": "derived", "anomaly": "anomaly.parquet"},
    }
    (root / "manifest.yaml").write_text(yaml.safe_dump(manifest))


def test_a_column_of_dates_or_durations_is_refused_not_read_as_a_count(tmp_path: Path) -> None:
    """pd.to_numeric reads a parquet timestamp column as microseconds since 1970: a feature
    (or an anomaly target) of dates loaded as values around 1.6e15, without a word."""
    days = pd.date_range("2022-03-01", periods=60)
    pd.DataFrame(
        {"date": days.strftime("%Y-%m-%d"), "a": 1.0, "published": days, "delay": days - days[0]}
    ).to_parquet(tmp_path / "d.parquet")
    months = pd.date_range("2022-03-01", periods=2, freq="MS")
    pd.DataFrame({"month": ["2022-03", "2022-04"], "value": months}).to_parquet(
        tmp_path / "anomaly.parquet"
    )
    _parquet_manifest(tmp_path, str(days[-1].date()))
    with pytest.raises(DataError) as raised:
        load_dataset(tmp_path)
    expected = r"holds {} \({}64\[\w+\]\), not numbers; expected a number or empty for missing"
    wanted = [
        ("d.parquet", "published", "dates", "datetime"),
        ("d.parquet", "delay", "durations", "timedelta"),
        ("anomaly.parquet", "value", "dates", "datetime"),
    ]
    assert len(raised.value.problems) == len(wanted)
    for problem, (file, column, kind, dtype) in zip(raised.value.problems, wanted, strict=True):
        where = re.escape(f"{tmp_path / file}: column {column!r}: ")
        assert re.fullmatch(where + expected.format(kind, dtype), problem), problem


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_a_missing_date_is_called_missing(tmp_path: Path, fmt: str) -> None:
    """A NaT in a parquet datetime column was "date NaT at row 2 has a time of day" (NaT is
    not its own midnight); an empty CSV cell was "unparseable date nan"."""
    dates = pd.Series(pd.to_datetime(["2022-03-01", None, "2022-03-03"]))
    frame = pd.DataFrame({"date": dates, "a": [1.0, 2.0, 3.0]})
    if fmt == "csv":
        frame.to_csv(tmp_path / "d.csv", index=False)
    else:
        frame.to_parquet(tmp_path / "d.parquet")
    manifest = {
        "name": "t",
        "start": "2022-03-01",
        "end": "2022-03-03",
        "sources": {"s": {"resolution": "daily", "file": f"d.{fmt}"}},
        "tasks": {"daily_forecast": "derived"},
    }
    (tmp_path / "manifest.yaml").write_text(yaml.safe_dump(manifest))
    with pytest.raises(DataError) as raised:
        load_dataset(tmp_path)
    assert raised.value.problems == [
        f"{tmp_path / f'd.{fmt}'}: column 'date': missing date at row 2 (1 in all); every row "
        "needs one (Y-m-d)"
    ]


@pytest.mark.parametrize("suffix", ["-99", "garbage", "-01 12:00", "-1x"])
def test_a_month_is_refused_unless_all_of_it_is_a_month_or_a_day(ds: Path, suffix: str) -> None:
    """A month was cut to its first 7 characters before parsing: 2022-02-99 or
    2022-02garbage was read as 2022-02 without a word."""
    month = pd.read_csv(ds / "monthly" / "iom.csv", dtype=str)["month"].iloc[0]

    def bad(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[0, "month"] = month + suffix
        return df

    _edit(ds / "monthly" / "iom.csv", bad)
    assert (
        f"iom.csv: column 'month': unparseable month '{month}{suffix}' at row 1; expected Y-m "
        "(or a day of it, Y-m-d)"
    ) in _problems(ds)


@pytest.mark.parametrize("suffix", ["", "-01", "-28"])
def test_a_month_is_a_year_and_month_or_a_day_of_that_month(ds: Path, suffix: str) -> None:
    month = pd.read_csv(ds / "monthly" / "iom.csv", dtype=str)["month"].iloc[0]
    before = load_dataset(ds).sources["iom"].values

    def day(df: pd.DataFrame) -> pd.DataFrame:
        df.loc[0, "month"] = month + suffix
        return df

    _edit(ds / "monthly" / "iom.csv", day)
    np.testing.assert_array_equal(load_dataset(ds).sources["iom"].values, before)


def test_a_manifest_date_with_a_time_of_day_is_refused(ds: Path) -> None:
    """YAML reads `start: 2022-02-24 12:00:00` as a datetime, which passed as a date and
    then counted days from noon; midnight is that date."""
    man = yaml.safe_load((ds / "manifest.yaml").read_text())
    start = dt.date.fromisoformat(str(man["start"]))
    man["start"] = dt.datetime.combine(start, dt.time(12))  # dumped unquoted, read back so
    (ds / "manifest.yaml").write_text(yaml.safe_dump(man))
    assert f"start: expected a date YYYY-MM-DD, got {start} 12:00:00" in _problems(ds)
    man["start"] = dt.datetime.combine(start, dt.time(0))
    (ds / "manifest.yaml").write_text(yaml.safe_dump(man))
    assert load_dataset(ds).start == start


def _manifest(ds: Path, edit) -> None:
    man = yaml.safe_load((ds / "manifest.yaml").read_text())
    edit(man)
    (ds / "manifest.yaml").write_text(yaml.safe_dump(man))


def test_an_empty_features_list_is_refused_not_read_as_any_columns(ds: Path) -> None:
    """`features: []` lists no column: an error at the field, not "no list given"."""
    _manifest(ds, lambda man: man["sources"]["equipment"].update(features=[]))
    assert "sources.equipment.features: expected a non-empty list of column names" in (
        _problems(ds)
    )


def test_a_duplicate_feature_is_named_at_the_field(ds: Path) -> None:
    """A column listed twice is named as such (it loaded, as two features of one column)."""

    def twice(man: dict) -> None:
        feats = man["sources"]["equipment"]["features"]
        feats.append(feats[1])

    _manifest(ds, twice)
    text = _problems(ds)
    assert "sources.equipment.features: column(s) listed more than once: ['" in text


def test_a_manifest_name_must_be_text(ds: Path) -> None:
    """`name: null` (or an empty name) was read as the name 'None'."""
    _manifest(ds, lambda man: man.update(name=None))
    assert "manifest.yaml: name: expected the dataset's name (text), got None" in _problems(ds)


def test_the_dataset_name_is_the_manifest_name_not_a_file_it_names(ds: Path) -> None:
    """The check of the named files reused `name` as its loop variable: the dataset was
    named after the last file the manifest names (raions.csv here)."""
    _manifest(ds, lambda man: man.update(name="my-dataset"))
    assert read_manifest(ds).name == "my-dataset"
    assert load_dataset(ds).name == "my-dataset"


def test_a_manifest_date_is_written_yyyy_mm_dd(ds: Path) -> None:
    """`start: 20220224` is a YAML integer, read as a date through ISO's basic form."""
    _manifest(ds, lambda man: man.update(start=20220224))
    assert "manifest.yaml: start: expected an ISO date YYYY-MM-DD, got 20220224" in _problems(ds)


def test_a_dataset_path_that_is_a_file_is_named_as_one(ds: Path) -> None:
    """A file given as the dataset directory is not "a directory that does not exist"."""
    text = _problems(ds / "manifest.yaml")
    assert "manifest.yaml: is a file, not a dataset directory" in text
    assert "does not exist" not in text
    assert "does not exist" in _problems(ds / "nosuch")


def test_a_manifest_key_given_twice_is_named_with_its_line(ds: Path) -> None:
    """YAML alone keeps the second ``name:`` and drops the first without a word."""
    path = ds / "manifest.yaml"
    lines = path.read_text().splitlines()
    path.write_text("\n".join([*lines, "name: again", ""]))
    assert f"manifest.yaml, line {len(lines) + 1}: the key 'name' is given twice" in _problems(ds)


def test_a_parquet_written_with_its_dates_as_the_index_is_read_with_them(
    tmp_path: Path,
) -> None:
    """df.set_index("date").to_parquet() keeps the dates in the index, which was refused as
    "missing key column 'date'" though the file holds them; a target's month index is read
    as its column too. An unnamed index (pandas' default) adds no column."""
    days = pd.date_range("2022-03-01", periods=60)
    daily = pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "a": range(60)})
    daily.set_index("date").to_parquet(tmp_path / "d.parquet")
    months = pd.DataFrame({"month": ["2022-03", "2022-04"], "value": [0.5, 1.5]})
    months.set_index("month").to_parquet(tmp_path / "anomaly.parquet")
    _parquet_manifest(tmp_path, str(days[-1].date()))
    raw = load_dataset(tmp_path)
    assert raw.sources["s"].features == ("a",)
    assert list(read_table(tmp_path / "d.parquet").columns) == ["date", "a"]
    months.to_parquet(tmp_path / "plain.parquet")  # a default index
    assert list(read_table(tmp_path / "plain.parquet").columns) == ["month", "value"]
