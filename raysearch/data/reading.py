"""Reading the text files a dataset and the data adapters take (the manifest, CSV tables,
JSON): a file that cannot be read, is not UTF-8 text or is not a well-formed CSV is one
``DataError`` naming it, never a traceback. ``read_parquet`` is how raysearch reads every
parquet file (a dataset's, a run's tables, a table of curves)."""

from __future__ import annotations

import codecs
import csv
import io
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.fs

from raysearch.core.errors import DataError

__all__ = ["read_csv", "read_parquet", "read_text"]

_PANDAS_UNNAMED = re.compile(r"Unnamed: \d+")
_LOCAL_FILES = pyarrow.fs.LocalFileSystem()


def read_parquet(path: str | Path) -> pd.DataFrame:
    """``pandas.read_parquet(path)``'s frame (its ``attrs`` too), with pyarrow opening the
    file itself. Given a path alone, pandas opens it and hands pyarrow the Python file;
    a process that read parquet so then aborted at exit about 1 time in 20 ("terminate
    called without an active exception", exit status 134, after its own output: Arrow's
    threads outliving the interpreter; apache/arrow issues 34314 and 50482). Given a
    filesystem, pandas passes the path on. bench/parquet_exit.py measures both ways.
    Raises what pandas raises (OSError, pyarrow's ArrowInvalid: a ValueError)."""
    return pd.read_parquet(str(path), filesystem=_LOCAL_FILES)


def read_text(path: Path, expected: str) -> str:
    """``path``'s text, decoded as UTF-8 (a leading byte-order mark dropped); a DataError
    naming the file if it cannot be read (no permission) or is not UTF-8. ``expected``:
    what the file should hold, said in the message."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(
            [f"{path}: cannot be read ({exc.strerror or exc}); expected {expected}"]
        ) from None
    data = data.removeprefix(codecs.BOM_UTF8)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(
            [
                f"{path}: not UTF-8 text (byte {data[exc.start]:#04x} on line {line}); "
                f"expected {expected}, saved as UTF-8"
            ]
        ) from None


def read_csv(path: Path, expected: str, **options: Any) -> pd.DataFrame:
    """``path`` read by ``pandas.read_csv(..., **options)``; a DataError naming the file if
    it is not UTF-8, is empty (no header row) or is not a well-formed CSV: a row whose
    fields are more or fewer than the header's names is refused (pandas would fill the
    missing ones as missing values, or take the first column for the index)."""
    text = read_text(path, expected)
    problems = _structure(path, text)
    if problems:
        raise DataError(problems, f"CSV file {path}")
    try:
        return pd.read_csv(io.StringIO(text), **options)
    except pd.errors.EmptyDataError:
        raise DataError([f"{path}: empty file (expected {expected})"]) from None
    except pd.errors.ParserError as exc:
        raise DataError([f"{path}: not a well-formed CSV ({exc}); expected {expected}"]) from None


def _structure(path: Path, text: str) -> list[str]:
    """The problems of ``text`` as a CSV: a header column without a name, a quote never
    closed, and a row whose fields are not one per name in the header (an empty field is a
    missing value). Blank lines are skipped, as pandas does; rows count from 1 below the
    header, as the data contract counts them."""
    # no field is longer than the text: the csv module's own limit (131,072 characters)
    # would refuse a field pandas reads
    limit = csv.field_size_limit(max(csv.field_size_limit(), len(text) + 1))
    try:
        try:
            return _rows(path, text, strict=True)
        except csv.Error:  # strict refuses quoting pandas reads ('"ab"c' as abc): count anyway
            return _rows(path, text, strict=False)
    except csv.Error as exc:
        return [f"{path}: not a well-formed CSV ({exc})"]
    finally:
        csv.field_size_limit(limit)


def _rows(path: Path, text: str, strict: bool) -> list[str]:
    reader = csv.reader(io.StringIO(text, newline=""), strict=strict)
    header: list[str] | None = None
    row, line, problems, ragged = 0, 0, [], []
    try:
        for fields in reader:
            first, line = line + 1, reader.line_num  # a quoted field may span lines
            if len(fields) <= 1 and not "".join(fields).strip():  # a blank line
                continue
            if header is None:
                header = fields
                problems += _header(path, header)
                continue
            row += 1
            if len(fields) != len(header):
                ragged.append((row, first, len(fields)))
    except csv.Error as exc:
        if strict and str(exc) == "unexpected end of data":  # the csv module's words for it
            where = "the header" if header is None else f"row {row + 1} (line {line + 1})"
            return [f"{path}: not a well-formed CSV: a quote opened in {where} is never closed"]
        raise
    if ragged:
        assert header is not None, "rows below a header"
        row, first, n = ragged[0]
        problems.append(
            f"{path}: not a well-formed CSV: row {row} (line {first}) has {n} field(s) where "
            f"the header has {len(header)} ({len(ragged)} such row(s) in all); every row "
            "needs one field per column, an empty one for a missing value"
        )
    return problems


def _header(path: Path, header: list[str]) -> list[str]:
    """The problems of a CSV's header: a column without a name, or named as pandas names
    one without (``Unnamed: 0``: an index written by ``to_csv`` without ``index=False``),
    would be read as a feature; a name given twice would be renamed by pandas (``a.1``)."""
    problems = []
    for j, name in enumerate(header, start=1):
        if not name.strip():
            why = " (an index written by pandas' to_csv without index=False?)" if j == 1 else ""
            problems.append(f"{path}: column {j} of the header has no name{why}; every column "
                            "needs one")  # fmt: skip
        elif _PANDAS_UNNAMED.fullmatch(name.strip()):
            problems.append(
                f"{path}: column {j} of the header is named {name!r}, pandas' name for a "
                "column that had none (an index written by to_csv without index=False); "
                "name it or leave it out"
            )
    for name in dict.fromkeys(n for n in header if n.strip() and header.count(n) > 1):
        at = " and ".join(str(j) for j, n in enumerate(header, start=1) if n == name)
        problems.append(f"{path}: column name {name!r} is given to columns {at} of the header; "
                        "each column needs a name of its own")  # fmt: skip
    return problems
