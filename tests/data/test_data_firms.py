"""The NASA FIRMS archive adapter on small CSV fixtures in the documented format."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import numpy as np
import pytest

from raysearch.cli.data import main
from raysearch.core.errors import DataError
from raysearch.data.adapters.firms import FIRMS_FEATURES, assign_raions, firms_raw, read_firms
from raysearch.data.contract import load_dataset

FIXTURES = Path(__file__).parent / "fixtures"
SMALL = FIXTURES / "firms_small.csv"
MALFORMED = FIXTURES / "firms_malformed.csv"


def _feature(values: np.ndarray, name: str) -> np.ndarray:
    return values[..., FIRMS_FEATURES.index(name)]


def test_daily_features_by_hand() -> None:
    raw, report = firms_raw(SMALL)
    assert str(raw.start) == "2024-06-01" and raw.n_days == 3
    assert report == {"malformed": 0, "outside_dates": 0, "outside_raions": 0}
    v = raw.sources["firms"].values
    assert v.shape == (3, 13) and raw.sources["firms"].features == FIRMS_FEATURES
    day1 = dict(zip(FIRMS_FEATURES, v[0].tolist(), strict=True))
    expected = {
        "fire_count": 3, "brightness_mean": 340, "brightness_max": 350,
        "brightness_std": math.sqrt(200 / 3), "bright_t31_mean": 886 / 3,
        "bright_t31_max": 300, "frp_sum": 60, "frp_mean": 20, "frp_max": 30,
        "high_confidence_count": 1, "daytime_count": 2, "scan_mean": 0.5, "track_mean": 0.5,
    }  # fmt: skip
    assert day1 == pytest.approx(expected, rel=1e-5)
    assert _feature(v, "brightness_std")[2] == 0.0  # one fire
    assert _feature(v, "daytime_count")[2] == 0 and _feature(v, "frp_sum")[2] == 4.5


def test_a_day_without_fires_is_zero_count_and_unobserved_means() -> None:
    v = firms_raw(SMALL)[0].sources["firms"].values[1]  # 2024-06-02: no detection
    for name in ("fire_count", "frp_sum", "high_confidence_count", "daytime_count"):
        assert _feature(v, name) == 0
    for name in ("brightness_mean", "brightness_max", "frp_mean", "scan_mean", "track_mean"):
        assert np.isnan(_feature(v, name))


def test_explicit_date_range_pads_and_drops() -> None:
    raw, report = firms_raw(SMALL, start="2024-05-30", end="2024-06-02")
    v = raw.sources["firms"].values
    assert raw.n_days == 4 and _feature(v, "fire_count").tolist() == [0, 0, 3, 0]
    assert report["outside_dates"] == 1  # the 2024-06-03 fire


def test_a_range_without_a_detection_is_refused_naming_the_files_dates() -> None:
    said = r"firms_small.csv: no detection in 2025-06-01 .. 2025-06-03; its detections run "
    with pytest.raises(DataError, match=said + r"2024-06-01 .. 2024-06-03"):
        firms_raw(SMALL, start="2025-06-01", end="2025-06-03")


FAR_POLYGON = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}


@pytest.mark.parametrize(
    ("geometry", "within"),
    [
        ("raion,lat,lon\nKyivskyi,30.52,50.45\n", "50 km of any centroid (are its lat and lon"),
        (
            json.dumps({"features": [{"properties": {"name": "far"}, "geometry": FAR_POLYGON}]}),
            "any polygon",
        ),
    ],
    ids=["swapped_centroid", "polygon_elsewhere"],
)
def test_a_geometry_no_detection_lies_in_is_refused_naming_it(
    tmp_path: Path, geometry: str, within: str
) -> None:
    path = tmp_path / ("raions.csv" if geometry.startswith("raion") else "raions.geojson")
    path.write_text(geometry)
    detections = r"none of the 4 detections of .*firms_small.csv in 2024-06-01 .. 2024-06-03"
    with pytest.raises(
        DataError, match=rf"{path.name}: {detections} lies within {re.escape(within)}"
    ):
        firms_raw(SMALL, path)


def test_malformed_rows_are_all_named_in_one_error() -> None:
    with pytest.raises(DataError) as info:
        read_firms(MALFORMED)
    text = str(info.value)
    assert "row 2: malformed brightness='hot'" in text
    assert "row 3: malformed acq_date='2024-06-31'" in text
    assert "row 4: malformed frp='', confidence='x'" in text
    assert "row 5: malformed daynight='E'" in text
    assert "row 1:" not in text and "row 6:" not in text
    with pytest.raises(DataError, match=r"row 5: malformed daynight='E', latitude='95\.00'"):
        read_firms(MALFORMED, need_coords=True)


def test_skip_malformed_drops_and_counts() -> None:
    raw, report = firms_raw(MALFORMED, skip_malformed=True)
    assert report["malformed"] == 4
    assert _feature(raw.sources["firms"].values, "fire_count").tolist() == [1, 0, 1]


def test_missing_column_and_missing_file(tmp_path: Path) -> None:
    bad = tmp_path / "f.csv"
    bad.write_text("acq_date,brightness\n2024-06-01,300\n")
    with pytest.raises(DataError, match=r"missing column\(s\) \['bright_t31'"):
        read_firms(bad)
    with pytest.raises(DataError, match="file missing"):
        read_firms(tmp_path / "nope.csv")
    no_coords = tmp_path / "no_coords.csv"
    lines = SMALL.read_text().splitlines()
    no_coords.write_text("\n".join(",".join(r.split(",")[2:]) for r in lines) + "\n")
    with pytest.raises(DataError, match=r"missing column\(s\) \['latitude', 'longitude'\]"):
        firms_raw(no_coords, FIXTURES / "raions_centroids.csv")


def test_raion_variant_from_centroids() -> None:
    raw, report = firms_raw(SMALL, FIXTURES / "raions_centroids.csv")
    assert raw.raions == ("Kyivskyi", "Kharkivskyi", "Odeskyi")
    per = raw.sources["firms_raion"].values
    assert per.shape == (3, 3, 13) and report["outside_raions"] == 0
    assert _feature(per, "fire_count").tolist() == [[2, 1, 0], [0, 0, 0], [0, 1, 0]]
    assert _feature(per, "frp_sum")[0].tolist() == [30, 30, 0]
    assert np.isnan(_feature(per, "frp_mean")[0, 2])  # Odeskyi: no fire
    # the raion counts add up to the national ones
    np.testing.assert_allclose(
        _feature(per, "fire_count").sum(1), _feature(raw.sources["firms"].values, "fire_count")
    )


def test_raion_variant_from_geojson_polygons() -> None:
    raw, report = firms_raw(SMALL, FIXTURES / "raions.geojson")
    assert raw.raions == ("Kyivskyi", "Kharkivskyi")
    counts = _feature(raw.sources["firms_raion"].values, "fire_count")
    assert counts.tolist() == [[2, 1], [0, 0], [0, 0]]  # the 36.25 E fire is east of the box
    assert report["outside_raions"] == 1


def test_nearest_centroid_respects_the_distance_limit() -> None:
    cents = np.array([[50.0, 30.0], [48.0, 35.0]])
    idx = assign_raions(np.array([50.1, 48.2, 40.0]), np.array([30.1, 35.0, 20.0]), cents, None)
    assert idx.tolist() == [0, 1, -1]


def test_cli_writes_a_loadable_dataset(tmp_path: Path, capsys) -> None:
    out = tmp_path / "firms"
    argv = ["firms", str(SMALL), str(out), "--raions", str(FIXTURES / "raions_centroids.csv")]
    assert main(argv) == 0
    assert "dropped rows: malformed 0" in capsys.readouterr().out
    back = load_dataset(out)
    assert set(back.sources) == {"firms", "firms_raion"}
    assert back.sources["firms_raion"].values.shape == (3, 3, 13)
    assert main(["firms", str(MALFORMED), str(tmp_path / "bad")]) == 2
    assert "row 2: malformed brightness='hot'" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()  # nothing half-written
    assert main(["firms", str(MALFORMED), str(tmp_path / "ok"), "--skip-malformed"]) == 0
    assert "dropped rows: malformed 4" in capsys.readouterr().out


def test_zero_padded_raion_codes_make_a_dataset_that_loads_back(tmp_path: Path) -> None:
    """Centroids named 0101 and 0102 wrote a dataset the loader refused: it read
    raions.csv's names as the numbers 101 and 102, which the raion source does not name."""
    centroids = tmp_path / "centroids.csv"
    centroids.write_text("raion,lat,lon\n0101,50.45,30.52\n0102,49.99,36.23\n")
    out = tmp_path / "firms"
    assert main(["firms", str(SMALL), str(out), "--raions", str(centroids)]) == 0
    assert load_dataset(out).raions == ("0101", "0102")


