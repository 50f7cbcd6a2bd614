"""`network connect` / `network disconnect` for an existing container (running or not)."""

from __future__ import annotations

from collections.abc import Sequence

from dockyard.engine.network_mode import uses_bridge
from dockyard.engine.networking import (
    DEFAULT_NETWORK,
    endpoint_doc,
    ipam_config,
    netns_path,
)
from dockyard.engine.service import Engine
from dockyard.errors import Conflict, InvalidArgument, NotFound


def connect_container(
    engine: Engine,
    network: str,
    text: str,
    aliases: Sequence[str],
    ip: str | None,
    *,
    ip6: str | None = None,
) -> None:
    """Join `network` now if the container runs; in any case from its next start on."""
    row = engine.containers.find(text)
    mode = str((row.config.get("HostConfig") or {}).get("NetworkMode") or "")
    if not uses_bridge(mode):
        raise InvalidArgument(
            f"container {row.name} uses --network {mode}: it cannot join other networks"
        )
    net = engine.networks.get(network)
    engine.networks.check_request(net.name, ip, ip6)
    settings = dict(row.config.get("NetworkSettings") or {})
    networks = dict(settings.get("Networks") or {})
    if net.name in networks:
        raise Conflict(f"endpoint with name {row.name} already exists in network {net.name}")
    entry = {
        "Aliases": list(aliases),
        "IPAMConfig": ipam_config(ip, ip6),
        "IPAddress": "",
        "Gateway": "",
        "MacAddress": "",
        "NetworkID": net.id,
    }
    if row.status == "running":
        extra = [] if net.name == DEFAULT_NETWORK else [row.name, row.short_id]
        ep = engine.networks.attach(
            net.name,
            row.id,
            row.name,
            netns_path(engine, row.id),
            aliases=[*aliases, *extra],
            ip=ip,
            ip6=ip6,
        )
        entry.update(endpoint_doc(net, ep))
    networks[net.name] = entry
    settings["Networks"] = networks
    engine.containers.update(
        row.id, "network connect", config=dict(row.config, NetworkSettings=settings)
    )


def disconnect_container(engine: Engine, network: str, text: str) -> None:
    """Leave `network` (now, and at later starts)."""
    row = engine.containers.find(text)
    settings = dict(row.config.get("NetworkSettings") or {})
    networks = dict(settings.get("Networks") or {})
    net = engine.networks.get(network)
    if net.name not in networks:
        raise NotFound(f"container {row.name} is not connected to network {net.name}")
    if row.status == "running":
        engine.networks.detach(net.name, row.id)
    del networks[net.name]
    settings["Networks"] = networks
    engine.containers.update(
        row.id, "network disconnect", config=dict(row.config, NetworkSettings=settings)
    )
