"""cgroups on the real kernel: limits, membership, freezer, OOM, device rules, clean removal.

Every cgroup lives under the session's `cgroup_prefix`; each test destroys what it made.
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from dockyard.errors import InvalidArgument
from dockyard.oci.runtime_spec import Resources
from dockyard.runtime.cgroups import CgroupLayout, CgroupManager, detect_layout

pytestmark = pytest.mark.root

MiB = 1 << 20
# Writing each page (bytes multiplication) makes the memory real; calloc'd zero pages are not.
HOG = "x = b'y' * (64 << 20)"

MakeManager = Callable[..., CgroupManager]


@pytest.fixture
def layout() -> CgroupLayout:
    return detect_layout()


@pytest.fixture
def make_manager(
    layout: CgroupLayout, cgroup_prefix: str, request: pytest.FixtureRequest
) -> Iterator[MakeManager]:
    made: list[CgroupManager] = []

    def factory(resources: Resources | None = None, name: str | None = None) -> CgroupManager:
        manager = CgroupManager(layout, f"{cgroup_prefix}/{name or request.node.name[:40]}")
        manager.create(resources)
        made.append(manager)
        return manager

    yield factory
    for manager in made:
        manager.kill_all(signal.SIGKILL)
        manager.destroy()


def joined(
    manager: CgroupManager, command: str, stdout: int | None = None, stderr: int | None = None
) -> subprocess.Popen[bytes]:
    """Run `command` under sh after the shell has put itself into every hierarchy."""
    join = "; ".join(f"echo $$ > {shlex.quote(p)}" for p in manager.procs_files())
    return subprocess.Popen(["sh", "-c", f"{join}; exec {command}"], stdout=stdout, stderr=stderr)


def read(directory: str, file: str) -> str:
    return Path(directory, file).read_text().strip()


def test_create_applies_limits_that_read_back(
    make_manager: MakeManager, layout: CgroupLayout
) -> None:
    manager = make_manager(
        {
            "memory": {"limit": 64 * MiB, "swap": 96 * MiB, "reservation": 32 * MiB},
            "pids": {"limit": 16},
            "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"},
        }
    )
    if layout.kind == "v2":
        leaf = manager.directories()[0]
        assert read(leaf, "memory.max") == str(64 * MiB)
        assert read(leaf, "memory.low") == str(32 * MiB)
        assert read(leaf, "pids.max") == "16"
        assert read(leaf, "cpu.max") == "50000 100000"
        assert read(leaf, "cpu.weight") == "20"
        assert read(leaf, "cpuset.cpus") == "0"
        return
    by = {c: os.path.join(m, manager.path.lstrip("/")) for c, m in layout.v1.items()}
    assert read(by["memory"], "memory.limit_in_bytes") == str(64 * MiB)
    if os.path.exists(os.path.join(by["memory"], "memory.memsw.limit_in_bytes")):
        assert read(by["memory"], "memory.memsw.limit_in_bytes") == str(96 * MiB)
    assert read(by["memory"], "memory.soft_limit_in_bytes") == str(32 * MiB)
    assert read(by["pids"], "pids.max") == "16"
    assert read(by["cpu"], "cpu.shares") == "512"
    assert read(by["cpu"], "cpu.cfs_quota_us") == "50000"
    assert read(by["cpu"], "cpu.cfs_period_us") == "100000"
    assert read(by["cpuset"], "cpuset.cpus") == "0"
    assert manager.stats().memory_limit == 64 * MiB


def test_process_joins_every_hierarchy_and_is_listed(make_manager: MakeManager) -> None:
    manager = make_manager(None)  # no cpuset values: copied from the parent
    child = subprocess.Popen(["sleep", "30"])
    try:
        manager.add_process(child.pid)
        assert manager.pids() == [child.pid]
        lines = Path(f"/proc/{child.pid}/cgroup").read_text().splitlines()
        paths = {line.split(":", 2)[2] for line in lines}
        assert paths == {manager.path}  # every hierarchy, and "0::" in the unified one
        assert manager.stats().pids_current in (0, 1)  # 0 only when pids is not mounted
    finally:
        manager.kill_all(signal.SIGKILL)
        assert child.wait(timeout=5) == -signal.SIGKILL
    assert manager.pids() == []


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_kill_all_reaches_every_process_of_a_tree(make_manager: MakeManager, sig: int) -> None:
    manager = make_manager(None, name=f"kill-{sig}")
    tree = joined(manager, "sh -c 'sleep 30 & sleep 30 & wait'")
    try:
        deadline = time.monotonic() + 5
        while len(manager.pids()) < 3 and time.monotonic() < deadline:
            time.sleep(0.005)
        assert len(manager.pids()) == 3  # the shell and its two sleeps
        manager.kill_all(sig)
        assert tree.wait(timeout=5) == -sig
        deadline = time.monotonic() + 5
        while manager.pids() and time.monotonic() < deadline:
            time.sleep(0.005)  # orphaned sleeps are reaped by init
        assert manager.pids() == []
    finally:
        manager.kill_all(signal.SIGKILL)
        tree.wait(timeout=5)


def _cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


def test_freeze_stops_a_busy_process_and_thaw_resumes_it(make_manager: MakeManager) -> None:
    manager = make_manager(None)
    busy = joined(manager, "sh -c 'while :; do :; done'")
    try:
        deadline = time.monotonic() + 5
        while manager.pids() != [busy.pid] and time.monotonic() < deadline:
            time.sleep(0.005)
        manager.freeze()
        before = _cpu_ticks(busy.pid)
        time.sleep(0.1)
        assert _cpu_ticks(busy.pid) == before
        manager.thaw()
        deadline = time.monotonic() + 5
        while _cpu_ticks(busy.pid) == before and time.monotonic() < deadline:
            time.sleep(0.01)
        assert _cpu_ticks(busy.pid) > before
    finally:
        manager.kill_all(signal.SIGKILL)
        busy.wait(timeout=5)


def test_memory_hog_is_oom_killed_and_counted(make_manager: MakeManager) -> None:
    manager = make_manager({"memory": {"limit": 10 * MiB, "swap": 10 * MiB}})
    assert manager.oom_kill_count() == 0
    hog = joined(
        manager,
        f"{shlex.quote(sys.executable)} -c {shlex.quote(HOG)}",
        stderr=subprocess.DEVNULL,
    )
    assert hog.wait(timeout=30) == -signal.SIGKILL
    assert manager.oom_kill_count() > 0


def test_raising_memory_and_swap_retries_in_the_other_order(
    make_manager: MakeManager, layout: CgroupLayout
) -> None:
    manager = make_manager({"memory": {"limit": 32 * MiB, "swap": 48 * MiB}})
    # The new limit is above the current memsw: writing the limit first gets EINVAL on v1.
    manager.update({"memory": {"limit": 128 * MiB, "swap": 256 * MiB}})
    assert manager.stats().memory_limit == 128 * MiB
    manager.update({"memory": {"limit": 16 * MiB, "swap": 24 * MiB}})
    assert manager.stats().memory_limit == 16 * MiB
    if layout.kind != "v2":
        memory = os.path.join(layout.v1["memory"], manager.path.lstrip("/"))
        if os.path.exists(os.path.join(memory, "memory.memsw.limit_in_bytes")):
            assert read(memory, "memory.memsw.limit_in_bytes") == str(24 * MiB)


def test_device_rules_deny_all_but_the_allowed(
    make_manager: MakeManager, layout: CgroupLayout
) -> None:
    if "devices" not in layout.v1:
        pytest.skip("device rules are enforced through the v1 devices controller only")
    manager = make_manager(
        {
            "devices": [
                {"allow": False, "access": "rwm"},
                {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
            ]
        }
    )
    directory = os.path.join(layout.v1["devices"], manager.path.lstrip("/"))
    assert read(directory, "devices.list") == "c 1:3 rwm"
    probe = joined(
        manager,
        "sh -c 'echo ok > /dev/null && head -c1 /dev/zero'",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    _out, err = probe.communicate(timeout=10)
    assert probe.returncode != 0
    assert b"Operation not permitted" in err


def test_value_the_kernel_rejects_names_the_file_and_leaves_nothing(
    layout: CgroupLayout, cgroup_prefix: str
) -> None:
    manager = CgroupManager(layout, f"{cgroup_prefix}/rejected")
    with pytest.raises(InvalidArgument, match=r"cpuset\.cpus"):
        manager.create({"cpu": {"cpus": "4096"}})
    assert not any(os.path.exists(d) for d in manager.directories())
    assert not any(os.path.exists(os.path.dirname(d)) for d in manager.directories())


def test_hybrid_routes_a_v2_only_controller_through_the_unified_mount(
    make_manager: MakeManager, layout: CgroupLayout
) -> None:
    assert layout.v2 is not None or layout.kind == "v1"
    if layout.kind != "hybrid" or layout.v2 is None:
        pytest.skip("needs the hybrid layout")
    available = Path(layout.v2, "cgroup.controllers").read_text().split()
    if "hugetlb" not in available or "hugetlb" in layout.v1:
        pytest.skip("needs hugetlb in the cgroup2 mount only")
    control = Path(layout.v2, "cgroup.subtree_control")
    enabled_before = "hugetlb" in control.read_text().split()
    try:
        manager = make_manager({"hugepageLimits": [{"pageSize": "2MB", "limit": 0}]})
        unified = os.path.join(layout.v2, manager.path.lstrip("/"))
        assert read(unified, "hugetlb.2MB.max") == "0"
        manager.destroy()
    finally:
        if not enabled_before:
            control.write_text("-hugetlb")


def test_destroy_removes_every_directory_and_is_idempotent(
    layout: CgroupLayout, cgroup_prefix: str
) -> None:
    manager = CgroupManager(layout, f"{cgroup_prefix}/gone/deeper")
    manager.create({"pids": {"limit": 5}})
    assert all(os.path.isdir(d) for d in manager.directories())
    manager.destroy()
    manager.destroy()
    mounts = [layout.v2] if layout.kind == "v2" else [*layout.v1_mount_points(), layout.v2]
    leftovers = [
        m for m in mounts if m and os.path.exists(os.path.join(m, cgroup_prefix.lstrip("/")))
    ]
    assert leftovers == []
