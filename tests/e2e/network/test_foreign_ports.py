"""A host port one dockyard root publishes (kernel DNAT, no listening socket) is refused in
another root, with nothing made there; other ports and protocols still publish."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from dockyard.network.firewall import tables_for
from tests.e2e.cli.conftest import Dockyard, dockyard, image_root  # noqa: F401 - fixtures

pytestmark = pytest.mark.root

PORT = 18470


def _curl(url: str) -> str:
    deadline = time.monotonic() + 10
    while True:
        proc = subprocess.run(
            ["curl", "-s", "--max-time", "1", url], check=False, capture_output=True, text=True
        )
        if proc.stdout or time.monotonic() > deadline:
            return proc.stdout
        time.sleep(0.1)


def _rules(family: str, table: str) -> str:
    # An absent table lists as an error with no output: no rules.
    return subprocess.run(
        ["nft", "list", "table", family, table], check=False, capture_output=True, text=True
    ).stdout


@pytest.fixture
def other_root(scratch: Path, image_root: Path, cgroup_prefix: str) -> Iterator[Dockyard]:  # noqa: F811
    """A second private root (root A) next to the `dockyard` fixture's (root B)."""
    root = scratch / "other-root"
    subprocess.run(["cp", "-a", str(image_root), str(root)], check=True)
    other = Dockyard(root, f"{cgroup_prefix}/other")
    yield other
    other.cleanup()
    for _ in range(50):  # the monitor leaves once its containers are gone
        if not (root / "monitor.sock").exists():
            break
        time.sleep(0.1)


def test_a_port_another_root_publishes_is_refused_and_nothing_is_made(
    dockyard: Dockyard,  # noqa: F811
    other_root: Dockyard,
) -> None:
    serve = "echo from-root-a > /tmp/index.html; httpd -f -p 80 -h /tmp"
    other_root(
        "run", "-d", "--name", "web", "-p", f"127.0.0.1:{PORT}:80", "busybox", "sh", "-c", serve,
        check=True,
    )  # fmt: skip
    assert _curl(f"http://127.0.0.1:{PORT}/") == "from-root-a\n"
    theirs = tables_for(str(other_root.root.resolve())).nat
    mine = tables_for(str(dockyard.root.resolve()))

    # 0.0.0.0 covers their 127.0.0.1; no socket listens on the port, only their DNAT rule.
    refused = dockyard("run", "-d", "--name", "clash", "-p", f"{PORT}:80", "busybox", "sleep", "60")
    assert refused.returncode == 125
    assert refused.stderr == (
        f"dockyard: Bind for 0.0.0.0:{PORT} failed: port is already allocated by another dockyard"
        f" root, nft table ip {theirs}: pick another host port\n"
    )
    # Nothing made in root B: no container, no rule for the port in any of its tables.
    assert dockyard("ps", "-aq").stdout == ""
    for family, table in (("ip", mine.nat), ("ip6", mine.nat), ("inet", mine.filter)):
        assert str(PORT) not in _rules(family, table)
    # Root A still serves the port.
    assert _curl(f"http://127.0.0.1:{PORT}/") == "from-root-a\n"

    # Another port, and the same port over udp, publish in root B.
    dockyard(
        "run", "-d", "--name", "other-port", "-p", f"127.0.0.1:{PORT + 1}:80", "busybox", "sh",
        "-c", "echo from-root-b > /tmp/index.html; httpd -f -p 80 -h /tmp", check=True,
    )  # fmt: skip
    assert _curl(f"http://127.0.0.1:{PORT + 1}/") == "from-root-b\n"
    dockyard(
        "run", "-d", "--name", "udp", "-p", f"127.0.0.1:{PORT}:80/udp", "busybox", "sleep", "60",
        check=True,
    )  # fmt: skip
    assert f"udp dport {PORT}" in _rules("ip", mine.nat)
    assert _curl(f"http://127.0.0.1:{PORT}/") == "from-root-a\n"
