"""The current state of a project, read from the engine by Compose's labels (no decisions)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from dockyard.compose.convert import NUMBER, ONEOFF, SERVICE, image_name, project_labels
from dockyard.compose.engine_client import ContainerInfo, EngineClient
from dockyard.compose.model import Project


@dataclass(frozen=True)
class Observed:
    """What exists of a project: its containers (not one-off), networks, volumes, images."""

    project: str
    containers: tuple[ContainerInfo, ...] = ()
    networks: frozenset[str] = frozenset()
    volumes: frozenset[str] = frozenset()
    images: Mapping[str, str | None] = field(default_factory=dict)  # reference → id or None
    networking: bool = False


def service_of(container: ContainerInfo) -> str:
    """The service a container belongs to, by its label."""
    return container.labels.get(SERVICE, "")


def number_of(container: ContainerInfo) -> int:
    """The container's number within its service (0 when the label is unreadable)."""
    text = container.labels.get(NUMBER, "")
    return int(text) if text.isdigit() else 0


def is_oneoff(container: ContainerInfo) -> bool:
    return container.labels.get(ONEOFF, "False") == "True"


def by_service(containers: Iterable[ContainerInfo]) -> dict[str, list[ContainerInfo]]:
    """Containers grouped by service, each group ordered by container number."""
    out: dict[str, list[ContainerInfo]] = {}
    for container in sorted(containers, key=lambda c: (service_of(c), number_of(c))):
        out.setdefault(service_of(container), []).append(container)
    return out


def project_containers(
    client: EngineClient, project: str, *, oneoff: bool = False
) -> list[ContainerInfo]:
    """The project's service containers (or its `compose run` ones), by service and number."""
    found = client.list_containers(project_labels(project))
    chosen = [c for c in found if is_oneoff(c) == oneoff]
    return sorted(chosen, key=lambda c: (service_of(c), number_of(c)))


def observe(client: EngineClient, project: Project) -> Observed:
    """Read everything the planner compares `project` against."""
    labels = project_labels(project.name)
    networking = client.networks_supported()
    networks: set[str] = set()
    if networking:
        networks = set(client.list_networks(labels))
        networks |= {n.name for n in project.networks.values() if client.network_exists(n.name)}
    volumes = {v.name for v in project.volumes.values() if client.volume_exists(v.name)}
    images = {
        ref: client.image_id(ref)
        for ref in dict.fromkeys(image_name(project, s) for s in project.services.values())
    }
    return Observed(
        project=project.name,
        containers=tuple(project_containers(client, project.name)),
        networks=frozenset(networks),
        volumes=frozenset(volumes),
        images=images,
        networking=networking,
    )
