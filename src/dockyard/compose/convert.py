"""A `Service` made a container: the engine's `ContainerConfig`, Compose's labels and names,
and the container's network attachments (pure; `cli/run_options.py` does the same from flags).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dockyard.compose.engine_client import Attachment
from dockyard.compose.hash import config_hash
from dockyard.compose.model import Healthcheck, MountType, Project, Service, VolumeMount
from dockyard.engine.config import ContainerConfig, HostConfig, LogConfig
from dockyard.engine.config import Healthcheck as EngineHealthcheck
from dockyard.engine.options import (
    MountSpec,
    PortBinding,
    RestartPolicy,
    Ulimit,
    normalize_capabilities,
)
from dockyard.errors import InvalidArgument

LABEL = "com.docker.compose"
PROJECT = f"{LABEL}.project"
SERVICE = f"{LABEL}.service"
NUMBER = f"{LABEL}.container-number"
CONFIG_HASH = f"{LABEL}.config-hash"
ONEOFF = f"{LABEL}.oneoff"
WORKING_DIR = f"{LABEL}.project.working_dir"
CONFIG_FILES = f"{LABEL}.project.config_files"
DEPENDS_ON = f"{LABEL}.depends_on"
IMAGE = f"{LABEL}.image"
VERSION = f"{LABEL}.version"
NETWORK = f"{LABEL}.network"
VOLUME = f"{LABEL}.volume"
COMPOSE_VERSION = "2.29.0"  # the Compose behaviour we follow, as Compose writes its version

_NS = 1_000_000_000


@dataclass(frozen=True)
class ProjectMeta:
    """What the labels record of the project: its name, directory and files."""

    name: str
    working_dir: str
    config_files: tuple[str, ...] = ()


def project_labels(project: str) -> dict[str, str]:
    """The label filter that finds every resource of `project`."""
    return {PROJECT: project}


def image_name(project: Project, service: Service) -> str:
    """The image a service runs: its `image`, else the one `build` makes (`<project>-<service>`)."""
    return service.image or f"{project.name}-{service.name}"


def container_name(project: str, service: Service, number: int, *, oneoff: bool = False) -> str:
    """`container_name`, else `<project>-<service>-<n>` (`…-run-<n>` for `compose run`)."""
    if service.container_name and not oneoff:
        return service.container_name
    middle = f"{service.name}-run" if oneoff else service.name
    return f"{project}-{middle}-{number}"


def links(project: Project, service: Service) -> tuple[str, ...]:
    """`links: [db:database]` as the engine's `container:alias` (the first container of db)."""
    out = []
    for link in service.links:
        target, _, alias = link.partition(":")
        other = project.services.get(target)
        if other is not None:
            out.append(f"{container_name(project.name, other, 1)}:{alias or target}")
    return tuple(out)


def depends_on_label(service: Service) -> str:
    """Compose's `depends_on` label: `svc:condition:restart` entries joined by commas."""
    return ",".join(
        f"{d.service}:{d.condition.value}:{str(d.restart).lower()}" for d in service.depends_on
    )


def container_labels(
    meta: ProjectMeta, service: Service, number: int, *, oneoff: bool = False
) -> dict[str, str]:
    """Compose's labels on a container (the service's own labels are added by `to_config`)."""
    return {
        PROJECT: meta.name,
        SERVICE: service.name,
        NUMBER: str(number),
        CONFIG_HASH: config_hash(service),
        ONEOFF: "True" if oneoff else "False",
        WORKING_DIR: meta.working_dir,
        CONFIG_FILES: ",".join(meta.config_files),
        DEPENDS_ON: depends_on_label(service),
        VERSION: COMPOSE_VERSION,
    }


def _health(check: Healthcheck | None) -> EngineHealthcheck | None:
    if check is None:
        return None
    if check.disable or check.test[:1] == ("NONE",):
        return EngineHealthcheck(test=("NONE",))

    def ns(seconds: float | None) -> int:
        return int(seconds * _NS) if seconds else 0

    return EngineHealthcheck(
        test=check.test,
        interval=ns(check.interval),
        timeout=ns(check.timeout),
        start_period=ns(check.start_period),
        retries=check.retries or 0,
        start_interval=ns(check.start_interval),
    )


def _mount(project: Project, mount: VolumeMount) -> MountSpec:
    if mount.type is MountType.BIND:
        return MountSpec(
            type="bind",
            source=mount.source or "",
            target=mount.target,
            readonly=mount.read_only,
            propagation=mount.propagation or "",
        )
    if mount.type is MountType.VOLUME:
        source = ""
        if mount.source is not None:
            volume = project.volumes.get(mount.source)
            # A name the project does not declare is an engine volume used as is (Compose).
            source = volume.name if volume is not None else mount.source
        return MountSpec(
            type="volume",
            source=source,
            target=mount.target,
            readonly=mount.read_only,
            nocopy=mount.nocopy,
        )
    return MountSpec(
        type="tmpfs",
        source="",
        target=mount.target,
        tmpfs_size=mount.tmpfs_size or 0,
        tmpfs_mode=mount.tmpfs_mode or 0,
    )


