"""A container's configuration: Docker's `Config` and `HostConfig`, typed and frozen.

`to_docker_json()` gives the shapes `docker inspect` prints (keys spelled as Docker spells
them); `from_docker_json()` reads them back. `merge_image` fills unset fields from the image as
Docker's daemon does at create time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from dockyard.engine.options import (
    RESTART_NAMES,
    DeviceMapping,
    MountSpec,
    PortBinding,
    RestartPolicy,
    Ulimit,
)
from dockyard.errors import InvalidArgument

DEFAULT_LOG_MAX_SIZE = "10m"
DEFAULT_LOG_MAX_FILE = "3"
DEFAULT_SHM_SIZE = 64 << 20  # Docker's default /dev/shm size (64m)


@dataclass(frozen=True)
class Healthcheck:
    """Docker's `Healthcheck`: Test (`["CMD-SHELL", "…"]`, `["CMD", …]`, `["NONE"]`), ns durations.

    Zero durations and retries mean "inherit from the image, else Docker's default".
    """

    test: tuple[str, ...] = ()
    interval: int = 0
    timeout: int = 0
    start_period: int = 0
    retries: int = 0
    start_interval: int = 0  # probes this often during the start period (API 1.44)


@dataclass(frozen=True)
class LogConfig:
    """`--log-driver`/`--log-opt`: only json-file exists; rotation is on by default."""

    type: str = "json-file"
    config: Mapping[str, str] = field(
        default_factory=lambda: {"max-size": DEFAULT_LOG_MAX_SIZE, "max-file": DEFAULT_LOG_MAX_FILE}
    )


@dataclass(frozen=True)
class HostConfig:
    """Docker's `HostConfig`: how the host runs the container (resources, mounts, security)."""

    binds: tuple[str, ...] = ()  # `-v` values as written (bind and named volumes)
    mounts: tuple[MountSpec, ...] = ()  # `--mount` values
    tmpfs: Mapping[str, str] = field(default_factory=dict)  # path → options
    network_mode: str = "default"
    port_bindings: tuple[PortBinding, ...] = ()
    publish_all_ports: bool = False
    restart_policy: RestartPolicy = field(default_factory=RestartPolicy)
    auto_remove: bool = False
    privileged: bool = False
    readonly_rootfs: bool = False
    cap_add: tuple[str, ...] = ()
    cap_drop: tuple[str, ...] = ()
    security_opt: tuple[str, ...] = ()
    memory: int = 0
    memory_swap: int = 0  # 0: twice `memory`; -1: unlimited
    memory_reservation: int = 0
    nano_cpus: int = 0
    cpu_shares: int = 0
    cpu_period: int = 0
    cpu_quota: int = 0
    cpuset_cpus: str = ""
    pids_limit: int | None = None  # None or <= 0: unlimited
    ulimits: tuple[Ulimit, ...] = ()
    devices: tuple[DeviceMapping, ...] = ()
    dns: tuple[str, ...] = ()
    dns_search: tuple[str, ...] = ()
    dns_options: tuple[str, ...] = ()
    extra_hosts: tuple[str, ...] = ()  # "name:ip"
    init: bool | None = None
    log_config: LogConfig = field(default_factory=LogConfig)
    shm_size: int = DEFAULT_SHM_SIZE
    oom_score_adj: int = 0
    sysctls: Mapping[str, str] = field(default_factory=dict)
    group_add: tuple[str, ...] = ()


