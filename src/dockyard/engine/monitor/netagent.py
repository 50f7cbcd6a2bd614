"""The monitor's network work, done in a child process that exits when idle.

Plugging a container into its bridges needs the netlink library (pyroute2: ~13 MB of modules,
~90 ms to import). The monitor lives as long as the root has containers, and its memory is the
engine's cost per container, so it never imports network code itself: it starts this agent (a
fresh interpreter: SQLite and pyroute2 are not fork-safe), which imports it, serves
`connect`/`disconnect`/`restore` requests over a socket pair, and exits when the monitor closes
the pair after `IDLE_EXIT` seconds without a request. Calls block, so the monitor's order of
operations is kept.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
import time
from pathlib import Path
from typing import Any

from dockyard.errors import DockyardError, Unavailable

IDLE_EXIT = 2.0
_REPLY_TIMEOUT = 120.0  # bridge and nft work is milliseconds; a stuck `nft` must not hang us


class NetAgent:
    """The monitor's handle on its network agent: spawned on first use, reaped when idle."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._sock: socket.socket | None = None
        self._pid = 0
        self._last = 0.0

    def connect(self, container_id: str) -> dict[str, Any]:
        """Plug the container into its networks; returns its `NetworkSettings`."""
        settings: dict[str, Any] = self._call("connect", id=container_id)["settings"]
        return settings

    def disconnect(self, container_id: str) -> None:
        """Unpublish, unplug and remove the container's netns; idempotent."""
        self._call("disconnect", id=container_id)

    def restore(self) -> None:
        """After a reboot: bridges and rules back for the containers still running."""
        self._call("restore")

    def create_network(self, spec: dict[str, Any]) -> None:
        """`NetworkManager.create(**spec)` (for Compose, whose CLI then needs no netlink)."""
        self._call("network-create", spec=spec)

    def remove_network(self, name: str) -> None:
        """`NetworkManager.remove(name)`."""
        self._call("network-remove", name=name)

    def reap_if_idle(self, now: float) -> None:
        """Let the agent go once it has been idle for `IDLE_EXIT` seconds."""
        if self._sock is not None and now - self._last > IDLE_EXIT:
            self.close()

    def close(self) -> None:
        """Stop the agent (it exits on EOF) and reap it."""
        if self._sock is None:
            return
        self._sock.close()
        self._sock = None
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self._pid, 0)
        self._pid = 0

    def spawn(self) -> None:
        """Start the agent now if it is not running (it imports while we do other work)."""
        if self._sock is None:
            self._spawn()

    def _call(self, op: str, **fields: Any) -> dict[str, Any]:
        self.spawn()
        assert self._sock is not None
        try:
            self._sock.sendall(json.dumps({"op": op, **fields}).encode() + b"\n")
            reply = _read_line(self._sock)
        except OSError as e:
            self.close()
            raise Unavailable(
                f"the monitor's network agent failed ({e}); see the monitor log"
            ) from e
        self._last = time.monotonic()
        if reply is None:
            self.close()
            raise Unavailable("the monitor's network agent exited; see the monitor log")
        if "error" in reply:
            from dockyard.engine.monitor.client import check

            check(reply)
        return reply

    def _spawn(self) -> None:
        import subprocess

        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        with theirs:
            proc = subprocess.Popen(
                [sys.executable, "-m", __name__, str(self.root), str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                pass_fds=[theirs.fileno()],
            )
        ours.settimeout(_REPLY_TIMEOUT)
        self._sock, self._pid, self._last = ours, proc.pid, time.monotonic()


def _read_line(sock: socket.socket) -> dict[str, Any] | None:
    data = b""
    while not data.endswith(b"\n"):
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    reply: dict[str, Any] = json.loads(data)
    return reply


def serve(root: Path, sock: socket.socket) -> int:
    """The agent: answer requests on `sock` until the monitor closes it."""
    from dockyard.engine import networking
    from dockyard.engine.service import Engine

    engine = Engine(root)
    buf = b""
    while True:
        while b"\n" not in buf:
            chunk = sock.recv(65536)
            if not chunk:
                return 0
            buf += chunk
        line, buf = buf.split(b"\n", 1)
        request = json.loads(line)
        reply: dict[str, Any] = {"ok": True}
        try:
            op, cid = request["op"], str(request.get("id", ""))
            if op == "connect":
                reply["settings"] = networking.connect(engine, engine.containers.get(cid))
            elif op == "disconnect":
                networking.disconnect(engine, cid)
            elif op == "restore":
                networking.restore_networks(engine)
            elif op == "network-create":
                engine.networks.create(**request["spec"])
            elif op == "network-remove":
                engine.networks.remove(str(request["name"]))
        except DockyardError as e:
            reply = {"error": str(e), "kind": type(e).__name__}
        except Exception as e:  # reported to the monitor, which logs it; the agent goes on
            reply = {"error": f"network agent: {e!r}", "kind": "DockyardError"}
            sys.stderr.write(f"dockyard-monitor network agent: {e!r}\n")
        sock.sendall(json.dumps(reply).encode() + b"\n")


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the monitor decides when we go (EOF)
    sys.exit(serve(Path(sys.argv[1]), socket.socket(fileno=int(sys.argv[2]))))
