"""A pytest plugin for ``make test``'s second phase, the integration tests (``-m
integration`` alone): it imports only the test files that name the mark, as
``pytest.mark.integration``. Importing every other test module, to select none of their
tests, was 6 s of that phase's 9.6 s of collection on 2 cores (``pytest --co -m
integration``: 14.8 s in all before, 7.7 s after).

So a test marked integration must sit in a file that names the mark so. Every session that
collects a test file checks it: a file whose tests are marked another way (``from pytest
import mark``, a conftest) is a collection error, which pytest-xdist's workers report too,
failing the first phase rather than going unrun in the second. tests/conftest.py loads the
plugin.
"""

from __future__ import annotations

import functools
from collections.abc import Generator
from pathlib import Path

import pytest

__all__ = ["INTEGRATION_MARK", "names_integration_mark"]

INTEGRATION_MARK = "pytest.mark.integration"


@functools.cache
def names_integration_mark(path: Path) -> bool:
    """Whether the test file at ``path`` names the mark (read once per session)."""
    return INTEGRATION_MARK in path.read_text()


def pytest_ignore_collect(collection_path: Path, config: pytest.Config) -> bool | None:
    if (
        config.getoption("markexpr") == "integration"
        and collection_path.suffix == ".py"
        and collection_path.name.startswith("test_")
        and not names_integration_mark(collection_path)
    ):
        return True
    return None  # pytest's own rules decide


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    if report.passed and isinstance(collector, pytest.Module | pytest.Class):
        marked = [
            item.name
            for item in report.result
            if isinstance(item, pytest.Item) and item.get_closest_marker("integration")
        ]
        if marked and not names_integration_mark(collector.path):
            report.outcome = "failed"
            report.longrepr = (
                f"{', '.join(marked)} marked integration, but {collector.path.name} does not "
                f"name {INTEGRATION_MARK!r}: make test's integration phase (-m integration) "
                "would not collect it (raysearch/testing/phases.py); mark it with "
                "pytest.mark.integration"
            )
            report.result = []
    return report
