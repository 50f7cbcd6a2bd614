"""`ContainerConfig` + image → OCI runtime spec, following moby's `daemon/oci_linux.go`.

Pure: every host fact (resolved mounts, user ids, namespace paths, devices, the seccomp profile)
comes in as an argument, so the whole spec is unit-tested without root.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, Literal

from dockyard.engine.config import (
    DEFAULT_SHM_SIZE,
    ContainerConfig,
    HostConfig,
    ImageConfigView,
    merge_image,
)
from dockyard.engine.envfile import merge_env
from dockyard.engine.options import MountType, parse_security_opt, security_settings
from dockyard.errors import InvalidArgument
from dockyard.image.users import ResolvedUser
from dockyard.oci.defaults import DEFAULT_DEVICE_RULES
from dockyard.oci.runtime_spec import (
    CPU,
    Capabilities,
    Device,
    DeviceCgroup,
    Linux,
    Memory,
    Mount,
    Namespace,
    Process,
    Resources,
    Rlimit,
    Spec,
)

OCI_VERSION = "1.2.0"
DEFAULT_PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
INIT_PATH_IN_CONTAINER = "/dev/init"
CPU_PERIOD = 100_000  # µs; --cpus N becomes quota N * period (moby)

_ROOT = ResolvedUser()  # uid 0, gid 0

# moby oci/defaults.go; /sys/devices/virtual/powercap since Docker 20.10 (CVE-2020-8694).
MASKED_PATHS: tuple[str, ...] = (
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
)
NETWORK_SYSCTLS: Mapping[str, str] = MappingProxyType(
    {"net.ipv4.ip_unprivileged_port_start": "0", "net.ipv4.ping_group_range": "0 2147483647"}
)
READONLY_PATHS: tuple[str, ...] = (
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
)


@dataclass(frozen=True)
class ResolvedMount:
    """A mount whose source is a host path already (a volume is its data directory).

    `options` are extra mount options: a propagation mode for binds, tmpfs data (`size=64m`).
    """

    type: MountType
    source: str
    target: str
    readonly: bool = False
    options: tuple[str, ...] = ()


@dataclass(frozen=True)
class ResolvedDevice:
    """A device node to create in the container, with its cgroup permissions."""

    path: str  # inside the container
    type: Literal["c", "b"]
    major: int
    minor: int
    file_mode: int = 0o666
    uid: int = 0
    gid: int = 0
    permissions: str = "rwm"


def host_device(
    path_on_host: str, path_in_container: str, permissions: str = "rwm"
) -> ResolvedDevice:
    """Stat a host device node for `--device`; a missing or non-device path is an error."""
    try:
        st = os.stat(path_on_host)
    except FileNotFoundError:
        raise InvalidArgument(
            f"--device {path_on_host}: no such device on the host; check the path"
        ) from None
    if stat.S_ISCHR(st.st_mode):
        kind: Literal["c", "b"] = "c"
    elif stat.S_ISBLK(st.st_mode):
        kind = "b"
    else:
        raise InvalidArgument(f"--device {path_on_host}: not a device node; give a /dev path")
    return ResolvedDevice(
        path_in_container,
        kind,
        os.major(st.st_rdev),
        os.minor(st.st_rdev),
        stat.S_IMODE(st.st_mode),
        st.st_uid,
        st.st_gid,
        permissions,
    )


def _default_mounts(shm_size: int) -> list[Mount]:
    # moby oci/defaults.go; /dev/shm gets the container's --shm-size (Docker binds a per-container
    # tmpfs of that size; a tmpfs mounted in place is equivalent).
    return [
        {"destination": "/proc", "type": "proc", "source": "proc",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
        {"destination": "/dev/pts", "type": "devpts", "source": "devpts",
         "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]},
        {"destination": "/sys", "type": "sysfs", "source": "sysfs",
         "options": ["nosuid", "noexec", "nodev", "ro"]},
        {"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
         "options": ["nosuid", "noexec", "nodev", "relatime", "ro"]},
        {"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
         "options": ["nosuid", "noexec", "nodev"]},
        {"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
         "options": ["nosuid", "noexec", "nodev", "mode=1777", f"size={shm_size}"]},
    ]  # fmt: skip


def capability_set(
    cfg: ContainerConfig, all_capabilities: Sequence[str] | None = None
) -> list[str]:
    """Docker's TweakCapabilities: the 14 defaults, `ALL` in add or drop, privileged = all."""
    from dockyard.runtime.capabilities import CAPABILITY_NAMES, DEFAULT_CAPABILITIES

    every = list(all_capabilities if all_capabilities is not None else CAPABILITY_NAMES)
    host = cfg.host
    if host.privileged:
        return every
    adds = [c for c in host.cap_add if c != "ALL"]
    if "ALL" in host.cap_add:
        caps = [c for c in every if c not in host.cap_drop]
    elif "ALL" in host.cap_drop:
        caps = list(adds)
    else:
        caps = [c for c in DEFAULT_CAPABILITIES if c not in host.cap_drop]
        caps += adds
    return list(dict.fromkeys(caps))


