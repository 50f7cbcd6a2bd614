"""Containers (named netns) on bridge networks: reachability, names, isolation, internal."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.network.manager import NetworkManager
from tests.e2e.network.helpers import cid, eventually, run_in, serve_http

pytestmark = pytest.mark.root

Spawn = Callable[..., subprocess.Popen[str]]


def _ping(ns: Path, target: str) -> bool:
    return run_in(ns, "busybox", "ping", "-c1", "-W1", target).returncode == 0


def _reaches(ns: Path, target: str) -> bool:
    # A new veth may drop the first packet while its carrier comes up: retry for a while.
    return eventually(lambda: _ping(ns, target), timeout=3)


def _resolve_in(ns: Path, hosts: Path, name: str) -> bool:
    # A private mount namespace with the container's hosts file on /etc/hosts, as the engine
    # bind-mounts it; busybox ping then resolves `name` through it.
    script = f"mount --bind {hosts} /etc/hosts && busybox ping -c1 -W1 {name}"
    return eventually(
        lambda: run_in(ns, "unshare", "-m", "sh", "-c", script).returncode == 0, timeout=3
    )


def test_two_containers_reach_each_other(
    manager: NetworkManager, netns: Callable[[str], Path], spawn: Spawn, scratch: Path
) -> None:
    net = manager.create("dytest-reach", subnet="10.250.1.0/24")
    a, b = netns("a"), netns("b")
    ea = manager.attach(net.name, cid(1), "alpha", a)
    eb = manager.attach(net.name, cid(2), "beta", b, aliases=("db",))
    assert (ea.ip, eb.ip, ea.ifname) == ("10.250.1.2", "10.250.1.3", "eth0")
    assert _reaches(a, eb.ip)
    serve_http(spawn, b, scratch / "www", "hello from beta\n")

    def fetch() -> bool:
        out = run_in(a, "curl", "-s", "--max-time", "1", f"http://{eb.ip}/")
        return out.stdout == "hello from beta\n"

    assert eventually(fetch)
    route = run_in(a, "ip", "-j", "route")
    assert any(
        r["dst"] == "default" and r["gateway"] == net.gateway for r in json.loads(route.stdout)
    )


def test_hosts_files_follow_the_network(
    manager: NetworkManager, netns: Callable[[str], Path]
) -> None:
    net = manager.create("dytest-names", subnet="10.250.2.0/24")
    a, b, c = netns("a"), netns("b"), netns("c")
    files = manager.write_container_files(cid(1), "alpha-host")
    hosts_a = files["/etc/hosts"]
    manager.write_container_files(cid(2), "beta-host")
    manager.attach(net.name, cid(1), "alpha", a)
    manager.attach(net.name, cid(2), "beta", b, aliases=("db",))
    inode = hosts_a.stat().st_ino
    text = hosts_a.read_text()
    assert "10.250.2.2\talpha-host" in text
    assert f"10.250.2.3\tbeta db {cid(2)[:12]}" in text
    assert _resolve_in(a, hosts_a, "db")

    # A container joining later is resolvable from the earlier one, in the same file.
    manager.write_container_files(cid(3), "gamma-host")
    manager.attach(net.name, cid(3), "gamma", c)
    assert "10.250.2.4\tgamma" in hosts_a.read_text()
    assert _resolve_in(a, hosts_a, "gamma")
    manager.detach(net.name, cid(3))
    assert "gamma" not in hosts_a.read_text()
    assert hosts_a.stat().st_ino == inode
    # The one that left no longer lists the others.
    assert "beta" not in (manager.container_dir(cid(3)) / "hosts").read_text()


def test_networks_are_isolated(manager: NetworkManager, netns: Callable[[str], Path]) -> None:
    one = manager.create("dytest-iso1", subnet="10.250.3.0/24")
    two = manager.create("dytest-iso2", subnet="10.250.4.0/24")
    a, b = netns("a"), netns("b")
    manager.attach(one.name, cid(1), "alpha", a)
    eb = manager.attach(two.name, cid(2), "beta", b)
    # a's default route points at the host, which would forward to b's bridge if not dropped.
    assert _reaches(a, one.gateway) and _reaches(b, two.gateway)
    assert not _ping(a, eb.ip)


def test_internal_network_has_no_way_out(
    manager: NetworkManager, netns: Callable[[str], Path]
) -> None:
    net = manager.create("dytest-int", subnet="10.250.5.0/24", internal=True)
    other = manager.create("dytest-ext", subnet="10.250.6.0/24")
    a, b = netns("a"), netns("b")
    ea = manager.attach(net.name, cid(1), "alpha", a)
    eb = manager.attach(other.name, cid(2), "beta", b)
    routes = json.loads(run_in(a, "ip", "-j", "route").stdout)
    assert not any(r["dst"] == "default" for r in routes)
    ruleset = subprocess.run(
        ["nft", "-j", "list", "ruleset"], check=False, capture_output=True, text=True
    )
    drops = [
        item["rule"]
        for item in json.loads(ruleset.stdout)["nftables"]
        if "rule" in item
        and item["rule"].get("comment") == "dockyard net dytest-int"
        and any("drop" in e for e in item["rule"]["expr"])
    ]
    assert len(drops) >= 2
    # Even with a route out, the host drops what leaves the internal bridge.
    run_in(a, "ip", "route", "add", "default", "via", net.gateway)
    assert _reaches(a, net.gateway) and _reaches(b, other.gateway)
    assert not _ping(a, eb.ip)
    assert ea.ip == "10.250.5.2"


def test_remove_leaves_nothing(manager: NetworkManager, netns: Callable[[str], Path]) -> None:
    net = manager.create("dytest-gone", subnet="10.250.7.0/24")
    a = netns("a")
    ep = manager.attach(net.name, cid(1), "alpha", a)
    links = subprocess.run(
        ["ip", "-br", "link"], check=False, capture_output=True, text=True
    ).stdout
    assert net.bridge in links and ep.host_veth in links
    manager.detach_all(cid(1))
    manager.remove(net.name)
    links = subprocess.run(
        ["ip", "-br", "link"], check=False, capture_output=True, text=True
    ).stdout
    assert net.bridge not in links and ep.host_veth not in links
    ruleset = subprocess.run(
        ["nft", "list", "ruleset"], check=False, capture_output=True, text=True
    ).stdout
    assert manager.tables.filter not in ruleset and manager.tables.nat not in ruleset
    for table in ("networks", "endpoints", "ip_leases", "published_ports"):
        assert manager.db.query(f"SELECT * FROM {table}") == []


def test_second_network_is_eth1_and_names_are_reused(
    manager: NetworkManager, netns: Callable[[str], Path]
) -> None:
    one = manager.create("dytest-multi1", subnet="10.250.8.0/24")
    two = manager.create("dytest-multi2", subnet="10.250.9.0/24")
    three = manager.create("dytest-multi3", subnet="10.250.14.0/24")
    a = netns("a")
    assert manager.attach(one.name, cid(1), "alpha", a).ifname == "eth0"
    assert manager.attach(two.name, cid(1), "alpha", a).ifname == "eth1"
    manager.detach(one.name, cid(1))
    assert manager.attach(three.name, cid(1), "alpha", a).ifname == "eth0"
    links = json.loads(run_in(a, "ip", "-j", "addr").stdout)
    addrs = {
        link["ifname"]: [x["local"] for x in link["addr_info"] if x["family"] == "inet"]
        for link in links
    }
    assert addrs["eth0"] == ["10.250.14.2"] and addrs["eth1"] == ["10.250.9.2"]
    assert [e.network_id for e in manager.endpoints(cid(1))] == [two.id, three.id]
