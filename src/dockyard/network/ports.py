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

ANY_IP = "0.0.0.0"
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
    """Two (ip, port, proto) clash on the same port and proto when the IPs meet."""
    (a_ip, a_port, a_proto), (b_ip, b_port, b_proto) = a, b
    same_ip = a_ip == b_ip or ANY_IP in (a_ip, b_ip)
    return a_port == b_port and a_proto == b_proto and same_ip


def port_is_free(host_ip: str, port: int, proto: str) -> bool:
    """Bind a socket to see whether a host process already holds the port."""
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    with socket.socket(socket.AF_INET, kind) as sock:
        # SO_REUSEADDR ignores TIME_WAIT leftovers but still fails on a listening socket.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
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


def _in_use_message(host_ip: str, port: int) -> str:
    return f"Bind for {host_ip}:{port} failed: port is already allocated"


def resolve(
    requests: Sequence[PortRequest],
    *,
    container_id: str,
    network_id: str,
    container_ip: str,
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
            raise InvalidArgument(f"publishing on IPv6 address {host_ip} is not supported yet")
        if not 0 <= req.host_port <= 65535 or not 1 <= req.container_port <= 65535:
            raise InvalidArgument(
                f"invalid port mapping {req.host_port}:{req.container_port}: ports are 1-65535"
            )

        def usable(port: int, ip: str = host_ip, proto: str = req.proto) -> bool:
            return not any(clashes((ip, port, proto), h) for h in held) and is_free(ip, port, proto)

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
            )
        )
    return out


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
