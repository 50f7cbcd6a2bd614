"""The hybrid planner: v1 for controllers mounted on v1, v2 only for what v1 lacks."""

from __future__ import annotations

import pytest

from dockyard.errors import InvalidArgument, Unavailable
from dockyard.oci.runtime_spec import Resources
from dockyard.runtime.cgroups.hybrid import plan_hybrid
from dockyard.runtime.cgroups.plan import flatten

THIS_HOST_V1 = frozenset(
    {"cpu", "cpuacct", "cpuset", "memory", "devices", "freezer", "blkio", "pids"}
)


def writes(resources: Resources, v2: frozenset[str] = frozenset()) -> list[tuple[str, str, str]]:
    plan = plan_hybrid(
        resources, v1_controllers=THIS_HOST_V1, v2_controllers=v2, swap_accounting=True
    )
    return flatten(plan)


def test_everything_mounted_on_v1_goes_through_v1() -> None:
    resources: Resources = {"memory": {"limit": 100}, "pids": {"limit": 3}}
    assert writes(resources, frozenset({"memory", "pids"})) == [
        ("memory", "memory.limit_in_bytes", "100"),
        ("pids", "pids.max", "3"),
    ]


def test_hugetlb_only_in_cgroup2_uses_v2_files() -> None:
    resources: Resources = {
        "pids": {"limit": 3},
        "hugepageLimits": [{"pageSize": "2MB", "limit": 0}],
    }
    assert writes(resources, frozenset({"hugetlb"})) == [
        ("pids", "pids.max", "3"),
        ("hugetlb", "hugetlb.2MB.max", "0"),
    ]


def test_controller_nowhere_is_unavailable_and_named() -> None:
    with pytest.raises(Unavailable, match="hugetlb"):
        writes({"hugepageLimits": [{"pageSize": "2MB", "limit": 0}]})


def test_cpuset_only_in_v2_leaves_cpu_on_v1() -> None:
    v1 = THIS_HOST_V1 - {"cpuset"}
    plan = plan_hybrid(
        {"cpu": {"shares": 100, "cpus": "0", "realtimeRuntime": 5}},
        v1_controllers=v1,
        v2_controllers=frozenset({"cpuset"}),
        swap_accounting=True,
    )
    assert flatten(plan) == [
        ("cpu", "cpu.rt_runtime_us", "5"),
        ("cpu", "cpu.shares", "100"),
        ("cpuset", "cpuset.cpus", "0"),
    ]


def test_unified_map_is_rejected_as_on_v1() -> None:
    with pytest.raises(InvalidArgument, match="unified"):
        writes({"unified": {"memory.high": "1"}})