def _mount_depth(target: str) -> int:
    return len(os.path.normpath(target).split(os.sep))


def _user_mount(m: ResolvedMount) -> Mount:
    if m.type == "tmpfs":
        # moby: tmpfs mounts start from noexec,nosuid,nodev and the user's data overrides them
        options = _merge_tmpfs_options(["noexec", "nosuid", "nodev", *m.options])
        if m.readonly:
            options.append("ro")
        return {"destination": m.target, "type": "tmpfs", "source": "tmpfs", "options": options}
    propagation = [o for o in m.options if o.lstrip("r") in ("private", "shared", "slave")]
    options = ["rbind", *(propagation or ["rprivate"])]
    options += [o for o in m.options if o not in propagation]
    if m.readonly:
        options.append("ro")
    return {"destination": m.target, "type": "bind", "source": m.source, "options": options}


_TMPFS_OPPOSITES = {
    "rw": "ro", "ro": "rw", "exec": "noexec", "noexec": "exec", "suid": "nosuid",
    "nosuid": "suid", "dev": "nodev", "nodev": "dev",
}  # fmt: skip


def _merge_tmpfs_options(options: Sequence[str]) -> list[str]:
    """moby's MergeTmpfsOptions: the last of opposite flags and of each `key=` wins."""
    out: list[str] = []
    for opt in options:
        key = opt.partition("=")[0] + "=" if "=" in opt else None
        if key is not None:
            out = [o for o in out if not o.startswith(key)]
        else:
            out = [o for o in out if o not in (opt, _TMPFS_OPPOSITES.get(opt))]
        out.append(opt)
    return out


def _mounts(
    cfg: ContainerConfig,
    mounts: Sequence[ResolvedMount],
    files: Mapping[str, str | None],
    init_path: str | None,
) -> list[Mount]:
    host = cfg.host
    shm_size = host.shm_size or DEFAULT_SHM_SIZE  # 0 from old records: the default
    user = list(mounts)
    for target, source in files.items():
        if source is not None:
            # Docker keeps these writable unless the whole root is read-only.
            user.append(ResolvedMount("bind", source, target, host.readonly_rootfs))
    # moby sorts user mounts by destination depth so a parent is mounted before its children.
    user.sort(key=lambda m: _mount_depth(m.target))
    targets = {os.path.normpath(m.target) for m in user}
    spec_mounts: list[Mount] = []
    for m in _default_mounts(shm_size):
        if m["destination"] in targets:
            continue
        if host.privileged and m["destination"] in ("/sys", "/sys/fs/cgroup"):
            m["options"] = [o for o in m["options"] if o != "ro"]
        elif host.readonly_rootfs and m["destination"] not in (
            "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue"
        ) and "ro" not in m["options"]:  # fmt: skip
            m["options"].append("ro")
        spec_mounts.append(m)
    spec_mounts += [_user_mount(m) for m in user]
    if init_path is not None:
        spec_mounts.append(
            {
                "destination": INIT_PATH_IN_CONTAINER,
                "type": "bind",
                "source": init_path,
                "options": ["bind", "ro"],
            }
        )
    return spec_mounts


MIN_MEMORY = 6 << 20  # moby's linuxMinMemory


