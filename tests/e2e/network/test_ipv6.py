"""IPv6 on dual-stack networks, through the network layer with netns "containers"."""

from __future__ import annotations

import ipaddress
import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.errors import Conflict, InvalidArgument
from dockyard.network.manager import NetworkManager
from dockyard.network.netns import remove_netns
from dockyard.network.ports import PortSpec
from tests.e2e.network.helpers import cid, eventually, run_in, serve_http, ula64

pytestmark = pytest.mark.root

Spawn = Callable[..., subprocess.Popen[str]]
HOST_V6 = "fd00::2"  # the test host's own v6 address on eth0


def _links() -> set[str]:
    out = subprocess.run(["ip", "-j", "link"], check=True, capture_output=True, text=True)
    return {link["ifname"] for link in json.loads(out.stdout)}


def _ping6(ns: Path | None, target: str) -> bool:
    argv = ["busybox", "ping", "-6", "-c1", "-W1", target]
    if ns is None:
        return subprocess.run(argv, check=False, capture_output=True).returncode == 0
    return run_in(ns, *argv).returncode == 0


def _curl(url: str, ns: Path | None = None) -> subprocess.CompletedProcess[str]:
    argv = ["curl", "-s", "-g", "--max-time", "2", url]
    if ns is not None:
        return run_in(ns, *argv)
    return subprocess.run(argv, check=False, capture_output=True, text=True, timeout=10)


def _v6_route(ns: Path) -> list[dict[str, str]]:
    return json.loads(run_in(ns, "ip", "-j", "-6", "route").stdout)


def test_dual_stack_reach_names_and_published_port(
    manager: NetworkManager, netns: Callable[[str], Path], spawn: Spawn, scratch: Path
) -> None:
    sub6 = ula64()
    prefix = ipaddress.IPv6Network(sub6)
    net = manager.create("dytest-v6", subnet="10.250.61.0/24", subnet6=sub6, ipv6=True)
    assert (net.ipv6, net.subnet6, net.gateway6) == (True, sub6, str(prefix[1]))
    a, b = netns("a"), netns("b")
    wanted = str(prefix[0x42])
    ea = manager.attach(net.name, cid(1), "alpha", a)
    eb = manager.attach(net.name, cid(2), "beta", b, ip6=wanted)
    assert (ea.ip6, eb.ip6) == (str(prefix[2]), wanted)
    # Container to container and host to container over v6, at once (nodad).
    assert eventually(lambda: _ping6(a, eb.ip6), timeout=3)
    assert eventually(lambda: _ping6(None, ea.ip6), timeout=3)
    assert any(r["dst"] == "default" and r["gateway"] == net.gateway6 for r in _v6_route(a))
    # Hosts files name both addresses of every peer.
    manager.write_container_files(cid(1), "alpha")
    hosts = (manager.container_dir(cid(1)) / "hosts").read_text().splitlines()
    assert f"{eb.ip6}\tbeta {cid(2)[:12]}" in hosts and f"{eb.ip}\tbeta {cid(2)[:12]}" in hosts
    assert f"{ea.ip6}\talpha" in hosts

    serve_http(spawn, b, scratch / "www", "hello over v6\n")
    assert eventually(lambda: _curl(f"http://[{eb.ip6}]:80/").stdout == "hello over v6\n")
    (binding,) = manager.publish(cid(2), [PortSpec("", 18461, 80)])
    assert binding.container_ip6 == eb.ip6
    # Published on every address: the host's v6 address, from the host and from a container
    # on the network (hairpin), and still on 127.0.0.1.
    assert eventually(lambda: _curl(f"http://[{HOST_V6}]:18461/").stdout == "hello over v6\n")
    assert eventually(lambda: _curl(f"http://[{HOST_V6}]:18461/", a).stdout == "hello over v6\n")
    assert _curl("http://127.0.0.1:18461/").stdout == "hello over v6\n"
    # ::1 cannot be DNATed by the kernel: refused at once (curl exit 7), not a hang.
    assert _curl("http://[::1]:18461/").returncode == 7
    doc = manager.inspect(net.name)
    assert doc["EnableIPv6"] is True
    assert doc["IPAM"]["Config"][1] == {"Subnet": sub6, "Gateway": net.gateway6}
    assert doc["Containers"][cid(2)]["IPv6Address"] == f"{wanted}/64"
    assert Path("/proc/sys/net/ipv6/conf/all/forwarding").read_text().strip() == "1"


def test_publish_on_a_v6_host_address(
    manager: NetworkManager, netns: Callable[[str], Path], spawn: Spawn, scratch: Path
) -> None:
    net = manager.create("dytest-v6p", subnet="10.250.62.0/24", subnet6=ula64(), ipv6=True)
    a = netns("a")
    manager.attach(net.name, cid(1), "web", a)
    serve_http(spawn, a, scratch / "www", "v6 only\n")
    manager.publish(cid(1), [PortSpec(HOST_V6, 18462, 80)])
    assert eventually(lambda: _curl(f"http://[{HOST_V6}]:18462/").stdout == "v6 only\n")
    # Published on the v6 address only: 127.0.0.1 has nothing there.
    assert _curl("http://127.0.0.1:18462/").returncode == 7
    with pytest.raises(Conflict, match=r"Bind for \[fd00::2\]:18462 failed"):
        manager.publish(cid(1), [PortSpec(HOST_V6, 18462, 80)])
    with pytest.raises(InvalidArgument, match=r"\[::1\] is not supported"):
        manager.publish(cid(1), [PortSpec("::1", 18463, 80)])


