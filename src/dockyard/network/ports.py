"""Published ports: resolve requested bindings (random host ports) and check they are free.

A *request* is what the user wrote (`-p 127.0.0.1:8080:80/tcp`, host port 0 = pick one);
a *binding* is the resolved publication, with the container IP the traffic goes to.
"""

from __future__ import annotations

import errno
import random
import socket
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from dockyard.errors import Conflict, InvalidArgument
from dockyard.network.firewall import ForwardedPort, dnat_families

ANY_IP = "0.0.0.0"
ANY_IP6 = "::"
PROTOCOLS = ("tcp", "udp")


class PortRequest(Protocol):
    """One port to publish, as parsed from `-p` (the engine's options.PortBinding fits)."""

    @property
    def host_ip(self) -> str: ...
    @property
    def host_port(self) -> int: ...
    @property
    def container_port(self) -> int: ...
    @property
    def proto(self) -> str: ...


@dataclass(frozen=True)
class PortSpec:
    """A plain PortRequest: host IP ("" = all), host port (0 = random), container port, proto."""

    host_ip: str
    host_port: int
    container_port: int
    proto: str = "tcp"


@dataclass(frozen=True)
class PortBinding:
    """A resolved publication: host_ip:host_port/proto → container_ip:container_port."""

    container_id: str
    network_id: str
    host_ip: str
    host_port: int
    container_ip: str
    container_port: int
    proto: str
    container_ip6: str = ""  # '' when the container has no IPv6 on the network

    def docker_key(self) -> str:
        """Docker's `NetworkSettings.Ports` key, `80/tcp`."""
        return f"{self.container_port}/{self.proto}"


def ephemeral_range(path: Path = Path("/proc/sys/net/ipv4/ip_local_port_range")) -> range:
    """The kernel's ephemeral port range, from which random host ports are picked."""
    try:
        lo, hi = (int(x) for x in path.read_text().split())
    except (OSError, ValueError):
        lo, hi = 32768, 60999
    return range(lo, hi + 1)


def clashes(a: tuple[str, int, str], b: tuple[str, int, str]) -> bool:
    """Two (ip, port, proto) clash on the same port and proto when the IPs meet.

    A wildcard (0.0.0.0, ::) meets every address: 0.0.0.0 also publishes on the host's v6
    addresses when the container has IPv6, so it is taken as covering both families.
    """
    (a_ip, a_port, a_proto), (b_ip, b_port, b_proto) = a, b
    same_ip = a_ip == b_ip or bool({ANY_IP, ANY_IP6} & {a_ip, b_ip})
    return a_port == b_port and a_proto == b_proto and same_ip


def meets_forwarded(
    host_ip: str, port: int, proto: str, families: Sequence[str], other: ForwardedPort
) -> bool:
    """Would publishing host_ip:port/proto in `families` (nat table families) take a port
    another root forwards? Same port and proto, in a family both DNAT in, where the addresses
    meet: equal, or either is that family's wildcard (0.0.0.0 covers every v4 address only).
    """
    if (port, proto) != (other.host_port, other.proto) or other.family not in families:
        return False
    wildcard = ANY_IP6 if other.family == "ip6" else ANY_IP
    # A v4 wildcard request DNATs in ip6 as the v6 wildcard (firewall.dnat_families).
    mine = host_ip if (":" in host_ip) == (other.family == "ip6") else wildcard
    return wildcard in (mine, other.host_ip) or mine == other.host_ip


def refuse_forwarded(
    requests: Sequence[PortRequest], forwarded: Sequence[ForwardedPort], container_ip6: str
) -> None:
    """Conflict for the first named host port another dockyard root already forwards.

    Random host ports (0) are not refused here: `resolve` skips forwarded ones.
    """
    for req in requests:
        host_ip = req.host_ip or ANY_IP
        families = dnat_families(host_ip, bool(container_ip6))
        for other in forwarded:
            if req.host_port and meets_forwarded(
                host_ip, req.host_port, req.proto, families, other
            ):
                raise Conflict(
                    f"{_in_use_message(host_ip, req.host_port)} by another dockyard root,"
                    f" {other.owner()}: pick another host port"
                )


