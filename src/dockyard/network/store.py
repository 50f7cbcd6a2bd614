"""The network tables: networks, endpoints (a container's attachment) and published ports."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field

from dockyard.errors import NotFound

MIGRATIONS = [
    """
    CREATE TABLE networks (
        id TEXT PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        driver TEXT NOT NULL,
        subnet TEXT NOT NULL,
        gateway TEXT NOT NULL,
        bridge TEXT NOT NULL UNIQUE,
        internal INTEGER NOT NULL,
        ipv6 INTEGER NOT NULL,
        labels TEXT NOT NULL,
        options TEXT NOT NULL,
        created TEXT NOT NULL
    );
    CREATE TABLE endpoints (
        network_id TEXT NOT NULL REFERENCES networks(id),
        container_id TEXT NOT NULL,
        container_name TEXT NOT NULL,
        aliases TEXT NOT NULL,
        ip TEXT NOT NULL,
        mac TEXT NOT NULL,
        host_veth TEXT NOT NULL UNIQUE,
        ifname TEXT NOT NULL,
        netns TEXT NOT NULL,
        seq INTEGER NOT NULL,
        PRIMARY KEY (network_id, container_id)
    );
    CREATE TABLE published_ports (
        container_id TEXT NOT NULL,
        network_id TEXT NOT NULL,
        host_ip TEXT NOT NULL,
        host_port INTEGER NOT NULL,
        container_ip TEXT NOT NULL,
        container_port INTEGER NOT NULL,
        proto TEXT NOT NULL,
        PRIMARY KEY (host_ip, host_port, proto)
    );
    CREATE TABLE container_files (
        container_id TEXT PRIMARY KEY,
        hostname TEXT NOT NULL,
        extra_hosts TEXT NOT NULL,
        dns TEXT NOT NULL,
        links TEXT NOT NULL
    );
    """,
    # IPv6: a network's v6 prefix and gateway, an endpoint's v6 address, a publication's v6
    # target ('' = none: the network or container has no IPv6).
    """
    ALTER TABLE networks ADD COLUMN subnet6 TEXT NOT NULL DEFAULT '';
    ALTER TABLE networks ADD COLUMN gateway6 TEXT NOT NULL DEFAULT '';
    ALTER TABLE endpoints ADD COLUMN ip6 TEXT NOT NULL DEFAULT '';
    ALTER TABLE published_ports ADD COLUMN container_ip6 TEXT NOT NULL DEFAULT '';
    """,
]


@dataclass(frozen=True)
class Network:
    """A bridge network: its subnet, gateway and the Linux bridge that carries it.

    With `ipv6`, `subnet6`/`gateway6` hold its IPv6 prefix and gateway; else they are ''.
    """

    id: str
    name: str
    subnet: str
    gateway: str
    bridge: str
    internal: bool = False
    ipv6: bool = False
    driver: str = "bridge"
    labels: Mapping[str, str] = field(default_factory=dict)
    options: Mapping[str, str] = field(default_factory=dict)
    created: str = ""
    subnet6: str = ""
    gateway6: str = ""


@dataclass(frozen=True)
class Endpoint:
    """One container on one network: its IP (and IPv6 address, '' if none), MAC, the host
    veth and the name inside (eth0…)."""

    network_id: str
    container_id: str
    container_name: str
    ip: str
    mac: str
    host_veth: str
    ifname: str
    netns: str
    aliases: tuple[str, ...] = ()
    seq: int = 0
    ip6: str = ""


@dataclass(frozen=True)
class ContainerFiles:
    """What a container's /etc/hosts and /etc/resolv.conf are rendered from."""

    container_id: str
    hostname: str
    extra_hosts: tuple[tuple[str, str], ...] = ()
    dns: tuple[str, ...] = ()
    links: tuple[tuple[str, str], ...] = ()


def network_from_row(row: sqlite3.Row) -> Network:
    """A `networks` row → Network."""
    return Network(
        id=row["id"],
        name=row["name"],
        subnet=row["subnet"],
        gateway=row["gateway"],
        bridge=row["bridge"],
        internal=bool(row["internal"]),
        ipv6=bool(row["ipv6"]),
        driver=row["driver"],
        labels=json.loads(row["labels"]),
        options=json.loads(row["options"]),
        created=row["created"],
        subnet6=row["subnet6"],
        gateway6=row["gateway6"],
    )


def endpoint_from_row(row: sqlite3.Row) -> Endpoint:
    """An `endpoints` row → Endpoint."""
    return Endpoint(
        network_id=row["network_id"],
        container_id=row["container_id"],
        container_name=row["container_name"],
        ip=row["ip"],
        mac=row["mac"],
        host_veth=row["host_veth"],
        ifname=row["ifname"],
        netns=row["netns"],
        aliases=tuple(json.loads(row["aliases"])),
        seq=row["seq"],
        ip6=row["ip6"],
    )


