"""The environment of a Ray the driver starts: Ray Train's poll interval is a RunOptions
setting, applied for the session only, and refused where it cannot apply; Tune's warning
about frequent snapshots is off while a search fits, unless the user set it."""

from __future__ import annotations

import os

import pytest

from raysearch.core.errors import ConfigError
from raysearch.search.plan import RunOptions, resolve_search
from raysearch.search.session import (
    FREQUENT_SNAPSHOT_ENV,
    HEALTH_CHECK_ENV,
    HEALTH_CHECK_INTERVAL_S,
    _environment,
    fit,
    local_ray_env,
)


def test_the_setting_wins_else_the_variable_else_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(HEALTH_CHECK_ENV, raising=False)
    assert local_ray_env(None) == {HEALTH_CHECK_ENV: HEALTH_CHECK_INTERVAL_S}
    assert local_ray_env(2.0) == {HEALTH_CHECK_ENV: "2.0"}
    monkeypatch.setenv(HEALTH_CHECK_ENV, "1.25")
    assert local_ray_env(None) == {HEALTH_CHECK_ENV: "1.25"}
    assert local_ray_env(0.5) == {HEALTH_CHECK_ENV: "0.5"}


def test_the_environment_is_restored_after_the_session(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(HEALTH_CHECK_ENV, raising=False)
    monkeypatch.setenv("RAYSEARCH_TEST_KEPT", "old")
    with _environment({HEALTH_CHECK_ENV: "2.0", "RAYSEARCH_TEST_KEPT": "new"}):
        assert os.environ[HEALTH_CHECK_ENV] == "2.0"
        assert os.environ["RAYSEARCH_TEST_KEPT"] == "new"
    assert HEALTH_CHECK_ENV not in os.environ
    assert os.environ["RAYSEARCH_TEST_KEPT"] == "old"


@pytest.mark.parametrize("value", [0.0, -1.0])
def test_a_bad_interval_is_refused_before_ray(value: float) -> None:
    with pytest.raises(ConfigError, match="health_check_s: must be > 0"):
        resolve_search(RunOptions(space="smoke", health_check_s=value), {"CPU": 2.0})


def test_an_interval_for_a_joined_cluster_is_refused() -> None:
    options = RunOptions(space="smoke", health_check_s=2.0, address="ray://head:10001")
    with pytest.raises(ConfigError, match="applies to a Ray the driver starts"):
        resolve_search(options, {"CPU": 2.0})
    plan = resolve_search(RunOptions(space="smoke", address="ray://head:10001"), {"CPU": 2.0})
    assert plan.space.name == "smoke"  # the default (None) is fine on a cluster


class _Tuner:
    """Records the warning threshold Tune would read when ``fit`` builds its controller."""

    def __init__(self) -> None:
        self.seen: str | None = None

    def fit(self) -> str:
        self.seen = os.environ.get(FREQUENT_SNAPSHOT_ENV)
        return "grid"


def test_fit_silences_the_frequent_snapshot_warning_for_the_fit_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(FREQUENT_SNAPSHOT_ENV, raising=False)
    tuner = _Tuner()
    assert fit(tuner) == "grid"  # type: ignore[arg-type]
    assert tuner.seen == "0"
    assert FREQUENT_SNAPSHOT_ENV not in os.environ


def test_fit_keeps_a_threshold_the_user_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FREQUENT_SNAPSHOT_ENV, "2.5")
    tuner = _Tuner()
    fit(tuner)  # type: ignore[arg-type]
    assert tuner.seen == "2.5"
    assert os.environ[FREQUENT_SNAPSHOT_ENV] == "2.5"
