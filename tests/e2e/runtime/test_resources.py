"""cgroup limits seen from the container: OOM kills, the pids limit, cpu and memory settings."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dockyard.runtime.cgroups import CgroupManager, detect_layout

from .conftest import Bundle, Runtime

pytestmark = pytest.mark.root


def wait_stopped(runtime: Runtime, cid: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while runtime.state(cid)["status"] != "stopped":
        assert time.monotonic() < deadline, f"{cid} did not stop"
        time.sleep(0.05)


def test_memory_hog_is_oom_killed_with_137(
    runtime: Runtime, make_bundle: Callable[..., Bundle]
) -> None:
    bundle = make_bundle("dd", "if=/dev/zero", "of=/dev/null", "bs=64M", "count=1")
    bundle.config["linux"]["resources"]["memory"] = {
        "limit": 16 * 1024 * 1024,
        "swap": 16 * 1024 * 1024,
    }
    bundle.write()
    assert runtime("run", "--bundle", str(bundle.path), "oom").returncode == 137

    runtime("run", "-d", "--bundle", str(bundle.path), "oom2", check=True)
    wait_stopped(runtime, "oom2")
    manager = CgroupManager(detect_layout(), bundle.config["linux"]["cgroupsPath"])
    assert manager.oom_kill_count() >= 1
    runtime("delete", "oom2", check=True)


def test_fork_bomb_stops_at_the_pids_limit(
    runtime: Runtime, make_bundle: Callable[..., Bundle]
) -> None:
    # busybox sh gives up at the first failed fork, so the bomb runs in a subshell and PID 1
    # replaces itself with sleep (needing no fork) to keep the container alive.
    bundle = make_bundle(
        "sh", "-c", "(for i in $(seq 1 40); do sleep 30 & done) 2>/dev/null; exec sleep 30"
    )
    bundle.config["linux"]["resources"]["pids"] = {"limit": 10}
    bundle.write()
    runtime("run", "-d", "--bundle", str(bundle.path), "bomb", check=True)
    layout = detect_layout()
    path = bundle.config["linux"]["cgroupsPath"].lstrip("/")
    base = Path(layout.v2 or "") if layout.kind == "v2" else Path(layout.v1["pids"])
    events = base / path / "pids.events"
    deadline = time.monotonic() + 10
    while "max 0" in events.read_text():
        assert time.monotonic() < deadline, "the pids limit was never hit"
        time.sleep(0.05)
    manager = CgroupManager(layout, bundle.config["linux"]["cgroupsPath"])
    assert 1 < len(manager.pids()) <= 10
    assert runtime.state("bomb")["status"] == "running"
    runtime("delete", "--force", "bomb", check=True)


def test_cpu_and_memory_settings_reach_the_cgroup(
    runtime: Runtime, make_bundle: Callable[..., Bundle]
) -> None:
    bundle = make_bundle("sleep", "30")
    bundle.config["linux"]["resources"].update(
        {
            "memory": {"limit": 64 * 1024 * 1024, "reservation": 32 * 1024 * 1024},
            "cpu": {"shares": 512, "quota": 50000, "period": 100000, "cpus": "0"},
        }
    )
    bundle.write()
    runtime("run", "-d", "--bundle", str(bundle.path), "lim", check=True)
    layout = detect_layout()
    path = bundle.config["linux"]["cgroupsPath"].lstrip("/")
    if layout.kind == "v2":
        base = Path(layout.v2 or "/sys/fs/cgroup") / path
        assert (base / "memory.max").read_text().strip() == str(64 * 1024 * 1024)
        assert (base / "cpu.max").read_text().split() == ["50000", "100000"]
    else:
        mounts = layout.v1
        assert (Path(mounts["memory"]) / path / "memory.limit_in_bytes").read_text().strip() == str(
            64 * 1024 * 1024
        )
        assert (Path(mounts["cpu"]) / path / "cpu.shares").read_text().strip() == "512"
        assert (Path(mounts["cpu"]) / path / "cpu.cfs_quota_us").read_text().strip() == "50000"
        assert (Path(mounts["cpuset"]) / path / "cpuset.cpus").read_text().strip() == "0"
    runtime("delete", "--force", "lim", check=True)
