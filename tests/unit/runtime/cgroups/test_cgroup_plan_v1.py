"""The v1 planner: each runtime-spec resource field → the exact v1 file writes."""

from __future__ import annotations

import pytest

from dockyard.errors import InvalidArgument
from dockyard.oci.runtime_spec import Resources
from dockyard.runtime.cgroups.plan import EitherOrder, Write, flatten
from dockyard.runtime.cgroups.v1 import plan_v1


def writes(resources: Resources, swap: bool = True) -> list[tuple[str, str, str]]:
    return flatten(plan_v1(resources, swap_accounting=swap))


def test_empty_resources_plan_nothing() -> None:
    assert plan_v1(None, swap_accounting=True) == ()
    assert plan_v1({}, swap_accounting=True) == ()


def test_memory_limit_and_swap_are_one_either_order_step_limit_first() -> None:
    plan = plan_v1({"memory": {"limit": 100, "swap": 200}}, swap_accounting=True)
    assert plan == (
        EitherOrder(
            Write("memory", "memory.limit_in_bytes", "100"),
            Write("memory", "memory.memsw.limit_in_bytes", "200"),
        ),
    )


def test_unlimited_memory_implies_unlimited_swap_written_first() -> None:
    plan = plan_v1({"memory": {"limit": -1}}, swap_accounting=True)
    assert plan == (
        EitherOrder(
            Write("memory", "memory.memsw.limit_in_bytes", "-1"),
            Write("memory", "memory.limit_in_bytes", "-1"),
        ),
    )


def test_swap_is_dropped_without_swap_accounting() -> None:
    assert writes({"memory": {"limit": 100, "swap": 200}}, swap=False) == [
        ("memory", "memory.limit_in_bytes", "100")
    ]


def test_swap_alone() -> None:
    assert writes({"memory": {"swap": 300}}) == [("memory", "memory.memsw.limit_in_bytes", "300")]


def test_swap_below_limit_is_invalid() -> None:
    with pytest.raises(InvalidArgument, match="swap"):
        plan_v1({"memory": {"limit": 200, "swap": 100}}, swap_accounting=True)


def test_memory_other_fields() -> None:
    resources: Resources = {
        "memory": {"reservation": 50, "disableOOMKiller": True, "swappiness": 10, "kernel": 5}
    }
    assert writes(resources) == [
        ("memory", "memory.soft_limit_in_bytes", "50"),
        ("memory", "memory.oom_control", "1"),
        ("memory", "memory.swappiness", "10"),
    ]


def test_swappiness_minus_one_means_unset_and_above_100_is_invalid() -> None:
    assert writes({"memory": {"swappiness": -1}}) == []
    with pytest.raises(InvalidArgument, match="swappiness"):
        plan_v1({"memory": {"swappiness": 101}}, swap_accounting=True)


def test_cpu_fields_in_runc_order() -> None:
    resources: Resources = {
        "cpu": {
            "shares": 512,
            "quota": 50000,
            "period": 100000,
            "realtimePeriod": 1000000,
            "realtimeRuntime": 950000,
            "cpus": "0-1",
            "mems": "0",
            "burst": 1000,
            "idle": 1,
        }
    }
    plan = plan_v1(resources, swap_accounting=True)
    assert (
        EitherOrder(
            Write("cpu", "cpu.cfs_period_us", "100000"), Write("cpu", "cpu.cfs_quota_us", "50000")
        )
        in plan
    )
    assert flatten(plan) == [
        ("cpuset", "cpuset.cpus", "0-1"),
        ("cpuset", "cpuset.mems", "0"),
        ("cpu", "cpu.rt_period_us", "1000000"),
        ("cpu", "cpu.rt_runtime_us", "950000"),
        ("cpu", "cpu.shares", "512"),
        ("cpu", "cpu.cfs_period_us", "100000"),
        ("cpu", "cpu.cfs_quota_us", "50000"),
        ("cpu", "cpu.cfs_burst_us", "1000"),
        ("cpu", "cpu.idle", "1"),
    ]


def test_quota_alone_and_unlimited_quota() -> None:
    assert writes({"cpu": {"quota": -1}}) == [("cpu", "cpu.cfs_quota_us", "-1")]