@dataclass(frozen=True)
class ContainerConfig:
    """Docker's container `Config` plus its `HostConfig`.

    `cmd`/`entrypoint` None means "not given, inherit the image's"; an empty `entrypoint` is
    `--entrypoint ""` (reset the image's entrypoint and command).
    """

    image: str
    cmd: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    env: tuple[str, ...] = ()
    working_dir: str = ""
    user: str = ""
    labels: Mapping[str, str] = field(default_factory=dict)
    hostname: str = ""
    domainname: str = ""
    tty: bool = False
    open_stdin: bool = False
    stdin_once: bool = False
    attach_stdin: bool = False
    attach_stdout: bool = False
    attach_stderr: bool = False
    stop_signal: str = ""
    stop_timeout: int | None = None
    healthcheck: Healthcheck | None = None
    exposed_ports: tuple[str, ...] = ()  # "80/tcp"
    volumes: tuple[str, ...] = ()  # anonymous volume targets
    host: HostConfig = field(default_factory=HostConfig)

    def to_docker_json(self) -> dict[str, Any]:
        """`{"Config": …, "HostConfig": …}` as `docker inspect` shows them."""
        return {"Config": _config_json(self), "HostConfig": _host_json(self.host)}

    @classmethod
    def from_docker_json(cls, doc: Mapping[str, Any]) -> ContainerConfig:
        """Read `{"Config": …, "HostConfig": …}` back; malformed input is InvalidArgument."""
        try:
            return _from_json(doc.get("Config") or {}, doc.get("HostConfig") or {})
        except (KeyError, TypeError, ValueError, AttributeError) as e:
            raise InvalidArgument(f"container config is malformed ({e}): recreate it") from None


@dataclass(frozen=True)
class ImageConfigView:
    """The OCI image config's `config` object, the part a container inherits."""

    env: tuple[str, ...] = ()
    cmd: tuple[str, ...] | None = None
    entrypoint: tuple[str, ...] | None = None
    working_dir: str = ""
    user: str = ""
    exposed_ports: tuple[str, ...] = ()
    volumes: tuple[str, ...] = ()
    stop_signal: str = ""
    healthcheck: Healthcheck | None = None
    labels: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_oci(cls, config: Mapping[str, Any] | None) -> ImageConfigView:
        """From an image config's `config` object (Docker's capitalised keys)."""
        c = config or {}
        return cls(
            env=tuple(c.get("Env") or ()),
            cmd=_opt_tuple(c.get("Cmd")),
            entrypoint=_opt_tuple(c.get("Entrypoint")),
            working_dir=c.get("WorkingDir") or "",
            user=c.get("User") or "",
            exposed_ports=tuple(sorted(c.get("ExposedPorts") or {})),
            volumes=tuple(sorted(c.get("Volumes") or {})),
            stop_signal=c.get("StopSignal") or "",
            healthcheck=_health_from(c.get("Healthcheck")),
            labels=dict(c.get("Labels") or {}),
        )


def _env_key(entry: str) -> str:
    return entry.partition("=")[0]


def merge_image(cfg: ContainerConfig, image: ImageConfigView) -> ContainerConfig:
    """Fill what the user left unset from the image, as moby's `daemon.merge` does."""
    cmd, entrypoint = cfg.cmd, cfg.entrypoint
    if entrypoint == ("",):  # the API's spelling of `--entrypoint ""`
        entrypoint = ()
    # An entrypoint given at run time, even an empty one, drops the image's Cmd (Docker's
    # CLI sends `--entrypoint ""` as [""], which daemon.merge does not treat as unset).
    if entrypoint is None:
        entrypoint = image.entrypoint
        if not cmd:
            cmd = image.cmd
    env = list(cfg.env)
    user_keys = {_env_key(e) for e in env}
    env += [e for e in image.env if _env_key(e) not in user_keys]
    labels = {**image.labels, **cfg.labels}
    health = cfg.healthcheck
    if image.healthcheck is not None:
        if health is None:
            health = image.healthcheck
        else:
            base = image.healthcheck
            health = Healthcheck(
                health.test or base.test,
                health.interval or base.interval,
                health.timeout or base.timeout,
                health.start_period or base.start_period,
                health.retries or base.retries,
                health.start_interval or base.start_interval,
            )
    return replace(
        cfg,
        cmd=cmd,
        entrypoint=entrypoint,
        env=tuple(env),
        working_dir=cfg.working_dir or image.working_dir,
        user=cfg.user or image.user,
        labels=labels,
        exposed_ports=tuple(sorted({*image.exposed_ports, *cfg.exposed_ports})),
        volumes=tuple(sorted({*image.volumes, *cfg.volumes})),
        stop_signal=cfg.stop_signal or image.stop_signal,
        healthcheck=health,
    )


