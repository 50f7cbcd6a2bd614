"""Rendering /etc/hosts and /etc/resolv.conf, and rewriting in place."""

from __future__ import annotations

from pathlib import Path

from dockyard.network.hosts import (
    NetworkView,
    Peer,
    ResolvConf,
    container_hosts,
    parse_resolv_conf,
    render_hosts,
    render_resolv_conf,
    write_in_place,
)
from dockyard.network.store import ContainerFiles, Endpoint, Network


def test_hosts_lists_localhost_itself_extra_and_peers() -> None:
    text = render_hosts(
        "web",
        ["10.250.0.2"],
        [Peer("10.250.0.3", "db", ("database", "db"), "0123456789ab")],
        [("gw", "10.250.0.1")],
    )
    lines = text.splitlines()
    assert lines[0] == "127.0.0.1\tlocalhost"
    assert "10.250.0.1\tgw" in lines
    assert "10.250.0.2\tweb" in lines
    assert lines[-1] == "10.250.0.3\tdb database 0123456789ab"
    assert text.endswith("\n")


def test_resolv_conf_drops_loopback_servers_keeps_search_and_options() -> None:
    host = parse_resolv_conf(
        "# comment\nnameserver 127.0.0.53\nnameserver 10.1.1.1\nnameserver ::1\n"
        "search a.example b.example\noptions edns0 trust-ad\n"
    )
    assert host == ResolvConf(
        ("127.0.0.53", "10.1.1.1", "::1"), ("a.example", "b.example"), ("edns0", "trust-ad")
    )
    assert render_resolv_conf(host) == (
        "nameserver 10.1.1.1\nsearch a.example b.example\noptions edns0 trust-ad\n"
    )


def test_resolv_conf_notes_when_only_loopback_servers() -> None:
    text = render_resolv_conf(parse_resolv_conf("nameserver 127.0.0.53\n"))
    assert text.startswith("# the host has only loopback nameservers")
    assert "nameserver" not in text.replace("nameservers", "")


def test_dns_flag_overrides_servers() -> None:
    host = ResolvConf(("10.1.1.1",), ("x",), ())
    assert render_resolv_conf(host, ["9.9.9.9"]) == "nameserver 9.9.9.9\nsearch x\n"


def test_write_in_place_keeps_the_inode(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    write_in_place(path, "a much longer first content\n")
    inode = path.stat().st_ino
    write_in_place(path, "short\n")
    assert path.read_text() == "short\n"
    assert path.stat().st_ino == inode


def _net(name: str, gateway: str = "10.0.0.1") -> Network:
    return Network(id=name, name=name, subnet="10.0.0.0/24", gateway=gateway, bridge=f"br-{name}")


def _ep(net: str, n: int, name: str, ip: str, aliases: tuple[str, ...] = ()) -> Endpoint:
    return Endpoint(net, f"{n:02x}" * 32, name, ip, "", f"veth{n}", "eth0", "", aliases)


def test_user_network_names_every_peer_by_name_alias_and_short_id() -> None:
    view = NetworkView(
        _net("app"),
        (_ep("app", 1, "web", "10.0.0.2"), _ep("app", 2, "db", "10.0.0.3", ("pg",))),
    )
    text = container_hosts(ContainerFiles("01" * 32, "webhost"), [view], "dockyard0")
    assert "10.0.0.2\twebhost\n" in text
    assert f"10.0.0.3\tdb pg {'02' * 6}\n" in text


def test_default_bridge_names_only_links() -> None:
    members = (
        _ep("dockyard0", 1, "web", "10.0.0.2"),
        _ep("dockyard0", 2, "db", "10.0.0.3"),
        _ep("dockyard0", 3, "cache", "10.0.0.4"),
    )
    view = NetworkView(_net("dockyard0"), members)
    files = ContainerFiles("01" * 32, "webhost", links=(("db", "database"),))
    text = container_hosts(files, [view], "dockyard0")
    assert f"10.0.0.3\tdatabase db {'02' * 6}\n" in text
    assert "cache" not in text


def test_host_gateway_is_the_first_networks_gateway() -> None:
    views = [
        NetworkView(_net("a", "10.0.0.1"), (_ep("a", 1, "web", "10.0.0.2"),)),
        NetworkView(_net("b", "10.9.0.1"), (_ep("b", 1, "web", "10.9.0.2"),)),
    ]
    files = ContainerFiles("01" * 32, "h", extra_hosts=(("host.docker.internal", "host-gateway"),))
    text = container_hosts(files, views, "dockyard0")
    assert "10.0.0.1\thost.docker.internal\n" in text
    assert "10.0.0.2\th\n10.9.0.2\th\n" in text
    # With no network at all, a host-gateway entry has nothing to point at and is left out.
    assert "host.docker.internal" not in container_hosts(files, [], "dockyard0")