def port_is_free(host_ip: str, port: int, proto: str) -> bool:
    """Bind a socket to see whether a host process already holds the port."""
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    family = socket.AF_INET6 if ":" in host_ip else socket.AF_INET
    with socket.socket(family, kind) as sock:
        # SO_REUSEADDR ignores TIME_WAIT leftovers but still fails on a listening socket.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        try:
            sock.bind((host_ip, port))
        except OSError as exc:
            if exc.errno in (errno.EADDRINUSE, errno.EACCES):
                return False
            if exc.errno == errno.EADDRNOTAVAIL:
                raise InvalidArgument(
                    f"host IP {host_ip} is not an address of this host: publish on one of its"
                    " addresses or on 0.0.0.0"
                ) from None
            raise
    return True


def host_port_text(host_ip: str, port: int) -> str:
    """`0.0.0.0:8080`, `[fd00::2]:8080`."""
    return f"[{host_ip}]:{port}" if ":" in host_ip else f"{host_ip}:{port}"


def _in_use_message(host_ip: str, port: int) -> str:
    return f"Bind for {host_port_text(host_ip, port)} failed: port is already allocated"


def resolve(
    requests: Sequence[PortRequest],
    *,
    container_id: str,
    network_id: str,
    container_ip: str,
    container_ip6: str = "",
    taken: Iterable[tuple[str, int, str]],
    is_free: Callable[[str, int, str], bool] = port_is_free,
    ports: range | None = None,
    rng: random.Random | None = None,
) -> list[PortBinding]:
    """Turn requests into bindings; a port held by dockyard or a host process → Conflict."""
    held = list(taken)
    out: list[PortBinding] = []
    pool = ports if ports is not None else ephemeral_range()
    pick = rng or random.Random()
    for req in requests:
        host_ip = req.host_ip or ANY_IP
        if req.proto not in PROTOCOLS:
            raise InvalidArgument(f"publishing {req.proto} ports is not supported: use tcp or udp")
        if ":" in host_ip:
            _check_v6_host_ip(host_ip, container_id, container_ip6)
        if not 0 <= req.host_port <= 65535 or not 1 <= req.container_port <= 65535:
            raise InvalidArgument(
                f"invalid port mapping {req.host_port}:{req.container_port}: ports are 1-65535"
            )

        # 0.0.0.0 publishes on the host's v6 addresses too when the container has IPv6.
        also_v6 = host_ip == ANY_IP and bool(container_ip6)

        def usable(
            port: int, ip: str = host_ip, proto: str = req.proto, v6: bool = also_v6
        ) -> bool:
            if any(clashes((ip, port, proto), h) for h in held) or not is_free(ip, port, proto):
                return False
            return not v6 or is_free(ANY_IP6, port, proto)

        if req.host_port:
            if not usable(req.host_port):
                raise Conflict(_in_use_message(host_ip, req.host_port))
            port = req.host_port
        else:
            port = _random_port(pool, usable, pick, host_ip)
        held.append((host_ip, port, req.proto))
        out.append(
            PortBinding(
                container_id,
                network_id,
                host_ip,
                port,
                container_ip,
                req.container_port,
                req.proto,
                container_ip6,
            )
        )
    return out


def _check_v6_host_ip(host_ip: str, container_id: str, container_ip6: str) -> None:
    if host_ip == "::1":
        # See firewall's module doc: the kernel drops loopback-sourced packets leaving `lo`.
        raise InvalidArgument(
            "publishing on [::1] is not supported (the kernel cannot forward ::1 to a "
            "container): publish on 127.0.0.1 or on a v6 address of the host"
        )
    if not container_ip6:
        raise InvalidArgument(
            f"cannot publish on IPv6 address {host_ip}: container {container_id[:12]} has no "
            "IPv6 address; connect it to a network made with --ipv6"
        )


def _random_port(
    pool: range, usable: Callable[[int], bool], rng: random.Random, host_ip: str
) -> int:
    # Random probes first (cheap when the range is mostly free), then a full scan.
    for _ in range(64):
        port = rng.choice(pool)
        if usable(port):
            return port
    for port in pool:
        if usable(port):
            return port
    raise Conflict(
        f"no free host port left on {host_ip} in {pool.start}-{pool.stop - 1}: "
        "unpublish ports or name a host port"
    )
