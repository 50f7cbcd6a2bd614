"""A `Service` made a container: the engine's `ContainerConfig`, Compose's labels and names,
and the container's network attachments (pure; `cli/run_options.py` does the same from flags).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dockyard.compose.engine_client import Attachment
from dockyard.compose.hash import config_hash
from dockyard.compose.model import (
    Healthcheck,
    MountType,
    Project,
    Service,
    ServiceFile,
    VolumeMount,
)
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


@dataclass(frozen=True)
class GrantFile:
    """A secret or config compose writes itself (from `environment` or `content`) before the
    container is created: `name` inside the container's files directory, with the owner and
    mode the grant asks for (the spec's default: root, 0444)."""

    name: str
    content: str
    uid: int = 0
    gid: int = 0
    mode: int = 0o444


@dataclass(frozen=True)
class Grants:
    """A service's secrets and configs: read-only bind mounts, and the files to write first."""

    mounts: tuple[MountSpec, ...] = ()
    files: tuple[GrantFile, ...] = ()


def _owner(service: Service, grant: ServiceFile, key: str, value: str | None) -> int:
    if value is None:
        return 0
    if not value.isdigit():
        raise InvalidArgument(
            f'service "{service.name}": {key} "{value}" of "{grant.source}" is not a number; '
            "use a numeric id"
        )
    return int(value)


def file_grants(project: Project, service: Service, directory: str) -> Grants:
    """Secrets at `/run/secrets/<name>` (or their target) and configs at `/<name>` (or theirs).

    A `file` source is bind-mounted as it is: like Docker Compose, its uid/gid/mode are not
    applied (that would change the user's own file). An `environment` or `content` source is
    written to `<directory>/<kind>/<n>_<source>` with the grant's uid/gid/mode, then mounted."""
    mounts: list[MountSpec] = []
    files: list[GrantFile] = []
    for kind, grants, known in (
        ("secrets", service.secrets, project.secrets),
        ("configs", service.configs, project.configs),
    ):
        for index, grant in enumerate(grants):
            entry = known.get(grant.source)
            if entry is None:
                raise InvalidArgument(
                    f'service "{service.name}" uses undefined {kind[:-1]} "{grant.source}"; '
                    f"add it under top-level {kind}:"
                )
            if entry.file is not None:
                source = entry.file
            else:
                text = entry.content if entry.content is not None else entry.env_value
                if text is None:
                    raise InvalidArgument(
                        f'{kind[:-1]} "{grant.source}" has no value; give it a file, '
                        "an environment variable that is set, or content"
                    )
                name = f"{kind}/{index}_{grant.source}"
                files.append(
                    GrantFile(
                        name=name,
                        content=text,
                        uid=_owner(service, grant, "uid", grant.uid),
                        gid=_owner(service, grant, "gid", grant.gid),
                        mode=0o444 if grant.mode is None else grant.mode,
                    )
                )
                source = f"{directory}/{name}"
            mounts.append(MountSpec(type="bind", source=source, target=grant.target, readonly=True))
    return Grants(tuple(mounts), tuple(files))


def inherit_anonymous(config: ContainerConfig, previous: Mapping[str, str]) -> ContainerConfig:
    """The new container of a recreated service keeps the old one's anonymous volumes
    (`previous`: target → volume name), as Docker Compose does unless `--renew-anon-volumes`:
    each one whose target the new configuration does not mount from elsewhere (a bind, a named
    volume, a tmpfs) is mounted again by name, so its data survives the recreate."""
    taken = {m.target for m in config.host.mounts if m.type != "volume" or m.source}
    taken |= set(config.host.tmpfs)
    kept = tuple(
        MountSpec(type="volume", source=name, target=target)
        for target, name in sorted(previous.items())
        if target not in taken
    )
    if not kept:
        return config
    reused = {m.target for m in kept}
    mounts = tuple(m for m in config.host.mounts if m.target not in reused) + kept
    return dataclasses.replace(config, host=dataclasses.replace(config.host, mounts=mounts))


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
    files_dir: str = "",
) -> ContainerConfig:
    """The engine configuration of one container of `service`, labelled with `labels`;
    `files_dir` is where its written secrets and configs are (see `file_grants`)."""
    limits = service.limits
    memory = service.mem_limit or limits.memory or 0
    cpus = service.cpus or limits.cpus
    pids = service.pids_limit if service.pids_limit is not None else limits.pids
    host = HostConfig(
        mounts=tuple(_mount(project, m) for m in service.volumes)
        + file_grants(project, service, files_dir).mounts,
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
