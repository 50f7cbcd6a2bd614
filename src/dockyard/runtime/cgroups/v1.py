"""Plan for cgroup v1: runtime-spec `linux.resources` → writes to v1 controller files.

Values and order follow runc's fs manager (libcontainer/cgroups/fs): cpuset, devices, memory,
cpu, pids, blkio, hugetlb.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dockyard.errors import InvalidArgument
from dockyard.runtime.cgroups.plan import (
    EitherOrder,
    Plan,
    Step,
    Write,
    check_int,
    check_page_size,
    limit_str,
    throttle_lists,
)

if TYPE_CHECKING:
    # Types only: building the TypedDicts costs start-up time.
    from dockyard.oci.runtime_spec import CPU, BlockIO, DeviceCgroup, Memory, Resources


_DEVICE_TYPES = frozenset({"a", "b", "c"})


def plan_v1(resources: Resources | None, *, swap_accounting: bool) -> Plan:
    """The v1 writes for `resources`; memsw is written only when `swap_accounting` is on."""
    if not resources:
        return ()
    if resources.get("unified"):
        raise InvalidArgument(
            "linux.resources.unified needs cgroup v2; this host uses cgroup v1, drop 'unified'"
        )
    steps: list[Step] = []
    cpu = resources.get("cpu")
    if cpu:
        steps += _cpuset(cpu)
    if "devices" in resources:
        steps += device_writes(resources["devices"])
    memory = resources.get("memory")
    if memory:
        steps += _memory(memory, swap_accounting)
    if cpu:
        steps += _cpu(cpu)
    pids = resources.get("pids")
    if pids and check_int(pids.get("limit", 0), "pids.limit"):
        steps.append(Write("pids", "pids.max", limit_str(pids["limit"])))
    block_io = resources.get("blockIO")
    if block_io:
        steps += _blkio(block_io)
    for page in resources.get("hugepageLimits", []):
        size = check_page_size(page["pageSize"])
        limit = check_int(page["limit"], "hugepageLimits.limit")
        steps.append(Write("hugetlb", f"hugetlb.{size}.limit_in_bytes", str(limit)))
    return tuple(steps)


def _cpuset(cpu: CPU) -> list[Step]:
    steps: list[Step] = []
    if cpu.get("cpus"):
        steps.append(Write("cpuset", "cpuset.cpus", cpu["cpus"]))
    if cpu.get("mems"):
        steps.append(Write("cpuset", "cpuset.mems", cpu["mems"]))
    return steps


def device_rule(rule: DeviceCgroup) -> str:
    """A device rule as devices.allow/deny take it: "c 1:3 rwm", wildcards as "*"."""
    kind = rule.get("type", "a") or "a"
    access = rule.get("access", "rwm") or "rwm"
    if kind not in _DEVICE_TYPES:
        raise InvalidArgument(f"device rule type {kind!r} is invalid; use 'a', 'b' or 'c'")
    if not set(access) <= set("rwm"):
        raise InvalidArgument(f"device rule access {access!r} is invalid; use letters of 'rwm'")
    numbers = []
    for key in ("major", "minor"):
        value = rule.get(key)
        if value is None or check_int(value, f"devices.{key}") < 0:
            numbers.append("*")
        else:
            numbers.append(str(value))
    return f"{kind} {numbers[0]}:{numbers[1]} {access}"


def device_writes(rules: list[DeviceCgroup]) -> list[Step]:
    """Deny everything first (as runc does), then each rule in order, allow or deny."""
    steps: list[Step] = [Write("devices", "devices.deny", "a")]
    for rule in rules:
        target = "devices.allow" if rule.get("allow") else "devices.deny"
        steps.append(Write("devices", target, device_rule(rule)))
    return steps


def _memory(memory: Memory, swap_accounting: bool) -> list[Step]:
    steps: list[Step] = []
    limit = check_int(memory.get("limit", 0), "memory.limit")
    swap = check_int(memory.get("swap", 0), "memory.swap")
    if not swap_accounting:
        # No memory.memsw.* files (swapaccount=0): the swap limit cannot be enforced; Docker
        # drops it with a warning and so do we.
        swap = 0
    elif limit == -1 and swap == 0:
        # runc: an unlimited memory request with no swap value means unlimited swap too.
        swap = -1
    if limit > 0 and swap > 0 and swap < limit:
        raise InvalidArgument(
            f"linux.resources.memory.swap {swap} is below memory.limit {limit}; "
            "swap is memory+swap, so give a value >= the limit"
        )
    limit_write = Write("memory", "memory.limit_in_bytes", str(limit))
    swap_write = Write("memory", "memory.memsw.limit_in_bytes", str(swap))
    if limit and swap:
        # memsw must stay >= limit at every moment: raise memsw first when it grows to
        # unlimited, otherwise lower the limit first; the executor retries the other order.
        if swap == -1:
            steps.append(EitherOrder(swap_write, limit_write))
        else:
            steps.append(EitherOrder(limit_write, swap_write))
    elif limit:
        steps.append(limit_write)
    elif swap:
        steps.append(swap_write)
    reservation = check_int(memory.get("reservation", 0), "memory.reservation")
    if reservation:
        steps.append(Write("memory", "memory.soft_limit_in_bytes", str(reservation)))
    if memory.get("disableOOMKiller"):
        steps.append(Write("memory", "memory.oom_control", "1"))
    if "swappiness" in memory:
        swappiness = check_int(memory["swappiness"], "memory.swappiness")
        if not -1 <= swappiness <= 100:
            raise InvalidArgument(
                f"linux.resources.memory.swappiness {swappiness} is out of range; use 0-100"
            )
        if swappiness != -1:
            steps.append(Write("memory", "memory.swappiness", str(swappiness)))
    return steps


def _cpu(cpu: CPU) -> list[Step]:
    steps: list[Step] = []
    # RT runtime is set before the rest, as runc does it when the cgroup is created.
    rt_period = check_int(cpu.get("realtimePeriod", 0), "cpu.realtimePeriod")
    rt_runtime = check_int(cpu.get("realtimeRuntime", 0), "cpu.realtimeRuntime")
    if rt_period:
        steps.append(Write("cpu", "cpu.rt_period_us", str(rt_period)))
    if rt_runtime:
        steps.append(Write("cpu", "cpu.rt_runtime_us", str(rt_runtime)))
    shares = check_int(cpu.get("shares", 0), "cpu.shares")
    if shares:
        steps.append(Write("cpu", "cpu.shares", str(shares)))
    period = check_int(cpu.get("period", 0), "cpu.period")
    quota = check_int(cpu.get("quota", 0), "cpu.quota")
    period_write = Write("cpu", "cpu.cfs_period_us", str(period))
    quota_write = Write("cpu", "cpu.cfs_quota_us", str(quota))
    if period and quota:
        # A smaller period can be rejected (EINVAL) while the old quota/period ratio would
        # exceed the parent's; runc then sets the quota first and retries the period.
        steps.append(EitherOrder(period_write, quota_write))
    elif period:
        steps.append(period_write)
    elif quota:
        steps.append(quota_write)
    if "burst" in cpu:
        steps.append(Write("cpu", "cpu.cfs_burst_us", str(check_int(cpu["burst"], "cpu.burst"))))
    if "idle" in cpu:
        steps.append(Write("cpu", "cpu.idle", str(check_int(cpu["idle"], "cpu.idle"))))
    return steps


def _blkio(block_io: BlockIO) -> list[Step]:
    steps: list[Step] = []
    weight = check_int(block_io.get("weight", 0), "blockIO.weight")
    if weight:
        steps.append(Write("blkio", "blkio.weight", str(weight)))
    leaf_weight = check_int(block_io.get("leafWeight", 0), "blockIO.leafWeight")
    if leaf_weight:
        steps.append(Write("blkio", "blkio.leaf_weight", str(leaf_weight)))
    for dev in block_io.get("weightDevice", []):
        node = f"{check_int(dev['major'], 'blockIO.major')}:{check_int(dev['minor'], 'minor')}"
        if dev.get("weight"):
            steps.append(Write("blkio", "blkio.weight_device", f"{node} {dev['weight']}"))
        if dev.get("leafWeight"):
            steps.append(Write("blkio", "blkio.leaf_weight_device", f"{node} {dev['leafWeight']}"))
    for kind, devices in throttle_lists(block_io):
        file = f"blkio.throttle.{kind}_device"
        for throttle in devices:
            rate = check_int(throttle["rate"], f"blockIO throttle {kind} rate")
            steps.append(Write("blkio", file, f"{throttle['major']}:{throttle['minor']} {rate}"))
    return steps
