"""IP address management: subnet choice and overlap checks (pure), leases in the state database.

A *lease* is one IP of one network held by one container; the gateway is never leased.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from dockyard.errors import Conflict, InvalidArgument

if TYPE_CHECKING:
    import sqlite3

IPv4Net = ipaddress.IPv4Network
IPv4Addr = ipaddress.IPv4Address

# Like Docker's default address pools, but above 10.88/16 so the host's 172.17/16 stays alone.
DEFAULT_BRIDGE_SUBNET = "10.88.0.0/16"
DEFAULT_POOL = "10.89.0.0/16"
DEFAULT_POOL_PREFIX = 24

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
]


def parse_subnet(text: str) -> IPv4Net:
    """`10.1.2.0/24` → network; host bits set or a bad CIDR → InvalidArgument."""
    try:
        net = ipaddress.ip_network(text, strict=True)
    except ValueError:
        raise InvalidArgument(
            f"invalid subnet {text!r}: give an IPv4 CIDR with no host bits, like 10.89.3.0/24"
        ) from None
    if not isinstance(net, IPv4Net):
        raise InvalidArgument(f"subnet {text}: IPv6 networks are not supported yet; use IPv4")
    if net.prefixlen > 30:
        raise InvalidArgument(f"subnet {text} is too small: use a prefix of /30 or shorter")
    return net


def parse_ip(text: str, what: str = "IP") -> IPv4Addr:
    """An IPv4 address, or InvalidArgument naming `what`."""
    try:
        return IPv4Addr(text)
    except ValueError:
        raise InvalidArgument(f"invalid {what} {text!r}: give an IPv4 address") from None


def default_gateway(subnet: IPv4Net) -> IPv4Addr:
    """The first host address of the subnet, as Docker picks it."""
    return subnet.network_address + 1


def check_gateway(subnet: IPv4Net, gateway: IPv4Addr) -> None:
    """The gateway must be a host address inside the subnet."""
    if gateway not in subnet or gateway in (subnet.network_address, subnet.broadcast_address):
        raise InvalidArgument(
            f"gateway {gateway} is not a host address of subnet {subnet}: pick one inside it"
        )


def overlapping(subnet: IPv4Net, others: Iterable[tuple[str, IPv4Net]]) -> str | None:
    """The label of the first of `others` whose subnet overlaps `subnet`, else None."""
    for label, other in others:
        if subnet.overlaps(other):
            return label
    return None


def pick_subnet(pool: IPv4Net, prefix: int, taken: Sequence[tuple[str, IPv4Net]]) -> IPv4Net:
    """The first /`prefix` of `pool` overlapping nothing in `taken`."""
    for candidate in pool.subnets(new_prefix=prefix):
        if overlapping(candidate, taken) is None:
            return candidate
    raise Conflict(
        f"address pool {pool} has no free /{prefix} subnet left: remove unused networks "
        "(dockyard network prune) or pass --subnet"
    )


def first_free(subnet: IPv4Net, gateway: IPv4Addr, used: Iterable[IPv4Addr]) -> IPv4Addr | None:
    """The lowest host address of `subnet` that is neither the gateway nor in `used`."""
    busy = set(used)
    busy.add(gateway)
    for host in subnet.hosts():
        if host not in busy:
            return host
    return None


def check_requested(
    network: str, subnet: IPv4Net, gateway: IPv4Addr, ip: IPv4Addr, used: Iterable[IPv4Addr]
) -> None:
    """A `--ip` request must be a free host address of the network's subnet."""
    if ip not in subnet or ip in (subnet.network_address, subnet.broadcast_address):
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
    subnet: IPv4Net,
    gateway: IPv4Addr,
    container_id: str,
    requested: IPv4Addr | None = None,
) -> IPv4Addr:
    """Lease an IP for `container_id`; call inside `StateDB.transaction()` (BEGIN IMMEDIATE)."""
    rows = conn.execute(
        "SELECT ip, container_id FROM ip_leases WHERE network_id = ?", (network_id,)
    ).fetchall()
    for row in rows:
        if row["container_id"] == container_id:
            raise Conflict(
                f"container {container_id[:12]} is already on network {network_name}: "
                "disconnect it first"
            )
    used = [IPv4Addr(row["ip"]) for row in rows]
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
    conn.execute(
        "INSERT INTO ip_leases (network_id, ip, container_id) VALUES (?, ?, ?)",
        (network_id, str(ip), container_id),
    )
    return ip


def release(conn: sqlite3.Connection, network_id: str, container_id: str) -> None:
    """Give the container's lease on the network back; no lease is fine."""
    conn.execute(
        "DELETE FROM ip_leases WHERE network_id = ? AND container_id = ?",
        (network_id, container_id),
    )
