"""The environment of a Ray the driver starts: Ray Train's poll interval is a RunOptions
setting, applied for the session only, and refused where it cannot apply; Tune's warning
about frequent snapshots and its newer output are off while a search fits, unless the user
set them. An address
where nothing answers is refused at once, naming it, before Ray tries to join. While the
session's Ray is up (and within ray.init) SIGTERM is Ctrl+C, and afterwards what it was
before; within and after a fit SIGTERM is Ctrl+C also where SIGINT is ignored."""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import socket
from collections.abc import Iterator

import pytest
from ray.tune.tune import _setup_signal_catching  # what Tuner.fit does with SIGINT

from raysearch.core.errors import ConfigError
from raysearch.core.signals import sigterm_as_ctrl_c
from raysearch.search.address import (
    RAY_ADDRESS_ENV,
    Joined,
    check_address,
    joined_address,
    unreachable,
)
from raysearch.search.names import API
from raysearch.search.options import RunOptions
from raysearch.search.plan import resolve_search
from raysearch.search.resources import Node
from raysearch.search.session import (
    FREQUENT_SNAPSHOT_ENV,
    HEALTH_CHECK_ENV,
    HEALTH_CHECK_INTERVAL_S,
    NEW_OUTPUT_ENV,
    _environment,
    fit,
    local_ray_env,
    ray_session,
)