def process_args(cfg: ContainerConfig, image: ImageConfigView, image_name: str = "") -> list[str]:
    """Entrypoint + Cmd as Docker combines them; no command at all is an error."""
    merged = merge_image(cfg, image)
    args = [*(merged.entrypoint or ()), *(merged.cmd or ())]
    if not args:
        raise InvalidArgument(
            f"no command specified for image {image_name or cfg.image}: give one after the image "
            "name or with --entrypoint"
        )
    return args


# --- JSON ---------------------------------------------------------------------------------


def _opt_list(value: tuple[str, ...] | None) -> list[str] | None:
    return None if value is None else list(value)


def _opt_tuple(value: Sequence[str] | None) -> tuple[str, ...] | None:
    return None if value is None else tuple(str(v) for v in value)


def _health_json(h: Healthcheck) -> dict[str, Any]:
    return {
        "Test": list(h.test),
        "Interval": h.interval,
        "Timeout": h.timeout,
        "StartPeriod": h.start_period,
        "Retries": h.retries,
        "StartInterval": h.start_interval,
    }


def _health_from(doc: Mapping[str, Any] | None) -> Healthcheck | None:
    if doc is None:
        return None
    return Healthcheck(
        tuple(doc.get("Test") or ()),
        int(doc.get("Interval") or 0),
        int(doc.get("Timeout") or 0),
        int(doc.get("StartPeriod") or 0),
        int(doc.get("Retries") or 0),
        int(doc.get("StartInterval") or 0),
    )


def _config_json(c: ContainerConfig) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "Hostname": c.hostname,
        "Domainname": c.domainname,
        "User": c.user,
        "AttachStdin": c.attach_stdin,
        "AttachStdout": c.attach_stdout,
        "AttachStderr": c.attach_stderr,
        "ExposedPorts": {p: {} for p in c.exposed_ports} or None,
        "Tty": c.tty,
        "OpenStdin": c.open_stdin,
        "StdinOnce": c.stdin_once,
        "Env": list(c.env) or None,
        "Cmd": _opt_list(c.cmd),
        "Image": c.image,
        "Volumes": {v: {} for v in c.volumes} or None,
        "WorkingDir": c.working_dir,
        "Entrypoint": _opt_list(c.entrypoint),
        "OnBuild": None,
        "Labels": dict(c.labels),
    }
    if c.healthcheck is not None:
        doc["Healthcheck"] = _health_json(c.healthcheck)
    if c.stop_signal:
        doc["StopSignal"] = c.stop_signal
    if c.stop_timeout is not None:
        doc["StopTimeout"] = c.stop_timeout
    return doc


def _mount_json(m: MountSpec) -> dict[str, Any]:
    doc: dict[str, Any] = {"Type": m.type, "Source": m.source, "Target": m.target}
    if m.readonly:
        doc["ReadOnly"] = True
    if m.type == "bind" and m.propagation:
        doc["BindOptions"] = {"Propagation": m.propagation}
    if m.type == "volume" and (m.nocopy or m.volume_options):
        doc["VolumeOptions"] = {
            "NoCopy": m.nocopy,
            "DriverConfig": {"Name": "local", "Options": dict(m.volume_options)},
        }
    if m.type == "tmpfs" and (m.tmpfs_size or m.tmpfs_mode):
        doc["TmpfsOptions"] = {"SizeBytes": m.tmpfs_size, "Mode": m.tmpfs_mode}
    return doc


