"""The typed Compose project: what every layer below `compose/` reads, never a raw dict.

Words: a *service* is a template for containers; `Project.services` holds only the services
enabled by the active profiles. Durations are seconds (float), sizes bytes (int), paths absolute.
Mappings are read-only views; these objects are immutable but not hashable.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

V = TypeVar("V")


def frozen_map(items: Mapping[str, V] | None = None) -> Mapping[str, V]:
    """A read-only copy of `items`."""
    return MappingProxyType(dict(items or {}))


def _empty() -> Mapping[str, Any]:
    return MappingProxyType({})


class Protocol(enum.Enum):
    """Transport protocol of a published port."""

    TCP = "tcp"
    UDP = "udp"
    SCTP = "sctp"


class MountType(enum.Enum):
    """Kind of a service volume."""

    BIND = "bind"
    VOLUME = "volume"
    TMPFS = "tmpfs"


class Condition(enum.Enum):
    """What `depends_on` waits for before starting the dependent service."""

    SERVICE_STARTED = "service_started"
    SERVICE_HEALTHY = "service_healthy"
    SERVICE_COMPLETED_SUCCESSFULLY = "service_completed_successfully"


class RestartPolicy(enum.Enum):
    """The `restart` key."""

    NO = "no"
    ALWAYS = "always"
    ON_FAILURE = "on-failure"
    UNLESS_STOPPED = "unless-stopped"


class PullPolicy(enum.Enum):
    """The `pull_policy` key (`if_not_present` is read as `missing`)."""

    ALWAYS = "always"
    NEVER = "never"
    MISSING = "missing"
    BUILD = "build"


class EnvFileFormat(enum.Enum):
    """`env_file.format`: dotenv rules, or every value taken as written."""

    DOTENV = "dotenv"
    RAW = "raw"


@dataclass(frozen=True)
class PortRange:
    """An inclusive host port range; `start == end` for a single port."""

    start: int
    end: int

    def __str__(self) -> str:
        return str(self.start) if self.start == self.end else f"{self.start}-{self.end}"


@dataclass(frozen=True)
class PortMapping:
    """One container port, published on the host when `published` is set."""

    target: int
    published: PortRange | None = None
    host_ip: str | None = None
    protocol: Protocol = Protocol.TCP
    name: str | None = None
    app_protocol: str | None = None


@dataclass(frozen=True)
class VolumeMount:
    """A service volume; `source` is absolute for binds, a project volume key for named ones,
    None for anonymous volumes and tmpfs."""

    type: MountType
    target: str
    source: str | None = None
    read_only: bool = False
    propagation: str | None = None
    create_host_path: bool = True
    nocopy: bool = False
    subpath: str | None = None
    tmpfs_size: int | None = None
    tmpfs_mode: int | None = None


@dataclass(frozen=True)
class ServiceNetwork:
    """A service's attachment to a project network (by key)."""

    network: str
    aliases: tuple[str, ...] = ()
    ipv4_address: str | None = None
    ipv6_address: str | None = None
    priority: int = 0


@dataclass(frozen=True)
class Dependency:
    """`depends_on` entry: start `service` first and wait for `condition`."""

    service: str
    condition: Condition = Condition.SERVICE_STARTED
    restart: bool = False
    required: bool = True


@dataclass(frozen=True)
class Healthcheck:
    """`test` is `("CMD", …)`, `("CMD-SHELL", cmd)` or `("NONE",)`; durations in seconds."""

    test: tuple[str, ...] = ()
    interval: float | None = None
    timeout: float | None = None
    start_period: float | None = None
    start_interval: float | None = None
    retries: int | None = None
    disable: bool = False


@dataclass(frozen=True)
class Build:
    """How to build the service's image; `context` is absolute or a URL."""

    context: str
    dockerfile: str | None = None
    dockerfile_inline: str | None = None
    args: Mapping[str, str | None] = field(default_factory=_empty)
    target: str | None = None
    labels: Mapping[str, str] = field(default_factory=_empty)


@dataclass(frozen=True)
class Ulimit:
    """A resource limit (`nofile`, `nproc`, …)."""

    name: str
    soft: int
    hard: int


@dataclass(frozen=True)
class Logging:
    """The log driver and its options."""

    driver: str | None = None
    options: Mapping[str, str] = field(default_factory=_empty)


