"""Other roots' published ports: read from `nft -j list chain` output of their nat tables, and
the overlap rule that refuses a host port another root forwards."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.errors import Conflict
from dockyard.network.firewall import ForwardedPort, forwarded_ports
from dockyard.network.ports import PortSpec, meets_forwarded, refuse_forwarded


def _rule(family: str, chain: str, *expr: dict[str, Any]) -> dict[str, Any]:
    table = "dockyard-nat-0123abcd"
    return {"rule": {"family": family, "table": table, "chain": chain, "expr": list(expr)}}


def _dport(proto: str, port: int) -> dict[str, Any]:
    left = {"payload": {"protocol": proto, "field": "dport"}}
    return {"match": {"op": "==", "left": left, "right": port}}


def _daddr(family: str, addr: str, op: str = "==") -> dict[str, Any]:
    left = {"payload": {"protocol": family, "field": "daddr"}}
    return {"match": {"op": op, "left": left, "right": addr}}


LOCAL = {"match": {"op": "==", "left": {"fib": {"result": "type", "flags": ["daddr"]}},
                   "right": "local"}}  # fmt: skip
DNAT = {"dnat": {"addr": "10.66.0.2", "port": 80}}


def test_wildcard_and_addressed_ports_of_both_families() -> None:
    listing = {
        "nftables": [
            {"metainfo": {"json_schema_version": 1}},
            {"table": {"family": "ip", "name": "dockyard-nat-0123abcd"}},
            _rule("ip", "prerouting", LOCAL, _dport("tcp", 8080), DNAT),
            _rule("ip", "output", LOCAL, _dport("tcp", 8080), DNAT),  # the same port again
            _rule("ip", "prerouting", _daddr("ip", "127.0.0.1"), _dport("udp", 5353), DNAT),
            _rule(
                "ip6",
                "prerouting",
                LOCAL,
                _daddr("ip6", "::1", "!="),
                _dport("tcp", 8080),
                {"dnat": {"addr": "fd12::2", "port": 80}},  # the same port, v6
            ),
            _rule("ip", "postrouting", {"masquerade": None}),
        ]
    }
    assert forwarded_ports(listing) == [
        ForwardedPort("ip", "dockyard-nat-0123abcd", "0.0.0.0", 8080, "tcp"),
        ForwardedPort("ip", "dockyard-nat-0123abcd", "127.0.0.1", 5353, "udp"),
        ForwardedPort("ip6", "dockyard-nat-0123abcd", "::", 8080, "tcp"),
    ]


def test_rules_without_dnat_or_port_are_not_ports() -> None:
    listing = {"nftables": [_rule("ip", "prerouting", LOCAL, _dport("tcp", 1)),
                            _rule("ip", "prerouting", LOCAL, DNAT)]}  # fmt: skip
    assert forwarded_ports(listing) == []


def _fwd(family: str, host_ip: str, port: int = 5432, proto: str = "tcp") -> ForwardedPort:
    return ForwardedPort(family, "dockyard-nat-0123abcd", host_ip, port, proto)


@pytest.mark.parametrize(
    ("host_ip", "families", "other", "meets"),
    [
        ("127.0.0.1", ("ip",), _fwd("ip", "127.0.0.1"), True),
        ("127.0.0.1", ("ip",), _fwd("ip", "0.0.0.0"), True),  # their wildcard covers ours
        ("0.0.0.0", ("ip",), _fwd("ip", "192.0.2.7"), True),  # ours covers theirs
        ("127.0.0.1", ("ip",), _fwd("ip", "192.0.2.7"), False),  # two addresses, one port
        ("127.0.0.1", ("ip",), _fwd("ip", "127.0.0.1", 5433), False),
        ("127.0.0.1", ("ip",), _fwd("ip", "127.0.0.1", proto="udp"), False),
        ("127.0.0.1", ("ip",), _fwd("ip6", "::"), False),  # a wildcard covers its family only
        ("0.0.0.0", ("ip",), _fwd("ip6", "::"), False),  # no v6 on our side: no ip6 DNAT
        ("0.0.0.0", ("ip", "ip6"), _fwd("ip6", "fd00::2"), True),  # ...with v6, [::] too
        ("fd00::2", ("ip6",), _fwd("ip6", "::"), True),
        ("fd00::2", ("ip6",), _fwd("ip6", "fd00::3"), False),
        ("fd00::2", ("ip6",), _fwd("ip", "0.0.0.0"), False),
    ],
)
def test_overlap_rule(
    host_ip: str, families: tuple[str, ...], other: ForwardedPort, meets: bool
) -> None:
    assert meets_forwarded(host_ip, 5432, "tcp", families, other) is meets


v4 = st.ip_addresses(v=4).map(str)
v6 = st.ip_addresses(v=6).map(str)


@given(st.one_of(v4, v6), st.integers(1, 65535), st.sampled_from(["tcp", "udp"]))
def test_a_wildcard_meets_every_address_of_its_family_and_no_other(
    host_ip: str, port: int, proto: str
) -> None:
    family = "ip6" if ipaddress.ip_address(host_ip).version == 6 else "ip"
    other_family = "ip" if family == "ip6" else "ip6"
    for wildcard, fam in (("0.0.0.0", "ip"), ("::", "ip6")):
        other = _fwd(fam, wildcard, port, proto)
        assert meets_forwarded(host_ip, port, proto, (family,), other) is (fam == family)
    same = _fwd(family, host_ip, port, proto)
    assert meets_forwarded(host_ip, port, proto, (family,), same)
    assert not meets_forwarded(host_ip, port, proto, (other_family,), same)
    assert not meets_forwarded(host_ip, port % 65535 + 1, proto, (family,), same)


def test_refused_with_one_line_naming_port_and_table() -> None:
    other = _fwd("ip", "0.0.0.0", 5432)
    with pytest.raises(Conflict) as err:
        refuse_forwarded([PortSpec("127.0.0.1", 5432, 80)], [other], container_ip6="")
    assert str(err.value) == (
        "Bind for 127.0.0.1:5432 failed: port is already allocated by another dockyard root,"
        " nft table ip dockyard-nat-0123abcd: pick another host port"
    )
    default = ForwardedPort("ip", "dockyard-nat", "0.0.0.0", 5432, "tcp")
    with pytest.raises(Conflict, match=r"root, /var/lib/dockyard \(nft table ip dockyard-nat\)"):
        refuse_forwarded([PortSpec("", 5432, 80)], [default], container_ip6="")


def test_random_and_other_ports_are_not_refused() -> None:
    other = _fwd("ip", "0.0.0.0", 5432)
    refuse_forwarded([PortSpec("", 0, 80), PortSpec("", 5433, 80)], [other], container_ip6="")
    # Our [::] publication meets their v6 wildcard only when our container has v6.
    v6 = _fwd("ip6", "::", 5432)
    refuse_forwarded([PortSpec("", 5432, 80)], [v6], container_ip6="")
    with pytest.raises(Conflict):
        refuse_forwarded([PortSpec("", 5432, 80)], [v6], container_ip6="fd12::2")
