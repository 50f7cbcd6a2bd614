"""Attached output: copy what the monitor streams to our stdout/stderr until the exit."""

from __future__ import annotations

import base64
import os
import select
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dockyard.engine.monitor.client import MonitorConnection


def stream_until_exit(conn: MonitorConnection, *, tty: bool, container_id: str = "") -> int:
    """Print the container's output as it comes; return its exit code."""
    out = {"stdout": sys.stdout.buffer, "stderr": sys.stderr.buffer}
    saved = None
    if tty and container_id and os.isatty(0):
        import termios
        import tty as tty_mod

        saved = termios.tcgetattr(0)
        tty_mod.setraw(0)
    try:
        return _pump(conn, out, forward_stdin=tty and bool(container_id), container_id=container_id)
    finally:
        if saved is not None:
            import termios

            termios.tcsetattr(0, termios.TCSADRAIN, saved)
        conn.close()


def _pump(
    conn: MonitorConnection, out: dict[str, object], *, forward_stdin: bool, container_id: str
) -> int:
    stdin_open = forward_stdin
    messages = conn.messages()
    sock = conn.sock
    while True:
        if stdin_open:
            ready, _, _ = select.select([sock.fileno(), 0], [], [])
            if 0 in ready:
                data = os.read(0, 4096)
                if not data:
                    stdin_open = False
                else:
                    conn.send(op="stdin", id=container_id, data=base64.b64encode(data).decode())
                if sock.fileno() not in ready:
                    continue
        message = next(messages, None)
        if message is None:
            return 255
        if "exit" in message:
            return int(message["exit"])
        if "data" in message:
            stream = out.get(str(message.get("stream")), out["stdout"])
            assert hasattr(stream, "write") and hasattr(stream, "flush")
            stream.write(base64.b64decode(message["data"]))
            stream.flush()