def closed_port() -> int:
    """A port on this machine where nothing listens (one the OS just handed out, closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def listening() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield int(s.getsockname()[1])


def test_an_address_is_reachable_where_something_listens_and_not_where_nothing_does(
    listening: int,
) -> None:
    assert unreachable(f"127.0.0.1:{listening}") is None
    assert unreachable(f"ray://127.0.0.1:{listening}") is None
    port = closed_port()
    why = unreachable(f"127.0.0.1:{port}", timeout_s=2.0)
    assert why is not None and f"127.0.0.1:{port}" in why
    assert unreachable(f"ray://localhost:{port}", timeout_s=2.0) is not None


@pytest.mark.parametrize("address", ["auto", "local", "head", "head:port"])
def test_an_address_without_a_host_and_port_is_left_to_ray(address: str) -> None:
    assert unreachable(address) is None


def _refused(address: str | None, monkeypatch: pytest.MonkeyPatch) -> str:
    """The ConfigError a session at ``address`` raises before Ray is asked to join."""
    monkeypatch.setattr("raysearch.search.session.ray.init", pytest.fail)
    with pytest.raises(ConfigError) as refused:
        with ray_session(address):
            pytest.fail("the session began")
    return str(refused.value)


@pytest.mark.parametrize("scheme", ["", "ray://"])
def test_a_session_at_an_address_where_nothing_answers_is_refused_before_ray_joins(
    scheme: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    address = f"{scheme}127.0.0.1:{closed_port()}"
    assert f"address: nothing answers at '{address}'" in _refused(address, monkeypatch)


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
    with pytest.raises(ConfigError, match="health_check_s: must be a number of seconds > 0"):
        resolve_search(RunOptions(space="smoke", health_check_s=value), {"CPU": 2.0})


def test_an_interval_for_the_cluster_ray_address_names_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(RAY_ADDRESS_ENV, "head:6379")
    options = RunOptions(space="smoke", health_check_s=2.0)
    with pytest.raises(ConfigError, match="not to the cluster at RAY_ADDRESS 'head:6379'"):
        resolve_search(options, {"CPU": 2.0})


def test_an_interval_for_a_joined_cluster_is_refused() -> None:
    options = RunOptions(space="smoke", health_check_s=2.0, address="ray://head:10001")
    with pytest.raises(ConfigError, match="applies to a Ray the driver starts"):
        resolve_search(options, {"CPU": 2.0})
    plan = resolve_search(RunOptions(space="smoke", address="ray://head:10001"), {"CPU": 2.0})
    assert plan.space.name == "smoke"  # the default (None) is fine on a cluster


@pytest.mark.parametrize("smoke", [False, True])
def test_an_interval_for_trials_with_no_worker_group_to_poll_is_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path, smoke: bool
) -> None:
    """run_search('smoke', smoke=True, health_check_s=5) ran a whole search and said
    nothing: a trial of one worker (the default; --smoke leaves workers_per_trial as given,
    and the finalists' replicates train as the trials do) trains in-process, with no worker
    group for Ray Train to poll. A resume goes on with the options its run started with."""
    monkeypatch.delenv(RAY_ADDRESS_ENV, raising=False)
    options = RunOptions(space="smoke", smoke=smoke, health_check_s=5, results=str(tmp_path))
    with pytest.raises(ConfigError) as err:
        resolve_search(options, {"CPU": 2.0})
    assert err.value.problems == [
        "health_check_s=5: sets how often Ray Train polls a multi-worker trial's workers, and "
        "this search's trials and finalist replicates train in-process, one worker each "
        "(workers_per_trial=1), with no workers to poll; give workers_per_trial=N with N >= 2, "
        "or leave health_check_s= out"
    ]
    with pytest.raises(ConfigError) as err:  # each reason it does nothing, said together
        resolve_search(dataclasses.replace(options, address="ray://head:10001"), {"CPU": 2.0})
    assert [p.split(":")[0] for p in err.value.problems] == ["health_check_s=5"] * 2
    two = resolve_search(dataclasses.replace(options, workers_per_trial=2), {"CPU": 4.0})
    assert two.setup.resources.workers_per_trial == 2
    resumed = dataclasses.replace(options, resume=str(tmp_path / "smoke" / "run"))
    assert resolve_search(resumed, {"CPU": 2.0}).space.name == "smoke"
    assert not any(tmp_path.iterdir())


class _Tuner:
    """Records the warning threshold Tune would read when ``fit`` builds its controller."""

    def __init__(self) -> None:
        self.seen: str | None = None

    def fit(self) -> str:
        self.seen = os.environ.get(FREQUENT_SNAPSHOT_ENV)
        self.output = os.environ.get(NEW_OUTPUT_ENV)
        return "grid"


def test_fit_drops_tunes_own_resume_hint_and_keeps_its_other_warnings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An interrupted search printed Tune's 'Resume experiment with: Tuner.restore(...)' just
    above raysearch's 'continue it with: ... --resume RUN_DIR'. Found by a walkthrough."""
    tune_log = logging.getLogger("ray.tune.tune")

    class Interrupted:
        def fit(self) -> str:
            tune_log.warning(
                "Experiment has been interrupted, but the most recent state was saved.\n"
                "Resume experiment with: Tuner.restore(path='/x', trainable=...)"
            )
            tune_log.warning("Total run time: 3.00 seconds")
            return "grid"

    with caplog.at_level(logging.WARNING, logger="ray.tune.tune"):
        assert fit(Interrupted()) == "grid"  # type: ignore[arg-type]
        tune_log.warning("Experiment has been interrupted, after the fit")
    assert "Tuner.restore" not in caplog.text and "Total run time" in caplog.text
    assert "after the fit" in caplog.text  # the filter is the fit's alone


def test_fit_leaves_out_optunas_info_lines_and_keeps_its_warnings() -> None:
    """Each search printed Optuna's '[I ...] A new study created in Journal with name:
    raysearch' beside the trial table (a Python-API helper)."""
    import optuna

    said: list[int] = []  # the levels Optuna's loggers say during the fit

    class Study:
        def fit(self) -> str:
            optuna_log = optuna.logging.get_logger("optuna.storages")
            said.extend(v for v in (logging.INFO, logging.WARNING) if optuna_log.isEnabledFor(v))
            return "grid"

    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(logging.INFO)
    try:
        assert fit(Study()) == "grid"  # type: ignore[arg-type]
        assert said == [logging.WARNING]
        assert optuna.logging.get_verbosity() == logging.INFO  # put back after the fit
    finally:
        optuna.logging.set_verbosity(before)


def test_fit_silences_the_frequent_snapshot_warning_for_the_fit_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(FREQUENT_SNAPSHOT_ENV, raising=False)
    tuner = _Tuner()
    assert fit(tuner) == "grid"  # type: ignore[arg-type]
    assert tuner.seen == "0"
    assert FREQUENT_SNAPSHOT_ENV not in os.environ


def test_fit_keeps_raysearchs_trial_table_from_python_too(monkeypatch) -> None:
    """A search started from Python (run_search, a notebook) gets the trial table as the
    command line does: Tune's newer output, which ignores the progress reporter, is off
    for the fit, unless the user turned it on."""
    monkeypatch.delenv(NEW_OUTPUT_ENV, raising=False)
    tuner = _Tuner()
    fit(tuner)  # type: ignore[arg-type]
    assert tuner.output == "0"
    assert NEW_OUTPUT_ENV not in os.environ
    monkeypatch.setenv(NEW_OUTPUT_ENV, "1")
    fit(tuner)  # type: ignore[arg-type]
    assert tuner.output == "1"


def test_fit_puts_back_the_ctrl_c_handler_tune_leaves_behind() -> None:
    """Tune sets its own SIGINT handler for a fit (it sets an event the ended fit no longer
    reads) and leaves it there unless a Ctrl+C came: a Ctrl+C after the fit did nothing."""

    class TuneLike(_Tuner):
        def fit(self) -> str:
            signal.signal(signal.SIGINT, lambda signum, frame: None)  # as Tune does
            return super().fit()

    sigint = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        assert fit(TuneLike()) == "grid"  # type: ignore[arg-type]
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, sigint)


