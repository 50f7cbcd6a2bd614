"""IPv6: the v6 IPAM (pure and in a state database), the nft plan for v6, ports, hosts files."""

from __future__ import annotations

import ipaddress
import random
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dockyard.errors import Conflict, InvalidArgument
from dockyard.network import ipam
from dockyard.network.firewall import NetRules, PortRules, Tables, plan
from dockyard.network.hosts import NetworkView, container_hosts
from dockyard.network.ports import PortSpec, clashes, resolve
from dockyard.network.store import ContainerFiles, Endpoint, Network
from dockyard.state.db import StateDB

N6 = ipaddress.IPv6Network
A6 = ipaddress.IPv6Address


# --- IPAM -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("fd12::1/64", "invalid subnet"),  # host bits set
        ("fd12::/129", "invalid subnet"),
        ("fd12::zz/64", "invalid subnet"),
        ("10.0.0.0/24", "is not IPv6"),
        ("fd12::/127", "too small"),
    ],
)
def test_bad_v6_subnets_are_one_clear_error(text: str, why: str) -> None:
    with pytest.raises(InvalidArgument, match=why):
        ipam.parse_subnet6(text)


@given(st.text(max_size=40))
def test_parse_subnet6_never_fails_otherwise(text: str) -> None:
    # Whatever a user writes: a network or InvalidArgument, nothing else escapes.
    try:
        net = ipam.parse_subnet6(text)
    except InvalidArgument:
        return
    assert isinstance(net, N6) and net.prefixlen <= ipam.V6_MAX_PREFIX


def test_split_families_takes_one_value_per_family() -> None:
    assert ipam.split_families(["10.1.0.0/24", "fd12::/64"], ["fd12::1"]) == (
        "10.1.0.0/24",
        "fd12::/64",
        None,
        "fd12::1",
    )
    assert ipam.split_families([], []) == (None, None, None, None)
    with pytest.raises(InvalidArgument, match="--subnet given twice for IPv6"):
        ipam.split_families(["fd12::/64", "fd13::/64"], [])
    with pytest.raises(InvalidArgument, match="--gateway given twice for IPv4"):
        ipam.split_families([], ["10.0.0.1", "10.0.0.2"])


def test_v6_gateway_is_the_first_address_and_must_be_inside() -> None:
    net = N6("fd12:3456:789a:1::/64")
    assert ipam.default_gateway(net) == A6("fd12:3456:789a:1::1")
    ipam.check_gateway(net, A6("fd12:3456:789a:1::fffe"))
    for bad in ("fd12:3456:789a:2::1", "fd12:3456:789a:1::"):
        with pytest.raises(InvalidArgument, match=re.escape(f"gateway {bad}")):
            ipam.check_gateway(net, A6(bad))


def test_ula_pool_is_a_stable_ula_48_per_root() -> None:
    pool = ipam.ula_pool("/tmp/a")
    assert pool.prefixlen == 48 and pool.subnet_of(N6("fd00::/8"))
    assert pool == ipam.ula_pool("/tmp/a") != ipam.ula_pool("/tmp/b")


def test_pick_v6_subnet_skips_taken_and_overlap_ignores_other_family() -> None:
    pool = N6("fd12:3456:789a::/48")
    taken: list[tuple[str, N6]] = [("network a", N6("fd12:3456:789a::/64"))]
    assert ipam.pick_subnet(pool, 64, taken) == N6("fd12:3456:789a:1::/64")
    assert ipam.overlapping(N6("fd12:3456:789a::/56"), taken) == "network a"
    mixed: list[Any] = [("v4", ipaddress.IPv4Network("10.0.0.0/8"))]
    assert ipam.overlapping(N6("fd12::/64"), mixed) is None


def test_requested_v6_checks() -> None:
    net, gw = N6("fd12::/64"), A6("fd12::1")
    with pytest.raises(InvalidArgument, match=re.escape("IP fd13::5 is not a host address")):
        ipam.check_requested("n", net, gw, A6("fd13::5"), [])
    with pytest.raises(InvalidArgument, match="not a host address"):
        ipam.check_requested("n", net, gw, A6("fd12::"), [])
    with pytest.raises(Conflict, match="gateway"):
        ipam.check_requested("n", net, gw, gw, [])
    with pytest.raises(Conflict, match=re.escape("IP fd12::9 is already in use on network n")):
        ipam.check_requested("n", net, gw, A6("fd12::9"), [A6("fd12:0::9")])