def _secret_mounts(project: Project, service: Service) -> list[MountSpec]:
    """File secrets at `/run/secrets/<name>` and configs at their target, read-only."""
    out = []
    for grants, known, base in (
        (service.secrets, project.secrets, "/run/secrets/"),
        (service.configs, project.configs, "/"),
    ):
        for grant in grants:
            entry = known.get(grant.source)
            if entry is None or entry.file is None:
                raise InvalidArgument(
                    f'service "{service.name}": secret or config "{grant.source}" has no file; '
                    "only file secrets and configs are supported"
                )
            target = grant.target if grant.target.startswith("/") else base + grant.target
            out.append(MountSpec(type="bind", source=entry.file, target=target, readonly=True))
    return out


def _ports(service: Service) -> tuple[PortBinding, ...]:
    out = []
    for port in service.ports:
        # `ports` always publish (`expose` does not): no host port means a free one (0). A
        # published range means "any free port in it"; the engine takes one port, the first.
        host_port = port.published.start if port.published is not None else 0
        out.append(PortBinding(port.host_ip or "", host_port, port.target, port.protocol.value))
    return tuple(out)


def _exposed(service: Service) -> tuple[str, ...]:
    ports = {f"{p.target}/{p.protocol.value}" for p in service.ports}
    for text in service.expose:
        port, _, proto = text.partition("/")
        ports.add(f"{port}/{proto or 'tcp'}")
    return tuple(sorted(ports))


def _tmpfs(service: Service) -> dict[str, str]:
    return {path: opts for path, _, opts in (t.partition(":") for t in service.tmpfs)}


def _log_config(service: Service) -> LogConfig:
    if service.logging is None:
        return LogConfig()
    driver = service.logging.driver or "json-file"
    if driver != "json-file":
        raise InvalidArgument(
            f'service "{service.name}": logging driver "{driver}" is not supported; use json-file'
        )
    return LogConfig(config={"max-size": "10m", "max-file": "3", **service.logging.options})


def network_mode(
    service: Service, attachments: Sequence[Attachment], container_of: Mapping[str, str]
) -> str:
    """The engine's network mode: `host`/`none`, `container:<id>` for `service:x` (the id from
    `container_of`), else the first network the service is on, else the engine's default."""
    mode = service.network_mode
    if mode:
        if mode.startswith("service:"):
            other = mode.removeprefix("service:")
            if other not in container_of:
                raise InvalidArgument(
                    f'service "{service.name}" uses the network of "{other}", which has no '
                    "container; start it first"
                )
            return f"container:{container_of[other]}"
        return mode
    return attachments[0].network if attachments else "default"


def attachments(project: Project, service: Service, *, networking: bool) -> list[Attachment]:
    """The networks a service's containers join, by priority, each with the service's aliases."""
    if not networking or service.network_mode:
        return []
    ordered = sorted(service.networks, key=lambda n: -n.priority)
    out = []
    for entry in ordered:
        network = project.networks.get(entry.network)
        name = network.name if network is not None else entry.network
        aliases = tuple(dict.fromkeys((service.name, *entry.aliases)))
        out.append(Attachment(name, aliases, entry.ipv4_address, entry.ipv6_address))
    return out


def to_config(
    project: Project,
    service: Service,
    labels: Mapping[str, str],
    *,
    mode: str = "default",
) -> ContainerConfig:
    """The engine configuration of one container of `service`, labelled with `labels`."""
    limits = service.limits
    memory = service.mem_limit or limits.memory or 0
    cpus = service.cpus or limits.cpus
    pids = service.pids_limit if service.pids_limit is not None else limits.pids
    host = HostConfig(
        mounts=tuple(_mount(project, m) for m in service.volumes)
        + tuple(_secret_mounts(project, service)),
        tmpfs=_tmpfs(service),
        network_mode=mode,
        port_bindings=_ports(service),
        restart_policy=RestartPolicy(
            service.restart.value,
            service.restart_max_retries or 0,
        ),
        privileged=service.privileged,
        readonly_rootfs=service.read_only,
        cap_add=normalize_capabilities(service.cap_add, "cap_add"),
        cap_drop=normalize_capabilities(service.cap_drop, "cap_drop"),
        security_opt=service.security_opt,
        memory=memory,
        nano_cpus=int(cpus * _NS) if cpus else 0,
        pids_limit=pids,
        ulimits=tuple(Ulimit(u.name, u.soft, u.hard) for u in service.ulimits),
        dns=service.dns,
        dns_search=service.dns_search,
        dns_options=service.dns_opt,
        extra_hosts=service.extra_hosts,
        init=service.init,
        log_config=_log_config(service),
        shm_size=service.shm_size or 64 << 20,
        sysctls=dict(service.sysctls),
    )
    return ContainerConfig(
        image=image_name(project, service),
        cmd=service.command,
        entrypoint=service.entrypoint,
        env=tuple(f"{k}={v}" for k, v in service.environment.items()),
        working_dir=service.working_dir or "",
        user=service.user or "",
        labels={**service.labels, **labels},
        hostname=service.hostname or "",
        domainname=service.domainname or "",
        tty=service.tty,
        open_stdin=service.stdin_open,
        stop_signal=service.stop_signal or "",
        stop_timeout=None if service.stop_grace_period is None else int(service.stop_grace_period),
        healthcheck=_health(service.healthcheck),
        exposed_ports=_exposed(service),
        volumes=tuple(
            m.target for m in service.volumes if m.type is MountType.VOLUME and m.source is None
        ),
        host=host,
    )