def _mount_from(doc: Mapping[str, Any]) -> MountSpec:
    kind = doc["Type"]
    if kind not in ("bind", "volume", "tmpfs"):
        raise ValueError(f"mount type {kind!r}")
    vol = doc.get("VolumeOptions") or {}
    tmpfs = doc.get("TmpfsOptions") or {}
    return MountSpec(
        type=kind,
        source=doc.get("Source") or "",
        target=doc["Target"],
        readonly=bool(doc.get("ReadOnly")),
        propagation=(doc.get("BindOptions") or {}).get("Propagation") or "",
        nocopy=bool(vol.get("NoCopy")),
        volume_options=tuple(((vol.get("DriverConfig") or {}).get("Options") or {}).items()),
        tmpfs_size=int(tmpfs.get("SizeBytes") or 0),
        tmpfs_mode=int(tmpfs.get("Mode") or 0),
    )


def _port_bindings_json(bindings: Sequence[PortBinding]) -> dict[str, list[dict[str, str]]]:
    doc: dict[str, list[dict[str, str]]] = {}
    for b in bindings:
        host_port = str(b.host_port) if b.host_port else ""
        doc.setdefault(f"{b.container_port}/{b.proto}", []).append(
            {"HostIp": b.host_ip, "HostPort": host_port}
        )
    return doc


def _port_bindings_from(doc: Mapping[str, Any]) -> tuple[PortBinding, ...]:
    out = []
    for key, bindings in doc.items():
        port, _, proto = key.partition("/")
        if proto not in ("tcp", "udp", "sctp"):
            raise ValueError(f"port protocol {proto!r}")
        for b in bindings or ():
            out.append(
                PortBinding(b.get("HostIp") or "", int(b.get("HostPort") or 0), int(port), proto)  # type: ignore[arg-type]
            )
    return tuple(out)


def _host_json(h: HostConfig) -> dict[str, Any]:
    return {
        "Binds": list(h.binds) or None,
        "LogConfig": {"Type": h.log_config.type, "Config": dict(h.log_config.config)},
        "NetworkMode": h.network_mode,
        "PortBindings": _port_bindings_json(h.port_bindings),
        "RestartPolicy": {
            "Name": h.restart_policy.name,
            "MaximumRetryCount": h.restart_policy.max_retries,
        },
        "AutoRemove": h.auto_remove,
        "CapAdd": list(h.cap_add) or None,
        "CapDrop": list(h.cap_drop) or None,
        "Dns": list(h.dns),
        "DnsOptions": list(h.dns_options),
        "DnsSearch": list(h.dns_search),
        "ExtraHosts": list(h.extra_hosts) or None,
        "GroupAdd": list(h.group_add) or None,
        "OomScoreAdj": h.oom_score_adj,
        "Privileged": h.privileged,
        "PublishAllPorts": h.publish_all_ports,
        "ReadonlyRootfs": h.readonly_rootfs,
        "SecurityOpt": list(h.security_opt) or None,
        "Tmpfs": dict(h.tmpfs) or None,
        "ShmSize": h.shm_size,
        "Sysctls": dict(h.sysctls) or None,
        "CpuShares": h.cpu_shares,
        "Memory": h.memory,
        "NanoCpus": h.nano_cpus,
        "CpuPeriod": h.cpu_period,
        "CpuQuota": h.cpu_quota,
        "CpusetCpus": h.cpuset_cpus,
        "Devices": [
            {
                "PathOnHost": d.path_on_host,
                "PathInContainer": d.path_in_container,
                "CgroupPermissions": d.permissions,
            }
            for d in h.devices
        ],
        "MemoryReservation": h.memory_reservation,
        "MemorySwap": h.memory_swap,
        "PidsLimit": h.pids_limit,
        "Ulimits": [{"Name": u.name, "Hard": u.hard, "Soft": u.soft} for u in h.ulimits] or None,
        "Init": h.init,
        "Mounts": [_mount_json(m) for m in h.mounts] or None,
    }


