"""Links through netlink (pyroute2): the bridge of a network and one veth pair per endpoint.

Every function is idempotent where the kernel lets it be: an existing bridge or address is
kept, a missing link on delete is fine. pyroute2 errors become KernelError here.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dockyard.errors import KernelError, NotFound
from dockyard.kernel.constants import CLONE_NEWNET
from dockyard.kernel.syscall import LinuxSyscall, Syscall

if TYPE_CHECKING:
    from pyroute2 import IPRoute  # type: ignore[import-untyped]


def _netlink_error() -> type[Any]:
    # pyroute2 costs ~90 ms and ~13 MB to import: only code that talks netlink loads it, so
    # listing or inspecting networks (and the monitor) never does.
    from pyroute2.netlink.exceptions import NetlinkError  # type: ignore[import-untyped]

    return NetlinkError  # type: ignore[no-any-return]


IFNAMSIZ = 15
AF_INET6 = 10
# linux/if_addr.h: an address the kernel must not run Duplicate Address Detection on. Without
# it a new v6 address stays "tentative" (unusable) for about a second; dockyard hands out each
# address once per network, so DAD has nothing to find.
IFA_F_NODAD = 0x02


@dataclass(frozen=True)
class EndpointLinks:
    """What to build for one endpoint: the veth pair and the addressing inside the netns."""

    bridge: str
    host_veth: str
    peer_veth: str
    netns: str
    ifname: str
    ip: str
    prefixlen: int
    mac: str
    gateway: str
    default_route: bool
    # IPv6 ('' when the network has none); the v6 default route goes via the first v6 network.
    ip6: str = ""
    prefixlen6: int = 64
    gateway6: str = ""
    default_route6: bool = False


def mac_for(ip: str) -> str:
    """Docker's MAC for an IPv4 address: 02:42 then the four address bytes."""
    packed = ipaddress.IPv4Address(ip).packed
    return "02:42:" + ":".join(f"{b:02x}" for b in packed)


@contextmanager
def _netlink(op: str, what: str) -> Iterator[IPRoute]:
    from pyroute2 import IPRoute

    try:
        with IPRoute() as ipr:
            yield ipr
    except _netlink_error() as exc:
        raise KernelError(op, what, exc.code) from exc


def _index(ipr: IPRoute, name: str) -> int | None:
    found = ipr.link_lookup(ifname=name)
    return int(found[0]) if found else None


def link_exists(name: str) -> bool:
    """Whether a link of that name exists in the host's netns."""
    with _netlink("lookup link", name) as ipr:
        return _index(ipr, name) is not None


def _add_addr(ipr: IPRoute, idx: int | None, address: str, prefixlen: int) -> None:
    # An existing address is fine (idempotent); v6 ones skip DAD (see IFA_F_NODAD).
    extra = {"flags": IFA_F_NODAD} if ":" in address else {}
    try:
        ipr.addr("add", index=idx, address=address, prefixlen=prefixlen, **extra)
    except _netlink_error() as exc:
        if exc.code != errno.EEXIST:
            raise


def ensure_bridge(
    name: str, gateway: str, prefixlen: int, gateway6: str = "", prefixlen6: int = 64
) -> None:
    """Create the bridge (if missing), give it the gateway address(es), set it up."""
    if len(name) > IFNAMSIZ:
        raise KernelError("create bridge", name, errno.ENAMETOOLONG)
    with _netlink("create bridge", name) as ipr:
        idx = _index(ipr, name)
        if idx is None:
            ipr.link("add", ifname=name, kind="bridge")
            idx = _index(ipr, name)
        if gateway6:
            # The host may default new links to disable_ipv6=1; the v6 gateway needs it on.
            _sysctl(f"net/ipv6/conf/{name}/disable_ipv6", "0")
        _add_addr(ipr, idx, gateway, prefixlen)
        if gateway6:
            _add_addr(ipr, idx, gateway6, prefixlen6)
        ipr.link("set", index=idx, state="up")
    # Locally generated traffic to 127.0.0.1:HOSTPORT is DNATed to a container and leaves
    # through the bridge with source 127.0.0.1; the kernel drops that unless route_localnet.
    _sysctl(f"net/ipv4/conf/{name}/route_localnet", "1")


def delete_link(name: str) -> None:
    """Delete a link (bridge or veth); a missing one is fine."""
    with _netlink("delete link", name) as ipr:
        idx = _index(ipr, name)
        if idx is None:
            return
        try:
            ipr.link("del", index=idx)
        except _netlink_error() as exc:
            if exc.code != errno.ENODEV:
                raise


def add_endpoint(links: EndpointLinks) -> None:
    """Make the veth pair, plug the host side into the bridge, configure the netns side."""
    with _netlink("create veth", links.host_veth) as ipr:
        master = _index(ipr, links.bridge)
        if master is None:
            raise NotFound(
                f"bridge {links.bridge} is missing: run `dockyard network ls` to restore"
            )
        fd = os.open(links.netns, os.O_RDONLY | os.O_CLOEXEC)
        try:
            # One request: the peer is born inside the netns, the host side enslaved and up.
            ipr.link(
                "add",
                ifname=links.host_veth,
                kind="veth",
                peer={"ifname": links.peer_veth, "net_ns_fd": fd},
                master=master,
                state="up",
            )
        finally:
            os.close(fd)
    in_netns(links.netns, lambda ns: _configure_inside(ns, links))