def validate_resources(host: HostConfig, ncpus: int | None = None) -> None:
    """Reject the resource combinations Docker's daemon rejects; `ncpus` caps `--cpus`."""
    if host.memory and host.memory < MIN_MEMORY:
        raise InvalidArgument("--memory: the minimum memory limit allowed is 6MB; raise it")
    if host.memory_swap and not host.memory:
        raise InvalidArgument("--memory-swap needs --memory too: set both, or neither")
    if host.memory_swap > 0 and host.memory_swap < host.memory:
        raise InvalidArgument(
            "--memory-swap must be at least --memory: raise it, or use -1 for unlimited swap"
        )
    if host.memory and host.memory_reservation > host.memory:
        raise InvalidArgument("--memory-reservation must not exceed --memory: lower it")
    if host.nano_cpus and (host.cpu_quota or host.cpu_period):
        raise InvalidArgument(
            "--cpus conflicts with --cpu-period/--cpu-quota: use one or the other"
        )
    if ncpus is not None and host.nano_cpus > ncpus * 1_000_000_000:
        raise InvalidArgument(
            f"--cpus: the range of CPUs is from 0.01 to {ncpus}.00, as there are only {ncpus} "
            "CPUs available"
        )
    if host.cpu_period and not 1000 <= host.cpu_period <= 1_000_000:
        raise InvalidArgument("--cpu-period must be between 1000 (1ms) and 1000000 (1s)")
    if host.cpu_quota and 0 < host.cpu_quota < 1000:
        raise InvalidArgument("--cpu-quota must be at least 1000 (1ms), or -1 for unlimited")
    if not -1000 <= host.oom_score_adj <= 1000:
        raise InvalidArgument(f"--oom-score-adj {host.oom_score_adj}: use -1000 to 1000")
    if host.shm_size < 0:
        raise InvalidArgument("--shm-size must not be negative")


def _resources(cfg: ContainerConfig, devices: Sequence[ResolvedDevice]) -> Resources:
    host = cfg.host
    res: Resources = {}
    if host.privileged:
        res["devices"] = [{"allow": True, "access": "rwm"}]
    else:
        rules: list[DeviceCgroup] = [DeviceCgroup(**r) for r in DEFAULT_DEVICE_RULES]
        for d in devices:
            rules.append(
                {"allow": True, "type": d.type, "major": d.major, "minor": d.minor,
                 "access": d.permissions}
            )  # fmt: skip
        res["devices"] = rules
    memory: Memory = {}
    if host.memory > 0:
        memory["limit"] = host.memory
        # Docker: MemorySwap 0 means twice the memory limit, -1 unlimited.
        if host.memory_swap == 0:
            memory["swap"] = 2 * host.memory
        else:
            memory["swap"] = host.memory_swap
    if host.memory_reservation > 0:
        memory["reservation"] = host.memory_reservation
    if memory:
        res["memory"] = memory
    cpu: CPU = {}
    if host.cpu_shares:
        cpu["shares"] = host.cpu_shares
    if host.nano_cpus:
        cpu["period"] = CPU_PERIOD
        cpu["quota"] = host.nano_cpus * CPU_PERIOD // 1_000_000_000
    if host.cpu_period:
        cpu["period"] = host.cpu_period
    if host.cpu_quota:
        cpu["quota"] = host.cpu_quota
    if host.cpuset_cpus:
        cpu["cpus"] = host.cpuset_cpus
    if cpu:
        res["cpu"] = cpu
    if host.pids_limit is not None and host.pids_limit > 0:
        res["pids"] = {"limit": host.pids_limit}
    return res


def _namespaces(
    cfg: ContainerConfig, network_ns_path: str | None, cgroupns: bool
) -> list[Namespace]:
    namespaces: list[Namespace] = [{"type": "mount"}]
    mode = cfg.host.network_mode
    if mode.startswith("container:"):
        if not network_ns_path:
            raise InvalidArgument(
                f"--network {mode}: the container's network namespace path is needed; "
                "is that container running?"
            )
        namespaces.append({"type": "network", "path": network_ns_path})
    elif mode != "host":
        ns: Namespace = {"type": "network"}
        if network_ns_path:
            ns["path"] = network_ns_path
        namespaces.append(ns)
    namespaces += [{"type": "uts"}, {"type": "pid"}, {"type": "ipc"}]
    if cgroupns:
        namespaces.append({"type": "cgroup"})
    return namespaces


