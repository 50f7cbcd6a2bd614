"""Whole-project checks that no single key can fail: port clashes, names, build contexts."""

from __future__ import annotations

import os
from collections.abc import Mapping

from dockyard.compose.errors import ComposeError, ComposeFileNotFound
from dockyard.compose.model import PortMapping, Service
from dockyard.compose.tree import Tree

_ANY_ADDRESS = (None, "", "0.0.0.0", "::")


def _fixed_ports(service: Service) -> list[tuple[int, PortMapping]]:
    """The (host port, mapping) pairs that publish one fixed port (a range picks a free one)."""
    out = []
    for port in service.ports:
        if port.published is not None and port.published.start == port.published.end:
            out.append((port.published.start, port))
    return out


def _overlap(a: str | None, b: str | None) -> bool:
    return a == b or a in _ANY_ADDRESS or b in _ANY_ADDRESS


def check_ports(services: Mapping[str, Service], tree: Tree) -> None:
    """Two containers cannot publish the same host port: between services, or across replicas."""
    seen: list[tuple[str, int, PortMapping]] = []
    for name, service in services.items():
        path = ("services", name, "ports")
        for number, port in _fixed_ports(service):
            if service.replicas > 1:
                raise ComposeError(
                    f"service {name} publishes host port {number} for "
                    f"{service.replicas} replicas; use a range (e.g. 8000-8010:{port.target}) "
                    "or leave the host port out",
                    location=tree.locate(path),
                    path=path,
                )
            for other_name, other_number, other in seen:
                same = (other_number, other.protocol) == (number, port.protocol)
                if same and _overlap(other.host_ip, port.host_ip):
                    raise ComposeError(
                        f"services {other_name} and {name} both publish host port "
                        f"{number}/{port.protocol.value}; change one of them",
                        location=tree.locate(path),
                        path=path,
                    )
            seen.append((name, number, port))


def check_container_names(services: Mapping[str, Service], tree: Tree) -> None:
    """`container_name` is unique, so it allows one replica only and no two services share it."""
    owners: dict[str, str] = {}
    for name, service in services.items():
        if service.container_name is None:
            continue
        path = ("services", name, "container_name")
        if service.replicas > 1:
            raise ComposeError(
                f"service {name} sets container_name and {service.replicas} replicas; "
                "remove container_name to scale",
                location=tree.locate(path),
                path=path,
            )
        if service.container_name in owners:
            raise ComposeError(
                f"services {owners[service.container_name]} and {name} share container_name "
                f'"{service.container_name}"; make them unique',
                location=tree.locate(path),
                path=path,
            )
        owners[service.container_name] = name


def check_build_contexts(services: Mapping[str, Service]) -> None:
    """Every local build context is a directory (call before building, not for `config`)."""
    for name, service in services.items():
        build = service.build
        if build is None or "://" in build.context or build.context.startswith("git@"):
            continue
        if not os.path.isdir(build.context):
            raise ComposeFileNotFound(
                f"build context {build.context} of service {name} is not a directory; "
                "create it or fix build.context",
                path=("services", name, "build", "context"),
            )
