"""The convergence plan: desired `Project` + `Observed` state + options → ordered actions (pure).

Compose v2's rules: a container is recreated when its config hash or its image changed (or
with `--force-recreate`), started when it exists but is not running, left alone otherwise —
so a second `up` with nothing changed plans nothing. Services come in dependency waves; the
services of one wave are independent and may be converged in parallel.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from dockyard.compose.convert import CONFIG_HASH, container_name, image_name
from dockyard.compose.engine_client import ContainerInfo
from dockyard.compose.graph import dependencies, find_cycle
from dockyard.compose.hash import config_hash
from dockyard.compose.model import Dependency, Project, PullPolicy, Service
from dockyard.compose.observe import Observed, by_service, number_of, service_of
from dockyard.errors import InvalidArgument, NotFound


class Kind(enum.Enum):
    """What one action does; the executor maps each to engine calls."""

    CREATE_NETWORK = "create network"
    CREATE_VOLUME = "create volume"
    PULL = "pull"
    BUILD = "build"
    CREATE = "create"  # create and (unless --no-start) start container N of the service
    RECREATE = "recreate"  # stop and remove the old container, then as CREATE
    START = "start"
    STOP = "stop"
    REMOVE = "remove"  # stop if running, then remove
    REMOVE_NETWORK = "remove network"
    REMOVE_VOLUME = "remove volume"
    REMOVE_IMAGE = "remove image"


@dataclass(frozen=True)
class Action:
    """One step: `name` is the container, network, volume or image it acts on."""

    kind: Kind
    name: str
    service: str = ""
    number: int = 0
    container_id: str | None = None  # the existing container, for recreate/start/stop/remove
    reason: str = ""


@dataclass(frozen=True)
class ServiceStep:
    """One service's actions and the dependencies to wait for before running them."""

    service: str
    actions: tuple[Action, ...] = ()
    waits: tuple[Dependency, ...] = ()


@dataclass(frozen=True)
class Plan:
    """Resources first, then services in waves (each wave needs only earlier ones)."""

    resources: tuple[Action, ...] = ()
    waves: tuple[tuple[ServiceStep, ...], ...] = ()
    cleanup: tuple[Action, ...] = ()  # after the services: orphans, networks, volumes, images
    orphans: tuple[str, ...] = ()  # orphan containers found and left (no --remove-orphans)

    def actions(self) -> list[Action]:
        """Every action in execution order."""
        out = list(self.resources)
        for wave in self.waves:
            for step in wave:
                out += step.actions
        return out + list(self.cleanup)

    @property
    def empty(self) -> bool:
        return not self.actions()


@dataclass(frozen=True)
class UpOptions:
    """`up`'s flags that shape the plan."""

    services: tuple[str, ...] = ()  # empty: every enabled service
    force_recreate: bool = False
    no_recreate: bool = False
    no_deps: bool = False
    remove_orphans: bool = False
    scale: Mapping[str, int] = field(default_factory=dict)
    build: bool = False
    no_build: bool = False


@dataclass(frozen=True)
class DownOptions:
    """`down`'s flags."""

    volumes: bool = False
    remove_orphans: bool = False
    rmi: str | None = None  # "local" or "all"


def select_services(project: Project, names: Sequence[str], *, with_deps: bool) -> list[str]:
    """The named services (all when none) plus, unless `with_deps` is off, what they need."""
    for name in names:
        if name not in project.services:
            hint = " (it is disabled by its profiles)" if name in project.disabled_services else ""
            raise NotFound(
                f'no such service: "{name}"{hint}; use one of {", ".join(project.services)}'
            )
    if not names:
        return list(project.services)
    chosen: set[str] = set()
    todo = list(names)
    while todo:
        name = todo.pop()
        if name in chosen:
            continue
        chosen.add(name)
        if with_deps:
            todo += [d for d in dependencies(project.services[name]) if d in project.services]
    return [n for n in project.services if n in chosen]


def with_restart_dependents(project: Project, names: Sequence[str]) -> list[str]:
    """`names` plus every service that depends on one of them with `restart: true`, in turn
    (what `compose restart` restarts), in file order."""
    chosen = set(names)
    grew = True
    while grew:
        grew = False
        for name, service in project.services.items():
            if name not in chosen and any(
                d.restart and d.service in chosen for d in service.depends_on
            ):
                chosen.add(name)
                grew = True
    return [n for n in project.services if n in chosen]