def test_sigterm_is_ctrl_c_within_and_after_a_fit_with_sigint_ignored() -> None:
    """A driver that inherited SIGINT ignored (``raysearch run ... &`` in a shell script):
    within the fit a SIGTERM is Tune's Ctrl+C (Tune's own handler: it stops the search and
    saves it), a second one a second Ctrl+C; after the fit SIGINT is ignored again, and a
    SIGTERM is still Ctrl+C (it used to be logged and then ignored)."""
    stopped: list[bool] = []

    class TuneLike(_Tuner):
        def fit(self) -> str:
            interrupted = _setup_signal_catching()  # Tune's handler, as Tuner.fit sets it
            signal.raise_signal(signal.SIGTERM)
            stopped.append(interrupted.is_set())
            with pytest.raises(KeyboardInterrupt):  # Tune put SIGINT back: ignored
                signal.raise_signal(signal.SIGTERM)
            return super().fit()

    sigterm = signal.signal(signal.SIGTERM, sigterm_as_ctrl_c)
    sigint = signal.signal(signal.SIGINT, signal.SIG_IGN)
    sigusr1 = signal.getsignal(signal.SIGUSR1)  # Tune takes it for the fit too
    try:
        assert fit(TuneLike()) == "grid"  # type: ignore[arg-type]
        assert stopped == [True]
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
        with pytest.raises(KeyboardInterrupt):
            signal.raise_signal(signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, sigterm)
        signal.signal(signal.SIGINT, sigint)
        signal.signal(signal.SIGUSR1, sigusr1)


def test_fit_keeps_a_threshold_the_user_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(FREQUENT_SNAPSHOT_ENV, "2.5")
    tuner = _Tuner()
    fit(tuner)  # type: ignore[arg-type]
    assert tuner.seen == "2.5"
    assert os.environ[FREQUENT_SNAPSHOT_ENV] == "2.5"


