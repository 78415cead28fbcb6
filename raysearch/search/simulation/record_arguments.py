"""The checks of ``record_curves``' arguments (``raysearch curves``' flags) that need no
space: each one's type and range, the table to write, the directories, a keyword it does
not take and the cluster at ``address``; each problem names its argument as the caller
wrote it (``Names``: the command line's flags or record_curves' keywords).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeGuard

from raysearch.core.errors import ConfigError, not_an_argument
from raysearch.core.files import directory_problem, why_no_file
from raysearch.core.numbers import is_int
from raysearch.search.address import check_address
from raysearch.search.names import Names

__all__ = [
    "KEYWORDS",
    "address_problems",
    "address_used",
    "argument_problems",
    "data_problem",
    "out_problem",
    "seeds_problem",
]

# record_curves' keywords, in its signature's order (a misspelt one is offered the closest)
KEYWORDS = ("space", "out", "data", "seeds", "points", "processes", "address", "device",
            "cache_dir", "log")  # fmt: skip
# the arguments and the types each takes (None: left out)
_PATHS = ("space", "out", "data", "cache_dir")
_COUNTS = ("seeds", "points", "processes")
_TEXTS = ("address", "device")


def out_problem(table: Path) -> str | None:
    """Why the table cannot be written to ``table`` (None: it can)."""
    if table.suffix != ".parquet":
        return f"{table} is not a .parquet file"
    return why_no_file(table)  # a directory there, or a file in the way


def seeds_problem(seeds: int, names: Names) -> str | None:
    return f"{names.head('seeds')}: at least 1, got {seeds!r}" if seeds < 1 else None


def data_problem(data: str | os.PathLike[str] | None, names: Names) -> str | None:
    if data is not None and not Path(data).is_dir():
        return f"{names.head('data')}: {os.fspath(data)!r} is not a directory"
    return None


def argument_problems(names: Names, unknown: dict[str, Any], **given: Any) -> list[str]:
    """What is wrong with the arguments of record_curves that can be told without the
    space: a keyword it does not take (``unknown``: each, with its value), said first, as
    Python would; then each argument's type, then (of the right type) its range, the out
    file and the directories; each named by ``names``."""
    problems = [not_an_argument(name, names.call, KEYWORDS) for name in unknown]
    for name, value in given.items():
        if value is None and name not in ("space", "seeds"):
            continue  # None: the default (log=None: no progress lines)
        if name in _PATHS and not isinstance(value, str | os.PathLike):
            problems.append(f"{names.head(name)}: expected a str or a path, got {value!r}")
        elif name in _COUNTS and not is_int(value):
            problems.append(f"{names.head(name)}: expected a whole number, got {value!r}")
        elif name in _TEXTS and not isinstance(value, str):
            problems.append(f"{names.head(name)}: expected a str, got {value!r}")
        elif name == "out" and (why := out_problem(Path(value))):
            problems.append(f"{names.head('out')}: {why}")
        elif name == "data" and (why := data_problem(value, names)):
            problems.append(why)
        elif name == "seeds" and (why := seeds_problem(value, names)):
            problems.append(why)
        elif name == "points" and value < 2:
            problems.append(f"{names.head('points')}: at least 2, got {value!r}")
        elif name == "processes" and value < 1:
            problems.append(f"{names.head('processes')}: at least 1, got {value!r}")
        elif name == "cache_dir" and (why := directory_problem(value)):
            problems.append(
                f"{names.head('cache_dir')}: {why}; give a directory for the data cache"
            )
        elif name == "log" and not callable(value):
            problems.append(
                f"{names.head('log')}: expected a function taking each progress line (a str), "
                f"or None, got {value!r}"
            )
    return problems


def address_used(address: object, out: object) -> TypeGuard[str]:
    """Whether a recording would join the cluster at ``address``: not where a table given
    as ``out`` is there already (it trains nothing), nor for an address of the wrong type
    (one of the problems already)."""
    return isinstance(address, str) and not (isinstance(out, str | Path) and Path(out).is_file())


def address_problems(address: str, names: Names) -> list[str]:
    """What is wrong with the cluster at ``address`` ([]: a Ray cluster answers there)."""
    try:
        check_address(address, names)
    except ConfigError as err:
        return list(err.problems)
    return []