def insert_network(conn: sqlite3.Connection, net: Network) -> None:
    """Add a network row (name and bridge are unique)."""
    conn.execute(
        "INSERT INTO networks (id, name, driver, subnet, gateway, bridge, internal, ipv6,"
        " labels, options, created, subnet6, gateway6)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            net.id,
            net.name,
            net.driver,
            net.subnet,
            net.gateway,
            net.bridge,
            int(net.internal),
            int(net.ipv6),
            json.dumps(dict(net.labels), sort_keys=True),
            json.dumps(dict(net.options), sort_keys=True),
            net.created,
            net.subnet6,
            net.gateway6,
        ),
    )


def all_networks(conn: sqlite3.Connection) -> list[Network]:
    """Every network, by name."""
    rows = conn.execute("SELECT * FROM networks ORDER BY name").fetchall()
    return [network_from_row(r) for r in rows]


def find_network(conn: sqlite3.Connection, ref: str) -> Network:
    """A network by name, full id or unique id prefix; NotFound otherwise."""
    rows = conn.execute("SELECT * FROM networks WHERE name = ? OR id = ?", (ref, ref)).fetchall()
    if not rows and len(ref) >= 3:
        rows = conn.execute(
            "SELECT * FROM networks WHERE id LIKE ? || '%'", (ref.lower(),)
        ).fetchall()
    if len(rows) != 1:
        raise NotFound(f"network {ref} not found: list networks with `dockyard network ls`")
    return network_from_row(rows[0])


def delete_network(conn: sqlite3.Connection, network_id: str) -> None:
    """Remove a network row (its endpoints must be gone)."""
    conn.execute("DELETE FROM networks WHERE id = ?", (network_id,))


def insert_endpoint(conn: sqlite3.Connection, ep: Endpoint) -> Endpoint:
    """Add an endpoint; its `seq` orders a container's networks (the first gets the route)."""
    seq = conn.execute("SELECT COALESCE(MAX(seq), 0) + 1 FROM endpoints").fetchone()[0]
    conn.execute(
        "INSERT INTO endpoints (network_id, container_id, container_name, aliases, ip, mac,"
        " host_veth, ifname, netns, seq, ip6) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            ep.network_id,
            ep.container_id,
            ep.container_name,
            json.dumps(list(ep.aliases)),
            ep.ip,
            ep.mac,
            ep.host_veth,
            ep.ifname,
            ep.netns,
            seq,
            ep.ip6,
        ),
    )
    return Endpoint(**{**ep.__dict__, "seq": seq})


def endpoints_of_network(conn: sqlite3.Connection, network_id: str) -> list[Endpoint]:
    """The endpoints on a network, in attach order."""
    rows = conn.execute(
        "SELECT * FROM endpoints WHERE network_id = ? ORDER BY seq", (network_id,)
    ).fetchall()
    return [endpoint_from_row(r) for r in rows]


def endpoints_of_container(conn: sqlite3.Connection, container_id: str) -> list[Endpoint]:
    """A container's endpoints, in attach order (the first carries the default route)."""
    rows = conn.execute(
        "SELECT * FROM endpoints WHERE container_id = ? ORDER BY seq", (container_id,)
    ).fetchall()
    return [endpoint_from_row(r) for r in rows]


def all_endpoints(conn: sqlite3.Connection) -> list[Endpoint]:
    """Every endpoint, in attach order."""
    return [endpoint_from_row(r) for r in conn.execute("SELECT * FROM endpoints ORDER BY seq")]


def delete_endpoint(conn: sqlite3.Connection, network_id: str, container_id: str) -> None:
    """Remove one endpoint row."""
    conn.execute(
        "DELETE FROM endpoints WHERE network_id = ? AND container_id = ?",
        (network_id, container_id),
    )


def save_container_files(conn: sqlite3.Connection, files: ContainerFiles) -> None:
    """Remember what a container's hosts/resolv.conf are made of, to rewrite them later."""
    conn.execute(
        "INSERT INTO container_files (container_id, hostname, extra_hosts, dns, links)"
        " VALUES (?, ?, ?, ?, ?) ON CONFLICT(container_id) DO UPDATE SET"
        " hostname = excluded.hostname, extra_hosts = excluded.extra_hosts,"
        " dns = excluded.dns, links = excluded.links",
        (
            files.container_id,
            files.hostname,
            json.dumps([list(p) for p in files.extra_hosts]),
            json.dumps(list(files.dns)),
            json.dumps([list(p) for p in files.links]),
        ),
    )


def load_container_files(conn: sqlite3.Connection, container_id: str) -> ContainerFiles | None:
    """The saved file inputs of a container, or None when none were written."""
    row = conn.execute(
        "SELECT * FROM container_files WHERE container_id = ?", (container_id,)
    ).fetchone()
    if row is None:
        return None
    return ContainerFiles(
        container_id=row["container_id"],
        hostname=row["hostname"],
        extra_hosts=tuple((a, b) for a, b in json.loads(row["extra_hosts"])),
        dns=tuple(json.loads(row["dns"])),
        links=tuple((a, b) for a, b in json.loads(row["links"])),
    )


def delete_container_files(conn: sqlite3.Connection, container_id: str) -> None:
    """Forget a container's file inputs."""
    conn.execute("DELETE FROM container_files WHERE container_id = ?", (container_id,))
