"""The manager and executor against a temp-dir "cgroupfs" whose mounts a fake mountinfo names.

A temp dir is not a kernel: files exist only where the test makes them (as the kernel would on
mkdir), and every write replaces the content. Kernel behaviour is covered by the e2e tests.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dockyard.errors import KernelError, Unavailable
from dockyard.runtime.cgroups import CgroupLayout, CgroupManager, detect_layout
from dockyard.runtime.cgroups.apply import apply_plan
from dockyard.runtime.cgroups.freezer import set_v2_frozen
from dockyard.runtime.cgroups.plan import EitherOrder, Write

V1_CONTROLLERS = ("cpu", "cpuacct", "cpuset", "memory", "pids", "freezer", "devices")


def mountinfo(root: Path, v1: tuple[str, ...], v2: bool) -> str:
    lines = [
        f"{30 + i} 25 0:{40 + i} / {root / c} rw - cgroup cgroup rw,{c}" for i, c in enumerate(v1)
    ]
    if v2:
        lines.append(f"99 25 0:99 / {root / 'unified'} rw - cgroup2 cgroup2 rw")
    return "\n".join(lines) + "\n"


def make(directory: Path, files: dict[str, str]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for name, content in files.items():
        (directory / name).write_text(content)


@pytest.fixture
def v1_layout(tmp_path: Path) -> CgroupLayout:
    for c in V1_CONTROLLERS:
        (tmp_path / c).mkdir()
    (tmp_path / "memory" / "memory.memsw.limit_in_bytes").write_text("")
    make(tmp_path / "cpuset", {"cpuset.cpus": "0-3\n", "cpuset.mems": "0\n"})
    return detect_layout(mountinfo(tmp_path, V1_CONTROLLERS, v2=False))


def test_v1_create_writes_the_plan_and_copies_cpuset_from_the_parent(
    tmp_path: Path, v1_layout: CgroupLayout
) -> None:
    leaf_files = {
        "memory": ["memory.limit_in_bytes", "memory.memsw.limit_in_bytes"],
        "cpu": ["cpu.shares"],
        "cpuset": ["cpuset.cpus", "cpuset.mems"],
        "pids": ["pids.max"],
        "devices": ["devices.allow", "devices.deny"],
    }
    for controller, files in leaf_files.items():
        make(tmp_path / controller / "dockyard" / "c1", dict.fromkeys(files, ""))
    make(tmp_path / "cpuset" / "dockyard", {"cpuset.cpus": "", "cpuset.mems": ""})

    manager = CgroupManager(v1_layout, "/dockyard/c1")
    manager.create(
        {
            "memory": {"limit": 100, "swap": 200},
            "cpu": {"shares": 512, "cpus": "1"},
            "pids": {"limit": 9},
            "devices": [{"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rw"}],
        }
    )
    leaf = "dockyard/c1"
    assert (tmp_path / "memory" / leaf / "memory.limit_in_bytes").read_text() == "100"
    assert (tmp_path / "memory" / leaf / "memory.memsw.limit_in_bytes").read_text() == "200"
    assert (tmp_path / "cpu" / leaf / "cpu.shares").read_text() == "512"
    assert (tmp_path / "pids" / leaf / "pids.max").read_text() == "9"
    assert (tmp_path / "devices" / leaf / "devices.deny").read_text() == "a"
    assert (tmp_path / "devices" / leaf / "devices.allow").read_text() == "c 1:3 rw"
    assert (tmp_path / "cpuset" / "dockyard" / "cpuset.cpus").read_text() == "0-3"
    assert (tmp_path / "cpuset" / "dockyard" / "cpuset.mems").read_text() == "0"
    assert (tmp_path / "cpuset" / leaf / "cpuset.cpus").read_text() == "1"
    assert (tmp_path / "cpuset" / leaf / "cpuset.mems").read_text() == "0"
    # cgroup directories exist in every hierarchy, cpuacct and freezer too
    assert all((tmp_path / c / leaf).is_dir() for c in V1_CONTROLLERS)


def test_create_failure_removes_what_it_made_and_names_the_file(tmp_path: Path) -> None:
    for c in ("memory", "pids"):
        (tmp_path / c).mkdir()
    layout = detect_layout(mountinfo(tmp_path, ("memory", "pids"), v2=False))
    (tmp_path / "pids" / "shared").mkdir()
    manager = CgroupManager(layout, "/shared/c1")
    with pytest.raises(Unavailable, match=r"pids\.max"):
        manager.create({"pids": {"limit": 1}})
    assert not (tmp_path / "memory" / "shared").exists()
    assert (tmp_path / "pids" / "shared").is_dir()  # existed before: not ours to remove
    assert not (tmp_path / "pids" / "shared" / "c1").exists()


def test_v2_create_enables_controllers_in_every_ancestor(tmp_path: Path) -> None:
    root = tmp_path / "unified"
    make(root, {"cgroup.controllers": "cpu memory pids\n", "cgroup.subtree_control": ""})
    make(root / "a", {"cgroup.subtree_control": ""})
    leaf = root / "a" / "b"
    make(leaf, {"memory.max": "", "memory.swap.max": "", "cpu.max": "", "pids.max": ""})
    layout = detect_layout(mountinfo(tmp_path, (), v2=True))
    assert layout.kind == "v2"

    CgroupManager(layout, "/a/b").create(
        {"memory": {"limit": 100, "swap": 300}, "cpu": {"quota": 1000, "period": 10000}}
    )
    assert (root / "cgroup.subtree_control").read_text() == "+cpu +memory +pids"
    assert (root / "a" / "cgroup.subtree_control").read_text() == "+cpu +memory +pids"
    assert not (leaf / "cgroup.subtree_control").exists()
    assert (leaf / "memory.max").read_text() == "100"
    assert (leaf / "memory.swap.max").read_text() == "200"
    assert (leaf / "cpu.max").read_text() == "1000 10000"


def test_hybrid_creates_in_unified_and_routes_v2_only_controllers_there(tmp_path: Path) -> None:
    (tmp_path / "pids").mkdir()
    make(tmp_path / "unified", {"cgroup.controllers": "hugetlb\n", "cgroup.subtree_control": ""})
    make(tmp_path / "unified" / "c", {"hugetlb.2MB.max": ""})
    make(tmp_path / "pids" / "c", {"pids.max": ""})
    layout = detect_layout(mountinfo(tmp_path, ("pids",), v2=True))
    manager = CgroupManager(layout, "/c")
    assert manager.directories() == [str(tmp_path / "pids" / "c"), str(tmp_path / "unified/c")]
    manager.create({"pids": {"limit": 4}, "hugepageLimits": [{"pageSize": "2MB", "limit": 0}]})
    assert (tmp_path / "unified" / "cgroup.subtree_control").read_text() == "+hugetlb"
    assert (tmp_path / "unified" / "c" / "hugetlb.2MB.max").read_text() == "0"
    assert (tmp_path / "pids" / "c" / "pids.max").read_text() == "4"


def test_add_process_writes_every_hierarchy_and_pids_reads_it(
    tmp_path: Path, v1_layout: CgroupLayout
) -> None:
    manager = CgroupManager(v1_layout, "/x")
    for directory in manager.directories():
        make(Path(directory), {"cgroup.procs": ""})
    manager.add_process(4321)
    assert [Path(p).read_text() for p in manager.procs_files()] == ["4321"] * 7
    assert manager.pids() == [4321]


def test_pids_of_a_missing_cgroup_is_empty(v1_layout: CgroupLayout) -> None:
    assert CgroupManager(v1_layout, "/nope").pids() == []


def test_oom_kill_count_v1_and_v2(tmp_path: Path, v1_layout: CgroupLayout) -> None:
    manager = CgroupManager(v1_layout, "/x")
    assert manager.oom_kill_count() == 0
    make(
        tmp_path / "memory" / "x",
        {"memory.oom_control": "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n"},
    )
    assert manager.oom_kill_count() == 3

    make(tmp_path / "unified" / "y", {"memory.events": "low 0\nhigh 0\nmax 9\noom 2\noom_kill 2\n"})
    v2 = CgroupManager(detect_layout(mountinfo(tmp_path, (), v2=True)), "/y")
    assert v2.oom_kill_count() == 2


def test_stats_v1_and_v2(tmp_path: Path, v1_layout: CgroupLayout) -> None:
    make(
        tmp_path / "memory" / "x",
        {"memory.usage_in_bytes": "4096\n", "memory.limit_in_bytes": "9223372036854771712\n"},
    )
    make(tmp_path / "cpuacct" / "x", {"cpuacct.usage": "123456\n"})
    make(tmp_path / "pids" / "x", {"pids.current": "2\n"})
    stats = CgroupManager(v1_layout, "/x").stats()
    assert (stats.memory_usage, stats.memory_limit) == (4096, None)
    assert (stats.cpu_usage_ns, stats.pids_current) == (123456, 2)

    make(
        tmp_path / "unified" / "y",
        {
            "memory.current": "8192\n",
            "memory.max": "1048576\n",
            "cpu.stat": "usage_usec 7\nuser_usec 5\n",
            "pids.current": "3\n",
        },
    )
    stats = CgroupManager(detect_layout(mountinfo(tmp_path, (), v2=True)), "/y").stats()
    assert (stats.memory_usage, stats.memory_limit) == (8192, 1048576)
    assert (stats.cpu_usage_ns, stats.pids_current) == (7000, 3)


def test_freeze_and_thaw_v1(tmp_path: Path, v1_layout: CgroupLayout) -> None:
    state = tmp_path / "freezer" / "x" / "freezer.state"
    make(state.parent, {"freezer.state": "THAWED\n"})
    manager = CgroupManager(v1_layout, "/x")
    manager.freeze()
    assert state.read_text() == "FROZEN"
    manager.thaw()
    assert state.read_text() == "THAWED"


def test_freeze_v2_waits_for_the_events_file(tmp_path: Path) -> None:
    leaf = tmp_path / "unified" / "y"
    make(leaf, {"cgroup.freeze": "0", "cgroup.events": "populated 1\nfrozen 1\n"})
    CgroupManager(detect_layout(mountinfo(tmp_path, (), v2=True)), "/y").freeze()
    assert (leaf / "cgroup.freeze").read_text() == "1"
    # Never reports thawed: the wait gives up with an error naming the events file.
    with pytest.raises(KernelError, match=r"cgroup\.events"):
        set_v2_frozen(str(leaf), False, timeout=0.01)


def test_destroy_removes_leaf_and_empty_parents_only(
    tmp_path: Path, v1_layout: CgroupLayout
) -> None:
    manager = CgroupManager(v1_layout, "/dockyard/c1")
    for directory in manager.directories():
        Path(directory).mkdir(parents=True)
    (tmp_path / "memory" / "dockyard" / "other").mkdir()
    manager.destroy()
    assert not any(Path(d).exists() for d in manager.directories())
    assert (tmp_path / "memory" / "dockyard" / "other").is_dir()
    assert not (tmp_path / "pids" / "dockyard").exists()
    manager.destroy()  # idempotent


def test_apply_plan_needs_the_controller_mounted() -> None:
    with pytest.raises(Unavailable, match="hugetlb"):
        apply_plan((Write("hugetlb", "hugetlb.2MB.limit_in_bytes", "0"),), lambda _c: None)


def test_apply_plan_writes_either_order_steps_in_the_given_order(tmp_path: Path) -> None:
    make(tmp_path, {"a": "", "b": ""})
    step = EitherOrder(Write("memory", "a", "1"), Write("memory", "b", "2"))
    apply_plan((step,), lambda _c: str(tmp_path))
    assert ((tmp_path / "a").read_text(), (tmp_path / "b").read_text()) == ("1", "2")


def test_write_failure_other_than_missing_is_a_kernel_error(tmp_path: Path) -> None:
    (tmp_path / "memory.max").mkdir()  # EISDIR stands in for an unexpected kernel refusal
    with pytest.raises(KernelError, match=r"memory\.max"):
        apply_plan((Write("memory", "memory.max", "1"),), lambda _c: str(tmp_path))
