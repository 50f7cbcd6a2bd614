"""The nftables plan: a pure function of networks and published ports."""

from __future__ import annotations

from typing import Any

from dockyard.network.firewall import NetRules, PortRules, Tables, plan, tables_for


def _rules(cmds: list[dict[str, Any]], chain: str) -> list[dict[str, Any]]:
    return [
        c["add"]["rule"]
        for c in cmds
        if "rule" in c.get("add", {}) and c["add"]["rule"]["chain"] == chain
    ]


def test_no_networks_removes_every_table() -> None:
    cmds = plan([], [])
    assert cmds == [
        {"add": {"table": {"family": "inet", "name": "dockyard"}}},
        {"delete": {"table": {"family": "inet", "name": "dockyard"}}},
        {"add": {"table": {"family": "ip", "name": "dockyard-nat"}}},
        {"delete": {"table": {"family": "ip", "name": "dockyard-nat"}}},
        {"add": {"table": {"family": "ip6", "name": "dockyard-nat"}}},
        {"delete": {"table": {"family": "ip6", "name": "dockyard-nat"}}},
    ]


def test_tables_are_per_root() -> None:
    assert tables_for("/var/lib/dockyard/") == Tables()
    other = tables_for("/tmp/x")
    assert other.filter.startswith("dockyard-") and other.nat.startswith("dockyard-nat-")
    assert tables_for("/tmp/x") == other != tables_for("/tmp/y")


def test_plan_starts_by_emptying_the_tables_so_it_is_idempotent() -> None:
    cmds = plan([NetRules("a", "dy-a", "10.250.0.0/24")], [])
    assert [next(iter(c)) for c in cmds[:6]] == ["add", "delete"] * 3
    assert cmds == plan([NetRules("a", "dy-a", "10.250.0.0/24")], [])


def test_masquerade_for_normal_networks_only() -> None:
    cmds = plan(
        [
            NetRules("out", "dy-out", "10.250.0.0/24"),
            NetRules("in", "dy-in", "10.250.1.0/24", internal=True),
        ],
        [],
    )
    post = _rules(cmds, "postrouting")
    outbound = [
        r
        for r in post
        if r["expr"][0]["match"]["left"] == {"payload": {"protocol": "ip", "field": "saddr"}}
    ]
    assert [r["comment"] for r in outbound] == ["dockyard net out"]
    assert outbound[0]["expr"][1]["match"] == {
        "op": "!=",
        "left": {"meta": {"key": "oifname"}},
        "right": "dy-out",
    }
    assert {"masquerade": None} in outbound[0]["expr"]


def test_internal_network_drops_both_ways_and_bridges_are_isolated() -> None:
    cmds = plan(
        [
            NetRules("a", "dy-a", "10.250.0.0/24", internal=True),
            NetRules("b", "dy-b", "10.250.1.0/24"),
        ],
        [],
    )
    fwd = _rules(cmds, "forward")
    assert all({"drop": None} in r["expr"] for r in fwd)
    assert not any("accept" in e for r in fwd for e in r["expr"])
    internal = [r for r in fwd if r["comment"] == "dockyard net a"]
    assert len(internal) == 3  # out of the bridge, into the bridge, to the other bridge
    isolation = [r for r in fwd if r["expr"][1]["match"]["right"] == {"set": ["dy-a"]}]
    assert [r["comment"] for r in isolation] == ["dockyard net b"]


def test_published_ports_dnat_in_prerouting_and_output() -> None:
    ports = [
        PortRules("c" * 64, "127.0.0.1", 18080, "10.250.0.2", 80, "tcp"),
        PortRules("c" * 64, "0.0.0.0", 5353, "10.250.0.2", 53, "udp"),
    ]
    cmds = plan([NetRules("a", "dy-a", "10.250.0.0/24")], ports)
    for chain in ("prerouting", "output"):
        rules = _rules(cmds, chain)
        assert [r["comment"] for r in rules] == [
            f"dockyard port {'c' * 12} 127.0.0.1:18080/tcp",
            f"dockyard port {'c' * 12} 0.0.0.0:5353/udp",
        ]
        one, two = rules
        assert one["expr"][0]["match"]["right"] == "127.0.0.1"
        assert one["expr"][1]["match"] == {
            "op": "==",
            "left": {"payload": {"protocol": "tcp", "field": "dport"}},
            "right": 18080,
        }
        assert one["expr"][2] == {"dnat": {"addr": "10.250.0.2", "port": 80}}
        assert two["expr"][0]["match"]["left"] == {"fib": {"result": "type", "flags": ["daddr"]}}


def test_loopback_clients_are_masqueraded_onto_the_bridge() -> None:
    post = _rules(plan([NetRules("a", "dy-a", "10.250.0.0/24")], []), "postrouting")
    loop = [
        r
        for r in post
        if {
            "match": {
                "op": "==",
                "left": {"payload": {"protocol": "ip", "field": "saddr"}},
                "right": {"prefix": {"addr": "127.0.0.0", "len": 8}},
            }
        }
        in r["expr"]
    ]
    assert len(loop) == 1
