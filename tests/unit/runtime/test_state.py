"""The container state directory and status derivation, with this test process as the pid."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from dockyard.runtime.errors import BadConfig, ContainerExists, ContainerNotFound
from dockyard.runtime.state import (
    OCI_VERSION,
    ContainerDir,
    ContainerRecord,
    list_containers,
    process_start_time,
)


def _record(container_id: str, pid: int, pid_start: int) -> ContainerRecord:
    return ContainerRecord(
        id=container_id,
        bundle="/bundle",
        pid=pid,
        pid_start=pid_start,
        created="2026-01-01T00:00:00Z",
        rootfs="/bundle/rootfs",
        cgroup_path="/dockyard/x",
        annotations={"org.example": "yes"},
    )


def _live(cdir: ContainerDir) -> ContainerRecord:
    start = process_start_time(os.getpid())
    assert start is not None
    return _record(cdir.id, os.getpid(), start)


def test_start_time_of_this_process_matches_proc() -> None:
    with open(f"/proc/{os.getpid()}/stat") as f:
        expected = int(f.read().rsplit(")", 1)[1].split()[19])
    assert process_start_time(os.getpid()) == expected


def test_start_time_of_a_missing_process_is_none() -> None:
    assert process_start_time(2**22 + 1) is None  # above pid_max's ceiling


def test_start_time_of_a_zombie_is_none() -> None:
    child = subprocess.Popen(["true"])
    try:
        # Wait for it to exit without reaping it: WNOWAIT leaves the zombie in place.
        os.waitid(os.P_PID, child.pid, os.WEXITED | os.WNOWAIT)
        assert process_start_time(child.pid) is None
    finally:
        child.wait()


def test_create_save_load(tmp_path: Path) -> None:
    cdir = ContainerDir(tmp_path / "state", "web-1")
    cdir.create()
    assert cdir.path == tmp_path / "state" / "web-1"
    assert not cdir.exists()
    record = _live(cdir)
    cdir.save(record)
    assert cdir.exists()
    assert cdir.load() == record
    assert not (cdir.path / "state.json.tmp").exists()


def test_create_twice_is_a_conflict(tmp_path: Path) -> None:
    ContainerDir(tmp_path, "c").create()
    with pytest.raises(ContainerExists, match="'c' already exists"):
        ContainerDir(tmp_path, "c").create()


def test_load_of_a_missing_container(tmp_path: Path) -> None:
    with pytest.raises(ContainerNotFound, match="container 'nope' does not exist"):
        ContainerDir(tmp_path, "nope").load()


@pytest.mark.parametrize("bad", ["../x", "..", "a/b", ""])
def test_bad_id_is_refused_before_touching_disk(tmp_path: Path, bad: str) -> None:
    with pytest.raises(BadConfig):
        ContainerDir(tmp_path, bad)


def test_live_process_without_fifo_is_running(tmp_path: Path) -> None:
    cdir = ContainerDir(tmp_path, "c")
    cdir.create()
    assert cdir.status(_live(cdir)) == "running"


def test_live_process_with_fifo_is_created(tmp_path: Path) -> None:
    cdir = ContainerDir(tmp_path, "c")
    cdir.create()
    os.mkfifo(cdir.fifo)
    assert cdir.status(_live(cdir)) == "created"


def test_live_pid_with_a_wrong_start_time_is_stopped(tmp_path: Path) -> None:
    # The pid was reused by another process: it is not our container any more.
    cdir = ContainerDir(tmp_path, "c")
    cdir.create()
    os.mkfifo(cdir.fifo)
    live = _live(cdir)
    record = _record("c", live.pid, live.pid_start + 1)
    assert cdir.status(record) == "stopped"


def test_dead_pid_is_stopped(tmp_path: Path) -> None:
    cdir = ContainerDir(tmp_path, "c")
    cdir.create()
    assert cdir.status(_record("c", 2**22 + 1, 1)) == "stopped"


def test_oci_state(tmp_path: Path) -> None:
    cdir = ContainerDir(tmp_path, "c")
    cdir.create()
    live = _live(cdir)
    assert cdir.oci_state(live) == {
        "ociVersion": OCI_VERSION,
        "id": "c",
        "status": "running",
        "pid": os.getpid(),
        "bundle": "/bundle",
        "annotations": {"org.example": "yes"},
    }
    stopped = _record("c", live.pid, live.pid_start + 1)
    stopped.annotations = {}
    assert cdir.oci_state(stopped) == {
        "ociVersion": OCI_VERSION,
        "id": "c",
        "status": "stopped",
        "pid": 0,
        "bundle": "/bundle",
    }


def test_remove(tmp_path: Path) -> None:
    cdir = ContainerDir(tmp_path, "c")
    cdir.create()
    cdir.save(_live(cdir))
    cdir.remove()
    assert not cdir.path.exists()
    cdir.remove()  # removing twice is fine


def test_list_containers(tmp_path: Path) -> None:
    assert list_containers(tmp_path / "missing") == []
    for name in ("b", "a", "c"):
        cdir = ContainerDir(tmp_path, name)
        cdir.create()
        if name != "c":  # a directory without state.json is not (yet) a container
            cdir.save(_live(cdir))
    (tmp_path / "stray-file").write_text("")
    assert list_containers(tmp_path) == ["a", "b"]
