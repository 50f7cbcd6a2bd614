"""Plan for cgroup v2: runtime-spec `linux.resources` → writes to unified-hierarchy files.

Values, conversions and order follow runc's fs2 manager: pids, memory, io, cpu, cpuset,
hugetlb, then the spec's `unified` map (which may override anything before it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dockyard.errors import InvalidArgument, Unavailable
from dockyard.runtime.cgroups.plan import (
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
    from dockyard.oci.runtime_spec import CPU, BlockIO, Memory, Resources


_IO_MAX_KEYS = {
    "read_bps": "rbps",
    "write_bps": "wbps",
    "read_iops": "riops",
    "write_iops": "wiops",
}
# Writing these would move or kill processes, which is not what a resource setting may do.
_FORBIDDEN_UNIFIED = frozenset({"cgroup.procs", "cgroup.threads", "cgroup.kill"})


def shares_to_weight(shares: int) -> int:
    """cpu.shares (2..262144) → cpu.weight (1..10000), runc's linear conversion."""
    # Go's integer division truncates toward zero; shares below 2 would go negative here.
    return 1 + ((max(shares, 2) - 2) * 9999) // 262142


def blkio_to_io_weight(weight: int) -> int:
    """blkio.weight (10..1000) → io.weight (1..10000), runc's linear conversion."""
    return 1 + ((max(weight, 10) - 10) * 9999) // 990


def swap_to_v2(swap: int, limit: int) -> int:
    """The spec's memory+swap value → memory.swap.max (swap alone); 0 means "do not write"."""
    if limit == -1 and swap == 0:
        return -1
    if swap in (-1, 0):
        return swap
    if limit in (-1, 0):
        raise InvalidArgument(
            "linux.resources.memory.swap needs memory.limit on cgroup v2; set a memory limit"
        )
    if swap < limit:
        raise InvalidArgument(
            f"linux.resources.memory.swap {swap} is below memory.limit {limit}; "
            "swap is memory+swap, so give a value >= the limit"
        )
    return swap - limit


def plan_v2(resources: Resources | None, *, swap_accounting: bool) -> Plan:
    """The v2 writes for `resources`; memory.swap.max only when `swap_accounting` is on."""
    if not resources:
        return ()
    steps: list[Step] = []
    pids = resources.get("pids")
    if pids and check_int(pids.get("limit", 0), "pids.limit"):
        steps.append(Write("pids", "pids.max", limit_str(pids["limit"])))
    memory = resources.get("memory")
    if memory:
        steps += _memory(memory, swap_accounting)
    block_io = resources.get("blockIO")
    if block_io:
        steps += _io(block_io)
    cpu = resources.get("cpu")
    if cpu:
        steps += _cpu(cpu)
        if cpu.get("cpus"):
            steps.append(Write("cpuset", "cpuset.cpus", cpu["cpus"]))
        if cpu.get("mems"):
            steps.append(Write("cpuset", "cpuset.mems", cpu["mems"]))
    for page in resources.get("hugepageLimits", []):
        size = check_page_size(page["pageSize"])
        limit = check_int(page["limit"], "hugepageLimits.limit")
        steps.append(Write("hugetlb", f"hugetlb.{size}.max", limit_str(limit)))
    for key, value in resources.get("unified", {}).items():
        steps.append(unified_write(key, value))
    return tuple(steps)


def unified_write(key: str, value: str) -> Write:
    """One `unified` entry ("memory.high": "1G") as a write, its controller from the prefix."""
    controller, dot, rest = key.partition(".")
    if "/" in key or not dot or not controller or not rest or key in _FORBIDDEN_UNIFIED:
        raise InvalidArgument(
            f"linux.resources.unified key {key!r} is not a cgroup interface file; "
            "use a name such as 'memory.high'"
        )
    return Write(controller, key, value)


def _memory(memory: Memory, swap_accounting: bool) -> list[Step]:
    steps: list[Step] = []
    limit = check_int(memory.get("limit", 0), "memory.limit")
    swap = check_int(memory.get("swap", 0), "memory.swap")
    swap_v2 = swap_to_v2(swap, limit)
    if swap_accounting and (swap_v2 != 0 or swap > 0):
        # swap == limit converts to 0, which means "no swap", not "unset" (runc).
        steps.append(Write("memory", "memory.swap.max", limit_str(swap_v2)))
    if limit:
        steps.append(Write("memory", "memory.max", limit_str(limit)))
    reservation = check_int(memory.get("reservation", 0), "memory.reservation")
    if reservation:
        steps.append(Write("memory", "memory.low", limit_str(reservation)))
    return steps


def _io(block_io: BlockIO) -> list[Step]:
    steps: list[Step] = []
    weight = check_int(block_io.get("weight", 0), "blockIO.weight")
    if weight:
        steps.append(Write("io", "io.weight", str(blkio_to_io_weight(weight))))
    for dev in block_io.get("weightDevice", []):
        if dev.get("weight"):
            converted = blkio_to_io_weight(check_int(dev["weight"], "blockIO.weightDevice"))
            node = f"{dev['major']}:{dev['minor']}"
            steps.append(Write("io", "io.weight", f"{node} {converted}"))
    for kind, devices in throttle_lists(block_io):
        for throttle in devices:
            rate = check_int(throttle["rate"], f"blockIO throttle {kind} rate")
            line = f"{throttle['major']}:{throttle['minor']} {_IO_MAX_KEYS[kind]}={rate}"
            steps.append(Write("io", "io.max", line))
    return steps


def _cpu(cpu: CPU) -> list[Step]:
    steps: list[Step] = []
    if cpu.get("realtimePeriod") or cpu.get("realtimeRuntime"):
        raise Unavailable(
            "realtime CPU limits (cpu.realtimePeriod/realtimeRuntime) need cgroup v1; "
            "remove them from linux.resources.cpu"
        )
    if "idle" in cpu:
        steps.append(Write("cpu", "cpu.idle", str(check_int(cpu["idle"], "cpu.idle"))))
    shares = check_int(cpu.get("shares", 0), "cpu.shares")
    if shares:
        steps.append(Write("cpu", "cpu.weight", str(shares_to_weight(shares))))
    quota = check_int(cpu.get("quota", 0), "cpu.quota")
    period = check_int(cpu.get("period", 0), "cpu.period")
    if quota or period:
        value = str(quota) if quota > 0 else "max"
        if period:
            value += f" {period}"
        steps.append(Write("cpu", "cpu.max", value))
    if "burst" in cpu:
        steps.append(Write("cpu", "cpu.max.burst", str(check_int(cpu["burst"], "cpu.burst"))))
    return steps
