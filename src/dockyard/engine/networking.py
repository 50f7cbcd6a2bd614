"""The engine's side of networking: which networks a container joins, and plugging it in.

A container on bridge networks gets a named network namespace (`<root>/netns/<id>`) when it
starts: the network layer plugs it into each network, publishes its ports and writes its
/etc/hosts and /etc/resolv.conf; all of it is undone when the container stops.
"""

from __future__ import annotations

import contextlib
import ipaddress
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dockyard.engine.config import ContainerConfig, NetworkAttachment
from dockyard.engine.service import Engine
from dockyard.engine.store import ContainerRow
from dockyard.errors import NotFound

if TYPE_CHECKING:
    from dockyard.network.store import Endpoint, Network

DEFAULT_NETWORK = "dockyard0"


def netns_path(engine: Engine, container_id: str) -> Path:
    return engine.paths.netns(container_id)


def desired_networks(
    cfg: ContainerConfig, attachments: Sequence[NetworkAttachment], aliases: Sequence[str]
) -> list[NetworkAttachment]:
    """The networks to join: those given, else the one `--network` names (default: dockyard0)."""
    if attachments:
        return list(attachments)
    mode = cfg.host.network_mode
    name = DEFAULT_NETWORK if mode in ("default", "bridge", "") else mode
    return [NetworkAttachment(name, tuple(aliases))]


def ipam_config(ipv4: str | None, ipv6: str | None) -> dict[str, str] | None:
    """Docker's `IPAMConfig` of an endpoint: the addresses asked with `--ip`/`--ip6`."""
    asked = {"IPv4Address": ipv4 or "", "IPv6Address": ipv6 or ""}
    return {k: v for k, v in asked.items() if v} or None


def settings_doc(networks: Sequence[NetworkAttachment]) -> dict[str, Any]:
    """`NetworkSettings` before the container has run: the networks, no addresses yet."""
    return {
        "Networks": {
            n.name: {
                "Aliases": list(n.aliases),
                "IPAMConfig": ipam_config(n.ipv4, n.ipv6),
                "IPAddress": "",
                "Gateway": "",
                "MacAddress": "",
                "NetworkID": "",
                "GlobalIPv6Address": "",
                "GlobalIPv6PrefixLen": 0,
                "IPv6Gateway": "",
            }
            for n in networks
        },
        "Ports": {},
        "IPAddress": "",
        "Gateway": "",
        "MacAddress": "",
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "IPv6Gateway": "",
    }


def endpoint_doc(net: Network, ep: Endpoint) -> dict[str, Any]:
    """The addresses of one endpoint as `NetworkSettings.Networks.<name>` shows them."""
    return {
        "IPAddress": ep.ip,
        "IPPrefixLen": ipaddress.IPv4Network(net.subnet).prefixlen,
        "Gateway": net.gateway,
        "MacAddress": ep.mac,
        "NetworkID": net.id,
        "GlobalIPv6Address": ep.ip6,
        "GlobalIPv6PrefixLen": ipaddress.IPv6Network(net.subnet6).prefixlen if ep.ip6 else 0,
        "IPv6Gateway": net.gateway6 if ep.ip6 else "",
    }


def check_networks(engine: Engine, networks: Sequence[NetworkAttachment]) -> None:
    """Every named network exists (the default one is made on first use) and takes the
    addresses asked with `--ip`/`--ip6`."""
    for n in networks:
        if n.name == DEFAULT_NETWORK:
            continue
        try:
            engine.networks.get(n.name)
        except NotFound:
            raise NotFound(
                f"network {n.name} not found: create it with `dockyard network create`"
            ) from None
        engine.networks.check_request(n.name, n.ipv4, n.ipv6)


def connect(engine: Engine, row: ContainerRow) -> dict[str, Any]:
    """Create the netns, join the networks, publish ports, write hosts files; undo on failure."""
    from dockyard.network.netns import create_netns

    cfg = ContainerConfig.from_docker_json(row.config)
    settings = dict(row.config.get("NetworkSettings") or {})
    wanted = settings.get("Networks") or {}
    manager = engine.networks
    if manager.needs_restore():
        # The host rebooted (or someone deleted our links/tables): put back what running
        # containers need before adding another.
        manager.restore()
    path = netns_path(engine, row.id)
    create_netns(path)
    try:
        ports: dict[str, list[dict[str, str]]] = {}
        first = True
        for name, want in wanted.items():
            if name == DEFAULT_NETWORK:
                manager.ensure_default()
            net = manager.get(name)
            asked = (want or {}).get("IPAMConfig") or {}
            aliases = list((want or {}).get("Aliases") or [])
            if name != DEFAULT_NETWORK:  # Docker: names resolve on user-defined networks only
                aliases += [row.name, row.short_id]
            ep = manager.attach(
                name,
                row.id,
                row.name,
                path,
                aliases=aliases,
                ip=asked.get("IPv4Address") or None,
                ip6=asked.get("IPv6Address") or None,
            )
            doc = endpoint_doc(net, ep)
            want.update(doc)
            if first:
                settings.update(
                    {k: v for k, v in doc.items() if k not in ("NetworkID", "IPPrefixLen")}
                )
                first = False
        if cfg.host.port_bindings:
            for b in manager.publish(row.id, cfg.host.port_bindings):
                ports.setdefault(b.docker_key(), []).append(
                    {"HostIp": b.host_ip or "0.0.0.0", "HostPort": str(b.host_port)}
                )
                if b.container_ip6 and b.host_ip == "0.0.0.0":
                    # Docker lists the v6 twin of a 0.0.0.0 publication as `::`.
                    ports[b.docker_key()].append({"HostIp": "::", "HostPort": str(b.host_port)})
        settings["Ports"] = ports
        links = [
            tuple(link.split(":", 1)) if ":" in link else (link, link)
            for link in row.config.get("Links") or []
        ]
        manager.write_container_files(
            row.id,
            (row.config.get("Config") or {}).get("Hostname") or row.short_id,
            extra_hosts=[tuple(h.split(":", 1)) for h in cfg.host.extra_hosts],  # type: ignore[misc]
            dns=list(cfg.host.dns),
            links=links,
        )
    except BaseException:
        disconnect(engine, row.id)
        raise
    return settings


def disconnect(engine: Engine, container_id: str) -> None:
    """Unpublish, unplug and remove the netns; idempotent."""
    from dockyard.network.netns import remove_netns

    manager = engine.networks
    with contextlib.suppress(NotFound):
        manager.unpublish(container_id)
    with contextlib.suppress(NotFound):
        manager.detach_all(container_id)
    remove_netns(netns_path(engine, container_id))


def restore_networks(engine: Engine) -> None:
    """After a reboot: recreate bridges and rules for containers still running, drop the rest."""
    if not (engine.paths.root / "state.db").exists():
        return
    manager = engine.networks
    if manager.needs_restore():
        manager.restore()
