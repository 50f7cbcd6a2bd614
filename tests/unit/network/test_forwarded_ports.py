"""Other roots' published ports, read from `nft -j list table` output of their nat tables."""

from __future__ import annotations

from typing import Any

from dockyard.network.firewall import ForwardedPort, forwarded_ports


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
        ForwardedPort("dockyard-nat-0123abcd", "0.0.0.0", 8080, "tcp"),
        ForwardedPort("dockyard-nat-0123abcd", "127.0.0.1", 5353, "udp"),
        ForwardedPort("dockyard-nat-0123abcd", "::", 8080, "tcp"),
    ]


def test_rules_without_dnat_or_port_are_not_ports() -> None:
    listing = {"nftables": [_rule("ip", "prerouting", LOCAL, _dport("tcp", 1)),
                            _rule("ip", "prerouting", LOCAL, DNAT)]}  # fmt: skip
    assert forwarded_ports(listing) == []
