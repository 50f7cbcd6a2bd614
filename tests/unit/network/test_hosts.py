"""Rendering /etc/hosts and /etc/resolv.conf, and rewriting in place."""

from __future__ import annotations

from pathlib import Path

from dockyard.network.hosts import (
    Peer,
    ResolvConf,
    parse_resolv_conf,
    render_hosts,
    render_resolv_conf,
    write_in_place,
)


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