def _from_json(c: Mapping[str, Any], h: Mapping[str, Any]) -> ContainerConfig:
    restart = h.get("RestartPolicy") or {}
    name = restart.get("Name") or "no"
    if name not in RESTART_NAMES:
        raise ValueError(f"restart policy {name!r}")
    policy = RestartPolicy(name, int(restart.get("MaximumRetryCount") or 0))
    log = h.get("LogConfig") or {}
    host = HostConfig(
        binds=tuple(h.get("Binds") or ()),
        mounts=tuple(_mount_from(m) for m in h.get("Mounts") or ()),
        tmpfs=dict(h.get("Tmpfs") or {}),
        network_mode=h.get("NetworkMode") or "default",
        port_bindings=_port_bindings_from(h.get("PortBindings") or {}),
        publish_all_ports=bool(h.get("PublishAllPorts")),
        restart_policy=policy,
        auto_remove=bool(h.get("AutoRemove")),
        privileged=bool(h.get("Privileged")),
        readonly_rootfs=bool(h.get("ReadonlyRootfs")),
        cap_add=tuple(h.get("CapAdd") or ()),
        cap_drop=tuple(h.get("CapDrop") or ()),
        security_opt=tuple(h.get("SecurityOpt") or ()),
        memory=int(h.get("Memory") or 0),
        memory_swap=int(h.get("MemorySwap") or 0),
        memory_reservation=int(h.get("MemoryReservation") or 0),
        nano_cpus=int(h.get("NanoCpus") or 0),
        cpu_shares=int(h.get("CpuShares") or 0),
        cpu_period=int(h.get("CpuPeriod") or 0),
        cpu_quota=int(h.get("CpuQuota") or 0),
        cpuset_cpus=h.get("CpusetCpus") or "",
        pids_limit=None if h.get("PidsLimit") is None else int(h["PidsLimit"]),
        ulimits=tuple(
            Ulimit(u["Name"], int(u["Soft"]), int(u["Hard"])) for u in h.get("Ulimits") or ()
        ),
        devices=tuple(
            DeviceMapping(d["PathOnHost"], d["PathInContainer"], d.get("CgroupPermissions") or "")
            for d in h.get("Devices") or ()
        ),
        dns=tuple(h.get("Dns") or ()),
        dns_search=tuple(h.get("DnsSearch") or ()),
        dns_options=tuple(h.get("DnsOptions") or ()),
        extra_hosts=tuple(h.get("ExtraHosts") or ()),
        init=h.get("Init"),
        log_config=LogConfig(log.get("Type") or "json-file", dict(log.get("Config") or {})),
        shm_size=int(h.get("ShmSize") or DEFAULT_SHM_SIZE),
        oom_score_adj=int(h.get("OomScoreAdj") or 0),
        sysctls=dict(h.get("Sysctls") or {}),
        group_add=tuple(h.get("GroupAdd") or ()),
    )
    return ContainerConfig(
        image=c.get("Image") or "",
        cmd=_opt_tuple(c.get("Cmd")),
        entrypoint=_opt_tuple(c.get("Entrypoint")),
        env=tuple(c.get("Env") or ()),
        working_dir=c.get("WorkingDir") or "",
        user=c.get("User") or "",
        labels=dict(c.get("Labels") or {}),
        hostname=c.get("Hostname") or "",
        domainname=c.get("Domainname") or "",
        tty=bool(c.get("Tty")),
        open_stdin=bool(c.get("OpenStdin")),
        stdin_once=bool(c.get("StdinOnce")),
        attach_stdin=bool(c.get("AttachStdin")),
        attach_stdout=bool(c.get("AttachStdout")),
        attach_stderr=bool(c.get("AttachStderr")),
        stop_signal=c.get("StopSignal") or "",
        stop_timeout=None if c.get("StopTimeout") is None else int(c["StopTimeout"]),
        healthcheck=_health_from(c.get("Healthcheck")),
        exposed_ports=tuple(c.get("ExposedPorts") or ()),
        volumes=tuple(c.get("Volumes") or ()),
        host=host,
    )


@dataclass(frozen=True)
class NetworkAttachment:
    """A network a container joins at start: its name, the container's aliases there, an IP."""

    name: str
    aliases: tuple[str, ...] = ()
    ipv4: str | None = None
    ipv6: str | None = None