def test_an_empty_firms_csv_is_one_error_naming_the_file(tmp_path: Path) -> None:
    """A file with no header row is a DataError naming it, not pandas' EmptyDataError."""
    empty = tmp_path / "firms.csv"
    empty.write_text("")
    with pytest.raises(DataError, match=rf"{re.escape(str(empty))}: empty file \(expected a NASA"):
        firms_raw(empty)


@pytest.mark.parametrize("flag", ["start", "end"])
@pytest.mark.parametrize("value", ["2022-13-01", "yesterday", "2024-06-01T12:00", "20240601"])
def test_start_and_end_are_days_yyyy_mm_dd_or_one_error_quoting_them(flag: str, value: str) -> None:
    """A bad --start/--end is one error quoting it; a time of day is refused, not read as a
    range starting at noon that drops that day's detections as outside the dates."""
    with pytest.raises(DataError, match=rf"{flag} {value!r}: expected a date YYYY-MM-DD"):
        firms_raw(SMALL, **{flag: value})


def test_a_bad_start_and_end_are_reported_together() -> None:
    with pytest.raises(DataError) as info:
        firms_raw(SMALL, start="2024-06-01T12:00", end="yesterday")
    assert len(info.value.problems) == 2


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("raions.csv", "", r"empty file \(expected raion geometry"),
        ("raions.csv", "raion,lat,lon\nA,abc,35.0\nB,50.0,181\n",
         r"row 1: lat 'abc', expected a number in -90\.\.90\n.*row 2: lon '181'"),
        ("raions.csv", "raion,lat,lon\n", "no raions"),
        ("raions.geojson", "{not json", r"not valid JSON"),
        ("raions.geojson", "[1, 2]", "expected a GeoJSON FeatureCollection"),
        ("raions.geojson", '{"features": [1]}',
         "feature 1: expected a GeoJSON Feature object, got 1"),
        ("raions.geojson", '{"features": [{"properties": {"name": "A"}, "geometry": '
         '{"type": "Polygon", "coordinates": [[1, 2]]}}]}',
         "feature 1: coordinates: expected rings of .lon, lat. pairs"),
    ],
)  # fmt: skip
def test_a_bad_geometry_file_is_one_error_naming_the_file(
    tmp_path: Path, name: str, text: str, expected: str
) -> None:
    """A centroid CSV or a GeoJSON that cannot give raion geometry: one DataError naming
    the file and what is wrong, not a pandas or json traceback."""
    geometry = tmp_path / name
    geometry.write_text(text)
    with pytest.raises(DataError, match=rf"{re.escape(str(geometry))}: {expected}"):
        firms_raw(SMALL, geometry)


def test_cli_refuses_a_start_with_a_time_of_day(tmp_path: Path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["firms", str(SMALL), str(out), "--start", "2024-06-01T12:00"]) == 2
    assert "start '2024-06-01T12:00': expected a date YYYY-MM-DD" in capsys.readouterr().err
    assert not out.exists()


def test_cli_refuses_a_geojson_that_names_a_raion_twice(tmp_path: Path, capsys) -> None:
    """Two polygons of one name: the centroid CSV refused it, the GeoJSON did not, and the
    command wrote a dataset the loader refuses (a duplicate raion, duplicate raion-days)."""
    doc = json.loads((FIXTURES / "raions.geojson").read_text())
    for feature in doc["features"]:
        feature["properties"]["name"] = "Kyivskyi"
    geometry = tmp_path / "twice.geojson"
    geometry.write_text(json.dumps(doc))
    out = tmp_path / "out"
    assert main(["firms", str(SMALL), str(out), "--raions", str(geometry)]) == 2
    err = capsys.readouterr().err
    assert f"{geometry}: duplicate raion names ['Kyivskyi'] (properties.name)" in err
    assert not out.exists()
