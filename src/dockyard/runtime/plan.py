"""The init plan: everything the container's processes will do, decided before forking (pure)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dockyard.kernel import constants as k
from dockyard.runtime.cgroup_mounts import plan_cgroup_mount
from dockyard.runtime.cgroups import CgroupLayout
from dockyard.runtime.config import NAMESPACE_FLAGS
from dockyard.runtime.devices import DeviceNode, plan_devices
from dockyard.runtime.errors import BadConfig
from dockyard.runtime.mounts import MountOp, plan_mounts
from dockyard.runtime.rlimits import RlimitSetting, plan_rlimits
from dockyard.runtime.rootfs import binds_dev

if TYPE_CHECKING:
    # Types only: building the TypedDicts costs start-up time.
    from dockyard.oci.runtime_spec import Spec


DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

# setns(2) order: the user namespace first, so that the others are joined with its privileges
_JOIN_ORDER = ("user", "ipc", "uts", "network", "pid", "mount", "cgroup", "time")


@dataclass(frozen=True)
class InitPlan:
    """What the intermediate and init processes must do, in the order they do it."""

    spec: Spec
    rootfs: str
    unshare_flags: int
    new_userns: bool
    join: tuple[tuple[str, str], ...]
    mounts: tuple[MountOp, ...]
    devices: tuple[DeviceNode, ...]
    make_devices: bool
    rlimits: tuple[RlimitSetting, ...]
    env: tuple[str, ...]
    no_pivot: bool
    uid: int
    gid: int
    additional_gids: tuple[int, ...]
    warnings: tuple[str, ...] = field(default=())

    @property
    def new_mountns(self) -> bool:
        return bool(self.unshare_flags & k.CLONE_NEWNS)


def plan_init(
    spec: Spec,
    bundle: str,
    *,
    no_pivot: bool,
    can_raise_rlimits: bool,
    cgroup: tuple[CgroupLayout, str] | None = None,
) -> InitPlan:
    """Validate and turn the spec into an `InitPlan`; raises `BadConfig` naming the field."""
    linux = spec.get("linux", {})
    process = spec["process"]
    flags = 0
    join: list[tuple[str, str]] = []
    for ns in linux.get("namespaces", []):
        if ns.get("path"):
            join.append((ns["type"], ns["path"]))
        else:
            flags |= NAMESPACE_FLAGS[ns["type"]]
    join.sort(key=lambda item: _JOIN_ORDER.index(item[0]))
    joins_mount = any(t == "mount" for t, _ in join)
    if not flags & k.CLONE_NEWNS and not joins_mount:
        raise BadConfig("config.json: a mount namespace is required (add {'type': 'mount'})")
    new_userns = bool(flags & k.CLONE_NEWUSER)
    rlimits = plan_rlimits(process.get("rlimits", []), can_raise_rlimits)
    warnings = tuple(
        f"rlimit {r.name} lowered to the hard limit this process has ({r.hard})"
        for r in rlimits
        if r.clamped
    )
    env = list(process.get("env", []))
    if not any(e.startswith("PATH=") for e in env):
        env.append(f"PATH={DEFAULT_PATH}")
    mounts = plan_mounts(spec.get("mounts", []), bundle)
    if cgroup is not None:
        layout, cgroup_path = cgroup
        cgroupns = bool(flags & k.CLONE_NEWCGROUP)
        expanded: list[MountOp] = []
        for op in mounts:
            if op.fstype in ("cgroup", "cgroup2"):
                expanded.extend(plan_cgroup_mount(op, layout, cgroup_path, cgroupns))
            else:
                expanded.append(op)
        mounts = expanded
    user = process.get("user", {})
    return InitPlan(
        spec=spec,
        rootfs=spec["root"]["path"],
        unshare_flags=flags,
        new_userns=new_userns,
        join=tuple(join),
        mounts=tuple(mounts),
        devices=tuple(plan_devices(linux.get("devices", []))),
        make_devices=not binds_dev(mounts) and not joins_mount,
        rlimits=tuple(rlimits),
        env=tuple(env),
        no_pivot=no_pivot,
        uid=user.get("uid", 0),
        gid=user.get("gid", 0),
        additional_gids=tuple(user.get("additionalGids", [])),
        warnings=warnings,
    )


def resolve_executable(arg0: str, env: tuple[str, ...], cwd: str) -> str:
    """The path execve(2) will run, looked up in the container's PATH as Go's LookPath does."""
    from dockyard.runtime.errors import ExecutableNotFound, ExecutableNotRunnable

    if "/" in arg0:
        candidates = [os.path.join(cwd, arg0)]
    else:
        path = next((e[5:] for e in env if e.startswith("PATH=")), DEFAULT_PATH)
        candidates = [os.path.join(d or ".", arg0) for d in path.split(":")]
    denied = None
    for cand in candidates:
        if os.path.isfile(cand):
            if os.access(cand, os.X_OK):
                return cand
            denied = cand
    if denied:
        raise ExecutableNotRunnable(f"exec {arg0!r}: permission denied")
    if "/" in arg0:
        raise ExecutableNotFound(f"exec {arg0!r}: no such file or directory")
    raise ExecutableNotFound(f"exec {arg0!r}: executable file not found in $PATH")
