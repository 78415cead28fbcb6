"""The text files a dataset and the adapters take (manifest, CSV, JSON, GeoJSON): one that is
not UTF-8 text or not a well-formed CSV is one DataError naming it, never a traceback."""

from __future__ import annotations

import ast
import csv
import datetime as dt
import textwrap
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest

from raysearch.cli.data import main
from raysearch.core.errors import DataError
from raysearch.data.adapters.firms import firms_raw
from raysearch.data.adapters.war_losses import EQUIPMENT_FILE, PERSONNEL_FILE, war_losses_raw
from raysearch.data.adapters.war_phases import daily_phases
from raysearch.data.contract import load_dataset
from raysearch.data.reading import read_csv, read_parquet

FIXTURES = Path(__file__).parent / "fixtures"
LATIN1 = b"Kyi\xefv"  # "Kyiv" with a latin-1 i-diaeresis: not UTF-8


def user_dataset(root: Path, days: int = 60) -> Path:
    """A small valid dataset as a user writes it: one daily source, a regime target."""
    root.mkdir(parents=True, exist_ok=True)
    dates = pd.date_range("2022-01-01", periods=days)
    pd.DataFrame(
        {"date": dates.strftime("%Y-%m-%d"), "a": range(days), "b": [i % 7 for i in range(days)]}
    ).to_csv(root / "daily.csv", index=False)
    months = pd.period_range(dates[0], dates[-1], freq="M")
    pd.DataFrame(
        {"month": months.strftime("%Y-%m"), "value": [i % 4 for i in range(len(months))]}
    ).to_csv(root / "regime.csv", index=False)
    (root / "manifest.yaml").write_text(
        textwrap.dedent(
            f"""\
            name: mine
            start: {dates[0].date()}
            end: {dates[-1].date()}
            sources:
              s: {{resolution: daily, file: daily.csv}}
            tasks:
              regime: regime.csv
              daily_forecast: derived
            """
        )
    )
    return root


def _losses(src: Path, equipment: bytes) -> Path:
    src.mkdir()
    (src / EQUIPMENT_FILE).write_bytes(equipment)
    (src / PERSONNEL_FILE).write_text('[{"date": "2022-02-25", "personnel": 1}]')
    return src


def _manifest(tmp: Path) -> tuple[Path, Callable[[], object]]:
    root = user_dataset(tmp / "ds")
    path = root / "manifest.yaml"
    path.write_bytes(path.read_bytes().replace(b"name: mine", b"name: " + LATIN1))
    return path, lambda: load_dataset(root)


def _source_csv(tmp: Path) -> tuple[Path, Callable[[], object]]:
    root = user_dataset(tmp / "ds")
    path = root / "daily.csv"
    path.write_bytes(path.read_bytes().replace(b"a,b\n", b"a," + LATIN1 + b"\n"))
    return path, lambda: load_dataset(root)


def _phases(tmp: Path) -> tuple[Path, Callable[[], object]]:
    path = tmp / "phases.csv"
    path.write_bytes(b"operation,start,end,coarse_class\n" + LATIN1 + b",2022-01-01,,1\n")
    return path, lambda: daily_phases(path, dt.date(2022, 1, 1), 30)


def _firms(tmp: Path) -> tuple[Path, Callable[[], object]]:
    path = tmp / "firms.csv"
    path.write_bytes(
        (FIXTURES / "firms_small.csv").read_bytes().replace(b"\n", b"," + LATIN1 + b"\n", 1)
    )
    return path, lambda: firms_raw(path)


def _centroids(tmp: Path) -> tuple[Path, Callable[[], object]]:
    path = tmp / "centroids.csv"
    path.write_bytes(b"raion,lat,lon\n" + LATIN1 + b",50.45,30.52\n")
    return path, lambda: firms_raw(FIXTURES / "firms_small.csv", path)


def _geojson(tmp: Path) -> tuple[Path, Callable[[], object]]:
    path = tmp / "raions.geojson"
    text = (FIXTURES / "raions.geojson").read_bytes()
    path.write_bytes(text.replace(b'"name": "', b'"name": "' + LATIN1, 1))
    return path, lambda: firms_raw(FIXTURES / "firms_small.csv", path)


def _losses_json(tmp: Path) -> tuple[Path, Callable[[], object]]:
    src = _losses(tmp / "src", b'[{"date": "2022-02-25", "tank": 1, "n": "' + LATIN1 + b'"}]')
    return src / EQUIPMENT_FILE, lambda: war_losses_raw(src)