def waves(project: Project, selected: Sequence[str]) -> list[list[str]]:
    """`selected` in dependency waves, edges outside the selection ignored (`--no-deps`)."""
    chosen = set(selected)
    edges = {n: [d for d in dependencies(project.services[n]) if d in chosen] for n in selected}
    cycle = find_cycle(edges)
    if cycle:
        raise InvalidArgument(f"dependency cycle: {' -> '.join(cycle)}; remove one of them")
    done: set[str] = set()
    out: list[list[str]] = []
    while len(done) < len(edges):
        wave = [n for n, deps in edges.items() if n not in done and set(deps) <= done]
        out.append(wave)
        done.update(wave)
    return out


def _scale(service: Service, options: UpOptions) -> int:
    count = options.scale.get(service.name, service.replicas)
    if count < 0:
        raise InvalidArgument(f'invalid scale for "{service.name}": {count}; use 0 or more')
    if count > 1 and service.container_name:
        raise InvalidArgument(
            f'service "{service.name}" has container_name "{service.container_name}" and '
            f"scale {count}; a name is unique, so remove container_name or scale to 1"
        )
    return count


def _diverged(container: ContainerInfo, service: Service, image_id: str | None) -> str:
    """Why the container no longer matches its service ("" when it does)."""
    if container.labels.get(CONFIG_HASH) != config_hash(service):
        return "configuration changed"
    if image_id is not None and container.image_id != image_id:
        return "image changed"
    return ""


def _converge(
    project: Project,
    service: Service,
    existing: list[ContainerInfo],
    observed: Observed,
    options: UpOptions,
    *,
    selected: bool,
) -> list[Action]:
    count = _scale(service, options)
    image_id = observed.images.get(image_name(project, service))
    keep = existing[:count]
    actions = [
        Action(Kind.REMOVE, c.name, service.name, number_of(c), c.id, "scaled down")
        for c in reversed(existing[count:])
    ]
    for container in keep:
        reason = _diverged(container, service, image_id)
        if options.force_recreate and selected:
            reason = "forced"
        if reason and not options.no_recreate:
            actions.append(
                Action(
                    Kind.RECREATE,
                    container.name,
                    service.name,
                    number_of(container),
                    container.id,
                    reason,
                )
            )
        elif not container.running:
            actions.append(
                Action(Kind.START, container.name, service.name, number_of(container), container.id)
            )
    used = {number_of(c) for c in keep}
    number = 1
    for _ in range(count - len(keep)):
        while number in used:
            number += 1
        used.add(number)
        name = container_name(project.name, service, number)
        actions.append(Action(Kind.CREATE, name, service.name, number))
    return actions


def _images(
    project: Project, selected: Sequence[str], observed: Observed, options: UpOptions
) -> list[Action]:
    out: list[Action] = []
    seen: set[str] = set()
    for name in selected:
        service = project.services[name]
        ref = image_name(project, service)
        if ref in seen:
            continue
        seen.add(ref)
        present = observed.images.get(ref) is not None
        wants_build = service.build is not None and (
            options.build or service.pull_policy is PullPolicy.BUILD
        )
        if wants_build and not options.no_build:
            out.append(Action(Kind.BUILD, ref, name, reason="--build"))
        elif present and service.pull_policy is not PullPolicy.ALWAYS:
            continue
        elif service.build is not None and service.image is None:
            if options.no_build:
                raise NotFound(
                    f'service "{name}" has no image {ref} and --no-build was given; '
                    "build it first with `dockyard compose build`"
                )
            out.append(Action(Kind.BUILD, ref, name, reason="image missing"))
        elif service.pull_policy is PullPolicy.NEVER:
            raise NotFound(
                f'service "{name}": image {ref} is not present and pull_policy is never; '
                "pull or build it first"
            )
        elif service.build is not None and not options.no_build:
            out.append(Action(Kind.BUILD, ref, name, reason="image missing"))
        else:
            out.append(Action(Kind.PULL, ref, name))
    return out


def _resources(project: Project, selected: Sequence[str], observed: Observed) -> list[Action]:
    out: list[Action] = []
    if observed.networking:
        used = {n.network for s in selected for n in project.services[s].networks}
        for key, network in project.networks.items():
            if key not in used or network.name in observed.networks:
                continue
            if network.external:
                raise NotFound(
                    f'network "{network.name}" is declared as external but does not exist; '
                    "create it with `dockyard network create`"
                )
            out.append(Action(Kind.CREATE_NETWORK, network.name, reason=key))
    used_volumes = {
        m.source for s in selected for m in project.services[s].volumes if m.source is not None
    }
    for key, volume in project.volumes.items():
        if key not in used_volumes or volume.name in observed.volumes:
            continue
        if volume.external:
            raise NotFound(
                f'volume "{volume.name}" is declared as external but does not exist; '
                "create it with `dockyard volume create`"
            )
        out.append(Action(Kind.CREATE_VOLUME, volume.name, reason=key))
    return out


