"""process.terminal: the pty master is handed out over --console-socket, or proxied by `run`."""

from __future__ import annotations

import os
import pty
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import Bundle, Runtime

pytestmark = pytest.mark.root


def read_until(fd: int, needle: bytes, timeout: float = 10) -> bytes:
    data = b""
    deadline = time.monotonic() + timeout
    while needle not in data:
        assert time.monotonic() < deadline, data
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    return data


def test_console_socket_receives_the_master(
    runtime: Runtime, make_bundle: Callable[..., Bundle], scratch: Path
) -> None:
    bundle = make_bundle("sh", "-c", "tty; test -t 0 && echo is-a-tty; read line; echo got:$line")
    bundle.config["process"]["terminal"] = True
    bundle.write()
    path = str(scratch / "console.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(1)
    try:
        runtime("create", "--bundle", str(bundle.path), "--console-socket", path, "t1", check=True)
        conn, _ = listener.accept()
        _, fds, _, _ = socket.recv_fds(conn, 1024, 1)
        conn.close()
        master = fds[0]
        runtime("start", "t1", check=True)
        os.write(master, b"hello\n")
        out = read_until(master, b"got:hello")
        os.close(master)
    finally:
        listener.close()
    assert b"/dev/pts/0" in out and b"is-a-tty" in out


def test_run_proxies_the_terminal(runtime: Runtime, make_bundle: Callable[..., Bundle]) -> None:
    bundle = make_bundle("sh", "-c", "test -t 1 && echo on-a-tty; exit 4")
    bundle.config["process"]["terminal"] = True
    bundle.write()
    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [
                runtime.binary,
                "--root",
                str(runtime.root),
                "run",
                "--bundle",
                str(bundle.path),
                "t2",
            ],
            stdin=slave,
            stdout=slave,
            stderr=slave,
        )
        runtime.made.append("t2")
        out = read_until(master, b"on-a-tty")
        assert proc.wait(timeout=10) == 4
    finally:
        os.close(master)
        os.close(slave)
    assert b"on-a-tty" in out