def test_bad_v6_input_is_one_clear_error_and_makes_nothing(
    manager: NetworkManager, netns: Callable[[str], Path]
) -> None:
    sub6 = ula64()
    links = _links()
    cases: list[tuple[dict[str, object], type[Exception], str]] = [
        ({"subnet6": sub6}, InvalidArgument, "is IPv6 but IPv6 is not enabled: add --ipv6"),
        ({"subnet": sub6}, InvalidArgument, "is IPv6 but IPv6 is not enabled: add --ipv6"),
        ({"subnet6": "fd12::1/64", "ipv6": True}, InvalidArgument, "invalid subnet"),
        ({"subnet6": "fd12::/200", "ipv6": True}, InvalidArgument, "invalid subnet"),
        ({"subnet6": "fd00::/48", "ipv6": True}, Conflict, "overlaps the host route fd00::/64"),
        (
            {"subnet6": sub6, "gateway6": "fd12::1", "ipv6": True},
            InvalidArgument,
            "gateway fd12::1 is not a host address",
        ),
    ]
    for kwargs, exc, message in cases:
        with pytest.raises(exc, match=message):
            manager.create("dytest-bad6", **{"subnet": "10.250.63.0/24", **kwargs})  # type: ignore[arg-type]
    assert manager.list() == [] and _links() == links
    net = manager.create("dytest-v6b", subnet="10.250.63.0/24", subnet6=sub6, ipv6=True)
    with pytest.raises(Conflict, match=f"overlaps network {net.name}"):
        manager.create("dytest-bad6", subnet="10.250.64.0/24", subnet6=sub6, ipv6=True)
    prefix = ipaddress.IPv6Network(sub6)
    a, b = netns("a"), netns("b")
    manager.attach(net.name, cid(1), "one", a, ip6=str(prefix[9]))
    links = _links()
    for ip6, exc, message in [
        ("fd12::9", InvalidArgument, "is not a host address of network dytest-v6b"),
        (str(prefix[9]), Conflict, "is already in use on network dytest-v6b"),
        (str(prefix[1]), Conflict, "is the gateway of network dytest-v6b"),
        ("nonsense", InvalidArgument, "invalid --ip6 'nonsense'"),
    ]:
        with pytest.raises(exc, match=message):
            manager.attach(net.name, cid(2), "two", b, ip6=ip6)
    assert _links() == links and manager.endpoints(cid(2)) == []
    v4only = manager.create("dytest-v4only", subnet="10.250.65.0/24")
    with pytest.raises(InvalidArgument, match="network dytest-v4only has no IPv6"):
        manager.attach(v4only.name, cid(2), "two", b, ip6=str(prefix[10]))


def test_auto_v6_subnet_restore_and_removal(
    manager: NetworkManager, netns: Callable[[str], Path]
) -> None:
    # --ipv6 without a v6 subnet: a /64 from the root's ULA pool.
    net = manager.create("dytest-v6r", subnet="10.250.66.0/24", ipv6=True)
    sub6 = ipaddress.IPv6Network(net.subnet6)
    assert sub6.prefixlen == 64 and sub6.subnet_of(manager.pool6)
    a = netns("a")
    ea = manager.attach(net.name, cid(1), "alive", a)
    manager.publish(cid(1), [PortSpec("", 18466, 80)])
    # The "reboot": bridge, veth and tables vanish.
    subprocess.run(["ip", "link", "del", net.bridge], check=True)
    for family, table in (("ip", manager.tables.nat), ("ip6", manager.tables.nat)):
        subprocess.run(["nft", "delete", "table", family, table], check=True)
    subprocess.run(["nft", "delete", "table", "inet", manager.tables.filter], check=True)
    assert manager.needs_restore()
    manager.restore()
    assert eventually(lambda: _ping6(a, net.gateway6), timeout=3)
    assert any(r["dst"] == "default" for r in _v6_route(a))
    nat6 = subprocess.run(
        ["nft", "list", "table", "ip6", manager.tables.nat],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    assert f"dnat to [{ea.ip6}]:80" in nat6
    # Everything goes: leases, rules, the ip6 table, the links.
    manager.detach_all(cid(1))
    manager.remove(net.name)
    assert manager.db.query("SELECT * FROM ip6_leases") == []
    tables = subprocess.run(
        ["nft", "list", "tables"], check=True, capture_output=True, text=True
    ).stdout
    assert manager.tables.nat not in tables and manager.tables.filter not in tables
    assert not {net.bridge, ea.host_veth} & _links()
    remove_netns(a)
