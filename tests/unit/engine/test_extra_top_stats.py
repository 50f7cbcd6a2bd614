"""`top` and `stats`: /proc and cgroup text → Docker's columns (pure, no root)."""

from __future__ import annotations

import time

import pytest

from dockyard.engine.container_stats import Sample, binary_size, blkio_bytes, decimal_size, line
from dockyard.engine.container_top import (
    ProcInfo,
    cpu_time,
    parse_proc,
    ps_fields,
    render,
    start_time,
    tty_name,
)
from dockyard.engine.store import ContainerRow
from dockyard.errors import InvalidArgument

STAT = (
    "4695 (sleep (x)) S 4686 4695 4695 34816 4695 4194560 120 0 0 0 250 130 0 0 20 0 1 0 "
    "5000 1343488 25 18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0"
)


def test_parse_proc_reads_stat_status_and_cmdline() -> None:
    info = parse_proc(4695, STAT, "Name:\tsleep\nUid:\t0\t1000\t1000\t1000\n", b"sleep\x001000\x00")
    assert info == ProcInfo(
        pid=4695,
        ppid=4686,
        uid=1000,
        comm="sleep (x)",
        argv=("sleep", "1000"),
        tty_nr=34816,
        cpu_ticks=380,
        start_ticks=5000,
    )


def test_tty_and_time_columns() -> None:
    assert tty_name(0) == "?"
    assert tty_name(34816) == "pts/0"
    assert tty_name((136 << 8) | 5) == "pts/5"
    assert tty_name((4 << 8) | 1) == "tty1"
    assert cpu_time(3) == "00:00:03"
    assert cpu_time(3 * 86400 + 3661) == "3-01:01:01"


def test_start_time_today_this_year_and_older() -> None:
    now = time.mktime((2026, 11, 28, 12, 0, 0, 0, 0, -1))
    assert start_time(now - 60, now) == "11:59"
    assert start_time(now - 3 * 86400, now) == "Nov25"
    assert start_time(now - 400 * 86400, now) == "2025"


def test_ps_fields() -> None:
    default = ["uid", "pid", "ppid", "c", "stime", "tty", "time", "cmd"]
    assert ps_fields([]) == default
    assert ps_fields(["-ef"]) == default
    assert ps_fields(["-o", "pid,comm"]) == ["pid", "comm"]
    assert ps_fields(["-opid,args"]) == ["pid", "args"]
    with pytest.raises(InvalidArgument, match="not supported"):
        ps_fields(["--forest"])
    with pytest.raises(InvalidArgument, match="unknown ps field 'rss'"):
        ps_fields(["-o", "rss"])


def test_render_sorts_by_pid_and_names_kernel_threads() -> None:
    a = ProcInfo(20, 10, 0, "sh", ("sh", "-c", "x"), 0, 100, 0)
    b = ProcInfo(10, 1, 0, "kworker", (), 0, 0, 0)
    headers, rows = render([a, b], ["pid", "cmd", "c", "time"], now=100.0, boot=0.0, hz=100)
    assert headers == ["PID", "CMD", "C", "TIME"]
    assert rows == [["10", "[kworker]", "0", "00:00:00"], ["20", "sh -c x", "1", "00:00:01"]]


def test_sizes() -> None:
    assert binary_size(0) == "0B"
    assert binary_size(1536 * 1024) == "1.5MiB"
    assert binary_size(2087161856) == "1.944GiB"
    assert decimal_size(0) == "0B"
    assert decimal_size(1_234_567) == "1.23MB"


def test_blkio_bytes_v1_and_v2() -> None:
    v1 = "8:0 Read 4096\n8:0 Write 8192\n8:0 Sync 0\n8:16 Read 4\nTotal 12292\n"
    assert blkio_bytes(v1) == (4100, 8192)
    v2 = "8:0 rbytes=100 wbytes=200 rios=1 wios=2\n8:16 rbytes=1 wbytes=2\n"
    assert blkio_bytes(v2) == (101, 202)


def _row(status: str = "running") -> ContainerRow:
    return ContainerRow(
        id="a" * 64,
        name="web",
        image="busybox",
        image_id="sha256:x",
        config={},
        created=0.0,
        status=status,
        pid=1,
        exit_code=0,
        oom_killed=False,
        started_at=0.0,
        finished_at=0.0,
        restart_count=0,
        manually_stopped=False,
        health=None,
        error="",
    )


def test_stats_line_from_two_samples() -> None:
    before = Sample(10.0, 1_000_000_000, 0, None, 0, 0, 1)
    after = Sample(10.5, 1_250_000_000, 10 * 1024 * 1024, 100 * 1024 * 1024, 2000, 0, 3)
    got = line(_row(), before, after, host_mem=1 << 34)
    assert (got.ID, got.Name, got.CPUPerc, got.MemPerc, got.PIDs) == (
        "a" * 12,
        "web",
        "50.00%",
        "10.00%",
        "3",
    )
    assert got.MemUsage == "10MiB / 100MiB"
    assert got.BlockIO == "2kB / 0B" and got.NetIO == "0B / 0B"
    # no limit: the host's memory is the limit
    unlimited = Sample(10.5, 1_250_000_000, 10 * 1024 * 1024, None, 0, 0, 3)
    assert line(_row(), before, unlimited, host_mem=1 << 30).MemUsage == "10MiB / 1GiB"


def test_stats_line_of_a_stopped_container_is_zeros() -> None:
    got = line(_row("exited"), None, None, host_mem=1 << 30)
    assert (got.CPUPerc, got.MemUsage, got.PIDs) == ("0.00%", "0B / 0B", "0")