@pytest.mark.parametrize("address", ["http://127.0.0.1:8265", "https://head:443"])
def test_a_url_ray_cannot_join_is_refused_saying_which_address_to_give(
    address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = _refused(address, monkeypatch)
    assert f"  - --address: '{address}' is a {address.split(':')[0]}:// address" in refused
    assert "host:6379" in refused and refused.endswith("or leave out --address")
    with pytest.raises(ConfigError) as err:  # from Python: the keyword, at its head too
        check_address(address, API)
    assert err.value.problems[0].startswith(f"address: '{address}' is a")
    assert err.value.problems[0].endswith("or leave out address=")


def test_the_address_joined_is_the_one_given_else_the_environments(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(RAY_ADDRESS_ENV, raising=False)
    assert joined_address(None) is None  # a local Ray
    assert joined_address("auto") == Joined("auto", "--address", "leave out --address")
    assert joined_address("auto", API) == Joined("auto", "address", "leave out address=")
    monkeypatch.setenv(RAY_ADDRESS_ENV, "head:6379")
    assert joined_address("auto").address == "auto"  # given wins
    assert joined_address(None) == Joined(
        "head:6379", RAY_ADDRESS_ENV, f"unset {RAY_ADDRESS_ENV} for a local Ray"
    )


def test_a_ray_address_in_the_environment_where_nothing_answers_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    address = f"127.0.0.1:{closed_port()}"
    monkeypatch.setenv(RAY_ADDRESS_ENV, address)
    refused = _refused(None, monkeypatch)
    assert f"RAY_ADDRESS: nothing answers at '{address}'" in refused
    assert "unset RAY_ADDRESS for a local Ray" in refused


def test_no_cluster_at_the_environments_address_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_cluster(**kwargs: object) -> None:  # what ray.init raises where none runs
        raise ConnectionError("Could not find any running Ray instance.")

    monkeypatch.setattr("raysearch.search.session.ray.init", no_cluster)
    monkeypatch.setenv(RAY_ADDRESS_ENV, "auto")
    with pytest.raises(ConfigError, match="RAY_ADDRESS: no Ray cluster to join at 'auto'"):
        with ray_session(None):
            pytest.fail("the session began")


@pytest.mark.parametrize("address", ["not an address", "garbage", "head:", ":6379", "h:port"])
def test_an_address_ray_cannot_parse_is_refused_naming_it(
    address: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(RAY_ADDRESS_ENV, raising=False)
    refused = _refused(address, monkeypatch)
    assert f"address: '{address}' is not an address Ray can join" in refused
    monkeypatch.setenv(RAY_ADDRESS_ENV, address)  # the same from the environment
    assert f"RAY_ADDRESS: '{address}' is not an address" in _refused(None, monkeypatch)


def test_sigterm_is_ctrl_c_while_the_sessions_ray_is_up_and_as_before_after(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ray.init makes SIGTERM a sys.exit (as the stand-in below does), which Tune does not
    catch; after the session, the handler from before ray.init is back (not Ray's, which
    exited mid-way through writing the results)."""

    def rays_handler(signum: int, frame: object) -> None:
        raise SystemExit(signum)

    def init(**kwargs: object) -> None:
        signal.signal(signal.SIGTERM, rays_handler)

    def mine(signum: int, frame: object) -> None:
        raise AssertionError("the handler from before the session")

    monkeypatch.delenv(RAY_ADDRESS_ENV, raising=False)
    for name, stand_in in {
        "is_initialized": lambda: False,
        "init": init,
        "nodes": lambda: [],
        "shutdown": lambda: None,
    }.items():
        monkeypatch.setattr(f"raysearch.search.session.ray.{name}", stand_in)
    before = signal.signal(signal.SIGTERM, mine)
    # Ctrl+C as Python takes it (a Tune fit earlier in this process may have left its own)
    sigint = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with ray_session(None):
            assert signal.getsignal(signal.SIGTERM) is sigterm_as_ctrl_c
            with pytest.raises(KeyboardInterrupt):
                signal.raise_signal(signal.SIGTERM)
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, before)
        signal.signal(signal.SIGINT, sigint)


def test_sigterm_within_ray_init_is_ctrl_c_and_the_handler_from_before_is_back(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """ray.init sets Ray's SIGTERM handler (sys.exit(signum)) first thing; a SIGTERM that
    lands within it, before the session could put its own in, is Ctrl+C's KeyboardInterrupt
    too (not an exit with status 15 and no word), and the handler from before is back."""

    def init(**kwargs: object) -> None:
        def rays_handler(signum: int, frame: object) -> None:
            raise SystemExit(signum)

        signal.signal(signal.SIGTERM, rays_handler)
        signal.raise_signal(signal.SIGTERM)  # as Ray starts its processes
        pytest.fail("ray.init went on after Ray's SIGTERM handler")

    def mine(signum: int, frame: object) -> None:
        raise AssertionError("the handler from before the session")

    monkeypatch.delenv(RAY_ADDRESS_ENV, raising=False)
    monkeypatch.setattr("raysearch.search.session.ray.is_initialized", lambda: False)
    monkeypatch.setattr("raysearch.search.session.ray.init", init)
    before = signal.signal(signal.SIGTERM, mine)
    try:
        with pytest.raises(KeyboardInterrupt):
            with ray_session(None):
                pytest.fail("the session began")
        assert signal.getsignal(signal.SIGTERM) is mine
    finally:
        signal.signal(signal.SIGTERM, before)
    assert "SIGTERM: stopping as Ctrl+C does" in caplog.text


def test_a_ctrl_c_within_the_sessions_shutdown_finishes_it_and_goes_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Ctrl+C as Ray shuts down (run_search's results are written by then) left this
    process's Ray half shut down, still initialised, for the next search here to use as it
    was (found by a review helper). The shutdown is finished, then the Ctrl+C goes on."""
    shutdowns: list[int] = []

    def shutdown() -> None:
        shutdowns.append(len(shutdowns))
        if len(shutdowns) == 1:
            raise KeyboardInterrupt

    monkeypatch.delenv(RAY_ADDRESS_ENV, raising=False)
    for name, stand_in in {
        "is_initialized": lambda: False,
        "init": lambda **kwargs: None,
        "nodes": lambda: [],
        "shutdown": shutdown,
    }.items():
        monkeypatch.setattr(f"raysearch.search.session.ray.{name}", stand_in)
    with pytest.raises(KeyboardInterrupt), ray_session(None):
        pass
    assert shutdowns == [0, 1]


def test_a_session_offers_the_live_nodes_of_the_cluster(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the resource plan fits trials into: each live node's CPUs and GPUs (a node that
    left the cluster is not counted)."""
    nodes = [
        {"Alive": True, "Resources": {"CPU": 0.0, "memory": 1e9}},
        {"Alive": True, "Resources": {"CPU": 4.0, "GPU": 1.0}},
        {"Alive": False, "Resources": {"CPU": 48.0, "GPU": 4.0}},
    ]
    monkeypatch.setattr("raysearch.search.session.ray.is_initialized", lambda: True)
    monkeypatch.setattr("raysearch.search.session.ray.nodes", lambda: nodes)
    with ray_session(None) as cluster:
        assert cluster.nodes == (Node(0.0, 0.0), Node(4.0, 1.0))
        assert (cluster.cpus, cluster.gpus) == (4.0, 1.0)


def test_auto_where_ray_finds_no_cluster_is_refused_before_the_data(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """--address auto where no cluster runs prepared and cached the data, and only then did
    ray.init refuse it. Ray's own lookup (stood in for here: a cluster may run on the
    machine) is asked first. Found by a walkthrough helper."""
    monkeypatch.delenv(RAY_ADDRESS_ENV, raising=False)

    def none_found(address: str) -> str:
        raise ConnectionError("Could not find any running Ray instance.")

    services = "ray._private.services.canonicalize_bootstrap_address"
    monkeypatch.setattr(services, none_found)
    with pytest.raises(ConfigError) as err:
        check_address("auto")
    assert err.value.problems == [
        "--address: no Ray cluster to join at 'auto' (Ray: Could not find any running Ray "
        "instance.); start one (`ray start --head`, `ray up cluster.yaml`) or leave out "
        "--address"
    ]
    monkeypatch.setattr(services, lambda address: "10.0.0.1:6379")  # one found
    check_address("auto")