def test_v4_and_v6_leases_of_one_container_live_side_by_side(tmp_path: Path) -> None:
    db = StateDB(tmp_path)
    db.migrate("network.ipam", ipam.MIGRATIONS)
    v4 = {"subnet": ipaddress.IPv4Network("10.250.0.0/29"), "gateway": A4("10.250.0.1")}
    v6 = {"subnet": N6("fd12::/64"), "gateway": A6("fd12::1")}
    kw: dict[str, Any] = {"network_id": "n1", "network_name": "net"}
    with db.transaction() as conn:
        assert ipam.allocate(conn, container_id="a", **kw, **v4) == A4("10.250.0.2")
        assert ipam.allocate(conn, container_id="a", **kw, **v6) == A6("fd12::2")
        got = ipam.allocate(conn, container_id="b", requested=A6("fd12::10"), **kw, **v6)
        assert got == A6("fd12::10")
        with pytest.raises(Conflict, match="already in use"):
            ipam.allocate(conn, container_id="c", requested=A6("fd12:0:0::10"), **kw, **v6)
        with pytest.raises(Conflict, match="already on network net"):
            ipam.allocate(conn, container_id="a", **kw, **v6)
        ipam.release(conn, "n1", "a")  # both families go
        assert ipam.allocate(conn, container_id="c", **kw, **v6) == A6("fd12::2")
        assert ipam.allocate(conn, container_id="c", **kw, **v4) == A4("10.250.0.2")
        rows = conn.execute("SELECT ip FROM ip6_leases ORDER BY ip").fetchall()
        assert [r["ip"] for r in rows] == ["fd12::10", "fd12::2"]
    db.close()


A4 = ipaddress.IPv4Address


# --- nft plan -------------------------------------------------------------------------------


def _rules(cmds: list[dict[str, Any]], family: str, chain: str) -> list[dict[str, Any]]:
    return [
        c["add"]["rule"]
        for c in cmds
        if "rule" in c.get("add", {})
        and c["add"]["rule"]["family"] == family
        and c["add"]["rule"]["chain"] == chain
    ]


def _tables(cmds: list[dict[str, Any]]) -> list[tuple[str, str]]:
    made = [c["add"]["table"] for c in cmds[6:] if "table" in c.get("add", {})]
    return [(t["family"], t["name"]) for t in made]


V6NET = NetRules("six", "dy-six", "10.250.0.0/24", subnet6="fd12::/64")


def test_ip6_nat_table_only_while_a_v6_network_exists() -> None:
    assert _tables(plan([NetRules("a", "dy-a", "10.250.0.0/24")], [])) == [
        ("inet", "dockyard"),
        ("ip", "dockyard-nat"),
    ]
    cmds = plan([V6NET], [], Tables("dockyard-x", "dockyard-nat-x"))
    assert _tables(cmds) == [
        ("inet", "dockyard-x"),
        ("ip", "dockyard-nat-x"),
        ("ip6", "dockyard-nat-x"),
    ]
    chains = [c["add"]["chain"]["name"] for c in cmds if "chain" in c.get("add", {})]
    assert chains.count("postrouting") == 2


def test_v6_masquerade_unless_internal_and_hairpin_always() -> None:
    saddr6 = {"payload": {"protocol": "ip6", "field": "saddr"}}
    prefix = {"prefix": {"addr": "fd12::", "len": 64}}
    post = _rules(plan([V6NET], []), "ip6", "postrouting")
    assert len(post) == 2
    out, hairpin = post
    assert out["expr"][0]["match"] == {"op": "==", "left": saddr6, "right": prefix}
    assert out["expr"][1]["match"]["op"] == "!=" and {"masquerade": None} in out["expr"]
    assert {"match": {"op": "in", "left": {"ct": {"key": "status"}}, "right": "dnat"}} in hairpin[
        "expr"
    ]
    internal = NetRules("six", "dy-six", "10.250.0.0/24", internal=True, subnet6="fd12::/64")
    post = _rules(plan([internal], []), "ip6", "postrouting")
    assert len(post) == 1 and post[0]["expr"][0]["match"]["left"] == {"meta": {"key": "oifname"}}


def test_isolation_and_internal_rules_cover_v6_as_they_match_interfaces() -> None:
    # The filter table is `inet`: one set of interface rules serves both families.
    other = NetRules("four", "dy-four", "10.250.1.0/24")
    internal = NetRules("six", "dy-six", "10.250.0.0/24", internal=True, subnet6="fd12::/64")
    fwd = _rules(plan([internal, other], []), "inet", "forward")
    assert len([r for r in fwd if r["comment"] == "dockyard net six"]) == 3
    for r in fwd:
        for e in r["expr"]:
            assert "payload" not in e.get("match", {}).get("left", {})


