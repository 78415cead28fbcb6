"""Local Ray clusters for tests: clusters/local.yaml (Ray's fake multi-node provider), and a
one-node Ray that the integration tests' searches share.

A cluster is isolated from any other Ray on the machine: its own ``--temp-dir`` (so
``ray.init()`` elsewhere, which reads ``/tmp/ray/ray_current_cluster``, never finds it),
free ports, and no global ``RAY_ADDRESS``. It is stopped by process id, never with
``ray stop`` (which would kill every Ray on the machine, other people's included): every
process whose command line names the cluster's temp dir, plus all their descendants.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml
from ray._private.services import get_node_ip_address

RAY = str(Path(sys.executable).with_name("ray"))
IDLE_WITHIN_S = 60.0  # a search that ended has freed what it held within this (joined)
# the monitor's status line: "ResourceUsage: 1.0/2.0 CPU, 0.0 GiB/15.94 GiB memory, ..."
CPU_USAGE = re.compile(r"ResourceUsage: .*?(?P<used>[0-9.]+)/(?P<total>[0-9.]+) CPU\b")


@dataclass(frozen=True)
class LocalCluster:
    temp_dir: Path  # the cluster's --temp-dir: sessions, logs, the copied autoscaling config
    address: str  # GCS address host:port
    dashboard_port: int
    start_output: str

    def env(self) -> dict[str, str]:
        """Environment for a subprocess that talks to this cluster (``--address auto``)."""
        env = dict(os.environ)
        env["RAY_ADDRESS"] = self.address
        env.pop("RAY_FAKE_CLUSTER", None)
        return env

    def pids(self) -> set[int]:
        return cluster_pids(self)

    def stop(self, grace: float = 10.0) -> set[int]:
        return stop_local_cluster(self, grace)

    def cpus_in_use(self) -> tuple[float, float] | None:
        """(CPUs in use, CPUs) as the autoscaler's monitor last saw them (an actor, a task or
        a placement group bundle that holds a CPU counts), from its status line
        ``ResourceUsage: 1.0/2.0 CPU, ...``; None while the status names no CPUs yet. (The
        status's structured ``usage`` field sometimes lacks CPU for a whole session here.)"""
        url = f"http://127.0.0.1:{self.dashboard_port}/api/cluster_status"
        with urllib.request.urlopen(url, timeout=10) as reply:
            status = json.load(reply)
        found = CPU_USAGE.search(status["data"]["autoscalingStatus"] or "")
        return None if found is None else (float(found["used"]), float(found["total"]))

    def wait_idle(self, timeout: float) -> float:
        """Seconds until no CPU is in use; AssertionError naming what is held (or that the
        usage could not be read) after ``timeout`` seconds."""
        started = time.monotonic()
        while True:
            usage = self.cpus_in_use()
            waited = time.monotonic() - started
            if usage is not None and usage[0] == 0:
                return waited
            if waited > timeout:
                held = (
                    "no CPU usage reported"
                    if usage is None
                    else (f"{usage[0]:g} of {usage[1]:g} CPUs still in use")
                )
                raise AssertionError(f"{held} after {timeout:g} s of waiting for an idle Ray")
            time.sleep(0.5)

    @contextmanager
    def joined(self, idle_within_s: float = IDLE_WITHIN_S) -> Iterator[str]:
        """The address, for a block of searches that must leave the cluster idle again
        within ``idle_within_s`` seconds (AssertionError otherwise). A cluster already busy
        when the block starts is the same error, not a hang."""
        self.wait_idle(idle_within_s)
        yield self.address
        self.wait_idle(idle_within_s)


def free_port() -> int:
    return free_ports(1)[0]


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports that were free: every socket is held open until all are
    chosen. (Chosen one at a time, a port closed again can come back: the shared Ray's
    head and its dashboard once drew the same one, and ``ray start`` refused.)"""
    sockets = [socket.socket() for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def _node_ip() -> str:

    return get_node_ip_address()


def start_local_cluster(config: Path, timeout: float = 300.0) -> LocalCluster:
    """``RAY_FAKE_CLUSTER=1 ray start --head --num-cpus=0 --autoscaling-config=...``."""
    temp_dir = _temp_dir()
    port = free_port()
    address = f"{_node_ip()}:{port}"
    cfg = yaml.safe_load(config.read_text())
    cfg["provider"]["gcs_address"] = address  # worker nodes join this head, not :6379
    autoscaling = temp_dir / "local.yaml"
    autoscaling.write_text(yaml.safe_dump(cfg))
    head_cpus = int(cfg["available_node_types"][cfg["head_node_type"]]["resources"]["CPU"])
    return _start_head(
        temp_dir,
        port,
        head_cpus,
        [f"--autoscaling-config={autoscaling}"],
        {"RAY_FAKE_CLUSTER": "1", "AUTOSCALER_UPDATE_INTERVAL_S": "1"},
        timeout,
    )


def start_local_ray(
    num_cpus: int, env: dict[str, str] | None = None, timeout: float = 300.0
) -> LocalCluster:
    """A one-node Ray (``ray start --head``) that many searches join with ``--address``, each
    sparing the start and stop of a Ray of its own; ``env`` is the environment its
    processes (and so the trials) get on top of this one's."""
    temp_dir = _temp_dir()
    return _start_head(temp_dir, free_port(), num_cpus, [], dict(env or {}), timeout)


def _temp_dir() -> Path:
    return Path(tempfile.mkdtemp(prefix="rsc-", dir="/tmp"))  # short: unix socket paths


def _start_head(
    temp_dir: Path,
    port: int,
    num_cpus: int,
    extra_args: list[str],
    extra_env: dict[str, str],
    timeout: float,
) -> LocalCluster:
    """``ray start --head`` isolated in ``temp_dir`` on free ports; stopped (by pid) again
    when it fails to start."""
    address = f"{_node_ip()}:{port}"
    # ``port`` was chosen before (the address goes into the autoscaling config), and its
    # socket is closed: it may be drawn again, so it is left out
    dashboard_port, client_port, agent_port, metrics_port = [p for p in free_ports(5) if p != port][
        :4
    ]
    cmd = [
        RAY,
        "start",
        "--head",
        f"--num-cpus={num_cpus}",
        f"--port={port}",
        f"--dashboard-port={dashboard_port}",
        f"--ray-client-server-port={client_port}",
        f"--dashboard-agent-listen-port={agent_port}",
        f"--metrics-export-port={metrics_port}",
        "--object-store-memory=200000000",
        f"--temp-dir={temp_dir}",
        *extra_args,
        "--disable-usage-stats",
    ]
    env = dict(
        os.environ,
        # The dashboard's modules start as subprocesses; on a loaded 2-core machine they
        # can take longer than Ray's 30 s default, and the state API needs them.
        RAY_DASHBOARD_SUBPROCESS_MODULE_WAIT_READY_TIMEOUT="180",
        **extra_env,
    )
    env.pop("RAY_ADDRESS", None)
    try:
        proc = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        stop_local_cluster(LocalCluster(temp_dir, address, dashboard_port, ""))
        raise
    cluster = LocalCluster(temp_dir, address, dashboard_port, proc.stdout + proc.stderr)
    if proc.returncode != 0:
        stop_local_cluster(cluster)
        raise RuntimeError(f"ray start failed ({proc.returncode}):\n{cluster.start_output}")
    return cluster


def _processes() -> dict[int, tuple[int, str, str]]:
    """pid -> (parent pid, state, command line) of every process we can read."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmdline = Path(f"/proc/{entry}/cmdline").read_bytes()
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue  # exited while we looked
        # "pid (comm) state ppid ...": comm may hold spaces, so split after the last ")".
        state, ppid = stat.rsplit(")", 1)[1].split()[:2]
        table[int(entry)] = (
            int(ppid),
            state,
            cmdline.replace(b"\0", b" ").decode(errors="replace"),
        )
    return table


def cluster_pids(cluster: LocalCluster) -> set[int]:
    """Live processes of the cluster: those naming its temp dir or its GCS address, and
    their descendants. The head's Ray Client server names only the address, and once
    ``ray start`` has exited it is nobody's descendant."""
    table = {pid: row for pid, row in _processes().items() if row[1] != "Z"}
    # the address, not a longer port that starts with it
    names_address = re.compile(re.escape(cluster.address) + r"(?!\d)").search
    found = {
        pid
        for pid, (_, _, cmd) in table.items()
        if str(cluster.temp_dir) in cmd or names_address(cmd)
    }
    found.discard(os.getpid())
    grew = True
    while grew:
        children = {pid for pid, (ppid, _, _) in table.items() if ppid in found} - found
        found |= children
        grew = bool(children)
    return found


def _signal(pids: set[int], sig: signal.Signals) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def stop_local_cluster(cluster: LocalCluster, grace: float = 10.0) -> set[int]:
    """SIGTERM the cluster's processes, SIGKILL what is left after ``grace`` seconds.

    Returns the pids still alive afterwards (empty when the clean-up worked).
    """
    deadline = time.monotonic() + grace
    pids = cluster_pids(cluster)
    _signal(pids, signal.SIGTERM)
    while pids and time.monotonic() < deadline:
        time.sleep(0.5)
        pids = cluster_pids(cluster) | {p for p in pids if alive(p)}
        _signal(pids, signal.SIGTERM)
    if pids:
        table = _processes()
        stubborn = {p: _label(table[p][2]) for p in pids if p in table}
        print(f"SIGKILL after {grace:g} s of SIGTERM: {stubborn}")
    for _ in range(5):
        if not pids:
            break
        _signal(pids, signal.SIGKILL)
        time.sleep(0.5)
        pids = cluster_pids(cluster) | {p for p in pids if alive(p)}
    shutil.rmtree(cluster.temp_dir, ignore_errors=True)
    return pids


def _label(cmdline: str) -> str:
    """The program of a command line: its script for Python, else its executable."""
    args = cmdline.split()
    scripts = [a for a in args[1:3] if a.endswith(".py")]
    return os.path.basename(scripts[0] if scripts else args[0] if args else "?")


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"