def build_spec(
    cfg: ContainerConfig,
    image: ImageConfigView,
    *,
    container_id: str,
    rootfs: str,
    mounts: Sequence[ResolvedMount] = (),
    hostname: str,
    user: ResolvedUser = _ROOT,
    resolv_conf: str | None = None,
    hosts: str | None = None,
    hostname_file: str | None = None,
    cgroup_parent: str = "/dockyard",
    cgroupns: bool = False,
    network_ns_path: str | None = None,
    seccomp_profile: Mapping[str, Any] | None = None,
    init_path: str | None = None,
    devices: Sequence[ResolvedDevice] = (),
    all_capabilities: Sequence[str] | None = None,
    ncpus: int | None = None,
) -> Spec:
    """The runtime spec of a container as Docker would run it.

    `mounts` are the resolved -v/--mount/--tmpfs/anonymous volumes; `resolv_conf`, `hosts` and
    `hostname_file` are host files to bind; `network_ns_path` is the namespace to join for
    `--network container:X` (or one prepared by the network layer); `cgroupns` gives a private
    cgroup namespace (Docker's choice on cgroup v2, not on v1); `seccomp_profile` is the
    Docker-format profile to apply (None: no seccomp); `devices` are `--device` nodes, or every
    host device when privileged; `ncpus` (the host's CPU count) bounds `--cpus`.
    """
    merged = merge_image(cfg, image)
    host = cfg.host
    validate_resources(host, ncpus)
    args = [*(merged.entrypoint or ()), *(merged.cmd or ())]
    if not args:
        raise InvalidArgument(
            f"no command specified for image {cfg.image}: give one after the image name "
            "or with --entrypoint"
        )
    if init_path is not None:
        args = [INIT_PATH_IN_CONTAINER, "--", *args]
    base_env = [DEFAULT_PATH_ENV, f"HOSTNAME={hostname}"]
    if cfg.tty:
        base_env.append("TERM=xterm")
    env = merge_env(base_env, merged.env)
    security = security_settings(parse_security_opt(s) for s in host.security_opt)
    caps = capability_set(cfg, all_capabilities)
    capabilities: Capabilities = {
        "bounding": list(caps),
        "effective": list(caps),
        "permitted": list(caps),
    }
    process: Process = {
        "terminal": cfg.tty,
        "user": {"uid": user.uid, "gid": user.gid},
        "args": args,
        "env": env,
        "cwd": merged.working_dir or "/",
        "capabilities": capabilities,
        "noNewPrivileges": security.no_new_privileges,
    }
    if user.additional_gids:
        process["user"]["additionalGids"] = list(user.additional_gids)
    if host.ulimits:
        rlimits: list[Rlimit] = [
            {"type": u.rlimit_type, "soft": u.soft, "hard": u.hard} for u in host.ulimits
        ]
        process["rlimits"] = rlimits
    if host.oom_score_adj:
        process["oomScoreAdj"] = host.oom_score_adj
    files = {"/etc/resolv.conf": resolv_conf, "/etc/hostname": hostname_file, "/etc/hosts": hosts}
    linux: Linux = {
        "namespaces": _namespaces(cfg, network_ns_path, cgroupns),
        "cgroupsPath": f"{cgroup_parent.rstrip('/')}/{container_id}",
        "resources": _resources(cfg, devices),
    }
    if devices:
        spec_devices: list[Device] = [
            {"type": d.type, "path": d.path, "major": d.major, "minor": d.minor,
             "fileMode": d.file_mode, "uid": d.uid, "gid": d.gid}
            for d in devices
        ]  # fmt: skip
        linux["devices"] = spec_devices
    sysctls: dict[str, str] = {}
    if host.network_mode != "host" and not host.network_mode.startswith("container:"):
        # Docker ≥ 20.10 in a private network namespace: ping and ports below 1024 without
        # CAP_NET_RAW / CAP_NET_BIND_SERVICE (moby #41030); the user's --sysctl wins.
        sysctls.update(NETWORK_SYSCTLS)
    sysctls.update(host.sysctls)
    if sysctls:
        linux["sysctl"] = sysctls
    if not host.privileged:
        linux["maskedPaths"] = list(MASKED_PATHS)
        linux["readonlyPaths"] = list(READONLY_PATHS)
        if seccomp_profile is not None and security.seccomp != "unconfined":
            from dockyard.runtime.seccomp_profile import docker_profile_to_spec, native_arch

            linux["seccomp"] = docker_profile_to_spec(seccomp_profile, set(caps), native_arch())
    spec: Spec = {
        "ociVersion": OCI_VERSION,
        "process": process,
        "root": {"path": rootfs, "readonly": host.readonly_rootfs},
        "hostname": hostname,
        "mounts": _mounts(cfg, mounts, files, init_path),
        "linux": linux,
    }
    if cfg.domainname:
        spec["domainname"] = cfg.domainname
    return spec
