"""Parsers for `dockyard run` flag values, each as Docker's CLI reads them.

Every parser is pure and raises `InvalidArgument` with one line naming the flag, the value and
the fix. Results are frozen dataclasses or plain values ready for `engine.config`.

One module per family of flags: `values` (sizes, CPUs, integers, ulimits, restart policy,
durations, signals, cpusets, labels, sysctls), `security` (user, security options,
capabilities), `network` (network mode, extra hosts, published and exposed ports) and `mounts`
(volumes, mounts, tmpfs, devices). This package re-exports their public names.
"""

from __future__ import annotations

from dockyard.engine.options.mounts import (
    PROPAGATIONS,
    DeviceMapping,
    MountSpec,
    MountType,
    parse_device,
    parse_mount,
    parse_tmpfs,
    parse_volume,
)
from dockyard.engine.options.network import (
    HOST_GATEWAY,
    NetworkKind,
    NetworkMode,
    PortBinding,
    Proto,
    parse_add_host,
    parse_expose,
    parse_network,
    parse_publish,
)
from dockyard.engine.options.security import (
    SecurityOpt,
    SecuritySettings,
    UserSpec,
    normalize_capabilities,
    parse_security_opt,
    parse_user,
    security_settings,
)
from dockyard.engine.options.values import (
    RESTART_NAMES,
    ULIMIT_NAMES,
    RestartName,
    RestartPolicy,
    Ulimit,
    parse_bytes,
    parse_cpus,
    parse_cpuset,
    parse_duration,
    parse_int,
    parse_label,
    parse_restart,
    parse_signal,
    parse_sysctl,
    parse_ulimit,
    read_label_file,
)

__all__ = [
    "HOST_GATEWAY",
    "PROPAGATIONS",
    "RESTART_NAMES",
    "ULIMIT_NAMES",
    "DeviceMapping",
    "MountSpec",
    "MountType",
    "NetworkKind",
    "NetworkMode",
    "PortBinding",
    "Proto",
    "RestartName",
    "RestartPolicy",
    "SecurityOpt",
    "SecuritySettings",
    "Ulimit",
    "UserSpec",
    "normalize_capabilities",
    "parse_add_host",
    "parse_bytes",
    "parse_cpus",
    "parse_cpuset",
    "parse_device",
    "parse_duration",
    "parse_expose",
    "parse_int",
    "parse_label",
    "parse_mount",
    "parse_network",
    "parse_publish",
    "parse_restart",
    "parse_security_opt",
    "parse_signal",
    "parse_sysctl",
    "parse_tmpfs",
    "parse_ulimit",
    "parse_user",
    "parse_volume",
    "read_label_file",
    "security_settings",
]
