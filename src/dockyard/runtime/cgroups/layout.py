"""Where the cgroup hierarchies are mounted: v2 (unified), v1, or hybrid, read from mountinfo."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from dockyard.errors import Unavailable

LayoutKind = Literal["v1", "v2", "hybrid"]

# Controllers the v1 kernel can bind to a hierarchy; other super options ("rw", "xattr",
# "clone_children", "release_agent=...") are mount options, not controllers.
V1_CONTROLLERS = frozenset(
    {
        "blkio",
        "cpu",
        "cpuacct",
        "cpuset",
        "devices",
        "freezer",
        "hugetlb",
        "memory",
        "misc",
        "net_cls",
        "net_prio",
        "perf_event",
        "pids",
        "rdma",
    }
)


@dataclass(frozen=True)
class CgroupLayout:
    """The host's cgroup mounts.

    `v1` maps each v1 controller (and named hierarchy, e.g. "name=systemd") to its mount point;
    co-mounted controllers ("cpu,cpuacct") share one. `v2` is the cgroup2 mount point, if any.
    """

    kind: LayoutKind
    v1: Mapping[str, str] = field(default_factory=dict, hash=False)
    v2: str | None = None

    def v1_mount_points(self) -> list[str]:
        """Each distinct v1 mount point once, in a stable order."""
        return sorted(set(self.v1.values()))


def _unescape(path: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as \ooo octal (proc(5)).
    out: list[str] = []
    i = 0
    while i < len(path):
        code = path[i + 1 : i + 4]
        if path[i] == "\\" and len(code) == 3 and all(c in "01234567" for c in code):
            out.append(chr(int(code, 8)))
            i += 4
        else:
            out.append(path[i])
            i += 1
    return "".join(out)


def parse_mountinfo(text: str) -> CgroupLayout:
    """Build the layout from mountinfo text; first mount of each hierarchy wins."""
    v1: dict[str, str] = {}
    v2: str | None = None
    for line in text.splitlines():
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields = left.split()
        tail = right.split()
        if len(fields) < 5 or len(tail) < 3:
            continue
        fstype, options = tail[0], tail[2]
        mount_point = _unescape(fields[4])
        if fstype == "cgroup2":
            v2 = v2 or mount_point
        elif fstype == "cgroup":
            for option in options.split(","):
                if option in V1_CONTROLLERS or option.startswith("name="):
                    v1.setdefault(option, mount_point)
    has_v1_controllers = any(not c.startswith("name=") for c in v1)
    if has_v1_controllers:
        return CgroupLayout(kind="hybrid" if v2 else "v1", v1=v1, v2=v2)
    if v2:
        # A lone name=systemd v1 mount next to cgroup2 holds no controllers: still unified.
        return CgroupLayout(kind="v2", v1={}, v2=v2)
    raise Unavailable("no cgroup file system is mounted; mount cgroup2 on /sys/fs/cgroup")


def detect_layout(mountinfo: str | None = None) -> CgroupLayout:
    """Detect the layout from `mountinfo` text, or from /proc/self/mountinfo when None."""
    if mountinfo is None:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
            mountinfo = f.read()
    return parse_mountinfo(mountinfo)
