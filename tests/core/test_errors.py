from __future__ import annotations

import multiprocessing
import pickle
from pathlib import Path

import pytest

from raysearch.core.errors import (
    ConfigError,
    DataError,
    ErrorCollector,
    ResultsNotWritten,
    SearchFailed,
    SearchInterrupted,
)
from raysearch.core.files import DuplicateKeyError


@pytest.mark.parametrize("kind", [ConfigError, DataError])
def test_an_error_raised_in_a_pool_worker_comes_back_with_its_problems_whole(
    kind: type[ConfigError] | type[DataError],
) -> None:
    """A worker of a process pool (``raysearch curves --processes N``) raises it; the pool
    pickles it back to the driver, which prints it as it was raised."""
    errs = ErrorCollector()
    errs.add("device", "'cuda' requested but no CUDA device is available")
    errs.add("seed", "must be at least 0, got -1")
    with pytest.raises(kind) as raised_here:
        errs.raise_if_any(kind, "trial config")
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        with pytest.raises(kind) as raised_there:
            pool.apply(errs.raise_if_any, (kind, "trial config"))
    assert raised_there.value.problems == errs.problems
    assert raised_there.value.context == "trial config"
    assert str(raised_there.value) == str(raised_here.value)
    assert "(2 problem(s))" in str(raised_there.value)


def test_a_duplicate_key_error_pickles_with_its_keys_and_document() -> None:
    err = DuplicateKeyError(["'a' again at line 3"], {"a": 2})
    back = pickle.loads(pickle.dumps(err))
    assert (back.duplicates, back.data, str(back)) == (err.duplicates, err.data, str(err))


@pytest.mark.parametrize(
    "err",
    [
        SearchInterrupted("stopped", run_dir=Path("r/smoke/a"), summary={"state": "interrupted"}),
        SearchInterrupted("stopped as it started"),  # nothing kept: no run_dir, no summary
        SearchFailed("every trial failed", run_dir=Path("r/smoke/a"), summary={"failed": 2}),
        ResultsNotWritten("could not write", run_dir=Path("r/smoke/a")),
        ResultsNotWritten("could not write the cache"),
    ],
    ids=repr,
)
def test_a_search_error_pickles_with_its_message_run_and_summary(
    err: SearchInterrupted | SearchFailed | ResultsNotWritten,
) -> None:
    """A script catching it reads run_dir (and summary) instead of parsing the message; a
    process pool or Ray carries it whole."""
    back = pickle.loads(pickle.dumps(err))
    assert (type(back), str(back), back.args) == (type(err), str(err), err.args)
    assert back.__dict__ == err.__dict__
    assert back.run_dir == err.run_dir
    if not isinstance(err, ResultsNotWritten):
        assert back.summary == err.summary
