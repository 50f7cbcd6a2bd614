"""Published ports through nftables DNAT, reached from the host on 127.0.0.1."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.errors import Conflict
from dockyard.network.manager import NetworkManager
from dockyard.network.ports import PortSpec, ephemeral_range
from tests.e2e.network.helpers import cid, eventually, serve_http

pytestmark = pytest.mark.root

Spawn = Callable[..., subprocess.Popen[str]]


def _curl(url: str) -> str:
    return subprocess.run(
        ["curl", "-s", "--max-time", "1", url], check=False, capture_output=True, text=True
    ).stdout


def _nat_rules(manager: NetworkManager) -> str:
    out = subprocess.run(
        ["nft", "list", "table", "ip", manager.tables.nat],
        check=False,
        capture_output=True,
        text=True,
    )
    return out.stdout


def test_tcp_publish_on_loopback(
    manager: NetworkManager, netns: Callable[[str], Path], spawn: Spawn, scratch: Path
) -> None:
    net = manager.create("dytest-pub", subnet="10.250.10.0/24")
    a = netns("a")
    manager.attach(net.name, cid(1), "web", a)
    serve_http(spawn, a, scratch / "www", "published\n")
    [binding] = manager.publish(cid(1), [PortSpec("127.0.0.1", 18080, 80)])
    assert (binding.host_ip, binding.host_port, binding.container_ip) == (
        "127.0.0.1",
        18080,
        "10.250.10.2",
    )
    assert eventually(lambda: _curl("http://127.0.0.1:18080/") == "published\n")
    assert manager.ports(cid(1)) == [binding]
    manager.unpublish(cid(1))
    assert "18080" not in _nat_rules(manager)
    assert _curl("http://127.0.0.1:18080/") == ""


_UDP_ECHO = """
import re
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", 5353))
while True:
    data, peer = s.recvfrom(512)
    s.sendto(b"echo " + data, peer)
"""


def test_udp_publish_on_a_random_port(
    manager: NetworkManager, netns: Callable[[str], Path], spawn: Spawn
) -> None:
    net = manager.create("dytest-udp", subnet="10.250.11.0/24")
    a = netns("a")
    manager.attach(net.name, cid(1), "echo", a)
    spawn(a, sys.executable, "-c", _UDP_ECHO)
    [binding] = manager.publish(cid(1), [PortSpec("127.0.0.1", 0, 5353, "udp")])
    assert binding.host_port in ephemeral_range()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(0.1)

        # Resend until the echo server is up; UDP has no handshake to wait on.
        def answered() -> bool:
            sock.sendto(b"ping", ("127.0.0.1", binding.host_port))
            try:
                return sock.recv(512) == b"echo ping"
            except TimeoutError:
                return False

        assert eventually(answered)


def test_port_in_use_is_a_conflict_and_makes_nothing(
    manager: NetworkManager, netns: Callable[[str], Path]
) -> None:
    net = manager.create("dytest-busy", subnet="10.250.12.0/24")
    a, b = netns("a"), netns("b")
    manager.attach(net.name, cid(1), "one", a)
    manager.attach(net.name, cid(2), "two", b)
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        with pytest.raises(
            Conflict, match=re.escape(f"Bind for 127.0.0.1:{port} failed: port is already")
        ):
            manager.publish(
                cid(1), [PortSpec("127.0.0.1", 18181, 80), PortSpec("127.0.0.1", port, 81)]
            )
    assert manager.ports(cid(1)) == []
    assert "dnat to" not in _nat_rules(manager)
    # A port dockyard already publishes counts as taken too, on 0.0.0.0 as on one address.
    manager.publish(cid(1), [PortSpec("", 18182, 80)])
    with pytest.raises(Conflict, match=re.escape("Bind for 127.0.0.1:18182 failed")):
        manager.publish(cid(2), [PortSpec("127.0.0.1", 18182, 80)])
    assert manager.ports(cid(2)) == []


def test_publish_on_all_addresses_answers_on_loopback(
    manager: NetworkManager, netns: Callable[[str], Path], spawn: Spawn, scratch: Path
) -> None:
    net = manager.create("dytest-any", subnet="10.250.13.0/24")
    a = netns("a")
    manager.attach(net.name, cid(1), "web", a)
    serve_http(spawn, a, scratch / "www", "everywhere\n")
    [binding] = manager.publish(cid(1), [PortSpec("", 0, 80)])
    assert binding.host_ip == "0.0.0.0" and binding.docker_key() == "80/tcp"
    assert eventually(lambda: _curl(f"http://127.0.0.1:{binding.host_port}/") == "everywhere\n")
