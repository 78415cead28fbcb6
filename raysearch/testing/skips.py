"""A pytest plugin: ``--only-gpu-skips`` fails the session when a test skips for a reason
that does not mention the GPU.

Every test runs on a CPU machine except the ones that need a CUDA device, so any other
skip is a test that silently stopped testing (a missing data file, an import that failed).
``make test`` and CI pass the flag (with ``-rs``, which prints every skip reason);
tests/conftest.py loads the plugin.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

__all__ = ["GPU_REASON", "SkipCheck", "allowed_skip", "skip_reason"]

GPU_REASON = re.compile(r"\b(gpu|cuda)\b", re.IGNORECASE)


def allowed_skip(reason: str) -> bool:
    """True when a skip reason says the test needs a GPU."""
    return GPU_REASON.search(reason) is not None


def skip_reason(report: pytest.TestReport) -> str:
    longrepr: Any = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # (path, line, "Skipped: ...")
        return str(longrepr[2])
    return str(longrepr)


class SkipCheck:
    """Records the skips whose reason is not "no GPU"; fails the session if there are any."""

    def __init__(self) -> None:
        self.bad: list[str] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if report.skipped and not hasattr(report, "wasxfail"):  # an xfail is not a skip
            reason = skip_reason(report)
            if not allowed_skip(reason):
                self.bad.append(f"{report.nodeid}: {reason}")

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.bad and session.exitstatus in (
            pytest.ExitCode.OK,
            pytest.ExitCode.NO_TESTS_COLLECTED,
        ):
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.bad:
            terminalreporter.section("skipped for a reason other than no GPU", red=True)
            for line in self.bad:
                terminalreporter.line(line)
            terminalreporter.line(
                f"--only-gpu-skips: {len(self.bad)} test(s) skipped for a reason that does "
                "not mention the GPU; the session fails"
            )


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--only-gpu-skips",
        action="store_true",
        default=False,
        help="fail the session if a test skips for a reason that does not mention the GPU",
    )


def pytest_configure(config: pytest.Config) -> None:
    if config.getoption("--only-gpu-skips"):
        config.pluginmanager.register(SkipCheck(), "raysearch-only-gpu-skips")
