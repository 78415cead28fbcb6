"""The Ray a search runs on: a local one started for it (and shut down after), or an existing
cluster joined with ``address``; what it offers is what the resource plan fits trials into."""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import ray
from ray.tune import ResultGrid, Tuner

from raysearch.core.signals import rays_sigterm_exit_as_ctrl_c, sigterm_as_ctrl_c
from raysearch.search.address import Joined, check_address, joined_address, no_cluster
from raysearch.search.names import CLI, Names
from raysearch.search.optuna_log import optuna_warnings_only
from raysearch.search.resources import Node

__all__ = [
    "FREQUENT_SNAPSHOT_ENV",
    "HEALTH_CHECK_ENV",
    "HEALTH_CHECK_INTERVAL_S",
    "Cluster",
    "fit",
    "local_ray_env",
    "ray_session",
]

# Ray Train's controller polls its workers (and forwards their reports) every 2 s by
# default; each Ray Train trial waits for a poll to see its workers start and finish
# (bench/overhead.py measures it). A local Ray started by the driver polls every
# ``health_check_s`` (RunOptions.health_check_s): by default the variable's value if it is
# set, else 0.5 s. On a cluster, set the variable where `ray start` runs.
HEALTH_CHECK_ENV = "RAY_TRAIN_HEALTH_CHECK_INTERVAL_S"
HEALTH_CHECK_INTERVAL_S = "0.5"
# Tune warns whenever it snapshots the experiment twice within 5 s, which it must each time
# a trial has saved ``num_to_keep`` checkpoints, and a raysearch trial saves one per epoch:
# with epochs of a second (--smoke, tiny spaces) that is every other epoch, and `make smoke`
# printed the warning three times. Its advice (keep more checkpoints, save them less often)
# is to raysearch, not to the user, who has no flag for either. A snapshot slow to save
# still warns (Tune's TUNE_WARN_SLOW_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S), and a value
# the user set is kept.
FREQUENT_SNAPSHOT_ENV = "TUNE_WARN_EXCESSIVE_EXPERIMENT_CHECKPOINT_SYNC_THRESHOLD_S"
# Tune's newer console output ignores the progress reporter (raysearch's trial table) and
# prints a box of every configuration and result instead, for each trial; "0" keeps the
# table, for a search started from the command line and from Python alike. A value the user
# set is kept.
NEW_OUTPUT_ENV = "RAY_AIR_NEW_OUTPUT"


@dataclass(frozen=True)
class Cluster:
    """What the Ray cluster offers: its live nodes' CPUs and GPUs."""

    nodes: tuple[Node, ...]
    init_s: float  # seconds spent starting (or joining) Ray; 0 when it was already up

    @property
    def cpus(self) -> float:
        return sum(n.cpus for n in self.nodes)

    @property
    def gpus(self) -> float:
        return sum(n.gpus for n in self.nodes)


def local_ray_env(health_check_s: float | None) -> dict[str, str]:
    """The environment variables a local Ray started by the driver gets."""
    if health_check_s is None:
        return {HEALTH_CHECK_ENV: os.environ.get(HEALTH_CHECK_ENV, HEALTH_CHECK_INTERVAL_S)}
    return {HEALTH_CHECK_ENV: str(health_check_s)}


@contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """``values`` in os.environ for the block, the previous values restored after it."""
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


