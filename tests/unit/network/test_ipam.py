"""IPAM math and leases in a real (temporary) state database."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

import pytest

from dockyard.errors import Conflict, InvalidArgument
from dockyard.network import ipam
from dockyard.state.db import StateDB

N = ipaddress.IPv4Network
A = ipaddress.IPv4Address


@pytest.mark.parametrize("text", ["10.0.0.1/24", "10.0.0.0/33", "nonsense", "a:b", "10.0.0.0/31"])
def test_bad_subnets_are_rejected(text: str) -> None:
    with pytest.raises(InvalidArgument, match="subnet"):
        ipam.parse_subnet(text)


def test_ipv6_subnet_is_refused_as_the_ipv4_one() -> None:
    with pytest.raises(InvalidArgument, match="is IPv6: pass it with --ipv6"):
        ipam.parse_subnet("fd00::/64")


def test_gateway_must_be_a_host_of_the_subnet() -> None:
    net = N("10.250.0.0/24")
    assert ipam.default_gateway(net) == A("10.250.0.1")
    ipam.check_gateway(net, A("10.250.0.254"))
    for bad in ("10.250.1.1", "10.250.0.0", "10.250.0.255"):
        with pytest.raises(InvalidArgument, match=f"gateway {bad}"):
            ipam.check_gateway(net, A(bad))


def test_pick_subnet_skips_taken_and_overlapping() -> None:
    pool = N("10.89.0.0/16")
    taken = [("network a", N("10.89.0.0/24")), ("route", N("10.89.1.128/25"))]
    assert ipam.pick_subnet(pool, 24, taken) == N("10.89.2.0/24")
    assert ipam.overlapping(N("10.89.1.0/24"), taken) == "route"
    assert ipam.overlapping(N("10.90.0.0/24"), taken) is None


def test_pick_subnet_exhausted_pool_is_a_conflict() -> None:
    with pytest.raises(Conflict, match="no free /24"):
        ipam.pick_subnet(N("10.89.0.0/24"), 24, [("x", N("10.0.0.0/8"))])


def test_first_free_skips_gateway_and_used() -> None:
    net = N("10.250.0.0/29")
    gw = A("10.250.0.1")
    assert ipam.first_free(net, gw, []) == A("10.250.0.2")
    assert ipam.first_free(net, gw, [A("10.250.0.2"), A("10.250.0.4")]) == A("10.250.0.3")
    full = [A(f"10.250.0.{i}") for i in range(2, 7)]
    assert ipam.first_free(net, gw, full) is None


def test_requested_ip_checks() -> None:
    net, gw = N("10.250.0.0/24"), A("10.250.0.1")
    with pytest.raises(
        InvalidArgument, match=re.escape("IP 10.250.1.5 is not a host address of network n")
    ):
        ipam.check_requested("n", net, gw, A("10.250.1.5"), [])
    with pytest.raises(Conflict, match="gateway"):
        ipam.check_requested("n", net, gw, gw, [])
    with pytest.raises(Conflict, match=re.escape("IP 10.250.0.9 is already in use on network n")):
        ipam.check_requested("n", net, gw, A("10.250.0.9"), [A("10.250.0.9")])


def test_leases_in_the_database(tmp_path: Path) -> None:
    db = StateDB(tmp_path)
    db.migrate("network.ipam", ipam.MIGRATIONS)
    net, gw = N("10.250.0.0/29"), A("10.250.0.1")
    kw = {"network_id": "n1", "network_name": "net", "subnet": net, "gateway": gw}
    with db.transaction() as conn:
        assert ipam.allocate(conn, container_id="a", **kw) == A("10.250.0.2")  # type: ignore[arg-type]
        assert ipam.allocate(conn, container_id="b", requested=A("10.250.0.5"), **kw) == A(  # type: ignore[arg-type]
            "10.250.0.5"
        )
        with pytest.raises(Conflict, match="already on network net"):
            ipam.allocate(conn, container_id="a", **kw)  # type: ignore[arg-type]
        ipam.release(conn, "n1", "a")
        assert ipam.allocate(conn, container_id="c", **kw) == A("10.250.0.2")  # type: ignore[arg-type]
    db.close()