def _orphans(project: Project, observed: Observed) -> list[ContainerInfo]:
    known = set(project.services) | set(project.disabled_services)
    return [c for c in observed.containers if service_of(c) not in known]


def plan_up(project: Project, observed: Observed, options: UpOptions) -> Plan:
    """What `up` must do to make `observed` match `project`."""
    if options.force_recreate and options.no_recreate:
        raise InvalidArgument("--force-recreate and --no-recreate are incompatible; pick one")
    for name in options.scale:
        if name not in project.services:
            raise NotFound(f'no such service: "{name}" (in --scale); fix the name')
    selected = select_services(project, options.services, with_deps=not options.no_deps)
    explicit = set(options.services or project.services)
    groups = by_service(observed.containers)
    resources = _images(project, selected, observed, options) + _resources(
        project, selected, observed
    )
    service_waves = []
    chosen = set(selected)
    for wave in waves(project, selected):
        steps = []
        for name in wave:
            service = project.services[name]
            actions = _converge(
                project,
                service,
                groups.get(name, []),
                observed,
                options,
                selected=name in explicit,
            )
            waits = tuple(d for d in service.depends_on if d.service in chosen)
            steps.append(ServiceStep(name, tuple(actions), waits))
        service_waves.append(tuple(steps))
    orphans = _orphans(project, observed)
    cleanup: list[Action] = []
    if options.remove_orphans:
        cleanup = [
            Action(Kind.REMOVE, c.name, service_of(c), number_of(c), c.id, "orphan")
            for c in orphans
        ]
    return Plan(
        resources=tuple(resources),
        waves=tuple(service_waves),
        cleanup=tuple(cleanup),
        orphans=() if options.remove_orphans else tuple(c.name for c in orphans),
    )


def plan_down(project: Project | None, observed: Observed, options: DownOptions) -> Plan:
    """What `down` removes: the containers (dependents first), then networks, volumes, images.

    With no project (only `-p NAME`), everything labelled with the project name goes."""
    groups = by_service(observed.containers)
    order: list[str] = []
    orphans: list[str] = []
    if project is not None:
        known = set(project.services) | set(project.disabled_services)
        orphans = [s for s in groups if s not in known]
        order = [n for wave in reversed(waves(project, list(project.services))) for n in wave]
        order += [s for s in project.disabled_services if s in groups]
    order = [*(orphans if options.remove_orphans or project is None else []), *order]
    if project is None:
        order = list(groups)
    steps = []
    for name in order:
        actions = tuple(
            Action(Kind.REMOVE, c.name, name, number_of(c), c.id) for c in groups.get(name, [])
        )
        if actions:
            steps.append((ServiceStep(name, actions),))
    cleanup: list[Action] = []
    networks = sorted(observed.networks)
    if project is not None:
        networks = [n.name for n in project.networks.values() if not n.external]
        networks = [n for n in networks if n in observed.networks]
    cleanup += [Action(Kind.REMOVE_NETWORK, n) for n in networks]
    if options.volumes:
        volumes = sorted(observed.volumes)
        if project is not None:
            volumes = [v.name for v in project.volumes.values() if not v.external]
            volumes = [v for v in volumes if v in observed.volumes]
        cleanup += [Action(Kind.REMOVE_VOLUME, v) for v in volumes]
    if options.rmi is not None and project is not None:
        if options.rmi not in ("local", "all"):
            raise InvalidArgument(f'invalid --rmi "{options.rmi}"; use local or all')
        for name, service in project.services.items():
            ref = image_name(project, service)
            if observed.images.get(ref) is None:
                continue
            if options.rmi == "all" or service.image is None:
                cleanup.append(Action(Kind.REMOVE_IMAGE, ref, name))
    left = [] if options.remove_orphans or project is None else orphans
    return Plan(
        waves=tuple(steps),
        cleanup=tuple(dict.fromkeys(cleanup)),
        orphans=tuple(c.name for s in left for c in groups[s]),
    )
