"""The normalize stage: the merged tree → a `Project` (profiles applied, references checked)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from dockyard.compose.checks import check_container_names, check_ports
from dockyard.compose.coerce import to_bool, to_str
from dockyard.compose.errors import ComposeError, KeyPath
from dockyard.compose.graph import start_order
from dockyard.compose.interpolate import Lookup
from dockyard.compose.model import (
    Config,
    IpamPool,
    MountType,
    Network,
    Project,
    Secret,
    Service,
    ServiceNetwork,
    Volume,
    frozen_map,
)
from dockyard.compose.service import read_service
from dockyard.compose.tree import Tree
from dockyard.compose.volumes import resolve_path

DEFAULT_NETWORK = "default"


def enabled(profiles: Sequence[str], active: Sequence[str]) -> bool:
    """Whether a service with `profiles` runs when `active` profiles are selected."""
    return not profiles or "*" in active or any(p in active for p in profiles)


def _external(value: Any) -> tuple[bool, str | None]:
    # `external: {name: x}` is the legacy form of `external: true` + `name: x`.
    if isinstance(value, Mapping):
        return True, value.get("name")
    return (False, None) if value is None else (to_bool(value), None)


class _Reader:
    def __init__(self, tree: Tree, name: str, project_dir: str, lookup: Lookup) -> None:
        self.tree = tree
        self.name = name
        self.base = project_dir
        self.lookup = lookup

    def fail(self, message: str, path: KeyPath) -> ComposeError:
        return ComposeError(message, location=self.tree.locate(path), path=path)

    def section(self, kind: str) -> dict[str, Any]:
        value = self.tree.data.get(kind)
        return value if isinstance(value, dict) else {}

    def engine_name(self, key: str, entry: Mapping[str, Any]) -> tuple[bool, str]:
        external, legacy = _external(entry.get("external"))
        explicit = entry.get("name") or legacy
        if explicit:
            return external, str(explicit)
        return external, key if external else f"{self.name}_{key}"

    def networks(self) -> dict[str, Network]:
        out = {}
        for key, value in self.section("networks").items():
            entry = value or {}
            external, name = self.engine_name(key, entry)
            ipam = entry.get("ipam") or {}
            out[key] = Network(
                key=key,
                name=name,
                driver=entry.get("driver"),
                driver_opts=frozen_map(_strings(entry.get("driver_opts"))),
                external=external,
                internal=to_bool(entry.get("internal", False)),
                enable_ipv6=to_bool(entry.get("enable_ipv6", False)),
                ipam_driver=ipam.get("driver"),
                ipam=tuple(
                    IpamPool(c.get("subnet"), c.get("ip_range"), c.get("gateway"))
                    for c in ipam.get("config") or []
                ),
                labels=frozen_map(_strings(entry.get("labels"))),
            )
        return out

    def volumes(self) -> dict[str, Volume]:
        out = {}
        for key, value in self.section("volumes").items():
            entry = value or {}
            external, name = self.engine_name(key, entry)
            out[key] = Volume(
                key=key,
                name=name,
                driver=entry.get("driver"),
                driver_opts=frozen_map(_strings(entry.get("driver_opts"))),
                external=external,
                labels=frozen_map(_strings(entry.get("labels"))),
            )
        return out

    def files(self, kind: str) -> dict[str, Any]:
        cls = Secret if kind == "secrets" else Config
        out = {}
        for key, value in self.section(kind).items():
            entry = value or {}
            external, name = self.engine_name(key, entry)
            sources = [s for s in ("file", "environment", "content") if entry.get(s) is not None]
            if not external and len(sources) != 1:
                raise self.fail(
                    f"{kind[:-1]} {key} needs exactly one of file, environment or content",
                    (kind, key),
                )
            file = entry.get("file")
            environment = entry.get("environment")
            variable = None if environment is None else self.lookup(str(environment))
            content = entry.get("content")
            out[key] = cls(
                key=key,
                name=name,
                file=None if file is None else resolve_path(str(file), self.base),
                environment=None if environment is None else str(environment),
                content=None if content is None else to_str(content),
                external=external,
                env_value=None if variable is None else variable.value,
            )
        return out


def _strings(value: Any) -> dict[str, str]:
    return {str(k): "" if v is None else to_str(v) for k, v in (value or {}).items()}


def _attach_networks(service: Service, networks: Mapping[str, Network], reader: _Reader) -> Service:
    path = ("services", service.name)
    if service.network_mode is not None:
        if service.networks:
            raise reader.fail(
                f"network_mode and networks exclude each other in service {service.name}; keep one",
                (*path, "network_mode"),
            )
        return service
    if not service.networks:
        return dataclasses.replace(service, networks=(ServiceNetwork(DEFAULT_NETWORK),))
    for attachment in service.networks:
        if attachment.network not in networks and attachment.network != DEFAULT_NETWORK:
            raise reader.fail(
                f'service "{service.name}" uses undefined network "{attachment.network}"; '
                "add it under top-level networks:",
                (*path, "networks", attachment.network),
            )
    return service


def _check_refs(service: Service, project: dict[str, Mapping[str, Any]], reader: _Reader) -> None:
    path = ("services", service.name)
    for index, mount in enumerate(service.volumes):
        if (
            mount.type is MountType.VOLUME
            and mount.source
            and mount.source not in project["volumes"]
        ):
            raise reader.fail(
                f'service "{service.name}" uses undefined volume "{mount.source}"; '
                "add it under top-level volumes:",
                (*path, "volumes", index),
            )
    for kind in ("secrets", "configs"):
        for index, grant in enumerate(getattr(service, kind)):
            entry = project[kind].get(grant.source)
            if entry is None:
                raise reader.fail(
                    f'service "{service.name}" uses undefined {kind[:-1]} "{grant.source}"; '
                    f"add it under top-level {kind}:",
                    (*path, kind, index),
                )
            if entry.external:
                # External secrets live in a swarm's store; there is none without a swarm.
                raise reader.fail(
                    f'service "{service.name}": {kind[:-1]} "{grant.source}" is external, '
                    "which needs a swarm; use file, environment or content",
                    (kind, grant.source),
                )
            if entry.environment is not None and entry.env_value is None:
                raise reader.fail(
                    f'{kind[:-1]} "{grant.source}" reads environment variable '
                    f'"{entry.environment}", which is not set; export it or add it to .env',
                    (kind, grant.source, "environment"),
                )


def _drop_disabled(service: Service, disabled: set[str], reader: _Reader) -> Service:
    kept = []
    for dep in service.depends_on:
        if dep.service not in disabled:
            kept.append(dep)
        elif dep.required:
            raise reader.fail(
                f'service "{service.name}" depends on "{dep.service}", which no active profile '
                "enables; enable its profile or set required: false",
                ("services", service.name, "depends_on", dep.service),
            )
    return dataclasses.replace(service, depends_on=tuple(kept))


def normalize(
    tree: Tree, name: str, project_dir: str, lookup: Lookup, profiles: Sequence[str] = ()
) -> Project:
    """Build the `Project` from the merged tree; raises `ComposeError` at the first problem."""
    reader = _Reader(tree, name, project_dir, lookup)
    services_data = reader.section("services")
    active: list[str] = []
    disabled: set[str] = set()
    for key, value in services_data.items():
        declared = [str(p) for p in (value or {}).get("profiles") or []]
        if enabled(declared, profiles):
            active.append(key)
        else:
            disabled.add(key)
    networks = reader.networks()
    volumes = reader.volumes()
    project_refs: dict[str, Mapping[str, Any]] = {
        "volumes": volumes,
        "secrets": reader.files("secrets"),
        "configs": reader.files("configs"),
    }
    services: dict[str, Service] = {}
    for key in active:
        service = read_service(key, tree, project_dir, lookup)
        service = _attach_networks(service, networks, reader)
        _check_refs(service, project_refs, reader)
        services[key] = _drop_disabled(service, disabled, reader)
    check_ports(services, tree)
    check_container_names(services, tree)
    try:
        start_order(services)
    except ComposeError as exc:
        path = exc.path or ()
        raise ComposeError(exc.reason, location=tree.locate(path), path=path) from None
    uses_default = any(a.network == DEFAULT_NETWORK for s in services.values() for a in s.networks)
    if uses_default and DEFAULT_NETWORK not in networks:
        networks[DEFAULT_NETWORK] = Network(DEFAULT_NETWORK, f"{name}_{DEFAULT_NETWORK}")
    return Project(
        name=name,
        working_dir=project_dir,
        services=frozen_map(services),
        networks=frozen_map(networks),
        volumes=frozen_map(volumes),
        secrets=frozen_map(project_refs["secrets"]),
        configs=frozen_map(project_refs["configs"]),
        disabled_services=tuple(k for k in services_data if k in disabled),
    )
