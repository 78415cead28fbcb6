"""Which Ray cluster a search joins (``--address``, else the environment's RAY_ADDRESS, else
none: a local Ray) and whether anything answers there, checked before Ray tries to join:
Ray itself retries an address where nothing answers for minutes. Free of Ray at import,
so the run options' checks and the API read it before Ray loads."""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass

from raysearch.core.errors import ConfigError
from raysearch.search.names import CLI, Names

__all__ = [
    "CONNECT_TIMEOUT_S",
    "RAY_ADDRESS_ENV",
    "Joined",
    "check_address",
    "joined_address",
    "no_cluster",
    "unreachable",
]

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
    name = host.strip("[]")
    if (why := _refused(name, int(port), timeout_s)) is None or name not in LOCAL_HOSTS:
        return why
    # Deferred: Ray takes seconds to import; only a local host nothing answers at needs it.
    import ray

    node = ray.util.get_node_ip_address()
    return None if (also := _refused(node, int(port), timeout_s)) is None else f"{why}; {also}"


def _refused(host: str, port: int, timeout_s: float) -> str | None:
    """The error of a TCP connection to host:port, None if it was accepted."""
    try:
        socket.create_connection((host, port), timeout=timeout_s).close()
    except OSError as err:
        return f"{host}:{port}: {err}"
    return None


# ray.init() with no address joins the cluster this variable names (`ray job submit` sets it
# for a job's driver; a shell may keep one from an earlier cluster).
RAY_ADDRESS_ENV = "RAY_ADDRESS"


@dataclass(frozen=True)
class Joined:
    """The address Ray will join and where it came from: ``field`` (the option that gave it,
    as its user wrote it: ``--address`` or ``address``; or RAY_ADDRESS: the environment's,
    with no address given) and how to do without it."""

    address: str
    field: str
    instead: str


def joined_address(address: str | None, names: Names = CLI) -> Joined | None:
    """What ``ray.init(address=address)`` joins: ``address``, else the environment's
    RAY_ADDRESS; None where it starts a local Ray (``names``: how ``instead`` names the
    option, ``RunOptions.names``)."""
    if address is not None:
        return Joined(address, names.head("address"), f"leave out {names.option('address')}")
    if env := os.environ.get(RAY_ADDRESS_ENV):
        return Joined(env, RAY_ADDRESS_ENV, f"unset {RAY_ADDRESS_ENV} for a local Ray")
    return None


def check_address(address: str | None, names: Names = CLI) -> None:
    """A ConfigError naming the address Ray would join (``joined_address``) where it is a
    URL Ray cannot join (http://, the dashboard's and the jobs API's, is the likely one) or
    where nothing answers at it (``unreachable``); nothing to check for a local Ray."""
    joined = joined_address(address, names)
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
    bare = given.removeprefix("ray://")
    host, sep, port = bare.rpartition(":")
    formed = given in ("auto", "local") or (
        (bool(sep) and bool(host) and port.isdigit() and " " not in host)
        or (given.startswith("ray://") and bool(bare) and not sep)
    )
    if not formed:
        raise ConfigError(
            [
                f"{name}: {given!r} is not an address Ray can join; give the head's address "
                "(host:6379, what `ray start --head` prints), 'auto' on a cluster's node, or "
                f"ray://host:10001 for Ray Client; or {joined.instead}"
            ],
            "Ray cluster",
        )
    if given == "auto":  # Ray's own lookup, so a missing cluster is said before the data
        # Deferred: Ray takes seconds to import; only 'auto' needs its lookup.
        from ray._private.services import canonicalize_bootstrap_address

        try:
            canonicalize_bootstrap_address(given)
        except ConnectionError as err:
            raise no_cluster(joined, err) from None
    if (why := unreachable(given)) is not None:
        raise ConfigError(
            [
                f"{name}: nothing answers at {given!r} ({why}); check the host and port "
                f"(`ray start --head` prints the address to join), or {joined.instead}"
            ],
            "Ray cluster",
        )


def no_cluster(joined: Joined, err: ConnectionError) -> ConfigError:
    """No Ray cluster to join at ``joined``'s address (Ray's ``err`` says why)."""
    return ConfigError(
        [
            f"{joined.field}: no Ray cluster to join at {joined.address!r} (Ray: {err}); start "
            f"one (`ray start --head`, `ray up cluster.yaml`) or {joined.instead}"
        ],
        "Ray cluster",
    )
