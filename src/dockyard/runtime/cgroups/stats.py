"""Resource usage of a cgroup, read from v1 or v2 interface files."""

from __future__ import annotations

import os
from dataclasses import dataclass

from dockyard.runtime.cgroups.fs import read_text

# v1 reports "no limit" as PAGE_COUNTER_MAX pages rounded to bytes, near 2**63.
_V1_UNLIMITED = 1 << 62


@dataclass(frozen=True)
class CgroupStats:
    """Usage counters; `memory_limit` is None when unlimited."""

    memory_usage: int
    memory_limit: int | None
    cpu_usage_ns: int
    pids_current: int


def flat_keyed(text: str) -> dict[str, int]:
    """Parse "key value" lines (memory.events, cpu.stat, memory.oom_control) into ints."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        key, _, value = line.partition(" ")
        try:
            out[key] = int(value)
        except ValueError:
            continue
    return out


def read_int(path: str | None) -> int | None:
    """The integer in a single-value file; None when absent or "max"."""
    if path is None:
        return None
    text = read_text(path)
    if text is None or text.strip() in ("", "max"):
        return None
    return int(text.split()[0])


def _join(directory: str | None, file: str) -> str | None:
    return None if directory is None else os.path.join(directory, file)


def stats_v1(memory: str | None, cpuacct: str | None, pids: str | None) -> CgroupStats:
    """Stats from the v1 memory, cpuacct and pids directories (None when not mounted)."""
    limit = read_int(_join(memory, "memory.limit_in_bytes"))
    return CgroupStats(
        memory_usage=read_int(_join(memory, "memory.usage_in_bytes")) or 0,
        memory_limit=None if limit is None or limit >= _V1_UNLIMITED else limit,
        cpu_usage_ns=read_int(_join(cpuacct, "cpuacct.usage")) or 0,
        pids_current=read_int(_join(pids, "pids.current")) or 0,
    )


def stats_v2(directory: str) -> CgroupStats:
    """Stats from one v2 cgroup directory."""
    cpu = flat_keyed(read_text(os.path.join(directory, "cpu.stat")) or "")
    return CgroupStats(
        memory_usage=read_int(os.path.join(directory, "memory.current")) or 0,
        memory_limit=read_int(os.path.join(directory, "memory.max")),
        cpu_usage_ns=cpu.get("usage_usec", 0) * 1000,
        pids_current=read_int(os.path.join(directory, "pids.current")) or 0,
    )
