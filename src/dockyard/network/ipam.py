"""IP address management: subnet choice and overlap checks (pure), leases in the state database.

A *lease* is one IP of one network held by one container; the gateway is never leased. IPv4
leases live in `ip_leases`, IPv6 leases in `ip6_leases` (a container holds one of each on a
dual-stack network, so one table keyed by (network, container) could not hold both).
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, TypeVar, overload

from dockyard.errors import Conflict, InvalidArgument

if TYPE_CHECKING:
    import sqlite3

IPv4Net = ipaddress.IPv4Network
IPv4Addr = ipaddress.IPv4Address
IPv6Net = ipaddress.IPv6Network
IPv6Addr = ipaddress.IPv6Address
AnyNet = IPv4Net | IPv6Net
AnyAddr = IPv4Addr | IPv6Addr
Addr = TypeVar("Addr", IPv4Addr, IPv6Addr)
Net = TypeVar("Net", IPv4Net, IPv6Net)

# Clear of both peers' defaults, which share hosts with us: Docker's bridge and pools are
# 172.17-31/16 and 192.168/16; podman's default network is 10.88/16 and its pools 10.89/16 and up
# (podman does not check routes for its default network, so sharing 10.88/16 cut podman off).
DEFAULT_BRIDGE_SUBNET = "10.66.0.0/16"
DEFAULT_POOL = "10.67.0.0/16"
DEFAULT_POOL_PREFIX = 24
# `--ipv6` without a v6 subnet: a /64 out of a ULA /48 (RFC 4193: fd + 40-bit global ID) whose
# global ID is derived from the root, so two roots on one host pick from different /48s.
V6_POOL_PREFIX = 64
V6_MAX_PREFIX = 126

MIGRATIONS = [
    """
    CREATE TABLE ip_leases (
        network_id TEXT NOT NULL,
        ip TEXT NOT NULL,
        container_id TEXT NOT NULL,
        PRIMARY KEY (network_id, ip),
        UNIQUE (network_id, container_id)
    );
    """,
    """
    CREATE TABLE ip6_leases (
        network_id TEXT NOT NULL,
        ip TEXT NOT NULL,
        container_id TEXT NOT NULL,
        PRIMARY KEY (network_id, ip),
        UNIQUE (network_id, container_id)
    );
    """,
]

_LEASE_TABLE = {4: "ip_leases", 6: "ip6_leases"}


def parse_subnet(text: str) -> IPv4Net:
    """`10.1.2.0/24` → network; host bits set or a bad CIDR → InvalidArgument."""
    try:
        net = ipaddress.ip_network(text, strict=True)
    except ValueError:
        raise InvalidArgument(
            f"invalid subnet {text!r}: give an IPv4 CIDR with no host bits, like 10.67.3.0/24"
        ) from None
    if not isinstance(net, IPv4Net):
        raise InvalidArgument(
            f"subnet {text} is IPv6: pass it with --ipv6 as a second --subnet next to an IPv4 one"
        )
    if net.prefixlen > 30:
        raise InvalidArgument(f"subnet {text} is too small: use a prefix of /30 or shorter")
    return net


def parse_subnet6(text: str) -> IPv6Net:
    """`fd12:3456:789a:1::/64` → network; host bits set or a bad CIDR → InvalidArgument."""
    try:
        net = ipaddress.ip_network(text, strict=True)
    except ValueError:
        raise InvalidArgument(
            f"invalid subnet {text!r}: give an IPv6 CIDR with no host bits, like fd12:3456::/64"
        ) from None
    if not isinstance(net, IPv6Net):
        raise InvalidArgument(f"subnet {text} is not IPv6: give an IPv6 CIDR, like fd12::/64")
    if net.prefixlen > V6_MAX_PREFIX:
        raise InvalidArgument(
            f"subnet {text} is too small: use a prefix of /{V6_MAX_PREFIX} or shorter (/64 usual)"
        )
    return net


def is_v6(text: str) -> bool:
    """Whether an address or CIDR the user wrote is IPv6 (a colon never occurs in IPv4)."""
    return ":" in text


def split_families(
    subnets: Sequence[str], gateways: Sequence[str]
) -> tuple[str | None, str | None, str | None, str | None]:
    """Repeated `--subnet`/`--gateway` (one per family, as Docker) → (v4, v6, gw4, gw6)."""
    out: dict[str, str | None] = {"subnet4": None, "subnet6": None, "gw4": None, "gw6": None}
    for flag, values, key in (("--subnet", subnets, "subnet"), ("--gateway", gateways, "gw")):
        for value in values:
            slot = f"{key}{6 if is_v6(value) else 4}"
            if out[slot] is not None:
                family = "IPv6" if slot.endswith("6") else "IPv4"
                raise InvalidArgument(
                    f"{flag} given twice for {family} ({out[slot]}, {value}): "
                    "give at most one IPv4 and one IPv6 value"
                )
            out[slot] = value
    return out["subnet4"], out["subnet6"], out["gw4"], out["gw6"]


def parse_ip(text: str, what: str = "IP") -> IPv4Addr:
    """An IPv4 address, or InvalidArgument naming `what`."""
    try:
        return IPv4Addr(text)
    except ValueError:
        raise InvalidArgument(f"invalid {what} {text!r}: give an IPv4 address") from None


def parse_ip6(text: str, what: str = "IPv6 address") -> IPv6Addr:
    """An IPv6 address, or InvalidArgument naming `what`."""
    try:
        return IPv6Addr(text)
    except ValueError:
        raise InvalidArgument(f"invalid {what} {text!r}: give an IPv6 address") from None


@overload
def default_gateway(subnet: IPv4Net) -> IPv4Addr: ...
@overload
def default_gateway(subnet: IPv6Net) -> IPv6Addr: ...
def default_gateway(subnet: AnyNet) -> AnyAddr:
    """The first host address of the subnet (`.1`, `::1`), as Docker picks it."""
    return subnet.network_address + 1


def _reserved(subnet: AnyNet) -> tuple[AnyAddr, ...]:
    # IPv6 has no broadcast address; its all-zero host part is the subnet-router anycast.
    if isinstance(subnet, IPv6Net):
        return (subnet.network_address,)
    return (subnet.network_address, subnet.broadcast_address)


def check_gateway(subnet: AnyNet, gateway: AnyAddr) -> None:
    """The gateway must be a host address inside the subnet."""
    if gateway.version != subnet.version or gateway not in subnet or gateway in _reserved(subnet):
        raise InvalidArgument(
            f"gateway {gateway} is not a host address of subnet {subnet}: pick one inside it"
        )


def overlapping(subnet: Net, others: Iterable[tuple[str, Net]]) -> str | None:
    """The label of the first of `others` whose subnet overlaps `subnet`, else None."""
    for label, other in others:
        if other.version == subnet.version and subnet.overlaps(other):
            return label
    return None


def ula_pool(seed: str) -> IPv6Net:
    """A ULA /48 (RFC 4193) whose 40-bit global ID comes from `seed` (the root's path)."""
    global_id = hashlib.sha256(seed.encode()).digest()[:5]
    return IPv6Net((bytes([0xFD]) + global_id + bytes(10), 48))


def pick_subnet(pool: Net, prefix: int, taken: Sequence[tuple[str, Net]]) -> Net:
    """The first /`prefix` of `pool` overlapping nothing in `taken`."""
    for candidate in pool.subnets(new_prefix=prefix):
        if overlapping(candidate, taken) is None:
            return candidate
    raise Conflict(
        f"address pool {pool} has no free /{prefix} subnet left: remove unused networks "
        "(dockyard network prune) or pass --subnet"
    )


def first_free(subnet: AnyNet, gateway: AnyAddr, used: Iterable[AnyAddr]) -> AnyAddr | None:
    """The lowest host address of `subnet` that is neither the gateway nor in `used`."""
    busy: set[AnyAddr] = set(used)
    busy.add(gateway)
    # hosts() is lazy, so a /64 costs only as many steps as there are leases.
    for host in subnet.hosts():
        if host not in busy:
            return host
    return None


def check_requested(
    network: str, subnet: AnyNet, gateway: AnyAddr, ip: AnyAddr, used: Iterable[AnyAddr]
) -> None:
    """A `--ip`/`--ip6` request must be a free host address of the network's subnet."""
    if ip.version != subnet.version or ip not in subnet or ip in _reserved(subnet):
        raise InvalidArgument(
            f"IP {ip} is not a host address of network {network} ({subnet}): pick one inside it"
        )
    if ip == gateway:
        raise Conflict(f"IP {ip} is the gateway of network {network}: pick another address")
    if ip in set(used):
        raise Conflict(f"IP {ip} is already in use on network {network}: pick another address")


def allocate(
    conn: sqlite3.Connection,
    *,
    network_id: str,
    network_name: str,
    subnet: AnyNet,
    gateway: AnyAddr,
    container_id: str,
    requested: AnyAddr | None = None,
) -> AnyAddr:
    """Lease an IP for `container_id`; call inside `StateDB.transaction()` (BEGIN IMMEDIATE).

    The family of `subnet` picks the lease table (v4 or v6).
    """
    table = _LEASE_TABLE[subnet.version]
    rows = conn.execute(
        f"SELECT ip, container_id FROM {table} WHERE network_id = ?", (network_id,)
    ).fetchall()
    for row in rows:
        if row["container_id"] == container_id:
            raise Conflict(
                f"container {container_id[:12]} is already on network {network_name}: "
                "disconnect it first"
            )
    used = [ipaddress.ip_address(row["ip"]) for row in rows]
    if requested is not None:
        check_requested(network_name, subnet, gateway, requested, used)
        ip = requested
    else:
        free = first_free(subnet, gateway, used)
        if free is None:
            raise Conflict(
                f"network {network_name} ({subnet}) has no free address left: "
                "disconnect containers or use a larger subnet"
            )
        ip = free
    # str() of an ip_address is canonical (compressed, lower case), so the primary key
    # catches two spellings of one IPv6 address.
    conn.execute(
        f"INSERT INTO {table} (network_id, ip, container_id) VALUES (?, ?, ?)",
        (network_id, str(ip), container_id),
    )
    return ip


def leased(conn: sqlite3.Connection, network_id: str, version: int) -> list[AnyAddr]:
    """The addresses of one family leased on a network now."""
    rows = conn.execute(
        f"SELECT ip FROM {_LEASE_TABLE[version]} WHERE network_id = ?", (network_id,)
    ).fetchall()
    return [ipaddress.ip_address(row["ip"]) for row in rows]


def release(conn: sqlite3.Connection, network_id: str, container_id: str) -> None:
    """Give the container's leases (both families) on the network back; none is fine."""
    for table in _LEASE_TABLE.values():
        conn.execute(
            f"DELETE FROM {table} WHERE network_id = ? AND container_id = ?",
            (network_id, container_id),
        )
