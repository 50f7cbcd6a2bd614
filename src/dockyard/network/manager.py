"""The one façade the engine calls: networks, endpoints, published ports, hosts files.

Every operation runs inside one state-database write transaction (BEGIN IMMEDIATE), so
concurrent dockyard processes take turns, and it undoes what it made before re-raising.
"""

from __future__ import annotations

import builtins
import hashlib
import ipaddress
import re
import secrets
import sqlite3
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from dockyard.errors import Conflict, InvalidArgument, NotFound
from dockyard.network import bridge, firewall, hosts, ipam, store
from dockyard.network.netns import is_netns
from dockyard.network.ports import PortBinding, PortRequest, refuse_forwarded, resolve
from dockyard.network.store import ContainerFiles, Endpoint, Network
from dockyard.state.db import StateDB

DEFAULT_NETWORK = "dockyard0"
_NAME = re.compile(r"^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")


@dataclass(frozen=True)
class RestoreReport:
    """What `restore` brought back and which containers' endpoints it dropped (not running)."""

    networks: tuple[str, ...]
    restored: tuple[str, ...]
    stopped: tuple[str, ...]


class NetworkManager:
    """Networks and container endpoints of one dockyard root."""

    def __init__(
        self,
        db: StateDB,
        root: Path,
        *,
        default_subnet: str = ipam.DEFAULT_BRIDGE_SUBNET,
        pool: str = ipam.DEFAULT_POOL,
        pool_prefix: int = ipam.DEFAULT_POOL_PREFIX,
        host_resolv_conf: Path = Path("/etc/resolv.conf"),
        nft: str = "nft",
    ) -> None:
        self.db = db
        self.root = root
        self.default_subnet = default_subnet
        self.pool = ipam.parse_subnet(pool)
        self.pool_prefix = pool_prefix
        self.pool6 = ipam.ula_pool(str(root.resolve()))
        self.host_resolv_conf = host_resolv_conf
        self.nft = nft
        self.tables = firewall.tables_for(str(root.resolve()))
        # Bridge names are global: only the default root's default network is `dockyard0`;
        # another root (tests, `--root`) gets its own, named after the root as its tables are.
        self.default_bridge = (
            DEFAULT_NETWORK
            if self.tables.filter == firewall.Tables().filter
            else "dy0-" + self.tables.filter.rsplit("-", 1)[-1]
        )
        db.migrate("network", store.MIGRATIONS)
        db.migrate("network.ipam", ipam.MIGRATIONS)

    # --- networks -------------------------------------------------------------------------

    def create(
        self,
        name: str,
        *,
        subnet: str | None = None,
        gateway: str | None = None,
        internal: bool = False,
        labels: Mapping[str, str] | None = None,
        ipv6: bool = False,
        options: Mapping[str, str] | None = None,
        subnet6: str | None = None,
        gateway6: str | None = None,
    ) -> Network:
        """Create a bridge network; a taken name or an overlapping subnet → Conflict.

        With `ipv6` the network is dual-stack: `subnet6` (else a free /64 of the root's ULA
        pool) and `gateway6` (else the prefix's `::1`). A v6 `subnet`/`gateway` is taken as
        the v6 one, so callers may pass whatever family the user wrote.
        """
        if not _NAME.match(name):
            raise InvalidArgument(
                f"invalid network name {name!r}: use letters, digits, '_', '.', '-'"
            )
        subnet, subnet6 = _by_family(name, "--subnet", subnet, subnet6)
        gateway, gateway6 = _by_family(name, "--gateway", gateway, gateway6)
        if subnet6 and not ipv6:
            raise InvalidArgument(
                f"network {name}: subnet {subnet6} is IPv6 but IPv6 is not enabled: add --ipv6"
            )
        net_subnet = ipam.parse_subnet(subnet) if subnet else None
        net_gateway = ipam.parse_ip(gateway, "gateway") if gateway else None
        if net_gateway is not None and net_subnet is None:
            raise InvalidArgument(f"network {name}: --gateway needs --subnet")
        net_subnet6 = ipam.parse_subnet6(subnet6) if subnet6 else None
        net_gateway6 = ipam.parse_ip6(gateway6, "gateway") if gateway6 else None
        if net_gateway6 is not None and net_subnet6 is None:
            raise InvalidArgument(
                f"network {name}: IPv6 --gateway {gateway6} needs an IPv6 --subnet"
            )
        with self._undo() as undo, self.db.transaction() as conn:
            if conn.execute("SELECT 1 FROM networks WHERE name = ?", (name,)).fetchone():
                raise Conflict(f"network with name {name} already exists: pick another name")
            existing = store.all_networks(conn)
            taken = [(f"network {n.name}", ipam.parse_subnet(n.subnet)) for n in existing]
            taken += bridge.host_routes({n.bridge for n in existing})
            if net_subnet is None:
                net_subnet = ipam.pick_subnet(self.pool, self.pool_prefix, taken)
            else:
                clash = ipam.overlapping(net_subnet, taken)
                if clash is not None:
                    raise Conflict(f"subnet {net_subnet} overlaps {clash}: pick another --subnet")
            if net_gateway is None:
                net_gateway = ipam.default_gateway(net_subnet)
            ipam.check_gateway(net_subnet, net_gateway)
            if ipv6:
                net_subnet6, net_gateway6 = self._pick_v6(existing, net_subnet6, net_gateway6)
            net_id = secrets.token_hex(32)
            net = Network(
                id=net_id,
                name=name,
                subnet=str(net_subnet),
                gateway=str(net_gateway),
                bridge=self.default_bridge if name == DEFAULT_NETWORK else f"dy-{net_id[:12]}",
                internal=internal,
                labels=dict(labels or {}),
                options=dict(options or {}),
                created=datetime.now(UTC).isoformat(),
                ipv6=ipv6,
                subnet6=str(net_subnet6 or ""),
                gateway6=str(net_gateway6 or ""),
            )
            store.insert_network(conn, net)
            undo(lambda: bridge.delete_link(net.bridge))
            self._ensure_bridge(net)
            self._sync_firewall(conn)
        return net

    def _pick_v6(
        self,
        existing: Sequence[Network],
        subnet6: ipaddress.IPv6Network | None,
        gateway6: ipaddress.IPv6Address | None,
    ) -> tuple[ipaddress.IPv6Network, ipaddress.IPv6Address]:
        taken6 = [
            (f"network {n.name}", ipaddress.IPv6Network(n.subnet6)) for n in existing if n.subnet6
        ]
        taken6 += bridge.host_routes6({n.bridge for n in existing})
        if subnet6 is None:
            subnet6 = ipam.pick_subnet(self.pool6, ipam.V6_POOL_PREFIX, taken6)
        else:
            clash = ipam.overlapping(subnet6, taken6)
            if clash is not None:
                raise Conflict(f"subnet {subnet6} overlaps {clash}: pick another --subnet")
        if gateway6 is None:
            gateway6 = ipam.default_gateway(subnet6)
        ipam.check_gateway(subnet6, gateway6)
        return subnet6, gateway6

    def ensure_default(self) -> Network:
        """The default bridge network, created on first use."""
        with self.db.transaction() as conn:
            try:
                return store.find_network(conn, DEFAULT_NETWORK)
            except NotFound:
                pass
        try:
            return self.create(DEFAULT_NETWORK, subnet=self.default_subnet)
        except Conflict:
            # The configured subnet is taken (another root's default network, a host route):
            # pick a free one from the pool rather than failing every container.
            return self.create(DEFAULT_NETWORK)

    def remove(self, name: str) -> None:
        """Remove a network, its bridge and its rules; a network in use → Conflict."""
        with self._undo() as undo, self.db.transaction() as conn:
            net = store.find_network(conn, name)
            eps = store.endpoints_of_network(conn, net.id)
            if eps:
                names = ", ".join(ep.container_name for ep in eps)
                raise Conflict(
                    f"network {net.name} is in use by containers {names}: "
                    "disconnect or remove them first"
                )
            store.delete_network(conn, net.id)
            # Runs after the rollback: puts the rules of the network back if the link stays.
            undo(self._resync_firewall)
            self._sync_firewall(conn)
            bridge.delete_link(net.bridge)

    def prune(self) -> builtins.list[str]:
        """Remove every network without containers except the default one; their names."""
        with self.db.transaction() as conn:
            idle = [
                net
                for net in store.all_networks(conn)
                if net.name != DEFAULT_NETWORK and not store.endpoints_of_network(conn, net.id)
            ]
        removed: list[str] = []
        for net in idle:
            try:
                self.remove(net.id)
            except (Conflict, NotFound):  # joined or removed by another process meanwhile
                continue
            removed.append(net.name)
        return removed

    def list(self) -> builtins.list[Network]:
        """Every network, by name."""
        with self.db.transaction() as conn:
            return store.all_networks(conn)

    def get(self, name: str) -> Network:
        """One network by name or id (prefix)."""
        with self.db.transaction() as conn:
            return store.find_network(conn, name)

    def inspect(self, name: str) -> dict[str, Any]:
        """Docker's `network inspect` JSON for one network, with its `Containers`."""
        with self.db.transaction() as conn:
            net = store.find_network(conn, name)
            eps = store.endpoints_of_network(conn, net.id)
        prefix = ipaddress.IPv4Network(net.subnet).prefixlen
        prefix6 = ipaddress.IPv6Network(net.subnet6).prefixlen if net.subnet6 else 0
        config = [{"Subnet": net.subnet, "Gateway": net.gateway}]
        if net.subnet6:
            config.append({"Subnet": net.subnet6, "Gateway": net.gateway6})
        return {
            "Name": net.name,
            "Id": net.id,
            "Created": net.created,
            "Scope": "local",
            "Driver": net.driver,
            "EnableIPv6": net.ipv6,
            "IPAM": {
                "Driver": "default",
                "Options": {},
                "Config": config,
            },
            "Internal": net.internal,
            "Attachable": False,
            "Ingress": False,
            "ConfigFrom": {"Network": ""},
            "ConfigOnly": False,
            "Containers": {
                ep.container_id: {
                    "Name": ep.container_name,
                    "EndpointID": _endpoint_id(ep),
                    "MacAddress": ep.mac,
                    "IPv4Address": f"{ep.ip}/{prefix}",
                    "IPv6Address": f"{ep.ip6}/{prefix6}" if ep.ip6 else "",
                }
                for ep in eps
            },
            "Options": {"com.docker.network.bridge.name": net.bridge, **net.options},
            "Labels": dict(net.labels),
        }

    # --- endpoints ------------------------------------------------------------------------

    def attach(
        self,
        network: str,
        container_id: str,
        container_name: str,
        netns_path: Path | str,
        *,
        aliases: Sequence[str] = (),
        ip: str | None = None,
        ip6: str | None = None,
    ) -> Endpoint:
        """Lease an IP (and an IPv6 address on a v6 network) and plug the container's netns
        into the network (eth0, eth1, …)."""
        requested = ipam.parse_ip(ip, "--ip") if ip else None
        requested6 = ipam.parse_ip6(ip6, "--ip6") if ip6 else None
        with self._undo() as undo, self.db.transaction() as conn:
            net = store.find_network(conn, network)
            if requested6 is not None and not net.subnet6:
                raise InvalidArgument(
                    f"--ip6 {ip6}: network {net.name} has no IPv6; "
                    "use a network created with --ipv6"
                )
            subnet = ipaddress.IPv4Network(net.subnet)
            existing = store.endpoints_of_container(conn, container_id)
            lease = ipam.allocate(
                conn,
                network_id=net.id,
                network_name=net.name,
                subnet=subnet,
                gateway=ipaddress.IPv4Address(net.gateway),
                container_id=container_id,
                requested=requested,
            )
            lease6 = None
            if net.subnet6:
                lease6 = ipam.allocate(
                    conn,
                    network_id=net.id,
                    network_name=net.name,
                    subnet=ipaddress.IPv6Network(net.subnet6),
                    gateway=ipaddress.IPv6Address(net.gateway6),
                    container_id=container_id,
                    requested=requested6,
                )
            tag = hashlib.sha256(f"{net.id}/{container_id}".encode()).hexdigest()[:8]
            ep = store.insert_endpoint(
                conn,
                Endpoint(
                    network_id=net.id,
                    container_id=container_id,
                    container_name=container_name,
                    ip=str(lease),
                    mac=bridge.mac_for(str(lease)),
                    host_veth=f"veth{tag}",
                    ifname=_free_ifname({e.ifname for e in existing}),
                    netns=str(netns_path),
                    aliases=tuple(aliases),
                    ip6=str(lease6 or ""),
                ),
            )
            undo(lambda: bridge.delete_link(ep.host_veth))
            first6 = not any(e.ip6 for e in existing)
            bridge.add_endpoint(self._links(net, ep, first=not existing, first6=first6))
            self._rewrite_hosts(conn, self._neighbours(conn, net.id) | {container_id})
        return ep

    def check_request(self, network: str, ip: str | None, ip6: str | None) -> None:
        """Check `--ip`/`--ip6` for a network at create time, so a bad or taken address fails
        before a container exists; `attach` checks again inside its transaction."""
        if not ip and not ip6:
            return
        with self.db.transaction() as conn:
            net = store.find_network(conn, network)
            if ip:
                ipam.check_requested(
                    net.name,
                    ipaddress.IPv4Network(net.subnet),
                    ipaddress.IPv4Address(net.gateway),
                    ipam.parse_ip(ip, "--ip"),
                    ipam.leased(conn, net.id, 4),
                )
            if ip6:
                wanted = ipam.parse_ip6(ip6, "--ip6")
                if not net.subnet6:
                    raise InvalidArgument(
                        f"--ip6 {ip6}: network {net.name} has no IPv6; "
                        "use a network created with --ipv6"
                    )
                ipam.check_requested(
                    net.name,
                    ipaddress.IPv6Network(net.subnet6),
                    ipaddress.IPv6Address(net.gateway6),
                    wanted,
                    ipam.leased(conn, net.id, 6),
                )

    def detach(self, network: str, container_id: str) -> None:
        """Unplug the container from the network and release its IP and ports there."""
        with self.db.transaction() as conn:
            net = store.find_network(conn, network)
            mine = [
                e
                for e in store.endpoints_of_container(conn, container_id)
                if e.network_id == net.id
            ]
            if not mine:
                raise NotFound(
                    f"container {container_id[:12]} is not connected to network {net.name}"
                )
            ep = mine[0]
            if self._drop_endpoint(conn, net.id, container_id):
                self._sync_firewall(conn)
            self._rewrite_hosts(conn, self._neighbours(conn, net.id) | {container_id})
            bridge.delete_link(ep.host_veth)

    def detach_all(self, container_id: str) -> None:
        """Unplug the container from every network and forget its ports and files."""
        with self.db.transaction() as conn:
            eps = store.endpoints_of_container(conn, container_id)
            for ep in eps:
                self._drop_endpoint(conn, ep.network_id, container_id)
            ports = conn.execute(
                "DELETE FROM published_ports WHERE container_id = ?", (container_id,)
            ).rowcount
            store.delete_container_files(conn, container_id)
            if ports:
                self._sync_firewall(conn)
            neighbours: set[str] = set()
            for ep in eps:
                neighbours |= self._neighbours(conn, ep.network_id)
            self._rewrite_hosts(conn, neighbours)
            for ep in eps:
                bridge.delete_link(ep.host_veth)

    def endpoints(self, container_id: str) -> builtins.list[Endpoint]:
        """The container's endpoints, in attach order."""
        with self.db.transaction() as conn:
            return store.endpoints_of_container(conn, container_id)

    # --- published ports -------------------------------------------------------------------

    def publish(
        self, container_id: str, bindings: Sequence[PortRequest]
    ) -> builtins.list[PortBinding]:
        """Publish ports to the container's first non-internal network; a taken port → Conflict."""
        # Another root's published ports are kernel DNAT, no socket a bind test would meet;
        # read before the transaction so no nft listing runs under the database lock.
        foreign = firewall.foreign_forwarded_ports(self.tables, self.nft) if bindings else []
        with self.db.transaction() as conn:
            target = None
            for ep in store.endpoints_of_container(conn, container_id):
                net = store.find_network(conn, ep.network_id)
                if not net.internal:
                    target = ep
                    break
            if target is None:
                raise InvalidArgument(
                    f"container {container_id[:12]} is on no bridge network that can publish "
                    "ports: connect it to a non-internal network"
                )
            refuse_forwarded(bindings, foreign, target.ip6)
            taken = [
                (r["host_ip"], r["host_port"], r["proto"])
                for r in conn.execute("SELECT * FROM published_ports")
            ] + [(f.host_ip, f.host_port, f.proto) for f in foreign]
            resolved = resolve(
                bindings,
                container_id=container_id,
                network_id=target.network_id,
                container_ip=target.ip,
                container_ip6=target.ip6,
                taken=taken,
            )
            for b in resolved:
                conn.execute(
                    "INSERT INTO published_ports (container_id, network_id, host_ip, host_port,"
                    " container_ip, container_port, proto, container_ip6)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        b.container_id,
                        b.network_id,
                        b.host_ip,
                        b.host_port,
                        b.container_ip,
                        b.container_port,
                        b.proto,
                        b.container_ip6,
                    ),
                )
            self._sync_firewall(conn)
        return resolved

    def unpublish(self, container_id: str) -> None:
        """Remove every port published to the container."""
        with self.db.transaction() as conn:
            gone = conn.execute(
                "DELETE FROM published_ports WHERE container_id = ?", (container_id,)
            ).rowcount
            if gone:
                self._sync_firewall(conn)

    def ports(self, container_id: str) -> builtins.list[PortBinding]:
        """The container's published ports (`dockyard port`)."""
        rows = self.db.query(
            "SELECT * FROM published_ports WHERE container_id = ? ORDER BY container_port, proto",
            (container_id,),
        )
        return [_binding(r) for r in rows]

    # --- hosts files -------------------------------------------------------------------------

    def container_dir(self, container_id: str) -> Path:
        """Where the container's hosts, resolv.conf and hostname files live."""
        return self.root / "containers" / container_id

    def write_container_files(
        self,
        container_id: str,
        hostname: str,
        extra_hosts: Sequence[tuple[str, str]] = (),
        dns: Sequence[str] = (),
        links: Sequence[tuple[str, str]] = (),
    ) -> dict[str, Path]:
        """Write /etc/hosts, /etc/resolv.conf, /etc/hostname for the container; the mount map.

        `extra_hosts` are (name, ip|"host-gateway"); `links` are (container name, alias).
        """
        files = ContainerFiles(container_id, hostname, tuple(extra_hosts), tuple(dns), tuple(links))
        directory = self.container_dir(container_id)
        directory.mkdir(parents=True, exist_ok=True)
        try:
            host_text = self.host_resolv_conf.read_text()
        except FileNotFoundError:
            host_text = ""
        hosts.write_in_place(
            directory / "resolv.conf",
            hosts.render_resolv_conf(hosts.parse_resolv_conf(host_text), files.dns),
        )
        hosts.write_in_place(directory / "hostname", hostname + "\n")
        with self.db.transaction() as conn:
            store.save_container_files(conn, files)
            self._rewrite_hosts(conn, {container_id})
        return {
            "/etc/hosts": directory / "hosts",
            "/etc/resolv.conf": directory / "resolv.conf",
            "/etc/hostname": directory / "hostname",
        }

    # --- after a reboot ------------------------------------------------------------------------

    def needs_restore(self) -> bool:
        """True when networks are recorded but their bridge or tables are gone (a reboot)."""
        nets = self.list()
        if not nets:
            return False
        if any(not bridge.link_exists(n.bridge) for n in nets):
            return True
        return f"inet {self.tables.filter}" not in firewall.list_tables(self.nft)

    def restore(self) -> RestoreReport:
        """Recreate bridges, links and rules of running containers; drop endpoints of the rest."""
        restored: list[str] = []
        stopped: list[str] = []
        with self.db.transaction() as conn:
            nets = {n.id: n for n in store.all_networks(conn)}
            for net in nets.values():
                self._ensure_bridge(net)
            touched: set[str] = set()
            for ep in store.all_endpoints(conn):
                net = nets[ep.network_id]
                if is_netns(Path(ep.netns)):
                    if bridge.link_exists(ep.host_veth):
                        bridge.plug(ep.host_veth, net.bridge)
                    else:
                        mine = store.endpoints_of_container(conn, ep.container_id)
                        first6 = next((e for e in mine if e.ip6), None) == ep
                        bridge.add_endpoint(
                            self._links(net, ep, first=mine[0] == ep, first6=first6)
                        )
                    if ep.container_id not in restored:
                        restored.append(ep.container_id)
                else:
                    self._drop_endpoint(conn, ep.network_id, ep.container_id)
                    bridge.delete_link(ep.host_veth)
                    conn.execute(
                        "DELETE FROM published_ports WHERE container_id = ?", (ep.container_id,)
                    )
                    if ep.container_id not in stopped:
                        stopped.append(ep.container_id)
                    touched |= self._neighbours(conn, ep.network_id)
            self._sync_firewall(conn)
            self._rewrite_hosts(conn, touched)
        return RestoreReport(tuple(n.name for n in nets.values()), tuple(restored), tuple(stopped))

    # --- helpers ------------------------------------------------------------------------------

    @contextmanager
    def _undo(self) -> Iterator[Callable[[Callable[[], None]], None]]:
        # Undo steps run newest first when the block fails; their own errors must not hide
        # the original one.
        steps: list[Callable[[], None]] = []
        try:
            yield steps.append
        except BaseException:
            for step in reversed(steps):
                with suppress(Exception):
                    step()
            raise

    def _ensure_bridge(self, net: Network) -> None:
        prefix6 = ipaddress.IPv6Network(net.subnet6).prefixlen if net.subnet6 else 64
        bridge.ensure_bridge(
            net.bridge,
            net.gateway,
            ipaddress.IPv4Network(net.subnet).prefixlen,
            net.gateway6,
            prefix6,
        )

    def _links(
        self, net: Network, ep: Endpoint, *, first: bool, first6: bool = False
    ) -> bridge.EndpointLinks:
        return bridge.EndpointLinks(
            bridge=net.bridge,
            host_veth=ep.host_veth,
            peer_veth="vethp" + ep.host_veth[4:],
            netns=ep.netns,
            ifname=ep.ifname,
            ip=ep.ip,
            prefixlen=ipaddress.IPv4Network(net.subnet).prefixlen,
            mac=ep.mac,
            gateway=net.gateway,
            default_route=first and not net.internal,
            ip6=ep.ip6,
            prefixlen6=ipaddress.IPv6Network(net.subnet6).prefixlen if net.subnet6 else 64,
            gateway6=net.gateway6,
            default_route6=bool(ep.ip6) and first6 and not net.internal,
        )

    def _drop_endpoint(self, conn: sqlite3.Connection, network_id: str, cid: str) -> bool:
        # Rows only; the caller deletes the veth last, once nothing else can fail. True when
        # published ports went with the endpoint (the nft rules then need a sync).
        ports = conn.execute(
            "DELETE FROM published_ports WHERE container_id = ? AND network_id = ?",
            (cid, network_id),
        ).rowcount
        ipam.release(conn, network_id, cid)
        store.delete_endpoint(conn, network_id, cid)
        return ports > 0

    def _neighbours(self, conn: sqlite3.Connection, network_id: str) -> set[str]:
        return {ep.container_id for ep in store.endpoints_of_network(conn, network_id)}

    def _resync_firewall(self) -> None:
        with self.db.transaction() as conn:
            self._sync_firewall(conn)

    def _sync_firewall(self, conn: sqlite3.Connection) -> None:
        nets = store.all_networks(conn)
        rows = conn.execute("SELECT * FROM published_ports ORDER BY host_port, proto").fetchall()
        ports = [
            firewall.PortRules(
                r["container_id"],
                r["host_ip"],
                r["host_port"],
                r["container_ip"],
                r["container_port"],
                r["proto"],
                r["container_ip6"],
            )
            for r in rows
        ]
        rules = [firewall.NetRules(n.name, n.bridge, n.subnet, n.internal, n.subnet6) for n in nets]
        firewall.apply(firewall.plan(rules, ports, self.tables), self.nft)
        if any(not n.internal for n in nets):
            bridge.enable_ip_forward()
        if any(n.subnet6 and not n.internal for n in nets):
            bridge.enable_ip6_forward()

    def _rewrite_hosts(self, conn: sqlite3.Connection, container_ids: set[str]) -> None:
        for cid in sorted(container_ids):
            files = store.load_container_files(conn, cid)
            if files is not None:
                path = self.container_dir(cid) / "hosts"
                hosts.write_in_place(path, self._hosts_text(conn, files))

    def _hosts_text(self, conn: sqlite3.Connection, files: ContainerFiles) -> str:
        own = store.endpoints_of_container(conn, files.container_id)
        views = [
            hosts.NetworkView(
                store.find_network(conn, ep.network_id),
                tuple(store.endpoints_of_network(conn, ep.network_id)),
            )
            for ep in own
        ]
        return hosts.container_hosts(files, views, DEFAULT_NETWORK)


def _free_ifname(used: set[str]) -> str:
    # The lowest free ethN: after eth0's network is detached, the next one reuses eth0.
    n = 0
    while f"eth{n}" in used:
        n += 1
    return f"eth{n}"


def _by_family(
    name: str, flag: str, v4: str | None, v6: str | None
) -> tuple[str | None, str | None]:
    # A v6 value in the v4 slot (`--subnet fd..::/64` passed as `subnet`) moves to the v6 one.
    if v4 and ipam.is_v6(v4):
        if v6:
            raise InvalidArgument(
                f"network {name}: two IPv6 {flag} values ({v4}, {v6}): give one per family"
            )
        return None, v4
    return v4, v6


def _endpoint_id(ep: Endpoint) -> str:
    return hashlib.sha256(f"{ep.network_id}/{ep.container_id}".encode()).hexdigest()


def _binding(row: sqlite3.Row) -> PortBinding:
    return PortBinding(
        row["container_id"],
        row["network_id"],
        row["host_ip"],
        row["host_port"],
        row["container_ip"],
        row["container_port"],
        row["proto"],
        row["container_ip6"],
    )
