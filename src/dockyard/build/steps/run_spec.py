"""The runtime spec of a RUN step: Docker's defaults for a build container, as plain data.

`build/` sits below `engine/` (DESIGN.md), so the spec is made here from the runtime's own
defaults rather than from `engine.spec`: default capabilities, masked paths, the default
seccomp profile, the device cgroup rules of moby's default spec.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dockyard.oci.defaults import DEFAULT_DEVICE_RULES
from dockyard.oci.runtime_spec import DeviceCgroup, Spec

DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class RunSettings:
    """What a RUN container is: argv, environment, directory, ids, network, cgroup."""

    args: tuple[str, ...]
    env: Mapping[str, str]
    cwd: str
    uid: int
    gid: int
    additional_gids: tuple[int, ...]
    network: str  # host | none | default
    hostname: str
    cgroup_parent: str
    netns_path: str = ""  # a prepared namespace to join for `none` (loopback up)


def env_list(env: Mapping[str, str], hostname: str) -> list[str]:
    """The process environment: PATH and HOSTNAME defaults, then the stage's variables."""
    out = {"PATH": DEFAULT_PATH, "HOSTNAME": hostname}
    out.update(env)
    return [f"{k}={v}" for k, v in out.items()]


def run_spec(
    settings: RunSettings,
    container_id: str,
    rootfs: str,
    *,
    capabilities: Sequence[str],
    seccomp: Mapping[str, Any] | None,
    base: Spec,
) -> Spec:
    """`base` (the runtime's default spec) made into a RUN step's spec."""
    spec: Spec = copy.deepcopy(base)
    caps = list(capabilities)
    process = spec["process"]
    process["terminal"] = False
    process["args"] = list(settings.args)
    process["env"] = env_list(settings.env, settings.hostname)
    process["cwd"] = settings.cwd or "/"
    process["user"] = {"uid": settings.uid, "gid": settings.gid}
    if settings.additional_gids:
        process["user"]["additionalGids"] = list(settings.additional_gids)
    process["capabilities"] = {"bounding": caps, "effective": caps, "permitted": caps}
    process["noNewPrivileges"] = False  # setuid tools (su, ping) work in RUN, as in Docker
    process.pop("rlimits", None)  # inherit the builder's limits, as Docker's daemon passes its
    spec["root"] = {"path": rootfs, "readonly": False}
    spec["hostname"] = settings.hostname
    linux = spec["linux"]
    drop = {"cgroup"}  # no cgroup namespace on cgroup v1 (Docker's choice)
    if settings.network == "host":
        drop.add("network")
    linux["namespaces"] = [ns for ns in linux.get("namespaces", []) if ns["type"] not in drop]
    for ns in linux["namespaces"]:
        if ns["type"] == "network" and settings.netns_path:
            ns["path"] = settings.netns_path
    linux["cgroupsPath"] = f"{settings.cgroup_parent.rstrip('/')}/{container_id}"
    linux["resources"] = {"devices": [DeviceCgroup(**r) for r in DEFAULT_DEVICE_RULES]}
    if seccomp is not None:
        linux["seccomp"] = copy.deepcopy(seccomp)  # type: ignore[typeddict-item]
    return spec
