"""Expansion of a `cgroup` mount for v1, hybrid and v2 layouts (pure)."""

from __future__ import annotations

from dockyard.kernel import constants as k
from dockyard.runtime.cgroup_mounts import plan_cgroup_mount
from dockyard.runtime.cgroups import CgroupLayout
from dockyard.runtime.mounts import MountOp

FS = "/sys/fs/cgroup"
V1 = {
    "cpu": f"{FS}/cpu",
    "cpuacct": f"{FS}/cpuacct",
    "memory": f"{FS}/memory",
    "net_cls": f"{FS}/net_cls,net_prio",
    "net_prio": f"{FS}/net_cls,net_prio",
    "name=systemd": f"{FS}/systemd",
}
V1_LAYOUT = CgroupLayout(kind="v1", v1=V1)
HYBRID_LAYOUT = CgroupLayout(kind="hybrid", v1=V1, v2=f"{FS}/unified")
V2_LAYOUT = CgroupLayout(kind="v2", v2=FS)

SECURE = k.MS_NOSUID | k.MS_NODEV | k.MS_NOEXEC
DEST = "/sys/fs/cgroup"
CG = "/dockyard/abc"


def _op(extra: int = 0) -> MountOp:
    # `relatime` must not leak into the planned mounts: only the security bits and ro do.
    return MountOp(DEST, "cgroup", "cgroup", SECURE | k.MS_RELATIME | extra, "", ())


def test_v1_with_cgroupns_mounts_each_hierarchy_afresh() -> None:
    plan = plan_cgroup_mount(_op(), V1_LAYOUT, CG, cgroupns=True)
    assert plan == [
        MountOp(DEST, "tmpfs", "tmpfs", SECURE, "mode=755", ()),
        MountOp(f"{DEST}/cpu", "cgroup", "cgroup", SECURE, "cpu", ()),
        MountOp(f"{DEST}/cpuacct", "cgroup", "cgroup", SECURE, "cpuacct", ()),
        MountOp(f"{DEST}/memory", "cgroup", "cgroup", SECURE, "memory", ()),
        MountOp(f"{DEST}/net_cls,net_prio", "cgroup", "cgroup", SECURE, "net_cls,net_prio", ()),
        MountOp(f"{DEST}/systemd", "cgroup", "cgroup", SECURE, "none,name=systemd", ()),
    ]


def test_v1_without_cgroupns_binds_the_containers_own_directory() -> None:
    plan = plan_cgroup_mount(_op(), V1_LAYOUT, CG, cgroupns=False)
    bind = k.MS_BIND | SECURE
    assert plan == [
        MountOp(DEST, "tmpfs", "tmpfs", SECURE, "mode=755", ()),
        MountOp(f"{DEST}/cpu", f"{FS}/cpu/dockyard/abc", "bind", bind, "", ()),
        MountOp(f"{DEST}/cpuacct", f"{FS}/cpuacct/dockyard/abc", "bind", bind, "", ()),
        MountOp(f"{DEST}/memory", f"{FS}/memory/dockyard/abc", "bind", bind, "", ()),
        MountOp(
            f"{DEST}/net_cls,net_prio", f"{FS}/net_cls,net_prio/dockyard/abc", "bind", bind, "", ()
        ),
        MountOp(f"{DEST}/systemd", f"{FS}/systemd/dockyard/abc", "bind", bind, "", ()),
    ]


def test_hybrid_adds_the_unified_hierarchy_last() -> None:
    plan = plan_cgroup_mount(_op(), HYBRID_LAYOUT, CG, cgroupns=True)
    assert plan[:-1] == plan_cgroup_mount(_op(), V1_LAYOUT, CG, cgroupns=True)
    assert plan[-1] == MountOp(f"{DEST}/unified", "cgroup2", "cgroup2", SECURE, "", ())
    bound = plan_cgroup_mount(_op(), HYBRID_LAYOUT, CG, cgroupns=False)
    assert bound[-1] == MountOp(
        f"{DEST}/unified", f"{FS}/unified/dockyard/abc", "bind", k.MS_BIND | SECURE, "", ()
    )


def test_readonly_v1_remounts_the_tmpfs_read_only_at_the_end() -> None:
    plan = plan_cgroup_mount(_op(k.MS_RDONLY), HYBRID_LAYOUT, CG, cgroupns=True)
    # The tmpfs must stay writable until the hierarchies' mount points are made in it.
    assert plan[0] == MountOp(DEST, "tmpfs", "tmpfs", SECURE, "mode=755", ())
    assert all(op.flags & k.MS_RDONLY for op in plan[1:])
    assert plan[-1] == MountOp(
        DEST, "tmpfs", "tmpfs", SECURE | k.MS_RDONLY | k.MS_REMOUNT, "mode=755", ()
    )
    assert len(plan) == 1 + 5 + 1 + 1  # tmpfs, five v1 hierarchies, unified, remount


def test_v2_is_one_mount() -> None:
    assert plan_cgroup_mount(_op(), V2_LAYOUT, CG, cgroupns=True) == [
        MountOp(DEST, "cgroup2", "cgroup2", SECURE, "", ())
    ]
    assert plan_cgroup_mount(_op(k.MS_RDONLY), V2_LAYOUT, CG, cgroupns=False) == [
        MountOp(DEST, f"{FS}/dockyard/abc", "bind", k.MS_BIND | SECURE | k.MS_RDONLY, "", ())
    ]


def test_destination_is_taken_from_the_op() -> None:
    op = MountOp("/cg", "cgroup", "cgroup", 0, "", ())
    plan = plan_cgroup_mount(op, V1_LAYOUT, "/x", cgroupns=True)
    assert [p.destination for p in plan][:2] == ["/cg", "/cg/cpu"]
