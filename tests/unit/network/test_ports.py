"""Port binding resolution: random ports, clashes with dockyard and with host processes."""

from __future__ import annotations

import random
import re
import socket
from pathlib import Path

import pytest

from dockyard.errors import Conflict, InvalidArgument
from dockyard.network.ports import PortSpec, clashes, ephemeral_range, port_is_free, resolve


def _resolve(
    reqs: list[PortSpec],
    taken: tuple[tuple[str, int, str], ...] = (),
    busy: frozenset[int] = frozenset(),
) -> list[tuple[str, int, int, str]]:
    out = resolve(
        reqs,
        container_id="c",
        network_id="n",
        container_ip="10.0.0.2",
        taken=taken,
        is_free=lambda ip, port, proto: port not in busy,
        ports=range(40000, 40010),
        rng=random.Random(1),
    )
    return [(b.host_ip, b.host_port, b.container_port, b.proto) for b in out]


def test_explicit_ports_and_default_ip() -> None:
    assert _resolve([PortSpec("", 8080, 80), PortSpec("127.0.0.1", 5353, 53, "udp")]) == [
        ("0.0.0.0", 8080, 80, "tcp"),
        ("127.0.0.1", 5353, 53, "udp"),
    ]


def test_random_ports_come_from_the_range_and_differ() -> None:
    got = _resolve([PortSpec("", 0, 80), PortSpec("", 0, 81)], busy=frozenset({40000, 40001}))
    ports = [g[1] for g in got]
    assert all(40002 <= p < 40010 for p in ports) and len(set(ports)) == 2


def test_exhausted_range_is_a_conflict() -> None:
    with pytest.raises(Conflict, match="no free host port"):
        _resolve([PortSpec("", 0, 80)], busy=frozenset(range(40000, 40010)))


def test_port_held_by_dockyard_is_a_conflict_on_overlapping_ips() -> None:
    msg = re.escape("Bind for 127.0.0.1:8080 failed: port is already allocated")
    with pytest.raises(Conflict, match=msg):
        _resolve([PortSpec("127.0.0.1", 8080, 80)], taken=(("0.0.0.0", 8080, "tcp"),))
    # Other protocol, or two distinct addresses, do not clash.
    assert _resolve([PortSpec("127.0.0.1", 8080, 80, "udp")], taken=(("0.0.0.0", 8080, "tcp"),))
    assert _resolve([PortSpec("127.0.0.2", 8080, 80)], taken=(("127.0.0.1", 8080, "tcp"),))


def test_two_requests_in_one_call_clash_with_each_other() -> None:
    with pytest.raises(Conflict, match=re.escape("0.0.0.0:8080")):
        _resolve([PortSpec("", 8080, 80), PortSpec("", 8080, 81)])


def test_port_held_by_a_host_process_is_a_conflict() -> None:
    with pytest.raises(Conflict, match=re.escape("Bind for 0.0.0.0:8080 failed")):
        _resolve([PortSpec("", 8080, 80)], busy=frozenset({8080}))


@pytest.mark.parametrize(
    "spec",
    [
        PortSpec("", 99999, 80),
        PortSpec("", 80, 0),
        PortSpec("", 80, 80, "sctp"),
        PortSpec("::1", 80, 80),
    ],
)
def test_bad_requests(spec: PortSpec) -> None:
    with pytest.raises(InvalidArgument):
        _resolve([spec])


def test_clashes() -> None:
    assert clashes(("0.0.0.0", 1, "tcp"), ("127.0.0.1", 1, "tcp"))
    assert not clashes(("0.0.0.0", 1, "tcp"), ("0.0.0.0", 2, "tcp"))


def test_port_is_free_sees_a_listening_socket() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        assert not port_is_free("127.0.0.1", port, "tcp")
        assert port_is_free("127.0.0.1", port, "udp")


def test_ephemeral_range_reads_the_sysctl(tmp_path: Path) -> None:
    f = tmp_path / "range"
    f.write_text("1000\t1009\n")
    assert ephemeral_range(f) == range(1000, 1010)