@pytest.mark.parametrize(
    "make", [_manifest, _source_csv, _phases, _firms, _centroids, _geojson, _losses_json]
)
def test_text_that_is_not_utf8_is_one_data_error_naming_the_file_and_line(
    tmp_path: Path, make: Callable[[Path], tuple[Path, Callable[[], object]]]
) -> None:
    """Each raised UnicodeDecodeError (a traceback, exit 1), or, for a dataset's CSV, was
    refused quoting the codec's words ("'utf-8' codec can't decode byte 0xef ...")."""
    path, read = make(tmp_path)
    with pytest.raises(DataError) as info:
        read()
    assert info.value.problems == [
        f"{path}: not UTF-8 text (byte 0xef on line {_EXPECTED[make][1]}); "
        f"expected {_EXPECTED[make][0]}, saved as UTF-8"
    ]


_EXPECTED = {  # what the file should hold, and the line of the byte that is not UTF-8
    _manifest: ("the dataset's manifest (YAML)", 1),
    _source_csv: ("a CSV table with a header row", 1),
    _phases: ("the war-phases CSV: operation, start, end, coarse_class", 2),
    _firms: ("a NASA FIRMS archive CSV", 1),
    _centroids: ("raion geometry: a CSV raion, lat, lon", 2),
    _geojson: ("raion geometry: a GeoJSON FeatureCollection", 2),
    _losses_json: ("the daily losses JSON", 1),
}


def test_a_quote_never_closed_is_one_data_error_naming_the_file_and_row(tmp_path: Path) -> None:
    """A quote left open to the end of the file: pandas' ParserError was a traceback."""
    phases = tmp_path / "phases.csv"
    phases.write_text('operation,start,end,coarse_class\nA,2022-01-01,,1\n"Kyiv,2022-01-01,,1\n')
    with pytest.raises(DataError) as info:
        daily_phases(phases, dt.date(2022, 1, 1), 30)
    assert info.value.problems == [
        f"{phases}: not a well-formed CSV: a quote opened in row 2 (line 3) is never closed"
    ]


@pytest.mark.parametrize(
    ("text", "row", "line", "fields", "rows"),
    [
        ("date,a,b\n2022-01-01,1\n2022-01-02,2,3\n", 1, 2, 2, 1),  # pandas: b missing
        ("date,a,b\n2022-01-01,1,2\n\n2022-01-02,2,3,4\n", 2, 4, 4, 1),  # ParserError
        ("date,a,b\n2022-01-01,1,2,7\n2022-01-02,2,3,8\n", 1, 2, 4, 2),  # dates the index
    ],
)
def test_a_csv_row_whose_fields_are_not_the_headers_is_refused_naming_file_and_row(
    tmp_path: Path, text: str, row: int, line: int, fields: int, rows: int
) -> None:
    """Only an empty cell is a missing value: a row short of fields was read with NaN in
    the missing columns (its values perhaps under the wrong names), and a row with a field
    too many either failed in pandas (a traceback) or, when every row had one, made pandas
    take the dates for the index and refuse the file for a missing 'date' column."""
    root = user_dataset(tmp_path / "ds")
    daily = root / "daily.csv"
    daily.write_text(text)
    with pytest.raises(DataError) as info:
        load_dataset(root)
    assert info.value.problems == [
        f"{daily}: not a well-formed CSV: row {row} (line {line}) has {fields} field(s) where "
        f"the header has 3 ({rows} such row(s) in all); every row needs one field per column, "
        "an empty one for a missing value"
    ]


