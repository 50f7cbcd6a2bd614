"""Layout detection from sample mount tables, and cgroup path resolution."""

from __future__ import annotations

import pytest

from dockyard.errors import InvalidArgument, Unavailable
from dockyard.runtime.cgroups import detect_layout, resolve_path

HYBRID = """\
22 27 0:21 / /proc rw,relatime - proc proc rw
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
34 31 0:31 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
"""

V1 = """\
25 18 0:22 / /sys/fs/cgroup ro,nosuid - tmpfs tmpfs ro,mode=755
26 25 0:23 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd
29 25 0:26 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct
30 25 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory
31 25 0:28 / /sys/fs/cgroup/net_cls,net_prio rw - cgroup cgroup rw,net_cls,net_prio
32 25 0:29 / /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer,release_agent=/x
"""

V2 = """\
24 18 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime - cgroup2 cgroup2 rw,nsdelegate
"""


def test_hybrid_maps_each_v1_controller_and_the_unified_mount() -> None:
    layout = detect_layout(HYBRID)
    assert layout.kind == "hybrid"
    assert layout.v2 == "/sys/fs/cgroup/unified"
    assert layout.v1["cpu"] == "/sys/fs/cgroup/cpu"
    assert layout.v1["cpuacct"] == "/sys/fs/cgroup/cpuacct"
    assert layout.v1["name=systemd"] == "/sys/fs/cgroup/systemd"
    assert "rw" not in layout.v1


def test_v1_comounted_controllers_share_a_mount_point() -> None:
    layout = detect_layout(V1)
    assert layout.kind == "v1"
    assert layout.v2 is None
    assert layout.v1["cpu"] == layout.v1["cpuacct"] == "/sys/fs/cgroup/cpu,cpuacct"
    assert layout.v1["freezer"] == "/sys/fs/cgroup/freezer"
    assert "xattr" not in layout.v1
    assert layout.v1_mount_points().count("/sys/fs/cgroup/cpu,cpuacct") == 1


def test_v2_unified() -> None:
    layout = detect_layout(V2)
    assert layout.kind == "v2"
    assert layout.v2 == "/sys/fs/cgroup"
    assert dict(layout.v1) == {}


def test_named_hierarchy_alone_next_to_cgroup2_is_still_v2() -> None:
    text = V2 + "30 25 0:27 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,name=systemd\n"
    assert detect_layout(text).kind == "v2"


def test_escaped_mount_point_is_decoded() -> None:
    text = "24 18 0:22 / /tmp/my\\040cgroup rw - cgroup2 cgroup2 rw\n"
    assert detect_layout(text).v2 == "/tmp/my cgroup"


def test_no_cgroup_mount_is_unavailable() -> None:
    with pytest.raises(Unavailable):
        detect_layout("22 27 0:21 / /proc rw,relatime - proc proc rw\n")


def test_real_mountinfo_is_read_when_none_given() -> None:
    assert detect_layout().kind in ("v1", "v2", "hybrid")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (None, "/dockyard/abc"),
        ("", "/dockyard/abc"),
        ("/custom/path", "/custom/path"),
        ("relative/path", "/relative/path"),
        ("//a/./b//", "/a/b"),
    ],
)
def test_resolve_path(given: str | None, expected: str) -> None:
    assert resolve_path(given, "abc") == expected


@pytest.mark.parametrize("bad", ["/a/../b", "..", "/", "a/.."])
def test_resolve_path_rejects_escapes_and_root(bad: str) -> None:
    with pytest.raises(InvalidArgument):
        resolve_path(bad, "abc")


def test_resolve_path_rejects_an_id_that_is_not_a_name() -> None:
    with pytest.raises(InvalidArgument):
        resolve_path(None, "../x")
