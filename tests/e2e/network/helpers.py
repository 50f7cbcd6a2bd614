"""Small helpers shared by the network e2e tests."""

from __future__ import annotations

import ipaddress
import secrets
import subprocess
import time
from collections.abc import Callable
from pathlib import Path


def run_in(ns: Path, *argv: str, timeout: float = 10) -> subprocess.CompletedProcess[str]:
    """Run a command inside a netns and wait for it."""
    return subprocess.run(
        ["nsenter", f"--net={ns}", *argv],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def cid(n: int) -> str:
    """A 64-hex container id for test container number `n`."""
    return f"{n:02x}" * 32


def eventually(check: Callable[[], bool], timeout: float = 5.0) -> bool:
    """Poll `check` every 20 ms until it holds or the timeout passes."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return check()


def serve_http(
    start: Callable[..., subprocess.Popen[str]], ns: Path, docroot: Path, body: str
) -> None:
    """Run busybox httpd on port 80 inside `ns`, serving `body` as /index.html."""
    docroot.mkdir(parents=True, exist_ok=True)
    (docroot / "index.html").write_text(body)
    start(ns, "busybox", "httpd", "-f", "-p", "80", "-h", str(docroot))


def ula64(n: int = 0) -> str:
    """A random ULA /64 (fdXX:XXXX:XXXX:n::/64) for one test; never the host's fd00::/64."""
    global_id = bytes([0xFD]) + secrets.token_bytes(5)
    if global_id[1:] == bytes(5):  # fd00:0:0::/48 holds the host's fd00::/64
        global_id = bytes([0xFD, 0xAA]) + global_id[2:]
    prefix = global_id + n.to_bytes(2, "big") + bytes(8)
    return str(ipaddress.IPv6Network((prefix, 64)))