@dataclass(frozen=True)
class Resources:
    """`deploy.resources.limits` / `reservations`: cpus, memory in bytes, pids."""

    cpus: float | None = None
    memory: int | None = None
    pids: int | None = None


@dataclass(frozen=True)
class ServiceFile:
    """A secret or config granted to a service, mounted read-only at `target`."""

    source: str
    target: str
    uid: str | None = None
    gid: str | None = None
    mode: int | None = None


@dataclass(frozen=True)
class Service:
    """One service, normalised: every default applied, every list/map form made one form."""

    name: str
    image: str | None = None
    build: Build | None = None
    command: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    environment: Mapping[str, str] = field(default_factory=_empty)
    ports: tuple[PortMapping, ...] = ()
    expose: tuple[str, ...] = ()
    volumes: tuple[VolumeMount, ...] = ()
    networks: tuple[ServiceNetwork, ...] = ()
    network_mode: str | None = None
    links: tuple[str, ...] = ()
    depends_on: tuple[Dependency, ...] = ()
    healthcheck: Healthcheck | None = None
    restart: RestartPolicy = RestartPolicy.NO
    restart_max_retries: int | None = None
    container_name: str | None = None
    hostname: str | None = None
    domainname: str | None = None
    user: str | None = None
    working_dir: str | None = None
    labels: Mapping[str, str] = field(default_factory=_empty)
    extra_hosts: tuple[str, ...] = ()
    dns: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    dns_opt: tuple[str, ...] = ()
    init: bool | None = None
    read_only: bool = False
    tmpfs: tuple[str, ...] = ()
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    privileged: bool = False
    security_opt: tuple[str, ...] = ()
    sysctls: Mapping[str, str] = field(default_factory=_empty)
    ulimits: tuple[Ulimit, ...] = ()
    mem_limit: int | None = None
    cpus: float | None = None
    pids_limit: int | None = None
    shm_size: int | None = None
    limits: Resources = field(default_factory=Resources)
    reservations: Resources = field(default_factory=Resources)
    replicas: int = 1
    stop_signal: str | None = None
    stop_grace_period: float | None = None
    stdin_open: bool = False
    tty: bool = False
    profiles: tuple[str, ...] = ()
    pull_policy: PullPolicy = PullPolicy.MISSING
    logging: Logging | None = None
    secrets: tuple[ServiceFile, ...] = ()
    configs: tuple[ServiceFile, ...] = ()


@dataclass(frozen=True)
class IpamPool:
    """One IPAM address pool of a network."""

    subnet: str | None = None
    ip_range: str | None = None
    gateway: str | None = None


@dataclass(frozen=True)
class Network:
    """A project network; `name` is the engine-level name (`<project>_<key>` unless set)."""

    key: str
    name: str
    driver: str | None = None
    driver_opts: Mapping[str, str] = field(default_factory=_empty)
    external: bool = False
    internal: bool = False
    enable_ipv6: bool = False
    ipam_driver: str | None = None
    ipam: tuple[IpamPool, ...] = ()
    labels: Mapping[str, str] = field(default_factory=_empty)


@dataclass(frozen=True)
class Volume:
    """A named project volume; `name` is the engine-level name (`<project>_<key>` unless set)."""

    key: str
    name: str
    driver: str | None = None
    driver_opts: Mapping[str, str] = field(default_factory=_empty)
    external: bool = False
    labels: Mapping[str, str] = field(default_factory=_empty)


@dataclass(frozen=True)
class Secret:
    """A project secret: from a file (absolute path), an environment variable or inline content."""

    key: str
    name: str
    file: str | None = None
    environment: str | None = None
    content: str | None = None
    external: bool = False
    # The value of `environment` when the project was loaded (shell, then `.env`); None when
    # unset. Kept apart from `environment` so `config` never prints a secret's value.
    env_value: str | None = None


@dataclass(frozen=True)
class Config(Secret):
    """A project config: the same sources as a secret, mounted at `/<name>` by default."""


@dataclass(frozen=True)
class Project:
    """A loaded project: its name, directory and the enabled services in file order."""

    name: str
    working_dir: str
    services: Mapping[str, Service]
    networks: Mapping[str, Network] = field(default_factory=_empty)
    volumes: Mapping[str, Volume] = field(default_factory=_empty)
    secrets: Mapping[str, Secret] = field(default_factory=_empty)
    configs: Mapping[str, Config] = field(default_factory=_empty)
    disabled_services: tuple[str, ...] = ()