def test_wildcard_port_dnats_both_families_but_not_loopback6() -> None:
    port = PortRules("c" * 64, "0.0.0.0", 18080, "10.250.0.2", 80, "tcp", "fd12::2")
    cmds = plan([V6NET], [port])
    for chain in ("prerouting", "output"):
        (v4,) = _rules(cmds, "ip", chain)
        (v6,) = _rules(cmds, "ip6", chain)
        assert v4["expr"][-1] == {"dnat": {"addr": "10.250.0.2", "port": 80}}
        assert v6["expr"][-1] == {"dnat": {"addr": "fd12::2", "port": 80}}
        assert v6["expr"][0]["match"]["left"] == {"fib": {"result": "type", "flags": ["daddr"]}}
        assert v6["expr"][1]["match"] == {
            "op": "!=",
            "left": {"payload": {"protocol": "ip6", "field": "daddr"}},
            "right": "::1",
        }


@pytest.mark.parametrize(
    ("host_ip", "ip6", "families"),
    [
        ("0.0.0.0", "fd12::2", ("ip", "ip6")),
        ("0.0.0.0", "", ("ip",)),
        ("127.0.0.1", "fd12::2", ("ip",)),
        ("fd00::2", "fd12::2", ("ip6",)),
        ("::", "fd12::2", ("ip6",)),
    ],
)
def test_port_families(host_ip: str, ip6: str, families: tuple[str, ...]) -> None:
    port = PortRules("c" * 64, host_ip, 1, "10.250.0.2", 80, "tcp", ip6)
    assert port.families() == families
    cmds = plan([V6NET], [port])
    assert bool(_rules(cmds, "ip", "output")) == ("ip" in families)
    assert bool(_rules(cmds, "ip6", "output")) == ("ip6" in families)


def test_v6_host_address_port_matches_that_address() -> None:
    port = PortRules("c" * 64, "fd00::2", 18080, "10.250.0.2", 80, "tcp", "fd12::2")
    (rule,) = _rules(plan([V6NET], [port]), "ip6", "prerouting")
    assert rule["expr"][0]["match"] == {
        "op": "==",
        "left": {"payload": {"protocol": "ip6", "field": "daddr"}},
        "right": "fd00::2",
    }
    assert rule["comment"] == f"dockyard port {'c' * 12} fd00::2:18080/tcp"


# --- published ports ------------------------------------------------------------------------


def _resolve6(reqs: list[PortSpec], ip6: str = "fd12::2", free: bool = True) -> list[Any]:
    return resolve(
        reqs,
        container_id="c" * 64,
        network_id="n",
        container_ip="10.0.0.2",
        container_ip6=ip6,
        taken=(),
        is_free=lambda ip, port, proto: free,
        ports=range(40000, 40010),
        rng=random.Random(1),
    )


def test_v6_host_ip_needs_a_v6_container_and_refuses_loopback() -> None:
    (b,) = _resolve6([PortSpec("fd00::2", 8080, 80)])
    assert (b.host_ip, b.container_ip6) == ("fd00::2", "fd12::2")
    with pytest.raises(InvalidArgument, match="has no IPv6 address"):
        _resolve6([PortSpec("fd00::2", 8080, 80)], ip6="")
    with pytest.raises(InvalidArgument, match=re.escape("publishing on [::1] is not supported")):
        _resolve6([PortSpec("::1", 8080, 80)])
    with pytest.raises(Conflict, match=re.escape("Bind for [fd00::2]:8080 failed")):
        _resolve6([PortSpec("fd00::2", 8080, 80)], free=False)


def test_wildcards_clash_with_every_address_of_either_family() -> None:
    assert clashes(("::", 80, "tcp"), ("fd00::2", 80, "tcp"))
    assert clashes(("0.0.0.0", 80, "tcp"), ("fd00::2", 80, "tcp"))
    assert not clashes(("fd00::2", 80, "tcp"), ("fd00::3", 80, "tcp"))
    assert not clashes(("::", 80, "tcp"), ("::", 80, "udp"))


# --- hosts files ----------------------------------------------------------------------------


def test_hosts_list_v6_addresses_of_self_and_peers() -> None:
    net = Network(
        id="n",
        name="six",
        subnet="10.0.0.0/24",
        gateway="10.0.0.1",
        bridge="dy-six",
        ipv6=True,
        subnet6="fd12::/64",
        gateway6="fd12::1",
    )
    me = Endpoint("n", "01" * 32, "web", "10.0.0.2", "", "veth1", "eth0", "", ip6="fd12::2")
    peer = Endpoint(
        "n", "02" * 32, "db", "10.0.0.3", "", "veth2", "eth0", "", ("pg",), ip6="fd12::3"
    )
    text = container_hosts(
        ContainerFiles("01" * 32, "webhost"), [NetworkView(net, (me, peer))], "d0"
    )
    lines = text.splitlines()
    assert "fd12::2\twebhost" in lines and "10.0.0.2\twebhost" in lines
    assert f"fd12::3\tdb pg {'02' * 6}" in lines and f"10.0.0.3\tdb pg {'02' * 6}" in lines
