"""Session-wide fixtures: a private scratch root, the busybox root file system, a leak guard.

Everything the tests create lives under one session directory (`DOCKYARD_TEST_BASE`) and under
cgroups named `dockyard-test-<pid>`; the guard fails the run if any of it survives the session.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from dockyard.testing.rootfs import make_busybox_rootfs

CGROUP_FS = Path("/sys/fs/cgroup")

# CI runs are repeatable: the same examples every time (developers' runs still explore).
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Privileged tests fail loudly when not root instead of silently skipping (STYLE.md, 9).
    if os.geteuid() == 0:
        return
    for item in items:
        if item.get_closest_marker("root"):
            item.add_marker(pytest.mark.xfail(reason="needs root", strict=True, run=False))


@pytest.fixture(scope="session")
def test_base() -> Iterator[Path]:
    """A scratch directory for the whole session; everything the tests make goes under it."""
    base = Path(tempfile.mkdtemp(prefix="dockyard-test-", dir="/tmp"))
    os.chmod(base, 0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="session")
def cgroup_prefix() -> str:
    """The cgroup path prefix under which this session's tests create their cgroups."""
    return f"/dockyard-test-{os.getpid()}"


@pytest.fixture(scope="session")
def busybox_template(test_base: Path) -> Path:
    """A busybox root file system built once per session from the host's busybox-static."""
    return make_busybox_rootfs(test_base / "busybox-template")


@pytest.fixture
def scratch(test_base: Path, request: pytest.FixtureRequest) -> Iterator[Path]:
    """A per-test directory under the session base."""
    safe = re.sub(r"[^\w.-]", "-", request.node.name)[:40]
    path = Path(tempfile.mkdtemp(prefix=safe + "-", dir=test_base))
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def busybox_rootfs(busybox_template: Path, scratch: Path) -> Path:
    """A private copy of the busybox root file system for one test."""
    dest = scratch / "rootfs"
    subprocess.run(["cp", "-a", str(busybox_template), str(dest)], check=True)
    return dest


def _mounts_under(base: str) -> list[str]:
    with open("/proc/self/mountinfo") as f:
        return [line.split()[4] for line in f if line.split()[4].startswith(base)]


def _cgroups_left(prefix: str) -> list[str]:
    """Cgroups under the session's prefix; the empty prefix itself is removed (runc leaves it)."""
    name = prefix.strip("/")
    found: list[str] = []
    if not CGROUP_FS.is_dir():
        return found
    hierarchies = [CGROUP_FS, *(h for h in CGROUP_FS.iterdir() if h.is_dir())]
    for hierarchy in hierarchies:
        top = hierarchy / name
        if not top.is_dir():
            continue
        found.extend(str(d) for d in top.iterdir() if d.is_dir())
        try:
            top.rmdir()
        except OSError:
            found.append(str(top))
    return found


def _processes_rooted_under(base: str) -> list[int]:
    pids: list[int] = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            root = os.readlink(f"/proc/{entry}/root")
            cwd = os.readlink(f"/proc/{entry}/cwd")
        except OSError:
            continue
        if root.startswith(base) or cwd.startswith(base):
            pids.append(int(entry))
    return pids


def _network_objects() -> set[str]:
    """dockyard's links (bridges, veths) and nftables tables on the host right now."""
    found: set[str] = set()
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True, check=False)
    for line in links.stdout.splitlines():
        name = line.split(":")[1].strip().split("@")[0]
        if name.startswith(("dockyard", "dy-", "dy0-", "veth")):
            found.add(f"link {name}")
    tables = subprocess.run(["nft", "list", "tables"], capture_output=True, text=True, check=False)
    for line in tables.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2].startswith("dockyard"):
            found.add(f"nft table {parts[1]} {parts[2]}")
    return found


@pytest.fixture(scope="session", autouse=True)
def leak_guard(test_base: Path, cgroup_prefix: str) -> Iterator[None]:
    """Fail the session if mounts, cgroups, processes, links or nft tables the tests made stay."""
    before = _network_objects() if os.geteuid() == 0 else set()
    yield
    base = str(test_base)
    leaks = {
        "mounts": _mounts_under(base),
        "cgroups": _cgroups_left(cgroup_prefix),
        "processes": _processes_rooted_under(base),
        "network": sorted(_network_objects() - before) if os.geteuid() == 0 else [],
    }
    leftover = {kind: items for kind, items in leaks.items() if items}
    if leftover:
        for path in reversed(leftover.get("mounts", [])):
            subprocess.run(["umount", "-l", path], check=False)
        pytest.fail(f"tests left resources behind: {leftover}", pytrace=False)
