"""The monitor's lifecycle helpers: prewarm, and the network agent that exits when idle."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from dockyard.engine.monitor.client import prewarm, request
from dockyard.engine.paths import EnginePaths

from .conftest import Dockyard

pytestmark = pytest.mark.root


def _processes(module: str, root: Path) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            argv = Path(f"/proc/{entry}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if module.encode() in argv and str(root).encode() in argv:
            found.append(int(entry))
    return found


def _wait(predicate: object, timeout: float, what: str) -> None:
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_prewarm_starts_monitor_and_agent_which_leave_when_idle(dockyard: Dockyard) -> None:
    paths = EnginePaths(dockyard.root)
    prewarm(paths, network=True)
    _wait(paths.monitor_socket.exists, 10, "the monitor's socket")
    assert request(paths, op="ping")["ok"]
    _wait(
        lambda: _processes("dockyard.engine.monitor.netagent", dockyard.root),
        10,
        "the network agent",
    )
    # Nothing to do: the agent, then the monitor, exit after their idle time.
    _wait(
        lambda: (
            not _processes("dockyard.engine.monitor.netagent", dockyard.root)
            and not _processes("dockyard.engine.monitor.server", dockyard.root)
        ),
        15,
        "idle monitor and agent to exit",
    )


def test_bridged_container_outlives_the_idle_agent(dockyard: Dockyard) -> None:
    dockyard("network", "create", "agentnet", check=True)
    dockyard(
        "run",
        "-d",
        "--name",
        "first",
        "--network",
        "agentnet",
        "busybox",
        "sleep",
        "60",
        check=True,
    )
    agent = "dockyard.engine.monitor.netagent"
    _wait(lambda: not _processes(agent, dockyard.root), 10, "the idle network agent to exit")
    assert _processes("dockyard.engine.monitor.server", dockyard.root)
    assert dockyard.json("inspect", "first")[0]["State"]["Running"]
    # A second container on the network needs the agent again; both see each other by name.
    dockyard(
        "run",
        "-d",
        "--name",
        "second",
        "--network",
        "agentnet",
        "busybox",
        "sleep",
        "60",
        check=True,
    )
    assert dockyard("exec", "first", "ping", "-c1", "-W2", "second", check=True).returncode == 0
    dockyard("rm", "-f", "first", "second", check=True)
    dockyard("network", "rm", "agentnet", check=True)
