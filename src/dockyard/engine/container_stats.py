"""`stats`: CPU, memory, block I/O and pids of containers, from two samples of their cgroups.

CPU % is Docker's: the container's CPU time over the interval divided by the interval (so one
busy core is 100 %). Memory usage leaves out the inactive page cache, as Docker does.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from dockyard.engine.service import Engine
from dockyard.engine.store import ContainerRow
from dockyard.errors import Conflict
from dockyard.runtime.cgroups.fs import read_text
from dockyard.runtime.cgroups.stats import flat_keyed


@dataclass(frozen=True)
class Sample:
    """Counters of one container's cgroup at one moment (`when` is monotonic seconds)."""

    when: float
    cpu_ns: int
    memory: int
    memory_limit: int | None
    block_read: int
    block_write: int
    pids: int


@dataclass(frozen=True)
class StatsLine:
    """One line of `stats`, with Docker's `--format` field names."""

    ID: str
    Name: str
    CPUPerc: str
    MemUsage: str
    MemPerc: str
    NetIO: str
    BlockIO: str
    PIDs: str

    @property
    def Container(self) -> str:  # noqa: N802 - Docker's template field name
        return self.ID


def binary_size(size: float) -> str:
    """Docker's memory sizes: binary units, two decimals (`1.5MiB`, `1.944GiB`)."""
    units = ["B", "KiB", "MiB", "GiB", "TiB"]
    i = 0
    while size >= 1024 and i < len(units) - 1:
        size /= 1024
        i += 1
    return f"{size:.4g}{units[i]}" if i else f"{int(size)}B"


def decimal_size(size: float) -> str:
    """Docker's I/O sizes: decimal units, three significant digits (`1.23MB`, `0B`)."""
    units = ["B", "kB", "MB", "GB", "TB"]
    i = 0
    while size >= 1000 and i < len(units) - 1:
        size /= 1000
        i += 1
    return f"{size:.3g}{units[i]}"


def blkio_bytes(text: str) -> tuple[int, int]:
    """Read and write bytes from v1 `blkio.throttle.io_service_bytes` or v2 `io.stat` text."""
    read = write = 0
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in ("Read", "Write") and parts[2].isdigit():
            if parts[1] == "Read":
                read += int(parts[2])
            else:
                write += int(parts[2])
        for part in parts[1:]:
            key, _, value = part.partition("=")
            if key == "rbytes" and value.isdigit():
                read += int(value)
            elif key == "wbytes" and value.isdigit():
                write += int(value)
    return read, write


def host_memory() -> int:
    """MemTotal of the host in bytes: the limit shown for an unlimited container."""
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024
    return 0


def line(
    row: ContainerRow, before: Sample | None, after: Sample | None, host_mem: int
) -> StatsLine:
    """The `stats` line for two samples (pure); a stopped container shows zeros."""
    name = row.name
    if before is None or after is None:
        return StatsLine(row.short_id, name, "0.00%", "0B / 0B", "0.00%", "0B / 0B", "0B / 0B", "0")
    wall_ns = max(after.when - before.when, 1e-9) * 1e9
    cpu = max(0, after.cpu_ns - before.cpu_ns) / wall_ns * 100
    limit = after.memory_limit if after.memory_limit is not None else host_mem
    limit = min(limit, host_mem) if host_mem else limit
    mem_perc = after.memory / limit * 100 if limit else 0.0
    return StatsLine(
        ID=row.short_id,
        Name=name,
        CPUPerc=f"{cpu:.2f}%",
        MemUsage=f"{binary_size(after.memory)} / {binary_size(limit)}",
        MemPerc=f"{mem_perc:.2f}%",
        NetIO="0B / 0B",  # no per-container counters until networking reports them
        BlockIO=f"{decimal_size(after.block_read)} / {decimal_size(after.block_write)}",
        PIDs=str(after.pids),
    )


def sample(engine: Engine, row: ContainerRow) -> Sample | None:
    """Read the container's counters now; None when it is not running."""
    from dockyard.engine.container_pause import cgroup_of

    if not row.running:
        return None
    try:
        manager = cgroup_of(engine, row).manager
    except Conflict:
        return None
    when = time.monotonic()
    try:
        base = manager.stats()
    except FileNotFoundError:
        return None
    layout = manager.layout
    inside = manager.path.lstrip("/")
    memory = base.memory_usage
    if layout.kind == "v2":
        directory = os.path.join(layout.v2 or "", inside)
        inactive = flat_keyed(read_text(os.path.join(directory, "memory.stat")) or "").get(
            "inactive_file", 0
        )
        io_text = read_text(os.path.join(directory, "io.stat")) or ""
    else:
        mem_dir = os.path.join(layout.v1.get("memory", "/nonexistent"), inside)
        inactive = flat_keyed(read_text(os.path.join(mem_dir, "memory.stat")) or "").get(
            "total_inactive_file", 0
        )
        blk_dir = os.path.join(layout.v1.get("blkio", "/nonexistent"), inside)
        io_text = read_text(os.path.join(blk_dir, "blkio.throttle.io_service_bytes")) or ""
    read, write = blkio_bytes(io_text)
    return Sample(
        when=when,
        cpu_ns=base.cpu_usage_ns,
        memory=memory - inactive if inactive < memory else memory,
        memory_limit=base.memory_limit,
        block_read=read,
        block_write=write,
        pids=base.pids_current,
    )


def collect(
    engine: Engine, rows: list[ContainerRow], interval: float, previous: dict[str, Sample] | None
) -> tuple[list[StatsLine], dict[str, Sample]]:
    """Lines for `rows`: against `previous` samples, else two samples `interval` apart."""
    if previous is None:
        previous = {r.id: s for r in rows if (s := sample(engine, r)) is not None}
        time.sleep(interval)
    current = {r.id: s for r in rows if (s := sample(engine, r)) is not None}
    host_mem = host_memory()
    lines = [line(r, previous.get(r.id), current.get(r.id), host_mem) for r in rows]
    return lines, current
