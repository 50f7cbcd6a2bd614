"""Parsers of the network flags: `--network`, `--add-host`, `-p/--publish` and `--expose`."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from typing import Literal

from dockyard.errors import InvalidArgument

NetworkKind = Literal["none", "host", "bridge", "container", "network"]


@dataclass(frozen=True)
class NetworkMode:
    """`--network`: none, host, bridge, container:NAME or a user-defined network's name."""

    kind: NetworkKind
    name: str = ""

    def __str__(self) -> str:
        if self.kind == "container":
            return f"container:{self.name}"
        return self.name if self.kind == "network" else self.kind


_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")


def parse_network(text: str) -> NetworkMode:
    """`none|host|bridge|default|container:NAME|<network>` → NetworkMode."""
    if text in ("none", "host", "bridge"):
        return NetworkMode(text)  # type: ignore[arg-type]
    if text in ("", "default"):
        return NetworkMode("bridge")
    if text.startswith("container:"):
        name = text.removeprefix("container:")
        if not name:
            raise InvalidArgument(
                f'invalid --network "{text}": name the container, e.g. container:web'
            )
        return NetworkMode("container", name)
    if not _NAME.match(text):
        raise InvalidArgument(
            f'invalid --network "{text}": use none, host, bridge, container:NAME or a network name'
        )
    return NetworkMode("network", text)


HOST_GATEWAY = "host-gateway"


def parse_add_host(text: str) -> tuple[str, str]:
    """`name:ip`, `name=ip` or `name:host-gateway` → (name, ip)."""
    sep = "=" if "=" in text else ":"
    name, found, ip = text.partition(sep)
    ip = ip.removeprefix("[").removesuffix("]")
    if not found or not name or not re.match(r"^[A-Za-z0-9][A-Za-z0-9.-]*$", name):
        raise InvalidArgument(f'invalid --add-host "{text}": use NAME:IP, e.g. db:10.0.0.2')
    if ip != HOST_GATEWAY:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise InvalidArgument(
                f'invalid --add-host "{text}": {ip!r} is not an IP address (or host-gateway)'
            ) from None
    return name, ip


Proto = Literal["tcp", "udp", "sctp"]


@dataclass(frozen=True)
class PortBinding:
    """One published port: host IP ("" = all), host port (0 = random), container port, proto."""

    host_ip: str
    host_port: int
    container_port: int
    proto: Proto = "tcp"


def _port_range(text: str, what: str, spec: str) -> tuple[int, int]:
    lo, sep, hi = text.partition("-")
    if not re.match(r"^[0-9]+$", lo) or (sep and not re.match(r"^[0-9]+$", hi)):
        raise InvalidArgument(f'invalid -p "{spec}": {what} {text!r} is not a port or a range')
    start, end = int(lo), int(hi) if sep else int(lo)
    if not 0 <= start <= 65535 or not 0 <= end <= 65535 or end < start:
        raise InvalidArgument(f'invalid -p "{spec}": {what} {text!r} is outside 1-65535')
    return start, end


def parse_publish(text: str) -> list[PortBinding]:
    """`[IP:][HOST:]CTR[/proto]` with ranges → one PortBinding per container port."""
    rest, _, proto = text.partition("/")
    proto = proto or "tcp"
    if proto not in ("tcp", "udp", "sctp"):
        raise InvalidArgument(f'invalid -p "{text}": protocol must be tcp, udp or sctp')
    host_ip = ""
    if rest.startswith("["):  # [::1]:80:80
        close = rest.find("]")
        if close < 0 or rest[close + 1 : close + 2] != ":":
            raise InvalidArgument(f'invalid -p "{text}": use [IPv6]:HOST:CONTAINER')
        host_ip, rest = rest[1:close], rest[close + 2 :]
        parts = rest.split(":")
        if len(parts) != 2:
            raise InvalidArgument(f'invalid -p "{text}": use [IPv6]:HOST:CONTAINER')
        parts = [host_ip, *parts]
    else:
        parts = rest.split(":")
    if len(parts) == 1:
        host, ctr = "", parts[0]
    elif len(parts) == 2:
        host, ctr = parts
    elif len(parts) == 3:
        host_ip, host, ctr = parts
    else:
        raise InvalidArgument(f'invalid -p "{text}": use [IP:][HOST_PORT:]CONTAINER_PORT[/PROTO]')
    if host_ip:
        try:
            ipaddress.ip_address(host_ip)
        except ValueError:
            raise InvalidArgument(
                f'invalid -p "{text}": {host_ip!r} is not an IP address'
            ) from None
    c_start, c_end = _port_range(ctr, "container port", text)
    if c_start == 0:
        raise InvalidArgument(f'invalid -p "{text}": the container port must be 1-65535')
    if host:
        h_start, h_end = _port_range(host, "host port", text)
        if h_end - h_start != c_end - c_start:
            raise InvalidArgument(
                f'invalid -p "{text}": host and container port ranges must have the same length'
            )
    else:
        h_start = 0
    return [
        PortBinding(host_ip, h_start + i if host else 0, c_start + i, proto)  # type: ignore[arg-type]
        for i in range(c_end - c_start + 1)
    ]


def parse_expose(text: str) -> list[str]:
    """`--expose 80[/udp]` or a range → Docker's `port/proto` keys."""
    port, _, proto = text.partition("/")
    proto = proto or "tcp"
    if proto not in ("tcp", "udp", "sctp"):
        raise InvalidArgument(f'invalid --expose "{text}": protocol must be tcp, udp or sctp')
    start, end = _port_range(port, "port", text)
    return [f"{p}/{proto}" for p in range(start, end + 1)]
