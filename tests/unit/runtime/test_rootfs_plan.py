"""The exact kernel calls of the rootfs steps, recorded by `RecordingSyscall` (no root).

The steps stat real paths (bind sources, mask targets), so those live in a temp dir.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from dockyard.kernel import constants as k
from dockyard.runtime import rootfs
from dockyard.runtime.devices import plan_devices
from dockyard.runtime.mounts import MountOp, plan_mounts
from dockyard.testing.syscall import Call, RecordingSyscall

BIND_RO = k.MS_BIND | k.MS_REMOUNT


@pytest.fixture
def root(tmp_path: Path) -> Path:
    r = tmp_path / "rootfs"
    r.mkdir()
    return r


@pytest.fixture
def sys() -> RecordingSyscall:
    return RecordingSyscall()


def test_prepare_root_default_propagation(sys: RecordingSyscall) -> None:
    rootfs.prepare_root(sys, "/r", None)
    assert sys.calls == [
        Call("mount", (None, "/", None, k.MS_SLAVE | k.MS_REC, None)),
        Call("mount", ("/r", "/r", "bind", k.MS_BIND | k.MS_REC, None)),
        Call("mount", (None, "/r", None, k.MS_PRIVATE, None)),
    ]


@pytest.mark.parametrize(
    ("name", "flags"),
    [("rprivate", k.MS_PRIVATE | k.MS_REC), ("shared", k.MS_SHARED), ("slave", k.MS_SLAVE)],
)
def test_prepare_root_with_rootfs_propagation(sys: RecordingSyscall, name: str, flags: int) -> None:
    rootfs.prepare_root(sys, "/r", name)
    assert sys.calls[0] == Call("mount", (None, "/", None, flags, None))


def test_bind_of_a_directory_then_remount_with_ro_then_propagation(
    sys: RecordingSyscall, root: Path, tmp_path: Path
) -> None:
    src = tmp_path / "data"
    src.mkdir()
    [op] = plan_mounts(
        [
            {
                "destination": "/mnt/data",
                "source": str(src),
                "options": ["rbind", "ro", "nosuid", "rprivate", "slave"],
            }
        ],
        "/bundle",
    )
    rootfs.mount_one(sys, str(root), op)
    dest = f"{root}/mnt/data"
    assert sys.calls == [
        Call("mount", (str(src), dest, "bind", k.MS_BIND | k.MS_REC, None)),
        Call("mount", (None, dest, None, BIND_RO | k.MS_RDONLY | k.MS_NOSUID, None)),
        Call("mount", (None, dest, None, k.MS_PRIVATE | k.MS_REC, None)),
        Call("mount", (None, dest, None, k.MS_SLAVE, None)),
    ]
    assert os.path.isdir(dest)


def test_bind_of_a_file_creates_a_file_and_needs_no_remount(
    sys: RecordingSyscall, root: Path, tmp_path: Path
) -> None:
    src = tmp_path / "resolv.conf"
    src.write_text("nameserver 127.0.0.1\n")
    op = MountOp("/etc/resolv.conf", str(src), "bind", k.MS_BIND, "", ())
    rootfs.mount_one(sys, str(root), op)
    dest = f"{root}/etc/resolv.conf"
    assert sys.calls == [Call("mount", (str(src), dest, "bind", k.MS_BIND, None))]
    assert os.path.isfile(dest)


def test_bind_destination_symlink_stays_inside_the_root(
    sys: RecordingSyscall, root: Path, tmp_path: Path
) -> None:
    os.symlink("/etc", root / "data")  # CVE-2015-3627 class: must not bind over the host's /etc
    src = tmp_path / "src"
    src.mkdir()
    rootfs.mount_one(sys, str(root), MountOp("/data", str(src), "bind", k.MS_BIND, "", ()))
    assert sys.calls == [Call("mount", (str(src), f"{root}/etc", "bind", k.MS_BIND, None))]


def test_missing_bind_source_names_it(sys: RecordingSyscall, root: Path, tmp_path: Path) -> None:
    op = MountOp("/x", str(tmp_path / "gone"), "bind", k.MS_BIND, "", ())
    with pytest.raises(FileNotFoundError, match=r"bind mount source .*gone does not exist"):
        rootfs.mount_one(sys, str(root), op)
    assert sys.calls == []


def test_filesystem_mount_passes_flags_and_data(sys: RecordingSyscall, root: Path) -> None:
    [op] = plan_mounts(
        [
            {
                "destination": "/dev",
                "type": "tmpfs",
                "source": "tmpfs",
                "options": ["nosuid", "strictatime", "mode=755", "size=65536k", "rshared"],
            }
        ],
        "/bundle",
    )
    rootfs.mount_one(sys, str(root), op)
    dest = f"{root}/dev"
    assert sys.calls == [
        Call(
            "mount",
            ("tmpfs", dest, "tmpfs", k.MS_NOSUID | k.MS_STRICTATIME, "mode=755,size=65536k"),
        ),
        Call("mount", (None, dest, None, k.MS_SHARED | k.MS_REC, None)),
    ]
    assert os.path.isdir(dest)


def test_empty_data_is_passed_as_none(sys: RecordingSyscall, root: Path) -> None:
    rootfs.mount_one(sys, str(root), MountOp("/proc", "proc", "proc", 0, "", ()))
    assert sys.calls == [Call("mount", ("proc", f"{root}/proc", "proc", 0, None))]


def test_sysfs_refused_in_a_user_namespace_falls_back_to_binding_the_hosts(
    sys: RecordingSyscall, root: Path
) -> None:
    sys.fail_on("mount", errno.EPERM, ("sysfs",))
    flags = k.MS_NOSUID | k.MS_NODEV | k.MS_NOEXEC | k.MS_RDONLY
    rootfs.mount_one(sys, str(root), MountOp("/sys", "sysfs", "sysfs", flags, "", ()))
    dest = f"{root}/sys"
    assert sys.calls == [
        Call("mount", ("sysfs", dest, "sysfs", flags, None)),
        Call("mount", ("/sys", dest, "bind", k.MS_BIND | k.MS_REC, None)),
        Call("mount", (None, dest, None, BIND_RO | flags, None)),
    ]


def test_other_refused_mounts_are_raised(sys: RecordingSyscall, root: Path) -> None:
    sys.fail_on("mount", errno.EPERM, ("proc",))
    with pytest.raises(PermissionError):
        rootfs.mount_one(sys, str(root), MountOp("/proc", "proc", "proc", 0, "", ()))
    assert sys.names() == ["mount"]


def test_locked_flags_are_kept_when_a_remount_is_refused(
    sys: RecordingSyscall, tmp_path: Path
) -> None:
    target = str(tmp_path)
    wanted = BIND_RO | k.MS_RDONLY | k.MS_NOSUID | k.MS_NODEV | k.MS_NOEXEC
    sys.fail_on("mount", errno.EPERM, (None, target, None, wanted))
    locked = 0
    f_flag = os.statvfs(target).f_flag
    for st_bit, ms_bit in (
        (os.ST_RDONLY, k.MS_RDONLY),
        (os.ST_NOATIME, k.MS_NOATIME),
        (os.ST_NODIRATIME, k.MS_NODIRATIME),
        (os.ST_RELATIME, k.MS_RELATIME),
    ):
        if f_flag & st_bit:
            locked |= ms_bit
    if not locked & ~wanted:
        pytest.skip(f"{target} has no atime flag to lock; the retry would repeat the call")
    rootfs.readonly_paths(sys, [target])
    assert sys.calls == [
        Call("mount", (target, target, "bind", k.MS_BIND | k.MS_REC, None)),
        Call("mount", (None, target, None, wanted, None)),
        Call("mount", (None, target, None, wanted | locked, None)),
    ]


def test_mount_all_keeps_the_plan_order(sys: RecordingSyscall, root: Path) -> None:
    plan = [MountOp(f"/m{i}", "tmpfs", "tmpfs", 0, "", ()) for i in range(3)]
    rootfs.mount_all(sys, str(root), plan)
    assert [c.args[1] for c in sys.calls] == [f"{root}/m0", f"{root}/m1", f"{root}/m2"]


def test_binds_dev() -> None:
    bind = MountOp("/dev/", "/dev", "bind", k.MS_BIND | k.MS_REC, "", ())
    tmpfs = MountOp("/dev", "tmpfs", "tmpfs", 0, "", ())
    sub = MountOp("/dev/shm", "/dev/shm", "bind", k.MS_BIND, "", ())
    assert rootfs.binds_dev([tmpfs, bind])
    assert not rootfs.binds_dev([tmpfs, sub])


def test_pivot_root_uses_dot_twice_then_detaches_the_old_root(
    sys: RecordingSyscall, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(root)  # pivot_root changes the cwd; the fixture restores it
    fds_before = set(os.listdir("/proc/self/fd"))
    rootfs.pivot_root(sys, str(root))
    assert sys.calls == [
        Call("pivot_root", (".", ".")),
        Call("mount", (None, ".", None, k.MS_SLAVE | k.MS_REC, None)),
        Call("umount2", (".", k.MNT_DETACH)),
    ]
    assert os.getcwd() == "/"
    assert set(os.listdir("/proc/self/fd")) == fds_before  # both directory fds closed


def test_pivot_root_failure_closes_fds(
    sys: RecordingSyscall, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(root)
    sys.fail_on("pivot_root", errno.EINVAL)
    fds_before = set(os.listdir("/proc/self/fd"))
    with pytest.raises(OSError) as info:
        rootfs.pivot_root(sys, str(root))
    assert info.value.errno == errno.EINVAL
    assert sys.names() == ["pivot_root"]
    assert set(os.listdir("/proc/self/fd")) == fds_before


def test_mask_paths(sys: RecordingSyscall, tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("secret")
    rootfs.mask_paths(sys, [f"{tmp_path}/dir", f"{tmp_path}/missing", f"{tmp_path}/file"])
    assert sys.calls == [
        Call("mount", ("tmpfs", f"{tmp_path}/dir", "tmpfs", k.MS_RDONLY, None)),
        Call("mount", ("/dev/null", f"{tmp_path}/file", "bind", k.MS_BIND, None)),
    ]


def test_readonly_paths_bind_then_remount(sys: RecordingSyscall) -> None:
    sys.fail_on("mount", errno.ENOENT, ("/proc/missing",))
    rootfs.readonly_paths(sys, ["/proc/sys", "/proc/missing", "/proc/bus"])
    ro = BIND_RO | k.MS_RDONLY | k.MS_NOSUID | k.MS_NODEV | k.MS_NOEXEC
    assert sys.calls == [
        Call("mount", ("/proc/sys", "/proc/sys", "bind", k.MS_BIND | k.MS_REC, None)),
        Call("mount", (None, "/proc/sys", None, ro, None)),
        Call("mount", ("/proc/missing", "/proc/missing", "bind", k.MS_BIND | k.MS_REC, None)),
        Call("mount", ("/proc/bus", "/proc/bus", "bind", k.MS_BIND | k.MS_REC, None)),
        Call("mount", (None, "/proc/bus", None, ro, None)),
    ]


def test_readonly_root(sys: RecordingSyscall) -> None:
    rootfs.readonly_root(sys)
    assert sys.calls == [Call("mount", (None, "/", None, BIND_RO | k.MS_RDONLY, None))]


def test_bind_console(sys: RecordingSyscall, root: Path) -> None:
    rootfs.bind_console(sys, str(root), "/dev/pts/3")
    assert sys.calls == [
        Call("mount", ("/dev/pts/3", f"{root}/dev/console", "bind", k.MS_BIND, None))
    ]
    assert (root / "dev" / "console").is_file()


def test_populate_dev_in_a_user_namespace_binds_nodes_and_makes_symlinks(
    sys: RecordingSyscall, root: Path
) -> None:
    nodes = plan_devices([])
    rootfs.populate_dev(sys, str(root), nodes, in_userns=True)
    assert sys.names() == ["mount"] * len(nodes)
    assert os.readlink(root / "dev" / "fd") == "/proc/self/fd"
    assert os.readlink(root / "dev" / "stdin") == "/proc/self/fd/0"
    assert os.readlink(root / "dev" / "stdout") == "/proc/self/fd/1"
    assert os.readlink(root / "dev" / "stderr") == "/proc/self/fd/2"
    assert os.readlink(root / "dev" / "ptmx") == "pts/ptmx"
    rootfs.populate_dev(sys, str(root), nodes, in_userns=True)  # again: symlinks kept
    assert os.readlink(root / "dev" / "ptmx") == "pts/ptmx"
