"""Talking to the root's monitor, starting it first when it is not running."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

from dockyard.engine.paths import EnginePaths
from dockyard.errors import Conflict, DockyardError, InvalidArgument, NotFound, Unavailable
from dockyard.runtime.errors import ExecutableNotFound, ExecutableNotRunnable

_ERRORS: dict[str, type[DockyardError]] = {
    "NotFound": NotFound,
    "ContainerNotFound": NotFound,
    "Conflict": Conflict,
    "InvalidArgument": InvalidArgument,
    "Unavailable": Unavailable,
    "ExecutableNotFound": ExecutableNotFound,
    "ExecutableNotRunnable": ExecutableNotRunnable,
}


def _spawn(paths: EnginePaths, warm_network: bool = False) -> None:
    paths.root.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "dockyard.engine.monitor.server", str(paths.root)]
    paths.monitor_spawned.touch()
    with open(paths.monitor_log, "ab") as log:
        subprocess.Popen(
            [*argv, "--warm-network"] if warm_network else argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
        )


def prewarm(paths: EnginePaths, network: bool) -> None:
    """Have the monitor (and, for bridged containers, its network agent) start now.

    A caller that will ask for a start calls this first: the interpreters start while it loads,
    checks and records its containers, instead of after. Nothing is waited for.
    """
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(paths.monitor_socket))
        if network:
            sock.sendall(b'{"op": "warm"}\n')
    except (FileNotFoundError, ConnectionRefusedError):
        _spawn(paths, warm_network=network)
    except OSError:
        pass  # the request that follows reports a broken monitor
    finally:
        sock.close()


class MonitorConnection:
    """One connection to the monitor; JSON lines each way."""

    def __init__(self, paths: EnginePaths, timeout: float = 10.0) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self._buf = b""
        deadline = time.monotonic() + timeout
        spawned_at: float | None = None
        while True:
            try:
                self.sock.connect(str(paths.monitor_socket))
                return
            except (FileNotFoundError, ConnectionRefusedError):
                pass
            if spawned_at is None:
                # A monitor another CLI (or our prewarm) started a moment ago is still starting.
                try:
                    spawned_at = paths.monitor_spawned.stat().st_mtime
                except FileNotFoundError:
                    spawned_at = 0.0
            if time.monotonic() > deadline:
                self.sock.close()
                raise Unavailable(
                    f"the container monitor for {paths.root} did not start: see {paths.monitor_log}"
                )
            if time.time() - spawned_at > 1.0:
                _spawn(paths)
                spawned_at = time.time()
            time.sleep(0.005)

    def send(self, fds: list[int] | None = None, **message: Any) -> None:
        data = json.dumps(message).encode() + b"\n"
        if fds:
            socket.send_fds(self.sock, [data], fds)
        else:
            self.sock.sendall(data)

    def messages(self) -> Iterator[dict[str, Any]]:
        """Messages from the monitor until it closes the connection."""
        while True:
            while b"\n" in self._buf:
                line, self._buf = self._buf.split(b"\n", 1)
                yield json.loads(line)
            chunk = self.sock.recv(65536)
            if not chunk:
                return
            self._buf += chunk

    def request(self, fds: list[int] | None = None, **message: Any) -> dict[str, Any]:
        """Send one request and return the first reply; an error reply is raised."""
        self.send(fds, **message)
        for reply in self.messages():
            return check(reply)
        raise Unavailable("the container monitor closed the connection")

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()


def check(reply: dict[str, Any]) -> dict[str, Any]:
    """Raise the dockyard error a reply carries."""
    if "error" in reply:
        raise _ERRORS.get(str(reply.get("kind")), DockyardError)(str(reply["error"]))
    return reply


def request(paths: EnginePaths, **message: Any) -> dict[str, Any]:
    """One request on a fresh connection."""
    conn = MonitorConnection(paths)
    try:
        return conn.request(**message)
    finally:
        conn.close()


__all__ = ["MonitorConnection", "check", "os", "prewarm", "request"]