def _configure_inside(ns: IPRoute, links: EndpointLinks) -> None:
    lo = _index(ns, "lo")
    ns.link("set", index=lo, state="up")
    idx = _index(ns, links.peer_veth)
    ns.link("set", index=idx, ifname=links.ifname, address=links.mac)
    if links.ip6:
        # This thread sits in the container's netns, so /proc/sys/net is the container's own.
        _sysctl("net/ipv6/conf/all/disable_ipv6", "0")
        _sysctl(f"net/ipv6/conf/{links.ifname}/disable_ipv6", "0")
    ns.addr("add", index=idx, address=links.ip, prefixlen=links.prefixlen)
    if links.ip6:
        _add_addr(ns, idx, links.ip6, links.prefixlen6)
    ns.link("set", index=idx, state="up")
    if links.default_route:
        ns.route("add", dst="0.0.0.0/0", gateway=links.gateway, oif=idx)
    if links.ip6 and links.default_route6:
        ns.route("add", dst="::/0", gateway=links.gateway6, oif=idx, family=AF_INET6)


def in_netns(netns: str, work: Callable[[IPRoute], None], syscall: Syscall | None = None) -> None:
    """Run `work` with a netlink socket opened inside the named netns."""
    sys = syscall or LinuxSyscall()
    failure: list[BaseException] = []

    def in_thread() -> None:
        # The netns is per thread: a throw-away thread joins it, so the caller never moves
        # (cheaper than pyroute2's netns helper process).
        try:
            fd = os.open(netns, os.O_RDONLY | os.O_CLOEXEC)
            try:
                sys.setns(fd, CLONE_NEWNET)
            finally:
                os.close(fd)
            with _netlink("configure netns", netns) as ns:
                work(ns)
        except BaseException as exc:  # handed to the caller's thread below
            failure.append(exc)

    worker = threading.Thread(target=in_thread, name="dockyard-netns-config")
    worker.start()
    worker.join()
    if failure:
        exc = failure[0]
        if isinstance(exc, OSError):
            raise KernelError("setns", netns, exc.errno or errno.EIO) from exc
        raise exc


def plug(host_veth: str, bridge: str) -> None:
    """Put an existing host veth back into its bridge and up (after the bridge was remade)."""
    with _netlink("plug veth", host_veth) as ipr:
        master, idx = _index(ipr, bridge), _index(ipr, host_veth)
        if master is None or idx is None:
            raise NotFound(
                f"link {host_veth} or bridge {bridge} is missing: reconnect the container"
            )
        ipr.link("set", index=idx, master=master)
        ipr.link("set", index=idx, state="up")


def enable_ip_forward() -> None:
    """Let the host route between the bridges and its uplinks (needed for NAT)."""
    _sysctl("net/ipv4/ip_forward", "1")


def enable_ip6_forward() -> None:
    """IPv6 routing for v6 networks, as Docker sets it.

    Side effect (documented): with forwarding on, interfaces with accept_ra=1 stop taking
    router advertisements; hosts that get their v6 default route by SLAAC need accept_ra=2.
    """
    _sysctl("net/ipv6/conf/all/forwarding", "1")


def _sysctl(key: str, value: str) -> None:
    path = Path("/proc/sys") / key
    try:
        if path.read_text().strip() != value:
            path.write_text(value)
    except OSError as exc:
        raise KernelError("sysctl", key.replace("/", "."), exc.errno or errno.EIO) from exc


def host_routes(exclude_links: set[str]) -> list[tuple[str, ipaddress.IPv4Network]]:
    """The host's IPv4 routes (main table, no default route) as (label, network)."""
    out: list[tuple[str, ipaddress.IPv4Network]] = []
    with _netlink("list routes", "main table") as ipr:
        names = {int(link["index"]): link.get("ifname") for link in ipr.get_links()}
        for route in ipr.get_routes(family=2, table=254):
            dst = route.get("dst")
            length = int(route["dst_len"])
            if not dst or length == 0:
                continue
            dev = names.get(int(route.get("oif") or 0), "")
            if dev in exclude_links:
                continue
            net = ipaddress.IPv4Network(f"{dst}/{length}", strict=False)
            out.append((f"the host route {net} on {dev}", net))
    return out


def host_routes6(exclude_links: set[str]) -> list[tuple[str, ipaddress.IPv6Network]]:
    """The host's IPv6 routes (main table; no default, link-local or multicast ones)."""
    out: list[tuple[str, ipaddress.IPv6Network]] = []
    with _netlink("list routes", "main table") as ipr:
        names = {int(link["index"]): link.get("ifname") for link in ipr.get_links()}
        for route in ipr.get_routes(family=AF_INET6, table=254):
            dst = route.get("dst")
            length = int(route["dst_len"])
            if not dst or length == 0:
                continue
            net = ipaddress.IPv6Network(f"{dst}/{length}", strict=False)
            if net.is_link_local or net.is_multicast:
                continue
            dev = names.get(int(route.get("oif") or 0), "")
            if dev in exclude_links:
                continue
            out.append((f"the host route {net} on {dev}", net))
    return out
