"""The v2 planner: each runtime-spec resource field → the exact unified-hierarchy writes."""

from __future__ import annotations

import pytest

from dockyard.errors import InvalidArgument, Unavailable
from dockyard.oci.runtime_spec import Resources
from dockyard.runtime.cgroups.plan import flatten
from dockyard.runtime.cgroups.v2 import blkio_to_io_weight, plan_v2, shares_to_weight


def writes(resources: Resources, swap: bool = True) -> list[tuple[str, str, str]]:
    return flatten(plan_v2(resources, swap_accounting=swap))


def test_memory_limit_swap_reservation() -> None:
    resources: Resources = {"memory": {"limit": 100, "swap": 300, "reservation": 50}}
    assert writes(resources) == [
        ("memory", "memory.swap.max", "200"),
        ("memory", "memory.max", "100"),
        ("memory", "memory.low", "50"),
    ]


def test_swap_equal_to_limit_disables_swap() -> None:
    assert writes({"memory": {"limit": 100, "swap": 100}}) == [
        ("memory", "memory.swap.max", "0"),
        ("memory", "memory.max", "100"),
    ]


def test_unlimited_memory_means_unlimited_swap() -> None:
    assert writes({"memory": {"limit": -1}}) == [
        ("memory", "memory.swap.max", "max"),
        ("memory", "memory.max", "max"),
    ]


def test_swap_without_accounting_is_dropped() -> None:
    assert writes({"memory": {"limit": 100, "swap": 300}}, swap=False) == [
        ("memory", "memory.max", "100")
    ]


@pytest.mark.parametrize("memory", [{"swap": 300}, {"limit": 200, "swap": 100}])
def test_invalid_swap(memory: dict[str, int]) -> None:
    with pytest.raises(InvalidArgument, match="swap"):
        plan_v2({"memory": memory}, swap_accounting=True)  # type: ignore[arg-type]


def test_v1_only_memory_fields_are_ignored() -> None:
    assert writes({"memory": {"swappiness": 10, "disableOOMKiller": True, "kernel": 1}}) == []


def test_shares_to_weight_matches_runc() -> None:
    assert shares_to_weight(2) == 1
    assert shares_to_weight(1024) == 39
    assert shares_to_weight(262144) == 10000
    assert shares_to_weight(1) == 1


def test_cpu_fields() -> None:
    resources: Resources = {
        "cpu": {"shares": 1024, "quota": 50000, "period": 100000, "cpus": "1", "mems": "0"}
    }
    assert writes(resources) == [
        ("cpu", "cpu.weight", "39"),
        ("cpu", "cpu.max", "50000 100000"),
        ("cpuset", "cpuset.cpus", "1"),
        ("cpuset", "cpuset.mems", "0"),
    ]


def test_cpu_max_forms() -> None:
    assert writes({"cpu": {"quota": 20000}}) == [("cpu", "cpu.max", "20000")]
    assert writes({"cpu": {"period": 50000}}) == [("cpu", "cpu.max", "max 50000")]
    assert writes({"cpu": {"quota": -1, "period": 50000}}) == [("cpu", "cpu.max", "max 50000")]


def test_cpu_idle_and_burst() -> None:
    assert writes({"cpu": {"idle": 1, "burst": 500}}) == [
        ("cpu", "cpu.idle", "1"),
        ("cpu", "cpu.max.burst", "500"),
    ]


def test_realtime_is_unavailable_on_v2() -> None:
    with pytest.raises(Unavailable, match="realtime"):
        plan_v2({"cpu": {"realtimeRuntime": 1000}}, swap_accounting=True)


def test_pids() -> None:
    assert writes({"pids": {"limit": 7}}) == [("pids", "pids.max", "7")]
    assert writes({"pids": {"limit": -1}}) == [("pids", "pids.max", "max")]


def test_io() -> None:
    resources: Resources = {
        "blockIO": {
            "weight": 500,
            "weightDevice": [{"major": 8, "minor": 0, "weight": 1000}],
            "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
            "throttleWriteBpsDevice": [{"major": 8, "minor": 0, "rate": 2048}],
            "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 100}],
            "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 200}],
        }
    }
    assert blkio_to_io_weight(500) == 4950
    assert writes(resources) == [
        ("io", "io.weight", "4950"),
        ("io", "io.weight", "8:0 10000"),
        ("io", "io.max", "8:0 rbps=1048576"),
        ("io", "io.max", "8:0 wbps=2048"),
        ("io", "io.max", "8:0 riops=100"),
        ("io", "io.max", "8:0 wiops=200"),
    ]


def test_hugetlb() -> None:
    assert writes({"hugepageLimits": [{"pageSize": "1GB", "limit": 0}]}) == [
        ("hugetlb", "hugetlb.1GB.max", "0")
    ]


def test_unified_entries_come_last_and_override() -> None:
    resources: Resources = {
        "memory": {"limit": 100},
        "unified": {"memory.max": "200", "io.weight": "default 50"},
    }
    assert writes(resources) == [
        ("memory", "memory.max", "100"),
        ("memory", "memory.max", "200"),
        ("io", "io.weight", "default 50"),
    ]


@pytest.mark.parametrize("key", ["../memory.max", "memory", "cgroup.procs", "cgroup.kill", ".x"])
def test_unified_rejects_paths_and_process_moves(key: str) -> None:
    with pytest.raises(InvalidArgument, match="unified"):
        plan_v2({"unified": {key: "1"}}, swap_accounting=True)


def test_devices_are_not_written_on_v2() -> None:
    assert writes({"devices": [{"allow": False, "access": "rwm"}]}) == []


def test_order_follows_runc() -> None:
    resources: Resources = {
        "hugepageLimits": [{"pageSize": "2MB", "limit": 0}],
        "cpu": {"shares": 2, "cpus": "0"},
        "blockIO": {"weight": 10},
        "memory": {"limit": 10},
        "pids": {"limit": 5},
    }
    order = [c for c, _, _ in writes(resources, swap=False)]
    assert order == ["pids", "memory", "io", "cpu", "cpuset", "hugetlb"]