def test_the_data_commands_refuse_unreadable_text_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, _ = _manifest(tmp_path)
    root = path.parent
    assert main(["describe", str(root), "--daily-window", "20", "--monthly-window", "2"]) == 2
    assert f"{path}: not UTF-8 text" in capsys.readouterr().err
    path.write_text(path.read_bytes().decode("latin-1"))  # the same text, now UTF-8

    phases = tmp_path / "phases.csv"
    phases.write_text(
        "operation,start,end,coarse_class\nA,2022-01-01,2022-01-10,1\n"
        "B,2022-02-01,2022-02-10,1,extra,more\n"
    )
    assert main(["import-phases", str(phases), str(root), "--no-casualty"]) == 2
    assert f"{phases}: not a well-formed CSV" in capsys.readouterr().err

    firms, _ = _firms(tmp_path)
    assert main(["firms", str(firms), str(tmp_path / "out")]) == 2
    assert f"{firms}: not UTF-8 text" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()

    equipment, _ = _losses_json(tmp_path)
    assert main(["import-war-losses", str(equipment.parent), str(tmp_path / "out")]) == 2
    assert f"{equipment}: not UTF-8 text" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_manifest_that_cannot_be_read_is_one_data_error_naming_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A manifest without read permission raised PermissionError (a traceback, exit 1).
    (Root reads any file whatever its mode, so the refusal is simulated.)"""
    manifest = user_dataset(tmp_path / "ds") / "manifest.yaml"
    read_bytes = Path.read_bytes

    def denied(self: Path) -> bytes:
        if self == manifest:
            raise PermissionError(13, "Permission denied", str(self))
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", denied)
    argv = ["describe", str(manifest.parent), "--daily-window", "20", "--monthly-window", "2"]
    assert main(argv) == 2
    assert (
        f"{manifest}: cannot be read (Permission denied); expected the dataset's manifest (YAML)"
        in capsys.readouterr().err
    )


@pytest.mark.parametrize(
    ("write", "problem"),
    [
        (lambda df, path: df.to_csv(path), "column 1 of the header has no name (an index "
         "written by pandas' to_csv without index=False?); every column needs one"),
        (lambda df, path: df.reset_index().rename(columns={"index": "Unnamed: 0"}).to_csv(
            path, index=False), "column 1 of the header is named 'Unnamed: 0', pandas' name "
         "for a column that had none (an index written by to_csv without index=False); name "
         "it or leave it out"),
        (lambda df, path: df.assign(e="").to_csv(path, index=False, header=[*df.columns, ""]),
         "column 4 of the header has no name; every column needs one"),
    ],
    ids=["index written", "index renamed", "last column nameless"],
)  # fmt: skip
def test_a_header_column_without_a_name_is_refused_not_taken_as_a_feature(
    tmp_path: Path, write: Callable[[pd.DataFrame, Path], None], problem: str
) -> None:
    """A source's CSV written with pandas' index (df.to_csv(path)) was read with the
    feature 'Unnamed: 0', the row number, fed to the model when the manifest lists no
    features; so was a column named that way, or one with no name at all."""
    root = user_dataset(tmp_path / "ds")
    daily = root / "daily.csv"
    write(pd.read_csv(daily), daily)
    with pytest.raises(DataError) as info:
        load_dataset(root)
    assert info.value.problems == [f"{daily}: {problem}"]


def test_a_column_name_given_twice_is_refused_not_renamed(tmp_path: Path) -> None:
    """pandas renamed the second 'a' to 'a.1', a feature the user never named."""
    root = user_dataset(tmp_path / "ds")
    daily = root / "daily.csv"
    daily.write_text(daily.read_text().replace("date,a,b", "date,a,a", 1))
    with pytest.raises(DataError) as info:
        load_dataset(root)
    assert info.value.problems == [
        f"{daily}: column name 'a' is given to columns 2 and 3 of the header; each column "
        "needs a name of its own"
    ]


def test_a_field_longer_than_the_csv_modules_limit_is_read_as_pandas_reads_it(
    tmp_path: Path,
) -> None:
    """The rows were checked with the csv module, whose default limit of 131,072 characters
    a field refused a file pandas reads. The module's limit is left as it was. Found by a
    review helper."""
    path = tmp_path / "notes.csv"
    path.write_text("note,value\n" + "x" * 200_000 + ",1\n")
    before = csv.field_size_limit()
    assert read_csv(path, "a CSV table with a header row").shape == (1, 2)
    assert csv.field_size_limit() == before


def test_read_parquet_reads_what_pandas_reads_its_attrs_too(tmp_path: Path) -> None:
    """The frame, its dtypes, a named index and ``attrs`` (the plan of a table of curves)
    as pandas.read_parquet gives them, the path a str or a Path."""
    frame = pd.DataFrame(
        {"day": pd.date_range("2022-02-24", periods=3), "raion": ["0101", "0102", None],
         "value": [1.5, float("nan"), 3.0], "count": [1, 2, 3]}
    ).set_index("day")  # fmt: skip
    frame.attrs = {"plan": "abc123"}
    path = tmp_path / "t.parquet"
    frame.to_parquet(path)
    for given in (path, str(path)):
        read = read_parquet(given)
        pd.testing.assert_frame_equal(read, pd.read_parquet(path))
        assert read.attrs == {"plan": "abc123"}


def test_raysearch_reads_parquet_only_through_read_parquet() -> None:
    """pandas.read_parquet(path) hands pyarrow an open Python file, after which a process
    aborted at exit now and then (exit 134); read_parquet has pyarrow open the path. Every
    call of pd.read_parquet or pandas.read_parquet in raysearch/ and bench/ is found by
    parsing the code, not its text (a docstring may name it)."""
    root = Path(__file__).resolve().parents[2]
    allowed = root / "raysearch" / "data" / "reading.py"
    direct = [
        f"{path.relative_to(root)}:{node.lineno}"
        for folder in ("raysearch", "bench")
        for path in sorted((root / folder).rglob("*.py"))
        if path != allowed
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "read_parquet"
        and isinstance(node.func.value, ast.Name)
        and node.func.value.id in ("pd", "pandas")
    ]
    assert direct == []
