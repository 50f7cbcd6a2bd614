"""A container's /etc/hosts, /etc/resolv.conf and /etc/hostname, rendered and rewritten in place.

Name resolution needs no DNS server: every container on a user-defined network lists the
others in its own hosts file, rewritten (same inode) whenever one joins or leaves.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dockyard.network.store import ContainerFiles, Endpoint, Network

HOSTS_HEADER = (
    "127.0.0.1\tlocalhost",
    "::1\tlocalhost ip6-localhost ip6-loopback",
    "fe00::0\tip6-localnet",
    "ff00::0\tip6-mcastprefix",
    "ff02::1\tip6-allnodes",
    "ff02::2\tip6-allrouters",
)


@dataclass(frozen=True)
class Peer:
    """Another container a hosts file names: its IP, name, aliases and 12-char short id."""

    ip: str
    name: str
    aliases: tuple[str, ...] = ()
    short_id: str = ""


@dataclass(frozen=True)
class ResolvConf:
    """The parts of a resolv.conf dockyard keeps."""

    nameservers: tuple[str, ...] = ()
    search: tuple[str, ...] = ()
    options: tuple[str, ...] = ()


def render_hosts(
    hostname: str,
    own_ips: Sequence[str],
    peers: Sequence[Peer] = (),
    extra_hosts: Sequence[tuple[str, str]] = (),
    own_names: Sequence[str] = (),
) -> str:
    """The container's /etc/hosts: localhost, itself, `--add-host` entries, then its peers."""
    lines = list(HOSTS_HEADER)
    for name, ip in extra_hosts:
        lines.append(f"{ip}\t{name}")
    for ip in own_ips:
        names = _unique([hostname, *own_names])
        lines.append(f"{ip}\t{' '.join(names)}")
    for peer in peers:
        names = _unique([peer.name, *peer.aliases, *([peer.short_id] if peer.short_id else [])])
        lines.append(f"{peer.ip}\t{' '.join(names)}")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class NetworkView:
    """One network a container is on, with every endpoint on it (the container's included)."""

    network: Network
    members: tuple[Endpoint, ...]


def container_hosts(
    files: ContainerFiles, views: Sequence[NetworkView], default_network: str
) -> str:
    """A container's /etc/hosts from the networks it is on (in attach order).

    Peers are listed on user-defined networks only; the default bridge names nobody
    (Docker's rule) except the containers named by `--link`. `host-gateway` in `--add-host`
    is the gateway of the container's first network.
    """
    me = files.container_id
    own_ips: list[str] = []
    peers: list[Peer] = []
    seen: set[tuple[str, str]] = set()
    for view in views:
        own_ips += [ip for ep in view.members if ep.container_id == me for ip in _ips(ep)]
        others = [ep for ep in view.members if ep.container_id != me]
        if view.network.name != default_network:
            for o in others:
                for ip in _ips(o):
                    if (o.container_id, ip) not in seen:
                        seen.add((o.container_id, ip))
                        peers.append(Peer(ip, o.container_name, o.aliases, o.container_id[:12]))
        for target, alias in files.links:
            peers += [
                Peer(ip, alias, (target, o.container_id[:12]))
                for o in others
                if o.container_name == target
                for ip in _ips(o)
            ]
    gateway = views[0].network.gateway if views else ""
    extra = [
        (name, gateway if ip == "host-gateway" else ip)
        for name, ip in files.extra_hosts
        if ip != "host-gateway" or gateway
    ]
    return render_hosts(files.hostname, own_ips, peers, extra)


def _ips(ep: Endpoint) -> list[str]:
    # On a v6 network the name resolves to both addresses (`ping -6 name` finds the v6 line).
    return [ep.ip, ep.ip6] if ep.ip6 else [ep.ip]


def _unique(names: Sequence[str]) -> list[str]:
    seen: list[str] = []
    for n in names:
        if n and n not in seen:
            seen.append(n)
    return seen


def parse_resolv_conf(text: str) -> ResolvConf:
    """Nameservers, search domains and options of a resolv.conf (last search line wins)."""
    servers: list[str] = []
    search: tuple[str, ...] = ()
    options: list[str] = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split(";", 1)[0].split()
        if not words:
            continue
        if words[0] == "nameserver" and len(words) > 1:
            servers.append(words[1])
        elif words[0] in ("search", "domain"):
            search = tuple(words[1:])
        elif words[0] == "options":
            options.extend(words[1:])
    return ResolvConf(tuple(servers), search, tuple(options))


def _is_loopback(server: str) -> bool:
    try:
        return ipaddress.ip_address(server.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def render_resolv_conf(host: ResolvConf, dns: Sequence[str] = ()) -> str:
    """The container's resolv.conf: `--dns` servers or the host's minus loopback ones."""
    lines: list[str] = []
    if dns:
        servers = list(dns)
    else:
        # 127.0.0.53 (systemd-resolved) and friends live in the host's netns, not the container's.
        servers = [s for s in host.nameservers if not _is_loopback(s)]
        if not servers and host.nameservers:
            lines.append(
                "# the host has only loopback nameservers, unreachable from the container: "
                "pass --dns to resolve external names"
            )
    lines.extend(f"nameserver {s}" for s in servers)
    if host.search:
        lines.append("search " + " ".join(host.search))
    if host.options:
        lines.append("options " + " ".join(host.options))
    return "\n".join(lines) + "\n"


def write_in_place(path: Path, content: str) -> None:
    """Replace a file's content keeping its inode, so bind mounts of it see the change."""
    # O_TRUNC + write, not write-then-rename: a rename would leave the container's bind mount
    # pointing at the old inode.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
    try:
        data = content.encode()
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