def test_pids() -> None:
    assert writes({"pids": {"limit": 32}}) == [("pids", "pids.max", "32")]
    assert writes({"pids": {"limit": -1}}) == [("pids", "pids.max", "max")]
    assert writes({"pids": {"limit": 0}}) == []


def test_blkio() -> None:
    resources: Resources = {
        "blockIO": {
            "weight": 500,
            "leafWeight": 300,
            "weightDevice": [{"major": 8, "minor": 0, "weight": 600, "leafWeight": 700}],
            "throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1048576}],
            "throttleWriteBpsDevice": [{"major": 8, "minor": 16, "rate": 2097152}],
            "throttleReadIOPSDevice": [{"major": 8, "minor": 0, "rate": 100}],
            "throttleWriteIOPSDevice": [{"major": 8, "minor": 0, "rate": 200}],
        }
    }
    assert writes(resources) == [
        ("blkio", "blkio.weight", "500"),
        ("blkio", "blkio.leaf_weight", "300"),
        ("blkio", "blkio.weight_device", "8:0 600"),
        ("blkio", "blkio.leaf_weight_device", "8:0 700"),
        ("blkio", "blkio.throttle.read_bps_device", "8:0 1048576"),
        ("blkio", "blkio.throttle.write_bps_device", "8:16 2097152"),
        ("blkio", "blkio.throttle.read_iops_device", "8:0 100"),
        ("blkio", "blkio.throttle.write_iops_device", "8:0 200"),
    ]


def test_hugetlb() -> None:
    resources: Resources = {"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}]}
    assert writes(resources) == [("hugetlb", "hugetlb.2MB.limit_in_bytes", "4194304")]


def test_hugetlb_page_size_cannot_escape_the_file_name() -> None:
    with pytest.raises(InvalidArgument, match="hugepage"):
        plan_v1({"hugepageLimits": [{"pageSize": "../2MB", "limit": 1}]}, swap_accounting=True)


def test_devices_deny_all_first_then_rules_in_order() -> None:
    resources: Resources = {
        "devices": [
            {"allow": False, "access": "rwm"},
            {"allow": True, "type": "c", "major": 1, "minor": 3, "access": "rwm"},
            {"allow": True, "type": "c", "major": 136, "access": "rw"},
            {"allow": False, "type": "b", "major": 8, "minor": -1},
        ]
    }
    assert writes(resources) == [
        ("devices", "devices.deny", "a"),
        ("devices", "devices.deny", "a *:* rwm"),
        ("devices", "devices.allow", "c 1:3 rwm"),
        ("devices", "devices.allow", "c 136:* rw"),
        ("devices", "devices.deny", "b 8:* rwm"),
    ]


def test_empty_device_list_still_denies_all() -> None:
    assert writes({"devices": []}) == [("devices", "devices.deny", "a")]


@pytest.mark.parametrize(
    "rule", [{"type": "x"}, {"type": "c", "access": "rwx"}, {"type": "c", "major": "1"}]
)
def test_malformed_device_rules_are_invalid(rule: dict[str, object]) -> None:
    with pytest.raises(InvalidArgument):
        plan_v1({"devices": [rule]}, swap_accounting=True)  # type: ignore[arg-type]


def test_unified_is_rejected_on_v1() -> None:
    with pytest.raises(InvalidArgument, match="unified"):
        plan_v1({"unified": {"memory.high": "1"}}, swap_accounting=True)


def test_non_integer_value_names_the_field() -> None:
    with pytest.raises(InvalidArgument, match=r"pids\.limit"):
        plan_v1({"pids": {"limit": "10"}}, swap_accounting=True)  # type: ignore[arg-type]


def test_controller_order_follows_runc() -> None:
    resources: Resources = {
        "hugepageLimits": [{"pageSize": "1GB", "limit": 0}],
        "blockIO": {"weight": 100},
        "pids": {"limit": 5},
        "cpu": {"shares": 2, "cpus": "0"},
        "memory": {"limit": 10},
        "devices": [],
    }
    order = [c for c, _, _ in writes(resources, swap=False)]
    assert order == ["cpuset", "devices", "memory", "cpu", "pids", "blkio", "hugetlb"]
