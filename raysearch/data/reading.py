"""Reading the text files a dataset and the data adapters take (the manifest, CSV tables,
JSON): a file that cannot be read, is not UTF-8 text or is not a well-formed CSV is one
``DataError`` naming it, never a traceback."""

from __future__ import annotations

import codecs
import io
from pathlib import Path
from typing import Any

import pandas as pd

from raysearch.core.errors import DataError

__all__ = ["read_csv", "read_text"]


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
    it is not UTF-8, is empty (no header row) or is not a well-formed CSV."""
    text = read_text(path, expected)
    try:
        return pd.read_csv(io.StringIO(text), **options)
    except pd.errors.EmptyDataError:
        raise DataError([f"{path}: empty file (expected {expected})"]) from None
    except pd.errors.ParserError as exc:
        raise DataError([f"{path}: not a well-formed CSV ({exc}); expected {expected}"]) from None
