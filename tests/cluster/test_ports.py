"""A local Ray's head gets distinct ports, even where the kernel hands a closed socket's
port out again at once (no Ray needed: ``ray start`` is not run)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any, ClassVar

import pytest

from raysearch.testing import cluster


class _ReusingSocket:
    """A socket whose ``bind(("", 0))`` takes the lowest port no open socket holds: a port
    closed again is the next one handed out, as a kernel may do."""

    held: ClassVar[set[int]] = set()

    def __init__(self) -> None:
        self.port: int | None = None

    def __enter__(self) -> _ReusingSocket:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def bind(self, address: tuple[str, int]) -> None:
        self.port = min(set(range(40000, 40100)) - self.held)
        self.held.add(self.port)

    def getsockname(self) -> tuple[str, int]:
        assert self.port is not None
        return ("", self.port)

    def close(self) -> None:
        self.held.discard(self.port)  # type: ignore[arg-type]
        self.port = None


def test_the_shared_rays_head_gets_a_distinct_port_for_each_component(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    commands: list[list[str]] = []

    def run(cmd: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
        commands.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, "", "")

    monkeypatch.setattr(_ReusingSocket, "held", set())
    monkeypatch.setattr(cluster.socket, "socket", _ReusingSocket)
    monkeypatch.setattr(cluster.subprocess, "run", run)
    monkeypatch.setattr(cluster, "_node_ip", lambda: "127.0.0.1")
    monkeypatch.setattr(cluster, "_temp_dir", lambda: tmp_path)
    cluster.start_local_ray(2)
    (cmd,) = commands
    ports = [int(m.group(1)) for arg in cmd if (m := re.fullmatch(r"--[a-z-]*port=(\d+)", arg))]
    assert len(ports) == 5 and len(set(ports)) == 5, cmd
