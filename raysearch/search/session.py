"""The Ray a search runs on: a local one started for it (and shut down after), or an existing
cluster joined with ``address``; what it offers is what the resource plan fits trials into."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import ray
from ray.tune import ResultGrid, Tuner

from raysearch.core.errors import ConfigError

__all__ = [
    "CONNECT_TIMEOUT_S",
    "FREQUENT_SNAPSHOT_ENV",
    "HEALTH_CHECK_ENV",
    "HEALTH_CHECK_INTERVAL_S",
    "RAY_ADDRESS_ENV",
    "Cluster",
    "Joined",
    "check_address",
    "fit",
    "joined_address",
    "local_ray_env",
    "ray_session",
    "unreachable",
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


# How long the driver waits for a TCP answer at a host:port ``address`` before it calls it
# unreachable. Ray itself retries an address where nothing answers for minutes (over 5 at
# Ray 2.58), logging only its retries.
CONNECT_TIMEOUT_S = 10.0
LOCAL_HOSTS = ("localhost", "127.0.0.1")


def unreachable(address: str, timeout_s: float = CONNECT_TIMEOUT_S) -> str | None:
    """Why nothing answers at ``address`` when it names a host and port (``host:port`` or
    ``ray://host:port``): the connection's error; None if something answers, or if the
    address is not of that form ('auto', 'local': Ray finds those itself). As Ray does, a
    local host also counts as this node's IP address."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not host or not port.isdigit():
        return None
    hosts = [host.strip("[]")]
    if hosts[0] in LOCAL_HOSTS:
        hosts.append(ray.util.get_node_ip_address())
    errors = []
    for name in hosts:
        try:
            socket.create_connection((name, int(port)), timeout=timeout_s).close()
        except OSError as err:
            errors.append(f"{name}:{port}: {err}")
        else:
            return None
    return "; ".join(errors)


# ray.init() with no address joins the cluster this variable names (`ray job submit` sets it
# for a job's driver; a shell may keep one from an earlier cluster).
RAY_ADDRESS_ENV = "RAY_ADDRESS"


@dataclass(frozen=True)
class Joined:
    """The address Ray will join and where it came from: ``field`` ("address": given, or
    RAY_ADDRESS: the environment's, with no address given) and how to do without it."""

    address: str
    field: str
    instead: str


def joined_address(address: str | None) -> Joined | None:
    """What ``ray.init(address=address)`` joins: ``address``, else the environment's
    RAY_ADDRESS; None where it starts a local Ray."""
    if address is not None:
        return Joined(address, "address", "leave out --address")
    if env := os.environ.get(RAY_ADDRESS_ENV):
        return Joined(env, RAY_ADDRESS_ENV, f"unset {RAY_ADDRESS_ENV} for a local Ray")
    return None


def check_address(address: str | None) -> None:
    """A ConfigError naming the address Ray would join (``joined_address``) where it is a
    URL Ray cannot join (http://, the dashboard's and the jobs API's, is the likely one) or
    where nothing answers at it (``unreachable``); nothing to check for a local Ray."""
    joined = joined_address(address)
    if joined is None:
        return
    given, name = joined.address, joined.field
    scheme, sep, _ = given.partition("://")
    if sep and scheme != "ray":
        raise ConfigError(
            [
                f"{name}: {given!r} is a {scheme}:// address (the dashboard's or the jobs "
                "API's, for `ray job submit`), not one Ray can join; give the head's address "
                "(host:6379, what `ray start --head` prints), 'auto' on a cluster's node, or "
                f"ray://host:10001 for Ray Client; or {joined.instead}"
            ],
            "Ray cluster",
        )
    if (why := unreachable(given)) is not None:
        raise ConfigError(
            [
                f"{name}: nothing answers at {given!r} ({why}); check the host and port "
                f"(`ray start --head` prints the address to join), or {joined.instead}"
            ],
            "Ray cluster",
        )


@dataclass(frozen=True)
class Cluster:
    """What the Ray cluster offers: ``ray.cluster_resources()`` and its largest node's GPUs."""

    resources: dict[str, float]
    max_node_gpus: float
    init_s: float  # seconds spent starting (or joining) Ray; 0 when it was already up


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


def fit(tuner: Tuner) -> ResultGrid:
    """``tuner.fit()`` without Tune's frequent-snapshot warning
    (``FREQUENT_SNAPSHOT_ENV``), the environment restored after it."""
    with _environment({FREQUENT_SNAPSHOT_ENV: os.environ.get(FREQUENT_SNAPSHOT_ENV, "0")}):
        return tuner.fit()


@contextmanager
def ray_session(address: str | None, health_check_s: float | None = None) -> Iterator[Cluster]:
    """Start a local Ray (``address`` None) or join one; shut down only a Ray started here.
    A Ray already initialised in this process (a notebook, a test) is used as it is. A local
    Ray inherits this process's environment, with ``local_ray_env(health_check_s)``. An
    address to join (``address``, else RAY_ADDRESS) where Ray finds no cluster, or a
    host:port where nothing answers within ``CONNECT_TIMEOUT_S`` (``unreachable``), is a
    ConfigError naming it."""
    started = not ray.is_initialized()
    joined = joined_address(address)
    local = started and joined is None
    began = time.perf_counter()
    with _environment(local_ray_env(health_check_s) if local else {}):
        if started:
            check_address(address)
            try:
                ray.init(address=address, logging_level=logging.WARNING, configure_logging=False)
            except ConnectionError as err:
                if joined is None:  # a local Ray that did not start: not the user's input
                    raise
                raise ConfigError(
                    [
                        f"{joined.field}: no Ray cluster to join at {joined.address!r} (Ray: "
                        f"{err}); start one (`ray start --head`, `ray up cluster.yaml`) or "
                        f"{joined.instead}"
                    ],
                    "Ray cluster",
                ) from None
        try:
            nodes = [n for n in ray.nodes() if n.get("Alive")]
            max_gpus = max((n["Resources"].get("GPU", 0.0) for n in nodes), default=0.0)
            init_s = time.perf_counter() - began if started else 0.0
            yield Cluster(dict(ray.cluster_resources()), float(max_gpus), init_s)
        finally:
            if started:
                ray.shutdown()