class _NoRestoreHint(logging.Filter):
    """Drops Tune's hint on an interrupted fit ('Resume experiment with: Tuner.restore(...)'):
    raysearch says how to continue the search (``--resume RUN_DIR``), and a Tuner restored
    by hand would leave the run's own files (its study, its summary) behind."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(TUNE_RESTORE_HINT)


TUNE_RESTORE_HINT = "Experiment has been interrupted"  # ray/tune/tune.py, logger ray.tune.tune


def fit(tuner: Tuner) -> ResultGrid:
    """``tuner.fit()`` without Tune's frequent-snapshot warning (``FREQUENT_SNAPSHOT_ENV``)
    and its own resume hint (``_NoRestoreHint``), with raysearch's trial table
    (``NEW_OUTPUT_ENV``), the environment restored after it; and Ctrl+C's handler too:
    Tune sets its own for the fit and leaves it behind unless a Ctrl+C came, so a Ctrl+C
    after the fit (while the results are written) did nothing. Optuna's INFO lines ("A new
    study created in Journal with name: raysearch") are left out, its warnings kept, and
    its verbosity restored after."""
    main_thread = threading.current_thread() is threading.main_thread()
    sigint = signal.getsignal(signal.SIGINT) if main_thread else None
    hint, tune_log = _NoRestoreHint(), logging.getLogger("ray.tune.tune")
    tune_log.addFilter(hint)
    try:
        with (
            optuna_warnings_only(),
            _environment(
                {
                    FREQUENT_SNAPSHOT_ENV: os.environ.get(FREQUENT_SNAPSHOT_ENV, "0"),
                    NEW_OUTPUT_ENV: os.environ.get(NEW_OUTPUT_ENV, "0"),
                }
            ),
        ):
            return tuner.fit()
    finally:
        tune_log.removeFilter(hint)
        if sigint is not None:
            signal.signal(signal.SIGINT, sigint)


@contextmanager
def ray_session(
    address: str | None, health_check_s: float | None = None, names: Names = CLI
) -> Iterator[Cluster]:
    """Start a local Ray (``address`` None) or join one; shut down only a Ray started here.
    A Ray already initialised in this process (a notebook, a test) is used as it is. A local
    Ray inherits this process's environment, with ``local_ray_env(health_check_s)``. An
    address to join (``address``, else RAY_ADDRESS) where Ray finds no cluster, or a
    host:port where nothing answers within ``CONNECT_TIMEOUT_S`` (``unreachable``), is a
    ConfigError naming it (``names``: how it names the option, ``RunOptions.names``)."""
    started = not ray.is_initialized()
    joined = joined_address(address, names)
    local = started and joined is None
    began = time.perf_counter()
    # ray.init makes SIGTERM a sys.exit, which Tune does not catch: while this Ray is up,
    # SIGTERM is Ctrl+C (core/signals.py), and afterwards what it was before. A SIGTERM
    # within ray.init, where Ray's handler is already set, is Ctrl+C too (its exit becomes
    # a KeyboardInterrupt). Within ray.shutdown Ray gives SIGTERM its default disposition
    # (below Python's handler, which no longer runs), so a SIGTERM during the shutdown
    # itself still ends the process.
    take_sigterm = started and threading.current_thread() is threading.main_thread()
    sigterm_before = signal.getsignal(signal.SIGTERM)  # None: one not set from Python
    with _environment(local_ray_env(health_check_s) if local else {}):
        if started:
            check_address(address, names)
        try:
            if started:
                with rays_sigterm_exit_as_ctrl_c():
                    _init(address, joined)
                    if take_sigterm:
                        signal.signal(signal.SIGTERM, sigterm_as_ctrl_c)
            try:
                nodes = tuple(
                    Node(float(r.get("CPU", 0.0)), float(r.get("GPU", 0.0)))
                    for r in (n["Resources"] for n in ray.nodes() if n.get("Alive"))
                )
                init_s = time.perf_counter() - began if started else 0.0
                yield Cluster(nodes, init_s)
            finally:
                if started:
                    _shutdown()
        finally:  # also after a ray.init that failed or was interrupted
            if take_sigterm:
                signal.signal(signal.SIGTERM, sigterm_before or signal.SIG_DFL)


def _shutdown() -> None:
    """``ray.shutdown``; one a Ctrl+C cut short is finished before the Ctrl+C goes on: a Ray
    half shut down stays initialised in this process, where the next search (a notebook's)
    would use it as it is. A second Ctrl+C stops that too."""
    try:
        ray.shutdown()
    except KeyboardInterrupt:
        ray.shutdown()
        raise


def _init(address: str | None, joined: Joined | None) -> None:
    """``ray.init``; no cluster at the address to join (``joined``) is a ConfigError naming
    it."""
    try:
        ray.init(address=address, logging_level=logging.WARNING, configure_logging=False)
    except ConnectionError as err:
        if joined is None:  # a local Ray that did not start: not the user's input
            raise
        raise no_cluster(joined, err) from None
