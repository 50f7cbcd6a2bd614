"""The `cgroup` mount type: what the container sees at /sys/fs/cgroup, planned as plain mounts.

In a private cgroup namespace the hierarchies are mounted afresh (their root is the container's
cgroup); otherwise the container's own directory in each hierarchy is bound, as runc does.
"""

from __future__ import annotations

import os
from collections import defaultdict

from dockyard.kernel import constants as k
from dockyard.runtime.cgroups import CgroupLayout
from dockyard.runtime.mounts import MountOp


def plan_cgroup_mount(
    op: MountOp, layout: CgroupLayout, cgroup_path: str, cgroupns: bool
) -> list[MountOp]:
    """Expand one `cgroup`/`cgroup2` mount into the mounts that make it."""
    flags = op.flags & (k.MS_NOSUID | k.MS_NODEV | k.MS_NOEXEC | k.MS_RDONLY)
    rel = cgroup_path.lstrip("/")
    if layout.kind == "v2":
        assert layout.v2 is not None
        return [
            _one(
                op.destination,
                layout.v2,
                rel=rel,
                fstype="cgroup2",
                options="",
                flags=flags,
                cgroupns=cgroupns,
            )
        ]
    plan = [
        MountOp(op.destination, "tmpfs", "tmpfs", flags & ~k.MS_RDONLY, "mode=755", ()),
    ]
    by_mount: dict[str, list[str]] = defaultdict(list)
    for controller, mount_point in layout.v1.items():
        by_mount[mount_point].append(controller)
    for mount_point in sorted(by_mount):
        controllers = sorted(by_mount[mount_point])
        options = ",".join(
            ["none", *controllers]
            if any(c.startswith("name=") for c in controllers)
            else controllers
        )
        dest = os.path.join(op.destination, os.path.basename(mount_point))
        plan.append(
            _one(
                dest,
                mount_point,
                rel=rel,
                fstype="cgroup",
                options=options,
                flags=flags,
                cgroupns=cgroupns,
            )
        )
    if layout.v2 is not None:
        dest = os.path.join(op.destination, os.path.basename(layout.v2))
        plan.append(
            _one(
                dest,
                layout.v2,
                rel=rel,
                fstype="cgroup2",
                options="",
                flags=flags,
                cgroupns=cgroupns,
            )
        )
    if flags & k.MS_RDONLY:
        plan.append(MountOp(op.destination, "tmpfs", "tmpfs", flags | k.MS_REMOUNT, "mode=755", ()))
    return plan


def _one(
    dest: str, mount_point: str, *, rel: str, fstype: str, options: str, flags: int, cgroupns: bool
) -> MountOp:
    if cgroupns:
        return MountOp(dest, fstype, fstype, flags, options, ())
    return MountOp(dest, os.path.join(mount_point, rel), "bind", k.MS_BIND | flags, "", ())
